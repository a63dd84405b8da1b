"""Durability and group commit of the SQLite store (specs/streamlog.md §4, §13).

The kill test runs writers in a child process that prints every acknowledged append to a pipe,
SIGKILLs it at a random moment, and checks after reopening that each acknowledged event is stored,
in order, with contiguous indexes.
"""
from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from pipyd.streamlog.sqlite_store import DB_FILE, SQLiteStore
from pipyd.streamlog.store import AppendRequest, NewEvent, Selector, StoreUnavailable

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

# The child: 4 writers on 2 streams; writer 3 appends bulks of 5. Each writer awaits its ack
# before the next append and prints "stream index writer seq part" per acknowledged event.
CHILD = r"""
import asyncio, sys
from pipyd.streamlog.sqlite_store import SQLiteStore
from pipyd.streamlog.store import AppendRequest, NewEvent

async def writer(store, rnd, w):
    stream = "t/s%d" % (w % 2)
    bulk = 5 if w == 3 else 1
    seq = 0
    while True:
        evs = [NewEvent(b"%s:%d:%d:%d" % (rnd.encode(), w, seq, j)) for j in range(bulk)]
        r = await store.append(AppendRequest(stream, evs))
        sys.stdout.write("".join("%s %d %d %d %d\n" % (stream, i, w, seq, j)
                                 for j, i in enumerate(r.indexes)))
        sys.stdout.flush()
        seq += 1

async def main():
    store = SQLiteStore(sys.argv[1])
    sys.stdout.write("ready\n"); sys.stdout.flush()
    await asyncio.gather(*(writer(store, sys.argv[2], w) for w in range(4)))

asyncio.run(main())
"""


def _run_and_kill(directory: str, rnd: str, acks_before_kill: int) -> list[tuple]:
    env = dict(os.environ, PYTHONPATH=ROOT)
    child = subprocess.Popen([sys.executable, "-c", CHILD, directory, rnd], stdout=subprocess.PIPE,
                             env=env, cwd=ROOT)
    try:
        assert child.stdout.readline() == b"ready\n"
        acked = []
        while len(acked) < acks_before_kill:
            line = child.stdout.readline()
            assert line.endswith(b"\n"), "child died early"
            acked.append(line)
        time.sleep(random.random() * 0.02)      # kill mid-flight, not at a line boundary
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        rest = child.stdout.read()              # acknowledged before the kill, still in the pipe
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    acked += [l + b"\n" for l in rest.split(b"\n")[:-1]]     # a torn last line was never whole
    out = []
    for line in acked:
        stream, index, w, seq, part = line.split()
        out.append((stream.decode(), int(index), int(w), int(seq), int(part)))
    return out


async def _all_events(store: SQLiteStore, stream: str) -> list:
    events, start = [], 0
    while True:
        page = await store.read(stream, Selector(start=start))
        events.extend(page.events)
        if page.next_index >= page.length:
            return events
        start = page.next_index


def _check(directory: str, acked: list[tuple], rnd: str) -> None:
    async def main():
        store = SQLiteStore(directory)
        try:
            for stream in ("t/s0", "t/s1"):
                events = await _all_events(store, stream)
                assert [e.index for e in events] == list(range(len(events)))   # no gaps
                by_index = {e.index: e.data for e in events}
                for s, index, w, seq, part in acked:
                    if s == stream:
                        assert by_index.get(index) == b"%s:%d:%d:%d" % (rnd.encode(), w, seq, part)
                # in order: each writer's events of this round appear in seq order, no holes
                for w in range(4):
                    mine = [tuple(map(int, e.data.split(b":")[2:])) for e in events
                            if e.data.startswith(b"%s:%d:" % (rnd.encode(), w))]
                    bulk = 5 if w == 3 else 1
                    assert mine == [(i // bulk, i % bulk) for i in range(len(mine))]
                stamps = [e.timestamp for e in events]
                assert stamps == sorted(stamps)
        finally:
            await store.close()
    asyncio.run(main())


@pytest.mark.timeout(60)
def test_acknowledged_appends_survive_kill_9(tmp_path):
    directory = str(tmp_path / "data")
    for rnd in ("r1", "r2", "r3"):              # each round restarts on the previous data
        acked = _run_and_kill(directory, rnd, random.randint(20, 400))
        assert acked
        _check(directory, acked, rnd)


def test_failed_transaction_fails_every_request_in_it(tmp_path):
    async def main():
        store = SQLiteStore(str(tmp_path))
        await store.append(AppendRequest("a/s", [NewEvent(b"first")]))
        # a trigger makes the commit fail for one row, like a disk error would mid-transaction
        store._wconn.execute("CREATE TRIGGER boom BEFORE INSERT ON events WHEN NEW.data = "
                             "x'626f6f6d' BEGIN SELECT RAISE(ABORT, 'boom'); END")
        got = []
        store.subscribe("a/s", got.append)
        with store._cond:               # hold the writer so all four form one group
            tasks = [asyncio.ensure_future(store.append(AppendRequest(
                "a/s", [NewEvent(d)]))) for d in (b"a", b"b", b"boom", b"c")]
            await asyncio.sleep(0.05)
        results = await asyncio.gather(*tasks, return_exceptions=True)
        assert all(isinstance(r, StoreUnavailable) and r.status == 503 for r in results)
        assert await store.length("a/s") == 1
        r = await store.append(AppendRequest("a/s", [NewEvent(b"after")]))
        assert r.indexes == (1,)
        for _ in range(200):
            if got:
                break
            await asyncio.sleep(0.01)
        assert [n.length for n in got] == [2]
        await store.close()
    asyncio.run(main())


def test_concurrent_requests_share_one_commit(tmp_path):
    async def main():
        store = SQLiteStore(str(tmp_path))
        got = []
        store.subscribe("a/s", got.append)
        with store._cond:
            tasks = [asyncio.ensure_future(store.append(AppendRequest("a/s", [NewEvent(b"%d" % i)])))
                     for i in range(50)]
            await asyncio.sleep(0.05)
        await asyncio.gather(*tasks)
        for _ in range(200):
            if got:
                break
            await asyncio.sleep(0.01)
        assert [n.length for n in got] == [50]      # one commit, one notice
        await store.close()
    asyncio.run(main())


def test_two_stores_on_one_directory_like_two_workers(tmp_path):
    async def main():
        a, b = SQLiteStore(str(tmp_path)), SQLiteStore(str(tmp_path))
        heard = []
        b.subscribe("a/s", heard.append)
        for i in range(6):
            r = await (a if i % 2 else b).append(AppendRequest("a/s", [NewEvent(b"%d" % i)]))
            assert r.indexes == (i,)
        await a.append(AppendRequest("a/s", [NewEvent(b"p")], "p", 0))
        assert (await b.append(AppendRequest("a/s", [NewEvent(b"p")], "p", 0))).duplicate
        deadline = time.monotonic() + 2
        while (not heard or heard[-1].length < 7) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        assert heard[-1].length == 7        # b heard a's commits through its poll
        await a.close()
        await b.close()
    asyncio.run(main())


def test_closed_store_refuses_appends(tmp_path):
    async def main():
        store = SQLiteStore(str(tmp_path))
        await store.close()
        await store.close()
        with pytest.raises(StoreUnavailable):
            await store.append(AppendRequest("a/s", [NewEvent(b"x")]))
        assert os.path.exists(os.path.join(str(tmp_path), DB_FILE))
    asyncio.run(main())
