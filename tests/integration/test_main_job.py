"""The `make run` main job: `pipyd conf/pipyd.yaml` starts modules/main.js, which serves the
example site on ports.http and the stream-log API on ports.streamlog, and logs every site
request into /pipyd/requests. Run on a temporary copy of conf/ and modules/ with free ports."""
from __future__ import annotations

import http.client
import json
import shutil
import time
from pathlib import Path

import yaml

from .daemon import Daemon, free_port

ROOT = Path(__file__).resolve().parents[2]


def _req(port, method, path, body=None, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def _copy(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "conf", tmp_path / "conf")
    shutil.copytree(ROOT / "modules", tmp_path / "modules")


def _requests_log(port: int, n: int) -> list[dict]:
    deadline = time.monotonic() + 5
    while True:
        status, _, body = _req(port, "GET", "/pipyd/requests")
        events = json.loads(body) if status == 200 else []
        if len(events) >= n or time.monotonic() > deadline:
            return events
        time.sleep(0.05)


def test_config_file_starts_site_and_streamlog(tmp_path):
    _copy(tmp_path)
    conf = yaml.safe_load((ROOT / "conf" / "pipyd.yaml").read_text())
    assert set(conf["ports"]) >= {"http", "streamlog"}
    http_port, log_port = free_port(), free_port()
    conf["ports"] = {"http": http_port, "streamlog": log_port}
    (tmp_path / "conf" / "test.yaml").write_text(yaml.safe_dump(conf))
    d = Daemon(tmp_path / "conf", "test.yaml").start([http_port, log_port])
    try:
        line = d.wait_log("curl -X POST localhost:%d/me/hello -d hi" % log_port)
        assert f"http://localhost:{http_port}/" in line
        # the site as before
        assert _req(http_port, "GET", "/hello")[2] == b"Hi, there!\n"
        assert _req(http_port, "GET", "/ip")[2] == b"127.0.0.1\n"
        assert _req(http_port, "GET", "/nope")[0] == 404
        # the stream-log, the example the startup line gives
        status, h, body = _req(log_port, "POST", "/me/hello", b"hi")
        assert status == 201 and body == b"0" and h["event-index"] == "0"
        status, _, body = _req(log_port, "GET", "/me/hello[0]")
        assert status == 200 and body == b"hi"
        # the site's requests, appended by the script API, read over the stream-log API
        events = _requests_log(log_port, 3)
        assert [(e["data"]["method"], e["data"]["path"]) for e in events] == [
            ("GET", "/hello"), ("GET", "/ip"), ("GET", "/nope")]
        # the store lives under the config's data_dir
        assert (tmp_path / "data" / "streamlog.db").exists()
    finally:
        d.stop()
    # and it is still there after a restart
    d = Daemon(tmp_path / "conf", "test.yaml").start([http_port, log_port])
    try:
        assert _req(log_port, "GET", "/me/hello.length")[2] == b"1"
    finally:
        d.stop()


def test_module_alone_takes_the_environment(tmp_path, monkeypatch):
    _copy(tmp_path)
    http_port, log_port = free_port(), free_port()
    monkeypatch.setenv("PIPYD_PORT_HTTP", str(http_port))
    monkeypatch.setenv("STREAMLOG_LISTEN", f"127.0.0.1:{log_port}")
    monkeypatch.setenv("STREAMLOG_STORE", str(tmp_path / "store"))
    d = Daemon(tmp_path / "modules", "main.js", ["--no-graph"]).start([http_port, log_port])
    try:
        assert _req(http_port, "GET", "/")[0] == 200
        assert _req(log_port, "POST", "/a/b", b"x")[0] == 201
        assert [e["data"]["path"] for e in _requests_log(log_port, 1)] == ["/"]
        assert (tmp_path / "store" / "streamlog.db").exists()
    finally:
        d.stop()
