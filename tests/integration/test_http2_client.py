"""muxHTTP speaking HTTP/2 upstream (reference §4.6 ``version: 2``) through the real daemon,
against real peers: a plain h2 server on asyncio written here (also behind Python's ``ssl``
insisting on ALPN ``h2``), pipyd's own demuxHTTP (HTTP/2 with prior knowledge, and behind
acceptTLS with ALPN), and h2load as the client of a proxy speaking h2 on both sides. Other
clients are HTTP/1 (http.client) on the daemon's front port."""
from __future__ import annotations

import asyncio
import http.client
import re
import ssl
import subprocess
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import h2.config
import h2.connection
import h2.events as ev
from h2.errors import ErrorCodes

import pytest

from tests.unit.tls import make_pki

from .daemon import Daemon, free_port
from .upstreams import Upstream

PKI = {name: pem.decode() for name, pem in make_pki().items()}
CA = "new crypto.Certificate(pipy.load('ca.pem'))"
PAIR = ("{cert: new crypto.Certificate(pipy.load('a.pem')),"
        " key: new crypto.PrivateKey(pipy.load('a-key.pem'))}")

PROXY = """
pipy()
.listen({port})
  .demuxHTTP().to($=>$
    .muxHTTP(() => 'k', {{version: 2}}).to($=>$.connect('127.0.0.1:{up}'))
  )
"""


class H2Upstream:
    """An asyncio h2 server in a thread. Paths: ``/hold/N`` waits until N such streams are open,
    ``/echo`` answers the body, ``/big/N`` N bytes, ``/rst`` resets the stream, ``/goaway``
    answers after a GOAWAY and then closes, ``/cut`` sends half a response and closes the
    connection, ``/refuse-once...`` is refused (REFUSED_STREAM) the first time its path comes
    and ``/refuse-always`` every time; anything else ``<method> <path> <body length>``.
    CONNECT (RFC 9113 §8.5): to ``deny...`` it answers ``403 denied``; to ``bye...`` 200,
    ``bye`` and its END_STREAM; to anything else 200 and an echo of the stream's bytes, ending
    when the client's END_STREAM comes (``tunnels`` records each one's connection).

    With ``tls`` (an SSLContext) it speaks TLS and insists on ALPN ``h2``: a connection that
    did not negotiate it is closed at once (``alpn`` records what each one negotiated)."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.connections = 0
        self.held: list = []
        self.served_held: set = set()  # the connections that carried /hold streams
        self.refused: list = []
        self.alpn: list = []
        self.tunnels: list = []  # (connection id, authority, the CONNECT's header names)
        self.resets: list = []  # the error codes of the client's RST_STREAMs
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.server = asyncio.run_coroutine_threadsafe(
            self.loop.create_server(lambda: _H2Protocol(self), "127.0.0.1", 0, ssl=tls),
            self.loop).result()
        self.port = self.server.sockets[0].getsockname()[1]

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)


class _H2Protocol(asyncio.Protocol):
    def __init__(self, up: H2Upstream) -> None:
        self.up = up
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(
            client_side=False, header_encoding="utf-8"))
        self.requests: dict[int, dict] = {}
        self.pending: dict[int, bytearray] = {}
        self.echoing: set = set()  # tunnel streams whose client side is still open

    def connection_made(self, transport) -> None:
        self.up.connections += 1
        self.transport = transport
        tls = transport.get_extra_info("ssl_object")
        if tls is not None:
            self.up.alpn.append(tls.selected_alpn_protocol())
            if tls.selected_alpn_protocol() != "h2":  # RFC 9113 §3.2: h2 over TLS needs ALPN
                transport.close()
                return
        self.conn.initiate_connection()
        self.transport.write(self.conn.data_to_send())

    def data_received(self, data: bytes) -> None:
        if self.transport.is_closing():
            return
        for e in self.conn.receive_data(data):
            t = type(e)
            if t is ev.RequestReceived and dict(e.headers)[":method"] == "CONNECT":
                self.tunnel(e.stream_id, dict(e.headers))
            elif t is ev.RequestReceived:
                self.requests[e.stream_id] = {"headers": dict(e.headers), "body": bytearray()}
            elif t is ev.DataReceived and e.stream_id in self.echoing:
                self.pending[e.stream_id] += e.data
                self.conn.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
                self.flush()
            elif t is ev.DataReceived:  # (a stream already answered: the client's END_STREAM)
                if e.stream_id in self.requests:
                    self.requests[e.stream_id]["body"] += e.data
                self.conn.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
            elif t is ev.StreamEnded and e.stream_id in self.echoing:
                self.echoing.discard(e.stream_id)  # ends once the echo is out
                self.flush()
            elif t is ev.StreamEnded and e.stream_id in self.requests:
                self.answer(e.stream_id)
            elif t is ev.StreamReset:
                self.up.resets.append(e.error_code)
                self.echoing.discard(e.stream_id)
                self.pending.pop(e.stream_id, None)
            elif t is ev.WindowUpdated:
                self.flush()
        self.send()

    def send(self) -> None:
        data = self.conn.data_to_send()
        if data and not self.transport.is_closing():
            self.transport.write(data)

    def respond(self, sid: int, body: bytes, status: int = 200) -> None:
        self.conn.send_headers(sid, [(":status", str(status)), ("x-stream", str(sid))])
        self.pending[sid] = bytearray(body)
        self.flush()

    def flush(self) -> None:
        for sid, buf in list(self.pending.items()):
            while buf:
                room = min(self.conn.local_flow_control_window(sid), self.conn.max_outbound_frame_size,
                           len(buf))
                if room <= 0:
                    break
                chunk = bytes(buf[:room])
                del buf[:room]
                self.conn.send_data(sid, chunk)
            if not buf and sid not in self.echoing:
                self.conn.end_stream(sid)
                del self.pending[sid]
        self.send()

    def tunnel(self, sid: int, headers: dict) -> None:
        authority = headers[":authority"]
        self.up.tunnels.append((id(self), authority, sorted(headers)))
        if authority.startswith("deny"):
            return self.respond(sid, b"denied", 403)
        self.conn.send_headers(sid, [(":status", "200")])
        self.pending[sid] = bytearray(b"bye" if authority.startswith("bye") else b"")
        if not authority.startswith("bye"):
            self.echoing.add(sid)
        self.flush()

    def answer(self, sid: int) -> None:
        req = self.requests.pop(sid)
        path, body = req["headers"][":path"], bytes(req["body"])
        if path.startswith("/hold/"):
            self.up.held.append((self, sid))
            if len(self.up.held) >= int(path[6:]):
                held, self.up.held[:] = list(self.up.held), []
                for proto, s in held:
                    self.up.served_held.add(id(proto))
                    proto.respond(s, b"held %d" % s)
        elif path == "/echo":
            self.respond(sid, body)
        elif path.startswith("/big/"):
            self.respond(sid, b"b" * int(path[5:]))
        elif path == "/rst":
            self.conn.reset_stream(sid, ErrorCodes.INTERNAL_ERROR)
        elif path == "/goaway":
            self.conn.close_connection(last_stream_id=sid)
            # h2 would refuse to send after its own GOAWAY; RFC 9113 §6.8 lets this stream finish
            self.conn.state_machine.state = h2.connection.ConnectionState.SERVER_OPEN
            self.respond(sid, b"bye")
            self.up.loop.call_later(0.2, self.transport.close)
        elif path.startswith("/refuse-") and (path == "/refuse-always" or path not in self.up.refused):
            self.up.refused.append(path)  # RFC 9113 §8.7: not processed, may be retried
            self.conn.reset_stream(sid, ErrorCodes.REFUSED_STREAM)
        elif path == "/cut":
            self.conn.send_headers(sid, [(":status", "200")])
            self.conn.send_data(sid, b"half")
            self.send()
            self.transport.close()
        else:
            self.respond(sid, f"{req['headers'][':method']} {path} {len(body)}".encode())


def get(port: int, path: str, body: bytes | None = None, timeout: float = 10) -> tuple:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request("POST" if body is not None else "GET", path, body=body)
        r = c.getresponse()
        return r.status, r.read(), dict(r.getheaders())
    finally:
        c.close()


def proxy(daemon, up_port: int) -> int:
    port = free_port()
    daemon(PROXY.format(port=port, up=up_port), [port])
    return port


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """One h2 upstream and one proxy daemon for the tests that only need those."""
    up = H2Upstream()
    port = free_port()
    path = tmp_path_factory.mktemp("h2proxy")
    (path / "main.js").write_text(PROXY.format(port=port, up=up.port))
    d = Daemon(path).start([port])
    yield up, port
    d.stop()
    up.close()


def test_concurrent_requests_are_streams_on_one_connection(shared):
    up, port = shared
    with ThreadPoolExecutor(8) as pool:  # each waits until all 8 streams are open upstream
        got = list(pool.map(lambda i: get(port, "/hold/8"), range(8)))
    assert all(status == 200 and body.startswith(b"held ") for status, body, _ in got)
    assert len({body for _, body, _ in got}) == 8
    assert len(up.served_held) == 1  # one TCP connection carried all of them
    before = up.connections
    assert get(port, "/x")[1] == b"GET /x 0" and up.connections == before


def test_large_bodies_both_ways_beyond_the_default_window(shared):
    up, port = shared
    payload = bytes(range(256)) * 4096  # 1 MiB
    status, body, _ = get(port, "/echo", payload)
    assert status == 200 and body == payload
    status, body, _ = get(port, "/big/3000000")
    assert status == 200 and len(body) == 3_000_000


def test_reset_stream_fails_one_request_others_succeed(shared):
    up, port = shared
    get(port, "/warm")
    before = up.connections
    with ThreadPoolExecutor(3) as pool:
        rst = pool.submit(get, port, "/rst")
        ok = [pool.submit(get, port, f"/ok{i}") for i in range(2)]
        assert rst.result()[0] == 502
        assert [f.result()[1] for f in ok] == [b"GET /ok0 0", b"GET /ok1 0"]
    assert up.connections == before


def test_goaway_then_new_connection(shared):
    up, port = shared
    get(port, "/warm")
    before = up.connections
    assert get(port, "/goaway")[1] == b"bye"
    assert get(port, "/after")[1] == b"GET /after 0"
    assert up.connections == before + 1


def test_upstream_refused_is_502(daemon):
    port = proxy(daemon, free_port())
    status, body, headers = get(port, "/")
    assert status == 502 and body == b""


def test_upstream_closing_mid_response(shared):
    up, port = shared
    get(port, "/warm")
    before = up.connections
    # the response is cut off: its client connection closes (before or after the head
    # reached it: demuxHTTP holds a head until bufferSize or the end of the body)
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request("GET", "/cut")
    try:
        r = c.getresponse()
        r.read()
        raise AssertionError("a cut-off response was completed")
    except (http.client.RemoteDisconnected, http.client.IncompleteRead):
        pass
    c.close()
    assert get(port, "/next")[1] == b"GET /next 0"  # a new connection serves the next one
    assert up.connections == before + 1


def test_pipyd_as_the_http2_upstream(daemon):
    up_port, port = free_port(), free_port()
    daemon(f"""
pipy()
.listen({up_port})
  .demuxHTTP().to($=>$.replaceMessage(req => new Message(
    {{status: 201, headers: {{'x-host': req.head.headers.host, 'x-proto': String(req.head.protocol)}}}},
    req.head.method + ' ' + req.head.path + ' ' + req.body.size)))
.listen({port})
  .demuxHTTP().to($=>$
    .muxHTTP(() => 'k', {{version: 2}}).to($=>$.connect('127.0.0.1:{up_port}'))
  )
""", [up_port, port])
    status, body, headers = get(port, "/p?q=1", b"abc")
    # the upstream saw an HTTP/2 request: no protocol, host from :authority
    assert (status, body) == (201, b"POST /p?q=1 3")
    assert headers["x-proto"] == "undefined" and headers["x-host"] == f"127.0.0.1:{port}"
    with ThreadPoolExecutor(6) as pool:
        got = list(pool.map(lambda i: get(port, f"/{i}", b"x" * 100_000), range(6)))
    assert [b for _, b, _ in got] == [f"POST /{i} 100000".encode() for i in range(6)]


def test_version_function_chooses_1_or_2(daemon):
    h2up, h1up = H2Upstream(), Upstream("ok", name="h1")
    port = free_port()
    try:
        daemon(f"""
pipy({{_v: 1}})
.listen({port})
  .demuxHTTP().to($=>$
    .handleMessageStart(msg => _v = msg.head.path.startsWith('/two') ? 2 : 1)
    .muxHTTP(() => _v, {{version: () => _v}}).to($=>$
      .connect(() => _v === 2 ? '127.0.0.1:{h2up.port}' : '{h1up.target}'))
  )
""", [port])
        assert get(port, "/two")[1] == b"GET /two 0"
        assert get(port, "/one")[1].startswith(b"h1 GET /one")
        assert h2up.connections == 1 and h1up.hits == 1
    finally:
        h2up.close()
        h1up.stop()


def test_refused_stream_is_retried_once(shared):
    up, port = shared
    get(port, "/warm")
    before = up.connections
    status, body, _ = get(port, "/refuse-once", b"payload")
    assert (status, body) == (200, b"POST /refuse-once 7")
    assert up.refused.count("/refuse-once") == 1 and up.connections == before
    status, body, _ = get(port, "/refuse-always")
    assert status == 502 and up.refused.count("/refuse-always") == 2  # tried twice, then 502


# -- TLS with ALPN -------------------------------------------------------------------------------

def server_tls(alpn: list[str]) -> ssl.SSLContext:
    import tempfile
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as d:
        for name in ("a.pem", "a-key.pem"):
            with open(f"{d}/{name}", "w") as f:
                f.write(PKI[name])
        ctx.load_cert_chain(f"{d}/a.pem", f"{d}/a-key.pem")
    ctx.set_alpn_protocols(alpn)
    return ctx


TLS_PROXY = """
pipy()
.listen({port})
  .demuxHTTP().to($=>$
    .muxHTTP(() => 'k', {{version: 2}}).to($=>$
      .connectTLS({{sni: 'a.example', alpn: {alpn}, trusted: [{ca}]}}).to($=>$
        .connect('127.0.0.1:{up}')))
  )
"""


def test_alpn_h2_over_connect_tls_to_a_python_h2_server(daemon):
    up = H2Upstream(tls=server_tls(["h2"]))
    port = free_port()
    try:
        daemon(TLS_PROXY.format(port=port, up=up.port, alpn="'h2'", ca=CA), [port], files=PKI)
        with ThreadPoolExecutor(4) as pool:
            got = list(pool.map(lambda i: get(port, "/hold/4"), range(4)))
        assert all(status == 200 and body.startswith(b"held ") for status, body, _ in got)
        assert get(port, "/echo", b"z" * 200_000)[1] == b"z" * 200_000
        assert up.alpn == ["h2"] and up.connections == 1
    finally:
        up.close()


def test_connect_tls_without_h2_is_refused_by_the_server(daemon):
    """The same proxy offering only http/1.1: the server closes the connection (cleanly,
    with close_notify) before any response, which §4.6 answers with Pipy's empty 200."""
    up = H2Upstream(tls=server_tls(["h2"]))
    port = free_port()
    try:
        daemon(TLS_PROXY.format(port=port, up=up.port, alpn="'http/1.1'", ca=CA), [port],
               files=PKI)
        status, body, _ = get(port, "/x")
        assert (status, body) == (200, b"") and up.alpn == [None]
    finally:
        up.close()


ALPN_UPSTREAMS = """
pipy({{_target: undefined, _alpn: undefined}})
.listen({h2})
  .acceptTLS({{certificate: {pair}, alpn: ['h2']}}).to($=>$
    .demuxHTTP().to($=>$.replaceMessage(req => new Message(
      {{headers: {{'x-proto': String(req.head.protocol), 'x-scheme': String(req.head.scheme)}}}},
      req.head.method + ' ' + req.head.path + ' ' + req.body.size))))
.listen({h1})
  .acceptTLS({{certificate: {pair}, alpn: ['http/1.1']}}).to($=>$
    .demuxHTTP().to($=>$.replaceMessage(req => new Message(
      {{headers: {{'x-proto': String(req.head.protocol)}}}}, 'h1 ' + req.head.path))))
.listen({port})
  .demuxHTTP().to($=>$
    .handleMessageStart(msg => _target = msg.head.path.startsWith('/h1') ? {h1} : {h2})
    .muxHTTP(() => _target, {{
      version: () => _alpn === undefined ? undefined : _alpn === 'h2' ? 2 : 1,
    }}).to($=>$
      .connectTLS({{
        sni: 'a.example', alpn: ['h2', 'http/1.1'], trusted: [{ca}],
        handshake: proto => _alpn = proto || '',
      }}).to($=>$.connect(() => '127.0.0.1:' + _target)))
  )
"""


def test_version_chosen_by_alpn_against_pipyd_accept_tls(daemon):
    """The version function answers undefined until connectTLS's handshake callback has
    recorded the ALPN answer (reference §1.4, §4.6): pipyd's acceptTLS + demuxHTTP upstream
    speaking h2 gets HTTP/2, the one offering only http/1.1 gets HTTP/1."""
    h2port, h1port, port = free_port(), free_port(), free_port()
    daemon(ALPN_UPSTREAMS.format(h2=h2port, h1=h1port, port=port, pair=PAIR, ca=CA),
           [h2port, h1port, port], files=PKI)
    status, body, headers = get(port, "/two?q", b"abc")
    assert (status, body) == (200, b"POST /two?q 3")
    assert headers["x-proto"] == "undefined" and headers["x-scheme"] == "http"
    with ThreadPoolExecutor(6) as pool:
        got = list(pool.map(lambda i: get(port, f"/p{i}", b"x" * 70_000), range(6)))
    assert [b for _, b, _ in got] == [f"POST /p{i} 70000".encode() for i in range(6)]
    status, body, headers = get(port, "/h1/x")
    assert (status, body, headers["x-proto"]) == (200, b"h1 /h1/x", "HTTP/1.1")


# -- h2load: HTTP/2 on both sides of the proxy ----------------------------------------------------

H2LOAD = """
pipy({{_conns: new stats.Counter('h2_upstream_connections')}})
.listen({up})
  .handleStreamStart(() => _conns.increase())
  .demuxHTTP().to($=>$.replaceMessage(req => new Message('ok ' + req.head.path)))
.listen({port})
  .demuxHTTP().to($=>$
    .muxHTTP(() => 'k', {{version: 2}}).to($=>$.connect('127.0.0.1:{up}'))
  )
"""


def test_h2load_through_an_h2_to_h2_proxy(tmp_path):
    up, port, admin = free_port(), free_port(), free_port()
    (tmp_path / "main.js").write_text(H2LOAD.format(up=up, port=port))
    d = Daemon(tmp_path, args=[f"--admin-port=127.0.0.1:{admin}"]).start([up, port, admin])
    try:
        r = subprocess.run(["h2load", "-n", "2000", "-c", "10", "-m", "10",
                            f"http://127.0.0.1:{port}/load"],
                           capture_output=True, text=True, timeout=120)
        out = r.stdout
        assert r.returncode == 0, out + r.stderr
        m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                      r"(\d+) failed, (\d+) errored", out)
        assert m and m.groups() == ("2000", "2000", "2000", "2000", "0", "0"), out
        assert re.search(r"status codes: 2000 2xx", out), out
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{admin}/metrics", timeout=5).read()
        conns = re.search(rb"^h2_upstream_connections (\d+)", metrics, re.M)
        assert conns and 1 <= int(conns.group(1)) <= 2, metrics  # one key: one connection
        dump = urllib.request.urlopen(f"http://127.0.0.1:{admin}/dump/http2", timeout=5).read()
        text = dump.decode()
        assert "client:\n  1 sessions, 0 open streams, 0 waiting" in text, text
        assert "server: 1 connections, 0 open streams" in text, text  # the upstream side
    finally:
        d.stop()


# -- CONNECT tunnels through the HTTP/2 session (RFC 9113 §8.5) ----------------------------------

def recv_until(s, marker: bytes = b"", size: int = 0) -> bytes:
    buf = b""
    while (marker and marker not in buf) or (size and len(buf) < size):
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    return buf


def open_tunnel(port: int, target: str) -> tuple:
    """An HTTP/1 client's CONNECT through the proxy: (socket, response head, bytes after it)."""
    import socket
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(f"CONNECT {target} HTTP/1.1\r\nhost: {target}\r\n\r\n".encode())
    got = recv_until(s, marker=b"\r\n\r\n")
    head, _, rest = got.partition(b"\r\n\r\n")
    return s, head, rest


def test_connect_tunnels_share_the_connection_and_echo(shared):
    up, port = shared
    get(port, "/warm")
    before, count = up.connections, len(up.tunnels)
    socks = [open_tunnel(port, f"echo{i}:443") for i in range(4)]  # all open at once
    for s, head, rest in socks:
        assert head.startswith(b"HTTP/1.1 200") and rest == b""
    for i, (s, _, _) in enumerate(socks):
        s.sendall(b"ping %d" % i)
    for i, (s, _, _) in enumerate(reversed(socks)):
        assert recv_until(s, size=6) == b"ping %d" % (3 - i)
    tunnels = up.tunnels[count:]
    assert [t[1] for t in tunnels] == [f"echo{i}:443" for i in range(4)]
    assert all(t[2] == [":authority", ":method"] for t in tunnels)  # no :scheme, :path
    assert len({t[0] for t in tunnels}) == 1 and up.connections == before
    for s, _, _ in socks:  # the client's FIN: END_STREAM, the echo server's comes back
        s.shutdown(1)
        assert recv_until(s, size=1 << 20) == b""
        s.close()
    assert get(port, "/after")[1] == b"GET /after 0" and up.connections == before


def test_connect_tunnel_large_transfer_beyond_the_window(shared):
    up, port = shared
    s, head, rest = open_tunnel(port, "big:1")
    assert head.startswith(b"HTTP/1.1 200")
    payload = bytes(range(256)) * 8192  # 2 MiB each way, written while reading
    t = threading.Thread(target=lambda: (s.sendall(payload), s.shutdown(1)))
    t.start()
    got = rest + recv_until(s, size=len(payload) + 1)
    t.join()
    assert got == payload
    s.close()


def test_connect_refused_by_the_upstream_is_a_normal_response(shared):
    up, port = shared
    get(port, "/warm")
    before = up.connections
    s, head, rest = open_tunnel(port, "deny:443")
    # a refused CONNECT is a normal response: its body reaches the client (RFC 9110 §9.3.6)
    body = rest if len(rest) >= 6 else rest + recv_until(s, size=6 - len(rest))
    assert head.startswith(b"HTTP/1.1 403") and b"content-length: 6" in head.lower()
    assert body == b"denied"
    s.sendall(b"GET /next HTTP/1.1\r\nhost: x\r\n\r\n")  # the client connection stays HTTP
    assert recv_until(s, marker=b"GET /next 0").endswith(b"GET /next 0")
    s.close()
    s, head, rest = open_tunnel(port, "bye:443")  # the upstream ends first: the client too
    assert head.startswith(b"HTTP/1.1 200")
    assert rest + recv_until(s, size=1 << 20) == b"bye"
    s.close()
    assert get(port, "/after")[1] == b"GET /after 0" and up.connections == before


def test_connect_tunnel_client_reset_cancels_only_its_stream(shared):
    import socket
    import struct
    up, port = shared
    s1, head, _ = open_tunnel(port, "stay:1")
    s2, head2, _ = open_tunnel(port, "gone:1")
    assert head.startswith(b"HTTP/1.1 200") and head2.startswith(b"HTTP/1.1 200")
    s2.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s2.close()  # RST
    s1.sendall(b"still here")
    assert recv_until(s1, size=10) == b"still here"
    s1.close()
    deadline = time.monotonic() + 5
    while ErrorCodes.CANCEL not in up.resets and time.monotonic() < deadline:
        time.sleep(0.02)
    assert ErrorCodes.CANCEL in up.resets


def test_connect_tunnel_streams_are_freed_on_every_ending(tmp_path):
    """FIN from the client, the upstream ending first, a refusal, a client reset: afterwards
    the admin's /dump/http2 shows the session with no open stream."""
    import socket
    import struct
    up = H2Upstream()
    port, admin = free_port(), free_port()
    (tmp_path / "main.js").write_text(PROXY.format(port=port, up=up.port))
    d = Daemon(tmp_path, args=[f"--admin-port=127.0.0.1:{admin}"]).start([port, admin])
    try:
        fin, _, _ = open_tunnel(port, "fin:1")
        reset, _, _ = open_tunnel(port, "reset:1")
        bye, head, rest = open_tunnel(port, "bye:1")
        deny, head2, _ = open_tunnel(port, "deny:1")
        assert head.startswith(b"HTTP/1.1 200") and head2.startswith(b"HTTP/1.1 403")
        fin.sendall(b"x" * 100_000)
        fin.shutdown(1)
        assert recv_until(fin, size=1 << 20) == b"x" * 100_000
        assert rest + recv_until(bye, size=1 << 20) == b"bye"
        dump = urllib.request.urlopen(f"http://127.0.0.1:{admin}/dump/http2", timeout=5).read()
        assert "1 sessions, 1 open streams" in dump.decode()  # only the tunnel still open
        assert "stream 3: tunnel" in dump.decode()
        reset.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        for s in (fin, reset, bye, deny):
            s.close()
        deadline = time.monotonic() + 5
        while True:
            text = urllib.request.urlopen(f"http://127.0.0.1:{admin}/dump/http2",
                                          timeout=5).read().decode()
            if "1 sessions, 0 open streams, 0 waiting" in text or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert "client:\n  1 sessions, 0 open streams, 0 waiting" in text, text
        assert up.connections == 1
    finally:
        d.stop()
        up.close()
