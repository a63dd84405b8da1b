"""Reducer benchmark (streamlog.md §7, issue 6): how fast a reducer folds a stream.

- catch-up: CATCHUP events (small JSON bodies) are written into a SQLite store before the shipped
  server (modules/streamlog.js) starts on it; then a reducer is PUT and timed until ``GET .name``
  answers (a GET waits until the reducer caught up with the stream as of the request). Two
  reducers: a bare counter, and a counter per ``data.action`` (reads the data, object state).
  Next to each figure, the CPU the daemon and its sandbox workers spent per event (from
  /proc/<pid>/stat) and the wall time per event: under their sum when the two sides overlap.
- live: with a counter attached, bulk POSTs (``multipart/mixed``, BULK events each, from
  BULK_CONNS connections) for ``seconds``, then the time until ``GET .name`` catches up; the
  figure is events appended and folded per second of the whole run, next to the same appends
  with no reducer.

Cores (a 2-core machine): the daemon is pinned to core 1 (tests/bench/servers.py) and its reducer
sandbox workers to core 0 with ``PIPYD_SANDBOX_CPUS=0`` (sandbox.py), as deployed: reducers run in
worker processes so that the daemon's store read and the worker's fold overlap; a catch-up folds
one batch while it reads the next. This process (the load generator) is on core 0 too; during a
catch-up it only waits for one GET. For comparison, the counter's catch-up is measured again with
the workers left on the daemon's core (they inherit its affinity): read and fold then take turns.
Goal (issue 6): catch-up >= 100,000 events/s for a small reducer. Figures only, no assertions.
"""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import tempfile
import time
from contextlib import contextmanager
from typing import Iterator
from unittest import mock

from .servers import PIPYD, ROOT, free_port, running
from .streamlog import (PAYLOAD, _multipart, _on_cpu, _post, _post_rate, _read_response,
                        _run_async)

CATCHUP = 200_000
BULK = 100
BULK_CONNS = 8
GOAL = 100_000
DAEMON_CPU, SANDBOX_CPU = 1, "0"
COUNTER = "(n = 0) => n + 1"
BY_ACTION = "(s = {}, e) => ({...s, [e.data.action]: (s[e.data.action] || 0) + 1})"
_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

Rows = list[tuple[str, object]]


def run(seconds: float = 5.0) -> Rows:
    load = _loadavg()
    with tempfile.TemporaryDirectory() as tmp, _on_cpu(0):
        store = os.path.join(tmp, "store")
        asyncio.run(_fill(store, "bench/history", CATCHUP))
        shutil.copytree(store, store + "-1core")      # the same history, no reducers yet
        with _pipyd(store, SANDBOX_CPU) as pid:
            two = _run_async(lambda: _measure(pid, seconds))
        with _pipyd(store + "-1core", None) as pid:
            one = _run_async(lambda: _catch_up(pid, "counter", COUNTER))
    where = f"daemon core {DAEMON_CPU}, sandbox core {SANDBOX_CPU}"
    rows: Rows = []
    for name, title in (("counter", f"counter ({where}): events/s, goal >= {GOAL:,}"),
                        ("byAction", f"counter per data.action ({where}): events/s")):
        rows += _catch_up_rows(title, two[name])
    rows += _catch_up_rows(f"counter (daemon and sandbox on core {DAEMON_CPU}): events/s", one)
    return rows + [
        (f"live x{BULK} POSTs ({BULK_CONNS} conns), counter: events/s", round(two["live"])),
        (f"live x{BULK} POSTs ({BULK_CONNS} conns), no reducer: events/s", round(two["bare"])),
        ("live: reducer lag after the last append, ms", round(two["lag"] * 1000, 1)),
        ("load average (1 min) before / after: other work skews all figures",
         f"{load} / {_loadavg()}"),
    ]


def _loadavg() -> str:
    try:
        with open("/proc/loadavg") as f:
            return f.read().split()[0]
    except OSError:
        return "?"


def _catch_up_rows(title: str, fig: dict) -> Rows:
    """The rate, then each side's CPU next to the wall time, per event: a wall time under the
    sum means the sides overlapped (on an idle machine: near the larger side)."""
    per = 1e6 / CATCHUP
    return [(f"catch-up {CATCHUP:,}, {title}", round(fig["rate"])),
            ("  µs/event: daemon CPU + sandbox CPU = sum; wall",
             f"{fig['daemon'] * per:.2f} + {fig['sandbox'] * per:.2f} = "
             f"{(fig['daemon'] + fig['sandbox']) * per:.2f}; {1e6 / fig['rate']:.2f}")]


async def _fill(directory: str, key: str, n: int) -> None:
    """The history, written straight into the store the server will open (fast and durable)."""
    from pipyd.streamlog.registry import open_store
    from pipyd.streamlog.store import AppendRequest, NewEvent
    store = open_store("sqlite", directory=directory)
    batch = [NewEvent(PAYLOAD, "message", "application/json")] * 1000
    for _ in range(n // 1000):
        await store.append(AppendRequest(key, batch))
    await store.close()


@contextmanager
def _pipyd(store: str, sandbox_cpus: str | None) -> Iterator[tuple[int, int]]:
    """The shipped default server (streamlog.md §13) on core DAEMON_CPU: (port, its pid)."""
    port = free_port()
    env = {"STREAMLOG_LISTEN": f"127.0.0.1:{port}", "STREAMLOG_STORE": store,
           "PIPYD_SANDBOX_CPUS": sandbox_cpus or ""}
    with mock.patch.dict(os.environ, env):
        with running([*PIPYD, "--no-graph", str(ROOT / "modules" / "streamlog.js")], port,
                     DAEMON_CPU) as proc:
            yield port, proc.pid


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a process, all its threads (proc(5))."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def _children(pid: int) -> list[int]:
    """The daemon's sandbox workers (its only child processes)."""
    out = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out += map(int, f.read().split())
        except OSError:
            pass
    return out


def _cpu(pid: int) -> dict[int, float]:
    return {p: _cpu_seconds(p) for p in [pid, *_children(pid)]}


async def _request(port: int, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"{method} {path} HTTP/1.1\r\nHost: bench\r\nContent-Length: {len(body)}"
                     f"\r\n\r\n".encode() + body)
        status, _, out = await _read_response(reader)
        return status, out
    finally:
        writer.close()


async def _catch_up(server: tuple[int, int], name: str, source: str) -> dict:
    """events/s of one catch-up, and the CPU seconds of the daemon and of its workers."""
    port, pid = server
    before = _cpu(pid)
    start = time.perf_counter()
    status, body = await _request(port, "PUT", f"/bench/history.{name}", source.encode())
    assert status == 201, body
    status, body = await _request(port, "GET", f"/bench/history.{name}")
    elapsed = time.perf_counter() - start
    assert status == 200 and json.loads(body) is not None, body
    after = _cpu(pid)
    daemon = after[pid] - before[pid]
    sandbox = sum(t - before.get(p, 0.0) for p, t in after.items() if p != pid)
    return {"rate": CATCHUP / elapsed, "daemon": daemon, "sandbox": sandbox}


async def _measure(server: tuple[int, int], seconds: float) -> dict:
    port = server[0]
    out: dict = {"counter": await _catch_up(server, "counter", COUNTER),
                 "byAction": await _catch_up(server, "byAction", BY_ACTION)}
    errors = [0]
    bulk = _multipart(BULK)
    ctype = b"multipart/mixed; boundary=b0undary"
    out["bare"] = await _post_rate(port, _post(b"/bench/bare", bulk, ctype), BULK, BULK_CONNS,
                                   seconds, errors)
    status, body = await _request(port, "PUT", "/bench/live.counter", COUNTER.encode())
    assert status == 201, body
    start = time.perf_counter()
    await _post_rate(port, _post(b"/bench/live", bulk, ctype), BULK, BULK_CONNS, seconds, errors)
    appended = time.perf_counter()
    status, body = await _request(port, "GET", "/bench/live.counter")
    done = time.perf_counter()
    out["live"] = json.loads(body) / (done - start)
    out["lag"] = done - appended
    return out


if __name__ == "__main__":
    for label, value in run():
        print(f"  {label:<58} {value}")
