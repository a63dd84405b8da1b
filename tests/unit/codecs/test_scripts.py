"""The codecs as scripts use them: options given as JS objects and functions, heads read and
changed by callbacks, Dubbo bodies read with the Hessian builtin."""
from pathlib import Path

from pipyd.events import Data
from pipyd.worker import Worker

from . import Collect, show
from .test_dubbo import REQUEST, REQUEST_BODY
from .test_mqtt import V5
from .test_thrift import CALC, CALC_STRUCT

MAIN = """
pipy({ _seen: [], _payload: null })

.pipeline('mqtt')
  .decodeMQTT({ protocolLevel: () => 5 })
  .handleMessageStart(msg => (_seen.push(msg.head.topicName), msg.head.topicName = 'u'))
  .encodeMQTT({ protocolLevel: 5 })

.pipeline('thrift')
  .decodeThrift({ payload: true })
  .handleMessageEnd(evt => _payload = evt.payload)
  .handleMessageStart(msg => msg.head.seqID = 42)
  .encodeThrift()

.pipeline('dubbo')
  .decodeDubbo()
  .replaceMessageBody(data => Hessian.encode(Hessian.decode(data)[3]))
  .encodeDubbo({ isRequest: false, status: 20, id: '7' })
"""


def run(tmp_path: Path, name: str, wire: bytes):
    (tmp_path / "main.js").write_text(MAIN)
    w = Worker(str(tmp_path / "main.js"))
    w.load()
    ctx = w.new_context()
    out = Collect()
    p = w.by_path["/main.js"].named[name].instantiate(ctx, out)
    p.input(Data(wire))
    return show(out.events), ctx.data[w.by_path["/main.js"].index]


def test_mqtt_head_rewritten_by_a_script(tmp_path):
    events, vars_ = run(tmp_path, "mqtt", V5[0][1])
    assert list(vars_["_seen"]) == ["t"]
    wire = V5[0][1]
    # topic "t" became "u": same length, so only that byte changes
    assert events[1] == ("D", wire.replace(b"\x00\x01t", b"\x00\x01u", 1))


def test_thrift_payload_and_seq_id(tmp_path):
    events, vars_ = run(tmp_path, "thrift", CALC)
    assert vars_["_payload"]["1"] == "hi" and vars_["_payload"]["3"] == 2**40
    assert events[1] == ("D", bytes([0x80, 1, 0, 1, 0, 0, 0, 4, *b"calc", 0, 0, 0, 42])
                         + CALC_STRUCT)


def test_dubbo_response_from_hessian(tmp_path):
    events, _ = run(tmp_path, "dubbo", REQUEST)
    body = bytes([0x05, *b"hello"])  # the method name, Hessian-encoded again
    assert REQUEST_BODY.find(body) > 0
    assert events[1] == ("D", bytes([0xDA, 0xBB, 0x42, 20, 0, 0, 0, 0, 0, 0, 0, 7,
                                     0, 0, 0, len(body)]) + body)
