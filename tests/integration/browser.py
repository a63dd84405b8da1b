"""A real browser for integration tests: Debian's headless Chromium, and a page server it reports to.

The browser is driven without a DevTools client: the test serves the page itself
(``PageServer``), the page's script does the work and POSTs what it saw back to the same origin
(``/report``), and the test reads those reports. That needs nothing beyond the standard library
and keeps working whatever the browser's DevTools protocol version is.

``make test`` installs Chromium (scripts/ensure-test-deps.sh); a missing browser fails the test
rather than skipping it.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

# Headless, and nothing that reaches the network on its own or needs a display/GPU/sandbox
# (the test machine runs as root in a container).
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-default-apps", "--disable-extensions", "--mute-audio"]


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise AssertionError("chromium is not installed: run scripts/ensure-test-deps.sh (make test does)")


class PageServer:
    """Serves one HTML page at ``/`` and collects the JSON reports the page POSTs to ``/report``.

    Reports keep their arrival order; the page numbers them (``seq``) so that concurrent
    ``fetch`` calls that overtake each other are put back in the page's order by ``reports()``.
    """

    def __init__(self, html: str) -> None:
        self.html = html.encode()
        self._reports: list[dict] = []
        self._cond = threading.Condition()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def __enter__(self) -> "PageServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = server.html if self.path == "/" else b""
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                size = int(self.headers.get("Content-Length") or 0)
                report = json.loads(self.rfile.read(size) or b"{}")
                self.send_response(204)
                self.end_headers()
                with server._cond:
                    server._reports.append(report)
                    server._cond.notify_all()

            def log_message(self, *args: object) -> None:  # keep pytest output clean
                pass

        return Handler

    def reports(self) -> list[dict]:
        with self._cond:
            return sorted(self._reports, key=lambda r: r.get("seq", 0))

    def wait_for(self, test: Callable[[list[dict]], bool], timeout: float, what: str) -> list[dict]:
        """Wait until ``test(reports)`` holds; fail with everything the page said otherwise."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = sorted(self._reports, key=lambda r: r.get("seq", 0))
                if test(got):
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"browser: {what} not seen in {timeout}s; page reported {got}")
                self._cond.wait(left)


class HeadlessChromium:
    """One headless Chromium process on a fresh profile, showing ``url`` until ``close()``."""

    def __init__(self, url: str) -> None:
        self.profile = tempfile.mkdtemp(prefix="pipyd-chromium-")
        self.log = open(os.path.join(self.profile, "chromium.log"), "wb")
        # Its own session, so close() can end the browser and every helper process it forked.
        self.proc = subprocess.Popen(
            [chromium_path(), *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}", url],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True)

    def __enter__(self) -> "HeadlessChromium":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def output(self) -> str:
        with open(os.path.join(self.profile, "chromium.log"), "rb") as f:
            return f.read().decode(errors="replace")

    def close(self) -> None:
        # The whole group, even if the main process is gone: renderers may outlive it.
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(5)
                break
            except subprocess.TimeoutExpired:
                continue
        self.proc.wait()
        self.log.close()
        shutil.rmtree(self.profile, ignore_errors=True)
