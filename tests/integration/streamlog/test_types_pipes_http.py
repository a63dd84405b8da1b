"""§8–§11 against the running daemon: event types, factories, pipes, built-in streams."""
from __future__ import annotations

import json
import time
from urllib.parse import quote

SCHEMA = {"properties": {"id": {"type": "int64"}}, "optionalProperties": {"tags": {"elements": {"type": "string"}}}}


def put(server, path, doc, **headers):
    body = doc if type(doc) is bytes else json.dumps(doc).encode()
    return server.request("PUT", path, body, {"content-type": "application/json", **headers})


def wait_len(server, path, n, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = server.json(path)
        if len(got) >= n:
            return got
        time.sleep(0.05)
    return server.json(path)


def test_typed_events_validate_on_ingest(server, stream):
    st, h, body = put(server, stream + ":created", SCHEMA)
    assert st == 201 and json.loads(body)["schema"] == SCHEMA
    assert put(server, stream + ":created", SCHEMA)[0] == 200
    assert server.post(stream + ":created", '{"id": 1}', content_type="application/json")[0] == 201
    st, h, body = server.post(stream + ":created", '{"id": "x", "more": 1}',
                              content_type="application/json")
    err = json.loads(body)
    assert st == 422 and err["detail"]["eventType"] == "created"
    assert err["detail"]["errors"] == [{"instancePath": "/id", "schemaPath": "/properties/id/type"},
                                       {"instancePath": "/more", "schemaPath": ""}]
    assert server.post(stream + ":created", "not json", content_type="text/plain")[0] == 415
    assert server.post(stream + ":other", "free text")[0] == 201       # untyped needs no definition
    assert [e["data"] for e in server.json(stream)] == [{"id": 1}, "free text"]


def test_bulk_part_is_named_in_422(server, stream):
    put(server, stream + ":t", {"type": "uint8"})
    body = ("--b\r\nEvent-Type: t\r\nContent-Type: application/json\r\n\r\n1\r\n"
            "--b\r\nEvent-Type: t\r\nContent-Type: application/json\r\n\r\n300\r\n--b--\r\n")
    st, h, out = server.post(stream, body, content_type="multipart/mixed; boundary=b")
    assert st == 422 and json.loads(out)["detail"]["part"] == 1
    assert server.json(stream) == []


def test_json_and_ts_views_and_delete(server, stream):
    put(server, stream + ":user-created", SCHEMA)
    assert server.json(stream + ":user-created.json") == SCHEMA
    st, h, ts = server.get(stream + ":user-created.ts")
    assert st == 200 and h["content-type"].startswith("application/typescript")
    assert "export interface UserCreated {\n  id: number;\n  tags?: string[];\n}" in ts.decode()
    assert server.get(stream + ":nope.json")[0] == 404
    assert server.request("DELETE", stream + ":user-created")[0] == 204
    assert server.get(stream + ":user-created.json")[0] == 404
    assert server.post(stream + ":user-created", "x")[0] == 201       # untyped again


def test_bad_schema_is_400(server, stream):
    st, h, body = put(server, stream + ":t", {"type": "int128"})
    assert st == 400 and json.loads(body)["detail"]["schemaPath"] == "/type"


def test_import_types(server, stream):
    put(server, stream + "lib:point", {"properties": {"x": {"type": "float64"}}})
    st, h, body = put(server, stream, {"importTypes": [stream + "lib"]})
    assert st == 201 and json.loads(body)["importTypes"] == [stream + "lib"]
    assert server.json(stream + ":point.json") == {"properties": {"x": {"type": "float64"}}}
    assert server.post(stream + ":point", '{"x": "no"}', content_type="application/json")[0] == 422
    assert server.post(stream + ":point", '{"x": 1.5}', content_type="application/json")[0] == 201


def test_factory_substreams(server, stream):
    st, h, body = put(server, stream, {"factory": True})
    assert st == 201 and json.loads(body)["factory"] is True
    assert server.post(stream, "no argument")[0] == 400
    put(server, stream + ":t", {"type": "string"})                     # applies to substreams
    assert server.post(stream + "('a')", '"one"', event_type="t", content_type="application/json")[0] == 201
    assert server.post(stream + "(2)", "5", event_type="t", content_type="application/json")[0] == 422
    assert server.post(stream + "(bob)", "x")[0] == 201
    assert [e["data"] for e in server.json(stream + "('a')")] == ["one"]
    assert server.json(stream) == []
    st, h, body = server.get(stream + "?substreams=all")
    merged = json.loads(body)
    assert st == 200 and h["stream-substreams"] == "2"
    assert [(e["substream"], e["data"]) for e in merged] == [('"a"', "one"), ("bob", "x")]
    assert put(server, stream, {"factory": False})[0] == 409           # it has substreams


def test_stream_with_events_cannot_become_factory(server, stream):
    server.post(stream, "x")
    assert put(server, stream, {"factory": True})[0] == 409


def test_pipe_copies_history_and_live(server, stream):
    for i in range(3):
        server.post(stream, f"h{i}", event_type="keep" if i else "drop", content_type="text/plain")
    st, h, body = put(server, stream + "/pipe/t" + stream[2:] + "dst", {"from": 0, "types": ["keep"]})
    assert st == 201
    server.post(stream, "live", event_type="keep")
    got = wait_len(server, stream + "dst", 3)
    assert [(e["data"], e["eventType"], e["index"]) for e in got] == [
        ("h1", "keep", 0), ("h2", "keep", 1), ("live", "keep", 2)]
    assert got[0]["contentType"] == "text/plain"
    pipe = server.json(stream + "/pipe/t" + stream[2:] + "dst")
    assert pipe["selector"] == {"from": 0, "types": ["keep"]}
    assert server.request("DELETE", stream + "/pipe/t" + stream[2:] + "dst")[0] == 204
    server.post(stream, "after", event_type="keep")
    time.sleep(0.3)
    assert len(server.json(stream + "dst")) == 3


def test_pipe_loop_refused(server, stream):
    a, b = stream + "a", stream + "b"
    assert put(server, a + "/pipe" + b, {})[0] == 201
    st, h, body = put(server, b + "/pipe" + a, {})
    assert st == 400 and "loop" in json.loads(body)["error"]


def test_factory_pipe_covers_new_substreams(server, stream):
    put(server, stream, {"factory": True})
    server.post(stream + "('old')", "o")
    assert put(server, stream + "/pipe" + stream + "all", {"from": 0})[0] == 201
    server.post(stream + "('new')", "n")
    got = wait_len(server, stream + "all", 2)
    assert sorted(e["data"] for e in got) == ["n", "o"]


def test_cron_stream(server, stream):
    cron = "/pipet/cron(" + quote("'* * * * * *'") + ")"
    assert server.post(cron, "x")[0] == 403
    assert server.get("/pipet/cron(" + quote("'bad'") + ")")[0] == 400
    assert server.get("/pipet/nothing")[0] == 404
    assert put(server, cron + "/pipe" + stream, {})[0] == 201
    got = wait_len(server, stream, 2, timeout=6)
    assert len(got) >= 2 and got[0]["eventType"] == "tick"
    assert type(got[0]["data"]) is int and got[1]["data"] - got[0]["data"] == 1000
    ticks = server.json(cron)
    assert ticks and ticks[0]["timestamp"] == ticks[0]["data"]


def test_account_events(server, stream):
    acct = "acct" + stream.rsplit("/", 1)[1]
    server.post(f"/{acct}/s", "x")
    put(server, f"/{acct}/s:t", {"type": "string"})
    put(server, f"/{acct}/s/pipe/{acct}/d", {})
    assert server.post(f"/pipet/events({acct})", "x")[0] == 403
    kinds = [e["eventType"] for e in server.json(f"/pipet/events({acct})")]
    assert kinds == ["stream.created", "type.put", "pipe.put"]


def test_account_events_need_the_accounts_key(server):
    st, h, _ = server.request("GET", "/pipet/events(secure)", port="guarded")
    assert st == 401
    st, h, _ = server.request("GET", "/pipet/events(secure)", headers={"authorization": "Bearer no"},
                              port="guarded")
    assert st == 403
    st, h, _ = server.request("GET", "/pipet/events(secure)", headers={"authorization": "Bearer k1"},
                              port="guarded")
    assert st == 200
