"""Webhook deliveries pending when the daemon stopped go on after a restart by themselves,
without a request reaching the stream-log first (spec §6: at-least-once)."""
import json
import signal

from ..daemon import Daemon, free_port
from .conftest import SINGLE_SERVER, request
from .test_cors_webhooks import Receiver

SERVER = SINGLE_SERVER
_request = request


def test_pending_delivery_resumes_after_restart(tmp_path):
    port = free_port()
    (tmp_path / "main.js").write_text(SERVER.format(port=port, store=tmp_path / "store"))
    receiver = Receiver(fail_first=10**9)  # refuses everything until told otherwise
    d = Daemon(tmp_path).start([port])
    try:
        doc = json.dumps({"url": receiver.url, "include": "data"})
        assert _request(port, "PUT", "/acct/hooked/webhooks/w", doc,
                        {"Content-Type": "application/json"})[0] in (200, 201)
        assert _request(port, "POST", "/acct/hooked", b"first")[0] == 201
        d.signal(signal.SIGTERM)
        d.wait()
        receiver.fail_left = 0  # the receiver is healthy again while pipyd is down
        d = Daemon(tmp_path).start([port])
        got = receiver.wait(1)  # no request to the daemon: the restart alone resumes delivery
        assert got and got[0][1] == b"first"
    finally:
        d.stop()
        receiver.close()
