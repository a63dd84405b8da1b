"""Durability through the daemon (streamlog.md §4: an acknowledged write survives ``kill -9``).

Each round starts modules/streamlog.js on one store directory, runs concurrent HTTP clients that
append (single events and bulk writes) and record every acknowledged index, SIGKILLs the daemon
at a random moment, restarts it on the same store and checks every stream written so far:

- every acknowledged event is stored at the index its 201 named, with the data that was sent;
- a client's events appear in the order it sent them, with no gap (a write that was in flight
  at the kill may or may not have committed, but only as a whole and only as the last one);
- streams of earlier rounds are unchanged.

Half the clients write to a stream of their own, half share one stream (client ids in the data).
"""
from __future__ import annotations

import http.client
import json
import random
import shutil
import signal
import threading
import time
import uuid
from pathlib import Path

from .daemon import Daemon, free_port

MODULE = Path(__file__).resolve().parents[2] / "modules" / "streamlog.js"
CLIENTS = 6
ROUNDS = 3
BULK_EVERY = 3          # every third write is a bulk write of BULK_PARTS events
BULK_PARTS = 3


class Client(threading.Thread):
    """Appends sequentially (each write waits for its answer) until the daemon dies. ``acked``
    maps index → payload of every acknowledged event; ``sent`` lists every payload in order
    (the last write may be unacknowledged)."""

    def __init__(self, port: int, stream: str, cid: str) -> None:
        super().__init__(daemon=True)
        self.port, self.stream, self.cid = port, stream, cid
        self.acked: dict[int, dict] = {}
        self.sent: list[dict] = []
        self.writes = 0

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        seq = 0
        try:
            while True:
                n = BULK_PARTS if self.writes % BULK_EVERY == BULK_EVERY - 1 else 1
                docs = [{"c": self.cid, "s": seq + i, "pad": "x" * random.randint(0, 300)}
                        for i in range(n)]
                self.sent.extend(docs)
                indexes = self._post(conn, docs)
                for index, doc in zip(indexes, docs):
                    self.acked[index] = doc
                seq += n
                self.writes += 1
        except (OSError, http.client.HTTPException):
            return      # the daemon was killed: the write in flight is unacknowledged

    def _post(self, conn: http.client.HTTPConnection, docs: list[dict]) -> list[int]:
        if len(docs) == 1:
            conn.request("POST", self.stream, json.dumps(docs[0]),
                         {"Content-Type": "application/json"})
            r = conn.getresponse()
            body = r.read()
            assert r.status == 201, (r.status, body)
            assert int(r.getheader("Event-Index")) == int(body)
            return [int(body)]
        boundary = uuid.uuid4().hex
        parts = b"".join(b"--%s\r\nContent-Type: application/json\r\n\r\n%s\r\n"
                         % (boundary.encode(), json.dumps(d).encode()) for d in docs)
        conn.request("POST", self.stream, parts + b"--%s--\r\n" % boundary.encode(),
                     {"Content-Type": f"multipart/mixed; boundary={boundary}"})
        r = conn.getresponse()
        body = r.read()
        assert r.status == 201, (r.status, body)
        return json.loads(body)


def _read_all(port: int, stream: str) -> list[dict]:
    events: list[dict] = []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    while True:
        conn.request("GET", f"{stream}?from={len(events)}")
        r = conn.getresponse()
        page = json.loads(r.read())
        assert r.status == 200
        events.extend(page)
        if int(r.getheader("Stream-Next-Index")) >= int(r.getheader("Stream-Length", 0) or 0) \
                or not page:
            conn.close()
            return events


def _check(port: int, clients: list[Client]) -> None:
    by_stream: dict[str, list[Client]] = {}
    for c in clients:
        by_stream.setdefault(c.stream, []).append(c)
    for stream, owners in by_stream.items():
        events = _read_all(port, stream)
        assert [e["index"] for e in events] == list(range(len(events))), stream
        for c in owners:
            # every acknowledged event is where its answer said, intact
            for index, doc in c.acked.items():
                assert index < len(events), (stream, index, len(events))
                assert events[index]["data"] == doc, (stream, index)
            # the client's events are its writes in order: a prefix of what it sent, holding
            # at least everything acknowledged
            mine = [e["data"] for e in events if e["data"]["c"] == c.cid]
            assert mine == c.sent[:len(mine)], stream
            assert len(mine) >= len(c.acked), (stream, len(mine), len(c.acked))


def test_acknowledged_appends_survive_sigkill(tmp_path, monkeypatch):
    shutil.copy(MODULE, tmp_path / "streamlog.js")
    port = free_port()
    monkeypatch.setenv("STREAMLOG_LISTEN", f"127.0.0.1:{port}")
    monkeypatch.setenv("STREAMLOG_STORE", str(tmp_path / "store"))
    everyone: list[Client] = []
    rng = random.Random()
    for rnd in range(ROUNDS):
        d = Daemon(tmp_path, "streamlog.js", ["--no-graph"]).start([port])
        try:
            if everyone:
                _check(port, everyone)       # earlier rounds survived the kill unchanged
            clients = [Client(port, f"/dur/r{rnd}c{i}" if i % 2 else f"/dur/shared{rnd}",
                              f"r{rnd}c{i}") for i in range(CLIENTS)]
            for c in clients:
                c.start()
            time.sleep(rng.uniform(0.3, 0.9))
            d.proc.send_signal(signal.SIGKILL)
            d.proc.wait(5)
            for c in clients:
                c.join(10)
                assert not c.is_alive()
            assert sum(len(c.acked) for c in clients) > 0, d.log()
            everyone.extend(clients)
        finally:
            d.stop()
    d = Daemon(tmp_path, "streamlog.js", ["--no-graph"]).start([port])
    try:
        _check(port, everyone)
        # the store still takes writes after the kills
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        c.request("POST", "/dur/after", b"ok")
        assert c.getresponse().status == 201
    finally:
        d.stop()
