"""§6 SSE: notifications, data mode, resume, selectors, heartbeats, coalescing, resync."""
import json
import time

import pytest


def _post(server, stream, n, start=0, **h):
    for i in range(start, start + n):
        server.post(stream, str(i), **h)


@pytest.fixture
def sse(server):
    opened = []

    def open_(path, headers=None):
        c = server.sse(path, headers)
        opened.append(c)
        return c
    yield open_
    for c in opened:
        c.close()


def test_sse_head(server, stream, sse):
    c = sse(stream)
    assert c.status == 200
    assert c.headers["content-type"] == "text/event-stream"
    assert c.headers["x-accel-buffering"] == "no"
    assert c.headers["cache-control"] == "no-cache"


def test_notification_frame(server, stream, sse):
    c = sse(stream)
    server.post(stream, "x", Event_Type="click")
    f = c.frames(1)[0]
    assert f["id"] == "0" and f["event"] == "click"
    assert json.loads(f["data"]) == {"index": 0, "eventType": "click"}


def test_default_event_name_is_message(server, stream, sse):
    c = sse(stream)
    server.post(stream, "x")
    assert c.frames(1)[0]["event"] == "message"


def test_only_new_events_by_default(server, stream, sse):
    _post(server, stream, 3)
    c = sse(stream)
    server.post(stream, "new")
    assert [f["id"] for f in c.frames(1)] == ["3"]


def test_notifications_do_not_carry_data(server, stream, sse):
    c = sse(stream)
    server.post(stream, "secret-payload")
    c.frames(1)
    assert "secret-payload" not in c.text


def test_burst_is_coalesced_to_latest(server, stream, sse):
    _post(server, stream, 5)
    c = sse(stream + "?from=0")
    frames = c.frames(1)
    time.sleep(0.3)
    frames = c.frames(5, timeout=0.5)
    assert frames[-1]["id"] == "4" and len(frames) < 5


def test_last_event_id_resumes_after_it(server, stream, sse):
    _post(server, stream, 5)
    c = sse(stream + "?include=data", {"Last-Event-ID": "2"})
    assert [f["id"] for f in c.frames(2)] == ["3", "4"]


def test_from_resumes_at_it(server, stream, sse):
    _post(server, stream, 5)
    c = sse(stream + "?include=data&from=1")
    assert [f["id"] for f in c.frames(4)] == ["1", "2", "3", "4"]


def test_last_event_id_wins_over_from(server, stream, sse):
    _post(server, stream, 5)
    c = sse(stream + "?include=data&from=0", {"Last-Event-ID": "3"})
    assert [f["id"] for f in c.frames(1)] == ["4"]


def test_bad_last_event_id_is_400(server, stream):
    status, _, body = server.request("GET", stream, None, {"Accept": "text/event-stream",
                                                           "Last-Event-ID": "abc"})
    assert status == 400 and set(json.loads(body)) == {"error", "detail"}


def test_data_mode_delivers_every_event(server, stream, sse):
    c = sse(stream + "?include=data")
    _post(server, stream, 3)
    assert [(f["id"], f["data"]) for f in c.frames(3)] == [("0", "0"), ("1", "1"), ("2", "2")]


def test_data_mode_is_multiline_safe(server, stream, sse):
    c = sse(stream + "?include=data")
    server.post(stream, "line1\nline2\r\nline3\n")
    assert c.frames(1)[0]["data"] == "line1\nline2\nline3\n"


def test_data_mode_binary_is_base64(server, stream, sse):
    c = sse(stream + "?include=data")
    server.post(stream, b"\xff\x00")
    assert c.frames(1)[0]["data"] == "/wA="


def test_type_selector_suffix(server, stream, sse):
    c = sse(stream + ":b?include=data")
    for t in "abab":
        server.post(stream, t, Event_Type=t)
    assert [f["id"] for f in c.frames(2)] == ["1", "3"]


def test_type_selector_query_keeps_stream_ids(server, stream, sse):
    c = sse(stream + "?type=a&include=data")
    for t in "bba":
        server.post(stream, t, Event_Type=t)
    assert [f["id"] for f in c.frames(1)] == ["2"]


def test_notification_with_type_selector_names_latest_match(server, stream, sse):
    for t in "aab":
        server.post(stream, t, Event_Type=t)
    c = sse(stream + ":a?from=0")
    assert c.frames(1)[0]["id"] == "1"


def test_range_selector_ends_the_stream(server, stream, sse):
    _post(server, stream, 5)
    c = sse(stream + "[1:3]?include=data")
    frames = c.frames(5, timeout=2)
    assert [f["id"] for f in frames] == ["1", "2"]


def test_finished_range_answers_204(server, stream):
    _post(server, stream, 3)
    status, _, _ = server.request("GET", stream + "[0:2]", None,
                                  {"Accept": "text/event-stream", "Last-Event-ID": "1"})
    assert status == 204


def test_substream_sse(server, stream, sse):
    c = sse(stream + "('x')?include=data")
    server.post(stream, "main")
    server.post(stream + "('x')", "sub")
    assert c.frames(1)[0]["data"] == "sub"


def test_heartbeat_comments(server, stream, sse):
    c = sse(stream)
    assert ": heartbeat" in c.wait_text(": heartbeat", timeout=3)


def test_two_consumers_each_get_events(server, stream, sse):
    a, b = sse(stream + "?include=data"), sse(stream + "?include=data")
    server.post(stream, "x")
    assert a.frames(1)[0]["data"] == b.frames(1)[0]["data"] == "x"


def test_slow_consumer_is_disconnected_with_resync(server, stream):
    """maxLag is 40 on this server: a client that does not read falls behind and is cut off."""
    import socket
    big = "x" * 60000
    for _ in range(60):
        server.post(stream, big)
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a small window
    s.settimeout(10)
    s.connect(("127.0.0.1", server.port))
    s.sendall(f"GET {stream}?include=data&from=0 HTTP/1.1\r\nHost: x\r\n"
              "Accept: text/event-stream\r\n\r\n".encode())
    time.sleep(1.0)
    for _ in range(100):
        server.post(stream, big)
    time.sleep(0.5)
    got = b""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not got.endswith(b"\r\n0\r\n\r\n"):
        chunk = s.recv(1 << 20)  # the response ends (last chunk) right after the resync frame
        if not chunk:
            break
        got += chunk
    s.close()
    assert b"event: resync" in got


def test_sse_with_cors_for_browsers(server, stream, sse):
    c = sse(stream, {"Origin": "http://app.example"})
    assert c.headers["access-control-allow-origin"] == "http://app.example"
