"""acceptTLS / connectTLS through the real daemon on loopback, against real TLS peers: Python's
``ssl``, ``openssl s_client`` and ``curl``. Certificates come from tests/unit/tls (a CA, two
server leaves, a client certificate and one from another CA)."""
from __future__ import annotations

import socket
import ssl
import subprocess


from tests.unit.tls import make_pki

from .upstreams import LoopbackServer

PKI = make_pki()
FILES = {name: pem.decode() for name, pem in PKI.items()}


def cert(name: str) -> str:
    return f"new crypto.Certificate(pipy.load('{name}.pem'))"


def pair(name: str) -> str:
    return f"{{cert: {cert(name)}, key: new crypto.PrivateKey(pipy.load('{name}-key.pem'))}}"


def client_context(tmp_path=None, alpn=None, client_cert: str | None = None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cadata=FILES["ca.pem"])
    if alpn:
        ctx.set_alpn_protocols(alpn)
    if client_cert:
        ctx.load_cert_chain(tmp_path / f"{client_cert}.pem", tmp_path / f"{client_cert}-key.pem")
    return ctx


def tls_request(port: int, ctx: ssl.SSLContext, sni: str, payload: bytes) -> tuple[bytes, ssl.SSLSocket]:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname=sni) as s:
            s.sendall(payload)
            data = b""
            while True:
                try:
                    chunk = s.recv(65536)
                except (ssl.SSLError, ConnectionError):
                    break
                if not chunk:
                    break
                data += chunk
                if b"\r\n\r\n" in data and data.endswith(b"hi"):
                    break
            info = (s.getpeercert(), s.selected_alpn_protocol())
    return data, info


HELLO = "pipy().listen({port}).acceptTLS({opts}).to($=>$.serveHTTP(new Message('hi')))"
GET = b"GET / HTTP/1.1\r\nhost: x\r\n\r\n"


def test_https_hello_to_python_ssl(daemon, port):
    daemon(HELLO.format(port=port, opts=f"{{certificate: {pair('a')}}}"), [port], files=FILES)
    data, (peer, _) = tls_request(port, client_context(), "a.example", GET)
    assert data.startswith(b"HTTP/1.1 200") and data.endswith(b"hi")
    assert peer["subject"] == ((("commonName", "a.example"),),)


def test_https_hello_to_curl(daemon, port, tmp_path):
    daemon(HELLO.format(port=port, opts=f"{{certificate: {pair('a')}}}"), [port], files=FILES)
    r = subprocess.run(["curl", "-sk", "--max-time", "5", f"https://127.0.0.1:{port}/"],
                       capture_output=True, timeout=10)
    assert r.stdout == b"hi", r.stderr
    r = subprocess.run(["curl", "-s", "--max-time", "5", "--cacert", str(tmp_path / "ca.pem"),
                        f"https://localhost:{port}/"], capture_output=True, timeout=10)
    assert r.stdout == b"hi", r.stderr


SNI = ("pipy({{_certs: {{'a.example': {a}, 'b.example': {b}}}}})"
       ".listen({port}).acceptTLS({{certificate: sni => _certs[sni] || _certs['a.example'],"
       " alpn: ['h2', 'http/1.1'], handshake: p => console.log('proto', p)}})"
       ".to($=>$.serveHTTP(new Message('hi')))")


def test_openssl_s_client_sni_and_alpn(daemon, port, tmp_path):
    d = daemon(SNI.format(port=port, a=pair("a"), b=pair("b")), [port], files=FILES)
    for name in ("a.example", "b.example"):
        r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}",
                            "-servername", name, "-alpn", "http/1.1,h2",
                            "-CAfile", str(tmp_path / "ca.pem"), "-verify_return_error"],
                           input=b"", capture_output=True, timeout=10)
        out = r.stdout.decode(errors="replace")
        assert f"CN = {name}" in out, out
        assert "ALPN protocol: http/1.1" in out, out
        assert "Verify return code: 0 (ok)" in out, out
    d.wait_log("proto http/1.1", count=2)


def test_sni_selects_between_two_certificates_python(daemon, port):
    daemon(SNI.format(port=port, a=pair("a"), b=pair("b")), [port], files=FILES)
    for name in ("a.example", "b.example"):
        data, (peer, proto) = tls_request(port, client_context(alpn=["h2", "http/1.1"]),
                                          name, GET)
        assert peer["subject"] == ((("commonName", name),),)
        assert proto == "h2"


MTLS = ("pipy().listen({port}).acceptTLS({{certificate: {a}, trusted: [{ca}],"
        " verify: (ok, c) => (console.log('peer', c.subject.CN), ok)}})"
        ".to($=>$.serveHTTP(new Message('hi')))")


def test_mtls_client_certificate(daemon, port, tmp_path):
    d = daemon(MTLS.format(port=port, a=pair("a"), ca=cert("ca")), [port], files=FILES)
    data, _ = tls_request(port, client_context(tmp_path, client_cert="client"), "a.example", GET)
    assert data.endswith(b"hi")
    d.wait_log("peer client")
    # no client certificate, or one from another CA: refused, and logged
    for who in (None, "rogue"):
        try:
            data, _ = tls_request(port, client_context(tmp_path, client_cert=who), "a.example", GET)
        except (ssl.SSLError, ConnectionError, ValueError):  # ValueError: closed mid-handshake
            data = b""
        assert data == b""
    d.wait_log("[tls] handshake failed")


class TLSEchoServer(LoopbackServer):
    """A Python TLS server on loopback: echoes each line upper-cased, records SNI and ALPN."""

    def __init__(self, tmp_path, client_ca: bool = False) -> None:
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(tmp_path / "a.pem", tmp_path / "a-key.pem")
        self.ctx.set_alpn_protocols(["h2", "http/1.1"])
        if client_ca:
            self.ctx.load_verify_locations(cadata=FILES["ca.pem"])
            self.ctx.verify_mode = ssl.CERT_REQUIRED
        self.names: list = []
        self.protos: list = []
        self.peers: list = []
        self.ctx.sni_callback = lambda obj, name, c: self.names.append(name)
        super().__init__()

    def serve(self, conn: socket.socket) -> None:
        try:
            with self.ctx.wrap_socket(conn, server_side=True) as s:
                self.protos.append(s.selected_alpn_protocol())
                self.peers.append(s.getpeercert())
                while True:
                    b = s.recv(65536)
                    if not b:
                        break
                    s.sendall(b.upper())
        except (ssl.SSLError, OSError):
            pass


def plain_exchange(port: int, payload: bytes, want: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(payload)
        data = b""
        while len(data) < want:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


CONNECT = ("pipy().listen({port}).connectTLS({{sni: 'a.example', alpn: 'http/1.1',"
           " trusted: [{ca}]{extra}}}).to($=>$.connect('127.0.0.1:{up}'))")


def test_connect_tls_to_a_python_server(daemon, port, tmp_path):
    for name, pem in PKI.items():
        (tmp_path / name).write_bytes(pem)
    up = TLSEchoServer(tmp_path)
    try:
        daemon(CONNECT.format(port=port, ca=cert("ca"), up=up.port, extra=""), [port],
               files=FILES)
        assert plain_exchange(port, b"hello tls\n", 10) == b"HELLO TLS\n"
        assert up.names == ["a.example"] and up.protos == ["http/1.1"]
    finally:
        up.close()


def test_connect_tls_with_a_client_certificate(daemon, port, tmp_path):
    for name, pem in PKI.items():
        (tmp_path / name).write_bytes(pem)
    up = TLSEchoServer(tmp_path, client_ca=True)
    try:
        daemon(CONNECT.format(port=port, ca=cert("ca"), up=up.port,
                              extra=f", certificate: {pair('client')}"), [port], files=FILES)
        assert plain_exchange(port, b"mtls\n", 5) == b"MTLS\n"
        assert up.peers[0]["subject"] == ((("commonName", "client"),),)
    finally:
        up.close()


def test_connect_tls_untrusted_upstream_is_logged_and_closed(daemon, port, tmp_path):
    for name, pem in PKI.items():
        (tmp_path / name).write_bytes(pem)
    up = TLSEchoServer(tmp_path)
    try:
        d = daemon(CONNECT.format(port=port, ca=cert("other-ca"), up=up.port, extra=""),
                   [port], files=FILES)
        assert plain_exchange(port, b"x\n", 2) == b""
        d.wait_log("[tls] handshake failed")
    finally:
        up.close()


def test_tls_terminating_proxy_end_to_end(daemon, port, tmp_path):
    """acceptTLS in front, connectTLS behind: HTTPS in, HTTPS out, plaintext in between."""
    for name, pem in PKI.items():
        (tmp_path / name).write_bytes(pem)
    up = TLSEchoServer(tmp_path)
    src = (f"pipy().listen({port}).acceptTLS({{certificate: {pair('a')}}})"
           f".to($=>$.connectTLS({{sni: 'a.example', trusted: [{cert('ca')}]}})"
           f".to($=>$.connect('127.0.0.1:{up.port}')))")
    try:
        daemon(src, [port], files=FILES)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            with client_context().wrap_socket(raw, server_hostname="a.example") as s:
                s.sendall(b"through\n")
                assert s.recv(100) == b"THROUGH\n"
    finally:
        up.close()
