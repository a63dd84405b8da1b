"""Tunnels through the real daemon with real peers: an HTTP CONNECT proxy (curl --proxytunnel,
a raw client, and pipyd's own connectHTTPTunnel), a SOCKS proxy (curl --socks5/--socks4a and
pipyd's connectSOCKS), PROXY protocol v1/v2 headers (raw clients and connectProxyProtocol) and a
WebSocket echo module driven by aiohttp's WebSocket client."""
from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from .daemon import Daemon, free_port
from .upstreams import LoopbackServer

CURL = shutil.which("curl")


class EchoServer(LoopbackServer):
    """TCP echo; on the client's EOF it half-closes too."""

    def serve(self, conn: socket.socket) -> None:
        with conn:
            while True:
                b = conn.recv(65536)
                if not b:
                    conn.shutdown(socket.SHUT_WR)
                    return
                conn.sendall(b)


class _Hello(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        body = f"hello {self.path}".encode()
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def echo():
    s = EchoServer()
    yield s
    s.close()


@pytest.fixture(scope="module")
def web():
    s = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    threading.Thread(target=s.serve_forever, daemon=True).start()
    yield s.server_address[1]
    s.shutdown()
    s.server_close()


def recv_until(sock: socket.socket, size: int = 0, marker: bytes = b"") -> bytes:
    buf = b""
    while (size and len(buf) < size) or (marker and marker not in buf):
        b = sock.recv(65536)
        if not b:
            break
        buf += b
    return buf


def recv_all(sock: socket.socket) -> bytes:
    buf = b""
    while True:
        b = sock.recv(65536)
        if not b:
            return buf
        buf += b


def curl(*args: str) -> str:
    r = subprocess.run([CURL, "-sS", "--max-time", "10", *args], capture_output=True, timeout=15)
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout.decode()


PORTS = {name: free_port() for name in (
    "connect_proxy", "connect_client", "refuse", "socks", "socks_client", "pp_server",
    "pp_client1", "pp_client2", "ws")}

# One module, every listener: the daemon starts once for the whole file.
SOURCE = """
pipy({{_target: '', _h: null}})

// an HTTP CONNECT proxy
.listen({connect_proxy})
.demuxHTTP().to($=>$
  .acceptHTTPTunnel(req => (
    _target = req.head.path,
    new Message({{status: 200}})
  )).to($=>$.connect(() => _target))
)

// pipyd as the client of that proxy
.listen({connect_client})
.connectHTTPTunnel(
  new Message({{method: 'CONNECT', path: '127.0.0.1:{echo}', headers: {{host: 'x'}}}})
).to($=>$.muxHTTP().to($=>$.connect('127.0.0.1:{connect_proxy}')))

// a tunnel refused
.listen({refuse})
.demuxHTTP().to($=>$.acceptHTTPTunnel(() => new Message({{status: 403}}, 'no')).to($=>$.dummy()))

// a SOCKS proxy, refusing one address
.listen({socks})
.acceptSOCKS((host, port, id) => (
  _target = (host.indexOf(':') >= 0 ? '[' + host + ']' : host) + ':' + port,
  console.log('socks', _target, id),
  host !== '10.255.255.1'
)).to($=>$.connect(() => _target))

// pipyd as the client of that SOCKS proxy
.listen({socks_client})
.connectSOCKS('127.0.0.1:{echo}').to($=>$.connect('127.0.0.1:{socks}'))

// the PROXY protocol header, shown back as JSON
.listen({pp_server})
.acceptProxyProtocol(h => (_h = h, true)).to($=>$
  .serveHTTP(() => new Message(JSON.stringify(_h)))
)

// pipyd sending PROXY protocol headers
.listen({pp_client1})
.connectProxyProtocol({{
  sourceAddress: '192.0.2.1', sourcePort: 1234, targetAddress: '192.0.2.2', targetPort: 8443,
}}).to($=>$.connect('127.0.0.1:{pp_server}'))
.listen({pp_client2})
.connectProxyProtocol(() => ({{
  version: 2, sourceAddress: '192.0.2.1', sourcePort: 1234,
  targetAddress: '192.0.2.2', targetPort: 8443,
}})).to($=>$.connect('127.0.0.1:{pp_server}'))

// a WebSocket echo server: the handshake answered by the script (RFC 6455 §4.2.2)
.listen({ws})
.demuxHTTP().to($=>$
  .acceptHTTPTunnel(req => (
    req.head.headers.upgrade !== 'websocket' ? new Message({{status: 400}}, 'not a websocket') :
    new Message({{
      status: 101,
      headers: {{
        upgrade: 'websocket',
        connection: 'Upgrade',
        'sec-websocket-accept': (h => (
          h.update(req.head.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'),
          h.digest('base64')
        ))(new crypto.Hash('sha1')),
      }},
    }})
  )).to($=>$
    .decodeWebSocket()
    .replaceMessage(msg => (
      msg.head.opcode === 9 ? new Message({{opcode: 10}}, msg.body) :
      msg.head.opcode === 8 ? [new Message({{opcode: 8}}, msg.body), new StreamEnd] :
      msg.head.opcode === 10 ? null :
      new Message({{opcode: msg.head.opcode}}, msg.body)
    ))
    .encodeWebSocket()
  )
)
"""


@pytest.fixture(scope="module")
def pipyd(tmp_path_factory, echo):
    root = tmp_path_factory.mktemp("tunnels")
    (root / "main.js").write_text(SOURCE.format(echo=echo.port, **PORTS))
    d = Daemon(root).start(list(PORTS.values()))
    yield d
    d.stop()


# -- HTTP CONNECT ---------------------------------------------------------------------------------

def test_connect_proxy_with_curl_proxytunnel(pipyd, web):
    out = curl("--proxytunnel", "-x", f"http://127.0.0.1:{PORTS['connect_proxy']}",
               f"http://127.0.0.1:{web}/via")
    assert out == "hello /via"


def test_connect_proxy_with_a_raw_client_to_an_echo_server(pipyd, echo):
    with socket.create_connection(("127.0.0.1", PORTS["connect_proxy"]), timeout=5) as s:
        s.sendall(f"CONNECT 127.0.0.1:{echo.port} HTTP/1.1\r\nhost: x\r\n\r\n".encode())
        head = recv_until(s, marker=b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200")
        rest = head.split(b"\r\n\r\n", 1)[1]
        s.sendall(b"ping through the tunnel")
        assert rest + recv_until(s, size=23 - len(rest)) == b"ping through the tunnel"
        s.sendall(b"x" * 100000)
        assert recv_until(s, size=100000) == b"x" * 100000
        s.shutdown(socket.SHUT_WR)
        assert recv_all(s) == b""


def test_connect_proxy_refusal_keeps_http(pipyd):
    with socket.create_connection(("127.0.0.1", PORTS["refuse"]), timeout=5) as s:
        s.sendall(b"CONNECT 10.0.0.1:1 HTTP/1.1\r\nhost: x\r\n\r\n")
        assert recv_until(s, marker=b"\r\n\r\n").startswith(b"HTTP/1.1 403")


def test_connect_http_tunnel_client_through_the_proxy(pipyd):
    with socket.create_connection(("127.0.0.1", PORTS["connect_client"]), timeout=5) as s:
        s.sendall(b"sent before the tunnel is up")
        assert recv_until(s, size=28) == b"sent before the tunnel is up"
        s.sendall(b"and after")
        assert recv_until(s, size=9) == b"and after"
        s.shutdown(socket.SHUT_WR)
        assert recv_all(s) == b""


# -- SOCKS ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("flag", ["--socks5", "--socks5-hostname", "--socks4", "--socks4a"])
def test_socks_proxy_with_curl(pipyd, web, flag):
    host = "localhost" if flag.endswith(("hostname", "4a")) else "127.0.0.1"
    out = curl(flag, f"127.0.0.1:{PORTS['socks']}", f"http://{host}:{web}/socks")
    assert out == "hello /socks"
    pipyd.wait_log(f"socks {host}:{web}")


def test_socks_proxy_refusal_with_curl(pipyd):
    r = subprocess.run([CURL, "-sS", "--max-time", "5", "--socks5",
                        f"127.0.0.1:{PORTS['socks']}", "http://10.255.255.1/"],
                       capture_output=True, timeout=10)
    assert r.returncode != 0


def test_connect_socks_client_through_the_socks_proxy(pipyd):
    with socket.create_connection(("127.0.0.1", PORTS["socks_client"]), timeout=5) as s:
        s.sendall(b"over socks")
        assert recv_until(s, size=10) == b"over socks"
        s.shutdown(socket.SHUT_WR)
        assert recv_all(s) == b""


# -- PROXY protocol -------------------------------------------------------------------------------

V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def ask(port: int, prefix: bytes) -> dict:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(prefix + b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        resp = recv_all(s)
    assert resp.startswith(b"HTTP/1.1 200"), resp
    return json.loads(resp.split(b"\r\n\r\n", 1)[1])


def test_proxy_protocol_v1_and_v2_headers_reach_the_script(pipyd):
    assert ask(PORTS["pp_server"], b"PROXY TCP4 203.0.113.7 10.0.0.1 51000 443\r\n") == {
        "version": 1, "protocol": "TCP4", "sourceAddress": "203.0.113.7",
        "targetAddress": "10.0.0.1", "sourcePort": 51000, "targetPort": 443}
    addrs = bytes((198, 51, 100, 9, 10, 0, 0, 2)) + (4000).to_bytes(2, "big") + b"\x00\x50"
    v2 = V2_SIG + b"\x21\x11" + len(addrs).to_bytes(2, "big") + addrs
    assert ask(PORTS["pp_server"], v2) == {
        "version": 2, "command": "PROXY", "protocol": "TCP4", "sourceAddress": "198.51.100.9",
        "targetAddress": "10.0.0.2", "sourcePort": 4000, "targetPort": 80}


def test_proxy_protocol_missing_header_closes(pipyd):
    with socket.create_connection(("127.0.0.1", PORTS["pp_server"]), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
        assert recv_all(s) == b""


@pytest.mark.parametrize("version", [1, 2])
def test_connect_proxy_protocol_to_accept_proxy_protocol(pipyd, version):
    got = ask(PORTS[f"pp_client{version}"], b"")
    assert got["version"] == version and got["sourceAddress"] == "192.0.2.1"
    assert (got["sourcePort"], got["targetAddress"], got["targetPort"]) == (1234, "192.0.2.2", 8443)


# -- WebSocket ------------------------------------------------------------------------------------

def test_websocket_echo_with_aiohttp_client(pipyd):
    import aiohttp

    async def talk() -> list:
        got = []
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(f"http://127.0.0.1:{PORTS['ws']}/echo",
                                          autoping=False) as ws:
                await ws.send_str("hello")
                got.append((await ws.receive(timeout=5)).data)
                await ws.send_bytes(bytes(range(256)) * 300)  # 76800 bytes: 64-bit length
                got.append((await ws.receive(timeout=5)).data == bytes(range(256)) * 300)
                await ws.send_str("é" * 200)  # 400 bytes: 16-bit length
                got.append((await ws.receive(timeout=5)).data)
                await ws.ping(b"are you there")
                msg = await ws.receive(timeout=5)
                got.append((msg.type.name, msg.data))
                await ws.close()
                got.append(ws.close_code)
        return got

    got = asyncio.run(talk())
    assert got == ["hello", True, "é" * 200, ("PONG", b"are you there"), 1000]


def test_websocket_upgrade_refused_answers_http(pipyd):
    with socket.create_connection(("127.0.0.1", PORTS["ws"]), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: h3x\r\n\r\n")
        # the answer to an Upgrade request is bodiless (reference §4.5): only its head
        assert recv_until(s, marker=b"\r\n\r\n").startswith(b"HTTP/1.1 400")
