"""Server-sent events consumers of a stream (streamlog.md §6; HTML Living Standard §9.2).

Two modes:

- notification (the default, as the seed says): each frame is ``id:`` the latest matching index,
  ``event:`` its type, ``data: {"index":…,"eventType":…}``. Bursts coalesce: however many events
  arrive while the client is slow, it gets one frame naming the newest, and then asks for the
  range itself. A notification consumer therefore holds one integer of state.
- data (``?include=data``): every matching event, whole, in index order; ``data:`` lines carry
  the event's data split at its line breaks so an EventSource rebuilds it exactly (§9.2.6 joins
  data lines with LF). Data that is not UTF-8 is sent base64-encoded (as reducers see it, §2).

Memory stays bounded per consumer whatever the stream does: delivery reads from the store at the
consumer's own cursor, one page at a time, and only while the connection's write buffer is below
its high-water mark (``FlowControl.watch_output``). A data consumer whose backlog passes
``max_lag`` events while its connection is congested is sent ``event: resync`` and disconnected,
so it reconnects with ``Last-Event-ID`` instead of pinning a worker.

A comment line is written every ``heartbeat`` seconds so proxies keep the connection open and
the client notices a dead one (§6: every 15 s).

Fan-out cost (issue 5): the consumers of one stream share one store subscription (``_Fanout``).
At the tail they have no task, timer or read of their own: each commit's frame is built once and
the same bytes are written to every consumer; one page read per commit feeds all data consumers.
Heartbeats are one shared timer per period (``_Heartbeat``), skipped for busy connections.

This module holds the consumer of one stream (``SSEConsumer``) and ``resync``, which reaches
both kinds of consumer; the rest lives beside it and is re-exported here: the message codec and
limits (sse_frames.py), what a stream's consumers share (sse_fanout.py), and the
``?substreams=all`` merged subscription with its cursor codec (sse_merged.py).
"""
from __future__ import annotations

import asyncio
import json
from typing import Callable

from .sse_fanout import _FANOUTS, _Fanout, _Heartbeat, _fanout, _heartbeat
from .sse_frames import (consumer_failed, COMMENT_HEARTBEAT, DEFAULT_MAX_LAG, HEARTBEAT, PAGE_BYTES, PAGE_EVENTS,
                         SSESink, data_frame, frame, notification_frame)
from .sse_merged import (_SUBSTREAM_CONSUMERS, SubstreamsConsumer, decode_cursor, encode_cursor,
                         follow_substreams, merged_read, substream_created, substream_sources)
from .store import Event, Selector, StreamStore

__all__ = ["frame", "notification_frame", "data_frame", "SSEConsumer", "SSESink",
           "HEARTBEAT", "COMMENT_HEARTBEAT", "DEFAULT_MAX_LAG", "PAGE_EVENTS",
           "SubstreamsConsumer", "encode_cursor", "decode_cursor", "merged_read",
           "substream_sources", "substream_created", "follow_substreams", "resync"]


class SSEConsumer:
    """One SSE connection: a cursor into ``key``. At the tail it is fed by the stream's
    ``_Fanout``; otherwise a short-lived task reads at its cursor until it gets there."""

    __slots__ = ("store", "key", "selector", "data_mode", "cursor", "sink", "task", "hub",
                 "unwatch", "beat", "heartbeat", "max_lag", "closed", "last_sent", "dirty",
                 "plain", "busy")

    def __init__(self, store: StreamStore, key: str, selector: Selector, data_mode: bool,
                 cursor: int | None, sink: SSESink, heartbeat: float = HEARTBEAT,
                 max_lag: int = DEFAULT_MAX_LAG) -> None:
        self.store = store
        self.key = key
        self.selector = selector
        self.data_mode = data_mode
        self.cursor = cursor  # None: only events after the connection opens
        self.sink = sink
        self.heartbeat = heartbeat
        self.max_lag = max_lag
        self.closed = False
        self.last_sent = -1
        self.dirty = False
        self.busy = False     # sent something since the last heartbeat tick
        self.task: asyncio.Task | None = None
        self.hub: _Fanout | None = None
        self.unwatch: Callable[[], None] | None = None
        self.beat: _Heartbeat | None = None
        sel = selector
        self.plain = sel.types is None and sel.since is None and sel.until is None \
            and sel.end is None

    @property
    def length(self) -> int:
        """The stream length this consumer knows of (shared by the stream's consumers)."""
        return self.hub.length if self.hub is not None else 0

    async def start(self) -> None:
        """Subscribe first, then look at the length: no commit can fall between the two."""
        self.hub = hub = _fanout(self.store, self.key)
        hub.others.add(self)
        self.unwatch = self.sink.watch(self._on_congestion)
        length = await self.store.length(self.key)
        if self.closed:
            return
        hub.seen(length)
        if self.cursor is None:
            self.cursor = length
        start = self.selector.start
        if start is not None and (start < 0 or start > self.cursor):
            self.plain = False  # the shared tail assumes the cursor is the only start bound
        if self.heartbeat > 0:
            self.beat = _heartbeat(self.heartbeat)
            self.beat.add(self)
        self._wake()

    def close(self) -> None:
        """The connection is gone (or we ended it): stop everything. Idempotent."""
        if self.closed:
            return
        self.closed = True
        if self.hub is not None:
            self.hub.remove(self)
        if self.unwatch is not None:
            self.unwatch()
        if self.beat is not None:
            self.beat.discard(self)
        if self.task is not None and self.task is not asyncio.current_task():
            self.task.cancel()

    # -- wake-ups ----------------------------------------------------------------------------

    def _wake(self) -> None:
        """Something may be new for a consumer off the tail: read at its cursor (one task)."""
        if self.closed:
            return
        if self.sink.congested():
            # No read while congested; a data consumer too far behind is cut off now (§6).
            if self.data_mode and self.length - self.cursor > self.max_lag:
                self._resync()
            return                  # _on_congestion wakes us when the buffer drains
        self.dirty = True
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self._run())

    def _on_congestion(self, congested: bool) -> None:
        if not congested and self.hub is not None and self not in self.hub.notify \
                and self not in self.hub.data:
            self._wake()

    def _leave_tail(self) -> None:
        hub = self.hub
        hub.data.discard(self)
        hub.notify.discard(self)
        hub.others.add(self)

    def _push_data(self, start: int, nxt: int, frames: list[bytes], whole: bytes) -> None:
        """A page [start, nxt) from the shared read; contiguous indexes (plain selector)."""
        sink = self.sink
        if sink.congested():
            self._leave_tail()
            if self.length - self.cursor > self.max_lag:
                self._resync()
            return
        cursor = self.cursor
        if cursor <= start:
            sink.write(whole)
        elif cursor < nxt:
            sink.write(b"".join(frames[cursor - start:]))
        else:
            return
        self.cursor = nxt
        self.last_sent = nxt - 1
        self.busy = True
        if sink.congested():        # resumed by _on_congestion, from its own cursor
            self._leave_tail()

    # -- delivery off the tail ---------------------------------------------------------------

    async def _run(self) -> None:
        try:
            while self.dirty and not self.closed:
                self.dirty = False
                if self.sink.congested():
                    if self.data_mode and self.length - self.cursor > self.max_lag:
                        return self._resync()
                    return  # _on_congestion wakes us when the buffer drains
                if self.data_mode:
                    await self._deliver_data()
                else:
                    await self._deliver_notification()
                if self._range_done():
                    self.sink.end()
                    return self.close()
                if not self.dirty and self.plain and not self.closed \
                        and not self.sink.congested() and not self.hub.join(self):
                    self.dirty = True   # the tail moved on while we read: read again
        except asyncio.CancelledError:
            pass
        except Exception as exc:  # a store failure ends this connection only
            consumer_failed(self, str(self.key), exc)
        finally:
            self.task = None

    def _range_done(self) -> bool:
        end = self.selector.end
        return end is not None and self.cursor >= end

    def _resync(self) -> None:
        self.sink.write(frame(None, "resync", json.dumps({"from": self.cursor})))
        self.sink.end()
        self.close()

    async def _deliver_data(self) -> None:
        sel = self.selector
        hub = self.hub
        while not self.closed and self.cursor < hub.length and not self._range_done():
            page = await self.store.read(self.key, _from(sel, self.cursor), limit=PAGE_EVENTS,
                                         max_bytes=PAGE_BYTES)
            if self.closed:
                return
            hub.seen(page.length)
            for ev in page.events:
                if ev.index < self.cursor:
                    continue        # a shared tail page got here first
                self.sink.write(data_frame(ev))
                self.last_sent = ev.index
                self.busy = True
                if self.sink.congested():  # stop mid-page: memory stays at the high-water mark
                    self.cursor = ev.index + 1
                    if hub.length - self.cursor > self.max_lag:
                        return self._resync()
                    return  # resumed by _on_congestion
            if page.next_index <= self.cursor:
                return
            self.cursor = page.next_index

    async def _deliver_notification(self) -> None:
        """Coalesce: one frame naming the newest matching event past the cursor."""
        sel = self.selector
        hub = self.hub
        if self.plain:
            if self.cursor >= hub.length:
                return
            length = hub.length
            last = await self.store.get(self.key, length - 1)
            if self.closed:
                return
            self.cursor = length if length > self.cursor else self.cursor
            return self._notify(last.index, last.eventType)
        newest: Event | None = None
        while not self.closed and self.cursor < hub.length and not self._range_done():
            page = await self.store.read(self.key, _from(sel, self.cursor))
            hub.seen(page.length)
            if page.events:
                newest = page.events[-1]
            if page.next_index <= self.cursor:
                break
            self.cursor = page.next_index
        if newest is not None and not self.closed:
            self._notify(newest.index, newest.eventType)

    def _notify(self, index: int, event_type: str) -> None:
        if index > self.last_sent:
            self.last_sent = index
            self.busy = True
            self.sink.write(notification_frame(index, event_type))


def _from(sel: Selector, cursor: int) -> Selector:
    start = cursor if sel.start is None or sel.start < cursor else sel.start
    return Selector(sel.types, start, sel.end, sel.since, sel.until)


def resync(store: StreamStore, key: str, length: int, reason: str = "splice") -> None:
    """The history of ``key`` was replaced (a splice, §12): every SSE consumer of it in this
    worker gets ``event: resync`` and is disconnected, so it reconnects at a position that
    exists. A consumer of ``key`` alone gets ``id:`` the new last index; a ``?substreams=all``
    consumer following ``key`` gets ``id:`` its cursor with that substream at the new length
    (the other substreams where it was), and ``substream`` in the data."""
    doc = {"reason": reason, "length": length}
    payload = frame(length - 1 if length else -1, "resync", json.dumps(doc))
    for (s, k, _loop), fan in list(_FANOUTS.items()):
        if s is store and k == key:
            for c in tuple(fan.notify) + tuple(fan.data) + tuple(fan.others):
                c.sink.write(payload)
                c.sink.end()
                c.close()
    base, paren, _ = key.partition("(")
    if paren:
        for c in tuple(_SUBSTREAM_CONSUMERS.get((id(store), base), ())):
            if type(c) is SubstreamsConsumer and key in c.sources:
                c.resync(key, length, doc)
