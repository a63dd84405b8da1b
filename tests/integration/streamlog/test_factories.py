"""Stream factories (streamlog.md §8) over HTTP: reducers with a partition per substream,
webhooks over every substream, ``?substreams=all`` pages and SSE, and resuming after a restart."""
import http.client
import json
import signal
import time
from urllib.parse import quote

from ..daemon import Daemon, free_port
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
        seen += [(e["substream"], e["data"]) for e in page]
        cursor = h["stream-next-cursor"]
    assert seen == sent             # every event once, in (timestamp, substream, index) order
    assert server.get(stream + "?substreams=all&cursor=!!")[0] == 400
    assert len(server.json(stream + "?substreams=all&from=2")) == 1     # index 2 of 'a' only


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


SERVER = ("pipy().listen({port}).demuxHTTP().to($=>$.serveStreamLog("
          "{{store: '{store}', webhookRetry: 0.05}}))")


def _req(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


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
