"""The multi-process supervisor with small real worker processes (not pipyd itself: the
end-to-end `pipyd --threads` tests belong to the integration suite)."""
from __future__ import annotations

import os
import signal
import sys
import threading
import time

import pytest

from pipyd import supervisor
from pipyd.supervisor import Supervisor

WORKER = r"""
import os, signal, sys, time
d, mode = sys.argv[1], sys.argv[2]
i = os.environ["PIPYD_WORKER_INDEX"]
assert os.environ["PIPYD_SUPERVISED"] == "1"
path = os.path.join(d, "count" + i)
n = int(open(path).read()) + 1 if os.path.exists(path) else 1
open(path, "w").write(str(n))
def on(sig, frame):
    with open(os.path.join(d, "sig" + i), "a") as f:
        f.write(signal.Signals(sig).name + "\n")
    if sig != signal.SIGHUP:
        sys.exit(255 if sig == signal.SIGINT else 0)
for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
    signal.signal(s, on)
if mode == "crash-once" and n == 1:
    os.kill(os.getpid(), signal.SIGKILL)
if mode == "crash-always":
    sys.exit(70)
if mode == "exit3" and i == "0":
    while not os.path.exists(os.path.join(d, "ready1")):
        time.sleep(0.02)
    sys.exit(3)
open(os.path.join(d, "ready" + i), "w").write(str(n))
while True:
    time.sleep(0.02)
"""


@pytest.fixture(autouse=True)
def fast_restarts(monkeypatch):
    monkeypatch.setattr(supervisor, "RESTART_DELAY", 0.0)


def argv(tmp_path, mode):
    return [sys.executable, "-c", WORKER, str(tmp_path), mode]


def wait_for(cond, limit=30.0):
    end = time.monotonic() + limit
    while not cond():
        if time.monotonic() > end:
            raise AssertionError("condition not reached")
        time.sleep(0.02)


def ready(tmp_path, count, gen=1):
    def generation(i: int) -> int:
        # a worker writes its file with "w": it may be read empty between truncate and write
        path = tmp_path / f"ready{i}"
        text = path.read_text() if path.exists() else ""
        return int(text) if text.strip() else 0
    return lambda: all(generation(i) >= gen for i in range(count))


class Driver(threading.Thread):
    """Runs a test's driving steps beside the supervisor. If a step fails (a slow machine),
    the supervisor is still stopped so the test fails with the reason instead of hanging."""

    def __init__(self, fn):
        super().__init__(daemon=True)
        self.fn = fn
        self.error: BaseException | None = None

    def run(self):
        try:
            self.fn()
        except BaseException as e:  # noqa: BLE001 - reported by check()
            self.error = e
            os.kill(os.getpid(), signal.SIGTERM)

    def check(self):
        self.join(10)
        if self.error is not None:
            raise self.error


def in_background(fn):
    t = Driver(fn)
    t.start()
    return t


def read_signals(tmp_path, i):
    p = tmp_path / f"sig{i}"
    return p.read_text().split() if p.exists() else []


def test_forwards_signals_and_sigint_exit_code(tmp_path):
    def drive():
        wait_for(ready(tmp_path, 2))
        os.kill(os.getpid(), signal.SIGHUP)
        wait_for(lambda: read_signals(tmp_path, 0) == ["SIGHUP"] == read_signals(tmp_path, 1))
        os.kill(os.getpid(), signal.SIGINT)
    d = in_background(drive)
    assert Supervisor(argv(tmp_path, "serve"), 2).run() == 255
    d.check()
    assert read_signals(tmp_path, 0) == ["SIGHUP", "SIGINT"]
    assert read_signals(tmp_path, 1) == ["SIGHUP", "SIGINT"]


def test_sigterm_stops_all_with_0(tmp_path):
    d = in_background(lambda: (wait_for(ready(tmp_path, 3)), os.kill(os.getpid(), signal.SIGTERM)))
    assert Supervisor(argv(tmp_path, "serve"), 3).run() == 0
    d.check()
    assert all(read_signals(tmp_path, i) == ["SIGTERM"] for i in range(3))


def test_crashed_worker_is_restarted(tmp_path):
    def drive():
        wait_for(ready(tmp_path, 2, gen=2))  # each worker came back once after SIGKILL
        os.kill(os.getpid(), signal.SIGTERM)
    d = in_background(drive)
    assert Supervisor(argv(tmp_path, "crash-once"), 2).run() == 0
    d.check()
    assert (tmp_path / "count0").read_text() == "2"


def test_deliberate_exit_stops_the_others_with_its_code(tmp_path):
    assert Supervisor(argv(tmp_path, "exit3"), 2).run() == 3
    assert read_signals(tmp_path, 1) == ["SIGTERM"]


def test_crash_loop_gives_up_with_255(tmp_path):
    assert Supervisor(argv(tmp_path, "crash-always"), 1).run() == 255
    assert int((tmp_path / "count0").read_text()) == supervisor.MAX_RESTARTS + 1
