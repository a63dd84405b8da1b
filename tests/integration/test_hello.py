"""The first runnable daemon (issue 3): `pipyd hello.js` answers exactly as Pipy 0.70 does."""
import socket

from .daemon import http_exchange

HELLO = "pipy().listen({port}).serveHTTP(new Message('Hi, there!\\n'))\n"
EXPECTED = b"HTTP/1.1 200 OK\r\ncontent-length: 11\r\nconnection: keep-alive\r\n\r\nHi, there!\n"


def test_hello_answers_exact_bytes(daemon, port):
    d = daemon(HELLO.format(port=port), ports=[port])
    assert http_exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") == EXPECTED
    assert f"[listener] Listening on TCP port {port} at 0.0.0.0" in d.log()


def test_keep_alive_serves_many_requests_on_one_connection(daemon, port):
    daemon(HELLO.format(port=port), ports=[port])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        for _ in range(3):
            s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            got = b""
            while len(got) < len(EXPECTED):
                got += s.recv(4096)
            assert got == EXPECTED


def test_pipelined_requests_answered_in_order(daemon, port):
    src = ("pipy().listen(%d).serveHTTP(req => new Message(req.head.path + '\\n'))" % port)
    daemon(src, ports=[port])
    reqs = b"".join(b"GET /%d HTTP/1.1\r\nHost: x\r\n\r\n" % i for i in range(5))
    out = http_exchange(port, reqs, methods=["GET"] * 5)
    bodies = [part.split(b"\r\n\r\n", 1)[1][:3] for part in out.split(b"HTTP/1.1 ")[1:]]
    assert bodies == [b"/%d\n" % i for i in range(5)][:5] or out.count(b"200 OK") == 5
    assert [int(x) for x in __import__("re").findall(rb"\n/(\d)\n?", out)] == [0, 1, 2, 3, 4]


def test_connection_close_closes_after_response(daemon, port):
    daemon(HELLO.format(port=port), ports=[port])
    out = http_exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", until_close=True)
    assert out == EXPECTED.replace(b"keep-alive", b"close")


def test_http10_without_connection_header_is_final(daemon, port):
    daemon(HELLO.format(port=port), ports=[port])
    out = http_exchange(port, b"GET / HTTP/1.0\r\n\r\n", until_close=True)
    assert out.endswith(b"connection: close\r\n\r\nHi, there!\n")


def test_head_response_has_no_body(daemon, port):
    daemon(HELLO.format(port=port), ports=[port])
    out = http_exchange(port, b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", methods=["HEAD"])
    assert out.startswith(b"HTTP/1.1 200 OK\r\n")
    assert out.endswith(b"\r\n\r\n")


def test_chunked_request_body_is_decoded(daemon, port):
    src = "pipy().listen(%d).serveHTTP(req => new Message(req.body))" % port
    daemon(src, ports=[port])
    req = (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
    out = http_exchange(port, req)
    assert out.endswith(b"content-length: 11\r\nconnection: keep-alive\r\n\r\nhello world")


def test_large_response_is_chunked(daemon, port):
    src = "pipy().listen(%d).serveHTTP(() => new Message('x'.repeat(40000)))" % port
    daemon(src, ports=[port])
    out = http_exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    head, body = out.split(b"\r\n\r\n", 1)
    assert b"transfer-encoding: chunked" in head.lower()
    assert body.endswith(b"0\r\n\r\n")


def test_expect_100_continue(daemon, port):
    src = "pipy().listen(%d).serveHTTP(req => new Message(req.body))" % port
    daemon(src, ports=[port])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        interim = s.recv(4096)
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n")
        s.sendall(b"ping")
        got = b""
        while not got.endswith(b"ping"):
            chunk = s.recv(4096)
            assert chunk
            got += chunk
        assert b"200 OK" in got


def test_malformed_request_gets_400_and_close(daemon, port):
    d = daemon(HELLO.format(port=port), ports=[port])
    out = http_exchange(port, b"GET / HTTP/1.1\r\nHost x\r\n\r\n", until_close=True)
    assert out.startswith(b"HTTP/1.1 400 ")
    # the daemon keeps serving
    assert http_exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") == EXPECTED
    assert d.proc.poll() is None


def test_oversized_headers_get_431(daemon, port):
    daemon(HELLO.format(port=port), ports=[port])
    req = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n"
    out = http_exchange(port, req, until_close=True)
    assert out.startswith(b"HTTP/1.1 431 ")


def test_script_error_is_logged_with_location_and_daemon_keeps_serving(daemon, port):
    src = ("pipy().listen(%d)\n"
           ".serveHTTP(req => req.head.path === '/boom'\n"
           "  ? undefinedThing.call()\n"
           "  : new Message('ok'))\n") % port
    d = daemon(src, ports=[port])
    http_exchange(port, b"GET /boom HTTP/1.1\r\nHost: x\r\n\r\n")
    log = d.wait_log("undefinedThing")
    assert "ReferenceError" in log
    assert "/main.js:3:" in log
    assert b"ok" in http_exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
