"""Tests of outbound connections and the `connect` filter, against real loopback servers.

Shared helpers: a uvloop runner (as `pipyd` runs), a sink that records the pipeline's output,
a FlowControl that records pauses and offers the ``watch_output`` notification, and small
asyncio servers started on port 0 inside the test's loop.
"""
from __future__ import annotations

import asyncio
import io
import socket
from typing import Any, Callable

import uvloop

import pipyd.filters  # noqa: F401  (registers the families)
from pipyd import log
from pipyd.context import Context
from pipyd.events import Data, StreamEnd
from pipyd.js.values import JSObject
from pipyd.pipeline import FlowControl, PipelineLayout
from pipyd.registry import lookup


def run(coro_fn: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Run ``coro_fn()`` on a fresh uvloop loop with a time limit."""
    async def bounded() -> Any:
        return await asyncio.wait_for(coro_fn(), timeout)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(bounded())


class Sink:
    """The pipeline's output: keeps events; ``wait_end()`` waits for the StreamEnd."""

    def __init__(self) -> None:
        self.events: list = []
        self.ended = asyncio.Event()

    def process(self, evt: Any) -> None:
        self.events.append(evt)
        if type(evt) is StreamEnd:
            self.ended.set()

    def data(self) -> bytes:
        return b"".join(e.to_bytes() for e in self.events if type(e) is Data)

    def ends(self) -> list[str]:
        return [e.error for e in self.events if type(e) is StreamEnd]

    async def wait_end(self, limit: float = 3.0) -> str:
        await asyncio.wait_for(self.ended.wait(), limit)
        return self.ends()[0]

    async def wait_data(self, n: int, limit: float = 3.0) -> bytes:
        await settle(lambda: len(self.data()) >= n, limit)
        return self.data()


class RecordingFlow(FlowControl):
    """A root's flow control that counts pause/resume of its source and offers the
    ``watch_output(fn)``/``unwatch_output(fn)`` congestion notification."""

    def __init__(self) -> None:
        super().__init__()
        self.pauses = 0
        self.resumes = 0
        self.watchers: list = []

    def pause_reading(self) -> None:
        self.pauses += 1

    def resume_reading(self) -> None:
        self.resumes += 1

    def watch_output(self, fn: Callable[[bool], None]) -> None:
        self.watchers.append(fn)

    def unwatch_output(self, fn: Callable[[bool], None]) -> None:
        self.watchers.remove(fn)

    def congest(self, flag: bool) -> None:
        for fn in list(self.watchers):
            fn(flag)


def connect_pipeline(target: Any, sink: Sink, flow: FlowControl | None = None,
                     context: Context | None = None, **options: Any) -> Any:
    """A pipeline holding one `connect(target, options)` filter, configured as a script."""
    lay = PipelineLayout("test")
    lay.append(lookup("connect").configure(None, target, JSObject(options)))
    return lay.instantiate(context or Context([{}]), sink, (), flow)


async def settle(cond: Callable[[], bool], limit: float = 3.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + limit
    while not cond():
        if loop.time() > end:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.005)


class Server:
    """A loopback TCP server on port 0; ``handler(reader, writer)`` per connection."""

    def __init__(self, handler: Callable[..., Any]) -> None:
        self.handler = handler
        self.server: asyncio.AbstractServer | None = None
        self.port = 0
        self.accepted = 0

    async def __aenter__(self) -> "Server":
        async def on_conn(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            self.accepted += 1
            try:
                await self.handler(r, w)
            except (ConnectionError, asyncio.IncompleteReadError):
                pass
            finally:
                w.close()
        self.server = await asyncio.start_server(on_conn, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.server.close()

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"


async def echo(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
    while True:
        b = await r.read(65536)
        if not b:
            return
        w.write(b)
        await w.drain()


def free_port() -> int:
    """A loopback port nobody listens on (bound then released)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class LogCapture:
    """Log lines at debug level into a buffer for the duration of a ``with``."""

    def __enter__(self) -> "LogCapture":
        self.buf = io.StringIO()
        self.saved = (log.LOGGER.stream, log.LOGGER.level, log.LOGGER.threshold)
        log.configure(level="debug", stream=self.buf)
        return self

    def __exit__(self, *exc: Any) -> None:
        log.LOGGER.stream, log.LOGGER.level, log.LOGGER.threshold = self.saved

    @property
    def text(self) -> str:
        return self.buf.getvalue()
