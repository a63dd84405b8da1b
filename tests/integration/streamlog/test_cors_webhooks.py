"""§12 CORS on every stream URL; §6 webhooks (at-least-once, ordered, retried, signed, logged)."""
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


# -- CORS -------------------------------------------------------------------------------------------

def test_cors_on_write(server, stream):
    _, h, _ = server.request("POST", stream, "x", {"Origin": "http://a.example"})
    assert h["access-control-allow-origin"] == "http://a.example"
    assert "Event-Index" in h["access-control-expose-headers"]


def test_cors_star_without_origin(server, stream):
    assert server.get(stream)[1]["access-control-allow-origin"] == "*"


def test_cors_on_errors(server, stream):
    status, h, _ = server.request("GET", stream + "[9]", None, {"Origin": "http://a.example"})
    assert status == 404 and h["access-control-allow-origin"] == "http://a.example"


def test_preflight(server, stream):
    status, h, _ = server.request("OPTIONS", stream, None, {
        "Origin": "http://a.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "event-type, content-type"})
    assert status == 204
    assert "POST" in h["access-control-allow-methods"]
    assert h["access-control-allow-headers"] == "event-type, content-type"


def test_cors_can_be_disabled(server, stream):
    _, h, _ = server.request("GET", stream, None, {"Origin": "http://a.example"}, port="nocors")
    assert "access-control-allow-origin" not in h


# -- webhooks ---------------------------------------------------------------------------------------

class Receiver:
    def __init__(self, fail_first: int = 0) -> None:
        self.got: list[tuple[dict, bytes]] = []
        self.fail_left = fail_first
        recv = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                if recv.fail_left > 0:
                    recv.fail_left -= 1
                    self.send_response(503)
                else:
                    recv.got.append(({k.lower(): v for k, v in self.headers.items()}, body))
                    self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def wait(self, n: int, timeout: float = 8.0):
        deadline = time.monotonic() + timeout
        while len(self.got) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.got

    def close(self):
        self.httpd.shutdown()


@pytest.fixture
def receiver():
    made = []

    def make(**kw):
        r = Receiver(**kw)
        made.append(r)
        return r
    yield make
    for r in made:
        r.close()


def _put(server, stream, name, doc):
    return server.request("PUT", f"{stream}/webhooks/{name}", json.dumps(doc),
                          {"Content-Type": "application/json"})


def test_webhook_put_get_delete(server, stream, receiver):
    r = receiver()
    status, _, body = _put(server, stream, "h1", {"url": r.url, "secret": "s"})
    assert status == 201
    doc = server.json(f"{stream}/webhooks/h1")
    assert doc["url"] == r.url and doc["include"] == "notification" and "secret" not in doc
    assert [w["name"] for w in server.json(f"{stream}/webhooks")] == ["h1"]
    assert _put(server, stream, "h1", {"url": r.url})[0] == 200
    assert server.request("DELETE", f"{stream}/webhooks/h1")[0] == 204
    assert server.get(f"{stream}/webhooks/h1")[0] == 404


@pytest.mark.parametrize("doc", [{"url": "ftp://x"}, {"url": 5}, {"url": "http://x", "include": "all"},
                                 {"url": "http://x", "selector": {"types": "a"}}, [1]])
def test_bad_webhook_config_is_400(server, stream, doc):
    status, _, body = _put(server, stream, "bad", doc)
    assert status == 400 and set(json.loads(body)) == {"error", "detail"}


def test_webhook_notification_is_delivered(server, stream, receiver):
    r = receiver()
    _put(server, stream, "n", {"url": r.url})
    server.post(stream, "x", Event_Type="click")
    headers, body = r.wait(1)[0]
    assert json.loads(body) == {"index": 0, "eventType": "click"}
    assert headers["event-index"] == "0"


def test_webhook_data_in_order(server, stream, receiver):
    r = receiver()
    _put(server, stream, "d", {"url": r.url, "include": "data"})
    for i in range(5):
        server.post(stream, f"e{i}", Content_Type="text/plain")
    got = r.wait(5)
    assert [b for _, b in got] == [b"e0", b"e1", b"e2", b"e3", b"e4"]
    assert [h["event-index"] for h, _ in got] == ["0", "1", "2", "3", "4"]
    assert got[0][0]["content-type"] == "text/plain"


def test_webhook_signature(server, stream, receiver):
    r = receiver()
    _put(server, stream, "s", {"url": r.url, "include": "data", "secret": "topsecret"})
    server.post(stream, "payload")
    headers, body = r.wait(1)[0]
    want = "sha256=" + hmac.new(b"topsecret", body, hashlib.sha256).hexdigest()
    assert headers["webhook-signature"] == want


def test_webhook_without_secret_is_unsigned(server, stream, receiver):
    r = receiver()
    _put(server, stream, "u", {"url": r.url, "include": "data"})
    server.post(stream, "payload")
    assert "webhook-signature" not in r.wait(1)[0][0]


def test_webhook_retries_and_logs_failures(server, stream, receiver):
    r = receiver(fail_first=2)
    _put(server, stream, "r", {"url": r.url, "include": "data"})
    server.post(stream, "once")
    assert [b for _, b in r.wait(1)] == [b"once"]
    logs = server.json(stream + "/logs")
    assert len(logs) >= 2 and logs[0]["eventType"] == "webhook-error"
    assert logs[0]["data"]["status"] == 503


def test_webhook_selector_types(server, stream, receiver):
    r = receiver()
    _put(server, stream, "t", {"url": r.url, "include": "data", "selector": {"types": ["b"]}})
    for t in "abab":
        server.post(stream, t, Event_Type=t)
    got = r.wait(2)
    time.sleep(0.3)
    assert [h["event-index"] for h, _ in got] == ["1", "3"]


def test_webhook_selector_from_replays_history(server, stream, receiver):
    for i in range(3):
        server.post(stream, str(i))
    r = receiver()
    _put(server, stream, "f", {"url": r.url, "include": "data", "selector": {"from": 1}})
    assert [b for _, b in r.wait(2)] == [b"1", b"2"]


def test_webhook_unreachable_is_logged(server, stream):
    _put(server, stream, "dead", {"url": "http://127.0.0.1:9/none", "include": "data"})
    server.post(stream, "x")
    deadline = time.monotonic() + 5
    logs = []
    while not logs and time.monotonic() < deadline:
        logs = server.json(stream + "/logs")
        time.sleep(0.1)
    assert "error" in logs[0]["data"]
    server.request("DELETE", f"{stream}/webhooks/dead")
