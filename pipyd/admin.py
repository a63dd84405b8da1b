"""The admin port: ``--admin-port=[[ip]:]port`` serves ``GET /metrics`` in the Prometheus text
exposition format 0.0.4 (reference §6: Pipy's admin service endpoints include ``/metrics``).

What is served: every metric scripts define with ``stats.Counter/Gauge/Histogram``
(``pipyd.api.stats.render_prometheus``) followed by a few the daemon keeps itself:

- ``pipyd_inbound_connections{listen="<ip>:<port>"}``: open connections per TCP listener;
- ``pipyd_pipelines``: root pipelines alive (connections, running tasks and readers, and those
  of a previous codebase still finishing after a reload).

Only ``/metrics`` exists (no GUI, no repo API: pipyd has neither); other paths answer 404 and
other methods 405. HTTP/1.1 with keep-alive through h11, one small protocol object per
connection. The worker is asked for through a callable because a reload replaces it.
"""
from __future__ import annotations

import asyncio
from typing import Any, Callable

import h11

from pipyd import log
from pipyd.api.stats import render_prometheus

CONTENT_TYPE = b"text/plain; version=0.0.4; charset=utf-8"
DEFAULT_PORT = 6060


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


class AdminConnection(asyncio.Protocol):
    """One admin client: requests parsed by h11, answered at once (they have no body to wait
    for beyond what h11 reads)."""

    def __init__(self, get_worker: Callable[[], Any]) -> None:
        self.get_worker = get_worker
        self.conn = h11.Connection(h11.SERVER)
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.conn.receive_data(data)
        self._drain()

    def eof_received(self) -> bool | None:
        self.conn.receive_data(b"")
        self._drain()
        return None

    def _drain(self) -> None:
        while self.transport is not None:
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
        path = req.target.split(b"?", 1)[0]
        if path != b"/metrics":
            self._answer(404, b"Not Found\n")
        elif req.method not in (b"GET", b"HEAD"):
            self._answer(405, b"Method Not Allowed\n", extra=[(b"allow", b"GET, HEAD")])
        else:
            body = render_metrics(self.get_worker())
            self._answer(200, body, CONTENT_TYPE, head_only=req.method == b"HEAD")

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
                      get_worker: Callable[[], Any] = lambda: None) -> asyncio.AbstractServer:
    """Serve the admin port on ``ip:port`` (``ip`` empty: every interface). ``get_worker``
    returns the Worker serving now (reload swaps it). Close with ``server.close()``."""
    server = await loop.create_server(lambda: AdminConnection(get_worker),
                                      host=ip or None, port=port, reuse_address=True)
    bound = server.sockets[0].getsockname()[1] if server.sockets else port
    log.info(f"[admin] Listening on port {bound} at {ip or '::'}")
    return server
