"""Start the real `pipyd` daemon for integration tests and talk to it over loopback.

A test writes its module to a temporary codebase, ``Daemon.start()`` runs
``python -m pipyd.cli`` on it and waits until every expected port accepts connections, and
``stop()`` ends it (SIGTERM, then SIGKILL) and keeps what it logged for assertions.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Daemon:
    def __init__(self, codebase: Path, entry: str = "main.js", args: list[str] | None = None) -> None:
        self.codebase = Path(codebase)
        self.entry = entry
        self.args = args or []
        self.proc: subprocess.Popen | None = None
        self.log_path = self.codebase / "pipyd.log"

    def start(self, ports: list[int] = (), wait_for: str | None = None, timeout: float = 20.0,
              open_files: tuple[int, int] | None = None) -> "Daemon":
        """``open_files``: the (soft, hard) RLIMIT_NOFILE the daemon starts with."""
        self.log_file = open(self.log_path, "wb")
        limit = None
        if open_files is not None:
            import resource

            def limit() -> None:
                resource.setrlimit(resource.RLIMIT_NOFILE, open_files)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pipyd.cli", *self.args, str(self.codebase / self.entry)],
            cwd=self.codebase, stdout=self.log_file, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"}, preexec_fn=limit)
        deadline = time.monotonic() + timeout
        for port in ports:
            self._wait_port(port, deadline)
        if wait_for:
            self.wait_log(wait_for, timeout=max(0.1, deadline - time.monotonic()))
        return self

    def _wait_port(self, port: int, deadline: float) -> None:
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"pipyd exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"pipyd did not listen on {port}:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_log(self, text: str, timeout: float = 10.0, count: int = 1) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = self.log()
            if out.count(text) >= count:
                return out
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(f"{text!r} (x{count}) not logged; log:\n{self.log()}")

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float = 15.0) -> int:
        return self.proc.wait(timeout)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "log_file", None):
            self.log_file.close()


def http_exchange(port: int, request: bytes, timeout: float = 5.0, until_close: bool = False,
                  methods: list[str] | None = None) -> bytes:
    """Send raw bytes; read until the peer closes (``until_close``) or until one response per
    entry of ``methods`` (the request methods, for HEAD framing) is complete, as framed by h11,
    an HTTP implementation independent of pipyd's."""
    import h11
    methods = methods or ["GET"]
    conn = h11.Connection(h11.CLIENT)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(request)
        data = b""
        done = 0
        _pretend_request(conn, methods[0])
        while until_close or done < len(methods):
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            data += chunk
            if not until_close:
                conn.receive_data(chunk)
                done = _drain(conn, methods, done)
            if not chunk:
                break
        return data


def _pretend_request(conn, method: str) -> None:
    # h11 frames a response by the request it answers; the bytes we really sent were raw.
    conn.send(h11_request(method))
    conn.send(__import__("h11").EndOfMessage())


def h11_request(method: str):
    import h11
    return h11.Request(method=method, target="/", headers=[("host", "test")])


def _drain(conn, methods: list[str], done: int) -> int:
    import h11
    while True:
        ev = conn.next_event()
        if ev is h11.NEED_DATA or ev is h11.PAUSED or type(ev) is h11.ConnectionClosed:
            return done
        if type(ev) is h11.EndOfMessage:
            done += 1
            if done >= len(methods):
                return done
            if conn.our_state is h11.DONE and conn.their_state is h11.DONE:
                conn.start_next_cycle()
                _pretend_request(conn, methods[done])
            else:
                return done
