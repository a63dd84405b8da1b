"""Compression, throttling and exec through the real daemon (issue 7)."""
import gzip
import socket
import time

import h11

from .daemon import http_exchange

GET = b"GET /%d HTTP/1.1\r\nHost: x\r\n\r\n"
TEXT = "compress me please! " * 100


def response(raw: bytes) -> tuple[dict, bytes]:
    """Parse one response with h11 (independent of pipyd): headers and body."""
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="GET", target="/", headers=[("host", "x")]))
    conn.send(h11.EndOfMessage())
    conn.receive_data(raw)
    headers, body = {}, b""
    while True:
        ev = conn.next_event()
        if type(ev) is h11.Response:
            headers = {k.decode(): v.decode() for k, v in ev.headers}
        elif type(ev) is h11.Data:
            body += ev.data
        elif type(ev) is h11.EndOfMessage or ev is h11.NEED_DATA:
            return headers, body


def test_compress_http_gzip_response(daemon, port):
    src = """pipy().listen(%d).demuxHTTP().to($=>$
      .replaceMessage(new Message({status: 200}, '%s'))
      .compressHTTP({method: 'gzip'}))""" % (port, TEXT)
    daemon(src, ports=[port])
    headers, body = response(http_exchange(port, GET % 1))
    assert headers["content-encoding"] == "gzip"
    assert gzip.decompress(body) == TEXT.encode()
    assert len(body) < len(TEXT)


def test_decompress_http_request_body(daemon, port):
    src = """pipy().listen(%d).demuxHTTP().to($=>$
      .decompressHTTP()
      .replaceMessage(req => new Message(req.body.toString().toUpperCase())))""" % port
    daemon(src, ports=[port])
    z = gzip.compress(b"inflated on the way in")
    req = (b"POST / HTTP/1.1\r\nHost: x\r\ncontent-encoding: gzip\r\ncontent-length: %d\r\n\r\n"
           % len(z)) + z
    assert response(http_exchange(port, req))[1] == b"INFLATED ON THE WAY IN"


def test_throttle_message_rate_holds_a_burst(daemon, port):
    # one quota for every request: 2 messages per 0.6 s
    src = """pipy().listen(%d).demuxHTTP().to($=>$
      .throttleMessageRate(new algo.Quota(2, {per: 0.6}))
      .replaceMessage(req => new Message(req.head.path)))""" % port
    daemon(src, ports=[port])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        start = time.monotonic()
        s.sendall(b"".join(GET % i for i in range(4)))
        conn = h11.Connection(h11.CLIENT)
        bodies, times, body = [], [], b""
        # h11 frames each response by the request it answers: pretend one request per cycle
        conn.send(h11.Request(method="GET", target="/", headers=[("host", "x")]))
        conn.send(h11.EndOfMessage())
        while len(bodies) < 4:
            ev = conn.next_event()
            if ev is h11.NEED_DATA:
                conn.receive_data(s.recv(65536))
            elif type(ev) is h11.Data:
                body += ev.data
            elif type(ev) is h11.EndOfMessage:
                bodies.append(body)
                times.append(time.monotonic() - start)
                body = b""
                conn.start_next_cycle()
                conn.send(h11.Request(method="GET", target="/", headers=[("host", "x")]))
                conn.send(h11.EndOfMessage())
    assert bodies == [b"/0", b"/1", b"/2", b"/3"]
    assert times[1] < 0.5  # the first two pass at once
    assert times[2] >= 0.3  # the rest waited for the refill (lower bound: never early)


def test_exec_cat_echo_server(daemon, port):
    daemon("pipy().listen(%d).exec('cat')" % port, ports=[port])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"ping through cat")
        got = b""
        while len(got) < 16:
            got += s.recv(100)
        assert got == b"ping through cat"
        s.shutdown(socket.SHUT_WR)  # StreamEnd closes cat's stdin; cat exits; we get EOF
        assert s.recv(100) == b""
