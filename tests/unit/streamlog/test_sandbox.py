"""ReducerSandbox: worker processes, limits, determinism (streamlog.md §7)."""
import asyncio
import json

import pytest

from pipyd.streamlog.sandbox import (ReducerCompileError, ReducerSandbox, SandboxDied,
                                     encode_events)
from pipyd.streamlog.store import Event


def _ev(i, data, ctype="application/json"):
    return Event(i, 1000 + i, "message", ctype, data if type(data) is bytes else json.dumps(data).encode())


@pytest.fixture(scope="module")
def sandbox():
    sb = ReducerSandbox(workers=1, cpu_seconds=0.5, memory_bytes=256 << 20)
    yield sb
    sb.close()


def run(sb, src, events, state=None, name="r"):
    return asyncio.run(sb.run("t/s", {name + "h": src}, [[name, name + "h", state, False]],
                              encode_events(events), stream="t/s"))


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
        asyncio.run(sandbox.run("t/s", {"bad": "(s, e) => {"}, [], b"[]", stream="t/s"))
    with pytest.raises(ReducerCompileError):
        asyncio.run(sandbox.run("t/s", {"num": "42"}, [], b"[]", stream="t/s"))
