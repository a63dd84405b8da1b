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


def test_module_with_a_builder_chain_of_hundreds_of_calls(daemon, port):
    """One pipy() chain defining 200 pipelines (400 chained calls): compiled flat, it loads
    and each pipeline runs (past about 250 steps the nested form hit Python's recursion limit)."""
    chain = "".join(f"\n  .pipeline('p{i}').replaceMessage(new Message('p{i}'))" for i in range(200))
    daemon(f"pipy()\n  .listen({port}).demuxHTTP().to($=>$.link('p199')){chain}\n", ports=[port])
    from .daemon import http_exchange
    assert http_exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").endswith(b"\r\n\r\np199")


def test_module_nested_past_python_limits_fails_with_position(tmp_path):
    loops = "for (let i = 0; i < 1; i++) "
    (tmp_path / "m.js").write_text("var n = 0\n" + loops * 21 + "n++\npipy()\n")
    r = run(str(tmp_path / "m.js"))
    assert r.returncode == 255
    assert f"m.js:2:{20 * len(loops) + 1}" in r.stderr and "Python allows 20" in r.stderr
    assert "Traceback" not in r.stderr
