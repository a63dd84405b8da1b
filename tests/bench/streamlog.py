"""Stream-log benchmark: the shipped server (modules/streamlog.js) next to Redis Streams.

Measured in the same run, server pinned to core 1 and this process (the load generator) to
core 0, both stores durable (pipyd: SQLite WAL + fsync before the 201; Redis: appendfsync
always, see ref_redis.py):

- durable appends/s, single (one event per POST, one request in flight per connection) and
  bulk (one ``multipart/mixed`` POST of BATCH events, streamlog.md §4);
- read throughput, events/s, through ``?from=a&limit=1000`` pages (§5);
- SSE fan-out latency, append to delivery, p50/p99 over every (subscriber, event) pair, with
  100 and 1,000 subscribers, in notification mode ("notify") and with ``?include=data``
  ("data") (§6); 40 appends, 50 ms apart (20 events/s, so 20,000 deliveries/s at 1,000).

The load generator is our own: raw HTTP/1.1 keep-alive connections on asyncio (uvloop), one
raw socket per subscriber that only records what arrives (frames are parsed after the run).
Arrival is the kernel's receive timestamp (SO_TIMESTAMPNS), so the figure is the server's
latency, not the one-core generator's backlog of 1,000 sockets; what the client's own loop saw
is printed next to it ("seen by client").

Goals (issue 5): bulk >= 20,000 durable events/s; p99 fan-out < 50 ms at 1,000 subscribers.
Figures only, no assertions.
"""
from __future__ import annotations

import asyncio
import bisect
import os
import re
import socket
import struct
import tempfile
import time
from contextlib import contextmanager
from typing import Awaitable, Callable, Iterator, TypeVar
from unittest import mock

from . import ref_redis
from .servers import PIPYD, ROOT, free_port, running

T = TypeVar("T")
Rows = list[tuple[str, object]]

SINGLE_CONNS = 32
BULK_CONNS = 8
BATCH = 100
PAGE = 1000
FANOUT = (100, 1000)
FANOUT_EVENTS = 40
FANOUT_INTERVAL = 0.05  # s between appends: each event's delivery is measured on its own
GOAL_BULK = 20_000
GOAL_P99_MS = 50.0

PAYLOAD = b'{"user":"u-1234","action":"click","target":"#buy","ts":1700000000000}'
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.I)
_CHUNKED = re.compile(rb"\r\ntransfer-encoding:[ \t]*chunked", re.I)
_NEXT_INDEX = re.compile(rb"\r\nstream-next-index:[ \t]*(\d+)", re.I)
_FRAME = re.compile(rb"id: (\d+)\n.*?\n\n", re.S)


def run(seconds: float = 5.0) -> Rows:
    with tempfile.TemporaryDirectory() as tmp, _on_cpu(0):
        with _pipyd(os.path.join(tmp, "store")) as port:
            ours = _run_async(lambda: _measure_pipyd(port, seconds))
        os.mkdir(os.path.join(tmp, "redis"))
        with ref_redis.redis_server(os.path.join(tmp, "redis")) as port:
            ref = _run_async(lambda: _measure_redis(port, seconds))
    return _rows(ours, ref)


def _rows(ours: dict, ref: dict) -> Rows:
    rows: Rows = [
        (f"pipyd POST x1 ({SINGLE_CONNS} conns): durable events/s", round(ours["single"])),
        (f"redis XADD x1 ({SINGLE_CONNS} conns): durable events/s", round(ref["single"])),
        ("pipyd / redis, single", _ratio(ours["single"], ref["single"])),
        (f"pipyd POST x{BATCH} ({BULK_CONNS} conns): events/s, goal >= {GOAL_BULK:,}",
         round(ours["bulk"])),
        (f"redis XADD x{BATCH} pipelined ({BULK_CONNS} conns): events/s", round(ref["bulk"])),
        ("pipyd / redis, bulk", _ratio(ours["bulk"], ref["bulk"])),
        (f"pipyd range reads ({PAGE}/page): events/s", round(ours["read"])),
        (f"redis XRANGE ({PAGE}/page): events/s", round(ref["read"])),
        ("pipyd / redis, reads", _ratio(ours["read"], ref["read"])),
    ]
    if ours["errors"]:
        rows.append(("pipyd: non-2xx responses", ours["errors"]))
    rows.extend(_fanout_rows([*ours["fanout"], *ref["fanout"]]))
    return rows


def _fanout_rows(results: list) -> Rows:
    rows: Rows = []
    for label, (kernel, user) in results:
        goal = (f", goal p99 < {GOAL_P99_MS:g}" if label.startswith("pipyd")
                and label.endswith(f" {FANOUT[-1]} subs") else "")
        rows.append((f"{label}: p50 / p99 ms{goal}", f"{kernel[0]:.1f} / {kernel[1]:.1f}"))
        rows.append((f"{label}: seen by client, p50 / p99 ms", f"{user[0]:.1f} / {user[1]:.1f}"))
        if kernel[2] < kernel[3]:
            rows.append((f"{label}: delivered", f"{kernel[2]} of {kernel[3]}"))
    return rows


def _ratio(a: float, b: float) -> float:
    return round(a / b, 2) if b else float("nan")


# -- running things ----------------------------------------------------------------------------

@contextmanager
def _on_cpu(cpu: int) -> Iterator[None]:
    """Keep the load generator off the server's core (servers.py pins servers to core 1)."""
    if not hasattr(os, "sched_setaffinity") or os.cpu_count() < 2:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


@contextmanager
def _pipyd(store: str) -> Iterator[int]:
    """The shipped default server, configured the documented way (streamlog.md §13)."""
    port = free_port()
    env = {"STREAMLOG_LISTEN": f"127.0.0.1:{port}", "STREAMLOG_STORE": store}
    with mock.patch.dict(os.environ, env):
        with running([*PIPYD, "--no-graph", str(ROOT / "modules" / "streamlog.js")], port):
            yield port


def _run_async(main: Callable[[], Awaitable[T]]) -> T:
    try:
        import uvloop
        factory = uvloop.new_event_loop
    except ImportError:  # the plain loop still measures, only more slowly
        factory = None
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main())


# -- pipyd -------------------------------------------------------------------------------------

async def _measure_pipyd(port: int, seconds: float) -> dict:
    errors = [0]
    single = await _post_rate(port, _post(b"/bench/single", PAYLOAD, b"application/json"),
                              1, SINGLE_CONNS, seconds, errors)
    body = _multipart(BATCH)
    bulk = await _post_rate(port, _post(b"/bench/bulk", body, b"multipart/mixed; boundary=b0undary"),
                            BATCH, BULK_CONNS, seconds, errors)
    read = await _read_rate(port, "/bench/bulk", min(seconds, 3.0))
    fanout = []
    for mode, query in (("notify", ""), ("data", "&include=data")):
        for n in FANOUT:
            stats = await _sse_fanout(port, f"/bench/fan{n}{mode}", query, n)
            fanout.append((f"pipyd SSE {mode}, {n} subs", stats))
    return {"single": single, "bulk": bulk, "read": read, "fanout": fanout, "errors": errors[0]}


def _post(path: bytes, body: bytes, content_type: bytes) -> bytes:
    return (b"POST %s HTTP/1.1\r\nHost: bench\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n%s"
            % (path, content_type, len(body), body))


def _multipart(parts: int) -> bytes:
    """A bulk append body (§4): one part per event, each with its own Content-Type."""
    part = b"--b0undary\r\nContent-Type: application/json\r\n\r\n" + PAYLOAD + b"\r\n"
    return part * parts + b"--b0undary--\r\n"


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    m = _CONTENT_LENGTH.search(head)
    if m:
        body = await reader.readexactly(int(m.group(1)))
    elif _CHUNKED.search(head):
        body = await _read_chunked(reader)
    else:
        body = b""
    return int(head[9:12]), head, body


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    out = []
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        if size == 0:
            await reader.readuntil(b"\r\n")
            return b"".join(out)
        out.append(await reader.readexactly(size))
        await reader.readexactly(2)


async def _post_rate(port: int, request: bytes, events: int, conns: int, seconds: float,
                     errors: list[int]) -> float:
    """Acknowledged (2xx, hence durable) events per second over ``conns`` keep-alive connections."""
    deadline = time.perf_counter() + seconds

    async def loop() -> int:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        done = 0
        try:
            while time.perf_counter() < deadline:
                writer.write(request)
                status, _, _ = await _read_response(reader)
                if 200 <= status < 300:
                    done += events
                else:
                    errors[0] += 1
        finally:
            writer.close()
        return done
    start = time.perf_counter()
    counts = await asyncio.gather(*(loop() for _ in range(conns)))
    return sum(counts) / (time.perf_counter() - start)


async def _read_rate(port: int, stream: str, seconds: float, conns: int = 2) -> float:
    """Events per second through JSON range pages, cycling over the stream (§5)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {stream}.length HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
    length = int((await _read_response(reader))[2])
    writer.close()
    pages = max(1, length // PAGE)
    deadline = time.perf_counter() + seconds

    async def loop(first: int) -> int:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        n, page = 0, first
        try:
            while time.perf_counter() < deadline:
                start = (page % pages) * PAGE
                writer.write(f"GET {stream}?from={start}&limit={PAGE} HTTP/1.1\r\nHost: bench\r\n"
                             f"Accept: application/json\r\n\r\n".encode())
                _, head, _ = await _read_response(reader)
                n += int(_NEXT_INDEX.search(head).group(1)) - start
                page += 1
        finally:
            writer.close()
        return n
    begin = time.perf_counter()
    counts = await asyncio.gather(*(loop(k * (pages // conns + 1)) for k in range(conns)))
    return sum(counts) / (time.perf_counter() - begin)


# -- fan-out: subscribers stamped by the kernel ------------------------------------------------
#
# Every subscriber socket has SO_TIMESTAMPNS on, so each recvmsg carries the time the bytes
# reached the socket (for loopback: inside the server's send call), on the CLOCK_REALTIME the
# appends are stamped with. The latency measured is then the server's alone: the load
# generator's own scheduling (1,000 sockets on one core, on a machine others load too) no
# longer adds to it. A recvmsg that returns several segments carries the newest one's stamp,
# which can only overstate a latency. The user-space arrival time is kept too, and reported
# as "seen by client" so the generator's share stays visible.

_SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)  # Linux; <asm/socket.h>
_TIMESPEC = struct.Struct("qq")


class _Stamped:
    """One raw subscriber socket read by ``loop.add_reader``; records (kernel ns, user ns,
    bytes) per read. ``on_data`` lets a protocol answer (Redis re-blocks in XREAD)."""

    __slots__ = ("sock", "chunks", "loop", "on_data")

    def __init__(self, sock: socket.socket, loop: asyncio.AbstractEventLoop) -> None:
        self.sock = sock
        self.chunks: list[tuple[int, int, bytes]] = []
        self.loop = loop
        self.on_data: Callable[[bytes, int], None] | None = None

    @classmethod
    async def connect(cls, port: int, first: bytes) -> "_Stamped":
        loop = asyncio.get_running_loop()
        sock = socket.socket()
        sock.setblocking(False)
        sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
        await loop.sock_connect(sock, ("127.0.0.1", port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self = cls(sock, loop)
        sock.send(first)
        loop.add_reader(sock.fileno(), self._readable)
        return self

    def _readable(self) -> None:
        try:
            data, anc, _, _ = self.sock.recvmsg(262144, 64)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data, anc = b"", []
        if not data:
            return self.close()
        user = time.time_ns()
        stamp = user
        for level, kind, raw in anc:
            if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS:
                sec, nsec = _TIMESPEC.unpack_from(raw)
                stamp = sec * 1_000_000_000 + nsec
        self.chunks.append((stamp, user, data))
        if self.on_data is not None:
            self.on_data(data, stamp)

    def seen(self, needle: bytes) -> bool:
        return any(needle in d for _, _, d in self.chunks)

    def close(self) -> None:
        """Reset, not FIN: the server drops the connection at once instead of at its next
        heartbeat, so one run's subscribers never weigh on the next run's figures."""
        if self.sock.fileno() >= 0:
            self.loop.remove_reader(self.sock.fileno())
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.sock.close()

    def arrivals(self) -> tuple[dict[int, int], dict[int, int]]:
        """Event index -> (kernel, user) arrival time of the read that completed its frame."""
        ends, offset = [], 0
        for _, _, data in self.chunks:
            offset += len(data)
            ends.append(offset)
        text = b"".join(d for _, _, d in self.chunks)
        kernel, user = {}, {}
        for m in _FRAME.finditer(text):
            k = bisect.bisect_left(ends, m.end())
            i = int(m.group(1))
            kernel[i], user[i] = self.chunks[k][0], self.chunks[k][1]
        return kernel, user


async def _connect_all(port: int, first: bytes, n: int) -> list[_Stamped]:
    subs = []
    for _ in range(n):  # one at a time: a burst of 1,000 SYNs would overflow the backlog
        subs.append(await _Stamped.connect(port, first))
    return subs


async def _sse_fanout(port: int, stream: str, query: str, subscribers: int) -> tuple:
    """Open ``subscribers`` SSE connections from index 0, append a warm-up event and wait until
    everyone has it, then append FANOUT_EVENTS more, FANOUT_INTERVAL apart."""
    request = (f"GET {stream}?from=0{query} HTTP/1.1\r\nHost: bench\r\n"
               f"Accept: text/event-stream\r\n\r\n").encode()
    subs = await _connect_all(port, request, subscribers)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sent: list[int] = []
    try:
        post = _post(stream.encode(), PAYLOAD, b"application/json")
        for i in range(FANOUT_EVENTS + 1):
            sent.append(time.time_ns())
            writer.write(post)
            await _read_response(reader)
            if i == 0:
                await _until(lambda: all(s.seen(b"\nid: 0\n") for s in subs), 30.0)
            await asyncio.sleep(FANOUT_INTERVAL)
        await asyncio.sleep(1.0)  # stragglers
    finally:
        writer.close()
        for s in subs:
            s.close()
    arrivals = [s.arrivals() for s in subs]
    return (_latency_stats([a[0] for a in arrivals], sent),
            _latency_stats([a[1] for a in arrivals], sent))


async def _until(test: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not test() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)


def _latency_stats(arrivals: list[dict[int, int]], sent: list[int]) -> tuple:
    """(p50 ms, p99 ms, delivered, expected) over events 1.. (0 is the warm-up)."""
    lat = sorted((a[i] - sent[i]) / 1e6 for a in arrivals for i in range(1, len(sent)) if i in a)
    expected = len(arrivals) * (len(sent) - 1)
    if not lat:
        return float("nan"), float("nan"), 0, expected
    return lat[(len(lat) - 1) // 2], lat[int((len(lat) - 1) * 0.99)], len(lat), expected


async def _redis_fanout(port: int, key: str, subscribers: int) -> tuple:
    """The same measurement against Redis: ``subscribers`` clients blocked in XREAD (each
    re-blocks as soon as a reply is complete), XADD FANOUT_EVENTS+1 entries, stamped alike."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    buf = bytearray()
    # Subscribers read after a setup entry, so none can miss entry 0 however late it blocks.
    writer.write(ref_redis.command("XADD", key, "*", "i", "setup"))
    setup = ref_redis._ID.search(await ref_redis.read_replies(reader, buf, 1)).group(1).decode()
    subs = await _connect_all(port, ref_redis.command("XREAD", "BLOCK", "0", "STREAMS", key, setup),
                              subscribers)
    got: list[list[tuple[int, int]]] = [[] for _ in subs]
    for s, out in zip(subs, got):
        s.on_data = _xread_handler(s, key, out)
    sent: list[int] = []
    try:
        for i in range(FANOUT_EVENTS + 1):
            sent.append(time.time_ns())
            writer.write(ref_redis.command("XADD", key, "*", "i", str(i)))
            await ref_redis.read_replies(reader, buf, 1)
            if i == 0:
                await _until(lambda: all(got), 30.0)
            await asyncio.sleep(FANOUT_INTERVAL)
        await asyncio.sleep(1.0)  # stragglers
    finally:
        writer.close()
        for s in subs:
            s.close()
    kernel = [{i: k for i, (k, _) in enumerate(g)} for g in got]
    user = [{i: u for i, (_, u) in enumerate(g)} for g in got]
    return _latency_stats(kernel, sent), _latency_stats(user, sent)


def _xread_handler(sub: _Stamped, key: str, out: list) -> Callable[[bytes, int], None]:
    buf = bytearray()

    def on_data(data: bytes, stamp: int) -> None:
        buf.extend(data)
        end = ref_redis.reply_end(buf)
        if end < 0:
            return
        ids = ref_redis._ID.findall(buf[:end])
        del buf[:end]
        user = time.time_ns()
        out.extend([(stamp, user)] * len(ids))
        sub.sock.send(ref_redis.command("XREAD", "BLOCK", "0", "STREAMS", key, ids[-1].decode()))
    return on_data


# -- redis -------------------------------------------------------------------------------------

async def _measure_redis(port: int, seconds: float) -> dict:
    single = await ref_redis.xadd_rate(port, "single", PAYLOAD, seconds, SINGLE_CONNS)
    bulk = await ref_redis.xadd_rate(port, "bulk", PAYLOAD, seconds, BULK_CONNS, batch=BATCH)
    read = await ref_redis.xrange_rate(port, "bulk", min(seconds, 3.0), conns=2)
    fanout = []
    for n in FANOUT:
        fanout.append((f"redis XREAD BLOCK, {n} subs", await _redis_fanout(port, f"fan{n}", n)))
    return {"single": single, "bulk": bulk, "read": read, "fanout": fanout}


# -- fan-out only --------------------------------------------------------------------------------

def run_fanout() -> Rows:
    """Only the SSE fan-out figures, pipyd and Redis (``python -m tests.bench.streamlog fanout``)."""
    with tempfile.TemporaryDirectory() as tmp, _on_cpu(0):
        with _pipyd(os.path.join(tmp, "store")) as port:
            ours = _run_async(lambda: _fanout_pipyd(port))
        os.mkdir(os.path.join(tmp, "redis"))
        with ref_redis.redis_server(os.path.join(tmp, "redis")) as port:
            ref = _run_async(lambda: _fanout_redis(port))
    return _fanout_rows([*ours, *ref])


async def _fanout_pipyd(port: int) -> list:
    out = []
    for mode, query in (("notify", ""), ("data", "&include=data")):
        for n in FANOUT:
            out.append((f"pipyd SSE {mode}, {n} subs",
                        await _sse_fanout(port, f"/bench/fan{n}{mode}", query, n)))
    return out


async def _fanout_redis(port: int) -> list:
    return [(f"redis XREAD BLOCK, {n} subs", await _redis_fanout(port, f"fan{n}", n))
            for n in FANOUT]


if __name__ == "__main__":
    import sys
    for label, value in (run_fanout() if sys.argv[1:] == ["fanout"] else run()):
        print(f"  {label:<58} {value}")
