"""Stream factories (streamlog.md §8) over HTTP: reducers with a partition per substream,
webhooks over every substream, ``?substreams=all`` pages and SSE, and resuming after a restart."""
import json
import signal
import threading
import time
from urllib.parse import quote

import pytest

from ..daemon import Daemon, free_port
from .conftest import SINGLE_SERVER, request
from .test_cors_webhooks import Receiver, receiver  # noqa: F401  (fixture)

COUNT = "(state = 0, event) => state + 1"
JOIN = "(state = '', event) => state + event.data"


def put(server, path, body, ctype="application/json"):
    if not isinstance(body, str):
        body = json.dumps(body)
    return server.request("PUT", path, body, {"Content-Type": ctype})


def sub(stream, arg):
    return f"{stream}({quote(repr(arg))})"


def factory(server, stream):
    assert put(server, stream, {"factory": True})[0] in (200, 201)


def test_factory_reducer_partitions(server, stream):
    factory(server, stream)
    for d in "xy":
        assert server.post(sub(stream, "a"), d)[0] == 201
    assert put(server, stream + ".joined", JOIN, "application/javascript")[0] == 201
    assert put(server, stream + ".n", "(s = 0, e, i, current) => current.#joined.length",
               "application/javascript")[0] == 201
    assert server.post(sub(stream, "b"), "z")[0] == 201      # created after the PUT
    assert server.json(sub(stream, "a") + ".joined") == "xy"
    assert server.json(sub(stream, "b") + ".joined") == "z"
    assert server.json(sub(stream, "b") + ".n") == 1            # current.# in its partition
    assert server.json(stream + ".joined") == {'"a"': "xy", '"b"': "z"}
    assert server.json(stream + ".joined.length") == {'"a"': 2, '"b"': 1}
    assert server.json(sub(stream, "none") + ".joined") is None  # no events: undefined
    st, _, body = put(server, sub(stream, "a") + ".joined", COUNT, "application/javascript")
    assert st == 409 and b"factory" in body
    # a replaced factory reducer starts over in every partition
    assert put(server, stream + ".joined", COUNT, "application/javascript")[0] == 200
    assert server.json(stream + ".joined") == {'"a"': 2, '"b"': 1}
    assert server.request("DELETE", stream + ".n")[0] == 204
    assert server.get(sub(stream, "a") + ".n")[0] == 404


def test_partition_errors_reach_logs(server, stream):
    factory(server, stream)
    assert put(server, stream + ".bad", "(s, e) => { if (e.data === 'boom') throw new "
               "Error('no'); return e.data }", "application/javascript")[0] == 201
    server.post(sub(stream, "ok"), "fine")
    server.post(sub(stream, "ko"), "boom")
    assert server.json(sub(stream, "ok") + ".bad") == "fine"
    st, h, _ = server.get(sub(stream, "ko") + ".bad")
    assert h["reducer-status"] == "stopped"
    logs = server.json(stream + "/logs?substreams=all")
    assert [(e["substream"], e["eventType"]) for e in logs] == [('"ko"', "reducer-error")]


def test_paging_with_cursor(server, stream):
    factory(server, stream)
    sent = []
    for i in range(7):
        arg = "abc"[i % 3]
        server.post(sub(stream, arg), str(i))
        sent.append(('"%s"' % arg, str(i)))
    seen, cursor = [], None
    for _ in range(10):
        q = "?substreams=all&limit=3" + (f"&cursor={cursor}" if cursor else "")
        st, h, body = server.get(stream + q)
        page = json.loads(body)
        assert st == 200 and len(page) <= 3
        if not page:
            break
        seen += page
        cursor = h["stream-next-cursor"]
    # every event once, in (timestamp, substream, index) order: two posts in one millisecond
    # come out by substream, so the expected order is taken from the stamps the server gave
    assert sorted((e["substream"], e["data"]) for e in seen) == sorted(sent)
    keys = [(e["timestamp"], e["substream"], e["index"]) for e in seen]
    assert keys == sorted(keys)
    assert server.get(stream + "?substreams=all&cursor=!!")[0] == 400
    assert len(server.json(stream + "?substreams=all&from=2")) == 1     # index 2 of 'a' only


def test_same_millisecond_orders_by_substream(server, stream):
    factory(server, stream)
    for arg, data in (("c", "0"), ("a", "1"), ("b", "2"), ("a", "3")):
        server.post(sub(stream, arg), data, Event_Timestamp="1700000000000")
    page = server.json(stream + "?substreams=all")
    assert [(e["substream"], e["data"]) for e in page] == \
        [('"a"', "1"), ('"a"', "3"), ('"b"', "2"), ('"c"', "0")]


def test_sse_across_substreams(server, stream):
    factory(server, stream)
    server.post(sub(stream, "old"), "0")
    c = server.sse(stream + "?substreams=all&include=data")
    try:
        assert c.status == 200
        server.post(sub(stream, "old"), "1")
        server.post(sub(stream, "new"), "2")        # a substream made after the subscription
        got = c.frames(2)
        assert [(json.loads(f["data"])["substream"], json.loads(f["data"])["data"])
                for f in got[:2]] == [('"old"', "1"), ('"new"', "2")]
        last = got[0]["id"]
    finally:
        c.close()
    c = server.sse(stream + "?substreams=all&include=data", {"Last-Event-ID": last})
    try:
        got = c.frames(1)
        assert [json.loads(f["data"])["data"] for f in got] == ["2"]
    finally:
        c.close()
    c = server.sse(stream + "?substreams=all")          # notifications name the substream
    try:
        server.post(sub(stream, "new"), "3")
        f = c.frames(1)[0]
        assert json.loads(f["data"]) == {"substream": '"new"', "index": 1,
                                         "eventType": "message"}
    finally:
        c.close()


def test_factory_webhook_every_substream(server, stream, receiver):
    r = receiver()
    factory(server, stream)
    server.post(sub(stream, "a"), "before")
    doc = {"url": r.url, "include": "data"}
    assert put(server, stream + "/webhooks/w", doc)[0] == 201
    server.post(sub(stream, "a"), "one")
    server.post(sub(stream, "b"), "two")
    got = r.wait(2)
    assert sorted((h["event-substream"], b) for h, b in got) == [('"a"', b"one"), ('"b"', b"two")]
    assert {h["event-index"] for h, _ in got if h["event-substream"] == '"a"'} == {"1"}


SERVER = SINGLE_SERVER
_req = request


def test_partitions_and_webhooks_resume_after_restart(tmp_path):
    port = free_port()
    (tmp_path / "main.js").write_text(SERVER.format(port=port, store=tmp_path / "store"))
    r = Receiver(fail_first=10**9)
    d = Daemon(tmp_path).start([port])
    js = {"Content-Type": "application/javascript"}
    try:
        assert _req(port, "PUT", "/t/f", b'{"factory": true}')[0] == 201
        assert _req(port, "PUT", "/t/f.joined", JOIN, js)[0] == 201
        assert _req(port, "PUT", "/t/f/webhooks/w", json.dumps({"url": r.url, "include": "data"}),
                    {"Content-Type": "application/json"})[0] == 201
        assert _req(port, "POST", "/t/f('a')", b"x")[0] == 201
        assert _req(port, "GET", "/t/f('a').joined")[1] == b'"x"'
        d.signal(signal.SIGTERM)
        d.wait()
        r.fail_left = 0
        d = Daemon(tmp_path).start([port])
        assert _req(port, "POST", "/t/f('a')", b"y")[0] == 201
        assert _req(port, "POST", "/t/f('b')", b"z")[0] == 201
        assert _req(port, "GET", "/t/f('a').joined")[1] == b'"xy"'
        assert json.loads(_req(port, "GET", "/t/f.joined")[1]) == {'"a"': "xy", '"b"': "z"}
        got = r.wait(3)
        assert sorted(b for _, b in got) == [b"x", b"y", b"z"]
        time.sleep(0.3)
        assert len(r.got) == 3      # acknowledged deliveries are not repeated
    finally:
        d.stop()
        r.close()


# ------------------------------------------------------------------ new substreams, every writer
# A substream made by streamlog.append, a pipe or a reducer's dispatch reaches what its factory
# defines at once: the factory reducer's partition runs (its dispatch shows it, with no GET to
# make the partition lazily), the webhook delivers, and a ?substreams=all SSE consumer hears it
# although its rescan (every heartbeat: 30 s here) is far off.

SCRIPTED = """
pipy({ _idx: undefined })
.listen(%(log)d).demuxHTTP().to($=>$.serveStreamLog({
  store: '%(store)s', heartbeat: 30, webhookRetry: 0.05 }))
.listen(%(js)d).demuxHTTP().to($=>$
  .handleMessage(msg => streamlog.append(msg.head.path.substring(1), msg.body.toString(),
                                         i => _idx = i))
  .wait(() => _idx !== undefined)
  .replaceMessage(() => new Message({ status: 201 }, String(_idx)))
)
"""


@pytest.fixture(scope="module")
def scripted(tmp_path_factory):
    from .conftest import Server
    base = tmp_path_factory.mktemp("factories")
    ports = {"main": free_port(), "js": free_port()}
    (base / "main.js").write_text(SCRIPTED % {"log": ports["main"], "js": ports["js"],
                                              "store": base / "store"})
    d = Daemon(base, "main.js").start(list(ports.values()))
    yield Server(d, ports)
    d.stop()


def _until(check, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not check() and time.monotonic() < deadline:
        time.sleep(0.05)
    return check()


def _watch_factory(s, base, receiver):
    """A factory with a dispatching reducer, a webhook and a substreams=all SSE consumer."""
    factory(s, base)
    src = f"(n = 0, e) => {{ dispatch('{base}out', {{n: n + 1}}); return n + 1 }}"
    assert put(s, base + ".count", src, "application/javascript")[0] == 201
    assert put(s, base + "/webhooks/w", {"url": receiver.url, "include": "data"})[0] == 201
    sse = s.sse(base + "?substreams=all")
    assert sse.status == 200
    time.sleep(0.2)         # the consumer has listed the (no) substreams
    return sse


def _sees(s, base, receiver, sse, arg):
    try:
        frames = sse.frames(1, timeout=5)
        assert [json.loads(f["data"])["substream"] for f in frames] == [arg]
    finally:
        sse.close()
    got = receiver.wait(1)
    assert [h["event-substream"] for h, _ in got] == [arg]
    assert _until(lambda: s.json(base + "out.length") == 1)    # the partition ran on its own
    assert s.json(base + ".count") == {arg: 1}


def test_script_append_reaches_factory(scripted, stream, receiver):
    r = receiver()
    sse = _watch_factory(scripted, stream, r)
    st, _, body = scripted.request("POST", stream + "('js')", b"hello", port="js")
    assert (st, body) == (201, b"0")
    _sees(scripted, stream, r, sse, '"js"')
    mutations = scripted.json("/pipet/events(t)[-5:]")
    assert {"stream": stream + '("js")'} in [e["data"] for e in mutations]   # §11 too


def test_pipe_into_substream_reaches_factory(scripted, stream, receiver):
    r = receiver()
    sse = _watch_factory(scripted, stream, r)
    origin = stream + "src"
    assert put(scripted, f"{origin}/pipe{stream}('p')", {})[0] == 201
    assert scripted.post(origin, "copied")[0] == 201
    _sees(scripted, stream, r, sse, '"p"')


def test_reducer_dispatch_reaches_factory(scripted, stream, receiver):
    r = receiver()
    sse = _watch_factory(scripted, stream, r)
    trigger = stream + "trig"
    src = f"(n = 0, e) => {{ dispatch(\"{stream}('d')\", {{v: e.data}}); return n + 1 }}"
    assert put(scripted, trigger + ".go", src, "application/javascript")[0] == 201
    assert scripted.post(trigger, "go")[0] == 201
    _sees(scripted, stream, r, sse, '"d"')


# --------------------------------------------------------- factory /logs, splice, long-poll

def test_partition_errors_reach_the_factory_logs(server, stream):
    factory(server, stream)
    src = "(s, e) => { if (e.data === 'boom') throw new Error('no'); return e.data }"
    assert put(server, stream + ".bad", src, "application/javascript")[0] == 201
    server.post(sub(stream, "ok"), "fine")
    server.post(sub(stream, "ko"), "boom")
    assert server.get(sub(stream, "ko") + ".bad")[1]["reducer-status"] == "stopped"
    logs = server.json(stream + "/logs")
    assert [(e["eventType"], e["data"]["substream"], e["data"]["reducer"], e["data"]["index"])
            for e in logs] == [("reducer-error", '"ko"', "bad", 0)]
    assert "no" in logs[0]["data"]["error"]


def test_splice_resyncs_substreams_all_consumers(server, stream):
    from pipyd.streamlog.sse import decode_cursor
    factory(server, stream)
    server.post(sub(stream, "a"), "x")
    server.post(sub(stream, "b"), "y")
    c = server.sse(stream + "?substreams=all&include=data&from=0")
    try:
        assert len(c.frames(2)) == 2
        st, _, body = server.post(sub(stream, "a") + "/splice",
                                  json.dumps({"events": [{"data": "n0"}, {"data": "n1"}]}),
                                  Content_Type="application/json")
        assert st == 202
        sid = json.loads(body)["id"]
        assert server.post(sub(stream, "a") + f"/splice/{sid}/approve")[0] == 200
        f = c.frames(3)[-1]
        assert f["event"] == "resync"
        assert json.loads(f["data"]) == {"reason": "splice", "length": 2, "substream": '"a"'}
        assert decode_cursor(f["id"]) == {'"a"': 2, '"b"': 1}
        assert _until(lambda: c.frames(3) and c.ended)
    finally:
        c.close()


def _get_async(server, path):
    out = {}

    def run():
        t0 = time.monotonic()
        out["resp"] = server.get(path)
        out["took"] = time.monotonic() - t0
    t = threading.Thread(target=run)
    t.start()
    return t, out


def test_long_poll_across_substreams(server, stream):
    factory(server, stream)
    server.post(sub(stream, "a"), "0")
    _, h, body = server.get(stream + "?substreams=all")
    cursor = h["stream-next-cursor"]
    assert len(json.loads(body)) == 1
    # a new substream answers a waiting request
    t, out = _get_async(server, f"{stream}?substreams=all&cursor={cursor}&wait=4")
    time.sleep(0.3)
    server.post(sub(stream, "b"), "1")
    t.join()
    st, h, body = out["resp"]
    assert st == 200 and out["took"] < 3
    assert [(e["substream"], e["data"]) for e in json.loads(body)] == [('"b"', "1")]
    cursor = h["stream-next-cursor"]
    # so does an event of an existing one; skipped types do not
    t, out = _get_async(server, f"{stream}?substreams=all&cursor={cursor}&wait=4&type=keep")
    time.sleep(0.2)
    server.post(sub(stream, "a"), "skipped")
    time.sleep(0.2)
    server.post(sub(stream, "a"), "kept", Event_Type="keep")
    t.join()
    st, h, body = out["resp"]
    assert [(e["substream"], e["data"]) for e in json.loads(body)] == [('"a"', "kept")]
    # nothing comes: an empty page after the wait, the cursor where it was
    cursor = h["stream-next-cursor"]
    t0 = time.monotonic()
    st, h, body = server.get(f"{stream}?substreams=all&cursor={cursor}&wait=0.3")
    assert (st, json.loads(body)) == (200, []) and time.monotonic() - t0 >= 0.3
    assert h["stream-next-cursor"] == cursor
    assert server.get(f"{stream}?substreams=all&wait=-1")[0] == 400
