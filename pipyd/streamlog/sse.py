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
"""
from __future__ import annotations

import asyncio
import json
import re
from typing import Any, Callable

from .store import Event, Page, Selector, StreamNotice, StreamStore

__all__ = ["frame", "notification_frame", "data_frame", "SSEConsumer", "SSESink",
           "HEARTBEAT", "COMMENT_HEARTBEAT", "DEFAULT_MAX_LAG", "PAGE_EVENTS",
           "SubstreamsConsumer", "encode_cursor", "decode_cursor", "merged_read",
           "substream_sources", "substream_created", "follow_substreams", "resync"]

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
            from pipyd import log
            log.error(f"[streamlog] SSE consumer of {self.key} failed: {exc}")
            self.sink.end()
            self.close()
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
            from pipyd import log
            log.error(f"[streamlog] SSE consumer of {self.base}?substreams=all failed: {exc}")
            self.sink.end()
            self.close()

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
