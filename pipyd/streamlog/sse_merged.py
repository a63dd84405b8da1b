"""``?substreams=all``: one merged read and one cursor across a factory's substreams
(streamlog.md §8), as pages (http_read.py) and as server-sent events (``SubstreamsConsumer``).

Separate from sse.py because it is its own subscription model: a cursor per substream encoded
as one token, followers told of substreams created later (``follow_substreams``,
``substream_created``), and a consumer that merges by timestamp instead of following one
stream's index; it shares only the message codec (sse_frames.py) with the per-stream consumers.
"""
from __future__ import annotations

import asyncio
import json
from typing import Any, Callable

from .sse_frames import consumer_failed, COMMENT_HEARTBEAT, HEARTBEAT, PAGE_EVENTS, SSESink, frame
from .store import Event, Page, Selector, StreamStore


# -------------------------------------------------------------------- §8 ?substreams=all
# Reading a factory across its substreams (pages in http_read.py, SSE below) shares one merge
# and one cursor. Order: by (timestamp, substream argument, index) among the events available
# at the time of the read; a substream's own events keep their index order since its
# timestamps never decrease (§2). The cursor is the next index of every substream, encoded as
# ``base64url(JSON {argument: next index})``; a substream absent from it starts at 0, so one
# created after the cursor was issued is read whole, and the encoding names only substreams
# at a position > 0. It is what ``Stream-Next-Cursor`` returns and ``?cursor=`` takes back,
# and each SSE event's ``id`` (so ``Last-Event-ID`` resumes exactly). Its size grows with the
# number of substreams that have been read past their start.

def encode_cursor(positions: dict[str, int]) -> str:
    import base64
    doc = json.dumps({a: p for a, p in positions.items() if p > 0}, separators=(",", ":"),
                     sort_keys=True)
    return base64.urlsafe_b64encode(doc.encode()).decode("ascii").rstrip("=")


def decode_cursor(token: str) -> dict[str, int]:
    """BadRequest unless ``token`` is a cursor from ``encode_cursor``."""
    import base64
    from .store import BadRequest
    try:
        t = token.strip()
        doc = json.loads(base64.urlsafe_b64decode(t + "=" * (-len(t) % 4)))
    except ValueError:
        doc = None
    if type(doc) is not dict or not all(type(p) is int and p >= 0 for p in doc.values()):
        raise BadRequest("not a substreams cursor (use Stream-Next-Cursor or an event id)",
                         {"cursor": token})
    return doc


async def substream_sources(store: StreamStore, base: str, logs: bool = False) -> list:
    """(key, argument, length) of each substream of ``base`` (of its /logs when ``logs``)."""
    tail = ")/logs" if logs else ")"
    return [(i.key, i.key[len(base) + 1:-len(tail)], i.length)
            for i in await store.list_streams(base + "(") if i.key.endswith(tail)]


async def merged_read(store: StreamStore, sources: list, positions: dict[str, int],
                      selector: Selector, limit: int) -> tuple[list, dict[str, int]]:
    """Up to ``limit`` events of ``sources`` from ``positions`` (and ``selector.start``) in the
    merged order, as (argument, event), and the positions after them. A substream whose page
    was cut short bounds what may be taken from the others (its unread events sort later)."""
    found: list = []
    pages: dict[str, tuple[Page, int]] = {}
    cutoff = None
    for key, arg, length in sources:
        sel = selector.resolve(length)
        start = max(positions.get(arg, 0), sel.start or 0)
        page = await store.read(key, Selector(sel.types, start, sel.end, sel.since, sel.until),
                                limit=limit)
        pages[arg] = (page, start)
        for ev in page.events:
            found.append((ev.timestamp, arg, ev.index, ev))
        if page.events and page.next_index < page.length \
                and (sel.end is None or page.next_index < sel.end):
            last = page.events[-1]
            k = (last.timestamp, arg, last.index)
            cutoff = k if cutoff is None or k < cutoff else cutoff
    found.sort(key=lambda t: t[:3])
    out = [(arg, ev) for ts, arg, i, ev in found[:limit]
           if cutoff is None or (ts, arg, i) <= cutoff]
    taken: dict[str, int] = {}
    for arg, ev in out:
        taken[arg] = taken.get(arg, 0) + 1
    after = dict(positions)
    for arg, (page, start) in pages.items():
        n = taken.get(arg, 0)
        if n == len(page.events):
            after[arg] = max(start, page.next_index)
        elif n:
            after[arg] = page.events[n - 1].index + 1
        else:
            after[arg] = start
    return out, after


# Who follows every substream of a base in this worker: ``?substreams=all`` SSE consumers and
# long-polls (http_read.py), each an object with ``add(substream key)``.
_SUBSTREAM_CONSUMERS: dict[tuple, set] = {}


def follow_substreams(store: StreamStore, base: str, follower: Any) -> Callable[[], None]:
    """Tell ``follower.add(key)`` of each substream of ``base`` created from now on; returns the
    function that stops it."""
    k = (id(store), base)
    _SUBSTREAM_CONSUMERS.setdefault(k, set()).add(follower)

    def stop() -> None:
        followers = _SUBSTREAM_CONSUMERS.get(k)
        if followers is not None:
            followers.discard(follower)
            if not followers:
                del _SUBSTREAM_CONSUMERS[k]
    return stop


def substream_created(store: StreamStore, base: str, key: str) -> None:
    """A new substream (factories.stream_created, whoever wrote it): its followers read it."""
    for c in tuple(_SUBSTREAM_CONSUMERS.get((id(store), base), ())):
        c.add(key)


class SubstreamsConsumer:
    """One ``?substreams=all`` SSE connection: a cursor per substream of ``base``, including
    those created after it opened (told by ``substream_created``, and found again on every
    heartbeat for writes made by other workers). Events go out in the merged order; each
    frame's ``id`` is the cursor after it. ``data`` is JSON naming the substream: a
    notification ``{"substream", "index", "eventType"}`` (coalesced per substream) or, with
    ``?include=data``, the event object of a read plus ``substream``. Delivery reads from the
    store at the cursors and stops while the connection is congested, so memory stays bounded.
    """

    def __init__(self, store: StreamStore, base: str, selector: Selector, data_mode: bool,
                 positions: dict[str, int] | None, sink: SSESink, heartbeat: float = HEARTBEAT,
                 logs: bool = False) -> None:
        self.store, self.base, self.selector, self.data_mode = store, base, selector, data_mode
        self.positions = positions      # None: new events only (each substream's length)
        self.sink, self.heartbeat, self.logs = sink, heartbeat, logs
        self.sources: dict[str, tuple[str, str]] = {}    # key → (key, argument)
        self.subs: list = []
        self.wake = asyncio.Event()
        self.closed = False
        self.task: asyncio.Task | None = None
        self.unwatch: Callable[[], None] | None = None
        self.unfollow: Callable[[], None] | None = None

    async def start(self) -> None:
        self.unfollow = follow_substreams(self.store, self.base, self)
        self.unwatch = self.sink.watch(lambda congested: congested or self.wake.set())
        first = self.positions is None
        self.positions = self.positions or {}
        for key, arg, length in await substream_sources(self.store, self.base, self.logs):
            if first:
                self.positions[arg] = length
            self._follow(key, arg)
        if not self.closed:
            self.task = asyncio.get_running_loop().create_task(self._run())

    def add(self, key: str) -> None:
        if self.logs:
            key += "/logs"
        if key not in self.sources and not self.closed:
            tail = 6 if self.logs else 1
            self._follow(key, key[len(self.base) + 1:-tail])

    def _follow(self, key: str, arg: str) -> None:
        self.sources[key] = (key, arg)
        self.subs.append(self.store.subscribe(key, lambda notice: self.wake.set()))
        self.wake.set()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.unfollow is not None:
            self.unfollow()
        for s in self.subs:
            s.close()
        if self.unwatch is not None:
            self.unwatch()
        if self.task is not None and self.task is not asyncio.current_task():
            self.task.cancel()

    def resync(self, key: str, length: int, doc: dict) -> None:
        """``key`` was spliced (``resync``): the last frame, then the end."""
        arg = self.sources[key][1]
        pos = dict(self.positions or {})
        pos[arg] = length
        self.sink.write(f"id: {encode_cursor(pos)}\n".encode("ascii") +
                        frame(None, "resync", json.dumps({**doc, "substream": arg})))
        self.sink.end()
        self.close()

    async def _run(self) -> None:
        try:
            while not self.closed:
                try:
                    await asyncio.wait_for(self.wake.wait(), self.heartbeat or None)
                except asyncio.TimeoutError:
                    if not self.sink.congested():
                        self.sink.write(COMMENT_HEARTBEAT)
                    for key, arg, _ in await substream_sources(self.store, self.base, self.logs):
                        if key not in self.sources:     # written through another worker
                            self._follow(key, arg)
                    continue
                self.wake.clear()
                while not self.closed and not self.sink.congested() and await self._deliver():
                    pass
        except asyncio.CancelledError:
            pass
        except Exception as exc:  # a store failure ends this connection only
            consumer_failed(self, f"{self.base}?substreams=all", exc)

    async def _deliver(self) -> bool:
        """One merged batch; True when there may be more."""
        sources = [(k, a, 0) for k, a in self.sources.values()]
        before = self.positions
        events, after = await merged_read(self.store, sources, before, self.selector,
                                          PAGE_EVENTS)
        if self.closed:
            return False
        pos = dict(before)
        last = {arg: ev.index for arg, ev in events}    # coalescing: each substream's newest
        for arg, ev in events:
            pos[arg] = ev.index + 1
            if self.data_mode or last[arg] == ev.index:
                self.sink.write(self._frame(arg, ev, encode_cursor(pos)))
        self.positions = after
        return bool(events) and after != before

    def _frame(self, arg: str, ev: Event, token: str) -> bytes:
        if self.data_mode:
            from .http_read import event_object
            doc = event_object(ev)
            doc["substream"] = arg
        else:
            doc = {"substream": arg, "index": ev.index, "eventType": ev.eventType}
        # the id is a cursor token (base64url: no line breaks), not an index
        return f"id: {token}\n".encode("ascii") + \
            frame(None, ev.eventType, json.dumps(doc, separators=(",", ":")))
