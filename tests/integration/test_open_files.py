"""The daemon at its open-files limit: it raises the soft limit to the hard one at start, and
a listener that runs out of descriptors neither spins nor loses the peers it cannot take yet."""
from __future__ import annotations

import selectors
import socket
import time
from pathlib import Path

from .daemon import Daemon, free_port

REQUEST = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"


def _module(tmp_path: Path, limited: int, plain: int) -> Daemon:
    (tmp_path / "main.js").write_text(f"""
pipy()
.listen({limited}, {{ maxConnections: 100000 }}).serveHTTP(new Message('ok'))
.listen({plain}).serveHTTP(new Message('ok'))
""")
    return Daemon(tmp_path)


def _serve_all(port: int, n: int, deadline: float) -> tuple[int, int]:
    """Open ``n`` connections at once, each sending one request; close each one once it is
    answered (freeing the daemon's descriptor for a peer still waiting). Returns (answered,
    closed by the daemon unanswered)."""
    sel = selectors.DefaultSelector()
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(REQUEST)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, b"")
    answered = dropped = 0
    try:
        while sel.get_map() and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=0.5):
                s = key.fileobj
                try:
                    chunk = s.recv(4096)
                except ConnectionResetError:
                    chunk = b""
                got = key.data + chunk
                if got.startswith(b"HTTP/1.1 200 OK") and got.endswith(b"\r\n\r\nok"):
                    answered += 1
                elif chunk:
                    sel.modify(s, selectors.EVENT_READ, got)
                    continue
                else:
                    dropped += 1
                sel.unregister(s)
                s.close()
    finally:
        for key in list(sel.get_map().values()):
            key.fileobj.close()
        sel.close()
    return answered, dropped


def _get(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(REQUEST)
        return s.recv(4096)


def test_listener_out_of_descriptors_keeps_peers_waiting(tmp_path: Path) -> None:
    """With a connection limit pipyd accepts itself: at EMFILE it stops, says so once and
    takes the waiting peers as descriptors free up. None is dropped; it does not spin (it
    once logged the error in a loop, some 100,000 lines a second)."""
    limited, plain = free_port(), free_port()
    d = _module(tmp_path, limited, plain).start([limited, plain], open_files=(64, 64))
    try:
        n = 150  # more than twice what 64 descriptors hold
        answered, dropped = _serve_all(limited, n, time.monotonic() + 60)
        assert (answered, dropped) == (n, 0)
        log = d.wait_log("accepting again on TCP port")
        starved = log.count("cannot accept on TCP port")
        assert 1 <= starved <= 3, log[-3000:]
        assert "Too many open files" in log and "ulimit -n" in log
        assert _get(limited).endswith(b"ok") and d.proc.poll() is None
    finally:
        d.stop()


def test_plain_listener_survives_running_out_of_descriptors(tmp_path: Path) -> None:
    """Without a limit libuv accepts: peers it has no descriptor for are closed at once (its
    EMFILE handling). The daemon stays up and serves the next peers."""
    limited, plain = free_port(), free_port()
    d = _module(tmp_path, limited, plain).start([limited, plain], open_files=(64, 64))
    try:
        answered, dropped = _serve_all(plain, 150, time.monotonic() + 60)
        assert answered + dropped == 150 and answered > 0
        for _ in range(3):
            assert _get(plain).endswith(b"ok")
        assert d.proc.poll() is None
    finally:
        d.stop()


def test_soft_limit_raised_to_the_hard_one(tmp_path: Path) -> None:
    limited, plain = free_port(), free_port()
    d = _module(tmp_path, limited, plain).start([limited, plain], open_files=(64, 512))
    try:
        limits = Path(f"/proc/{d.proc.pid}/limits").read_text()
        line = next(x for x in limits.splitlines() if x.startswith("Max open files"))
        assert line.split()[3:5] == ["512", "512"], line
        answered, dropped = _serve_all(limited, 150, time.monotonic() + 60)
        assert (answered, dropped) == (150, 0)
        assert "cannot accept" not in d.log()
    finally:
        d.stop()
