"""The reference next to the stream-log benchmark: Redis Streams, durable like the stream-log.

redis-server (apt: redis-server) runs with ``--appendonly yes --appendfsync always``, so a reply
to XADD means the entry was written and fsynced (Redis fsyncs the append-only file before
answering the commands of one event-loop turn: its group commit). The client is a small RESP
client of our own on asyncio, the same style as the HTTP load generator in streamlog.py, so both
sides pay the same client costs:

- single: one XADD in flight per connection (like one POST per request);
- bulk: ``batch`` XADDs pipelined in one write per connection (like one multipart POST);
- read: ``XRANGE key (id + COUNT 1000`` pages (like ``GET /a/s[i:i+1000]``);
- fan-out: subscribers each blocked in ``XREAD BLOCK 0`` (like an SSE consumer).
"""
from __future__ import annotations

import asyncio
import re
import shutil
import time
from contextlib import contextmanager
from typing import Iterator

from .servers import free_port, running

PAGE = 1000
_ID = re.compile(rb"\$\d+\r\n(\d+-\d+)\r\n")


@contextmanager
def redis_server(directory: str, cpu: int = 1) -> Iterator[int]:
    """A durable redis-server on a free port with its files in ``directory``."""
    if not shutil.which("redis-server"):
        raise RuntimeError("redis-server is not installed: sh scripts/ensure-test-deps.sh")
    port = free_port()
    cmd = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", directory,
           "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--daemonize", "no",
           "--protected-mode", "no", "--loglevel", "warning"]
    with running(cmd, port, cpu=cpu):
        yield port


def command(*args: bytes | str) -> bytes:
    """One RESP command: an array of bulk strings."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        b = a.encode() if type(a) is str else a
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)


def reply_end(buf: bytes | bytearray, pos: int = 0) -> int:
    """Where the RESP reply starting at ``pos`` ends, or -1 if ``buf`` does not hold all of it.
    Skips without building values: only the client's own cost is kept small."""
    pending = 1
    n = len(buf)
    while pending:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return -1
        kind = buf[pos]
        if kind == 36:  # '$' bulk string (-1: null)
            size = int(buf[pos + 1:eol])
            pos = eol + 2 + (size + 2 if size >= 0 else 0)
            if pos > n:
                return -1
        elif kind == 42:  # '*' array (-1: null)
            pending += max(int(buf[pos + 1:eol]), 0)
            pos = eol + 2
        elif kind == 45:  # '-' error
            raise RuntimeError(bytes(buf[pos:eol]).decode())
        else:  # '+' simple string, ':' integer
            pos = eol + 2
        pending -= 1
    return pos


async def read_replies(reader: asyncio.StreamReader, buf: bytearray, count: int) -> bytes:
    """Read ``count`` complete replies; returns their bytes (the rest stays in ``buf``)."""
    pos = 0
    for _ in range(count):
        while True:
            end = reply_end(buf, pos)
            if end >= 0:
                pos = end
                break
            chunk = await reader.read(1 << 20)
            if not chunk:
                raise ConnectionError("redis closed the connection")
            buf += chunk
    out = bytes(buf[:pos])
    del buf[:pos]
    return out


async def _xadd_loop(port: int, deadline: float, request: bytes, batch: int) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    buf = bytearray()
    done = 0
    try:
        while time.perf_counter() < deadline:
            writer.write(request)
            await read_replies(reader, buf, batch)
            done += batch
    finally:
        writer.close()
    return done


async def xadd_rate(port: int, key: str, payload: bytes, seconds: float, conns: int,
                    batch: int = 1) -> float:
    """Durable XADDs per second: ``conns`` connections, ``batch`` pipelined per round trip."""
    request = command("XADD", key, "*", "d", payload) * batch
    deadline = time.perf_counter() + seconds
    start = time.perf_counter()
    counts = await asyncio.gather(*(_xadd_loop(port, deadline, request, batch) for _ in range(conns)))
    return sum(counts) / (time.perf_counter() - start)


async def xrange_rate(port: int, key: str, seconds: float, conns: int = 1) -> float:
    """Events per second read in pages of 1000, cycling through the whole stream."""
    starts = await _page_starts(port, key)
    deadline = time.perf_counter() + seconds
    start = time.perf_counter()

    async def loop(offset: int) -> int:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        buf, n, i = bytearray(), 0, offset
        try:
            while time.perf_counter() < deadline:
                writer.write(command("XRANGE", key, starts[i % len(starts)], "+", "COUNT", str(PAGE)))
                n += len(_ID.findall(await read_replies(reader, buf, 1)))
                i += 1
        finally:
            writer.close()
        return n
    counts = await asyncio.gather(*(loop(k * 7) for k in range(conns)))
    return sum(counts) / (time.perf_counter() - start)


async def _page_starts(port: int, key: str) -> list[str]:
    """The start bound of every full page (``-``, then ``(last id`` of the page before)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    buf, starts, start = bytearray(), [], "-"
    try:
        while True:
            writer.write(command("XRANGE", key, start, "+", "COUNT", str(PAGE)))
            ids = _ID.findall(await read_replies(reader, buf, 1))
            if len(ids) < PAGE:
                return starts or [start]
            starts.append(start)
            start = "(" + ids[-1].decode()
    finally:
        writer.close()


class _XReadSubscriber(asyncio.Protocol):
    """Blocked in XREAD; records the arrival time of each entry, in stream order, and blocks again."""

    def __init__(self, key: str, last: str, arrivals: list[int]) -> None:
        self.key = key
        self.last = last
        self.arrivals = arrivals
        self.buf = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self._block()

    def _block(self) -> None:
        self.transport.write(command("XREAD", "BLOCK", "0", "STREAMS", self.key, self.last))

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter_ns()
        self.buf += data
        end = reply_end(self.buf)
        if end < 0:
            return
        ids = _ID.findall(self.buf[:end])
        del self.buf[:end]
        self.arrivals.extend([now] * len(ids))
        self.last = ids[-1].decode()
        self._block()


async def xread_fanout(port: int, key: str, subscribers: int, events: int,
                       interval: float) -> tuple[list[list[int]], list[int]]:
    """``subscribers`` XREAD consumers; XADD ``events`` entries ``interval`` apart.
    Returns each subscriber's arrival times and each entry's send time (perf_counter_ns).
    Entry 0 is a warm-up: the others follow once every subscriber has it."""
    loop = asyncio.get_running_loop()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    buf = bytearray()
    # Subscribers read after a setup entry, so none can miss entry 0 however late it blocks.
    writer.write(command("XADD", key, "*", "i", "setup"))
    setup = _ID.search(await read_replies(reader, buf, 1)).group(1).decode()
    arrivals: list[list[int]] = [[] for _ in range(subscribers)]
    transports = []
    for i in range(subscribers):
        t, _ = await loop.create_connection(lambda a=arrivals[i]: _XReadSubscriber(key, setup, a),
                                            "127.0.0.1", port)
        transports.append(t)
    sent: list[int] = []
    try:
        for i in range(events):
            sent.append(time.perf_counter_ns())
            writer.write(command("XADD", key, "*", "i", str(i)))
            await read_replies(reader, buf, 1)
            if i == 0:
                deadline = time.monotonic() + 30
                while not all(arrivals) and time.monotonic() < deadline:
                    await asyncio.sleep(0.01)
            await asyncio.sleep(interval)
        await asyncio.sleep(1.0)  # stragglers
    finally:
        for t in transports:
            t.close()
        writer.close()
    return arrivals, sent
