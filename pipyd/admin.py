"""The admin port: ``--admin-port=[[ip]:]port`` serves ``GET /metrics`` (Prometheus text
exposition format 0.0.4) and ``GET /dump/<section>[+<section>…]`` (reference §6: Pipy's admin
service endpoints; the sections are described in ``pipyd/admin_dump.py``).

``/metrics``: every metric scripts define with ``stats.Counter/Gauge/Histogram``
(``pipyd.api.stats.render_prometheus``) followed by a few the daemon keeps itself:

- ``pipyd_inbound_connections{listen="<ip>:<port>"}``: open connections per TCP listener;
- ``pipyd_pipelines``: root pipelines alive (connections, running tasks and readers, and those
  of a previous codebase still finishing after a reload).

No GUI, no repo API (pipyd has neither): other paths answer 404, methods other than GET and
HEAD 405. HTTP/1.1 with keep-alive through h11, one small protocol object per connection. The
worker is asked for through a callable because a reload replaces it.

With ``--threads N`` only worker 0 binds the admin port (the others would fight over it); every
worker also serves the same requests on a Unix socket of its own, ``<tmp>/pipyd-admin-<supervisor
pid>/<index>-<pid>.sock``, and worker 0 asks each of them. ``/metrics`` then answers the sum
over workers of each sample (one proxy seen from outside: counters, histogram buckets and
connection gauges add up; as prometheus_client's multiprocess mode with ``sum`` gauges), and
``/dump`` one block per worker, headed ``# worker <index> (pid <pid>)``. A worker that does not
answer within PEER_TIMEOUT is reported as such; a socket nobody listens on any more (a crashed
worker) is removed.
"""
from __future__ import annotations

import asyncio
import glob
import os
import tempfile
from typing import Any, Callable

import h11

from pipyd import log
from pipyd.admin_dump import SECTIONS, parse_sections, render_dump
from pipyd.api.stats import render_prometheus

CONTENT_TYPE = b"text/plain; version=0.0.4; charset=utf-8"
DUMP_TYPE = b"text/plain; charset=utf-8"
DEFAULT_PORT = 6060
PEER_TIMEOUT = 2.0


def parse_admin_address(text: str) -> tuple[str, int]:
    """``[[ip]:]port`` as Pipy reads it: ``6060``, ``:6060``, ``127.0.0.1:6060``,
    ``[::1]:6060``. An empty ip means every interface. Raises ValueError."""
    ip, sep, port = text.rpartition(":")
    if not sep:
        ip = ""
    if ip.startswith("[") and ip.endswith("]"):
        ip = ip[1:-1]
    n = int(port)
    if not 0 <= n <= 65535:
        raise ValueError(f"invalid port: {port}")
    return ip, n


def builtin_metrics(worker: Any) -> str:
    """The daemon's own metrics for ``worker`` (None: nothing running)."""
    roots = getattr(worker, "roots", None)
    lines = ["# TYPE pipyd_inbound_connections gauge"]
    for listener in (roots.listeners.values() if roots is not None else ()):
        conns = getattr(listener, "connections", None)
        if conns is not None:
            lines.append(f'pipyd_inbound_connections{{listen="{listener.ip}:{listener.port}"}} '
                         f"{len(conns)}")
    lines.append("# TYPE pipyd_pipelines gauge")
    lines.append(f"pipyd_pipelines {roots.pipelines() if roots is not None else 0}")
    return "\n".join(lines) + "\n"


def render_metrics(worker: Any = None) -> bytes:
    return (render_prometheus() + builtin_metrics(worker)).encode("utf-8")


def merge_metrics(texts: list[str]) -> str:
    """Several workers' expositions as one: samples with the same name and labels add up; the
    order is the first worker's, then what only later ones have. Reads only what
    ``render_metrics`` writes (``# TYPE`` lines, ``name{labels} value`` lines)."""
    families: dict[str, tuple[str, dict[str, float | int]]] = {}
    current: dict[str, float | int] = {}
    for text in texts:
        for line in text.splitlines():
            if line.startswith("# TYPE "):
                name = line.split()[2]
                if name not in families:
                    families[name] = (line, {})
                current = families[name][1]
            elif line and not line.startswith("#"):
                key, _, value = line.rpartition(" ")
                n: float | int = int(value) if value.lstrip("-").isdigit() else float(value)
                current[key] = current.get(key, 0) + n
    out = []
    for type_line, samples in families.values():
        out.append(type_line)
        out.extend(f"{key} {_number(v)}" for key, v in samples.items())
    return "\n".join(out) + "\n" if out else ""


def _number(v: float | int) -> str:
    if type(v) is int:
        return str(v)
    if v != v:
        return "NaN"
    if v in (float("inf"), float("-inf")):
        return "+Inf" if v > 0 else "-Inf"
    return repr(int(v)) if v.is_integer() and abs(v) < 2 ** 53 else repr(v)


# -- workers of one supervisor ------------------------------------------------------------------

class Peers:
    """This worker's place among its supervisor's workers: its own socket path, the others'."""

    def __init__(self, index: int, directory: str | None = None) -> None:
        self.index = index
        self.directory = directory or os.path.join(tempfile.gettempdir(),
                                                   f"pipyd-admin-{os.getppid()}")
        self.path = os.path.join(self.directory, f"{index}-{os.getpid()}.sock")

    def others(self) -> list[str]:
        paths = glob.glob(os.path.join(self.directory, "*-*.sock"))
        return sorted((p for p in paths if p != self.path), key=_socket_order)

    async def ask(self, path: str, target: bytes) -> bytes | None:
        """``GET target`` on another worker's socket; None when it does not answer."""
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(path),
                                                    PEER_TIMEOUT)
        except ConnectionRefusedError:
            _unlink(path)  # nobody listens: a worker that crashed
            return None
        except (OSError, asyncio.TimeoutError):
            return None
        try:
            writer.write(b"GET " + target + b" HTTP/1.1\r\nhost: peer\r\nconnection: close\r\n\r\n")
            raw = await asyncio.wait_for(reader.read(), PEER_TIMEOUT)
        except (OSError, asyncio.TimeoutError):
            return None
        finally:
            writer.close()
        return _response_body(raw)


def _socket_order(path: str) -> tuple[int, str]:
    index = os.path.basename(path).split("-", 1)[0]
    return (int(index) if index.isdigit() else 1 << 30, path)


def _response_body(raw: bytes) -> bytes | None:
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="GET", target="/", headers=[("host", "peer")]))
    conn.send(h11.EndOfMessage())
    conn.receive_data(raw)
    conn.receive_data(b"")
    body, status = b"", 0
    try:
        while (event := conn.next_event()) not in (h11.NEED_DATA, h11.PAUSED):
            if type(event) is h11.Response:
                status = event.status_code
            elif type(event) is h11.Data:
                body += event.data
            elif type(event) in (h11.EndOfMessage, h11.ConnectionClosed):
                break
    except h11.RemoteProtocolError:
        return None
    return body if status == 200 else None


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


# -- what is served -----------------------------------------------------------------------------

class AdminService:
    """Answers for one worker process; ``peers`` set: also asks the other workers (worker 0
    behind the admin port), unset: only this one (every worker's own socket)."""

    def __init__(self, get_worker: Callable[[], Any], peers: Peers | None = None,
                 index: int = 0) -> None:
        self.get_worker = get_worker
        self.peers = peers
        self.index = index

    def local_dump(self, names: list[str]) -> bytes:
        text = f"# worker {self.index} (pid {os.getpid()})\n"
        return (text + render_dump(self.get_worker(), names)).encode("utf-8")

    async def metrics(self) -> bytes:
        local = render_metrics(self.get_worker())
        if self.peers is None:
            return local
        texts = [local.decode("utf-8")]
        for body in await self._ask_all(b"/metrics"):
            if body is not None:
                texts.append(body.decode("utf-8"))
        return merge_metrics(texts).encode("utf-8") if len(texts) > 1 else local

    async def dump(self, names: list[str]) -> bytes:
        local = self.local_dump(names)
        if self.peers is None:
            return local
        others = self.peers.others()
        bodies = await self._ask_all(b"/dump/" + "+".join(names).encode(), others)
        parts = [local]
        for path, body in zip(others, bodies):
            parts.append(body if body is not None else
                         f"# worker at {path}: no answer\n\n".encode())
        return b"".join(parts)

    async def _ask_all(self, target: bytes, paths: list[str] | None = None) -> list[bytes | None]:
        assert self.peers is not None
        paths = self.peers.others() if paths is None else paths
        return list(await asyncio.gather(*(self.peers.ask(p, target) for p in paths)))


class AdminConnection(asyncio.Protocol):
    """One admin client: requests parsed by h11 and answered in order (an answer that has to
    wait for the other workers holds the next request back)."""

    def __init__(self, service: AdminService) -> None:
        self.service = service
        self.conn = h11.Connection(h11.SERVER)
        self.transport: asyncio.Transport | None = None
        self.busy: asyncio.Task | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.conn.receive_data(data)
        self._drain()

    def eof_received(self) -> bool | None:
        self.conn.receive_data(b"")
        self._drain()
        return True  # half-closed: an answer still being made is sent before closing

    def _drain(self) -> None:
        while self.transport is not None and self.busy is None:
            try:
                event = self.conn.next_event()
            except h11.RemoteProtocolError:
                self._answer(400, b"Bad Request\n", close=True)
                return
            if event is h11.NEED_DATA:
                return
            if isinstance(event, h11.Request):
                self._request(event)
            elif event is h11.PAUSED:  # answered: the next request on this connection
                if self.conn.our_state is h11.DONE and self.conn.their_state is h11.DONE:
                    self.conn.start_next_cycle()
                else:
                    self._close()
                    return
            elif isinstance(event, h11.ConnectionClosed):
                self._close()
                return

    def _request(self, req: h11.Request) -> None:
        path = req.target.split(b"?", 1)[0].decode("latin-1")
        head_only = req.method == b"HEAD"
        if path != "/metrics" and not path.startswith("/dump/") and path != "/dump":
            self._answer(404, b"Not Found\n")
        elif req.method not in (b"GET", b"HEAD"):
            self._answer(405, b"Method Not Allowed\n", extra=[(b"allow", b"GET, HEAD")])
        elif path == "/metrics":
            self._later(self.service.metrics(), CONTENT_TYPE, head_only)
        else:
            names, unknown = parse_sections(path[len("/dump/"):])
            if unknown or not names:
                bad = ", ".join(repr(n) for n in unknown) or "none given"
                msg = f"Unknown dump section: {bad}; valid: {', '.join(SECTIONS)} (join with +)\n"
                self._answer(404, msg.encode())
            else:
                self._later(self.service.dump(names), DUMP_TYPE, head_only)

    def _later(self, body: Any, ctype: bytes, head_only: bool) -> None:
        async def run() -> None:
            try:
                data = await body
            except Exception as e:  # a bug in a dump must not leave the client waiting
                log.error(f"[admin] {type(e).__name__}: {e}")
                data, status = b"Internal Server Error\n", 500
            else:
                status = 200
            self.busy = None
            if self.transport is not None:
                self._answer(status, data, ctype if status == 200 else b"text/plain",
                             head_only=head_only)
                self._drain()
        self.busy = asyncio.get_running_loop().create_task(run())

    def _answer(self, status: int, body: bytes, ctype: bytes = b"text/plain",
                extra: list | None = None, close: bool = False, head_only: bool = False) -> None:
        headers = [(b"content-type", ctype), (b"content-length", str(len(body)).encode()),
                   *(extra or [])]
        if close:
            headers.append((b"connection", b"close"))
        try:
            out = self.conn.send(h11.Response(status_code=status, headers=headers))
            if not head_only:
                out += self.conn.send(h11.Data(data=body))
            out += self.conn.send(h11.EndOfMessage())
        except h11.LocalProtocolError:
            self._close()
            return
        assert self.transport is not None
        self.transport.write(out)
        if close or self.conn.our_state is h11.MUST_CLOSE:
            self._close()

    def _close(self) -> None:
        if self.transport is not None:
            self.transport.close()
            self.transport = None

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


async def start_admin(loop: asyncio.AbstractEventLoop, ip: str, port: int,
                      get_worker: Callable[[], Any] = lambda: None,
                      peers: Peers | None = None) -> asyncio.AbstractServer:
    """Serve the admin port on ``ip:port`` (``ip`` empty: every interface). ``get_worker``
    returns the Worker serving now (reload swaps it); ``peers``: also answer for the other
    workers of this supervisor. Close with ``server.close()``."""
    index = peers.index if peers is not None else 0
    service = AdminService(get_worker, peers, index)
    server = await loop.create_server(lambda: AdminConnection(service),
                                      host=ip or None, port=port, reuse_address=True)
    bound = server.sockets[0].getsockname()[1] if server.sockets else port
    log.info(f"[admin] Listening on port {bound} at {ip or '::'}")
    return server


class AdminEndpoints:
    """What a daemon process runs for ``--admin-port``: the port (worker 0, or the only
    process) and, under a supervisor, this worker's socket. ``close()`` stops both."""

    def __init__(self) -> None:
        self.servers: list[asyncio.AbstractServer] = []
        self.socket_path: str | None = None

    def close(self) -> None:
        for server in self.servers:
            server.close()
        if self.socket_path is not None:
            _unlink(self.socket_path)
            try:
                os.rmdir(os.path.dirname(self.socket_path))  # the last worker out
            except OSError:
                pass


async def start_admin_endpoints(loop: asyncio.AbstractEventLoop, address: tuple[str, int],
                                get_worker: Callable[[], Any]) -> AdminEndpoints:
    """``--admin-port`` in a daemon process. Under a supervisor (PIPYD_SUPERVISED=1) every
    worker listens on its socket and worker 0 also on the port; alone, only the port. Errors
    are logged: a missing admin port never stops the proxy."""
    ends = AdminEndpoints()
    peers = None
    if os.environ.get("PIPYD_SUPERVISED") == "1":
        peers = Peers(int(os.environ.get("PIPYD_WORKER_INDEX", "0") or 0))
        try:
            os.makedirs(peers.directory, mode=0o700, exist_ok=True)
            if os.stat(peers.directory).st_uid != os.getuid():  # not ours: another user's trap
                raise PermissionError(1, "directory owned by another user")
            _unlink(peers.path)
            service = AdminService(get_worker, None, peers.index)
            ends.servers.append(await loop.create_unix_server(
                lambda: AdminConnection(service), path=peers.path))
            ends.socket_path = peers.path
        except OSError as e:
            log.error(f"[admin] cannot listen on {peers.path}: {e.strerror}")
        if peers.index != 0:
            return ends
    try:
        ends.servers.append(await start_admin(loop, address[0], address[1], get_worker, peers))
    except OSError as e:
        log.error(f"[admin] cannot listen on port {address[1]}: {e.strerror}")
    return ends
