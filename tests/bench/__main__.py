"""`make bench`: every benchmark, printed as figures and ratios against references run alongside.

Usage: python -m tests.bench [name ...]   (names: engine, http, proxy, proxy-micro, serve, reducers, streamlog)
"""
from __future__ import annotations

import importlib
import sys

SUITES = {
    "engine": ("tests.bench.engine", "PipyJS callbacks vs hand-written Python"),
    "http": ("tests.bench.http_hello", "HTTP hello: pipyd vs uvloop+httptools vs aiohttp (wrk, 50 connections)"),
    "proxy": ("tests.bench.http_proxy", "Reverse proxy: pipyd vs nginx vs aiohttp, same upstream (wrk, 50 connections)"),
    "proxy-micro": ("tests.bench.micro_proxy", "Reverse proxy without sockets: pipyd vs a minimal httptools proxy"),
    "serve": ("tests.bench.micro_serve", "HTTP serving without sockets: pipyd vs a minimal httptools protocol"),
    "reducers": ("tests.bench.reducers", "Reducers: catch-up and live events/s (small reducers, SQLite store)"),
    "streamlog": ("tests.bench.streamlog", "Stream-log: durable appends, range reads, SSE fan-out; pipyd vs Redis Streams"),
}


def main(argv: list[str]) -> int:
    names = argv or list(SUITES)
    for name in names:
        module, title = SUITES[name]
        print(f"\n== {title}")
        for label, value in importlib.import_module(module).run():
            print(f"  {label:<58} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
