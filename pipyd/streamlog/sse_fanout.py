"""What the SSE consumers of one stream share on one event loop (streamlog.md §6, issue 5).

``_Fanout``: one store subscription per stream for all its consumers; at the tail it builds each
notification frame once and reads each page once for every data consumer. ``_Heartbeat``: one
timer per heartbeat period instead of one per connection. Separate from sse.py, which holds the
consumer itself (its cursor and its reads off the tail), because this is the shared half: the
registries here are per (store, stream, loop) and per (period, loop), not per connection.
"""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from .sse_frames import COMMENT_HEARTBEAT, PAGE_BYTES, PAGE_EVENTS, data_frame, notification_frame
from .store import Selector, StreamNotice, StreamStore

if TYPE_CHECKING:
    from .sse import SSEConsumer


class _Fanout:
    """Every SSE consumer of one stream on one event loop (one store subscription for all).

    Consumers whose selector is plain (no type, time or end bound) and whose cursor is at the
    tail sit in ``notify`` or ``data``; there they cost no task, no timer and no store read of
    their own: a commit's notice builds the notification frame once and writes the same bytes to
    each (the notice already names the newest index and type), and one page read per commit,
    encoded once, feeds every data consumer. Everyone else (catching up from a cursor, congested,
    or narrowed by a selector) is in ``others`` and is woken per notice to read at its own cursor
    (§6: a slow consumer costs storage reads, not memory), then rejoins the tail when it gets
    there.
    """

    __slots__ = ("store", "key", "loop", "sub", "length", "notified", "notify", "data", "others",
                 "dpos", "pump")

    def __init__(self, store: StreamStore, key: str, loop: asyncio.AbstractEventLoop) -> None:
        self.store = store
        self.key = key
        self.loop = loop
        self.length = 0         # the longest length seen, from notices and reads
        self.notified = 0       # the length of the last notice
        self.notify: set[SSEConsumer] = set()
        self.data: set[SSEConsumer] = set()   # every cursor here is >= dpos
        self.others: set[SSEConsumer] = set()
        self.dpos = 0           # where the data tail's next shared page starts
        self.pump: asyncio.Task | None = None
        self.sub = store.subscribe(key, self._on_notice)

    def seen(self, length: int) -> None:
        if length > self.length:
            self.length = length

    def remove(self, c: "SSEConsumer") -> None:
        self.notify.discard(c)
        self.data.discard(c)
        self.others.discard(c)
        if not (self.notify or self.data or self.others):
            self.sub.close()
            _FANOUTS.pop((self.store, self.key, self.loop), None)
            if self.pump is not None:
                self.pump.cancel()

    def _on_notice(self, notice: StreamNotice) -> None:
        self.seen(notice.length)
        if notice.length > self.notified:
            self.notified = notice.length
            if self.notify:
                self._push_notification(notice.last_index, notice.last_type, notice.length)
        if self.data and self.pump is None and self.length > self.dpos:
            self.pump = self.loop.create_task(self._pump())
        if self.others:
            for c in tuple(self.others):
                c._wake()

    def _push_notification(self, index: int, event_type: str, length: int) -> None:
        payload = notification_frame(index, event_type)
        for c in tuple(self.notify):
            sink = c.sink
            if sink.congested():    # it hears about the newest once it drains (coalescing)
                self.notify.discard(c)
                self.others.add(c)
                continue
            if index > c.last_sent:
                c.last_sent = index
                c.busy = True
                sink.write(payload)
            c.cursor = length

    def join(self, c: "SSEConsumer") -> bool:
        """Move a consumer that caught up into a tail; False when it still has to read."""
        if not c.data_mode:
            if c.cursor < self.length:
                return False
            self.others.discard(c)
            self.notify.add(c)
            return True
        if not self.data:
            self.dpos = c.cursor        # a pump mid-read sees this and reads again from here
        elif c.cursor < self.dpos:
            return False
        self.others.discard(c)
        self.data.add(c)
        if self.pump is None and self.length > self.dpos:
            self.pump = self.loop.create_task(self._pump())
        return True

    async def _pump(self) -> None:
        """Read each new page once, encode each frame once, hand the bytes to every data
        consumer at the tail (each skips what it already sent: it may have read ahead)."""
        try:
            while self.data and self.length > self.dpos:
                start = self.dpos
                page = await self.store.read(self.key, Selector(None, start), limit=PAGE_EVENTS,
                                             max_bytes=PAGE_BYTES)
                self.seen(page.length)
                if self.dpos != start:
                    continue    # the tail emptied and restarted elsewhere meanwhile
                nxt = page.next_index
                if nxt <= start:
                    break
                frames = [data_frame(ev) for ev in page.events]
                whole = b"".join(frames)
                self.dpos = nxt
                for c in tuple(self.data):
                    c._push_data(start, nxt, frames, whole)
        except asyncio.CancelledError:
            pass
        except Exception as exc:  # a store failure ends the connections it was feeding
            from pipyd import log
            log.error(f"[streamlog] SSE fan-out of {self.key} failed: {exc}")
            for c in tuple(self.data):
                c.sink.end()
                c.close()
        finally:
            self.pump = None


_FANOUTS: dict[tuple, _Fanout] = {}


def _fanout(store: StreamStore, key: str) -> _Fanout:
    loop = asyncio.get_running_loop()
    f = _FANOUTS.get((store, key, loop))
    if f is None:
        f = _FANOUTS[(store, key, loop)] = _Fanout(store, key, loop)
    return f


class _Heartbeat:
    """One timer per heartbeat period for every consumer that uses it, instead of one each.
    It ticks every half period and writes a comment only to a consumer that was sent nothing
    since the previous tick, so a connection is never silent longer than ``period`` (§6: every
    15 s) and a busy stream costs no heartbeat writes at all."""

    __slots__ = ("period", "consumers", "timer")

    def __init__(self, period: float) -> None:
        self.period = period
        self.consumers: set[SSEConsumer] = set()
        self.timer: asyncio.TimerHandle | None = None

    def add(self, c: "SSEConsumer") -> None:
        self.consumers.add(c)
        if self.timer is None:
            self.timer = asyncio.get_running_loop().call_later(self.period / 2, self._beat)

    def discard(self, c: "SSEConsumer") -> None:
        self.consumers.discard(c)
        if not self.consumers and self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _beat(self) -> None:
        self.timer = None
        for c in tuple(self.consumers):
            if c.busy:
                c.busy = False
                continue
            sink = c.sink
            if not sink.congested():  # a congested connection is obviously alive already
                sink.write(COMMENT_HEARTBEAT)
        if self.consumers:
            self.timer = asyncio.get_running_loop().call_later(self.period / 2, self._beat)


_HEARTBEATS: dict[tuple, _Heartbeat] = {}


def _heartbeat(period: float) -> _Heartbeat:
    key = (period, asyncio.get_running_loop())
    h = _HEARTBEATS.get(key)
    if h is None:
        h = _HEARTBEATS[key] = _Heartbeat(period)
    return h
