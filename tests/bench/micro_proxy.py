"""Socket-free reverse-proxy benchmark: the cost of one keep-alive request through the proxy
suite's routing module (http_proxy.PROXY: demuxHTTP -> handleMessageStart with URLRouter and
RoundRobinLoadBalancer -> branch -> muxHTTP -> connect), with fake transports on both sides.

One request = the client's bytes into ``InboundConnection.data_received``, the request bytes
written by the real ``OutboundTCP`` to its (fake) upstream transport, the canned upstream
response fed to ``OutboundTCP.data_received``, the response written to the client transport.
The outbound is connected at once instead of through a socket (``open_outbound`` is replaced
for the run), so the figures isolate the Python work per proxied request. Next to it, a
minimal httptools proxy (parse the request, forward it, parse the response, write it back).

``python -m tests.bench proxy-micro``; ``python -m tests.bench.micro_proxy --profile [sort]``
prints a cProfile of the pipyd path (sorted by ``tottime`` unless another pstats key is given).
"""
from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import httptools

from .http_proxy import PROXY
from .micro_serve import REQUEST, _new_loop, _Opts, _Transport

RESPONSE = b"HTTP/1.1 200 OK\r\ncontent-length: 11\r\nconnection: keep-alive\r\n\r\nHi, there!\n"
UPSTREAM = 18081


class _UpTransport(_Transport):
    """The upstream side: remembers what was written so the bench can check it."""

    def __init__(self) -> None:
        super().__init__()
        self.closing = False

    def is_closing(self) -> bool:
        return self.closing

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.closing = True

    def close(self) -> None:
        self.closing = True


def pipyd_proxy(tmp: str) -> tuple[Callable[[], None], _Transport, list]:
    """A connected client InboundConnection of the proxy module; returns ``one()`` (one full
    request/response), the client transport and the list of outbounds opened."""
    import pipyd.filters.connect as connect_mod
    from pipyd.inbound import InboundConnection, ListenOptions, TCPListener
    from pipyd.outbound import OutboundTCP
    from pipyd.worker import Worker, settle_heap

    opened: list = []

    def open_now(host: str, port: int, options: Any, target: Any, source: Any = None) -> Any:
        ob = OutboundTCP(host, port, options, target, source)
        ob.connection_made(_UpTransport())  # connected at once: no socket, no task
        opened.append(ob)
        return ob

    connect_mod.open_outbound = open_now
    path = Path(tmp) / "proxy.js"
    path.write_text(PROXY % {"port": 18080, "up": UPSTREAM})
    w = Worker(str(path), _Opts())
    w.load()
    layout = w.modules[0].roots[0].layout
    listener = TCPListener(layout, "127.0.0.1", 0, ListenOptions(), w.new_context)
    listener.loop = asyncio.get_running_loop()
    conn = InboundConnection(listener)
    client = _Transport()
    conn.connection_made(client)
    settle_heap()
    feed = conn.data_received

    def one() -> None:
        feed(REQUEST)
        opened[-1].data_received(RESPONSE)
    return one, client, opened


def reference_proxy() -> tuple[Callable[[], None], _Transport]:
    """A minimal httptools proxy: the request parsed and forwarded, the response parsed and
    written back (what any HTTP proxy must do at the least)."""
    client = _Transport()
    upstream = _Transport()

    class Req:
        def __init__(self) -> None:
            self.parts: list[bytes] = []

        def on_url(self, url: bytes) -> None:
            self.parts.append(b"GET " + url + b" HTTP/1.1\r\n")

        def on_header(self, name: bytes, value: bytes) -> None:
            self.parts.append(name + b": " + value + b"\r\n")

        def on_message_complete(self) -> None:
            self.parts.append(b"\r\n")
            upstream.write(b"".join(self.parts))
            self.parts = []

    class Res:
        def __init__(self) -> None:
            self.headers: list[bytes] = []
            self.body: list[bytes] = []

        def on_header(self, name: bytes, value: bytes) -> None:
            self.headers.append(name + b": " + value + b"\r\n")

        def on_body(self, b: bytes) -> None:
            self.body.append(b)

        def on_message_complete(self) -> None:
            client.write(b"".join([b"HTTP/1.1 200 OK\r\n", *self.headers, b"\r\n", *self.body]))
            self.headers, self.body = [], []

    req_parser = httptools.HttpRequestParser(Req())
    res_parser = httptools.HttpResponseParser(Res())

    def one() -> None:
        req_parser.feed_data(REQUEST)
        res_parser.feed_data(RESPONSE)
    return one, client


async def _us_per_request(one: Callable[[], None], n: int, repeat: int) -> float:
    for _ in range(2000):
        one()
    await asyncio.sleep(0)
    best = float("inf")
    batch = 1000  # let the loop run its call_soon callbacks between batches, as it would
    for _ in range(repeat):
        spent = 0.0
        for _ in range(n // batch):
            t0 = time.thread_time()
            for _ in range(batch):
                one()
            spent += time.thread_time() - t0
            await asyncio.sleep(0)
        best = min(best, spent)
    return best / n * 1e6


async def _run() -> list[tuple[str, object]]:
    rows: list[tuple[str, object]] = []
    ref_one, ref_client = reference_proxy()
    ref = await _us_per_request(ref_one, 2_000, 30)
    rows.append(("minimal httptools proxy: us/request", f"{ref:.2f}"))
    with tempfile.TemporaryDirectory() as tmp:
        one, client, opened = pipyd_proxy(tmp)
        ours = await _us_per_request(one, 2_000, 30)
        if client.written < 60_000 * len(b"Hi, there!\n"):
            raise RuntimeError("pipyd proxy: responses were not written")
        if len(opened) != 1:
            raise RuntimeError(f"pipyd proxy: {len(opened)} upstream connections (expected 1)")
        rows.append(("pipyd routing proxy: us/request", f"{ours:.2f}"))
        rows.append(("  pipyd / minimal (time ratio)", f"{ours / ref:.1f}x"))
    return rows


def run() -> list[tuple[str, object]]:
    loop = _new_loop()
    try:
        return loop.run_until_complete(_run())
    finally:
        loop.close()


async def _profile(sort: str) -> None:
    import cProfile
    import pstats
    with tempfile.TemporaryDirectory() as tmp:
        one, _, _ = pipyd_proxy(tmp)
        await _us_per_request(one, 2000, 1)
        pr = cProfile.Profile()
        for _ in range(50):
            pr.enable()
            for _ in range(1000):
                one()
            pr.disable()
            await asyncio.sleep(0)
        pstats.Stats(pr).sort_stats(sort).print_stats(60)


if __name__ == "__main__":
    if "--profile" in sys.argv:
        rest = sys.argv[sys.argv.index("--profile") + 1:]
        _new_loop().run_until_complete(_profile(rest[0] if rest else "tottime"))
    else:
        for label, value in run():
            print(f"  {label:<58} {value}")
