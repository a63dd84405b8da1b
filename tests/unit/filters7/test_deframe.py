"""deframe with a small binary protocol: [type:1][length:2, big-endian][payload:length]."""
import pytest

from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.js.values import JSArray, JSObject, JSThrow

from . import pipeline, show


def frame(t: int, payload: bytes) -> bytes:
    return bytes([t]) + len(payload).to_bytes(2, "big") + payload


def protocol():
    """States as a script would write them; ``st`` is per-stream state."""
    st = {}

    def typ(c):
        st["type"] = c
        return "len1"

    def len1(c):
        st["len"] = c << 8
        return "len2"

    def len2(c):
        n = st["len"] | c
        if n == 0:
            return JSArray([MessageStart(JSObject(type=st["type"])), MessageEnd(), "type"])
        return JSArray(["body", n, Data()])

    def body(d):
        return JSArray([MessageStart(JSObject(type=st["type"])), d, MessageEnd(), "type"])

    return JSObject(type=typ, len1=len1, len2=len2, body=body)


WIRE = frame(1, b"hello") + frame(2, b"") + frame(3, b"x" * 300)
EXPECTED = [("MS", {"type": 1}), ("D", b"hello"), ("ME", None),
            ("MS", {"type": 2}), ("ME", None),
            ("MS", {"type": 3}), ("D", b"x" * 300), ("ME", None)]


def feed(states, pieces):
    p, out = pipeline([("deframe", states)])
    for b in pieces:
        p.input(Data(b))
    return show(out.events)


def test_whole():
    assert feed(protocol(), [WIRE]) == EXPECTED


def test_byte_by_byte():
    assert feed(protocol(), [WIRE[i:i + 1] for i in range(len(WIRE))]) == EXPECTED


@pytest.mark.parametrize("cut", range(1, len(frame(1, b"hello")) + 4))
def test_split_at_every_position(cut):
    assert feed(protocol(), [WIRE[:cut], WIRE[cut:]]) == EXPECTED


def test_pass_through_and_array_buffer():
    got = []
    states = JSObject(
        start=lambda c: JSArray(["passed", c]),                 # pass c bytes through
        passed=lambda c: (got.append(c), JSArray(["arr", 2, JSArray()]))[1],
        arr=lambda a: (got.append(list(a)), "start")[1],
    )
    out = feed(states, [b"\x03abc", b"\x07\x08", b"\x01z"])
    assert [d for k, d in out if k == "D"] == [b"abc", b"z"]
    assert got == [-1, [7, 8], -1]


def test_constant_handlers_and_stream_end_restarts():
    seen = []
    states = JSObject(a=lambda c: (seen.append(("a", c)), "b")[1], b="a")
    p, out = pipeline([("deframe", states)])
    p.input(Data(b"\x01\x02\x03"))
    p.input(MessageStart({}))  # non-Data events are dropped
    p.input(StreamEnd())
    p.input(Data(b"\x09\x0a"))
    assert seen == [("a", 1), ("a", 3), ("a", 9)]
    assert show(out.events) == [("SE", "")]


@pytest.mark.parametrize("ret, error", [
    ("nowhere", "invalid state: nowhere"),
    (5, "invalid state returned"),
    (JSArray(["a", 0]), "invalid reading length"),
    (JSArray(["a", 2, "buf"]), "invalid read buffer"),
])
def test_bad_returns_stop_decoding_until_stream_end(ret, error, capture_log):
    calls = []
    states = JSObject(a=lambda c: (calls.append(c), ret)[1])
    p, out = pipeline([("deframe", states)])
    p.input(Data(b"\x01\x02"))
    assert calls == [1] and error in capture_log.getvalue()
    p.input(StreamEnd())
    p.input(Data(b"\x05"))
    assert calls == [1, 5]


def test_throwing_handler_stops_decoding(capture_log):
    def bad(c):
        raise ValueError("boom")

    assert feed(JSObject(a=bad), [b"\x01\x02"]) == []
    assert "boom" in capture_log.getvalue()


def test_events_in_state_arrays_may_be_messages():
    from pipyd.events import Message
    states = JSObject(a=lambda c: JSArray([Message(JSObject(c=c), "m"), "a"]))
    assert feed(states, [b"\x01"]) == [("MS", {"c": 1}), ("D", b"m"), ("ME", None)]


@pytest.mark.parametrize("arg", [None, "x", JSObject()])
def test_bad_argument(arg):
    from pipyd.registry import lookup
    with pytest.raises(JSThrow, match="TypeError: deframe"):
        lookup("deframe").configure(None, arg)


def test_from_a_script(tmp_path):
    from tests.unit.flow import Run, load
    src = """pipy({_t: 0, _n: 0}).pipeline('main').deframe({
      type: c => (_t = c, 'len1'),
      len1: c => (_n = c << 8, 'len2'),
      len2: c => (_n |= c, _n === 0 ? [new MessageStart({type: _t}), new MessageEnd, 'type']
                                     : ['body', _n, new Data]),
      body: d => [new MessageStart({type: _t}), d, new MessageEnd, 'type'],
    })"""
    r = Run(load(tmp_path, src))
    assert r.feed(*[Data(WIRE[i:i + 3]) for i in range(0, len(WIRE), 3)]) == EXPECTED


from tests.unit.core import capture_log  # noqa: E402,F401 (fixture)
