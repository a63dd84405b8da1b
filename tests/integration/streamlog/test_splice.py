"""Splice (streamlog.md §12) over a real daemon: proposals, approval, what readers, reducers and
SSE consumers see afterwards, bad input, permissions, and a restart between propose and approve."""
from __future__ import annotations

import json
import signal
import threading
import time

import pytest

from ..daemon import Daemon, free_port
from .test_controls_http import auth, req


def _propose(server, stream, doc, **headers):
    body = doc if isinstance(doc, (bytes, str)) else json.dumps(doc)
    headers.setdefault("Content_Type", "application/json")
    return server.post(stream + "/splice", body, **headers)


def _proposal(server, stream, doc):
    status, _, body = _propose(server, stream, doc)
    assert status == 202, body
    d = json.loads(body)
    assert d["status"] == "pending"
    return d["id"]


def _approve(server, stream, sid):
    return server.post(f"{stream}/splice/{sid}/approve")


def _err(resp):
    status, _, body = resp
    return status, json.loads(body)


def _datas(server, stream):
    return [e["data"] for e in server.json(stream + "[0:]")]


def _wait(check, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not check() and time.monotonic() < deadline:
        time.sleep(0.05)
    return check()


# ------------------------------------------------------------------------------------ basics

def test_propose_list_show_approve(server, stream):
    for i in range(5):
        assert server.post(stream, f"old{i}")[0] == 201
    sid = _proposal(server, stream, {"events": [
        {"data": {"n": 1}, "eventType": "num"}, {"data": "two"},
        {"data": "AAE=", "encoding": "base64", "contentType": "application/octet-stream"}]})
    assert server.json(stream + ".length") == 5            # nothing changes before approval
    listed = server.json(stream + "/splice")
    assert [(p["id"], p["status"], p["count"]) for p in listed] == [(sid, "pending", 3)]
    assert server.json(f"{stream}/splice/{sid}")["status"] == "pending"
    before = int(time.time() * 1000)
    status, _, body = _approve(server, stream, sid)
    assert status == 200 and json.loads(body) == {"id": sid, "status": "approved", "length": 3}
    events = server.json(stream + "[0:]")
    assert [e["index"] for e in events] == [0, 1, 2]
    assert [(e["eventType"], e["contentType"]) for e in events] == [
        ("num", "application/json"), ("message", "text/plain"),
        ("message", "application/octet-stream")]
    assert events[0]["data"] == {"n": 1} and events[1]["data"] == "two"
    assert server.get(stream + "[2]")[2] == b"\x00\x01"
    stamps = [e["timestamp"] for e in events]
    assert stamps == sorted(stamps) and stamps[0] >= before - 5   # the approval time
    assert server.json(stream + ".length") == 3
    assert server.get(stream + "[3]")[0] == 404
    st, h, _ = server.post(stream, "after")
    assert st == 201 and h["event-index"] == "3" and int(h["event-timestamp"]) >= stamps[-1]
    assert server.json(f"{stream}/splice/{sid}")["status"] == "approved"
    # decided: no second decision; unknown ids 404
    assert _err(_approve(server, stream, sid))[0] == 409
    assert _err(server.post(f"{stream}/splice/{sid}/reject"))[0] == 409
    st, d = _err(_approve(server, stream, "nosuch"))
    assert st == 404 and d["detail"] == {"id": "nosuch"}


def test_reject_and_empty_replacement(server, stream):
    server.post(stream, "keep")
    sid = _proposal(server, stream, {"events": [{"data": "x"}]})
    st, _, body = server.post(f"{stream}/splice/{sid}/reject")
    assert st == 200 and json.loads(body)["status"] == "rejected"
    assert _err(_approve(server, stream, sid))[0] == 409
    assert _datas(server, stream) == ["keep"]
    empty = _proposal(server, stream, {"events": []})
    assert _approve(server, stream, empty)[0] == 200
    assert server.json(stream + ".length") == 0
    assert server.post(stream, "again")[2] == b"0"


def test_source_stream_keeps_its_timestamps(server, stream):
    src = stream + "src"
    for i, ts in enumerate((100, 200, 300, 400)):
        server.post(src, f"s{i}", Event_Timestamp=str(ts), Event_Type="t" if i % 2 else "u")
    server.post(stream, "old")
    sid = _proposal(server, stream, {"source": src + "[1:]"})
    server.post(src, "later")                                # not part of what was proposed
    assert _approve(server, stream, sid)[0] == 200
    events = server.json(stream + "[0:]")
    assert [(e["data"], e["timestamp"], e["eventType"]) for e in events] == [
        ("s1", 200, "t"), ("s2", 300, "u"), ("s3", 400, "t")]
    typed = _proposal(server, stream, {"source": src + ":t"})
    assert _approve(server, stream, typed)[0] == 200
    assert _datas(server, stream) == ["s1", "s3"]
    assert server.json(f"{stream}/splice/{typed}")["source"] == src + ":t"


def test_multipart_proposal(server, stream):
    server.post(stream, "old")
    body = ("--b\r\nContent-Type: text/plain\r\nEvent-Type: a\r\n\r\none\r\n"
            "--b\r\nContent-Type: application/json\r\n\r\n{\"x\":2}\r\n--b--\r\n")
    st, _, raw = _propose(server, stream, body, Content_Type="multipart/mixed; boundary=b")
    assert st == 202, raw
    sid = json.loads(raw)["id"]
    assert _approve(server, stream, sid)[0] == 200
    assert _datas(server, stream) == ["one", {"x": 2}]


@pytest.mark.parametrize("doc, status, words", [
    (b"{not json", 400, "splice body"),
    ({"events": [], "source": "/t/x"}, 400, "splice body"),
    ({"other": 1}, 400, "splice body"),
    ({"events": "x"}, 400, "array"),
    ({"events": [{"eventType": "a"}]}, 400, "event 0"),
    ({"events": [{"data": 5, "contentType": "text/plain"}]}, 400, "string"),
    ({"events": [{"data": "!!", "encoding": "base64"}]}, 400, "base64"),
    ({"events": [{"data": "x", "eventType": ""}]}, 400, "eventType"),
    ({"events": [{"data": "x" * 110000}]}, 413, "over"),
    ({"events": [{"data": "{", "contentType": "text/plain"}, {"data": "{bad", "contentType":
                  "application/json", "encoding": "base64"}]}, 400, "base64"),
    ({"source": 7}, 400, "source"),
    ({"source": "/t/nosuchsourcestream"}, 404, "source"),
    ({"source": "/t/x.length"}, 400, "source"),
])
def test_bad_proposals(server, stream, doc, status, words):
    server.post(stream, "x")
    st, d = _err(_propose(server, stream, doc))
    assert st == status and words in d["error"], d
    assert set(d) == {"error", "detail"}
    assert server.json(stream + "/splice") == []


def test_more_refusals(server, stream):
    st, d = _err(_propose(server, stream, {"events": []}))
    assert st == 404 and "no such stream" in d["error"]             # nothing to replace
    server.post(stream, "x")
    st, d = _err(_propose(server, stream, {"source": stream}))
    assert st == 400 and "itself" in d["error"]
    # any non-multipart body is read as JSON (curl -d sends a form content type)
    assert _propose(server, stream, {"events": []}, Content_Type="text/plain")[0] == 202
    sid = _proposal(server, stream, {"events": []})
    assert server.get(f"{stream}/splice/{sid}/approve")[0] == 405
    assert server.request("DELETE", f"{stream}/splice")[0] == 405
    assert server.json(stream + ".length") == 1


def test_typed_stream_validates_at_proposal(server, stream):
    schema = {"properties": {"n": {"type": "int32"}}}
    assert server.request("PUT", stream + ":num", json.dumps(schema),
                          {"Content-Type": "application/json"})[0] in (200, 201)
    server.post(stream, json.dumps({"n": 1}), Content_Type="application/json", Event_Type="num")
    st, d = _err(_propose(server, stream, {"events": [{"data": {"n": "one"}, "eventType": "num"}]}))
    assert st == 422 and d["detail"]["part"] == 0
    sid = _proposal(server, stream, {"events": [{"data": {"n": 2}, "eventType": "num"}]})
    assert _approve(server, stream, sid)[0] == 200
    assert _datas(server, stream) == [{"n": 2}]
    # metadata is kept: the type still applies after the splice
    assert server.post(stream, json.dumps({"n": "x"}), Content_Type="application/json",
                       Event_Type="num")[0] == 422


# ------------------------------------------------------------------------------- consumers

def test_reducer_reruns_without_dispatching_again(server, stream):
    target = stream + "fx"
    src = (f"(s = 0, e) => {{ dispatch('{target}', {{n: e.data.n}}); return s + e.data.n }}")
    assert server.request("PUT", stream + ".sum", src)[0] == 201
    for n in (1, 2):
        server.post(stream, json.dumps({"n": n}), Content_Type="application/json")
    assert server.json(stream + ".sum") == 3
    assert _wait(lambda: server.json(target + ".length") == 2)
    sid = _proposal(server, stream, {"events": [{"data": {"n": n}} for n in (10, 20, 30)]})
    assert _approve(server, stream, sid)[0] == 200
    assert server.json(stream + ".sum") == 60
    time.sleep(0.3)
    assert server.json(target + ".length") == 2                  # replay voided its dispatches
    server.post(stream, json.dumps({"n": 5}), Content_Type="application/json")
    assert server.json(stream + ".sum") == 65
    assert _wait(lambda: server.json(target + ".length") == 3)    # live again, not deduplicated
    assert _datas(server, target) == [{"n": 1}, {"n": 2}, {"n": 5}]


def test_sse_consumers_are_resynced(server, stream):
    for i in range(4):
        server.post(stream, f"e{i}")
    sse = server.sse(stream + "?include=data")
    try:
        sid = _proposal(server, stream, {"events": [{"data": "n0"}, {"data": "n1"}]})
        assert _approve(server, stream, sid)[0] == 200
        frames = sse.frames(1)
        assert frames and frames[-1]["event"] == "resync" and frames[-1]["id"] == "1"
        assert json.loads(frames[-1]["data"]) == {"reason": "splice", "length": 2}
        assert sse.ended
    finally:
        sse.close()
    again = server.sse(stream + "?include=data", {"Last-Event-ID": "1"})
    try:
        server.post(stream, "n2")
        f = again.frames(1)
        assert f and f[0]["id"] == "2" and f[0]["data"] == "n2"
    finally:
        again.close()


def test_webhook_cursor_moves_to_the_new_length(server, stream):
    from .test_cors_webhooks import Receiver
    receiver = Receiver()
    try:
        doc = json.dumps({"url": receiver.url, "include": "data"})
        assert server.request("PUT", stream + "/webhooks/w", doc,
                              {"Content-Type": "application/json"})[0] in (200, 201)
        for i in range(3):
            server.post(stream, f"old{i}")
        assert len(receiver.wait(3)) == 3
        sid = _proposal(server, stream, {"events": [{"data": "new0"}]})
        assert _approve(server, stream, sid)[0] == 200
        assert _wait(lambda: server.json(stream + "/webhooks/w")["cursor"] == 1)
        server.post(stream, "live")
        got = receiver.wait(4)
        assert [g[1] for g in got] == [b"old0", b"old1", b"old2", b"live"]
    finally:
        receiver.close()


def test_concurrent_appends_are_replaced_or_kept_after(server, stream):
    server.post(stream, "seed")
    sid = _proposal(server, stream, {"events": [{"data": f"r{i}"} for i in range(20)]})
    acked: list[tuple[float, str]] = []
    stop = threading.Event()

    def writer():
        i = 0
        while not stop.is_set():
            st, _, _ = server.post(stream, f"w{i}")
            assert st == 201
            acked.append((time.monotonic(), f"w{i}"))
            i += 1
    t = threading.Thread(target=writer)
    t.start()
    time.sleep(0.2)
    assert _approve(server, stream, sid)[0] == 200
    approved_at = time.monotonic()
    time.sleep(0.2)
    stop.set()
    t.join()
    final = _datas(server, stream)
    assert final[:20] == [f"r{i}" for i in range(20)]            # the replacement comes first
    tail = final[20:]
    assert all(d.startswith("w") for d in tail)
    after = [d for ts, d in acked if ts > approved_at]
    assert after and set(after) <= set(tail)                      # nothing acked after is lost
    assert tail == sorted(tail, key=lambda d: int(d[1:]))         # in order


# ------------------------------------------------------------------- permissions, restart

SERVER = """
pipy()
  .listen({port}).demuxHTTP().to($=>$.serveStreamLog({{
    store: '{store}', adminKey: 'root', accounts: {{ eric: {{ keys: ['erickey'] }},
    bob: {{ keys: ['bobkey'] }} }} }}))
"""


def test_permissions_and_restart_between_propose_and_approve(tmp_path):
    port = free_port()
    (tmp_path / "main.js").write_text(SERVER.format(port=port, store=tmp_path / "data"))
    d = Daemon(tmp_path).start([port])
    try:
        eric, bob = auth("erickey"), auth("bobkey")
        assert req(port, "POST", "/eric/log", b"one", eric)[0] == 201
        assert req(port, "POST", "/eric/secret", b"hidden", eric)[0] == 201
        doc = {"events": [{"data": "bob's"}]}
        assert req(port, "POST", "/eric/log/splice", doc)[0] == 401
        assert req(port, "POST", "/eric/log/splice", doc, bob)[0] == 403     # no write yet
        controls = {"members": {"bob": ["write"]}}
        assert req(port, "PUT", "/eric/log/controls", controls, eric)[0] == 200
        st, _, p = req(port, "POST", "/eric/log/splice", doc, bob)
        assert st == 202
        # bob may not read /eric/secret, so he may not propose it as a source
        assert req(port, "POST", "/eric/log/splice", {"source": "/eric/secret"}, bob)[0] == 403
        assert req(port, "GET", "/eric/log/splice", b"", bob)[0] == 403
        assert req(port, "POST", f"/eric/log/splice/{p['id']}/approve", b"", bob)[0] == 403
        d.signal(signal.SIGTERM)
        d.wait()
        d = Daemon(tmp_path).start([port])
        st, _, listed = req(port, "GET", "/eric/log/splice", b"", eric)
        assert st == 200 and listed[0]["status"] == "pending" and listed[0]["proposedBy"] == "bob"
        assert req(port, "POST", f"/eric/log/splice/{p['id']}/approve", b"", eric)[0] == 200
        st, _, events = req(port, "GET", "/eric/log[0:]", b"", eric)
        assert [e["data"] for e in events] == ["bob's"]
        st, _, mutations = req(port, "GET", "/pipet/events(eric)[0:]", b"", eric)
        assert any(m["eventType"] == "stream.spliced" for m in mutations)
    finally:
        d.stop()
