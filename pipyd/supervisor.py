"""`pipyd --threads N`: N worker processes sharing every listening port.

Pipy 0.70 is single-threaded (reference §0.1); pipyd scales over cores with processes
instead: each worker is a full `pipyd` run (`python -m pipyd.cli` with the same arguments,
minus --threads, plus --reuse-port) whose listeners set SO_REUSEPORT, so the kernel spreads
connections across them. This process only supervises:

- signals are forwarded to every worker: SIGINT and SIGTERM start their graceful shutdown
  (a second SIGINT forces it, as in one process), SIGHUP makes each reload;
- a worker that *crashes* — killed by a signal, or exiting with EXIT_CRASH (an uncaught
  Python error) — is restarted; more than MAX_RESTARTS crashes within RESTART_WINDOW
  seconds means something is wrong with the program, and everything stops with 255;
- a worker that *exits* with any other code did so on purpose (`pipy.exit(code)`, a load
  failure): the others are asked to shut down too and that code becomes ours.

Each worker sees PIPYD_SUPERVISED=1 (so it does not supervise in turn) and
PIPYD_WORKER_INDEX=<i> (0-based).
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from typing import Callable

from pipyd import log

EXIT_CRASH = 70  # EX_SOFTWARE (sysexits.h): an internal error, worth a restart
MAX_RESTARTS = 5
RESTART_WINDOW = 30.0
RESTART_DELAY = 0.5  # so a worker that dies at once does not spin the CPU

_FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Supervisor:
    """Starts ``count`` workers running ``argv`` and keeps them running until told to stop."""

    def __init__(self, argv: list[str], count: int,
                 spawn: Callable[[list[str], dict], subprocess.Popen] | None = None) -> None:
        self.argv = argv
        self.count = count
        self.spawn = spawn or (lambda argv, env: subprocess.Popen(argv, env=env))
        self.workers: dict[int, subprocess.Popen] = {}  # index -> process
        self.stopping = False
        self.exit_code: int | None = None
        self.crashes: list[float] = []
        self._pending: list[int] = []  # signals received, handled by the main loop
        self.stop_signal: int | None = None

    # -- lifecycle --------------------------------------------------------------------------

    def run(self) -> int:
        """Supervises until every worker has exited; returns the exit code."""
        old = {s: signal.signal(s, self._on_signal) for s in _FORWARDED}
        try:
            log.info(f"[supervisor] Starting {self.count} workers")
            for i in range(self.count):
                self._start(i)
            while self.workers:
                self._handle_signals()
                self._reap()
                time.sleep(0.05)
            return 0 if self.exit_code is None else self.exit_code
        finally:
            for s, h in old.items():
                signal.signal(s, h)

    def _start(self, index: int) -> None:
        env = dict(os.environ, PIPYD_SUPERVISED="1", PIPYD_WORKER_INDEX=str(index))
        self.workers[index] = self.spawn(self.argv, env)

    def _on_signal(self, signum: int, _frame: object) -> None:
        self._pending.append(signum)  # the loop does the work: a handler must stay tiny

    def _handle_signals(self) -> None:
        while self._pending:
            signum = self._pending.pop(0)
            if signum in (signal.SIGINT, signal.SIGTERM) and not self.stopping:
                self.stopping = True
                self.stop_signal = signum
                # the workers' own code for this stop (255 after SIGINT, 0 after SIGTERM)
            self.forward(signum)

    def forward(self, signum: int) -> None:
        for p in list(self.workers.values()):
            if p.poll() is None:
                try:
                    p.send_signal(signum)
                except ProcessLookupError:
                    pass

    def _reap(self) -> None:
        for index, p in list(self.workers.items()):
            code = p.poll()
            if code is None:
                continue
            del self.workers[index]
            self._exited(index, code)

    def _exited(self, index: int, code: int) -> None:
        if self.stopping:
            if self.stop_signal is not None and code == -self.stop_signal:
                # Still loading when the stop came (no handlers yet): it stopped as asked.
                code = 255 if self.stop_signal == signal.SIGINT else 0
            self._record(code)
            return
        if code < 0 or code == EXIT_CRASH:
            how = f"killed by {_signame(-code)}" if code < 0 else f"exited with {code}"
            if self._crash_budget_left():
                log.error(f"[supervisor] Worker {index} {how}; restarting")
                time.sleep(RESTART_DELAY)
                self._start(index)
                return
            log.error(f"[supervisor] Worker {index} {how}; too many crashes, stopping")
            code = 255
        # a deliberate exit: everyone stops, with that code
        self._record(code)
        self.stopping = True
        self.forward(signal.SIGTERM)

    def _record(self, code: int) -> None:
        if code < 0:
            code = 128 - code  # the shell's convention for death by signal
        if self.exit_code is None or (self.exit_code == 0 and code != 0):
            self.exit_code = code

    def _crash_budget_left(self) -> bool:
        now = time.monotonic()
        self.crashes = [t for t in self.crashes if now - t < RESTART_WINDOW]
        self.crashes.append(now)
        return len(self.crashes) <= MAX_RESTARTS


def _signame(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"

