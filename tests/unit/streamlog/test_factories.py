"""§8 ``?substreams=all``: the cursor token and the merged read (sse.py) on a real store."""
from __future__ import annotations

import asyncio

import pytest

from pipyd.streamlog.registry import open_store
from pipyd.streamlog.sse import decode_cursor, encode_cursor, merged_read, substream_sources
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
