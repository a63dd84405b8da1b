"""Loggers: record formats, toFile, and toHTTP batching against a local asyncio HTTP server."""
from __future__ import annotations

import asyncio
import json

from pipyd.api.logging_api import BinaryLogger, JSONLogger, TextLogger
from pipyd.events import Data
from pipyd.js.values import JSArray, JSObject


def test_formats():
    obj = JSObject(a=1, b=JSArray([True, None]))
    assert JSONLogger("j").format(("s", 1, obj)) == b'"s" 1 {"a":1,"b":[true,null]}'
    assert TextLogger("t").format(("s", 1.5, obj, Data(b"d"))) == b's 1.5 {"a":1,"b":[true,null]} d'
    assert BinaryLogger("b").format((Data(b"\x00\x01"), "x")) == b"\x00\x01x"


def test_to_file(tmp_path):
    path = tmp_path / "log.txt"
    log = JSONLogger("f").toFile(str(path))
    log.log(JSObject(n=1))
    log.log("two")
    assert path.read_text().splitlines() == ['{"n":1}', '"two"']


class Collector:
    """A tiny keep-alive HTTP/1.1 server that records request heads and bodies."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict, bytes]] = []
        self.got = asyncio.Event()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = (await reader.readuntil(b"\r\n\r\n")).decode().split("\r\n")
                fields = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in head[1:] if h)}
                body = await reader.readexactly(int(fields.get("content-length", 0)))
                self.requests.append((head[0], fields, body))
                self.got.set()
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()


def test_to_http_batches_by_size_and_interval():
    async def main():
        col = Collector()
        server = await asyncio.start_server(col.handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        log = JSONLogger("h").toHTTP(f"http://127.0.0.1:{port}/ingest", JSObject(
            headers=JSObject({"x-key": "k"}),
            batch=JSObject(size=3, interval=0.05, prefix="[", postfix="]", separator=",")))
        for i in range(4):
            log.log(JSObject(i=i))
        await asyncio.wait_for(col.got.wait(), 5)  # the size-3 batch goes at once
        col.got.clear()
        await asyncio.wait_for(col.got.wait(), 5)  # the 4th record after the interval
        server.close()
        return col.requests
    reqs = asyncio.run(main())
    assert [r[0] for r in reqs] == ["POST /ingest HTTP/1.1"] * 2
    assert json.loads(reqs[0][2]) == [{"i": 0}, {"i": 1}, {"i": 2}]
    assert json.loads(reqs[1][2]) == [{"i": 3}]
    assert reqs[0][1]["x-key"] == "k" and reqs[0][1]["host"].startswith("127.0.0.1:")


def test_to_http_survives_a_dead_collector():
    async def main():
        log = TextLogger("d").toHTTP("http://127.0.0.1:9/x", JSObject(batch=JSObject(size=1)))
        log.log("lost")
        target = log._targets[0].__self__
        await asyncio.wait_for(target.drain(), 5)
        return target.failed
    assert asyncio.run(main()) == 1
