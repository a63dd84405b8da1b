"""Pipes in process (streamlog.md §10): history, order, exactly-once across a lost cursor, loops."""
from __future__ import annotations

import asyncio
import json

import pytest

from pipyd.streamlog.http_api import Request, StreamLogAPI
from pipyd.streamlog.pipes import PipeManager, pipes_for
from pipyd.streamlog.registry import open_store
from pipyd.streamlog.store import AppendRequest, NewEvent

from . import run_fresh


run = run_fresh


async def call(api, method, path, body=b"", **headers):
    res = await api.handle(Request(method, path, {k.replace("_", "-"): v for k, v in headers.items()},
                                   body if type(body) is bytes else json.dumps(body).encode()))
    return res.status, json.loads(res.body) if res.body else None


async def settle(store, key, n, timeout=3.0):
    for _ in range(int(timeout / 0.01)):
        if await store.length(key) >= n:
            return
        await asyncio.sleep(0.01)


async def datas(store, key):
    page = await store.read(key)
    return [(e.data.decode(), e.eventType, e.contentType) for e in page.events]


def test_history_order_types_and_timestamps(tmp_path):
    async def main():
        store = open_store("sqlite", directory=str(tmp_path))
        api = StreamLogAPI(store)
        for i in range(5):
            await call(api, "POST", "/a/src", f"e{i}".encode(), event_type="odd" if i % 2 else "even",
                       content_type="text/plain")
        await store.append(AppendRequest("a/dst", [NewEvent(b"first", timestamp=10 ** 13)]))
        st, body = await call(api, "PUT", "/a/src/pipe/a/dst", {"from": 1, "types": ["odd"]})
        assert st == 201 and body["selector"] == {"from": 1, "types": ["odd"]}
        await settle(store, "a/dst", 3)
        await call(api, "POST", "/a/src", b"e5", event_type="odd")
        await settle(store, "a/dst", 4)
        assert await datas(store, "a/dst") == [
            ("first", "message", "application/octet-stream"), ("e1", "odd", "text/plain"),
            ("e3", "odd", "text/plain"), ("e5", "odd", "application/octet-stream")]
        page = await store.read("a/dst")
        assert all(e.timestamp >= 10 ** 13 for e in page.events)   # never below the latest
        st, _ = await call(api, "PUT", "/a/src/pipe/a/dst", {"from": 1, "types": ["odd"]})
        assert st == 200
        assert (await call(api, "DELETE", "/a/src/pipe/a/dst"))[0] == 204
        assert (await call(api, "DELETE", "/a/src/pipe/a/dst"))[0] == 404
        await store.close()
    run(main())


def test_exactly_once_after_a_lost_cursor(tmp_path):
    """The copier died after appending a batch but before recording its cursor: a new manager
    re-sends the batch, the store answers it as a duplicate, nothing is copied twice."""
    async def main():
        store = open_store("sqlite", directory=str(tmp_path))
        api = StreamLogAPI(store)
        for i in range(3):
            await call(api, "POST", "/a/o", f"{i}".encode())
        await call(api, "PUT", "/a/o/pipe/a/d", {"from": 0})
        await settle(store, "a/d", 3)
        mgr = pipes_for(store)
        pipe = next(iter(mgr.pipes.values()))
        for c in list(mgr.running.values()):
            c.stop()
        # replay the meta stream without its last cursor record
        meta = await store.read("a/o/pipes")
        fresh = PipeManager(store)
        fresh.loaded = True
        for ev in meta.events:
            d = json.loads(ev.data)
            if ev.eventType == "put":
                from pipyd.streamlog.pipes import Pipe
                fresh.pipes[("a/o", "a/d")] = Pipe("a/o", "a/d", d["originPath"], d["destPath"],
                                                   d["selector"], d["gen"], d["factory"])
        fresh.cursors[("a/o", "a/d", "a/o")] = (0, 0)
        await fresh._start(pipe, None)
        await store.append(AppendRequest("a/o", [NewEvent(b"3")]))
        await settle(store, "a/d", 4)
        await asyncio.sleep(0.1)
        assert [d for d, _, _ in await datas(store, "a/d")] == ["0", "1", "2", "3"]
        for c in list(fresh.running.values()):
            c.stop()
        await store.close()
    run(main())


def test_loops_are_refused(tmp_path):
    async def main():
        store = open_store("sqlite", directory=str(tmp_path))
        api = StreamLogAPI(store)
        assert (await call(api, "PUT", "/a/x/pipe/a/x"))[0] == 400
        assert (await call(api, "PUT", "/a/x/pipe/a/y"))[0] == 201
        assert (await call(api, "PUT", "/a/y/pipe/a/z"))[0] == 201
        st, body = await call(api, "PUT", "/a/z/pipe/a/x")
        assert st == 400 and "loop" in body["error"]
        # a factory's pipes count for every substream
        assert (await call(api, "PUT", "/a/f", {"factory": True}))[0] == 201
        assert (await call(api, "PUT", "/a/f/pipe/a/w"))[0] == 201
        assert (await call(api, "PUT", "/a/w/pipe/a/f('k')"))[0] == 400
        assert (await call(api, "PUT", "/a/w/pipe/a/f"))[0] == 400     # not into a factory
        for c in list(pipes_for(store).running.values()):
            c.stop()
        await store.close()
    run(main())


@pytest.mark.parametrize("body", [{"from": -1}, {"types": "x"}, {"nope": 1}, [1],
                                  {"substreams": ["'a'"]}])
def test_bad_selectors(tmp_path, body):
    async def main():
        store = open_store("sqlite", directory=str(tmp_path))
        api = StreamLogAPI(store)
        assert (await call(api, "PUT", "/a/s/pipe/a/t", body))[0] == 400
        await store.close()
    run(main())


def test_account_substream_grant(tmp_path):
    """§8: /eric/ev(bob) is writable with bob's key when the factory grants it."""
    async def main():
        store = open_store("sqlite", directory=str(tmp_path))
        api = StreamLogAPI(store, {"apiKeys": {"eric": ["ke"], "bob": ["kb"]}})
        assert (await call(api, "PUT", "/eric/ev", {"factory": True}))[0] == 401
        assert (await call(api, "PUT", "/eric/ev", {"factory": True, "accountSubstreams": "write"},
                           authorization="Bearer ke"))[0] == 201
        assert (await call(api, "POST", "/eric/ev(bob)", b"x", authorization="Bearer kb"))[0] == 201
        assert (await call(api, "POST", "/eric/ev(carl)", b"x", authorization="Bearer kb"))[0] == 403
        assert (await call(api, "POST", "/eric/ev('bob')", b"x", authorization="Bearer kb"))[0] == 403
        await store.close()
    run(main())
