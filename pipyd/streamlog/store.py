"""The stream store interface: what every stream-log backend (SQLite, NATS JetStream) provides.

specs/streamlog.md §2, §4, §5, §13. A *stream* is an append-only log of immutable events, named by
an opaque key (``stream_key('acct', 'strm')`` → ``'acct/strm'``; a substream adds its canonical
argument, ``'acct/strm("x")'``). The HTTP layer, the JS API, pipes and reducers talk to a store only
through ``StreamStore``; backends are picked by name from ``pipyd.streamlog.registry`` and every one
of them passes the same conformance suite (tests/unit/streamlog/test_store_conformance.py).

Rules every backend keeps (the conformance suite checks each):

- Indexes are zero-based, contiguous, never reused. A stream exists once its first write commits.
- Timestamps (unix ms) never decrease within a stream. An event without a timestamp gets
  ``max(now, latest)``, so a client that pushed a future timestamp drags later events along (the
  seed: "assign all un-timestamped events the latest timestamp"). A client timestamp lower than the
  stream's latest fails the whole request with ``TimestampConflict`` (409).
- An ``AppendRequest`` is all-or-nothing (a bulk write is one request). ``append`` returns only after
  the events are durable (fsync'd); concurrent requests may share one commit, and a failed commit
  fails every request in it and appends nothing.
- Idempotent producers: a request with ``producer_id``/``producer_seq`` whose seq was already
  accepted appends nothing and returns the original indexes with ``duplicate=True`` (HTTP 200). The
  first seq a producer uses on a stream starts its sequence (any integer ≥ 0, like a NATS Msg-Id
  needs no start); afterwards each request must carry last+1: a gap fails with ``ProducerConflict``
  (409) whose detail holds ``expected``.
- Errors are ``StoreError`` subclasses carrying the HTTP status to answer with and a JSON-able
  detail; a request that fails leaves the stream unchanged.

Notifications: ``subscribe(key, callback)`` registers a plain callable run on the subscriber's event
loop once per commit that grew the stream, with one shared ``StreamNotice`` (length, last event's
index/type/timestamp). Cost per commit is one loop wake-up per subscribing loop plus one call per
subscriber of the streams that grew; nothing per event. SSE and long-poll consumers then read at
their own cursor (spec §6: delivery reads from storage, so slow consumers cost no memory).

The interface is asyncio-first and maps onto JetStream directly: a stream key → a subject, an index
→ stream sequence − 1, producer dedupe → ``Nats-Msg-Id``/expected-last-sequence headers, subscribe →
an ordered push consumer delivering only the last-per-subject notice.
"""
from __future__ import annotations

import abc
import asyncio
import re
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterable, NamedTuple, Sequence

# §2 and §5 limits; a backend must enforce the same numbers so the API answers alike.
MAX_EVENT_BYTES = 100 * 1024          # §2: data at most 100 KiB, 413 beyond
MAX_EVENT_TYPE_CHARS = 100            # §2: eventType 1..100 characters
MAX_PAGE_EVENTS = 1000                # §5: at most 1000 events per response
MAX_PAGE_BYTES = 4 * 1024 * 1024      # §5: or 4 MiB of event data per response
DEFAULT_CONTENT_TYPE = "application/octet-stream"
DEFAULT_EVENT_TYPE = "message"        # an event with no type: SSE's default event name (§6)

NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,64}\Z")
FORBIDDEN_STREAM_NAMES = frozenset({"this", "dispatch", "request"})   # §3, the seed's list
RESERVED_ACCOUNT = "pipet"                                           # §3, built-in streams


# ---------------------------------------------------------------------------------------- errors

class StoreError(Exception):
    """A request the API must refuse. ``status`` is the HTTP status to answer with; ``error`` a short
    machine-readable code; ``detail`` JSON-able extra facts. ``body()`` is the §4 error body."""
    status = 500
    error = "store_error"

    def __init__(self, message: str, detail: object = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def body(self) -> dict:
        """The JSON error body of §4: ``{"error": ..., "detail": ...}`` (message in detail when none)."""
        return {"error": self.message, "detail": self.detail}


class BadRequest(StoreError):
    """400: malformed request, bad name, bad URL, bad selector, bad event type."""
    status = 400
    error = "bad_request"


class NotFound(StoreError):
    """404: an index past the end, or an unknown reserved stream."""
    status = 404
    error = "not_found"


class Conflict(StoreError):
    """409: the request conflicts with the stream's state; nothing was appended."""
    status = 409
    error = "conflict"


class TimestampConflict(Conflict):
    """409: a client timestamp lower than the stream's latest. detail: ``{latest, timestamp, part}``."""
    error = "timestamp_conflict"


class ProducerConflict(Conflict):
    """409: a Producer-Seq that skips ahead. detail: ``{producer, seq, expected}``."""
    error = "producer_conflict"


class PayloadTooLarge(StoreError):
    """413: an event's data over ``MAX_EVENT_BYTES``. detail: ``{part, size, limit}``."""
    status = 413
    error = "payload_too_large"


class NotSupported(StoreError):
    """501: the backend cannot do this operation (a store without an atomic ``replace``)."""
    status = 501
    error = "not_supported"


class StoreUnavailable(StoreError):
    """503: the store could not commit (disk full, I/O error, closed). Nothing was appended."""
    status = 503
    error = "store_unavailable"


# ------------------------------------------------------------------------------------ data classes

class Event(NamedTuple):
    """One stored event (§2). ``data`` is the raw body; parsing by content type is the reader's job.

    A named tuple rather than a frozen dataclass: a store makes one per row it reads, and reducer
    catch-up reads hundreds of thousands. A frozen dataclass's ``__init__`` sets each field through
    ``object.__setattr__`` (~2.5 µs an event, half the daemon's catch-up cost, bench "reducers");
    a backend builds these with ``tuple.__new__(Event, row)``, one C call. Fields are read by name
    (C-level getters, as fast as slots); the field order is fixed, so consumers that want columns
    may ``zip(*events)`` (sandbox.encode_events)."""
    index: int
    timestamp: int
    eventType: str
    contentType: str
    data: bytes


@dataclass(frozen=True, slots=True)
class NewEvent:
    """One event to append. ``timestamp`` None means server-assigned (§2)."""
    data: bytes
    eventType: str = DEFAULT_EVENT_TYPE
    contentType: str = DEFAULT_CONTENT_TYPE
    timestamp: int | None = None


@dataclass(frozen=True, slots=True)
class AppendRequest:
    """One write: one event, or the parts of a bulk write, appended all-or-nothing to ``stream``
    (a key from ``stream_key``). ``producer_id``/``producer_seq`` make it idempotent (§4); both or
    neither."""
    stream: str
    events: Sequence[NewEvent]
    producer_id: str | None = None
    producer_seq: int | None = None


@dataclass(frozen=True, slots=True)
class ReplaceRequest:
    """A splice (§12): the whole history of ``stream`` becomes ``events``, in one transaction.
    Indexes restart at 0; an event's own ``timestamp`` is kept (copied from a source stream),
    None takes ``max(now, previous replacement event)``; explicit ones must not decrease."""
    stream: str
    events: Sequence[NewEvent]


@dataclass(frozen=True, slots=True)
class AppendResult:
    """What a committed write got: one index and timestamp per event, in order. ``duplicate`` is True
    when an idempotent producer repeated a seq: nothing was appended and these are the original
    values (HTTP 200 instead of 201)."""
    indexes: tuple[int, ...]
    timestamps: tuple[int, ...]
    duplicate: bool = False


@dataclass(frozen=True, slots=True)
class Selector:
    """Narrows a read (§5) or a consumer (§6): event types, a half-open index range ``[start, end)``
    (None = unbounded), and a timestamp window ``since <= ts < until``. Negative index bounds count
    from the end; stores resolve them (``resolve``) against the length in the read's snapshot."""
    types: frozenset[str] | None = None
    start: int | None = None
    end: int | None = None
    since: int | None = None
    until: int | None = None

    def matches(self, event: Event) -> bool:
        """Whether ``event`` passes every condition (used by consumers filtering notices)."""
        if self.types is not None and event.eventType not in self.types:
            return False
        if self.start is not None and event.index < self.start:
            return False
        if self.end is not None and event.index >= self.end:
            return False
        if self.since is not None and event.timestamp < self.since:
            return False
        return self.until is None or event.timestamp < self.until

    def resolve(self, length: int) -> "Selector":
        """Negative index bounds count from the end, like Python slices (``[-10:]`` = last ten)."""
        start, end = self.start, self.end
        if start is not None and start < 0:
            start = max(0, length + start)
        if end is not None and end < 0:
            end = max(0, length + end)
        if start == self.start and end == self.end:
            return self
        return Selector(self.types, start, end, self.since, self.until)


ALL = Selector()


@dataclass(frozen=True, slots=True)
class Page:
    """A page of a read. ``next_index`` is where the next page starts (the ``Stream-Next-Index``
    header): past the last event examined, so filtered-out events are not scanned again, and equal
    to the stream length when the read reached the end. ``length`` is the stream length seen."""
    events: tuple[Event, ...]
    next_index: int
    length: int


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """A stream's summary: key, length, latest timestamp (0 when empty), creation time (unix ms)."""
    key: str
    length: int
    last_timestamp: int
    created: int


@dataclass(frozen=True, slots=True)
class StreamNotice:
    """Handed to subscribers after a commit that grew ``stream``: its new length and its last event's
    index, type and timestamp (enough for an SSE notification, §6). One object per stream per
    commit, shared by every subscriber."""
    stream: str
    length: int
    last_index: int
    last_type: str
    last_timestamp: int


NoticeCallback = Callable[[StreamNotice], None]


class Subscription:
    """Returned by ``subscribe``; ``close()`` stops the callbacks (idempotent)."""
    __slots__ = ("_close", "closed")

    def __init__(self, close: Callable[[], None]) -> None:
        self._close = close
        self.closed = False

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._close()


# ------------------------------------------------------------------------------------ stream keys

def check_name(name: str, what: str = "name") -> str:
    """§3: names match ``[A-Za-z0-9_-]{1,64}``; BadRequest otherwise."""
    if type(name) is not str or NAME_RE.match(name) is None:
        raise BadRequest(f"invalid {what} {name!r}: names match [A-Za-z0-9_-]{{1,64}}",
                         {"name": name})
    return name


def stream_key(account: str, stream: str, substream: str | None = None) -> str:
    """The store key of ``/account/stream`` or of its substream. ``substream`` is the canonical
    argument text from ``pipyd.streamlog.urls`` (a JSON literal, or a bare account name)."""
    check_name(account, "account")
    check_name(stream, "stream")
    if stream in FORBIDDEN_STREAM_NAMES:
        raise BadRequest(f"stream name {stream!r} is forbidden", {"name": stream})
    if substream is None:
        return f"{account}/{stream}"
    return f"{account}/{stream}({substream})"


def validate_request(req: AppendRequest) -> None:
    """The checks every backend runs before queueing a write (§2 limits, §4 producer headers), so
    a bad request never reaches a transaction. Errors name the offending part."""
    if not req.events:
        raise BadRequest("no events to append")
    if (req.producer_id is None) != (req.producer_seq is None):
        raise BadRequest("Producer-Id and Producer-Seq go together")
    if req.producer_id is not None:
        if not req.producer_id or len(req.producer_id) > 256:
            raise BadRequest("Producer-Id must be 1 to 256 characters")
        if type(req.producer_seq) is not int or req.producer_seq < 0:
            raise BadRequest("Producer-Seq must be a non-negative integer")
    for part, ev in enumerate(req.events):
        if len(ev.data) > MAX_EVENT_BYTES:
            raise PayloadTooLarge(f"event data over {MAX_EVENT_BYTES} bytes (part {part})",
                                  {"part": part, "size": len(ev.data), "limit": MAX_EVENT_BYTES})
        if not 1 <= len(ev.eventType) <= MAX_EVENT_TYPE_CHARS:
            raise BadRequest(f"eventType must be 1 to {MAX_EVENT_TYPE_CHARS} characters"
                             f" (part {part})", {"part": part})
        ts = ev.timestamp
        if ts is not None and (type(ts) is not int or ts < 0):
            raise BadRequest(f"timestamp must be a non-negative integer (part {part})",
                             {"part": part})


def validate_replace(req: ReplaceRequest) -> None:
    """``validate_request``'s event checks for a splice (an empty replacement is allowed: it
    empties the stream)."""
    if req.events:
        validate_request(AppendRequest(req.stream, req.events))


def now_ms() -> int:
    """The default clock: unix milliseconds."""
    return time.time_ns() // 1_000_000


# ------------------------------------------------------------------------------------- the store

class StreamStore(abc.ABC):
    """A stream-log backend. All methods are coroutines to be awaited on an asyncio loop, except
    ``subscribe`` (synchronous; its callbacks run on the loop that called it). Instances are made by
    ``pipyd.streamlog.registry.open_store``; ``await store.close()`` flushes and releases them."""

    #: the registry name of the backend ('sqlite', 'jetstream').
    backend: str = ""

    @abc.abstractmethod
    async def append(self, request: AppendRequest) -> AppendResult:
        """Append ``request.events`` to ``request.stream`` all-or-nothing; return after the commit is
        durable. Raises BadRequest/PayloadTooLarge (validation), TimestampConflict,
        ProducerConflict, StoreUnavailable."""

    async def append_many(self, requests: Iterable[AppendRequest]) -> list[AppendResult | StoreError]:
        """Submit several independent requests at once (pipes, dispatch); each succeeds or fails on
        its own, results in order. Backends with group commit share one commit."""
        results = await asyncio.gather(*(self.append(r) for r in requests), return_exceptions=True)
        out: list[AppendResult | StoreError] = []
        for r in results:
            if isinstance(r, BaseException) and not isinstance(r, StoreError):
                raise r
            out.append(r)
        return out

    async def replace(self, request: ReplaceRequest) -> int:
        """Splice (§12): replace every event of ``request.stream`` by ``request.events`` atomically
        (readers see the old history or the new one, never a mix) and durably; returns the new
        length. The stream's creation time and its producers' sequences are kept (an idempotent
        producer's next seq stays last+1, so a retry from before the splice is still dropped).
        Requests queued before it are replaced with the rest; those after it land after the new
        events. Subscribers get one notice with the new length (which may be lower than what they
        saw). Raises TimestampConflict (explicit timestamps that decrease), BadRequest or
        PayloadTooLarge (an event over the limits), StoreUnavailable. A backend that cannot
        replace atomically keeps this default: 501."""
        raise NotSupported(f"the {self.backend or 'configured'} store cannot replace a stream",
                           {"backend": self.backend})

    @abc.abstractmethod
    async def get(self, stream: str, index: int) -> Event:
        """One event; a negative index counts from the end. NotFound when out of range or when the
        stream does not exist."""

    @abc.abstractmethod
    async def read(self, stream: str, selector: Selector = ALL, *, limit: int = MAX_PAGE_EVENTS,
                   max_bytes: int = MAX_PAGE_BYTES) -> Page:
        """Events matching ``selector`` (negative index bounds count from the end) in index order, at
        most ``min(limit, MAX_PAGE_EVENTS)`` events and about ``max_bytes`` of data (always at least
        one event when one matches). An unknown stream reads as empty."""

    async def read_range(self, stream: str, start: int, end: int, *, limit: int,
                         max_bytes: int = MAX_PAGE_BYTES) -> Page:
        """Events ``start <= index < end`` (non-negative bounds) for a consumer that takes many at
        once (reducer catch-up): ``read(stream, Selector(None, start, end))`` except that ``limit``
        is not capped at ``MAX_PAGE_EVENTS``. Same page rules otherwise: it stops before the event
        that would take the data past ``max_bytes`` (the first one always comes), and
        ``next_index``/``length`` are what ``read`` would answer. A backend may do the work off
        the event loop (SQLite reads in a thread), so one big read does not stall requests. This
        default pages through ``read``; a backend overrides it when it can do better."""
        events: list[Event] = []
        size = 0
        limit = max(1, limit)
        while True:
            page = await self.read(stream, Selector(None, start, end),
                                   limit=min(limit - len(events), MAX_PAGE_EVENTS),
                                   max_bytes=max_bytes - size)
            got = page.events
            if events and got and size + len(got[0].data) > max_bytes:
                return Page(tuple(events), got[0].index, page.length)   # read gives one anyway
            events.extend(got)
            size += sum(len(ev.data) for ev in got)
            start = page.next_index
            if not got or len(events) >= limit or start >= min(end, page.length):
                return Page(tuple(events), start, page.length)

    @abc.abstractmethod
    async def info(self, stream: str) -> StreamInfo | None:
        """The stream's summary, or None when it does not exist (no write ever committed)."""

    async def length(self, stream: str) -> int:
        """Number of events; 0 for a stream that does not exist."""
        info = await self.info(stream)
        return 0 if info is None else info.length

    @abc.abstractmethod
    async def list_streams(self, prefix: str = "") -> list[StreamInfo]:
        """Streams whose key starts with ``prefix`` (``'acct/'`` lists an account), sorted by key."""

    @abc.abstractmethod
    def subscribe(self, stream: str, callback: NoticeCallback) -> Subscription:
        """Call ``callback(notice)`` on the current event loop after every commit that grows
        ``stream`` (bursts in one commit give one call). Must be called from a running loop."""

    async def wait_for(self, stream: str, index: int, timeout: float) -> bool:
        """Long-poll (§5 ``?from=n&wait=s``): True as soon as event ``index`` exists, False when
        ``timeout`` seconds pass first."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future = loop.create_future()

        def on_notice(notice: StreamNotice) -> None:
            if notice.length > index and not fut.done():
                fut.set_result(True)
        sub = self.subscribe(stream, on_notice)
        try:
            if await self.length(stream) > index:   # checked after subscribing: no lost wake-up
                return True
            try:
                return await asyncio.wait_for(fut, timeout)
            except asyncio.TimeoutError:
                return False
        finally:
            sub.close()

    @abc.abstractmethod
    async def close(self) -> None:
        """Finish queued writes, stop background work, release files/connections. Idempotent."""


# ------------------------------------------------------------------------------- notification hub

class _LoopGroup:
    """The subscribers of one stream on one event loop, with a cached snapshot for publishing."""
    __slots__ = ("callbacks", "snapshot")

    def __init__(self) -> None:
        self.callbacks: dict[int, NoticeCallback] = {}
        self.snapshot: tuple[NoticeCallback, ...] | None = None


class NoticeHub:
    """Subscriber bookkeeping any backend can reuse. ``publish`` may be called from any thread (a
    writer thread after COMMIT); it wakes each subscribing loop once with everything for it, and
    the loop calls each callback of the grown streams. A callback that raises is logged and kept."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: dict[str, dict[asyncio.AbstractEventLoop, _LoopGroup]] = {}
        self._next = 0

    def subscribe(self, stream: str, callback: NoticeCallback) -> Subscription:
        loop = asyncio.get_running_loop()
        with self._lock:
            self._next += 1
            token = self._next
            group = self._subs.setdefault(stream, {}).setdefault(loop, _LoopGroup())
            group.callbacks[token] = callback
            group.snapshot = None
        return Subscription(lambda: self._unsubscribe(stream, loop, token))

    def _unsubscribe(self, stream: str, loop: asyncio.AbstractEventLoop, token: int) -> None:
        with self._lock:
            loops = self._subs.get(stream)
            group = loops.get(loop) if loops else None
            if group is None or group.callbacks.pop(token, None) is None:
                return
            group.snapshot = None
            if not group.callbacks:
                del loops[loop]
                if not loops:
                    del self._subs[stream]

    def has(self, stream: str) -> bool:
        """Whether ``stream`` has a subscriber (a dict lookup; safe without the lock)."""
        return stream in self._subs

    def streams(self) -> list[str]:
        """Streams with at least one subscriber (for backends that poll for foreign writers)."""
        with self._lock:
            return list(self._subs)

    def publish(self, notices: Iterable[StreamNotice]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list] = {}
        with self._lock:
            for notice in notices:
                loops = self._subs.get(notice.stream)
                if not loops:
                    continue
                for loop, group in loops.items():
                    if group.snapshot is None:
                        group.snapshot = tuple(group.callbacks.values())
                    by_loop.setdefault(loop, []).append((notice, group.snapshot))
        for loop, items in by_loop.items():
            try:
                loop.call_soon_threadsafe(_deliver, items)
            except RuntimeError:        # the loop was closed without unsubscribing: drop it
                self._drop_loop(loop)

    def _drop_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            for stream in list(self._subs):
                self._subs[stream].pop(loop, None)
                if not self._subs[stream]:
                    del self._subs[stream]


def _deliver(items: list) -> None:
    from .. import log
    for notice, callbacks in items:
        for cb in callbacks:
            try:
                cb(notice)
            except Exception as e:  # a consumer's bug must not stop the others' notices
                log.error(f"streamlog: subscriber of {notice.stream} failed: {e!r}")
