"""pipyd as a reverse proxy / API gateway, end to end: Pipy 0.70 tutorial-style programs
(routing, load balancing, connection sharing) on the real daemon against real upstreams
(``upstreams.py``), their failure modes (502, 504, a cut response), pipelining, large bodies
streamed with bounded memory, back-pressure from a slow client, and reload with a request in
flight."""
from __future__ import annotations

import signal
import socket
import threading
import time

import h11
import pytest

from .daemon import free_port, http_exchange
from .upstreams import RSSWatch, Upstream

MiB = 1 << 20


@pytest.fixture
def upstream():
    made: list[Upstream] = []

    def make(mode: str = "ok", **kw) -> Upstream:
        u = Upstream(mode, **kw)
        made.append(u)
        return u

    yield make
    for u in made:
        u.stop()


class Client:
    """One keep-alive client connection framed by h11 (independent of pipyd's HTTP code)."""

    def __init__(self, port: int, timeout: float = 10.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.conn = h11.Connection(h11.CLIENT)

    def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes, bytes]:
        """(status, reason, body) of one exchange."""
        headers = [("host", "gw.test")]
        if body:
            headers.append(("content-length", str(len(body))))
        out = self.conn.send(h11.Request(method=method, target=path, headers=headers))
        if body:
            out += self.conn.send(h11.Data(data=body))
        out += self.conn.send(h11.EndOfMessage())
        self.sock.sendall(out)
        status, reason, data = 0, b"", b""
        while True:
            ev = self.conn.next_event()
            if ev is h11.NEED_DATA:
                self.conn.receive_data(self.sock.recv(65536))
            elif type(ev) is h11.Response:
                status, reason = ev.status_code, ev.reason
            elif type(ev) is h11.Data:
                data += ev.data
            elif type(ev) is h11.EndOfMessage:
                break
            elif type(ev) is h11.ConnectionClosed:
                raise ConnectionError("closed")
        if self.conn.our_state is h11.DONE and self.conn.their_state is h11.DONE:
            self.conn.start_next_cycle()
        return status, reason, data

    def close(self) -> None:
        self.sock.close()


def get(port: int, path: str) -> tuple[int, bytes, bytes]:
    c = Client(port)
    try:
        return c.request("GET", path)
    finally:
        c.close()


# The tutorial's routing + load-balancing proxy (parts 4 and 5): the router maps a path to a
# balancer, the balancer hands out a resource per client connection, muxHTTP shares upstream
# connections per resource (`_target`), connect() goes to the resource's target.
GATEWAY = """((
  router = new algo.URLRouter({
%(routes)s
  }),
) => pipy({
  _target: undefined,
})
.listen(%(port)d)
  .demuxHTTP().to(
    $=>$.handleMessageStart(
      msg => (
        _target = router.find(msg.head.headers.host, msg.head.path)?.next?.()
      )
    )
    .branch(
      () => Boolean(_target), (
        $=>$.muxHTTP(%(key)s).to(
          $=>$.connect(() => _target.id%(connect_opts)s)
        )
      ), (
        $=>$.replaceMessage(new Message({ status: 404 }, 'No route'))
      )
    )
  )
)()
"""


def gateway(port: int, routes: dict[str, list[str]], key: str = "() => _target",
            connect_opts: str = "") -> str:
    lines = ",\n".join(f"    '{p}': new algo.RoundRobinLoadBalancer({list(t)!r})"
                       for p, t in routes.items())
    return GATEWAY % {"routes": lines, "port": port, "key": key,
                      "connect_opts": ", " + connect_opts if connect_opts else ""}


def test_url_router_routes_and_404_fallback(daemon, port, upstream):
    a, b = upstream(name="A"), upstream(name="B")
    daemon(gateway(port, {"/a/*": [a.target], "/b/*": [b.target]}), ports=[port])
    assert get(port, "/a/x") == (200, b"OK", b"A GET /a/x 0")
    assert get(port, "/b/y?q=1") == (200, b"OK", b"B GET /b/y?q=1 0")
    assert get(port, "/a") == (200, b"OK", b"A GET /a 0")  # '/a/*' includes '/a'
    assert get(port, "/c") == (404, b"Not Found", b"No route")
    assert (a.hits, b.hits) == (2, 1)


def test_round_robin_across_three_targets(daemon, port, upstream):
    ups = [upstream(name=n) for n in "XYZ"]
    daemon(gateway(port, {"/*": [u.target for u in ups]}), ports=[port])
    names = [get(port, f"/r{i}")[2].split()[0] for i in range(9)]
    assert [u.hits for u in ups] == [3, 3, 3]
    assert names[:3] in ([b"X", b"Y", b"Z"],)  # in the order given
    # one client connection keeps its resource (balancer.next() borrows for __inbound)
    c = Client(port)
    got = {c.request("GET", f"/k{i}")[2].split()[0] for i in range(4)}
    c.close()
    assert len(got) == 1


def test_two_requests_on_one_connection_go_to_two_targets(daemon, port, upstream):
    """Tutorial 4's connection sharing problem, solved by keying muxHTTP by `_target`."""
    a, b = upstream(name="A"), upstream(name="B")
    daemon(gateway(port, {"/a/*": [a.target], "/b/*": [b.target]}), ports=[port])
    c = Client(port)
    assert c.request("GET", "/a/1")[2] == b"A GET /a/1 0"
    assert c.request("GET", "/b/1")[2] == b"B GET /b/1 0"
    assert c.request("POST", "/a/2", b"xyz")[2] == b"A POST /a/2 3"
    c.close()
    assert (a.hits, b.hits) == (2, 1)


def test_connection_sharing_problem_with_default_key(daemon, port, upstream):
    """With muxHTTP() keyed by __inbound, the session made for the first request (and its
    cloned context's `_target`) serves the connection's later requests too — what tutorial 4
    shows before fixing it. Pipy behaves so; pipyd must too."""
    a, b = upstream(name="A"), upstream(name="B")
    daemon(gateway(port, {"/a/*": [a.target], "/b/*": [b.target]}, key=""), ports=[port])
    c = Client(port)
    assert c.request("GET", "/a/1")[2] == b"A GET /a/1 0"
    assert c.request("GET", "/b/1")[2] == b"A GET /b/1 0"  # the wrong target, as in Pipy
    c.close()
    assert (a.hits, b.hits) == (2, 0)


def test_upstream_down_gives_502(daemon, port):
    daemon(gateway(port, {"/*": [f"127.0.0.1:{free_port()}"]}), ports=[port])
    c = Client(port)
    assert c.request("GET", "/")[:2] == (502, b"Connection Refused")
    assert c.request("GET", "/")[:2] == (502, b"Connection Refused")  # connection kept
    c.close()


def test_slow_upstream_gives_504_after_read_timeout(daemon, port, upstream):
    slow = upstream("slow", delay=5.0)
    daemon(gateway(port, {"/*": [slow.target]}, connect_opts="{ readTimeout: 0.5 }"), ports=[port])
    t0 = time.monotonic()
    assert get(port, "/slow")[:2] == (504, b"Gateway Timeout")
    assert time.monotonic() - t0 < 4.0  # the timeout answered, not the upstream (5 s)
    slow.mode = "ok"  # the next request opens a new upstream connection and succeeds
    assert get(port, "/ok")[0] == 200
    assert slow.accepted == 2


def test_upstream_closing_mid_response(daemon, port, upstream):
    cut, good = upstream("cut"), upstream(name="G")
    daemon(gateway(port, {"/cut/*": [cut.target], "/*": [good.target]}), ports=[port])
    other = Client(port)  # a client on another connection is not disturbed
    assert other.request("GET", "/x")[2] == b"G GET /x 0"
    out = http_exchange(port, b"GET /cut/1 HTTP/1.1\r\nHost: x\r\n\r\n", until_close=True)
    assert b"502" not in out and not out.endswith(b"hello")  # never a complete response
    assert other.request("GET", "/y")[2] == b"G GET /y 0"
    other.close()


def test_pipelined_requests_to_two_targets_answer_in_order(daemon, port, upstream):
    slow, fast = upstream("slow", name="S", delay=0.3), upstream(name="F")
    daemon(gateway(port, {"/s/*": [slow.target], "/f/*": [fast.target]}), ports=[port])
    paths = ["/s/1", "/f/1", "/s/2", "/f/2", "/f/3"]
    raw = b"".join(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % p.encode() for p in paths)
    out = http_exchange(port, raw, methods=["GET"] * len(paths))
    bodies = [part.rsplit(b"\r\n\r\n", 1)[1] for part in out.split(b"HTTP/1.1 200 OK")[1:]]
    assert bodies == [b"%s GET %s 0" % (p[1:2].upper().encode(), p.encode()) for p in paths]


# -- large bodies and back-pressure (memory bounds measured from /proc/<pid>/status) --------

# Pipy's muxHTTP buffers each request body whole (reference §2.3), so an upload too big to
# buffer goes through a per-request upstream connection: encodeHTTPRequest -> connect ->
# decodeHTTPResponse inside demuxHTTP's sub-pipeline, which streams both ways.
STREAMING = """pipy()
.listen(%(port)d)
  .demuxHTTP().to(
    $=>$.encodeHTTPRequest().connect('%(target)s').decodeHTTPResponse()
  )
"""

UPLOAD = 1024 * MiB


def _stream_upload(port: int, size: int, block: int = MiB) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(b"POST /up HTTP/1.1\r\nHost: x\r\ncontent-length: %d\r\n\r\n" % size)
        data = b"u" * block
        left = size
        while left:
            n = min(left, block)
            s.sendall(data if n == block else data[:n])
            left -= n
        return _read_one_response(s)


def _read_one_response(s: socket.socket) -> bytes:
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="POST", target="/", headers=[("host", "x"),
                                                             ("transfer-encoding", "chunked")]))
    body = b""
    while True:
        ev = conn.next_event()
        if ev is h11.NEED_DATA:
            conn.receive_data(s.recv(65536))
        elif type(ev) is h11.Data:
            body += ev.data
        elif type(ev) is h11.EndOfMessage or type(ev) is h11.ConnectionClosed:
            return body


def test_large_request_body_streams_with_bounded_memory(daemon, port, upstream):
    """256 MiB (1 GiB takes ~2 minutes through three Python processes on 2 cores; the bound
    is what matters: the body is never held)."""
    counter = upstream("count")
    d = daemon(STREAMING % {"port": port, "target": counter.target}, ports=[port])
    get(port, "/warm")  # load the code paths before the baseline
    watch = RSSWatch(d.proc.pid)
    body = _stream_upload(port, UPLOAD)
    growth = watch.stop()
    assert body == b"%d" % UPLOAD
    assert counter.body_bytes == UPLOAD
    assert growth < 64 * MiB, f"RSS grew by {growth / MiB:.1f} MiB"


def _slow_download(port: int, path: str, stall: float, watch_pid: int) -> tuple[int, int]:
    """Read a big response: nothing for ``stall`` seconds (the proxy must stop reading its
    upstream), then everything. Returns (body bytes, RSS growth during the transfer)."""
    watch = RSSWatch(watch_pid)
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        s.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path.encode())
        time.sleep(stall)
        conn = h11.Connection(h11.CLIENT)
        conn.send(h11.Request(method="GET", target="/", headers=[("host", "x")]))
        conn.send(h11.EndOfMessage())
        n = 0
        while True:
            ev = conn.next_event()
            if ev is h11.NEED_DATA:
                conn.receive_data(s.recv(1 << 18))
            elif type(ev) is h11.Data:
                n += len(ev.data)
            elif type(ev) is h11.EndOfMessage or type(ev) is h11.ConnectionClosed:
                break
    return n, watch.stop()


DOWNLOAD = 1024 * MiB


def test_slow_reader_large_response_streaming_path(daemon, port, upstream):
    big = upstream("big", big=DOWNLOAD)
    d = daemon(STREAMING % {"port": port, "target": big.target}, ports=[port])
    n, growth = _slow_download(port, "/big", 2.0, d.proc.pid)
    assert n == DOWNLOAD
    assert growth < 64 * MiB, f"RSS grew by {growth / MiB:.1f} MiB"


def test_slow_reader_large_response_through_muxhttp(daemon, port, upstream):
    """The tutorial proxy (demuxHTTP -> muxHTTP -> connect): a client that stops reading must
    stop the upstream connection its response comes from (HTTP/1 responses on a connection
    are serial, so nobody else could use it meanwhile)."""
    big = upstream("big", big=DOWNLOAD)
    d = daemon(gateway(port, {"/*": [big.target]}), ports=[port])
    n, growth = _slow_download(port, "/big", 2.0, d.proc.pid)
    assert n == DOWNLOAD
    assert growth < 64 * MiB, f"RSS grew by {growth / MiB:.1f} MiB"
    big.mode = "ok"
    assert get(port, "/after")[2] == b"up GET /after 0"  # nothing left stuck


def test_slow_reader_leaving_unblocks_a_shared_upstream(daemon, port, upstream):
    """A client that stops reading pauses the pooled upstream connection; when it goes away
    the rest of its response is read and dropped, and the next client on the pool is served."""
    big = upstream("big", big=64 * MiB)
    daemon(gateway(port, {"/*": [big.target]}, key="() => 'pool'"), ports=[port])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        s.sendall(b"GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(1.0)
        big.mode = "ok"
        assert big.sent < 32 * MiB  # the upstream was held back
    assert get(port, "/next")[2] == b"up GET /next 0"
    assert big.accepted == 1  # the same pooled connection


# -- reload ---------------------------------------------------------------------------------

def test_reload_with_request_in_flight(daemon, port, upstream, tmp_path):
    """SIGHUP while a request waits on a slow upstream: it finishes on the old program, new
    connections get the new one, nothing is dropped."""
    slow, new = upstream("slow", name="OLD", delay=3.0), upstream(name="NEW")
    d = daemon(gateway(port, {"/*": [slow.target]}), ports=[port])
    result: dict = {}

    def in_flight() -> None:
        c = Client(port)
        result["first"] = c.request("GET", "/inflight")
        c.close()

    t = threading.Thread(target=in_flight)
    t.start()
    deadline = time.monotonic() + 5
    while slow.hits < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    (tmp_path / "main.js").write_text(gateway(port, {"/*": [new.target]}))
    d.signal(signal.SIGHUP)
    d.wait_log("[restart] Codebase reloaded")
    assert "first" not in result  # still in flight when the new program took over
    assert get(port, "/new")[2] == b"NEW GET /new 0"
    t.join(10)
    assert result["first"] == (200, b"OK", b"OLD GET /inflight 0")
    assert get(port, "/again")[2] == b"NEW GET /again 0"
    assert d.proc.poll() is None
