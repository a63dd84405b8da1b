"""The Pipy tutorial proxy (demuxHTTP -> muxHTTP -> connect) on the real daemon, against real
upstreams: a plain Python server counting its connections, and a pipyd hello module."""
from __future__ import annotations

import socket
import threading
import time

import pytest

from .daemon import Daemon, free_port, http_exchange

PROXY = ("pipy().listen({port}).demuxHTTP().to($=>$.muxHTTP({group}).to("
         "$=>$.connect('127.0.0.1:{up}')))\n")


class Upstream:
    """A tiny HTTP/1.1 server on its own thread: answers each request with its path, counts the
    connections it accepted; ``mode`` changes its behaviour for the failure tests."""

    def __init__(self, mode: str = "ok") -> None:
        self.mode = mode
        self.accepted = 0
        self.closed = 0
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buf = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buf:
                    try:
                        chunk = conn.recv(65536)
                    except OSError:
                        chunk = b""
                    if not chunk:
                        self.closed += 1
                        return
                    buf += chunk
                head, _, buf = buf.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    k, _, v = line.partition(b":")
                    if k.strip().lower() == b"content-length":
                        length = int(v)
                while len(buf) < length:
                    buf += conn.recv(65536)
                body, buf = buf[:length], buf[length:]
                path = head.split(b" ")[1]
                if self.mode == "close":  # closes without answering
                    self.closed += 1
                    return
                if self.mode == "cut":  # promises 100 bytes, sends 5, closes
                    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nhello")
                    self.closed += 1
                    return
                out = path + b":" + body
                conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(out), out))

    def stop(self) -> None:
        self.stopping = True
        self.sock.close()


@pytest.fixture
def upstream():
    made: list[Upstream] = []

    def make(mode: str = "ok") -> Upstream:
        u = Upstream(mode)
        made.append(u)
        return u

    yield make
    for u in made:
        u.stop()


def get(path: str) -> bytes:
    return b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path.encode()


def read_response(s: socket.socket, count: int = 1) -> bytes:
    """Read until ``count`` content-length framed responses have arrived."""
    data = b""
    done = 0
    pos = 0
    while done < count:
        end = data.find(b"\r\n\r\n", pos)
        if end >= 0:
            head = data[pos:end].lower()
            n = int(head.split(b"content-length: ")[1].split(b"\r\n")[0]) if b"content-length" in head else 0
            if len(data) >= end + 4 + n:
                pos = end + 4 + n
                done += 1
                continue
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def test_forwarding(daemon, port, upstream):
    up = upstream()
    daemon(PROXY.format(port=port, group="", up=up.port), ports=[port])
    out = http_exchange(port, b"POST /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
    assert out == b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\nconnection: keep-alive\r\n\r\n/hello:abc"


def test_pooling_one_upstream_connection_for_sequential_requests(daemon, port, upstream):
    up = upstream()
    daemon(PROXY.format(port=port, group="() => 'pool'", up=up.port), ports=[port])
    for i in range(5):  # five clients, one after another: one upstream connection
        out = http_exchange(port, get("/%d" % i))
        assert out.endswith(b"/%d:" % i)
    assert up.accepted == 1


def test_keep_alive_and_default_inbound_key(daemon, port, upstream):
    up = upstream()
    daemon(PROXY.format(port=port, group="", up=up.port), ports=[port])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        for i in range(4):
            s.sendall(get("/k%d" % i))
            assert read_response(s).endswith(b"/k%d:" % i)
    assert up.accepted == 1
    http_exchange(port, get("/other"))  # another client: a session of its own (key __inbound)
    assert up.accepted == 2


def test_pipelined_requests(daemon, port, upstream):
    up = upstream()
    daemon(PROXY.format(port=port, group="", up=up.port), ports=[port])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"".join(get("/p%d" % i) for i in range(6)))
        out = read_response(s, 6)
    bodies = [part.rsplit(b"\r\n\r\n", 1)[1] for part in out.split(b"HTTP/1.1 200 OK")[1:]]
    assert bodies == [b"/p%d:" % i for i in range(6)]


def test_max_idle_closes_pooled_connection(daemon, port, upstream):
    up = upstream()
    daemon(PROXY.format(port=port, group="() => 'pool', {maxIdle: 1}", up=up.port), ports=[port])
    assert http_exchange(port, get("/a")).endswith(b"/a:")
    deadline = time.monotonic() + 5
    while up.closed < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert up.closed == 1
    assert http_exchange(port, get("/b")).endswith(b"/b:")  # a new connection
    assert up.accepted == 2


def test_upstream_down_gives_502_connection_refused(daemon, port):
    dead = free_port()
    daemon(PROXY.format(port=port, group="", up=dead), ports=[port])
    out = http_exchange(port, get("/"))
    assert out == (b"HTTP/1.1 502 Connection Refused\r\ncontent-length: 0\r\n"
                   b"connection: keep-alive\r\n\r\n")


def test_upstream_closing_before_answer_gives_empty_200(daemon, port, upstream):
    up = upstream("close")
    daemon(PROXY.format(port=port, group="", up=up.port), ports=[port])
    out = http_exchange(port, get("/"))
    assert out.startswith(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n")


def test_upstream_closing_mid_response_closes_client(daemon, port, upstream):
    up = upstream("cut")
    daemon(PROXY.format(port=port, group="", up=up.port), ports=[port])
    out = http_exchange(port, get("/"), until_close=True)
    # the response cannot be completed: the client connection closes without a whole response
    # (demuxHTTP was still holding the 5 bytes to frame them)
    assert b"content-length: 5\r\n" not in out and b"502" not in out
    # the proxy survives and a new session serves the next request
    up.mode = "ok"
    assert http_exchange(port, get("/again")).endswith(b"/again:")


def test_pipyd_hello_module_as_upstream(tmp_path, daemon, port):
    up_port = free_port()
    up_dir = tmp_path / "up"
    up_dir.mkdir()
    (up_dir / "hello.js").write_text(
        "pipy().listen(%d).serveHTTP(new Message('Hi, there!\\n'))\n" % up_port)
    upd = Daemon(up_dir, "hello.js").start([up_port])
    try:
        daemon(PROXY.format(port=port, group="", up=up_port), ports=[port])
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            for _ in range(3):
                s.sendall(get("/"))
                assert read_response(s) == (b"HTTP/1.1 200 OK\r\ncontent-length: 11\r\n"
                                            b"connection: keep-alive\r\n\r\nHi, there!\n")
    finally:
        upd.stop()
