"""Reducer dependencies and checkpoint/resume (streamlog.md §7)."""
import asyncio
import json

import pytest

from pipyd.streamlog import reducer_deps, reducers
from pipyd.streamlog.http_api import Request
from pipyd.streamlog.sqlite_store import SQLiteStore
from pipyd.streamlog.store import AppendRequest, NewEvent
from pipyd.streamlog.urls import parse_stream_url


@pytest.mark.parametrize("src,names", [
    ("(s, e, i, current) => current.#a + current.#b", ["a", "b"]),
    ("(s, e, i, c) => c.#a + '.#x' + `t ${c.#b} .#y` // .#z", ["a", "b"]),
    ("(s, e, i, c) => /.#r/.test(e) ? c.#a : 0 /* .#q */", ["a"]),
    ("class K { #p = 1; get() { return this.#p } }; (s, e, i, c) => c.#a", ["a"]),
])
def test_scan(src, names):
    rewritten, found = reducer_deps.scan(src)
    assert found == names
    assert '["#a"]' in rewritten and ".#a" not in rewritten


def test_order_and_cycles():
    g = {"c": ["b"], "b": ["a"], "a": []}
    assert reducer_deps.order(g) == ["a", "b", "c"]
    assert reducer_deps.find_cycle(g) is None
    assert reducer_deps.find_cycle({"a": ["b"], "b": ["a"]}) == ["a", "b", "a"]
    assert reducer_deps.find_cycle({"a": ["a"]}) == ["a", "a"]


async def _scenario(path):
    store = SQLiteStore(str(path))
    reqs = [AppendRequest("t/s", [NewEvent(json.dumps({"n": 1}).encode(), "message",
                                           "application/json") for _ in range(1000)])
            for _ in range(60)]
    for r in reqs:
        await store.append(r)
    mgr = reducers.ReducerManager(store)
    url = parse_stream_url("/t/s.sum")
    res = await mgr.handle(Request("PUT", "/t/s.sum", {}, b"(s = 0, e) => s + e.data.n"), url)
    assert res.status == 201
    sr = mgr.streams["t/s"]
    r = sr.reducers["sum"]
    while r.position < 30000:                # stop mid catch-up, as a crash would
        await asyncio.sleep(0.01)
    sr.stop()
    mgr.sandbox.close()
    mid = r.position
    mgr2 = reducers.ReducerManager(store)
    await mgr2.ensure_loaded()
    r2 = mgr2.streams["t/s"].reducers["sum"]
    resumed = r2.position
    res = await mgr2.handle(Request("GET", "/t/s.sum", {}), url)
    mgr2.streams["t/s"].stop()
    mgr2.sandbox.close()
    await store.close()
    return mid, resumed, json.loads(res.body)


def test_restart_mid_catch_up_resumes_from_checkpoint(tmp_path):
    mid, resumed, state = asyncio.run(_scenario(tmp_path))
    assert 0 < resumed <= mid < 60000
    assert state == 60000


async def _endless_at(path, at):
    store = SQLiteStore(str(path))
    await store.append(AppendRequest("t/s", [NewEvent(b"{}", "message", "application/json")
                                             for _ in range(1200)]))
    mgr = reducers.ReducerManager(store, reducers.ReducerSandbox(workers=1, cpu_seconds=0.1))
    src = f"(s = 0, e) => {{ if (e.index === {at}) for (;;) {{}} return s + 1 }}".encode()
    await mgr.handle(Request("PUT", "/t/s.spin", {}, src), parse_stream_url("/t/s.spin"))
    res = await mgr.handle(Request("GET", "/t/s.spin", {}), parse_stream_url("/t/s.spin"))
    mgr.streams["t/s"].stop()
    mgr.sandbox.close()
    await store.close()
    return res


def test_worker_death_mid_batch_is_found_by_halving(tmp_path):
    """A batch whose worker died is halved until the event is found: the state is that of the
    events before it, the reducer stops at it."""
    res = asyncio.run(_endless_at(tmp_path, 777))
    assert json.loads(res.body) == 777 and res.headers["reducer-status"] == "stopped"
    assert res.headers["reducer-position"] == "777"
