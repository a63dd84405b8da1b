"""Reference for `make bench`: the least a Python reverse proxy on uvloop does per request.

Each client connection gets one kept-alive upstream connection. A request is parsed with
httptools, its head rebuilt and forwarded; the response is parsed with httptools and written
back with its status, headers and body. No routing, no pooling across clients, no timeouts,
no error answers: it is not a proxy to use, it measures the ceiling that parsing and
forwarding on this loop allow, which the pipyd figure can be read against.

``python -m tests.bench.ref_httptools_proxy PORT UPSTREAM_PORT``
"""
import asyncio
import sys

import httptools
import uvloop


class _Rebuild:
    """httptools callbacks shared by both sides: the message rebuilt into ``parts``."""

    parts: list[bytes]

    def on_header(self, name: bytes, value: bytes) -> None:
        self.parts.append(name + b": " + value + b"\r\n")

    def on_headers_complete(self) -> None:
        self.parts.append(b"\r\n")

    def on_body(self, body: bytes) -> None:
        self.parts.append(body)


class _Upstream(_Rebuild, asyncio.Protocol):
    """The upstream side of one client connection: parses responses, hands them back."""

    def __init__(self, client: "ProxyProtocol") -> None:
        self.client = client
        self.parser = httptools.HttpResponseParser(self)
        self.parts: list[bytes] = []

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def on_status(self, status: bytes) -> None:
        self.parts.append(b"HTTP/1.1 %d %s\r\n" % (self.parser.get_status_code(), status))

    def on_message_complete(self) -> None:
        self.client.transport.write(b"".join(self.parts))
        self.parts = []

    def connection_lost(self, exc: Exception | None) -> None:
        self.client.transport.close()


class ProxyProtocol(_Rebuild, asyncio.Protocol):
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.up: asyncio.Transport | None = None
        self.waiting: list[bytes] = []
        self.parts: list[bytes] = []

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self.transport = transport
        self.parser = httptools.HttpRequestParser(self)
        asyncio.get_running_loop().create_task(self._connect())

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        self.up, _ = await loop.create_connection(lambda: _Upstream(self), "127.0.0.1", self.upstream_port)
        for request in self.waiting:
            self.up.write(request)
        self.waiting = []

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.transport.close()

    def on_url(self, url: bytes) -> None:
        self.parts.append(self.parser.get_method() + b" " + url + b" HTTP/1.1\r\n")

    def on_message_complete(self) -> None:
        request = b"".join(self.parts)
        self.parts = []
        if self.up is None:
            self.waiting.append(request)
        else:
            self.up.write(request)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.up is not None:
            self.up.close()


def main() -> None:
    port, upstream_port = int(sys.argv[1]), int(sys.argv[2])
    uvloop.install()
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(
        loop.create_server(lambda: ProxyProtocol(upstream_port), "127.0.0.1", port, backlog=1024))
    print("ready", flush=True)
    loop.run_until_complete(server.serve_forever())


if __name__ == "__main__":
    main()
