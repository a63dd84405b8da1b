"""One real pipyd per test module serving the stream-log API; tests use unique stream names.

Ports: ``main`` (short heartbeat, small lag limit, fast webhook retries), ``guarded`` (rate
limit and API keys), ``nocors`` (CORS off). Clients are http.client and raw sockets.
"""
from __future__ import annotations

import http.client
import itertools
import json
import socket
import time

import pytest

from ..daemon import Daemon, free_port

SERVER = """
pipy()
  .listen({main}).demuxHTTP().to($=>$.serveStreamLog({{
    store: '{store}', heartbeat: 0.3, maxLag: 40, maxWait: 5, webhookRetry: 0.05 }}))
  .listen({guarded}).demuxHTTP().to($=>$.serveStreamLog({{
    store: '{store}', rateLimit: {{ rate: 0.5, burst: 3 }}, apiKeys: {{ secure: ['k1', 'k2'] }} }}))
  .listen({nocors}).demuxHTTP().to($=>$.serveStreamLog({{ store: '{store}', cors: false }}))
"""

_names = itertools.count()


# One stream-log on one port, for tests that restart their own daemon.
SINGLE_SERVER = ("pipy().listen({port}).demuxHTTP().to($=>$.serveStreamLog("
                 "{{store: '{store}', webhookRetry: 0.05}}))")


def request(port: int, method: str, path: str, body=None, headers=None) -> tuple[int, bytes]:
    """One request on a fresh connection: (status, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


class Server:
    def __init__(self, daemon: Daemon, ports: dict[str, int]) -> None:
        self.daemon = daemon
        self.ports = ports
        self.port = ports["main"]

    def request(self, method: str, path: str, body: bytes | str | None = None,
                headers: dict | None = None, port: str = "main", timeout: float = 10.0):
        """(status, lower-cased headers, body bytes)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.ports[port], timeout=timeout)
        try:
            if isinstance(body, str):
                body = body.encode()
            conn.request(method, path, body=body, headers=headers or {})
            r = conn.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            conn.close()

    def post(self, path: str, body: bytes | str = b"", **headers: str):
        return self.request("POST", path, body, {k.replace("_", "-"): v for k, v in headers.items()})

    def get(self, path: str, **headers: str):
        return self.request("GET", path, None, {k.replace("_", "-"): v for k, v in headers.items()})

    def json(self, path: str, **headers: str):
        status, h, body = self.get(path, **headers)
        assert status == 200, (status, body)
        return json.loads(body)

    def sse(self, path: str, headers: dict | None = None, port: str = "main") -> "SSEClient":
        return SSEClient(self.ports[port], path, headers or {})


class SSEClient:
    """A raw-socket SSE reader: the head, then frames as they arrive (chunked decoding)."""

    def __init__(self, port: int, path: str, headers: dict) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n"
                          f"{extra}\r\n".encode())
        self.raw = b""
        self.text = ""
        self.status = 0
        self.headers: dict[str, str] = {}
        self.ended = False  # the last chunk arrived: the server ended the response
        self._read_head()

    def _recv(self) -> bool:
        try:
            b = self.sock.recv(65536)
        except socket.timeout:
            return False
        if not b:
            raise EOFError
        self.raw += b
        return True

    def _read_head(self) -> None:
        while b"\r\n\r\n" not in self.raw:
            self._recv()
        head, self.raw = self.raw.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {k.lower(): v.strip() for k, v in (x.split(":", 1) for x in lines[1:])}

    def _dechunk(self) -> None:
        while True:
            i = self.raw.find(b"\r\n")
            if i < 0:
                return
            size = int(self.raw[:i], 16)
            if size == 0:
                self.raw = b""
                self.ended = True
                return
            if len(self.raw) < i + 2 + size + 2:
                return
            self.text += self.raw[i + 2:i + 2 + size].decode()
            self.raw = self.raw[i + 2 + size + 2:]

    def frames(self, count: int, timeout: float = 5.0) -> list[dict]:
        """The first ``count`` non-comment frames since the start (parsed fields)."""
        deadline = time.monotonic() + timeout
        while True:
            self._dechunk()
            got = self.parsed()
            if len(got) >= count or self.ended or time.monotonic() > deadline:
                return got
            try:
                self._recv()
            except EOFError:
                self._dechunk()
                return self.parsed()

    def wait_text(self, needle: str, timeout: float = 5.0) -> str:
        deadline = time.monotonic() + timeout
        while needle not in self.text and time.monotonic() < deadline:
            try:
                self._recv()
            except EOFError:
                self._dechunk()
                break
            self._dechunk()
        return self.text

    def parsed(self) -> list[dict]:
        out = []
        for block in self.text.split("\n\n")[:-1]:
            f: dict = {}
            for line in block.split("\n"):
                if not line or line.startswith(":"):
                    continue
                k, _, v = line.partition(":")
                v = v[1:] if v.startswith(" ") else v
                f[k] = f[k] + "\n" + v if k == "data" and k in f else v
            if f:
                out.append(f)
        return out

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(scope="package")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("streamlog")
    ports = {"main": free_port(), "guarded": free_port(), "nocors": free_port()}
    (base / "main.js").write_text(SERVER.format(store=str(base / "data"), **ports))
    d = Daemon(base, "main.js").start(list(ports.values()))
    yield Server(d, ports)
    d.stop()


@pytest.fixture
def stream():
    """A fresh stream path for one test."""
    return f"/t/s{next(_names)}x{int(time.time() * 1000) % 100000}"
