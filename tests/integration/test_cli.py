"""The `pipyd` command line: -e, --verify, --version, --help, bad options, load failures."""
import subprocess
import sys

PIPYD = [sys.executable, "-m", "pipyd.cli"]


def run(*args, cwd=None, timeout=30):
    return subprocess.run([*PIPYD, *args], capture_output=True, text=True, cwd=cwd, timeout=timeout)


def test_eval_prints_value():
    r = run("-e", "1 + 2 * 3")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "7"


def test_eval_syntax_error_has_position():
    r = run("-e", "1 +* 2")
    assert r.returncode == 255
    assert "SyntaxError" in r.stderr and ":1:" in r.stderr


def test_version_and_help():
    assert run("--version").returncode == 0
    r = run("--help")
    assert r.returncode == 0 and "Usage" in r.stdout


def test_unknown_option():
    r = run("--bogus")
    assert r.returncode == 255
    assert "unknown option: --bogus" in r.stderr


def test_verify_loads_without_listening(tmp_path):
    (tmp_path / "m.js").write_text("pipy().listen(1).serveHTTP(new Message('x'))")
    r = run("--verify", str(tmp_path / "m.js"))
    assert r.returncode == 0, r.stderr
    assert "Listening" not in r.stderr
    assert "serveHTTP" in r.stderr  # the graph is printed


def test_no_graph(tmp_path):
    (tmp_path / "m.js").write_text("pipy().listen(1).serveHTTP(new Message('x'))")
    r = run("--verify", "--no-graph", str(tmp_path / "m.js"))
    assert r.returncode == 0
    assert "serveHTTP" not in r.stderr


def test_module_not_resulting_in_configuration(tmp_path):
    (tmp_path / "m.js").write_text("1 + 1")
    r = run(str(tmp_path / "m.js"))
    assert r.returncode == 255
    assert "did not result in a Configuration" in r.stderr


def test_syntax_error_in_module(tmp_path):
    (tmp_path / "m.js").write_text("pipy()\n  .listen(8080)\n  .serveHTTP(new Message('x'')\n")
    r = run(str(tmp_path / "m.js"))
    assert r.returncode == 255
    assert "/m.js:3:" in r.stderr
    assert "^" in r.stderr


def test_missing_to_for_joint_filter(tmp_path):
    (tmp_path / "m.js").write_text("pipy().listen(8080).demuxHTTP()")
    r = run("--verify", str(tmp_path / "m.js"))
    assert r.returncode == 255
    assert "missing .to(...)" in r.stderr
