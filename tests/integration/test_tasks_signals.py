"""Timer, startup and signal pipelines driven by real signals to a running daemon; reload."""
import signal
import time

from .daemon import http_exchange


def test_startup_and_interval_tasks(daemon):
    src = """
pipy({_n: 0})
  .task()
  .onStart(() => (console.log('startup ran'), new StreamEnd))
  .task('0.2s')
  .onStart(() => (console.log('tick'), new StreamEnd))
"""
    d = daemon(src, wait_for="startup ran")
    d.wait_log("tick", count=3, timeout=10)


def test_signal_task_runs_on_sighup_instead_of_reload(daemon):
    src = """
pipy()
  .task('SIGHUP')
  .onStart(() => (console.log('got hup'), new StreamEnd))
  .task()
  .onStart(() => (console.log('ready'), new StreamEnd))
"""
    d = daemon(src, wait_for="ready")
    d.signal(signal.SIGHUP)
    d.wait_log("got hup")
    d.signal(signal.SIGHUP)
    log = d.wait_log("got hup", count=2)
    assert "Reloading codebase" not in log


def test_sighup_reloads_codebase(daemon, port, tmp_path):
    d = daemon("pipy().listen(%d).serveHTTP(new Message('one'))" % port, ports=[port])
    assert http_exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").endswith(b"one")
    (tmp_path / "main.js").write_text("pipy().listen(%d).serveHTTP(new Message('two'))" % port)
    d.signal(signal.SIGHUP)
    d.wait_log("[restart] Codebase reloaded")
    assert http_exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").endswith(b"two")


def test_failed_reload_keeps_old_configuration(daemon, port, tmp_path):
    d = daemon("pipy().listen(%d).serveHTTP(new Message('one'))" % port, ports=[port])
    (tmp_path / "main.js").write_text("pipy().listen(%d).serveHTTP(new Message('two'" % port)
    d.signal(signal.SIGHUP)
    d.wait_log("[restart] Failed reloading codebase")
    assert http_exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").endswith(b"one")


def test_sigterm_stops_gracefully(daemon, port):
    d = daemon("pipy().listen(%d).serveHTTP(new Message('x'))" % port, ports=[port])
    d.signal(signal.SIGTERM)
    assert d.wait() == 0
    assert "Done." in d.log()


def test_sigint_exit_code(daemon, port):
    d = daemon("pipy().listen(%d).serveHTTP(new Message('x'))" % port, ports=[port])
    d.signal(signal.SIGINT)
    assert d.wait() == 255


def test_pipy_exit_from_task(daemon):
    src = "pipy().task().onStart(() => (pipy.exit(3), new StreamEnd))"
    d = daemon(src)
    assert d.wait() == 3


def test_reload_twice_then_stop_gracefully(daemon, port, tmp_path):
    d = daemon("pipy().listen(%d).serveHTTP(new Message('one'))" % port, ports=[port])
    for n, body in enumerate(("two", "three"), start=1):
        (tmp_path / "main.js").write_text("pipy().listen(%d).serveHTTP(new Message('%s'))" % (port, body))
        d.signal(signal.SIGHUP)
        d.wait_log("[restart] Codebase reloaded", count=n)
        assert http_exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").endswith(body.encode())
    d.signal(signal.SIGTERM)
    assert d.wait() == 0
    assert "Stopped listening on TCP port %d" % port in d.log()  # the live worker's roots closed
