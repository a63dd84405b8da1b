"""Port roots (reference §1.2, §1.3): `listen(port, options)` as TCP and UDP listeners.

TCP: every accepted connection gets one pipeline from the listener's layout, with a fresh
root context whose ``__inbound`` is the connection's ``Inbound``. The peer's bytes go in as
``Data`` (the received ``bytes`` object itself, never copied); the pipeline's output is the
connection: ``Data`` is written, ``StreamEnd`` closes the connection once the written bytes
are flushed, ``MessageStart``/``MessageEnd`` are dropped. When the peer half-closes, the
pipeline gets ``StreamEnd`` and the write side stays open until the pipeline ends its output
(Pipy's "linger"); a reset gives ``StreamEnd('ConnectionReset')``, the timeouts
``ReadTimeout``/``WriteTimeout``/``IdleTimeout`` (then the connection closes).

UDP: one "virtual session" (pipeline) per peer address; each datagram goes in as
``MessageStart, Data, MessageEnd``; each output message (MessageStart … MessageEnd) goes back
to the peer as one datagram. A session ends after ``idleTimeout`` without traffic.

Sockets are asyncio Protocols on the running loop (uvloop under `pipyd`). Flow control in
both directions goes through ``flow.TransportFlow``.
"""
from __future__ import annotations

import asyncio
import errno
import ipaddress
import itertools
import socket
import struct
from dataclasses import dataclass
from typing import Any, Callable

from pipyd import log
from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.flow import WRITE_HIGH_WATER, WRITE_LOW_WATER, TransportFlow
from pipyd.js.values import HostObject, type_error
from pipyd.units import JSOptions, parse_duration, parse_flag, parse_int, parse_protocol

_ids = itertools.count(1)
SOL_IP = 0
SO_ORIGINAL_DST = 80  # linux/netfilter_ipv4.h: the pre-REDIRECT destination (transparent)
IP_TRANSPARENT = 19  # linux/in.h
BACKLOG = 1024
# accept() ran out of descriptors or memory: peers wait in the backlog and accepting resumes
# when one of ours closes, or after this long (nginx waits 500 ms too)
ACCEPT_RETRY = 0.5
_STARVED = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
_new = object.__new__


# -- listen() arguments -------------------------------------------------------------------------

def parse_address(port: Any) -> tuple[str, int]:
    """`listen()`'s first argument: a number (binds 0.0.0.0) or "ip:port" ("[::]:8080")."""
    if type(port) is int or (type(port) is float and port == int(port)):
        ip, num = "0.0.0.0", int(port)
    elif type(port) is str:
        host, sep, num_text = port.rpartition(":")
        if not sep or not num_text.isdigit():
            raise type_error(f"invalid address: {port}")
        ip = host[1:-1] if host.startswith("[") and host.endswith("]") else host
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            raise type_error(f"invalid IP address: {ip}") from None
        num = int(num_text)
    else:
        raise type_error("listen: port expects a number or a string")
    if not 0 <= num <= 65535:
        raise type_error(f"port out of range: {num}")
    return ip, num


@dataclass(slots=True, eq=False)
class ListenOptions(JSOptions):
    """`listen()` options (reference §1.3 [src]); durations are seconds, 0 = none."""

    protocol: str = "tcp"
    max_connections: int = -1
    read_timeout: float = 0.0
    write_timeout: float = 0.0
    idle_timeout: float = 60.0
    transparent: bool = False
    masquerade: bool = False

    WHAT = "listen"
    # listen()'s options, in the order Pipy reads (and reports errors in) them.
    FIELDS = (("protocol", "protocol", parse_protocol),
              ("maxConnections", "max_connections", parse_int),
              ("readTimeout", "read_timeout", parse_duration),
              ("writeTimeout", "write_timeout", parse_duration),
              ("idleTimeout", "idle_timeout", parse_duration),
              ("transparent", "transparent", parse_flag),
              ("masquerade", "masquerade", parse_flag))


# -- the __inbound host object ------------------------------------------------------------------

class Inbound(HostObject):
    """`__inbound` (reference §1.4). Addresses are read from the socket on first use."""

    __slots__ = ("id", "_transport", "_addrs", "_dest", "_target", "_output", "__weakref__")
    js_get = frozenset({"id", "localAddress", "localPort", "remoteAddress", "remotePort",
                        "destinationAddress", "destinationPort", "output"})
    js_class_name = "Inbound"

    def __init__(self, transport: Any, target: Any, addrs: tuple | None = None) -> None:
        self.id = next(_ids)
        self._transport = transport
        self._addrs = addrs  # (local ip, local port, remote ip, remote port) once known
        self._dest: tuple[str, int] | None = None
        self._target = target  # where `output` injects events: the connection's output
        self._output: Output | None = None

    def _get_addrs(self) -> tuple:
        a = self._addrs
        if a is None:
            local = self._transport.get_extra_info("sockname") or ("", 0)
            peer = self._transport.get_extra_info("peername") or ("", 0)
            a = self._addrs = (local[0], local[1], peer[0], peer[1])
        return a

    @property
    def localAddress(self) -> str:
        return self._get_addrs()[0]

    @property
    def localPort(self) -> int:
        return self._get_addrs()[1]

    @property
    def remoteAddress(self) -> str:
        return self._get_addrs()[2]

    @property
    def remotePort(self) -> int:
        return self._get_addrs()[3]

    @property
    def destinationAddress(self) -> str:
        return (self._dest or ("", 0))[0]

    @property
    def destinationPort(self) -> int:
        return (self._dest or ("", 0))[1]

    @property
    def output(self) -> "Output":
        if self._output is None:
            self._output = Output(self._target)
        return self._output

    def __repr__(self) -> str:
        return f"<Inbound {self.id}>"


class Output(HostObject):
    """`__inbound.output`: injects events into the connection's output side (`output()`)."""

    __slots__ = ("target",)
    js_class_name = "Output"

    def __init__(self, target: Any) -> None:
        self.target = target

    def process(self, event: Any) -> None:
        self.target.process(event)


def original_destination(sock: socket.socket) -> tuple[str, int] | None:
    """The destination before an iptables REDIRECT (Linux, IPv4), for `transparent`."""
    try:
        raw = sock.getsockopt(SOL_IP, SO_ORIGINAL_DST, 16)
    except OSError:
        return None
    port, packed = struct.unpack_from("!2xH4s", raw)
    return socket.inet_ntoa(packed), port


# -- sockets ------------------------------------------------------------------------------------

def bind_socket(ip: str, port: int, kind: int, reuse_port: bool,
                transparent: bool = False) -> socket.socket:
    """A bound non-blocking socket; IPv6 "::" is dual-stack so IPv4 peers show as
    ::ffff:a.b.c.d (reference §1.4)."""
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    sock = socket.socket(family, kind)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        if transparent:
            sock.setsockopt(SOL_IP, IP_TRANSPARENT, 1)
        sock.bind((ip, port))
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


class Listener:
    """What TCP and UDP listeners share: address, layout (re-pointed on reload), counts."""

    protocol_name = ""

    def __init__(self, layout: Any, ip: str, port: int, options: ListenOptions | None,
                 new_context: Callable[[Any], Any], reuse_port: bool = False) -> None:
        self.layout = layout
        self.ip = ip
        self.port = port  # the bound port once started (port 0 binds an ephemeral one)
        self.options = options or ListenOptions()
        self.new_context = new_context
        self.reuse_port = reuse_port
        self.sock: socket.socket | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    def repoint(self, layout: Any, new_context: Callable[[Any], Any],
                options: ListenOptions | None = None) -> None:
        """Reload: new connections use the new layout and options; open ones keep theirs
        (§1.6). One exception: a TCP port opened without maxConnections accepts through an
        asyncio server, which cannot pause, so a limit added by a reload is not enforced
        on it until the port is reopened (a warning says so)."""
        self.layout = layout
        self.new_context = new_context
        if options is not None:
            if (getattr(self, "server", None) is not None and options.max_connections > 0):
                log.warn(f"[listener] maxConnections on {self.describe()} takes effect "
                         f"after a restart")
            self.options = options

    def describe(self) -> str:
        return f"{self.protocol_name} port {self.port} at {self.ip}"

    def _bound(self) -> None:
        self.port = self.sock.getsockname()[1]
        log.info(f"[listener] Listening on {self.describe()}")


class TCPListener(Listener):
    """`listen(port)` over TCP. ``start()`` binds; ``stop()`` stops accepting; ``shutdown()``
    also asks open pipelines to finish; ``abort()`` closes what is left."""

    protocol_name = "TCP"

    def __init__(self, *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.connections: set[InboundConnection] = set()
        self.server: asyncio.AbstractServer | None = None
        self.accepting = False
        self.pending = 0  # accepted sockets whose protocol is not made yet (limited mode)
        # out of descriptors: when it began (loop time) and the pending retry
        self.starved_since: float | None = None
        self.retry: asyncio.TimerHandle | None = None

    @property
    def pipelines(self) -> int:
        return len(self.connections)

    def repoint(self, layout: Any, new_context: Callable[[Any], Any],
                options: ListenOptions | None = None) -> None:
        super().repoint(layout, new_context, options)
        if self.loop is not None:
            self._maybe_resume_accept()  # a raised or lifted limit may admit waiting peers

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.sock = bind_socket(self.ip, self.port, socket.SOCK_STREAM, self.reuse_port,
                                self.options.transparent)
        self.sock.listen(BACKLOG)
        if self.options.max_connections > 0:
            # asyncio servers cannot pause accepting; with a limit we accept ourselves, so
            # a full listener leaves new peers waiting in the backlog as Pipy does.
            self.accepting = True
            self.loop.add_reader(self.sock.fileno(), self._on_acceptable)
        else:
            self.server = await self.loop.create_server(
                self._make_protocol, sock=self.sock, backlog=BACKLOG)
        self._bound()

    def _make_protocol(self) -> "InboundConnection":
        return InboundConnection(self)

    def _on_acceptable(self) -> None:
        limit = self.options.max_connections
        if limit <= 0:  # a reload lifted the limit: accept everything from now on
            limit = 1 << 62
        while len(self.connections) + self.pending < limit:
            try:
                conn, _ = self.sock.accept()
            except BlockingIOError:
                if self.starved_since is not None:  # caught up with the backlog
                    self._fed()
                return
            except InterruptedError:
                return
            except OSError as e:
                if e.errno in _STARVED:
                    self._starve(e)
                    return
                # one peer's failure (aborted before we took it, refused by a firewall rule)
                log.warn(f"[listener] error accepting connection on {self.describe()}: {e}")
                continue
            conn.setblocking(False)
            self.pending += 1
            self.loop.create_task(self._adopt(conn))
        self._pause_accept()

    async def _adopt(self, conn: socket.socket) -> None:
        try:
            await self.loop.connect_accepted_socket(self._make_protocol, conn)
        except OSError as e:
            log.warn(f"[listener] error starting connection: {e}")
            conn.close()
        finally:
            self.pending -= 1
            self._maybe_resume_accept()

    def _starve(self, e: OSError) -> None:
        """Out of descriptors: the listening socket stays readable, so polling it again would
        spin (and log) at full speed. Stop, say so once, and retry later or on a close."""
        self._pause_accept()
        if self.starved_since is None:
            self.starved_since = self.loop.time()
            log.error(f"[listener] cannot accept on {self.describe()}: {e.strerror}; "
                      f"{len(self.connections) + self.pending} connections open, new ones wait "
                      f"in the backlog (raise the open-files limit, ulimit -n, or set "
                      f"maxConnections below it)")
        if self.retry is not None:
            self.retry.cancel()
        self.retry = self.loop.call_later(ACCEPT_RETRY, self._maybe_resume_accept)

    def _fed(self) -> None:
        waited = self.loop.time() - self.starved_since
        self.starved_since = None
        if self.retry is not None:
            self.retry.cancel()
            self.retry = None
        log.info(f"[listener] accepting again on {self.describe()} after {waited:.1f} s")

    def _pause_accept(self) -> None:
        if self.accepting:
            self.accepting = False
            self.loop.remove_reader(self.sock.fileno())

    def _maybe_resume_accept(self) -> None:
        limit = self.options.max_connections
        if (not self.accepting and self.sock is not None and self.server is None
                and (limit <= 0 or len(self.connections) + self.pending < limit)):
            self.accepting = True
            self.loop.add_reader(self.sock.fileno(), self._on_acceptable)

    def _opened(self, conn: "InboundConnection") -> None:
        self.connections.add(conn)

    def _closed(self, conn: "InboundConnection") -> None:
        self.connections.discard(conn)
        if self.server is None:
            self._maybe_resume_accept()

    def stop(self) -> None:
        """Stop accepting and release the port; open connections go on."""
        if self.sock is None:
            return
        if self.server is not None:
            self.server.close()
            self.server = None
        else:
            self._pause_accept()
            if self.retry is not None:
                self.retry.cancel()
                self.retry = None
            self.sock.close()
        self.sock = None
        log.info(f"[listener] Stopped listening on {self.describe()}")

    def shutdown(self) -> None:
        """Graceful stop: no new connections; each pipeline is asked to finish (an idle
        HTTP keep-alive connection then closes, a busy one after its response)."""
        self.stop()
        for conn in list(self.connections):
            conn.shutdown()

    def abort(self) -> None:
        """Close every remaining connection now."""
        for conn in list(self.connections):
            conn.abort()


class InboundConnection(asyncio.Protocol):
    """One accepted TCP connection: the transport, its pipeline, and its timers."""

    __slots__ = ("listener", "transport", "pipeline", "flow", "inbound", "input_ended",
                 "output_ended", "last_read", "last_write", "write_mark", "timer", "options",
                 "clock", "write_bytes", "opened", "__weakref__")

    def __init__(self, listener: TCPListener) -> None:
        self.listener = listener
        self.options = listener.options
        self.pipeline: Any = None
        self.input_ended = False
        self.output_ended = False
        self.timer: asyncio.TimerHandle | None = None

    # -- asyncio Protocol ---------------------------------------------------------------------

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        self.write_bytes = transport.write  # bound once: the hot path writes once per response
        self.clock = listener_loop_time = self.listener.loop.time
        self.flow = TransportFlow(transport)
        transport.set_write_buffer_limits(WRITE_HIGH_WATER, WRITE_LOW_WATER)
        listener = self.listener
        self.inbound = inbound = Inbound(transport, self)
        if self.options.transparent:
            sock = transport.get_extra_info("socket")
            inbound._dest = original_destination(sock) if sock is not None else None
        listener._opened(self)
        now = listener_loop_time()
        self.last_read = self.last_write = self.write_mark = self.opened = now  # opened: /dump age
        self._arm(now)
        try:
            self.pipeline = listener.layout.instantiate(
                listener.new_context(inbound), self, (), self.flow)
        except Exception as e:
            log.error(f"[inbound] cannot start pipeline: {e}")
            self.abort()

    def data_received(self, data: bytes) -> None:
        self.last_read = self.clock()
        d = _new(Data)  # Data.from_bytes inlined; asyncio never delivers empty data
        d.chunks = [data]
        d.size = len(data)
        p = self.pipeline
        try:
            p.head.process(d)  # Pipeline.input inlined
            group = p.context.group
            if group is not None and group.waiters:  # context.touch_group inlined (hot path)
                group.touch()
        except Exception as e:  # a bug below us must not take the worker down
            self._internal_error(e)

    def eof_received(self) -> bool:
        # Half-close: the pipeline sees the end of its input and may still answer; the
        # socket closes when the pipeline outputs StreamEnd (or a timeout fires).
        self._end_input("")
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self.flow.close()
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if not self.input_ended and not self.output_ended:
            err = "" if exc is None else (
                "ConnectionReset" if isinstance(exc, ConnectionResetError) else "ReadError")
            self._end_input(err)
        self.output_ended = True
        self.listener._closed(self)
        p = self.pipeline
        if p is not None:
            self.pipeline = None
            p.end()

    def pause_writing(self) -> None:
        self.flow.pause_writing()

    def resume_writing(self) -> None:
        self.flow.resume_writing()

    # -- the pipeline's output ----------------------------------------------------------------

    def process(self, event: Any) -> None:
        t = type(event)
        if t is Data:
            if self.output_ended:
                return
            chunks = event.chunks
            if len(chunks) == 1:
                self.write_bytes(chunks[0])
            elif chunks:
                self.transport.writelines(chunks)
            else:
                return
            self.last_write = self.clock()
        elif t is StreamEnd:
            if not self.output_ended:
                self.output_ended = True
                self.transport.close()  # asyncio flushes the write buffer first

    # -- ending -------------------------------------------------------------------------------

    def _end_input(self, error: str) -> None:
        if self.input_ended:
            return
        self.input_ended = True
        p = self.pipeline
        if p is not None:
            try:
                p.input(StreamEnd(error))
            except Exception as e:
                self._internal_error(e)

    def shutdown(self) -> None:
        p = self.pipeline
        if p is not None:
            p.shutdown()

    def abort(self) -> None:
        self.output_ended = True
        self.transport.abort()

    def _internal_error(self, e: Exception) -> None:
        log.error(f"[inbound] {type(e).__name__}: {e}")
        self.abort()

    # -- timeouts: one timer per connection, re-armed lazily ------------------------------------

    def _arm(self, now: float) -> None:
        o = self.options
        deadline = float("inf")
        if o.idle_timeout > 0:
            deadline = max(self.last_read, self.last_write) + o.idle_timeout
        if o.read_timeout > 0:
            deadline = min(deadline, self.last_read + o.read_timeout)
        if o.write_timeout > 0:
            deadline = min(deadline, self.write_mark + o.write_timeout)
        if deadline != float("inf"):
            self.timer = self.listener.loop.call_at(max(deadline, now + 0.001), self._on_timer)

    def _on_timer(self) -> None:
        self.timer = None
        if self.pipeline is None:
            return
        now = self.listener.loop.time()
        o = self.options
        if o.read_timeout > 0:
            if self.flow.read_paused:
                self.last_read = now  # time spent paused by us is not the peer's fault
            elif now - self.last_read >= o.read_timeout:
                return self._timeout("ReadTimeout")
        if o.write_timeout > 0:
            # Stalled writing: bytes waiting and none flushed since the last check.
            if self.transport.get_write_buffer_size() == 0:
                self.write_mark = now
            elif now - self.write_mark >= o.write_timeout:
                return self._timeout("WriteTimeout")
        if o.idle_timeout > 0 and now - max(self.last_read, self.last_write) >= o.idle_timeout:
            return self._timeout("IdleTimeout")
        self._arm(now)

    def _timeout(self, error: str) -> None:
        self._end_input(error)
        if not self.output_ended:
            self.output_ended = True
            if error == "WriteTimeout":
                self.transport.abort()
            else:
                self.transport.close()


# -- UDP ----------------------------------------------------------------------------------------

class UDPListener(Listener, asyncio.DatagramProtocol):
    """`listen(port, {protocol: 'udp'})`: one session pipeline per peer address."""

    protocol_name = "UDP"

    def __init__(self, *args: Any, **kw: Any) -> None:
        Listener.__init__(self, *args, **kw)
        self.sessions: dict[Any, UDPSession] = {}
        self.transport: asyncio.DatagramTransport | None = None
        self.receiving = False

    @property
    def pipelines(self) -> int:
        return len(self.sessions)

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.sock = bind_socket(self.ip, self.port, socket.SOCK_DGRAM, self.reuse_port,
                                self.options.transparent)
        self.transport, _ = await self.loop.create_datagram_endpoint(lambda: self, sock=self.sock)
        self.receiving = True
        self._bound()

    def datagram_received(self, data: bytes, addr: Any) -> None:
        if not self.receiving:
            return
        s = self.sessions.get(addr)
        if s is None:
            limit = self.options.max_connections
            if 0 < limit <= len(self.sessions):
                return  # full: the datagram is dropped (UDP cannot be held back)
            s = UDPSession(self, addr)
            if s.pipeline is None:
                return
            self.sessions[addr] = s
        s.receive(data)

    def error_received(self, exc: Exception) -> None:
        log.debug(f"[listener] UDP error: {exc}")

    def stop(self) -> None:
        if self.sock is None:
            return
        self.receiving = False
        if self.transport is not None and not self.sessions:
            self.transport.close()
        self.sock = None
        log.info(f"[listener] Stopped listening on {self.describe()}")

    def shutdown(self) -> None:
        """Graceful stop. A UDP session has no request in flight: once its pipeline was told to
        finish and the socket stops receiving, it would only wait out its idle timeout, so it
        ends now (its input gets StreamEnd)."""
        self.stop()
        for s in list(self.sessions.values()):
            if s.pipeline is not None:
                s.pipeline.shutdown()
            s.end("")

    def abort(self) -> None:
        for s in list(self.sessions.values()):
            s.end("")
        if self.transport is not None:
            self.transport.close()

    def _ended(self, s: "UDPSession") -> None:
        if self.sessions.get(s.addr) is s:
            del self.sessions[s.addr]
        if not self.receiving and not self.sessions and self.transport is not None:
            self.transport.close()


class UDPSession:
    """One peer of a UDP listener: its pipeline, its idle timer, the message being output."""

    __slots__ = ("listener", "addr", "pipeline", "inbound", "buffer", "started",
                 "last_io", "timer")

    def __init__(self, listener: UDPListener, addr: Any) -> None:
        self.listener = listener
        self.addr = addr
        self.buffer: list[bytes] = []
        self.started = False
        self.timer: asyncio.TimerHandle | None = None
        self.pipeline: Any = None
        local = listener.sock.getsockname() if listener.sock is not None else ("", 0)
        self.inbound = Inbound(listener.transport, self, (local[0], local[1], addr[0], addr[1]))
        self.last_io = listener.loop.time()
        self._arm()
        try:
            self.pipeline = listener.layout.instantiate(listener.new_context(self.inbound), self)
        except Exception as e:
            log.error(f"[inbound] cannot start pipeline: {e}")
            self.end("")

    def receive(self, data: bytes) -> None:
        self.last_io = self.listener.loop.time()
        p = self.pipeline
        p.input(MessageStart())
        p.input(Data.from_bytes(data))
        p.input(MessageEnd())

    def process(self, event: Any) -> None:
        t = type(event)
        if t is Data:
            if self.started:
                self.buffer.extend(event.chunks)
        elif t is MessageStart:
            self.started = True
            self.buffer = []
        elif t is MessageEnd:
            if self.started:
                self.started = False
                transport = self.listener.transport
                if transport is not None and not transport.is_closing():
                    transport.sendto(b"".join(self.buffer), self.addr)
                    self.last_io = self.listener.loop.time()
                self.buffer = []
        # StreamEnd: a UDP session has nothing to close; it ends when idle (as Pipy)

    def _arm(self) -> None:
        idle = self.listener.options.idle_timeout
        if idle > 0:
            self.timer = self.listener.loop.call_at(self.last_io + idle, self._on_timer)

    def _on_timer(self) -> None:
        self.timer = None
        idle = self.listener.options.idle_timeout
        if self.listener.loop.time() - self.last_io >= idle:
            self.end("IdleTimeout")
        else:
            self._arm()

    def end(self, error: str) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        p = self.pipeline
        self.pipeline = None
        if p is not None:
            try:
                p.input(StreamEnd(error))
            finally:
                p.end()
        self.listener._ended(self)


# -- graceful shutdown of a set of roots ----------------------------------------------------------

async def graceful_shutdown(roots: list, timeout: float, poll: float = 1.0) -> bool:
    """Stop every root (listeners, tasks, readers), ask their pipelines to finish, wait up to
    ``timeout`` seconds logging Pipy's "[shutdown] Waiting for remaining N pipelines...",
    then abort what is left. Returns whether everything finished in time."""
    for r in roots:
        r.shutdown()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        n = sum(r.pipelines for r in roots)
        if n == 0:
            return True
        left = deadline - loop.time()
        if left <= 0:
            break
        log.info(f"[shutdown] Waiting for remaining {n} pipelines...")
        await asyncio.sleep(min(poll, left))
    for r in roots:
        r.abort()
    return False
