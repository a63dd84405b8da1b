"""The default stream-log server module (modules/streamlog.js, streamlog.md §13) end to end:
the seed's URL shapes against a daemon started on the shipped module. The per-rule conformance
suite is tests/integration/streamlog/."""
import http.client
import json
import shutil
from pathlib import Path

from .daemon import Daemon, free_port

MODULE = Path(__file__).resolve().parents[2] / "modules" / "streamlog.js"


def _req(port, method, path, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    out = r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    c.close()
    return out


def _start(tmp_path, monkeypatch, port, listen):
    shutil.copy(MODULE, tmp_path / "streamlog.js")
    monkeypatch.setenv("STREAMLOG_LISTEN", listen)
    monkeypatch.setenv("STREAMLOG_STORE", str(tmp_path / "store"))
    return Daemon(tmp_path, "streamlog.js").start([port])


def test_default_module_serves_the_seed_urls(tmp_path, monkeypatch):
    port = free_port()
    d = _start(tmp_path, monkeypatch, port, f"127.0.0.1:{port}")
    try:
        assert _req(port, "POST", "/user/stream", b'{"id": 1}',
                    {"Content-Type": "application/json", "Event-Type": "signup"})[0] == 201
        assert _req(port, "POST", "/eric/events('1')", b"sub")[0] == 201
        status, h, body = _req(port, "GET", "/user/stream[0]")
        assert status == 200 and h["event-type"] == "signup" and json.loads(body) == {"id": 1}
        assert _req(port, "GET", "/user/stream.length")[2] == b"1"
        assert json.loads(_req(port, "GET", "/eric/events('1')")[2])[0]["data"] == "sub"
        assert _req(port, "POST", "/user/this", b"x")[0] == 400
        assert (tmp_path / "store").is_dir()
    finally:
        d.stop()


def test_default_module_takes_a_bare_port(tmp_path, monkeypatch):
    port = free_port()
    d = _start(tmp_path, monkeypatch, port, str(port))
    try:
        assert _req(port, "HEAD", "/a/b")[1]["stream-length"] == "0"
    finally:
        d.stop()


def test_writes_survive_a_restart(tmp_path, monkeypatch):
    port = free_port()
    d = _start(tmp_path, monkeypatch, port, str(port))
    try:
        for i in range(3):
            _req(port, "POST", "/a/durable", str(i).encode())
    finally:
        d.stop()
    d = Daemon(tmp_path, "streamlog.js").start([port])
    try:
        assert _req(port, "GET", "/a/durable.length")[2] == b"3"
        assert _req(port, "POST", "/a/durable", b"3")[2] == b"3"
    finally:
        d.stop()
