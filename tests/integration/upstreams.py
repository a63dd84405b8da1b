"""Real upstream servers for the proxy tests: plain HTTP/1.1 over sockets, one thread per
connection, independent of pipyd's own HTTP code.

An ``Upstream`` answers each request according to its ``mode`` (changeable while running):

- ``"ok"``     ``<name> <method> <path> <body length>`` (content-length framed);
- ``"echo"``   the request body back, with content-length;
- ``"slow"``   the ``ok`` answer after ``delay`` seconds;
- ``"cut"``    promises 100 bytes, sends 5 and closes (closing mid-response);
- ``"close"``  closes without answering;
- ``"big"``    a ``big`` bytes body of ``b"x"``, written in 1 MiB blocks as fast as the
  proxy takes them (``sent`` counts what was written);
- ``"count"``  reads the request body as it comes (content-length or chunked) without keeping
  it, and answers with the byte count (``body_bytes`` grows while the body streams).

Counters for assertions: ``accepted`` connections, ``closed`` connections, ``hits`` requests,
``paths`` (the request targets in arrival order).
"""
from __future__ import annotations

import socket
import threading
import time

BLOCK = 1 << 20


class LoopbackServer:
    """A TCP server on 127.0.0.1 (ephemeral port), one thread per connection; subclasses write
    ``serve(conn)`` and set their own state before calling ``super().__init__()``."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.sock.close()


class Upstream:
    def __init__(self, mode: str = "ok", name: str = "up", delay: float = 0.0, big: int = 0) -> None:
        self.mode = mode
        self.name = name
        self.delay = delay
        self.big = big
        self.accepted = 0
        self.closed = 0
        self.hits = 0
        self.paths: list[str] = []
        self.body_bytes = 0
        self.sent = 0
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.target = f"127.0.0.1:{self.port}"
        self.stopping = False
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.accepted += 1
                self.conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        reader = _Reader(conn)
        try:
            while self._one(conn, reader):
                pass
        except OSError:
            pass
        finally:
            with self.lock:
                self.closed += 1
            conn.close()

    def _one(self, conn: socket.socket, r: "_Reader") -> bool:
        head = r.head()
        if head is None:
            return False
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        with self.lock:
            self.hits += 1
            self.paths.append(path)
        mode = self.mode
        keep = mode in ("echo",)
        body = bytearray() if keep else None
        size = 0
        for piece in r.body(headers):
            size += len(piece)
            if mode == "count":
                with self.lock:
                    self.body_bytes += len(piece)
            if keep:
                body += piece
        if mode == "close":
            return False
        if mode == "cut":
            conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nhello")
            return False
        if mode == "slow":
            time.sleep(self.delay)
        if mode == "echo":
            out = bytes(body)
        elif mode == "count":
            out = b"%d" % size
        elif mode == "big":
            conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % self.big)
            block = b"x" * BLOCK
            left = self.big
            while left > 0:
                n = min(left, BLOCK)
                conn.sendall(block if n == BLOCK else block[:n])
                left -= n
                self.sent += n
            return True
        else:
            out = f"{self.name} {method} {path} {size}".encode()
        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(out), out))
        return True

    def stop(self) -> None:
        self.stopping = True
        self.sock.close()
        with self.lock:
            for c in self.conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class _Reader:
    """Buffered reads of one connection: request heads and bodies (content-length/chunked)."""

    def __init__(self, conn: socket.socket) -> None:
        self.conn = conn
        self.buf = b""

    def _more(self) -> bool:
        chunk = self.conn.recv(BLOCK)
        if not chunk:
            return False
        self.buf += chunk
        return True

    def head(self) -> bytes | None:
        while b"\r\n\r\n" not in self.buf:
            if not self._more():
                return None
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        return head

    def _take(self, n: int):
        """Up to ``n`` bytes as they arrive (never holding more than one read)."""
        while n > 0:
            if not self.buf and not self._more():
                raise OSError("closed in body")
            piece, self.buf = self.buf[:n], self.buf[n:]
            n -= len(piece)
            yield piece

    def _line(self) -> bytes:
        while b"\r\n" not in self.buf:
            if not self._more():
                raise OSError("closed in chunk header")
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def body(self, headers: dict):
        if "chunked" in headers.get("transfer-encoding", ""):
            while True:
                size = int(self._line().split(b";")[0], 16)
                if size == 0:
                    while self._line():  # trailers, then the empty line
                        pass
                    return
                yield from self._take(size)
                self._line()
        else:
            yield from self._take(int(headers.get("content-length", "0")))


def rss(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process in bytes, from /proc/<pid>/status."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                k, v = line.split(":")
                out[k] = int(v.split()[0]) * 1024
    return out["VmRSS"], out["VmHWM"]


class RSSWatch:
    """Samples a process's VmRSS every 50 ms on a thread; ``peak`` is the highest seen (VmHWM
    covers the whole life, this covers only the watched interval)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.start_rss = rss(pid)[0]
        self.peak = self.start_rss
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while self.running:
            try:
                self.peak = max(self.peak, rss(self.pid)[0])
            except (OSError, KeyError):
                return
            time.sleep(0.05)

    def stop(self) -> int:
        """Stop sampling; the growth over the starting RSS, in bytes."""
        self.running = False
        self.thread.join()
        try:
            self.peak = max(self.peak, rss(self.pid)[0])
        except (OSError, KeyError):
            pass
        return self.peak - self.start_rss
