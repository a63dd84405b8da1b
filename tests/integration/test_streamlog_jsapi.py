"""The ``streamlog`` script API (pipyd/streamlog/jsapi.py) in a real daemon: a proxy that logs
every request into a stream, append callbacks in their pipeline's context, synchronous reads,
and one shared store with the module's serveStreamLog."""
from __future__ import annotations

import http.client
import json
import time

import pytest

from .daemon import free_port

MODULE = """
pipy({ _idx: undefined, _err: undefined })

// the upstream: a pipyd site
.listen(%(up)d).serveHTTP(msg => new Message('up ' + msg.head.path))

// the stream-log API over the same store the script API uses
.listen(%(log)d).demuxHTTP().to($=>$.serveStreamLog({ store: '%(store)s' }))

// a proxy that appends one event per request
.listen(%(proxy)d).demuxHTTP().to($=>$
  .handleMessageStart(msg => streamlog.append('logs/requests', { path: msg.head.path }))
  .muxHTTP().to($=>$.connect('127.0.0.1:%(up)d'))
)

// appends with a callback: the answer waits for the acknowledged index
.listen(%(cb)d).demuxHTTP().to($=>$
  .handleMessage(msg => streamlog.append(
    msg.head.path.substring(1), msg.body,
    { type: msg.head.headers['event-type'], contentType: msg.head.headers['content-type'],
      timestamp: msg.head.headers['event-timestamp'] ? Number(msg.head.headers['event-timestamp']) : undefined },
    (index, error) => (_idx = index, _err = error)))
  .wait(() => _idx !== undefined || _err !== undefined)
  .replaceMessage(() => _err !== undefined
    ? new Message({ status: 409 }, _err)
    : new Message({ status: 201 }, String(_idx)))
)

// synchronous reads: the stream, from and limit arrive as headers
.listen(%(rd)d).serveHTTP(msg => (
  (h = msg.head.headers) => new Message(
    { headers: { 'content-type': 'application/json' } },
    JSON.stringify(msg.head.path === '/length'
      ? streamlog.length(h.s)
      : streamlog.read(h.s, h.from ? Number(h.from) : undefined,
                       h.limit ? Number(h.limit) : undefined)))
)())

// the callback's error object, answered as JSON with its status (or 201 and the index)
.listen(%(obj)d).demuxHTTP().to($=>$
  .handleMessage(msg => streamlog.append(
    msg.head.path.substring(1), JSON.parse(msg.body.toString()),
    { type: msg.head.headers['event-type'] },
    (index, message, error) => (_idx = index, _err = error ? [message, error] : undefined)))
  .wait(() => _idx !== undefined || _err !== undefined)
  .replaceMessage(() => _err !== undefined
    ? new Message({ status: _err[1].status, headers: { 'content-type': 'application/json' } },
                  JSON.stringify({ message: _err[0], ..._err[1] }))
    : new Message({ status: 201 }, String(_idx)))
)

// argument errors throw: the error is logged and the request gets a 500
.listen(%(bad)d).serveHTTP(() => (streamlog.append('bad name/x', 'x'), new Message('no')))
"""


def _req(port, method, path, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from .daemon import Daemon
    base = tmp_path_factory.mktemp("jsapi")
    ports = {k: free_port() for k in ("up", "log", "proxy", "cb", "rd", "bad", "obj")}
    (base / "main.js").write_text(MODULE % {**ports, "store": str(base / "store")})
    d = Daemon(base, "main.js").start(list(ports.values()))
    yield d, ports
    d.stop()


def _wait_length(port, path, n, timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        status, _, body = _req(port, "GET", path + ".length")
        if status == 200 and int(body) >= n or time.monotonic() > deadline:
            return int(body)
        time.sleep(0.02)


def test_proxy_appends_one_event_per_request_in_order(site):
    d, p = site
    paths = [f"/page/{i}?q={i}" for i in range(12)]
    for path in paths:
        status, _, body = _req(p["proxy"], "GET", path)
        assert status == 200 and body == f"up {path}".encode()
    assert _wait_length(p["log"], "/logs/requests", len(paths)) == len(paths)
    events = json.loads(_req(p["log"], "GET", "/logs/requests")[2])
    assert [e["data"] for e in events] == [{"path": x} for x in paths]
    assert [e["index"] for e in events] == list(range(len(paths)))
    assert {e["contentType"] for e in events} == {"application/json"}
    assert {e["eventType"] for e in events} == {"message"}


def test_callback_gets_the_index_in_its_pipeline_context(site):
    d, p = site
    for i in range(3):
        status, _, body = _req(p["cb"], "POST", "/cb/one", b"hello %d" % i)
        assert (status, body) == (201, str(i).encode())
    status, h, body = _req(p["log"], "GET", "/cb/one[1]")
    assert status == 200 and body == b"hello 1"
    # a Data body defaults to octet-stream; options set type and content type
    assert h["content-type"] == "application/octet-stream" and h["event-type"] == "message"
    status, _, body = _req(p["cb"], "POST", "/cb/typed", b'{"a": [1, 2.5]}',
                           {"Event-Type": "signup", "Content-Type": "application/json"})
    assert (status, body) == (201, b"0")
    ev = json.loads(_req(p["log"], "GET", "/cb/typed")[2])[0]
    assert ev["eventType"] == "signup" and ev["data"] == {"a": [1, 2.5]}


def test_callback_gets_store_errors(site):
    d, p = site
    assert _req(p["cb"], "POST", "/cb/ts", b"a", {"Event-Timestamp": "5000"})[:3:2] == (201, b"0")
    status, _, body = _req(p["cb"], "POST", "/cb/ts", b"b", {"Event-Timestamp": "4000"})
    assert status == 409 and b"lower than the stream's latest" in body
    status, _, body = _req(p["cb"], "POST", "/cb/json", b"{nope",
                           {"Content-Type": "application/json"})
    assert status == 409 and b"not valid JSON" in body
    status, _, body = _req(p["cb"], "POST", "/cb/big", b"x" * (100 * 1024 + 1))
    assert status == 409 and b"102400" in body
    assert _req(p["log"], "GET", "/cb/ts.length")[2] == b"1"
    assert _req(p["log"], "GET", "/cb/json.length")[2] == b"0"


def test_synchronous_reads_see_http_writes(site):
    d, p = site
    for i in range(5):
        assert _req(p["log"], "POST", "/rd/s", json.dumps({"n": i}),
                    {"Content-Type": "application/json", "Event-Type": "even" if i % 2 == 0 else "odd"})[0] == 201
    assert _req(p["log"], "POST", "/rd/s", b"\xff\xfe")[0] == 201
    assert _read(p, "/length", s="rd/s") == 6
    assert _read(p, "/length", s="rd/none") == 0
    events = _read(p, s="rd/s")
    assert [e["index"] for e in events] == list(range(6))
    assert events[0]["data"] == {"n": 0} and events[0]["eventType"] == "even"
    assert events[5]["encoding"] == "base64" and events[5]["data"] == "//4="
    assert [e["index"] for e in _read(p, s="rd/s", **{"from": "2", "limit": "2"})] == [2, 3]
    assert [e["index"] for e in _read(p, s="rd/s", **{"from": "-2"})] == [4, 5]
    assert [e["data"]["n"] for e in _read(p, s="rd/s:odd")] == [1, 3]
    assert [e["index"] for e in _read(p, s="rd/s[1:3]")] == [1, 2]
    assert _read(p, s="rd/none") == []


def _read(p, path="/read", **headers):
    status, _, body = _req(p["rd"], "GET", path, headers=headers)
    assert status == 200, body
    return json.loads(body)


def test_argument_errors_throw_and_are_logged(site):
    d, p = site
    status, _, _ = _req(p["bad"], "GET", "/")
    assert status == 500
    d.wait_log("streamlog.append(): invalid")


# ------------------------------------------------------------- the checks HTTP writes get (§8, §9)

ORDER = {"properties": {"id": {"type": "string"}, "total": {"type": "float64"}}}


def _append_js(p, path, value, etype=None):
    status, _, body = _req(p["obj"], "POST", path, json.dumps(value).encode(),
                           {"Event-Type": etype} if etype else {})
    return status, (json.loads(body) if status != 201 else int(body))


def test_typed_event_with_a_bad_shape_gets_the_http_422(site):
    d, p = site
    status, _, _ = _req(p["log"], "PUT", "/ty/orders:order", json.dumps(ORDER).encode(),
                        {"Content-Type": "application/json"})
    assert status in (200, 201)
    bad = {"id": 7, "total": 9.5}
    http_status, _, http_body = _req(p["log"], "POST", "/ty/orders:order", json.dumps(bad).encode(),
                                     {"Content-Type": "application/json"})
    status, err = _append_js(p, "/ty/orders", bad, "order")
    assert status == http_status == 422
    http_err = json.loads(http_body)
    assert err["message"] == err["error"] == http_err["error"] == "event does not match type 'order'"
    assert err["detail"] == http_err["detail"] == {
        "part": 0, "eventType": "order",
        "errors": [{"instancePath": "/id", "schemaPath": "/properties/id/type"}]}
    assert _req(p["log"], "GET", "/ty/orders.length")[2] == b"0"


def test_typed_event_with_a_good_shape_is_stored(site):
    d, p = site
    _req(p["log"], "PUT", "/ty/good:order", json.dumps(ORDER).encode(),
         {"Content-Type": "application/json"})
    assert _append_js(p, "/ty/good", {"id": "a1", "total": 3.25}, "order") == (201, 0)
    assert _append_js(p, "/ty/good", {"free": "form"}) == (201, 1)     # an untyped event type
    events = json.loads(_req(p["log"], "GET", "/ty/good")[2])
    assert [(e["eventType"], e["data"]) for e in events] == [
        ("order", {"id": "a1", "total": 3.25}), ("message", {"free": "form"})]


def test_factory_without_argument_is_refused_like_http(site):
    d, p = site
    status, _, _ = _req(p["log"], "PUT", "/fa/rooms", b'{"factory": true}',
                        {"Content-Type": "application/json"})
    assert status in (200, 201)
    http_status, _, http_body = _req(p["log"], "POST", "/fa/rooms", b'"hi"',
                                     {"Content-Type": "application/json"})
    status, err = _append_js(p, "/fa/rooms", "hi")
    assert status == http_status == 400
    assert err["error"] == json.loads(http_body)["error"] and "stream factory" in err["error"]
    assert _append_js(p, "/fa/rooms('lobby')", "hi") == (201, 0)
    assert _req(p["log"], "GET", "/fa/rooms.length")[2] == b"0"


def test_error_object_of_store_refusals(site):
    d, p = site
    status, err = _append_js(p, "/so/big", "x" * (100 * 1024 + 1))
    assert status == 413 and "102400" in err["error"] and err["message"] == err["error"]
