"""One conformance suite for every stream store backend in the registry (STYLE.md).

Each test is a coroutine body run against a fresh store of each registered backend. A backend adds
its options to ``BACKEND_OPTIONS`` (JetStream: a real nats-server URL, skipped when absent).
"""
from __future__ import annotations

import asyncio

import pytest

from pipyd.streamlog.registry import backend_names, open_store
from pipyd.streamlog.store import (
    MAX_EVENT_BYTES, MAX_PAGE_EVENTS, AppendRequest, BadRequest, NewEvent, NotFound,
    PayloadTooLarge, ProducerConflict, ReplaceRequest, Selector, StoreError, StreamStore,
    TimestampConflict, stream_key,
)

BACKEND_OPTIONS = {
    "sqlite": lambda tmp_path: {"directory": str(tmp_path / "data")},
}


class Clock:
    """A settable clock so timestamp rules are tested exactly."""

    def __init__(self, t: int = 1_000) -> None:
        self.t = t

    def __call__(self) -> int:
        return self.t


@pytest.fixture(params=backend_names())
def make_store(request, tmp_path):
    if request.param not in BACKEND_OPTIONS:
        pytest.skip(f"no test options for backend {request.param}")
    options = BACKEND_OPTIONS[request.param](tmp_path)

    def make(clock=None) -> StreamStore:
        return open_store(request.param, **options, **({"clock": clock} if clock else {}))
    return make


def run(make_store, body, clock=None):
    """Open a store, run ``body(store)`` on a fresh loop, close the store."""
    async def main():
        store = make_store(clock)
        try:
            return await body(store)
        finally:
            await store.close()
    return asyncio.run(main())


async def eventually(check, timeout=5.0):
    """Notices arrive through the loop after the commit: poll rather than sleep a fixed time."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check() and loop.time() < deadline:
        await asyncio.sleep(0.005)
    assert check()


def ev(data=b"x", type="message", ts=None, ctype="text/plain") -> NewEvent:
    return NewEvent(data, type, ctype, ts)


def req(*events, stream="a/s", pid=None, seq=None) -> AppendRequest:
    return AppendRequest(stream, list(events), pid, seq)


# ------------------------------------------------------------------------------------- appends

def test_first_write_creates_the_stream(make_store):
    async def body(s):
        assert await s.info("a/s") is None
        assert await s.length("a/s") == 0
        r = await s.append(req(ev(b"hello", "greet", ctype="text/plain")))
        assert r.indexes == (0,) and not r.duplicate
        info = await s.info("a/s")
        assert (info.key, info.length, info.last_timestamp) == ("a/s", 1, r.timestamps[0])
        e = await s.get("a/s", 0)
        assert (e.index, e.eventType, e.contentType, e.data) == (0, "greet", "text/plain", b"hello")
    run(make_store, body)


def test_concurrent_appends_get_contiguous_indexes(make_store):
    async def body(s):
        results = await asyncio.gather(*(s.append(req(ev(b"%d" % i))) for i in range(200)))
        assert sorted(r.indexes[0] for r in results) == list(range(200))
        page = await s.read("a/s")
        assert [e.index for e in page.events] == list(range(200))
        by_index = {r.indexes[0]: b"%d" % i for i, r in enumerate(results)}
        assert all(e.data == by_index[e.index] for e in page.events)
        stamps = [e.timestamp for e in page.events]
        assert stamps == sorted(stamps)
    run(make_store, body)


def test_bulk_append_is_contiguous_and_ordered(make_store):
    async def body(s):
        await s.append(req(ev()))
        r = await s.append(req(ev(b"1", "a"), ev(b"2", "b"), ev(b"3", "c")))
        assert r.indexes == (1, 2, 3)
        assert [e.data for e in (await s.read("a/s", Selector(start=1))).events] == [b"1", b"2", b"3"]
    run(make_store, body)


def test_bulk_is_all_or_nothing_and_names_the_part(make_store):
    async def body(s):
        await s.append(req(ev(ts=500)))
        with pytest.raises(TimestampConflict) as ei:
            await s.append(req(ev(ts=600), ev(ts=700), ev(ts=650)))
        assert ei.value.status == 409 and ei.value.detail["part"] == 2
        with pytest.raises(PayloadTooLarge) as ei:
            await s.append(req(ev(), ev(b"x" * (MAX_EVENT_BYTES + 1))))
        assert ei.value.status == 413 and ei.value.detail["part"] == 1
        assert await s.length("a/s") == 1
    run(make_store, body)


def test_limits_on_data_and_event_type(make_store):
    async def body(s):
        assert (await s.append(req(ev(b"x" * MAX_EVENT_BYTES, "t" * 100)))).indexes == (0,)
        for bad in (ev(type=""), ev(type="t" * 101)):
            with pytest.raises(BadRequest) as ei:
                await s.append(req(bad))
            assert ei.value.status == 400
        with pytest.raises(BadRequest):
            await s.append(req())
        assert await s.length("a/s") == 1
    run(make_store, body)


# ----------------------------------------------------------------------------------- timestamps

def test_server_timestamps_follow_the_clock(make_store):
    clock = Clock(1_000)

    async def body(s):
        a = await s.append(req(ev()))
        clock.t = 2_000
        b = await s.append(req(ev(), ev()))
        assert a.timestamps == (1_000,) and b.timestamps == (2_000, 2_000)
    run(make_store, body, clock)


def test_client_timestamps_rules(make_store):
    clock = Clock(1_000)

    async def body(s):
        assert (await s.append(req(ev(ts=5_000)))).timestamps == (5_000,)   # in the future
        # un-timestamped events take the latest, never a smaller one (the seed)
        assert (await s.append(req(ev()))).timestamps == (5_000,)
        assert (await s.append(req(ev(ts=5_000)))).timestamps == (5_000,)   # equal is fine
        with pytest.raises(TimestampConflict) as ei:
            await s.append(req(ev(ts=4_999)))
        assert ei.value.detail["latest"] == 5_000
        assert ei.value.body()["detail"]["timestamp"] == 4_999
        assert await s.length("a/s") == 3
        clock.t = 6_000
        assert (await s.append(req(ev()))).timestamps == (6_000,)
    run(make_store, body, clock)


def test_clock_going_backwards_never_lowers_timestamps(make_store):
    clock = Clock(9_000)

    async def body(s):
        await s.append(req(ev()))
        clock.t = 8_000
        assert (await s.append(req(ev()))).timestamps == (9_000,)
    run(make_store, body, clock)


def test_failed_request_does_not_fail_its_neighbours(make_store):
    async def body(s):
        await s.append(req(ev(ts=100)))
        results = await asyncio.gather(
            s.append(req(ev(b"ok1"))), s.append(req(ev(ts=1))), s.append(req(ev(b"ok2"))),
            return_exceptions=True)
        assert isinstance(results[1], TimestampConflict)
        assert sorted(r.indexes[0] for r in (results[0], results[2])) == [1, 2]
    run(make_store, body)


def test_streams_are_independent(make_store):
    async def body(s):
        await s.append(req(ev(ts=900), stream="a/one"))
        assert (await s.append(req(ev(ts=10), stream="a/two"))).indexes == (0,)
        assert (await s.append(req(ev(), stream="a/one"))).indexes == (1,)
    run(make_store, body)


# ------------------------------------------------------------------------------------ producers

def test_idempotent_producer_repeat_returns_original(make_store):
    async def body(s):
        await s.append(req(ev()))
        first = await s.append(req(ev(b"a"), ev(b"b"), pid="p1", seq=0))
        again = await s.append(req(ev(b"a"), ev(b"b"), pid="p1", seq=0))
        assert first.indexes == again.indexes == (1, 2)
        assert again.timestamps == first.timestamps
        assert again.duplicate and not first.duplicate
        assert await s.length("a/s") == 3
        nxt = await s.append(req(ev(b"c"), pid="p1", seq=1))
        assert nxt.indexes == (3,)
        assert (await s.append(req(ev(b"a"), pid="p1", seq=0))).indexes == (1, 2)
    run(make_store, body)


def test_producer_gap_is_a_conflict_with_expected_seq(make_store):
    async def body(s):
        await s.append(req(ev(), pid="p", seq=5))          # the first seq starts the sequence
        with pytest.raises(ProducerConflict) as ei:
            await s.append(req(ev(), pid="p", seq=7))
        assert ei.value.status == 409 and ei.value.detail["expected"] == 6
        with pytest.raises(ProducerConflict) as ei:
            await s.append(req(ev(), pid="p", seq=3))       # before its first: never accepted
        assert ei.value.detail["expected"] == 6
        assert await s.length("a/s") == 1
        # producers are per stream and per id
        assert (await s.append(req(ev(), pid="q", seq=0))).indexes == (1,)
        assert (await s.append(req(ev(), stream="a/t", pid="p", seq=0))).indexes == (0,)
    run(make_store, body)


def test_producer_headers_go_together(make_store):
    async def body(s):
        for bad in (req(ev(), pid="p"), AppendRequest("a/s", [ev()], None, 1),
                    req(ev(), pid="p", seq=-1)):
            with pytest.raises(BadRequest):
                await s.append(bad)
    run(make_store, body)


def test_producer_repeat_in_one_group(make_store):
    async def body(s):
        rs = await asyncio.gather(*(s.append(req(ev(), pid="p", seq=0)) for _ in range(5)))
        assert {r.indexes for r in rs} == {(0,)}
        assert sum(not r.duplicate for r in rs) == 1
        assert await s.length("a/s") == 1
    run(make_store, body)


# --------------------------------------------------------------------------------------- reads

async def _fill(s, n=10, stream="a/s"):
    await s.append(AppendRequest(stream, [
        NewEvent(b"%d" % i, "even" if i % 2 == 0 else "odd", "text/plain", 1_000 + 10 * i)
        for i in range(n)]))


def test_get_by_index_and_from_the_end(make_store):
    async def body(s):
        await _fill(s)
        assert (await s.get("a/s", 3)).data == b"3"
        assert (await s.get("a/s", -1)).index == 9
        assert (await s.get("a/s", -10)).index == 0
        for bad in (10, -11):
            with pytest.raises(NotFound) as ei:
                await s.get("a/s", bad)
            assert ei.value.status == 404
        with pytest.raises(NotFound):
            await s.get("a/none", 0)
    run(make_store, body)


@pytest.mark.parametrize("selector, indexes, next_index", [
    (Selector(), list(range(10)), 10),
    (Selector(start=3, end=6), [3, 4, 5], 6),
    (Selector(start=8, end=100), [8, 9], 10),
    (Selector(start=-3), [7, 8, 9], 10),
    (Selector(end=-8), [0, 1], 2),
    (Selector(start=12), [], 10),
    (Selector(types=frozenset({"odd"})), [1, 3, 5, 7, 9], 10),
    (Selector(types=frozenset({"odd"}), start=4, end=8), [5, 7], 8),
    (Selector(types=frozenset()), [], 10),
    (Selector(since=1_030), [3, 4, 5, 6, 7, 8, 9], 10),
    (Selector(since=1_031, until=1_060), [4, 5], 6),
    (Selector(until=1_000), [], 0),
    (Selector(since=5_000), [], 10),
])
def test_read_selectors(make_store, selector, indexes, next_index):
    async def body(s):
        await _fill(s)
        page = await s.read("a/s", selector)
        assert [e.index for e in page.events] == indexes
        assert (page.next_index, page.length) == (next_index, 10)
        assert all(selector.resolve(10).matches(e) for e in page.events)
    run(make_store, body)


def test_read_pages_by_limit_and_bytes(make_store):
    async def body(s):
        await _fill(s)
        page = await s.read("a/s", limit=4)
        assert [e.index for e in page.events] == [0, 1, 2, 3] and page.next_index == 4
        page = await s.read("a/s", Selector(types=frozenset({"odd"})), limit=2)
        assert [e.index for e in page.events] == [1, 3] and page.next_index == 4
        page = await s.read("a/s", max_bytes=3)
        assert [e.index for e in page.events] == [0, 1, 2] and page.next_index == 3
        page = await s.read("a/s", max_bytes=0)     # at least one event
        assert [e.index for e in page.events] == [0]
        assert await s.read("a/none") == type(page)((), 0, 0)
    run(make_store, body)


def test_read_page_limit_is_capped(make_store):
    async def body(s):
        await s.append(req(*(ev() for _ in range(MAX_PAGE_EVENTS + 5))))
        page = await s.read("a/s", limit=10 ** 6)
        assert len(page.events) == MAX_PAGE_EVENTS and page.next_index == MAX_PAGE_EVENTS
        page = await s.read("a/s", Selector(start=page.next_index))
        assert len(page.events) == 5 and page.next_index == MAX_PAGE_EVENTS + 5
    run(make_store, body)


def test_read_range_is_read_without_the_page_cap(make_store):
    async def body(s):
        await s.append(req(*(NewEvent(b"%d" % i, "t%d" % (i % 3)) for i in range(MAX_PAGE_EVENTS
                                                                                 + 500))))
        n = MAX_PAGE_EVENTS + 500
        page = await s.read_range("a/s", 0, n, limit=n + 10)
        assert [e.index for e in page.events] == list(range(n))
        assert (page.next_index, page.length) == (n, n)
        assert [e.data for e in page.events[:3]] == [b"0", b"1", b"2"]
        assert page.events[4] == await s.get("a/s", 4)
        page = await s.read_range("a/s", 10, 20, limit=5)
        assert [e.index for e in page.events] == [10, 11, 12, 13, 14] and page.next_index == 15
        page = await s.read_range("a/s", n - 2, n + 50, limit=100)
        assert [e.index for e in page.events] == [n - 2, n - 1] and page.next_index == n
        for start, end in ((n, n + 5), (n + 3, n + 9), (7, 7)):     # as read answers them
            assert await s.read_range("a/s", start, end, limit=9) == await s.read(
                "a/s", Selector(None, start, end))
        assert await s.read_range("a/none", 0, 5, limit=9) == await s.read("a/none")
    run(make_store, body)


def test_read_range_stops_by_bytes_like_read(make_store):
    async def body(s):
        sizes = [5, 7, 3, 100, 1, 1, 1] + [2] * 3000
        await s.append(req(*(ev(b"x" * k) for k in sizes)))
        for start, budget in ((0, 14), (0, 15), (0, 16), (0, 0), (3, 50), (3, 100), (4, 5000),
                              (0, 10 ** 9)):
            got = await s.read_range("a/s", start, len(sizes), limit=10 ** 6, max_bytes=budget)
            want, used, i = [], 0, start            # read's rule: stop before going over
            while i < len(sizes) and (not want or used + sizes[i] <= budget):
                want.append(i)
                used += sizes[i]
                i += 1
            assert [e.index for e in got.events] == want, (start, budget)
            assert got.next_index == want[-1] + 1 and got.length == len(sizes)
    run(make_store, body)


async def _default_read_range(store, *args, **kw):
    """The interface's own ``read_range`` (paging through ``read``) run against this backend."""
    return await StreamStore.read_range(store, *args, **kw)


def test_default_read_range_matches_the_backend(make_store):
    async def body(s):
        sizes = [5, 7, 3, 100, 1] + [2] * (MAX_PAGE_EVENTS + 20)
        await s.append(req(*(ev(b"x" * k) for k in sizes)))
        n = len(sizes)
        for start, end, limit, budget in ((0, n, 10 ** 6, 10 ** 9), (0, n, 10 ** 6, 15),
                                          (3, n, 10 ** 6, 50), (2, 900, 3000, 10 ** 9),
                                          (5, n, MAX_PAGE_EVENTS + 7, 10 ** 9), (n, n + 3, 5, 9),
                                          (4, 4, 5, 9), (0, n, 10 ** 6, 1800)):
            assert await _default_read_range(s, "a/s", start, end, limit=limit,
                                             max_bytes=budget) == \
                await s.read_range("a/s", start, end, limit=limit, max_bytes=budget), \
                (start, end, limit, budget)
        assert await _default_read_range(s, "a/none", 0, 5, limit=9) == \
            await s.read_range("a/none", 0, 5, limit=9)
    run(make_store, body)


def test_list_streams_by_prefix(make_store):
    async def body(s):
        for key in ("a/x", "a/y", "ab/z", stream_key("a", "f", '"q"')):
            await s.append(req(ev(), stream=key))
        assert [i.key for i in await s.list_streams("a/")] == ['a/f("q")', "a/x", "a/y"]
        assert len(await s.list_streams()) == 4
        assert all(i.length == 1 for i in await s.list_streams())
    run(make_store, body)


# ------------------------------------------------------------------------------- notifications

def test_subscribers_hear_once_per_commit(make_store):
    async def body(s):
        got, other = [], []
        sub = s.subscribe("a/s", got.append)
        s.subscribe("a/t", other.append)
        await s.append(req(ev(type="a"), ev(type="b")))
        await eventually(lambda: got)
        await asyncio.sleep(0.05)
        assert [(n.length, n.last_index, n.last_type) for n in got] == [(2, 1, "b")]
        assert other == []
        sub.close()
        sub.close()
        await s.append(req(ev()))
        await asyncio.sleep(0.05)
        assert len(got) == 1
    run(make_store, body)


def test_failed_appends_do_not_notify(make_store):
    async def body(s):
        await s.append(req(ev(ts=10)))
        got = []
        s.subscribe("a/s", got.append)
        with pytest.raises(StoreError):
            await s.append(req(ev(ts=1)))
        await s.append(req(ev(), pid="p", seq=0))
        await s.append(req(ev(), pid="p", seq=0))   # duplicate: nothing grew
        await eventually(lambda: got)
        await asyncio.sleep(0.05)
        assert [n.length for n in got] == [2]
    run(make_store, body)


def test_a_raising_subscriber_does_not_stop_others(make_store):
    async def body(s):
        got = []

        def bad(notice):
            raise RuntimeError("consumer bug")
        s.subscribe("a/s", bad)
        s.subscribe("a/s", got.append)
        await s.append(req(ev()))
        await eventually(lambda: len(got) == 1)
    run(make_store, body)


def test_wait_for(make_store):
    async def body(s):
        assert await s.wait_for("a/s", 0, 0.05) is False
        waiter = asyncio.ensure_future(s.wait_for("a/s", 1, 5))
        await asyncio.sleep(0.01)
        await s.append(req(ev()))
        await asyncio.sleep(0.05)
        assert not waiter.done()
        await s.append(req(ev()))
        assert await waiter is True
        assert await s.wait_for("a/s", 0, 0) is True       # already there
    run(make_store, body)


# ------------------------------------------------------------------------------------ reopening

def test_reopen_keeps_events_and_producer_state(make_store):
    async def write(s):
        await s.append(req(ev(b"a", ts=50), pid="p", seq=0))
        await s.append(req(ev(b"b"), ev(b"c")))

    async def check(s):
        assert [e.data for e in (await s.read("a/s")).events] == [b"a", b"b", b"c"]
        assert (await s.append(req(ev(b"a"), pid="p", seq=0))).duplicate
        with pytest.raises(ProducerConflict):
            await s.append(req(ev(), pid="p", seq=2))
        with pytest.raises(TimestampConflict):
            await s.append(req(ev(ts=49)))
        assert (await s.append(req(ev(b"d")))).indexes == (3,)
    run(make_store, write)
    run(make_store, check)


# ------------------------------------------------------------------------ replace (splice, §12)

def test_replace_restarts_indexes_and_keeps_own_timestamps(make_store):
    clock = Clock(5_000)

    async def body(s):
        await _fill(s, 5)
        created = (await s.info("a/s")).created
        n = await s.replace(ReplaceRequest("a/s", [ev(b"p", "x", ts=100), ev(b"q", "y", ts=100),
                                                   ev(b"r", "z")]))
        assert n == 3 and await s.length("a/s") == 3
        got = (await s.read("a/s")).events
        assert [(e.index, e.data, e.eventType, e.timestamp) for e in got] == [
            (0, b"p", "x", 100), (1, b"q", "y", 100), (2, b"r", "z", 5_000)]
        info = await s.info("a/s")
        assert info.last_timestamp == 5_000 and info.created == created
        assert (await s.append(req(ev(b"after")))).indexes == (3,)
        with pytest.raises(NotFound):
            await s.get("a/s", 4)
    run(make_store, body, clock)


def test_replace_with_nothing_empties_the_stream(make_store):
    async def body(s):
        await _fill(s, 3)
        assert await s.replace(ReplaceRequest("a/s", [])) == 0
        assert await s.length("a/s") == 0 and (await s.read("a/s")).events == ()
        assert await s.info("a/s") is not None          # it still exists (settings are kept)
        assert (await s.append(req(ev()))).indexes == (0,)
    run(make_store, body)


def test_replace_refusals_change_nothing(make_store):
    async def body(s):
        await _fill(s, 2)
        with pytest.raises(TimestampConflict):
            await s.replace(ReplaceRequest("a/s", [ev(ts=10), ev(ts=9)]))
        with pytest.raises(PayloadTooLarge):
            await s.replace(ReplaceRequest("a/s", [ev(b"x" * (MAX_EVENT_BYTES + 1))]))
        assert await s.length("a/s") == 2
    run(make_store, body)


def test_replace_is_ordered_with_appends_and_notifies(make_store):
    async def body(s):
        await _fill(s, 4)
        got = []
        s.subscribe("a/s", got.append)
        before = asyncio.ensure_future(s.append(req(ev(b"before"))))
        await asyncio.sleep(0)
        swap = asyncio.ensure_future(s.replace(ReplaceRequest("a/s", [ev(b"new")])))
        await asyncio.sleep(0)
        after = asyncio.ensure_future(s.append(req(ev(b"after"))))
        await asyncio.gather(before, swap, after)
        assert [e.data for e in (await s.read("a/s")).events] == [b"new", b"after"]
        await eventually(lambda: got and got[-1].length == 2)
        assert min(n.length for n in got) <= 2      # a notice told of the shorter stream
    run(make_store, body)


def test_replace_keeps_producer_sequences(make_store):
    async def body(s):
        await s.append(req(ev(b"a"), pid="p", seq=0))
        await s.replace(ReplaceRequest("a/s", [ev(b"n")]))
        assert (await s.append(req(ev(b"a"), pid="p", seq=0))).duplicate   # a retry: dropped
        assert (await s.append(req(ev(b"b"), pid="p", seq=1))).indexes == (1,)
    run(make_store, body)


def test_replace_survives_reopen_and_readers_never_mix(make_store):
    async def write(s):
        await _fill(s, 300)
        stop = False
        seen = set()

        async def reader():
            while not stop:
                page = await s.read("a/s", limit=1000)
                kinds = frozenset(e.data[:1] == b"z" for e in page.events)
                seen.add((page.length, kinds))
                await asyncio.sleep(0)
        task = asyncio.ensure_future(reader())
        await s.replace(ReplaceRequest("a/s", [ev(b"z%d" % i) for i in range(50)]))
        await asyncio.sleep(0.01)
        stop = True
        await task
        assert all((n, k) in ((300, frozenset({False})), (50, frozenset({True})))
                   for n, k in seen)

    async def check(s):
        assert await s.length("a/s") == 50
        assert (await s.get("a/s", -1)).data == b"z49"
    run(make_store, write)
    run(make_store, check)


def test_error_bodies_carry_status_and_detail():
    e = ProducerConflict("gap", {"expected": 3})
    assert (e.status, e.body()) == (409, {"error": "gap", "detail": {"expected": 3}})
    assert PayloadTooLarge("big").status == 413 and NotFound("x").status == 404
    with pytest.raises(BadRequest):
        stream_key("a", "this")
    with pytest.raises(BadRequest):
        stream_key("a b", "s")
