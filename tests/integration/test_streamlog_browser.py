"""§6: "EventSource in a real browser must work, including reconnect with Last-Event-ID".

A headless Chromium opens an EventSource (``?include=data``) on the shipped stream-log server
(modules/streamlog.js) from a page of another origin, so CORS is exercised too. The test appends
events, kills the daemon with SIGKILL, starts it again on the same port and store, and appends
more, some before the browser is back. Chromium reconnects on its own (HTML §9.2.3: after the
reconnection time, sending ``Last-Event-ID``), and the page must have seen every event exactly
once and in order.

The stream is opened with ``?from=0`` so the first connection cannot miss an event appended
before it subscribed; on reconnect ``Last-Event-ID`` wins over ``from`` (§6), so a browser that
did not send it would see the whole stream again and fail the test with duplicates.
"""
import http.client
import json
import shutil
import signal
import time
from pathlib import Path

from .browser import HeadlessChromium, PageServer
from .daemon import Daemon, free_port

MODULE = Path(__file__).resolve().parents[2] / "modules" / "streamlog.js"
STREAM = "/browser/ticks"

# Every callback reports to the page's own origin; ``seq`` restores the page's order.
PAGE = """<!doctype html><meta charset="utf-8"><title>sse</title><script>
let seq = 0;
function report(r) {
  r.seq = seq++;
  fetch('/report', {method: 'POST', body: JSON.stringify(r)});
}
const es = new EventSource(%(url)s);
es.onopen = () => report({kind: 'open'});
es.onmessage = e => report({kind: 'event', id: e.lastEventId, data: e.data});
es.onerror = () => report({kind: 'error', state: es.readyState});
</script>"""


def _data(i: int) -> str:
    # Multi-line and non-ASCII payloads: the data: line splitting must survive a real parser.
    return f"event {i}\nline two of {i} é✓" if i % 3 == 0 else f"{{\"n\": {i}}}"


def _append(port: int, i: int) -> None:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request("POST", STREAM, body=_data(i).encode(), headers={"Content-Type": "text/plain"})
        r = c.getresponse()
        assert (r.status, r.read()) == (201, str(i).encode())
    finally:
        c.close()


def _events(reports: list[dict]) -> list[dict]:
    return [r for r in reports if r["kind"] == "event"]


def _opens(reports: list[dict]) -> int:
    return sum(r["kind"] == "open" for r in reports)


def _closed_for_good(reports: list[dict]) -> bool:
    # readyState CLOSED (2) after an error: the browser gave up and will never reconnect.
    return any(r["kind"] == "error" and r["state"] == 2 for r in reports)


def test_eventsource_reconnects_with_last_event_id(tmp_path, monkeypatch):
    port = free_port()
    shutil.copy(MODULE, tmp_path / "streamlog.js")
    monkeypatch.setenv("STREAMLOG_LISTEN", f"127.0.0.1:{port}")
    monkeypatch.setenv("STREAMLOG_STORE", str(tmp_path / "store"))
    url = json.dumps(f"http://127.0.0.1:{port}{STREAM}?include=data&from=0")

    daemon = Daemon(tmp_path, "streamlog.js").start([port])
    try:
        with PageServer(PAGE % {"url": url}) as page, HeadlessChromium(page.url) as browser:
            def seen(n: int, opens: int = 1):
                def test(reports):
                    assert not _closed_for_good(reports), f"EventSource closed: {reports}"
                    return len(_events(reports)) >= n and _opens(reports) >= opens
                return test

            for i in range(3):  # before the browser subscribes: delivered through ?from=0
                _append(port, i)
            page.wait_for(seen(1), 20, "the first event")
            for i in range(3, 10):
                _append(port, i)
            page.wait_for(seen(10), 10, "events 0-9")

            daemon.proc.send_signal(signal.SIGKILL)
            daemon.wait()
            daemon.stop()
            page.wait_for(lambda r: r[-1]["kind"] == "error", 10, "the dropped connection")

            daemon = Daemon(tmp_path, "streamlog.js").start([port])
            for i in range(10, 15):  # appended while the browser waits to reconnect
                _append(port, i)
            page.wait_for(seen(15, opens=2), 20, "the reconnect and events 10-14")
            for i in range(15, 20):
                _append(port, i)
            page.wait_for(seen(20, opens=2), 10, "events 15-19")
            time.sleep(0.3)  # room for a late duplicate to show up
            reports = page.reports()
            assert browser.proc.poll() is None, browser.output()

        got = [(e["id"], e["data"]) for e in _events(reports)]
        assert got == [(str(i), _data(i)) for i in range(20)]
        assert _opens(reports) == 2
    finally:
        # SIGKILL again: a graceful stop would wait out the daemon's shutdown grace period for
        # the SSE pipeline the browser held (it outlives the connection; reported separately).
        if daemon.proc.poll() is None:
            daemon.proc.kill()
        daemon.stop()
