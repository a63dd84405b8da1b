"""A graceful stop does not wait out its grace period for open SSE subscribers: their responses
end at once (EventSource reconnects to whoever serves next), and the daemon exits promptly."""
import signal
import socket

from ..daemon import Daemon, free_port


def test_graceful_stop_ends_open_sse_streams(tmp_path):
    port = free_port()
    (tmp_path / "main.js").write_text(
        "pipy().listen(%d).demuxHTTP().to($=>$.serveStreamLog({store: '%s'}))" % (port, tmp_path / "s"))
    d = Daemon(tmp_path, args=["--shutdown-timeout=20s"]).start([port])
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"GET /acct/live HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
            head = s.recv(4096)
            assert head.startswith(b"HTTP/1.1 200 OK\r\n")  # the head arrives before any event
            assert b"text/event-stream" in head
            d.signal(signal.SIGTERM)
            rest = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                rest += chunk
            assert (head + rest).endswith(b"0\r\n\r\n")  # the chunked body ended cleanly
        assert d.wait(timeout=15) == 0
        assert "Waiting for remaining" not in d.log()  # nothing left to wait for
    finally:
        d.stop()
