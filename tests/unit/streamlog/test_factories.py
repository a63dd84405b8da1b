"""§8 ``?substreams=all``: the cursor token and the merged read (sse.py) on a real store."""
from __future__ import annotations

import asyncio
import json

import pytest

from pipyd.streamlog.registry import open_store

from . import run_fresh
from pipyd.streamlog.sse import (SSESink, decode_cursor, encode_cursor, merged_read,
                                 substream_sources)
from pipyd.streamlog.store import AppendRequest, BadRequest, NewEvent, Selector


def test_cursor_round_trip_names_only_moved_substreams():
    token = encode_cursor({'"a"': 3, "bob": 0, "1": 12})
    assert "=" not in token and "\n" not in token
    assert decode_cursor(token) == {'"a"': 3, "1": 12}
    assert decode_cursor(encode_cursor({})) == {}


@pytest.mark.parametrize("bad", ["!!", "bm90IGpzb24", encode_cursor({}).replace("e", "W"),
                                 "WzFd", "eyJhIjotMX0"])
def test_bad_cursor_is_400(bad):
    with pytest.raises(BadRequest):
        decode_cursor(bad)


async def _fill(store, base, rows):
    for arg, ts in rows:
        await store.append(AppendRequest(f"{base}({arg})", [NewEvent(str(ts).encode(),
                                                                     timestamp=ts)]))


def test_merged_order_limit_and_new_substreams(tmp_path):
    async def main():
        store = open_store("sqlite", directory=str(tmp_path))
        try:
            await _fill(store, "t/f", [('"b"', 10), ('"a"', 10), ('"a"', 20), ('"b"', 15)])
            sources = await substream_sources(store, "t/f")
            assert [s[1] for s in sources] == ['"a"', '"b"']
            got, pos = await merged_read(store, sources, {}, Selector(), 3)
            # by (timestamp, argument, index)
            assert [(a, e.timestamp) for a, e in got] == [('"a"', 10), ('"b"', 10), ('"b"', 15)]
            assert pos == {'"a"': 1, '"b"': 2}
            await _fill(store, "t/f", [('"c"', 5)])        # new: read whole, even if older
            sources = await substream_sources(store, "t/f")
            got, pos = await merged_read(store, sources, decode_cursor(encode_cursor(pos)),
                                         Selector(), 10)
            assert [(a, e.timestamp) for a, e in got] == [('"c"', 5), ('"a"', 20)]
            got, pos2 = await merged_read(store, sources, pos, Selector(), 10)
            assert got == [] and pos2 == pos
        finally:
            await store.close()
    asyncio.run(main())


def test_types_filter_advances_past_skipped_events(tmp_path):
    async def main():
        store = open_store("sqlite", directory=str(tmp_path))
        try:
            for t in ("x", "y", "y"):
                await store.append(AppendRequest('t/f("a")', [NewEvent(b"1", t)]))
            sources = await substream_sources(store, "t/f")
            got, pos = await merged_read(store, sources, {}, Selector(frozenset({"x"})), 10)
            assert [e.index for _, e in got] == [0] and pos == {'"a"': 3}
        finally:
            await store.close()
    asyncio.run(main())


# ----------------------------------------------------- one signal per new stream (factories.py)

_run = run_fresh


class _Follower:
    def __init__(self):
        self.added = []

    def add(self, key):
        self.added.append(key)


def test_appended_signals_each_new_substream_once(tmp_path):
    from pipyd.streamlog.factories import appended
    from pipyd.streamlog.sse import follow_substreams

    async def main():
        store = open_store("sqlite", directory=str(tmp_path))
        f = _Follower()
        stop = follow_substreams(store, "t/f", f)
        try:
            for key in ('t/f("a")', 't/f("a")', 't/f("a")/logs', "t/f/config", "t/f", 't/f("b")'):
                res = await store.append(AppendRequest(key, [NewEvent(b"x")], "p:" + key, 0))
                await appended(store, key, res)
            res = await store.append(AppendRequest('t/f("b")', [NewEvent(b"x")], 'p:t/f("b")', 0))
            assert res.duplicate
            await appended(store, 't/f("b")', res)          # a producer repeat: no news
            assert f.added == ['t/f("a")', 't/f("b")']
            page = await store.read("pipet/events(t)", Selector())
            assert [json.loads(e.data)["stream"] for e in page.events] == \
                ['/t/f("a")', "/t/f", '/t/f("b")']         # §11: meta and log streams are not
            stop()
            res = await store.append(AppendRequest('t/f("c")', [NewEvent(b"x")]))
            await appended(store, 't/f("c")', res)
            assert f.added == ['t/f("a")', 't/f("b")']     # unfollowed
        finally:
            await store.close()
    _run(main())


# ------------------------------------------------------------------- sse.resync (splice, §12)

class _Sink(SSESink):
    def __init__(self):
        self.out, self.ended = b"", False

    def write(self, b):
        self.out += b

    def end(self):
        self.ended = True


def test_resync_reaches_substreams_consumers_following_the_key(tmp_path):
    from pipyd.streamlog.sse import SubstreamsConsumer, resync

    async def main():
        store = open_store("sqlite", directory=str(tmp_path))
        try:
            await _fill(store, "t/f", [('"a"', 1), ('"b"', 2)])
            sinks = [_Sink(), _Sink()]
            cs = [SubstreamsConsumer(store, base, Selector(), True, {}, sink, 0)
                  for base, sink in zip(("t/f", "t/g"), sinks)]
            for c in cs:
                await c.start()
            await asyncio.sleep(0.05)
            resync(store, 't/f("a")', 5)
            assert sinks[0].ended and cs[0].closed and not sinks[1].ended
            block = sinks[0].out.decode().split("\n\n")[-2]
            fields = dict(line.split(": ", 1) for line in block.split("\n"))
            assert fields["event"] == "resync"
            assert decode_cursor(fields["id"]) == {'"a"': 5, '"b"': 1}
            assert json.loads(fields["data"]) == {"reason": "splice", "length": 5,
                                                  "substream": '"a"'}
            cs[1].close()
        finally:
            await store.close()
    _run(main())


def test_factory_logs_copy_errors_of_inherited_reducers(tmp_path):
    from pipyd.streamlog.reducers import ReducerManager, _log_event

    async def main():
        store = open_store("sqlite", directory=str(tmp_path))
        try:
            mgr = ReducerManager(store)
            mgr.inherited['t/f("a")'] = {"shared": 0}
            await mgr.factory_logs('t/f("a")', [
                _log_event("reducer-error", {"reducer": "shared", "index": 3, "error": "no"}),
                _log_event("reducer-error", {"reducer": "own", "index": 3, "error": "no"}),
                _log_event("reducer-log", {"reducer": "shared", "index": 3, "level": "log",
                                           "message": "hi"})])
            page = await store.read("t/f/logs", Selector())
            assert [(e.eventType, json.loads(e.data)) for e in page.events] == [
                ("reducer-error", {"substream": '"a"', "reducer": "shared", "index": 3,
                                   "error": "no"})]
            await mgr.factory_logs("t/plain", [_log_event("reducer-error", {"reducer": "x"})])
            assert await store.length("t/plain/logs") == 0
        finally:
            await store.close()
    _run(main())
