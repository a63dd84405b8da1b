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
"""
from __future__ import annotations

import asyncio
import json
import re
from typing import Any, Callable

from .store import Event, Selector, StreamNotice, StreamStore

__all__ = ["frame", "notification_frame", "data_frame", "SSEConsumer", "SSESink",
           "HEARTBEAT", "COMMENT_HEARTBEAT", "DEFAULT_MAX_LAG", "PAGE_EVENTS"]

HEARTBEAT = 15.0
COMMENT_HEARTBEAT = b": heartbeat\n\n"
DEFAULT_MAX_LAG = 10000
PAGE_EVENTS = 200  # one store read per page keeps a data consumer's working set small
PAGE_BYTES = 256 * 1024

# §9.2.6: a line ends at CRLF, LF or CR; a field value must not contain any of them.
_LINE_BREAKS = re.compile(r"\r\n|\r|\n")


def _field(value: str) -> str:
    return _LINE_BREAKS.sub(" ", value)


def frame(index: int | None, event: str | None, data: str) -> bytes:
    """One SSE message: ``id``, ``event`` and one ``data:`` line per line of ``data``."""
    out = []
    if index is not None:
        out.append(f"id: {index}\n")
    if event:
        out.append(f"event: {_field(event)}\n")
    for line in _LINE_BREAKS.split(data):
        out.append(f"data: {line}\n")
    out.append("\n")
    return "".join(out).encode("utf-8")


def notification_frame(index: int, event_type: str) -> bytes:
    return frame(index, event_type,
                 json.dumps({"index": index, "eventType": event_type}, separators=(",", ":")))


def data_frame(ev: Event) -> bytes:
    try:
        text = ev.data.decode("utf-8")
    except UnicodeDecodeError:
        import base64
        text = base64.b64encode(ev.data).decode("ascii")
    return frame(ev.index, ev.eventType, text)


class SSESink:
    """Where a consumer writes: the filter that serves the response implements these."""

    def write(self, b: bytes) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def end(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def congested(self) -> bool:
        return False

    def watch(self, fn: Callable[[bool], Any]) -> Callable[[], None]:
        """Call ``fn(congested)`` on changes; returns the function that stops watching."""
        return lambda: None


class SSEConsumer:
    """One SSE connection: a cursor into ``key`` and a task that delivers from it."""

    __slots__ = ("store", "key", "selector", "data_mode", "cursor", "sink", "wake", "task",
                 "sub", "unwatch", "timer", "heartbeat", "max_lag", "length", "closed",
                 "last_sent")

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
        self.length = 0
        self.closed = False
        self.last_sent = -1
        self.wake = asyncio.Event()
        self.task: asyncio.Task | None = None
        self.sub: Any = None
        self.unwatch: Callable[[], None] | None = None
        self.timer: asyncio.TimerHandle | None = None

    async def start(self) -> None:
        """Subscribe first, then look at the length: no commit can fall between the two."""
        self.sub = self.store.subscribe(self.key, self._on_notice)
        self.unwatch = self.sink.watch(self._on_congestion)
        self.length = await self.store.length(self.key)
        if self.cursor is None:
            self.cursor = self.length
        if self.cursor < self.length:
            self.wake.set()
        self._arm_heartbeat()
        self.task = asyncio.get_running_loop().create_task(self._run())

    def close(self) -> None:
        """The connection is gone (or we ended it): stop everything. Idempotent."""
        if self.closed:
            return
        self.closed = True
        if self.sub is not None:
            self.sub.close()
        if self.unwatch is not None:
            self.unwatch()
        if self.timer is not None:
            self.timer.cancel()
        if self.task is not None and self.task is not asyncio.current_task():
            self.task.cancel()

    # -- wake-ups ----------------------------------------------------------------------------

    def _on_notice(self, notice: StreamNotice) -> None:
        if notice.length > self.length:
            self.length = notice.length
        self.wake.set()

    def _on_congestion(self, congested: bool) -> None:
        if not congested:
            self.wake.set()

    def _arm_heartbeat(self) -> None:
        if self.heartbeat > 0 and not self.closed:
            self.timer = asyncio.get_running_loop().call_later(self.heartbeat, self._beat)

    def _beat(self) -> None:
        if self.closed:
            return
        if not self.sink.congested():  # a congested connection is obviously alive already
            self.sink.write(COMMENT_HEARTBEAT)
        self._arm_heartbeat()

    # -- delivery ----------------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            while not self.closed:
                await self.wake.wait()
                self.wake.clear()
                if self.sink.congested():
                    if self.data_mode and self.length - self.cursor > self.max_lag:
                        return self._resync()
                    continue  # _on_congestion wakes us when the buffer drains
                if self.data_mode:
                    await self._deliver_data()
                else:
                    await self._deliver_notification()
                if self._range_done():
                    self.sink.end()
                    return self.close()
        except asyncio.CancelledError:
            pass
        except Exception as exc:  # a store failure ends this connection only
            from pipyd import log
            log.error(f"[streamlog] SSE consumer of {self.key} failed: {exc}")
            self.sink.end()
            self.close()

    def _range_done(self) -> bool:
        end = self.selector.end
        return end is not None and self.cursor >= end

    def _resync(self) -> None:
        self.sink.write(frame(None, "resync", json.dumps({"from": self.cursor})))
        self.sink.end()
        self.close()

    async def _deliver_data(self) -> None:
        sel = self.selector
        while not self.closed and self.cursor < self.length and not self._range_done():
            page = await self.store.read(self.key, _from(sel, self.cursor), limit=PAGE_EVENTS,
                                         max_bytes=PAGE_BYTES)
            if self.closed:
                return
            self.length = max(self.length, page.length)
            for ev in page.events:
                self.sink.write(data_frame(ev))
                self.last_sent = ev.index
                if self.sink.congested():  # stop mid-page: memory stays at the high-water mark
                    self.cursor = ev.index + 1
                    if self.length - self.cursor > self.max_lag:
                        return self._resync()
                    return  # resumed by _on_congestion
            if page.next_index <= self.cursor:
                return
            self.cursor = page.next_index

    async def _deliver_notification(self) -> None:
        """Coalesce: one frame naming the newest matching event past the cursor."""
        sel = self.selector
        plain = sel.types is None and sel.since is None and sel.until is None and sel.end is None
        if plain:
            if self.cursor >= self.length:
                return
            last = await self.store.get(self.key, self.length - 1)
            self.cursor = self.length
            return self._notify(last.index, last.eventType)
        newest: Event | None = None
        while not self.closed and self.cursor < self.length and not self._range_done():
            page = await self.store.read(self.key, _from(sel, self.cursor))
            self.length = max(self.length, page.length)
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
            self.sink.write(notification_frame(index, event_type))


def _from(sel: Selector, cursor: int) -> Selector:
    start = cursor if sel.start is None or sel.start < cursor else sel.start
    return Selector(sel.types, start, sel.end, sel.since, sel.until)
