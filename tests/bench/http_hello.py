"""HTTP hello benchmark: pipyd's hello module next to a minimal uvloop+httptools server and aiohttp.

Goal (issue 3): pipyd >= 50% of the minimal server and >= 3x aiohttp, measured in the same run.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from .load import wrk
from .servers import PIPYD, free_port, running

HELLO = "pipy().listen({port}).serveHTTP(new Message('Hi, there!\\n'))\n"


def run(seconds: int = 5) -> list[tuple[str, object]]:
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        servers = {
            "uvloop+httptools": lambda p: [sys.executable, "-m", "tests.bench.ref_httptools", str(p)],
            "aiohttp": lambda p: [sys.executable, "-m", "tests.bench.ref_aiohttp", str(p)],
            "pipyd hello.js": lambda p: [*PIPYD, "--no-graph", _module(tmp, p)],
        }
        for name, cmd in servers.items():
            port = free_port()
            with running(cmd(port), port):
                wrk(f"http://127.0.0.1:{port}/", seconds=1)  # warm-up
                results[name] = wrk(f"http://127.0.0.1:{port}/", seconds=seconds)
    base, aio, ours = results["uvloop+httptools"], results["aiohttp"], results["pipyd hello.js"]
    rows: list[tuple[str, object]] = []
    for name, r in results.items():
        rows.append((f"{name}: requests/s", round(r.rps)))
        rows.append((f"{name}: p50 / p99 ms", f"{r.p50_ms:.2f} / {r.p99_ms:.2f}"))
        if r.errors:
            rows.append((f"{name}: errors", r.errors))
    rows.append(("pipyd / uvloop+httptools (goal >= 0.50)", round(ours.rps / base.rps, 2)))
    rows.append(("pipyd / aiohttp (goal >= 3.0)", round(ours.rps / aio.rps, 2)))
    return rows


def _module(tmp: str, port: int) -> str:
    path = Path(tmp) / "hello.js"
    path.write_text(HELLO.format(port=port))
    return str(path)
