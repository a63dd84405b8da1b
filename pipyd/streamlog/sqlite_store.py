"""The embedded stream store: one SQLite database per data directory (specs/streamlog.md §13).

Durability: WAL journal with ``synchronous=FULL``, so COMMIT returns only after the WAL is fsync'd;
an append is acknowledged only after its COMMIT returned (§4: survives kill -9 and power cuts).

Group commit: ``append`` queues the request and awaits a future. One writer thread takes everything
queued, runs it in a single ``BEGIN IMMEDIATE … COMMIT`` (one fsync for the lot), then settles the
futures with one ``call_soon_threadsafe`` per event loop. Requests that fail their own checks
(timestamp, producer seq) are left out of the transaction and fail alone; a transaction that fails
(I/O error, disk full) appends nothing and fails every request in it. While the writer fsyncs, new
requests pile up and form the next group, so throughput grows with load without any added delay.

Per-stream state (length, latest timestamp, producers' last seq) is cached in the writer. Several
worker processes may share the database: the cache is dropped whenever ``PRAGMA data_version``
shows another connection committed, and the writer polls it while there are subscribers so they
hear about foreign writes too. Reads use one read-only connection per thread; WAL readers never
wait for the writer and see only committed events.
"""
from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from bisect import bisect_right
from collections import deque
from functools import partial
from itertools import accumulate
from operator import itemgetter
from typing import Any, Callable

from .. import log
from .store import (
    ALL, MAX_PAGE_BYTES, MAX_PAGE_EVENTS, AppendRequest, AppendResult, Event, NotFound,
    NoticeCallback, NoticeHub, Page, ProducerConflict, ReplaceRequest, Selector, StoreError,
    StoreUnavailable, StreamInfo, StreamNotice, StreamStore, Subscription, TimestampConflict,
    now_ms, validate_replace, validate_request,
)

DB_FILE = "streamlog.db"
# A group stops growing at this many events or bytes, bounding transaction size and latency.
GROUP_MAX_EVENTS = 50_000
GROUP_MAX_BYTES = 32 * 1024 * 1024
# How often the writer looks for commits made by other processes while someone is subscribed.
FOREIGN_POLL_SECONDS = 0.1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS streams(
    id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, length INTEGER NOT NULL,
    last_ts INTEGER NOT NULL, created INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS events(
    stream INTEGER NOT NULL, idx INTEGER NOT NULL, ts INTEGER NOT NULL, type TEXT NOT NULL,
    ctype TEXT NOT NULL, data BLOB NOT NULL, PRIMARY KEY(stream, idx));
CREATE TABLE IF NOT EXISTS producers(
    stream INTEGER NOT NULL, producer TEXT NOT NULL, seq INTEGER NOT NULL,
    first_idx INTEGER NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY(stream, producer, seq)) WITHOUT ROWID;
"""
_INSERT_EVENT = "INSERT INTO events(stream, idx, ts, type, ctype, data) VALUES (?,?,?,?,?,?)"
_SELECT_EVENTS = "SELECT idx, ts, type, ctype, data FROM events WHERE stream=? AND idx>=? AND idx<?"
_DATA = itemgetter(4)                        # a row's data column
_new_event = partial(tuple.__new__, Event)   # a row as an Event, in C (store.Event's note)


def _connect(path: str, readonly: bool) -> sqlite3.Connection:
    # isolation_level=None: we issue BEGIN/COMMIT ourselves, so one group is one transaction.
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
    conn.execute("PRAGMA busy_timeout=30000")      # other worker processes holding the write lock
    if readonly:
        conn.execute("PRAGMA query_only=1")
    else:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")       # fsync the WAL at every COMMIT (§4)
    return conn


class _Pending:
    """One queued request and where to hand its outcome back."""
    __slots__ = ("request", "loop", "future", "outcome")

    def __init__(self, request: AppendRequest, loop: asyncio.AbstractEventLoop,
                 future: asyncio.Future) -> None:
        self.request = request
        self.loop = loop
        self.future = future
        self.outcome: AppendResult | StoreError | None = None


class _State:
    """The writer's view of one stream. ``id`` None: not created yet. ``producers`` maps a producer
    id to its last accepted seq, loaded on first use."""
    __slots__ = ("key", "id", "length", "last_ts", "producers", "last_type", "base")

    def __init__(self, key: str, id: int | None, length: int, last_ts: int) -> None:
        self.key, self.id, self.length, self.last_ts = key, id, length, last_ts
        self.base = length      # the length when staging began: grown = length > base
        self.producers: dict[str, int | None] = {}
        self.last_type = ""

    def copy(self) -> "_State":
        s = _State(self.key, self.id, self.length, self.last_ts)
        s.producers = dict(self.producers)
        s.last_type = self.last_type
        return s


class SQLiteStore(StreamStore):
    """The ``sqlite`` backend. ``directory`` is created if missing; ``clock`` returns unix ms (tests
    inject one)."""
    backend = "sqlite"

    def __init__(self, directory: str, *, clock: Callable[[], int] = now_ms) -> None:
        os.makedirs(directory, exist_ok=True)
        self.path = os.path.join(directory, DB_FILE)
        self._clock = clock
        self._hub = NoticeHub()
        self._cond = threading.Condition()
        self._queue: deque[_Pending] = deque()
        self._closing = False
        self._states: dict[str, _State] = {}
        self._published: dict[str, int] = {}   # subscribed stream → length last published
        self._wconn = _connect(self.path, readonly=False)
        self._wconn.executescript(_SCHEMA)
        self._data_version = self._version()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="streamlog-sqlite-writer",
                                        daemon=True)
        self._thread.start()

    # ------------------------------------------------------------------------------ writing

    async def append(self, request: AppendRequest) -> AppendResult:
        validate_request(request)
        return await self._enqueue(request)

    async def replace(self, request: ReplaceRequest) -> int:
        """Splice (§12) through the writer queue, so it is ordered with appends and commits in a
        group's one transaction: readers' snapshots see the old history or the new one."""
        validate_replace(request)
        return await self._enqueue(request)

    async def _enqueue(self, request: Any) -> Any:
        """Hand a write to the writer thread; the answer comes after its group's COMMIT."""
        loop = asyncio.get_running_loop()
        pending = _Pending(request, loop, loop.create_future())
        with self._cond:
            if self._closing:
                raise StoreUnavailable("the stream store is closed")
            self._queue.append(pending)
            self._cond.notify()
        return await pending.future

    def _run(self) -> None:
        while True:
            group = self._take_group()
            if group is None:
                break
            if group:
                self._commit_group(group)
            else:
                self._poll_foreign()
        self._wconn.close()

    def _take_group(self) -> list[_Pending] | None:
        """Block until work arrives; take queued requests up to the group limits. [] means the poll
        interval passed with subscribers waiting; None means closed and drained."""
        with self._cond:
            while not self._queue:
                if self._closing:
                    return None
                polling = bool(self._hub.streams())
                if not self._cond.wait(FOREIGN_POLL_SECONDS if polling else None) and polling:
                    return []
            group: list[_Pending] = []
            events = size = 0
            while self._queue and events < GROUP_MAX_EVENTS and size < GROUP_MAX_BYTES:
                p = self._queue.popleft()
                group.append(p)
                events += len(p.request.events)
                size += sum(len(e.data) for e in p.request.events)
            return group

    def _version(self) -> int:
        return self._wconn.execute("PRAGMA data_version").fetchone()[0]

    def _commit_group(self, group: list[_Pending]) -> None:
        conn = self._wconn
        staged: dict[str, _State] = {}
        try:
            conn.execute("BEGIN IMMEDIATE")
            foreign = self._version() != self._data_version
            if foreign:                 # another process committed: re-read what we cached
                self._states.clear()
            for p in group:
                try:
                    p.outcome = self._stage(p.request, staged)
                except StoreError as e:
                    p.outcome = e
            for st in staged.values():
                if st.length == st.base:
                    continue
                conn.execute("UPDATE streams SET length=?, last_ts=? WHERE id=?",
                             (st.length, st.last_ts, st.id))
            conn.execute("COMMIT")
        except Exception as e:  # sqlite3.Error, MemoryError…: the whole group fails (§4)
            log.error(f"streamlog: commit of {len(group)} request(s) failed: {e!r}")
            self._rollback()
            err = StoreUnavailable("the stream store could not commit", {"reason": str(e)})
            for p in group:
                p.outcome = err
            self._settle(group)
            return
        self._data_version = self._version()
        grown = [st for st in staged.values() if st.length > st.base]
        self._states.update(staged)
        # Notices first, then acknowledgements: whoever subscribes after its append returned
        # never hears about that older commit.
        self._publish([StreamNotice(st.key, st.length, st.length - 1, st.last_type, st.last_ts)
                       for st in grown])   # a spliced stream (base -1) counts as grown
        self._settle(group)
        if foreign:     # commits of other processes since our last look: tell our subscribers
            self._notify_foreign({st.key for st in grown})

    def _publish(self, notices: list[StreamNotice]) -> None:
        published = self._published
        for n in notices:
            if self._hub.has(n.stream):
                published[n.stream] = n.length
        self._hub.publish(notices)

    def _rollback(self) -> None:
        self._states.clear()    # staged state may have leaked into nothing; reload from disk
        try:
            self._wconn.execute("ROLLBACK")
        except sqlite3.Error:
            pass                # SQLite already rolled back (e.g. SQLITE_FULL)
        self._data_version = -1

    def _state(self, key: str, staged: dict[str, _State]) -> _State:
        st = staged.get(key)
        if st is not None:
            return st
        cached = self._states.get(key)
        if cached is not None:
            st = cached.copy()
        else:
            row = self._wconn.execute("SELECT id, length, last_ts FROM streams WHERE key=?",
                                      (key,)).fetchone()
            st = _State(key, *row) if row else _State(key, None, 0, 0)
        st.base = st.length
        staged[key] = st
        return st

    def _stage(self, req: AppendRequest, staged: dict[str, _State]) -> AppendResult:
        """Check one request against the stream as staged so far and insert its rows, or raise
        without touching anything."""
        if type(req) is ReplaceRequest:
            return self._stage_replace(req, staged)    # type: ignore[return-value]
        st = self._state(req.stream, staged)
        if req.producer_id is not None:
            dup = self._check_producer(st, req.producer_id, req.producer_seq)
            if dup is not None:
                return dup
        latest = st.last_ts
        now = self._clock()
        stamps = []
        for part, ev in enumerate(req.events):
            ts = ev.timestamp
            if ts is None:
                ts = now if now > latest else latest     # §2: never below the latest
            elif ts < latest:
                raise TimestampConflict(
                    f"timestamp {ts} is lower than the stream's latest {latest} (part {part})",
                    {"latest": latest, "timestamp": ts, "part": part})
            latest = ts
            stamps.append(ts)
        conn = self._wconn
        if st.id is None:       # a stream is created by its first accepted write (§4)
            st.id = conn.execute("INSERT INTO streams(key, length, last_ts, created)"
                                 " VALUES (?,0,0,?)", (st.key, now)).lastrowid
        first = st.length
        sid = st.id
        conn.executemany(_INSERT_EVENT, [
            (sid, first + i, stamps[i], ev.eventType, ev.contentType, ev.data)
            for i, ev in enumerate(req.events)])
        n = len(stamps)
        if req.producer_id is not None:
            conn.execute("INSERT INTO producers(stream, producer, seq, first_idx, count)"
                         " VALUES (?,?,?,?,?)", (sid, req.producer_id, req.producer_seq, first, n))
            st.producers[req.producer_id] = req.producer_seq
        st.length = first + n
        st.last_ts = latest
        st.last_type = req.events[-1].eventType
        return AppendResult(tuple(range(first, first + n)), tuple(stamps))

    def _stage_replace(self, req: ReplaceRequest, staged: dict[str, _State]) -> int:
        """Delete every event of the stream and insert the replacement from index 0; the new
        length. Timestamps are checked first, so a refusal touches nothing. The stream row (its
        creation time) and the producers table stay (see ``StreamStore.replace``)."""
        st = self._state(req.stream, staged)
        latest = 0
        now = self._clock()
        stamps = []
        for part, ev in enumerate(req.events):
            ts = ev.timestamp
            if ts is None:
                ts = now if now > latest else latest    # the approval time, monotonic (§2)
            elif ts < latest:
                raise TimestampConflict(
                    f"replacement timestamp {ts} is lower than the previous event's {latest}"
                    f" (part {part})", {"latest": latest, "timestamp": ts, "part": part})
            latest = ts
            stamps.append(ts)
        conn = self._wconn
        if st.id is None:
            st.id = conn.execute("INSERT INTO streams(key, length, last_ts, created)"
                                 " VALUES (?,0,0,?)", (st.key, now)).lastrowid
        conn.execute("DELETE FROM events WHERE stream=?", (st.id,))
        conn.executemany(_INSERT_EVENT, [
            (st.id, i, stamps[i], ev.eventType, ev.contentType, ev.data)
            for i, ev in enumerate(req.events)])
        st.length = len(stamps)
        st.last_ts = latest
        st.last_type = req.events[-1].eventType if req.events else ""
        st.base = -1        # rewritten: the row is updated and subscribers are told, even if empty
        return st.length

    def _check_producer(self, st: _State, producer: str, seq: int) -> AppendResult | None:
        """None: ``seq`` is the producer's next (or first) seq. A repeat returns the original
        result; a gap raises ProducerConflict with the expected seq (§4)."""
        if producer in st.producers:
            last = st.producers[producer]
        elif st.id is None:
            last = None
        else:
            last = self._wconn.execute("SELECT max(seq) FROM producers WHERE stream=? AND"
                                       " producer=?", (st.id, producer)).fetchone()[0]
            st.producers[producer] = last
        if last is None or seq == last + 1:
            return None
        if seq > last:
            raise ProducerConflict(f"Producer-Seq {seq} skips ahead: expected {last + 1}",
                                   {"producer": producer, "seq": seq, "expected": last + 1})
        row = self._wconn.execute("SELECT first_idx, count FROM producers WHERE stream=? AND"
                                  " producer=? AND seq=?", (st.id, producer, seq)).fetchone()
        if row is None:     # below the producer's first seq: never accepted, cannot be repeated
            raise ProducerConflict(f"Producer-Seq {seq} was never accepted: expected {last + 1}",
                                   {"producer": producer, "seq": seq, "expected": last + 1})
        first, n = row
        stamps = [r[0] for r in self._wconn.execute(
            "SELECT ts FROM events WHERE stream=? AND idx>=? AND idx<? ORDER BY idx",
            (st.id, first, first + n))]
        return AppendResult(tuple(range(first, first + n)), tuple(stamps), duplicate=True)

    @staticmethod
    def _settle(group: list[_Pending]) -> None:
        """Hand outcomes back: one wake-up per event loop, not per request."""
        by_loop: dict[asyncio.AbstractEventLoop, list[_Pending]] = {}
        for p in group:
            by_loop.setdefault(p.loop, []).append(p)
        for loop, items in by_loop.items():
            try:
                loop.call_soon_threadsafe(_resolve, items)
            except RuntimeError:
                pass            # the caller's loop is gone; nobody is waiting any more

    def _poll_foreign(self) -> None:
        """Notify subscribers of commits made by other processes sharing the database."""
        try:
            version = self._version()
            if version != self._data_version:
                self._data_version = version
                self._states.clear()
                self._notify_foreign(set())
        except sqlite3.Error as e:
            log.error(f"streamlog: polling for foreign commits failed: {e!r}")

    def _notify_foreign(self, skip: set[str]) -> None:
        """Publish the subscribed streams that grew beyond what we last published."""
        notices = []
        subscribed = set(self._hub.streams())
        for key in list(self._published):
            if key not in subscribed:
                del self._published[key]    # nobody listens any more: forget it
        for key in subscribed:
            if key in skip:
                continue
            row = self._wconn.execute("SELECT id, length, last_ts FROM streams WHERE key=?",
                                      (key,)).fetchone()
            if row is None or row[1] <= self._published.get(key, 0):
                continue
            t = self._wconn.execute("SELECT type FROM events WHERE stream=? AND idx=?",
                                    (row[0], row[1] - 1)).fetchone()
            notices.append(StreamNotice(key, row[1], row[1] - 1, t[0] if t else "", row[2]))
        self._publish(notices)

    # ------------------------------------------------------------------------------ reading

    def _reader(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            if self._closing and not self._thread.is_alive():
                raise StoreUnavailable("the stream store is closed")
            conn = self._local.conn = _connect(self.path, readonly=True)
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    def _stream_row(self, conn: sqlite3.Connection, stream: str) -> tuple | None:
        return conn.execute("SELECT id, length, last_ts, created FROM streams WHERE key=?",
                            (stream,)).fetchone()

    async def get(self, stream: str, index: int) -> Event:
        conn = self._reader()
        row = self._stream_row(conn, stream)
        length = row[1] if row else 0
        i = index + length if index < 0 else index
        if not 0 <= i < length:
            raise NotFound(f"no event {index} in {stream} (length {length})",
                           {"index": index, "length": length})
        r = conn.execute("SELECT idx, ts, type, ctype, data FROM events WHERE stream=? AND idx=?",
                         (row[0], i)).fetchone()
        return _new_event(r)

    async def read(self, stream: str, selector: Selector = ALL, *, limit: int = MAX_PAGE_EVENTS,
                   max_bytes: int = MAX_PAGE_BYTES) -> Page:
        conn = self._reader()
        conn.execute("BEGIN")       # one snapshot for the length and the rows
        try:
            return self._read(conn, stream, selector, limit, max_bytes)
        finally:
            conn.execute("COMMIT")

    def _read(self, conn: sqlite3.Connection, stream: str, sel: Selector, limit: int,
              max_bytes: int) -> Page:
        row = self._stream_row(conn, stream)
        if row is None:
            return Page((), 0, 0)
        sid, length = row[0], row[1]
        sel = sel.resolve(length)
        start = sel.start or 0
        end = length if sel.end is None else min(sel.end, length)
        if sel.since is not None:
            start = max(start, self._first_at(conn, sid, length, sel.since))
        if sel.until is not None:
            end = min(end, self._first_at(conn, sid, length, sel.until))
        if start >= end:
            return Page((), min(max(start, end), length), length)
        limit = max(1, min(limit, MAX_PAGE_EVENTS))
        sql, args = _SELECT_EVENTS, [sid, start, end]
        if sel.types is not None:
            if not sel.types:
                return Page((), end, length)
            sql += f" AND type IN ({','.join('?' * len(sel.types))})"
            args.extend(sorted(sel.types))
        events: list[Event] = []
        size = 0
        for r in conn.execute(sql + " ORDER BY idx LIMIT ?", (*args, limit)):
            size += len(r[4])
            if size > max_bytes and events:
                return Page(tuple(events), r[0], length)
            events.append(_new_event(r))
        nxt = events[-1].index + 1 if len(events) == limit else end
        return Page(tuple(events), nxt, length)

    async def read_range(self, stream: str, start: int, end: int, *, limit: int,
                         max_bytes: int = MAX_PAGE_BYTES) -> Page:
        # A catch-up batch is thousands of rows: stepping them runs in a thread (sqlite3 releases
        # the GIL inside sqlite3_step), so the loop keeps answering requests meanwhile.
        return await asyncio.to_thread(self._read_range, stream, start, end, max(1, limit),
                                       max_bytes)

    def _read_range(self, stream: str, start: int, end: int, limit: int, max_bytes: int) -> Page:
        conn = self._reader()
        conn.execute("BEGIN")       # one snapshot for the length and the rows
        try:
            row = self._stream_row(conn, stream)
            if row is None:
                return Page((), 0, 0)
            sid, length = row[0], row[1]
            end = min(end, length)
            if start >= end:
                return Page((), min(max(start, end), length), length)
            cur = conn.execute(_SELECT_EVENTS + " ORDER BY idx LIMIT ?", (sid, start, end, limit))
            events: list[Event] = []
            size = 0
            want = 64
            # No per-row Python code: rows become Events with one C call each, and the byte
            # budget is checked per chunk (running sums, then a bisect). Chunks grow with the
            # room left, so a batch of 100 KiB events reads few rows past the budget.
            while rows := cur.fetchmany(want):
                sums = list(accumulate(map(len, map(_DATA, rows)), initial=size))
                if sums[-1] > max_bytes:
                    fit = bisect_right(sums, max_bytes) - 1     # rows whose data fits
                    events.extend(map(_new_event, rows[:fit or (0 if events else 1)]))
                    break
                events.extend(map(_new_event, rows))
                size = sums[-1]
                want = min(4096, max(16, (max_bytes - size) * len(events) // max(1, size) + 1))
            # indexes in [start, end) are contiguous, so the next one follows the last read
            return Page(tuple(events), events[-1].index + 1 if events else end, length)
        finally:
            conn.execute("COMMIT")

    @staticmethod
    def _first_at(conn: sqlite3.Connection, sid: int, length: int, ts: int) -> int:
        """The first index whose timestamp is ≥ ``ts``: a binary search over point reads, valid
        because timestamps never decrease within a stream (§2), so no timestamp index is needed."""
        lo, hi = 0, length
        q = "SELECT ts FROM events WHERE stream=? AND idx=?"
        while lo < hi:
            mid = (lo + hi) // 2
            if conn.execute(q, (sid, mid)).fetchone()[0] < ts:
                lo = mid + 1
            else:
                hi = mid
        return lo

    async def info(self, stream: str) -> StreamInfo | None:
        row = self._stream_row(self._reader(), stream)
        return None if row is None else StreamInfo(stream, row[1], row[2], row[3])

    async def list_streams(self, prefix: str = "") -> list[StreamInfo]:
        sql = "SELECT key, length, last_ts, created FROM streams"
        args: tuple = ()
        if prefix:      # a key range keeps the UNIQUE index usable (LIKE would need escaping)
            sql += " WHERE key >= ? AND key < ?"
            args = (prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1))
        rows = self._reader().execute(sql + " ORDER BY key", args).fetchall()
        return [StreamInfo(*r) for r in rows]

    def subscribe(self, stream: str, callback: NoticeCallback) -> Subscription:
        sub = self._hub.subscribe(stream, callback)
        with self._cond:
            self._cond.notify()     # the writer starts polling for foreign commits
        return sub

    # ------------------------------------------------------------------------------ closing

    async def close(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify()
        await asyncio.to_thread(self._thread.join)
        with self._readers_lock:
            for conn in self._readers:
                conn.close()
            self._readers.clear()
        self._local = threading.local()


def _resolve(items: list[_Pending]) -> None:
    for p in items:
        if p.future.done():     # the awaiting task was cancelled; the write stands regardless
            continue
        if isinstance(p.outcome, StoreError):
            p.future.set_exception(p.outcome)
        else:
            p.future.set_result(p.outcome)
