"""Reducers over HTTP against a real daemon (streamlog.md §7)."""
import json
import signal
import time

from ..daemon import Daemon, free_port

COUNTER = ("(state = {}, event) => ({...state, [event.data.greeting]:"
           " (state[event.data.greeting] || 0) + 1})")


def _post_json(server, path, doc):
    return server.post(path, json.dumps(doc), Content_Type="application/json")


def _logs(server, stream):
    return server.json(stream + "/logs[0:]")


def test_greeting_counter_and_expression(server, stream):
    for g in ("Hello", "Hi", "Hello"):
        assert _post_json(server, stream, {"greeting": g})[0] == 201
    status, _, body = server.request("PUT", stream + ".counter", COUNTER)
    assert status == 201, body
    assert server.json(stream + ".counter") == {"Hello": 2, "Hi": 1}
    assert server.json(stream + ".counter.Hello+1") == 3
    _post_json(server, stream, {"greeting": "Hi"})
    assert server.json(stream + ".counter.Hi") == 2      # caught up with the stream as of the GET
    assert server.request("DELETE", stream + ".counter")[0] == 204
    assert server.get(stream + ".counter")[0] == 404


def test_bad_source_is_400(server, stream):
    assert server.request("PUT", stream + ".r", "(s, e) => {")[0] == 400
    assert server.request("PUT", stream + ".r", "42")[0] == 400


def test_throwing_reducer_stops_at_last_good_state(server, stream):
    src = "(s = 0, e) => { if (e.data.n === 3) throw new Error('boom'); return s + e.data.n }"
    server.request("PUT", stream + ".sum", src)
    for n in (1, 2, 3, 4):
        _post_json(server, stream, {"n": n})
    status, headers, body = server.get(stream + ".sum")
    assert status == 200 and json.loads(body) == 3
    assert headers["reducer-status"] == "stopped" and "boom" in headers["reducer-error"]
    errors = [e for e in _logs(server, stream) if e["eventType"] == "reducer-error"]
    assert errors and errors[0]["data"]["index"] == 2 and "boom" in errors[0]["data"]["error"]


def test_endless_loop_is_stopped_and_others_keep_working(server, stream):
    server.request("PUT", stream + ".spin", "(s, e) => { while (true) {} }")
    server.request("PUT", stream + ".count", "(s = 0) => s + 1")
    _post_json(server, stream, {"x": 1})
    status, headers, _ = server.get(stream + ".spin")
    assert status == 200 and headers["reducer-status"] == "stopped"
    assert "CPU" in headers["reducer-error"]
    _post_json(server, stream, {"x": 2})
    assert server.json(stream + ".count") == 2
    assert server.post(stream, "still here")[0] == 201


def test_no_host_access(server, stream):
    src = """(s, e) => [typeof require, typeof process, typeof fetch, typeof XMLHttpRequest,
      typeof std, typeof os, typeof performance,
      (() => { try { call_python('dukpy.load_module', '/etc/passwd'); return 'reached' }
               catch (x) { return 'refused' } })(),
      Date.now() === e.timestamp, Math.random() === Math.random()]"""
    server.request("PUT", stream + ".probe", src)
    status, headers, _ = server.post(stream, "x")
    got = server.json(stream + ".probe")
    assert got[:7] == ["undefined"] * 7
    assert got[7] == "refused" and got[8] is True and got[9] is False
    console = "(s, e) => { console.log('seen', e.index); return 1 }"
    server.request("PUT", stream + ".talk", console)
    server.json(stream + ".talk")
    lines = [e["data"] for e in _logs(server, stream) if e["eventType"] == "reducer-log"]
    assert {"reducer": "talk", "index": 0, "level": "log", "message": "seen 0"} in lines


def test_side_effects_live_once_and_void_in_replay(server, stream):
    target = stream + "fx"
    src = f"(s = 0, e) => {{ dispatch('{target}', {{from: e.index}}); return s + 1 }}"
    for i in range(3):
        server.post(stream, str(i))                   # history: replay voids its dispatches
    assert server.request("PUT", stream + ".fx", src)[0] == 201
    assert server.json(stream + ".fx") == 3
    for i in range(2):
        server.post(stream, "live")
    assert server.json(stream + ".fx") == 5
    deadline = time.monotonic() + 5
    while server.json(target + ".length") < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    events = server.json(target + "[0:]")
    assert [e["data"] for e in events] == [{"from": 3}, {"from": 4}]


def test_dependencies_and_cycles(server, stream):
    assert server.request("PUT", stream + ".total", "(s = 0, e) => s + e.data.n")[0] == 201
    for n in (1, 2, 3):
        _post_json(server, stream, {"n": n})
    server.json(stream + ".total")
    src = "(s = [], e, i, current) => [...s, current.#total]"
    assert server.request("PUT", stream + ".history", src)[0] == 201
    assert server.json(stream + ".history") == [1, 3, 6]
    assert server.request("PUT", stream + ".total", "(s, e, i, c) => c.#history")[0] == 400
    assert server.request("PUT", stream + ".x", "(s, e, i, c) => c.#nothere")[0] == 400
    assert server.request("DELETE", stream + ".total")[0] == 409


SERVER = "pipy().listen({port}).demuxHTTP().to($=>$.serveStreamLog({{store: '{store}'}}))"


def test_restart_resumes_from_checkpoint(tmp_path):
    port = free_port()
    (tmp_path / "main.js").write_text(SERVER.format(port=port, store=tmp_path / "store"))
    d = Daemon(tmp_path).start([port])
    try:
        from .conftest import Server
        s = Server(d, {"main": port})
        body = "\r\n".join(["--b"] + [f"Content-Type: application/json\r\n\r\n{{\"n\":{i}}}\r\n--b"
                                       for i in range(3000)]) + "--\r\n"
        assert s.request("POST", "/a/big", body, {"Content-Type": "multipart/mixed; boundary=b"})[0] == 201
        n = s.json("/a/big.length")
        assert n == 3000
        assert s.request("PUT", "/a/big.sum", "(s = 0, e) => s + 1")[0] == 201
        assert s.json("/a/big.sum") == n
        d.signal(signal.SIGTERM)
        d.wait()
        d = Daemon(tmp_path).start([port])
        status, headers, body = s.get("/a/big.sum?stale=ok")
        assert status == 200 and int(headers["reducer-position"]) > 0      # resumed, not replayed
        s.post("/a/big", "one more")
        assert s.json("/a/big.sum") == n + 1
    finally:
        d.stop()


def test_sigkill_mid_catch_up_resumes_and_counts_every_event_once(tmp_path):
    """The daemon is SIGKILLed while a reducer is catching up over 60,000 events; restarted, it
    resumes from a checkpoint (not from 0) and the state counts every event exactly once."""
    port = free_port()
    (tmp_path / "main.js").write_text(SERVER.format(port=port, store=tmp_path / "store"))
    d = Daemon(tmp_path).start([port])
    try:
        from .conftest import Server
        s = Server(d, {"main": port})
        for start in range(0, 60000, 10000):
            body = "".join(f"--b\r\nContent-Type: application/json\r\n\r\n{{\"n\":{i}}}\r\n"
                           for i in range(start, start + 10000)) + "--b--\r\n"
            assert s.request("POST", "/a/many", body,
                             {"Content-Type": "multipart/mixed; boundary=b"})[0] == 201
        # slow enough (a small loop per event) that the kill lands mid catch-up
        slow = "(s = 0, e) => { let x = 0; for (let i = 0; i < 300; i++) x += i; return s + 1 }"
        assert s.request("PUT", "/a/many.count", slow)[0] == 201
        deadline = time.monotonic() + 60
        while True:
            _, headers, _ = s.get("/a/many.count?stale=ok")
            at = int(headers["reducer-position"])
            if at >= 25000 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert 25000 <= at < 60000, at      # past a checkpoint, not finished
        d.signal(signal.SIGKILL)
        d.wait()
        d = Daemon(tmp_path).start([port])
        _, headers, _ = s.get("/a/many.count?stale=ok")
        assert int(headers["reducer-position"]) >= 20000     # resumed from a checkpoint
        assert s.json("/a/many.count") == 60000
    finally:
        d.stop()


TS = {"Content-Type": "application/typescript"}


def test_typescript_reducer_with_stream_types(server, stream):
    schema = {"properties": {"greeting": {"type": "string"}}}
    assert server.request("PUT", stream + ":greeting", json.dumps(schema),
                          {"Content-Type": "application/json"})[0] in (200, 201)
    src = """{
      reduce: (state: {[g: string]: number} = {}, e: ReducerEvent<Greeting>) =>
        ({...state, [e.data.greeting]: (state[e.data.greeting] ?? 0) + 1}),
      selector: {types: ['greeting']} as const,
    }"""
    status, _, body = server.request("PUT", stream + ".byGreeting", src, TS)
    assert status == 201, body
    for g in ("Hello", "Hi", "Hello"):
        server.request("POST", stream, json.dumps({"greeting": g}),
                       {"Content-Type": "application/json", "Event-Type": "greeting"})
    assert server.json(stream + ".byGreeting") == {"Hello": 2, "Hi": 1}
    dep = "(s: number[] = [], e: ReducerEvent, i: number, current: any): number[] => " \
          "[...s, current.#byGreeting.Hello ?? 0]"
    status, _, body = server.request("PUT", stream + ".hellos", dep, TS)
    assert status == 201 and json.loads(body)["dependencies"] == ["byGreeting"], body
    assert server.json(stream + ".hellos") == [1, 1, 2]


def test_typescript_compile_error_has_positions(server, stream):
    status, _, body = server.request("PUT", stream + ".bad", "(s: number = 0, e) => {\n  s +\n", TS)
    assert status == 400
    doc = json.loads(body)
    errors = json.dumps(doc)
    assert '"line": ' in errors and '"column": ' in errors, doc
    assert server.get(stream + ".bad")[0] == 404


def _typed_stream(server, stream):
    schema = {"properties": {"name": {"type": "string"}, "count": {"type": "int32"}}}
    status, _, body = server.request("PUT", stream + ":tally", json.dumps(schema),
                                     {"Content-Type": "application/json"})
    assert status in (200, 201), body


def test_typescript_type_error_answers_400_at_its_position(server, stream):
    _typed_stream(server, stream)
    src = "(s: string = '', e: ReducerEvent<Tally>) =>\n  s + e.data.count.toUpperCase()"
    status, _, body = server.request("PUT", stream + ".bad", src, TS)
    assert status == 400, body
    errors = json.loads(body)["detail"]["errors"]
    assert [(e["line"], e["column"], e["code"]) for e in errors] == [(2, 20, 2339)], errors
    assert "toUpperCase" in errors[0]["message"] and "number" in errors[0]["message"]
    status, _, body = server.request("PUT", stream + ".bad2", "(s = 0, e) => s + nope", TS)
    assert status == 400, body
    errors = json.loads(body)["detail"]["errors"]
    assert [(e["line"], e["column"], e["code"]) for e in errors] == [(1, 19, 2304)], errors
    assert server.get(stream + ".bad")[0] == 404 and server.get(stream + ".bad2")[0] == 404


def test_typescript_typed_reducer_runs_and_untyped_data_is_any(server, stream):
    _typed_stream(server, stream)
    src = "(s: Record<string, number> = {}, e: ReducerEvent<Tally>) =>\n" \
          "  ({...s, [e.data.name.toLowerCase()]:\n" \
          "    (s[e.data.name.toLowerCase()] ?? 0) + e.data.count})"
    status, _, body = server.request("PUT", stream + ".sum", src, TS)
    assert status == 201, body
    # a reference after a `current.#name` on the same line is still placed where it was written
    bad = "(s = 0, e: ReducerEvent<Tally>, i, current) => current.#sum.a + e.data.nope"
    status, _, body = server.request("PUT", stream + ".after", bad, TS)
    assert status == 400, body
    assert json.loads(body)["detail"]["errors"][0]["column"] == bad.index("nope") + 1
    for name, n in (("A", 2), ("b", 3), ("a", 1)):
        server.request("POST", stream, json.dumps({"name": name, "count": n}),
                       {"Content-Type": "application/json", "Event-Type": "tally"})
    assert server.json(stream + ".sum") == {"a": 3, "b": 3}
    # a stream with no types: `e.data` is `any`, so anything goes (and fails at run time only)
    untyped = stream + "u"
    server.post(untyped, json.dumps({"text": "hello"}), Content_Type="application/json")
    status, _, body = server.request(
        "PUT", untyped + ".len", "(s: number = 0, e: ReducerEvent) => s + e.data.text.length", TS)
    assert status == 201, body
    assert server.json(untyped + ".len") == 5
