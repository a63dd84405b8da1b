"""Reducer benchmark (streamlog.md §7, issue 6): how fast a reducer folds a stream.

- catch-up: CATCHUP events (small JSON bodies) are written into a SQLite store before the shipped
  server (modules/streamlog.js) starts on it; then a reducer is PUT and timed until ``GET .name``
  answers (a GET waits until the reducer caught up with the stream as of the request). Two
  reducers: a bare counter, and a counter per ``data.action`` (reads the data, object state).
- live: with a counter attached, bulk POSTs (``multipart/mixed``, BULK events each, from
  BULK_CONNS connections) for ``seconds``, then the time until ``GET .name`` catches up; the
  figure is events appended and folded per second of the whole run, next to the same appends
  with no reducer.

Server pinned to core 1 and this process to core 0 (tests/bench/streamlog.py). Goal (issue 6):
catch-up >= 100,000 events/s for a small reducer. Figures only, no assertions.
"""
from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time

from .streamlog import (PAYLOAD, _multipart, _on_cpu, _pipyd, _post, _post_rate, _read_response,
                        _run_async)

CATCHUP = 200_000
BULK = 100
BULK_CONNS = 8
GOAL = 100_000
COUNTER = "(n = 0) => n + 1"
BY_ACTION = "(s = {}, e) => ({...s, [e.data.action]: (s[e.data.action] || 0) + 1})"

Rows = list[tuple[str, object]]


def run(seconds: float = 5.0) -> Rows:
    with tempfile.TemporaryDirectory() as tmp, _on_cpu(0):
        store = os.path.join(tmp, "store")
        asyncio.run(_fill(store, "bench/history", CATCHUP))
        with _pipyd(store) as port:
            figures = _run_async(lambda: _measure(port, seconds))
    return [
        (f"catch-up {CATCHUP:,} events, counter: events/s, goal >= {GOAL:,}",
         round(figures["counter"])),
        (f"catch-up {CATCHUP:,} events, counter per data.action: events/s",
         round(figures["byAction"])),
        (f"live x{BULK} POSTs ({BULK_CONNS} conns), counter: events/s", round(figures["live"])),
        (f"live x{BULK} POSTs ({BULK_CONNS} conns), no reducer: events/s",
         round(figures["bare"])),
        ("live: reducer lag after the last append, ms", round(figures["lag"] * 1000, 1)),
    ]


async def _fill(directory: str, key: str, n: int) -> None:
    """The history, written straight into the store the server will open (fast and durable)."""
    from pipyd.streamlog.registry import open_store
    from pipyd.streamlog.store import AppendRequest, NewEvent
    store = open_store("sqlite", directory=directory)
    batch = [NewEvent(PAYLOAD, "message", "application/json")] * 1000
    for _ in range(n // 1000):
        await store.append(AppendRequest(key, batch))
    await store.close()


async def _request(port: int, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(f"{method} {path} HTTP/1.1\r\nHost: bench\r\nContent-Length: {len(body)}"
                     f"\r\n\r\n".encode() + body)
        status, _, out = await _read_response(reader)
        return status, out
    finally:
        writer.close()


async def _catch_up(port: int, name: str, source: str) -> float:
    start = time.perf_counter()
    status, body = await _request(port, "PUT", f"/bench/history.{name}", source.encode())
    assert status == 201, body
    status, body = await _request(port, "GET", f"/bench/history.{name}")
    elapsed = time.perf_counter() - start
    assert status == 200, body
    return CATCHUP / elapsed


async def _measure(port: int, seconds: float) -> dict:
    out = {"counter": await _catch_up(port, "counter", COUNTER),
           "byAction": await _catch_up(port, "byAction", BY_ACTION)}
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
