"""ReducerSandbox: worker processes, limits, determinism (streamlog.md §7)."""
import asyncio
import json

import pytest

from pipyd.streamlog.sandbox import (NO_EVENTS, ReducerCompileError, ReducerSandbox, SandboxDied,
                                     encode_events, safe_events)
from pipyd.streamlog.store import Event


def _ev(i, data, ctype="application/json", etype="message"):
    return Event(i, 1000 + i, etype, ctype,
                 data if type(data) is bytes else json.dumps(data).encode())


@pytest.fixture(scope="module")
def sandbox():
    sb = ReducerSandbox(workers=1, cpu_seconds=0.5, memory_bytes=256 << 20)
    yield sb
    sb.close()


def run(sb, src, events, state=None, name="r", encode=encode_events):
    return asyncio.run(sb.run("t/s", {name + "h": src}, [[name, name + "h", state, False]],
                              encode(events), stream="t/s"))


def test_fold_batch(sandbox):
    doc = run(sandbox, "(s = 0, e, i) => s + e.data.n * i", [_ev(i, {"n": 2}) for i in range(5)])
    assert doc["states"] == ["20"] and doc["errors"] == [None]


def test_object_form_with_selector_and_content_types(sandbox):
    src = "({reduce: (s = [], e) => [...s, e.data], selector: {types: ['message']}})"
    evs = [_ev(0, b"a=1&b=2", "application/x-www-form-urlencoded"), _ev(1, b"x,y\n1,2", "text/csv"),
           _ev(2, b"\xff\xfe", "application/octet-stream"), _ev(3, b"plain", "text/plain")]
    doc = run(sandbox, src, evs, name="o")
    assert json.loads(doc["states"][0]) == [{"a": "1", "b": "2"}, [["x", "y"], ["1", "2"]],
                                            "//4=", "plain"]


def test_deterministic_clock_and_random(sandbox):
    src = "(s, e) => [Date.now(), new Date().getTime(), Math.random()]"
    a = run(sandbox, src, [_ev(7, {})], name="d")
    b = run(sandbox, src, [_ev(7, {})], name="d")
    assert a["states"] == b["states"]
    now, date, rnd = json.loads(a["states"][0])
    assert now == date == 1007 and 0 <= rnd < 1


def test_no_host(sandbox):
    src = "(s, e) => [typeof require, typeof process, typeof performance, typeof std, typeof os]"
    assert json.loads(run(sandbox, src, [_ev(0, {})], name="h")["states"][0]) == ["undefined"] * 5


def test_throw_keeps_last_good_state_and_drops_its_effects(sandbox):
    src = "(s = 0, e) => { dispatch('/a/b', e.index); if (e.index == 2) throw new Error('no'); return s + 1 }"
    doc = run(sandbox, src, [_ev(i, {}) for i in range(4)], name="t")
    assert doc["states"] == ["2"] and doc["errors"][0][0] == 2 and "no" in doc["errors"][0][1]
    assert [e[0] for e in doc["effects"]] == [0, 1]


def test_state_limit(sandbox):
    doc = run(sandbox, "(s = '', e) => s + 'x'.repeat(60000)", [_ev(i, {}) for i in range(3)], name="l")
    assert doc["errors"][0][0] == 1 and "over" in doc["errors"][0][1]


def test_cpu_limit_kills_worker_which_restarts(sandbox):
    with pytest.raises(SandboxDied) as e:
        run(sandbox, "(s, e) => { for (;;) {} }", [_ev(0, {})], name="c")
    assert e.value.reason == "cpu"
    assert run(sandbox, "(s = 0) => s + 1", [_ev(0, {})], name="after")["states"] == ["1"]


def test_memory_limit(sandbox):
    doc = run(sandbox, "(s, e) => { var a = []; for (;;) a.push(new Array(1e6).fill(1)) }",
              [_ev(0, {})], name="m")
    assert doc["errors"][0] and "memory" in doc["errors"][0][1]


def test_compile_error(sandbox):
    with pytest.raises(ReducerCompileError):
        asyncio.run(sandbox.compile("t/s", "bad", "(s, e) => {"))
    with pytest.raises(ReducerCompileError):
        asyncio.run(sandbox.run("t/s", {"num": "42"}, [], NO_EVENTS, stream="t/s"))


def test_event_objects_from_columns(sandbox):
    """Indexes with gaps, several types, kinds mixed: each event object is as §7 describes."""
    evs = [_ev(3, {"a": 1}), _ev(5, b"hi", "text/plain", "note"), _ev(9, b"\xff", "x/y", "bin"),
           _ev(10, b"  ", "application/json")]
    src = "(s = [], e) => [...s, e]"
    for encode in (encode_events, safe_events):
        got = json.loads(run(sandbox, src, evs, name="cols", encode=encode)["states"][0])
        assert got == [
            {"index": 3, "timestamp": 1003, "eventType": "message",
             "contentType": "application/json", "data": {"a": 1}},
            {"index": 5, "timestamp": 1005, "eventType": "note", "contentType": "text/plain",
             "data": "hi"},
            {"index": 9, "timestamp": 1009, "eventType": "bin", "contentType": "x/y",
             "data": "/w==", "encoding": "base64"},
            {"index": 10, "timestamp": 1010, "eventType": "message",
             "contentType": "application/json", "data": "  "}]


def test_body_that_is_not_json_cannot_reach_the_call(sandbox):
    """A stored 'JSON' body that closes the data array and adds keys (it cannot come through
    HTTP, which validates JSON) garbles at most its batch: the limit and states stay ours."""
    evil = b'0]' + b'}' * 0 + b',"max":1e9,"x":[0'
    doc = run(sandbox, "(s = 0, e) => s + 1", [_ev(0, {}), _ev(1, evil), _ev(2, {})], name="inj")
    assert "fatal" in doc or doc["states"] == ["3"]
    doc = run(sandbox, "(s = [], e) => [...s, e.data]", [_ev(0, {}), _ev(1, evil)], name="inj2",
              encode=safe_events)
    assert json.loads(doc["states"][0]) == [{}, evil.decode()]


@pytest.mark.parametrize("src,want", [
    ("(s = 0) => s + 1", 3),
    ("(s = 0) => s - 1 / 0", None),             # Infinity: JSON null, then null - Infinity...
    ("(s = 0) => -0", 0),
    ("(s = 'a') => s + 'b'", "abbb"),
    ("(s, e) => e.index % 2 === 0", True),
    ("(s = {n: 0}) => ({n: s.n + 1, d: new Date(0), u: undefined})",
     {"n": 3, "d": "1970-01-01T00:00:00.000Z"}),
    ("(s) => s === undefined ? 1 : undefined", 1),
    ("({reduce: (s = 0) => s + 1, replacer: (k, v) => typeof v === 'number' ? v * 10 : v})", 1110),
])
def test_state_round_trips_as_json(sandbox, src, want):
    """§7: the state is JSON between events, whether it took the primitive fast path or not."""
    doc = run(sandbox, src, [_ev(i, {}) for i in range(3)], name="rt" + str(abs(hash(src))))
    assert doc["errors"] == [None]
    assert (None if doc["states"][0] is None else json.loads(doc["states"][0])) == want


def test_long_string_state_still_limited(sandbox):
    doc = run(sandbox, "(s = '') => s + 'é'.repeat(30000)", [_ev(i, {}) for i in range(5)],
              name="ls")
    assert doc["errors"][0][0] == 3 and "over" in doc["errors"][0][1]


def test_exported_state_is_a_copy(sandbox):
    """``current.#a`` is a's state after the same event, and mutating it changes nothing."""
    slots = [["a", "ah", None, True], ["b", "bh", None, False]]
    srcs = {"ah": "(s = {n: 0}) => ({n: s.n + 1})",
            "bh": "(s = [], e, i, c) => { c['#a'].n = 99; return [...s, c['#a'].n] }"}
    doc = asyncio.run(sandbox.run("t/x", srcs, slots, encode_events([_ev(i, {}) for i in range(3)]),
                                  stream="t/x"))
    assert json.loads(doc["states"][0]) == {"n": 3} and json.loads(doc["states"][1]) == [99] * 3


def test_large_batch_in_one_call(sandbox):
    evs = [_ev(i, {"n": 1}) for i in range(20000)]
    doc = run(sandbox, "(s = 0, e) => s + e.data.n", evs, name="big")
    assert doc["states"] == ["20000"]


def test_columnar_encoding_fast_path_and_its_exits():
    """One JSON content type and no blank body: data spliced as is, no kinds, no type numbers;
    a blank body, a second type or non-tuple event objects take the per-event path."""
    evs = [_ev(i, {"n": i}) for i in range(4)]
    enc = encode_events(evs)
    meta = json.loads(enc.meta)
    assert enc.data == b"[" + b",".join(e.data for e in evs) + b"]" and enc.count == 4
    assert meta == {"n": 4, "i0": 0, "t0": 1000, "di": None, "dt": [0, 1, 2, 3],
                    "types": [["message", "application/json"]], "ty": None, "kind": None}
    blank = encode_events(evs[:2] + [_ev(2, b"")] + [_ev(3, b" \n")])
    assert json.loads(blank.meta)["kind"] == [0, 0, 3, 3]
    assert json.loads(blank.data) == [{"n": 0}, {"n": 1}, "", " \n"]
    mixed = json.loads(encode_events([evs[0], _ev(7, b"x", "text/plain", "t"), evs[1]]).meta)
    assert (mixed["ty"], mixed["kind"], mixed["di"]) == ([0, 1, 0], [0, 1, 0], [0, 7, 1])

    class Plain:        # any object with the Event attributes encodes the same
        def __init__(self, ev):
            self.index, self.timestamp, self.eventType = ev.index, ev.timestamp, ev.eventType
            self.contentType, self.data = ev.contentType, ev.data
    other = encode_events([Plain(e) for e in evs])
    assert (other.meta, other.data) == (enc.meta, enc.data)
    safe = json.loads(safe_events(evs).meta)
    assert safe["kind"] == [3, 3, 3, 3]
