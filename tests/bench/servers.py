"""Start and stop the servers a benchmark measures, each pinned to its own core."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parents[2]
PIPYD = [sys.executable, "-m", "pipyd.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on port {port} after {timeout}s")


def pinned(cmd: list[str], cpu: int) -> list[str]:
    """Pin to one core when taskset exists, so server and load generator don't share one."""
    return ["taskset", "-c", str(cpu), *cmd] if shutil.which("taskset") else cmd


@contextmanager
def running(cmd: list[str], port: int, cpu: int = 1) -> Iterator[subprocess.Popen]:
    proc = subprocess.Popen(pinned(cmd, cpu), cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        wait_port(port, proc)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
