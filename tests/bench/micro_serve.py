"""Socket-free serving benchmark: the cost of one keep-alive request through pipyd's TCP hot
path (``InboundConnection.data_received`` -> serveHTTP -> ``transport.write``), with a fake
transport, next to the minimal httptools protocol of ref_httptools.py fed the same bytes.

No syscalls and no load generator, so the figures are steady on a busy machine and isolate the
Python work per request; the ratio is the share of the wire benchmark (``http``) that pipyd
can still win back. ``python -m tests.bench serve``; ``python -m tests.bench.micro_serve
--profile`` prints a cProfile of the pipyd path.
"""
from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import httptools

REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1:18080\r\nUser-Agent: wrk\r\n\r\n"
MODULES = {
    "constant Message": "pipy().listen(18080).serveHTTP(new Message('Hi, there!\\n'))\n",
    "handler function": ("pipy().listen(18080).serveHTTP(msg => new Message("
                         "{status: 200, headers: {'content-type': 'text/plain'}}, 'Hi, there!\\n'))\n"),
}


class _Transport:
    """Just enough of an asyncio transport; counts the bytes written (a sanity check)."""

    def __init__(self) -> None:
        self.written = 0

    def write(self, b: bytes) -> None:
        self.written += len(b)

    def writelines(self, pieces: Any) -> None:
        for b in pieces:
            self.written += len(b)

    def set_write_buffer_limits(self, *a: Any) -> None:
        pass

    def get_extra_info(self, *a: Any) -> None:
        return None

    def get_write_buffer_size(self) -> int:
        return 0

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass


def _new_loop() -> asyncio.AbstractEventLoop:
    try:  # the daemon's loop: its time() is what the hot path calls
        import uvloop
        return uvloop.new_event_loop()
    except ImportError:  # pragma: no cover
        return asyncio.new_event_loop()


class _Opts:
    no_graph = True
    verify = True
    control = None


def pipyd_feeder(source: str, tmp: str) -> tuple[Callable[[bytes], None], _Transport]:
    """A connected InboundConnection of the module in ``source``; returns its data_received."""
    from pipyd.inbound import InboundConnection, ListenOptions, TCPListener
    from pipyd.worker import Worker, settle_heap
    path = Path(tmp) / "hello.js"
    path.write_text(source)
    w = Worker(str(path), _Opts())
    w.load()
    layout = w.modules[0].roots[0].layout
    listener = TCPListener(layout, "127.0.0.1", 0, ListenOptions(), w.new_context)
    listener.loop = _new_loop()
    conn = InboundConnection(listener)
    t = _Transport()
    conn.connection_made(t)
    settle_heap()
    return conn.data_received, t


def reference_feeder() -> tuple[Callable[[bytes], None], _Transport]:
    """ref_httptools.py's protocol: one parser callback and one write per request."""
    response = b"HTTP/1.1 200 OK\r\ncontent-length: 11\r\nconnection: keep-alive\r\n\r\nHi, there!\n"
    t = _Transport()

    class Proto:
        def on_message_complete(self) -> None:
            t.write(response)

    parser = httptools.HttpRequestParser(Proto())

    def data_received(data: bytes) -> None:
        try:
            parser.feed_data(data)
        except httptools.HttpParserError:
            t.close()
    return data_received, t


def us_per_request(feed: Callable[[bytes], None], n: int = 50_000, repeat: int = 5) -> float:
    for _ in range(2000):
        feed(REQUEST)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.thread_time()  # CPU time: steady while other processes share the cores
        for _ in range(n):
            feed(REQUEST)
        best = min(best, time.thread_time() - t0)
    return best / n * 1e6


def run() -> list[tuple[str, object]]:
    rows: list[tuple[str, object]] = []
    ref_feed, _ = reference_feeder()
    ref = us_per_request(ref_feed)
    rows.append(("minimal httptools protocol: us/request", f"{ref:.2f}"))
    with tempfile.TemporaryDirectory() as tmp:
        for name, source in MODULES.items():
            feed, t = pipyd_feeder(source, tmp)
            ours = us_per_request(feed)
            if not t.written:
                raise RuntimeError(f"{name}: nothing was written")
            rows.append((f"pipyd serveHTTP({name}): us/request", f"{ours:.2f}"))
            rows.append((f"  pipyd / minimal (time ratio)", f"{ours / ref:.1f}x"))
    return rows


def _profile() -> None:
    import cProfile
    import pstats
    with tempfile.TemporaryDirectory() as tmp:
        feed, _ = pipyd_feeder(MODULES["constant Message"], tmp)
        us_per_request(feed, 2000, 1)
        pr = cProfile.Profile()
        pr.enable()
        for _ in range(100_000):
            feed(REQUEST)
        pr.disable()
        pstats.Stats(pr).sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    if "--profile" in sys.argv:
        _profile()
    else:
        for label, value in run():
            print(f"  {label:<58} {value}")
