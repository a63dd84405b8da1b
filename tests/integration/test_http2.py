"""HTTP/2 on demuxHTTP/serveHTTP through the real daemon (reference §4.5), against real peers:
an h2 client over a socket, h2load, curl (prior knowledge and h2c upgrade), a raw-socket h2c
upgrade, and HTTP/2 over acceptTLS with ALPN h2."""
from __future__ import annotations

import re
import socket
import ssl
import subprocess

import h2.config
import h2.connection
import h2.events as ev
import pytest

from tests.unit.tls import make_pki

HELLO = "pipy().listen({port}).serveHTTP(new Message('hi'))"
ECHO = ("pipy().listen({port}).demuxHTTP().to($=>$.replaceMessage(req => new Message("
        "{{status: 200, headers: {{'x-method': req.head.method}}}}, "
        "req.head.headers.host + req.head.path + ':' + req.body.toString())))")
FILES = {name: pem.decode() for name, pem in make_pki().items()}


def h2_exchange(sock, requests: list[tuple[str, bytes]], conn=None) -> dict[int, dict]:
    """Send ``(path, body)`` requests as concurrent streams; collect the responses."""
    if conn is None:
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True,
                                                                    header_encoding="utf-8"))
        conn.initiate_connection()
    out: dict[int, dict] = {}
    for path, body in requests:
        sid = conn.get_next_available_stream_id()
        method = "POST" if body else "GET"
        conn.send_headers(sid, [(":method", method), (":path", path), (":scheme", "http"),
                                (":authority", "example.com")], end_stream=not body)
        for i in range(0, len(body), 16384):  # within the initial windows
            conn.send_data(sid, body[i:i + 16384], end_stream=i + 16384 >= len(body))
        out[sid] = {"headers": {}, "body": b"", "ended": False}
    sock.sendall(conn.data_to_send())
    while not all(r["ended"] for r in out.values()):
        data = sock.recv(65536)
        assert data, "connection closed early"
        for e in conn.receive_data(data):
            if type(e) is ev.ResponseReceived:
                out[e.stream_id]["headers"] = dict(e.headers)
            elif type(e) is ev.DataReceived:
                out[e.stream_id]["body"] += e.data
                conn.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
            elif type(e) is ev.StreamEnded:
                out[e.stream_id]["ended"] = True
        pending = conn.data_to_send()
        if pending:
            sock.sendall(pending)
    return out


def test_h2_client_prior_knowledge_concurrent_streams(daemon, port):
    daemon(ECHO.format(port=port), [port])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        got = h2_exchange(s, [("/a", b""), ("/b", b"x" * 60000), ("/c", b"")])
    bodies = sorted(r["body"] for r in got.values())
    assert bodies[0] == b"example.com/a:" and bodies[1] == b"example.com/b:" + b"x" * 60000
    assert all(r["headers"][":status"] == "200" for r in got.values())
    assert {r["headers"]["x-method"] for r in got.values()} == {"GET", "POST"}


def test_http1_still_served_on_the_same_port(daemon, port):
    daemon(HELLO.format(port=port), [port])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nhost: x\r\n\r\n")
        assert s.recv(4096).startswith(b"HTTP/1.1 200 OK")


def test_h2c_upgrade_raw_socket(daemon, port):
    daemon(ECHO.format(port=port), [port])
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True,
                                                                header_encoding="utf-8"))
    settings = conn.initiate_upgrade_connection()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET /up HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                  b"Upgrade: h2c\r\nHTTP2-Settings: " + settings + b"\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data:
            data += s.recv(4096)
        head, rest = data.split(b"\r\n\r\n", 1)
        assert head == b"HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: h2c"
        s.sendall(conn.data_to_send())  # the client preface and SETTINGS
        got = {1: {"body": b"", "ended": False}}
        events = conn.receive_data(rest) if rest else []
        while True:
            for e in events:
                if type(e) is ev.DataReceived and e.stream_id == 1:
                    got[1]["body"] += e.data
                elif type(e) is ev.StreamEnded and e.stream_id == 1:
                    got[1]["ended"] = True
            if got[1]["ended"]:
                break
            s.sendall(conn.data_to_send())
            events = conn.receive_data(s.recv(65536))
        assert got[1]["body"] == b"h/up:"
        more = h2_exchange(s, [("/next", b"")], conn)
        assert [r["body"] for r in more.values()] == [b"example.com/next:"]


def test_h2load(daemon, port):
    daemon(HELLO.format(port=port), [port])
    r = subprocess.run(["h2load", "-n", "200", "-c", "2", "-m", "10", f"http://127.0.0.1:{port}/"],
                       capture_output=True, text=True, timeout=60)
    assert re.search(r"200 succeeded, 0 failed, 0 errored", r.stdout), r.stdout
    assert "200 2xx" in r.stdout


@pytest.mark.parametrize("flag", ["--http2-prior-knowledge", "--http2"])
def test_curl(daemon, port, flag):
    daemon(ECHO.format(port=port), [port])
    r = subprocess.run(["curl", "-sS", "-i", flag, "--data-binary", "abc",
                        f"http://127.0.0.1:{port}/p"], capture_output=True, timeout=20)
    out = r.stdout
    assert b"HTTP/2 200" in out, (out, r.stderr)
    assert out.endswith(b"127.0.0.1:%d/p:abc" % port)


TLS = ("pipy().listen({port}).acceptTLS({{certificate: {{cert: new crypto.Certificate("
       "pipy.load('a.pem')), key: new crypto.PrivateKey(pipy.load('a-key.pem'))}}, "
       "alpn: ['h2', 'http/1.1']}}).to($=>$.serveHTTP(req => new Message("
       "req.head.scheme + ' ' + req.head.path)))")


def test_http2_over_tls_with_alpn(daemon, port):
    daemon(TLS.format(port=port), [port], files=FILES)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cadata=FILES["ca.pem"])
    ctx.set_alpn_protocols(["h2"])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="a.example") as s:
            assert s.selected_alpn_protocol() == "h2"
            got = h2_exchange(s, [("/x", b""), ("/y", b"")])
    assert sorted(r["body"] for r in got.values()) == [b"http /x", b"http /y"]
