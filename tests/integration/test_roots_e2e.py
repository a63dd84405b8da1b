"""Roots through the real daemon: file and stdin readers, UDP, several workers, graceful stop."""
import os
import signal
import socket
import subprocess
import sys
import time

from .daemon import http_exchange


def test_read_file_pipeline(daemon, tmp_path):
    (tmp_path / "input.txt").write_text("line one\nline two\n")
    src = """
pipy()
  .read('input.txt')
  .handleData(d => console.log('read ' + d.size + ' bytes: ' + d.toString().split('\\n')[1]))
  .handleStreamEnd(() => console.log('file done'))
"""
    d = daemon(src, wait_for="file done")
    assert "read 18 bytes: line two" in d.log()


def test_read_stdin_pipeline(tmp_path):
    (tmp_path / "m.js").write_text(
        "pipy().read('-').handleData(d => console.log('got ' + d.toString().trim()))"
        ".handleStreamEnd(() => pipy.exit(0))")
    r = subprocess.run([sys.executable, "-m", "pipyd.cli", "--no-graph", str(tmp_path / "m.js")],
                       input=b"hello from stdin\n", capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert b"got hello from stdin" in r.stderr


def test_udp_listener_echoes_datagrams(daemon, port):
    src = ("pipy().listen(%d, {protocol: 'udp'})"
           ".replaceMessage(msg => new Message('echo:' + msg.body.toString()))") % port
    d = daemon(src, wait_for=f"Listening on UDP port {port}")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(5)
        s.sendto(b"ping", ("127.0.0.1", port))
        data, _ = s.recvfrom(1024)
    assert data == b"echo:ping"
    assert d.proc.poll() is None
    d.signal(signal.SIGTERM)  # the open UDP session ends at once: nothing to wait for
    assert d.wait() == 0
    assert "Waiting for remaining" not in d.log()


def test_threads_share_the_port_and_crashed_worker_restarts(daemon, port):
    src = "pipy().listen(%d).serveHTTP(() => new Message('pid ' + os.env.PIPYD_WORKER_INDEX))" % port
    d = daemon(src, ports=[port], args=["--threads=2"])
    seen = set()
    for _ in range(400):  # until both workers answer: the port is up as soon as one listens
        out = http_exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", until_close=True)
        seen.add(out.rsplit(b" ", 1)[-1])
        if len(seen) == 2:
            break
        time.sleep(0.02)
    assert seen == {b"0", b"1"}
    workers = [int(p) for p in subprocess.run(["pgrep", "-P", str(d.proc.pid)], capture_output=True,
                                              text=True).stdout.split()]
    assert len(workers) == 2
    os.kill(workers[0], signal.SIGKILL)
    d.wait_log("restarting")
    for _ in range(10):  # still served while the worker comes back
        assert b"HTTP/1.1 200 OK" in http_exchange(
            port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", until_close=True)
    d.signal(signal.SIGTERM)
    assert d.wait() == 0


def test_graceful_stop_finishes_request_in_flight(daemon, port):
    src = "pipy().listen(%d).serveHTTP(req => new Message('got ' + req.body.toString()))" % port
    d = daemon(src, ports=[port])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n01234")
        time.sleep(0.3)
        d.signal(signal.SIGTERM)
        time.sleep(0.3)
        s.sendall(b"56789")
        out = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            out += chunk
    assert out.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"connection: close" in out and out.endswith(b"got 0123456789")
    assert d.wait() == 0
