"""Outbound connections for `connect()` (reference §2.2 row 9, §1.1 error codes).

An outbound is one upstream connection, TCP or UDP, driven by the `connect` filter:
``send(data)`` writes (buffered while connecting), ``end()`` is the filter's input
``StreamEnd``, ``close()`` is the pipeline ending. What the upstream sends goes to ``target``
(an EventTarget: the filter's next) as ``Data``; the connection's end goes there as one
``StreamEnd`` whose error code says why (Pipy's codes, which muxHTTP turns into 502/504):

- ``CannotResolve`` the host has no address (``loop.getaddrinfo``, asynchronous);
- ``ConnectionRefused`` connecting failed (Pipy maps every connect error to it);
- ``ConnectionTimeout`` no connection within ``connectTimeout``;
- ``ReadTimeout`` / ``WriteTimeout`` / ``IdleTimeout`` the timers below;
- ``ConnectionReset`` the peer reset; ``ReadError`` any other socket error;
- ``BufferOverflow`` more than ``bufferLimit`` bytes were waiting: the excess is discarded with
  an error log (as Pipy) and, once what was kept is flushed, the connection closes;
- ``""`` the upstream closed its side.

A failed connect is retried ``retryCount`` times (−1: forever) after ``retryDelay`` before the
error is output, as Pipy's ``Outbound::connect_error``.

Back-pressure (DESIGN.md "How events move"):

- toward the source: when the upstream write buffer passes its high-water mark (or bytes
  waiting for the connection to open do), ``source.pause_input()`` is called once, and
  ``source.resume_input()`` when it drains below the low mark (``source`` is the pipeline);
- from the downstream: ``downstream_congested(flag)`` stops/restarts reading the upstream
  socket. The connect filter subscribes it to the root's FlowControl when that offers
  ``watch_output(fn)``/``unwatch_output(fn)`` (``fn(True)`` when the root's own peer stops
  taking bytes, ``fn(False)`` when it drains).
"""
from __future__ import annotations

import asyncio
import os
import socket
from dataclasses import dataclass
from typing import Any, Callable

from pipyd import log
from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.flow import WRITE_HIGH_WATER, WRITE_LOW_WATER
from pipyd.units import JSOptions, parse_duration, parse_int, parse_protocol, parse_size

__all__ = ["OutboundOptions", "parse_target", "Outbound", "OutboundTCP", "OutboundUDP"]

_INF = float("inf")
_new = object.__new__


def parse_target(target: Any) -> tuple[str, int]:
    """``"host:port"`` or ``"[ipv6]:port"`` as (host, port); ValueError when malformed."""
    if type(target) is not str:
        raise ValueError(f"invalid target: {target!r}")
    host, sep, port = target.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"invalid target: {target}")
    if host[0] == "[":
        if host[-1] != "]":
            raise ValueError(f"invalid target: {target}")
        host = host[1:-1]
    elif ":" in host:  # a bare IPv6 address needs its brackets to tell the port apart
        raise ValueError(f"invalid target: {target}")
    return host, int(port)


@dataclass(slots=True, eq=False)
class OutboundOptions(JSOptions):
    """`connect()` options; durations in seconds (0 = none), sizes in bytes (0 = no limit)."""

    protocol: str = "tcp"
    buffer_limit: int = 0
    retry_count: int = 0
    retry_delay: float = 0.0
    connect_timeout: float = 0.0
    read_timeout: float = 0.0
    write_timeout: float = 0.0
    idle_timeout: float = 60.0

    WHAT = "connect"
    # connect()'s options, in the order Pipy reads (and reports errors in) them.
    FIELDS = (("protocol", "protocol", parse_protocol),
              ("bufferLimit", "buffer_limit", parse_size),
              ("retryCount", "retry_count", parse_int),
              ("retryDelay", "retry_delay", parse_duration),
              ("connectTimeout", "connect_timeout", parse_duration),
              ("readTimeout", "read_timeout", parse_duration),
              ("writeTimeout", "write_timeout", parse_duration),
              ("idleTimeout", "idle_timeout", parse_duration))


class Outbound:
    """What TCP and UDP outbounds share: the target, resolving with retries, the source hold,
    the end. Subclasses implement ``_attempt(infos)`` (connect to the resolved addresses, or
    raise OSError), ``send``, ``mark``, ``end`` and ``downstream_congested``."""

    SOCK_TYPE = socket.SOCK_STREAM
    KIND = "TCP"

    def __init__(self, host: str, port: int, options: OutboundOptions, target: Any,
                 source: Any = None) -> None:
        self.host = host
        self.port = port
        self.options = options
        self.target = target  # None once closed: nothing more is output
        self.source = source  # has pause_input()/resume_input() (the pipeline), or None
        self.loop = asyncio.get_running_loop()
        self.transport: Any = None
        self.task: asyncio.Task | None = None
        self.retries = 0
        self.holding = False  # whether we hold the source paused
        self.congested = False  # the downstream asked us to stop reading
        self.writing_ended = False  # the input ended (or overflowed)
        self.done = False  # the StreamEnd was output (or the outbound was closed)
        self.pending: list[bytes] = []  # bytes sent before the connection is open
        self.pending_size = 0
        self.opened = self.loop.time()  # for the admin port's /dump/outbound age

    def describe(self) -> str:
        return f"[outbound] {id(self):#x} to host = {self.host} port = {self.port}"

    def start(self) -> None:
        log.debug(f"{self.describe()} connecting ({self.KIND})")
        self.task = self.loop.create_task(self._connect())

    async def _connect(self) -> None:
        o = self.options
        while True:
            error = await self._try_once()
            if error is None or self.done:
                return
            if 0 <= o.retry_count <= self.retries:
                return self._finish(error)
            self.retries += 1
            if o.retry_delay > 0:
                await asyncio.sleep(o.retry_delay)
            if self.done:
                return
            log.warn(f"{self.describe()} retry connection... (times = {self.retries})")

    async def _try_once(self) -> str | None:
        """One resolve + connect; the error code on failure, None once connected."""
        try:
            infos = await self.loop.getaddrinfo(self.host, self.port, type=self.SOCK_TYPE)
        except (socket.gaierror, UnicodeError) as e:
            log.error(f"{self.describe()} cannot resolve hostname: {e}")
            return "CannotResolve"
        timeout = self.options.connect_timeout
        try:
            if timeout > 0:
                await asyncio.wait_for(self._attempt(infos), timeout)
            else:
                await self._attempt(infos)
        except asyncio.TimeoutError:
            log.error(f"{self.describe()} connection timeout after {timeout}s")
            return "ConnectionTimeout"
        except OSError as e:
            reason = os.strerror(e.errno) if e.errno else str(e)
            log.error(f"{self.describe()} cannot connect: {reason}")
            return "ConnectionRefused"
        return None

    async def _attempt(self, infos: list) -> None:
        raise NotImplementedError

    # -- the source hold (back-pressure toward the pipeline's input) ------------------------------

    def _hold(self, want: bool) -> None:
        if want is self.holding or self.source is None:
            return
        self.holding = want
        if want:
            self.source.pause_input()
        else:
            self.source.resume_input()

    def _buffer(self, chunks: list[bytes], size: int) -> bool:
        """Keep bytes until the connection opens; False (and an error log) when they would
        pass bufferLimit."""
        limit = self.options.buffer_limit
        if limit > 0 and self.pending_size + size > limit:
            self._log_overflow(size)
            return False
        self.pending.extend(chunks)
        self.pending_size += size
        if self.pending_size >= WRITE_HIGH_WATER:
            self._hold(True)
        return True

    def _log_overflow(self, size: int) -> None:
        log.error(f"{self.describe()} buffer overflow, {size} bytes discarded "
                  f"(bufferLimit = {self.options.buffer_limit})")

    # -- ending ---------------------------------------------------------------------------------

    def _emit(self, event: Any) -> None:
        target = self.target
        if target is None:
            return
        try:
            target.process(event)
            context = getattr(self.source, "context", None)
            if context is not None:  # touch_group() inlined
                group = getattr(context, "group", None)
                if group is not None and group.waiters:
                    group.touch()
        except Exception as e:  # a bug downstream must not take the worker down
            log.error(f"{self.describe()} {type(e).__name__}: {e}")

    def _finish(self, error: str) -> None:
        """Output the final StreamEnd once and release everything."""
        if self.done:
            return
        self.done = True
        self.writing_ended = True
        self._release()
        self._emit(StreamEnd(error))
        self.target = None

    def _release(self) -> None:
        self._hold(False)
        self.pending = []
        self.pending_size = 0
        task = self.task
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()
        self.task = None

    def close(self) -> None:
        """The pipeline ended: stop outputting; the socket closes after flushing."""
        self.target = None
        self.writing_ended = True
        if not self.done:
            self.done = True
            self._release()
        t = self.transport
        if t is not None and not t.is_closing():
            t.close()


class OutboundTCP(Outbound, asyncio.Protocol):
    """A TCP connection to ``host:port``. Timers as the inbound side: one per connection,
    re-armed lazily from the last read/write times."""

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.write_paused = False
        self.overflowed = False
        self.last_read = self.last_write = self.write_mark = 0.0
        self.written = 0  # bytes handed to the transport, to see write progress
        self.flushed = 0  # written - buffered at the last timer check
        self.timer: asyncio.TimerHandle | None = None

    async def _attempt(self, infos: list) -> None:
        last: OSError | None = None
        for family, kind, proto, _, addr in infos:
            sock = socket.socket(family, kind, proto)
            try:
                sock.setblocking(False)
                await self.loop.sock_connect(sock, addr)
            except BaseException as e:
                sock.close()
                if not isinstance(e, OSError):
                    raise
                last = e
                continue
            if self.done:  # closed while connecting
                sock.close()
                return
            await self.loop.create_connection(lambda: self, sock=sock)
            return
        raise last or OSError("no address")

    # -- asyncio Protocol ---------------------------------------------------------------------------

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        transport.set_write_buffer_limits(WRITE_HIGH_WATER, WRITE_LOW_WATER)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass
        log.debug(f"{self.describe()} connected")
        self.retries = 0
        now = self.loop.time()
        self.last_read = self.last_write = self.write_mark = now
        if self.congested:
            transport.pause_reading()
        pending = self.pending
        if pending:
            self.pending = []
            self.pending_size = 0
            self._write(pending)
        if not self.write_paused:
            self._hold(False)
        if self.overflowed:
            return self._overflow()
        if self.writing_ended:
            self._end_writing()
        self._arm(now)

    def data_received(self, data: bytes) -> None:
        self.last_read = self.loop.time()
        target = self.target
        if target is None:
            return
        d = _new(Data)  # Data.from_bytes inlined; asyncio never delivers empty data
        d.chunks = [data]
        d.size = len(data)
        try:  # _emit() inlined: one response per call on a proxy's hot path
            target.process(d)
            context = getattr(self.source, "context", None)
            if context is not None:
                group = getattr(context, "group", None)
                if group is not None and group.waiters:
                    group.touch()
        except Exception as e:  # a bug downstream must not take the worker down
            log.error(f"{self.describe()} {type(e).__name__}: {e}")

    def eof_received(self) -> bool:
        # The upstream closed its side: the stream ends normally and the socket closes
        # (Pipy's "connection closed by host").
        log.debug(f"{self.describe()} connection closed by peer")
        self._finish("")
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if exc is None:
            err = ""
        elif isinstance(exc, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
            err = "ConnectionReset"
        else:
            err = "ReadError"
        if not self.done:
            if exc is not None:
                log.warn(f"{self.describe()} error: {exc}")
            self._finish(err)
        self.transport = None

    def pause_writing(self) -> None:
        self.write_paused = True
        self._hold(True)

    def resume_writing(self) -> None:
        self.write_paused = False
        self._hold(False)

    # -- from the filter -----------------------------------------------------------------------------

    def send(self, data: Data) -> None:
        if self.writing_ended or not data.size:
            return
        t = self.transport
        if t is None:
            if not self._buffer(data.chunks, data.size):
                self._overflow()
            return
        limit = self.options.buffer_limit
        if limit > 0 and t.get_write_buffer_size() + data.size > limit:
            self._log_overflow(data.size)
            self._overflow()
            return
        chunks = data.chunks
        if len(chunks) == 1:  # _write() inlined for the usual single chunk
            c = chunks[0]
            t.write(c)
            self.written += len(c)
            self.last_write = self.loop.time()
        else:
            self._write(chunks)

    def _write(self, chunks: list[bytes]) -> None:
        t = self.transport
        if len(chunks) == 1:
            t.write(chunks[0])
            self.written += len(chunks[0])
        else:
            t.writelines(chunks)
            self.written += sum(map(len, chunks))
        self.last_write = self.loop.time()

    def mark(self, event: Any) -> None:
        """MessageStart/MessageEnd: nothing on a byte stream."""

    def end(self) -> None:
        """The input ended: half-close once everything is flushed; keep reading."""
        if self.writing_ended:
            return
        self.writing_ended = True
        if self.transport is not None:
            self._end_writing()

    def _end_writing(self) -> None:
        t = self.transport
        if t is None or t.is_closing():
            return
        if t.can_write_eof():
            t.write_eof()  # asyncio shuts the write side down after the buffer drains
        else:
            t.close()

    def _overflow(self) -> None:
        """Bytes were discarded, so the stream is cut: what was kept is still written (asyncio
        flushes before closing), then the connection closes with BufferOverflow (Pipy closes
        once its buffer drains after an overflow)."""
        self.writing_ended = True
        self.overflowed = True
        t = self.transport
        if t is not None:
            self._finish("BufferOverflow")
            t.close()

    def downstream_congested(self, flag: bool) -> None:
        """The root's peer stopped (True) or started again (False) taking our output."""
        if flag is self.congested:
            return
        self.congested = flag
        t = self.transport
        if t is not None and not t.is_closing():
            try:
                if flag:
                    t.pause_reading()
                else:
                    t.resume_reading()
            except RuntimeError:
                pass

    # -- timeouts -----------------------------------------------------------------------------------

    def _arm(self, now: float) -> None:
        o = self.options
        deadline = _INF
        if o.idle_timeout > 0:
            deadline = max(self.last_read, self.last_write) + o.idle_timeout
        if o.read_timeout > 0:
            deadline = min(deadline, self.last_read + o.read_timeout)
        if o.write_timeout > 0:
            deadline = min(deadline, self.write_mark + o.write_timeout)
        if deadline != _INF:
            self.timer = self.loop.call_at(max(deadline, now + 0.001), self._on_timer)

    def _on_timer(self) -> None:
        self.timer = None
        t = self.transport
        if self.done or t is None:
            return
        now = self.loop.time()
        o = self.options
        if o.read_timeout > 0:
            if self.congested:
                self.last_read = now  # not reading by our own choice: not the peer's fault
            elif now - self.last_read >= o.read_timeout:
                return self._timeout("ReadTimeout")
        if o.write_timeout > 0:
            # Stalled writing: bytes waiting and none of them flushed since the last check.
            waiting = t.get_write_buffer_size()
            flushed = self.written - waiting
            if waiting == 0 or flushed > self.flushed:
                self.write_mark = now
            elif now - self.write_mark >= o.write_timeout:
                return self._timeout("WriteTimeout")
            self.flushed = flushed
        if o.idle_timeout > 0 and now - max(self.last_read, self.last_write) >= o.idle_timeout:
            return self._timeout("IdleTimeout")
        self._arm(now)

    def _timeout(self, error: str) -> None:
        log.error(f"{self.describe()} {error}")
        t = self.transport
        self._finish(error)
        if t is not None:
            t.abort() if error == "WriteTimeout" else t.close()


class OutboundUDP(Outbound, asyncio.DatagramProtocol):
    """A connected UDP socket. A message (MessageStart … MessageEnd) or, outside a message, a
    Data is one datagram; each datagram received is output as MessageStart, Data, MessageEnd
    (as the UDP listener feeds its sessions). Ends after ``idleTimeout`` without traffic."""

    SOCK_TYPE = socket.SOCK_DGRAM
    KIND = "UDP"

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.message: list[bytes] | None = None  # the datagram being collected
        self.datagrams: list[bytes] = []  # whole datagrams waiting for the socket
        self.last_io = 0.0
        self.timer: asyncio.TimerHandle | None = None

    async def _attempt(self, infos: list) -> None:
        family, _, _, _, addr = infos[0]
        await self.loop.create_datagram_endpoint(lambda: self, remote_addr=addr, family=family)

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        log.debug(f"{self.describe()} connected")
        self.last_io = self.loop.time()
        for d in self.datagrams:
            transport.sendto(d)
        self.datagrams = []
        self.pending_size = 0
        self._hold(False)
        if self.writing_ended:
            return self._close_ok()
        self._arm()

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.last_io = self.loop.time()
        self._emit(MessageStart())
        self._emit(Data.from_bytes(data))
        self._emit(MessageEnd())

    def error_received(self, exc: Exception) -> None:
        # ICMP errors on a datagram socket (port unreachable…): UDP has no connection to
        # lose, Pipy goes on; the idle timer ends a dead session.
        log.debug(f"{self.describe()} UDP error: {exc}")

    def connection_lost(self, exc: Exception | None) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        self.transport = None
        if not self.done:
            self._finish("" if exc is None else "ReadError")

    def send(self, data: Data) -> None:
        if self.writing_ended:
            return
        if self.message is not None:
            self.message.extend(data.chunks)
        elif data.size:
            self._datagram(data.to_bytes())

    def mark(self, event: Any) -> None:
        if type(event) is MessageStart:
            self.message = []
        elif self.message is not None:  # MessageEnd
            chunks, self.message = self.message, None
            if not self.writing_ended:
                self._datagram(b"".join(chunks))

    def _datagram(self, d: bytes) -> None:
        t = self.transport
        if t is None:
            if self._buffer([], len(d)):
                self.datagrams.append(d)
        elif not t.is_closing():
            t.sendto(d)
            self.last_io = self.loop.time()

    def end(self) -> None:
        """The input ended: nothing more to send or wait for on a datagram socket."""
        if self.writing_ended:
            return
        self.writing_ended = True
        if self.transport is not None:
            self._close_ok()

    def _close_ok(self) -> None:
        t = self.transport
        self._finish("")
        if t is not None:
            t.close()

    def downstream_congested(self, flag: bool) -> None:
        """Datagrams cannot be held back: a congested downstream drops them further on."""
        self.congested = flag

    def _arm(self) -> None:
        idle = self.options.idle_timeout
        if idle > 0:
            self.timer = self.loop.call_at(self.last_io + idle, self._on_timer)

    def _on_timer(self) -> None:
        self.timer = None
        if self.done:
            return
        if self.loop.time() - self.last_io >= self.options.idle_timeout:
            t = self.transport
            self._finish("IdleTimeout")
            if t is not None:
                t.close()
        else:
            self._arm()


def open_outbound(host: str, port: int, options: OutboundOptions, target: Any,
                  source: Any = None) -> Outbound:
    """Create and start the outbound ``options.protocol`` asks for."""
    cls: Callable[..., Outbound] = OutboundUDP if options.protocol == "udp" else OutboundTCP
    ob = cls(host, port, options, target, source)
    ob.start()
    return ob
