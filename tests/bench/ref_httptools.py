"""Reference server for `make bench`: the smallest correct uvloop + httptools hello server.

It answers every request with the same bytes pipyd's hello module sends, keeps connections
alive, and does nothing else: the ceiling a Python HTTP server on this loop can reach.
"""
import asyncio
import sys

import httptools
import uvloop

RESPONSE = b"HTTP/1.1 200 OK\r\ncontent-length: 11\r\nconnection: keep-alive\r\n\r\nHi, there!\n"


class HelloProtocol(asyncio.Protocol):
    def connection_made(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        self.parser = httptools.HttpRequestParser(self)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.transport.close()

    def on_message_complete(self) -> None:
        self.transport.write(RESPONSE)


def main() -> None:
    port = int(sys.argv[1])
    uvloop.install()
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(HelloProtocol, "127.0.0.1", port, backlog=1024))
    print("ready", flush=True)
    loop.run_until_complete(server.serve_forever())


if __name__ == "__main__":
    main()
