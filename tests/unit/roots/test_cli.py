"""The `pipyd` command line: parsing, exit codes, config file, and the Daemon's signals."""
from __future__ import annotations

import asyncio
import os
import signal
import sys
import types

import pytest

import pipyd.js
from pipyd import cli
from pipyd.cli import Daemon, UsageError, main, parse_args, worker_argv
from pipyd.config import ConfigError, Options, export_environment, load_config
from pipyd.tasks import signal_table
from tests.unit.roots import run


# -- parsing ----------------------------------------------------------------------------------

@pytest.mark.parametrize("argv, attrs", [
    (["main.js"], {"entry": "main.js"}),
    (["--log-level=debug", "a.js"], {"log_level": "debug", "entry": "a.js"}),
    (["--log-level", "warn", "a.js"], {"log_level": "warn"}),
    (["a.js", "--verify", "--no-graph", "--reuse-port"],
     {"verify": True, "no_graph": True, "reuse_port": True}),
    (["--threads=4", "a.js"], {"threads": 4}),
    (["--workers", "2", "a.js"], {"threads": 2}),
    (["--shutdown-timeout=2m", "a.js"], {"shutdown_timeout": 120.0}),
    (["-e", "1+2"], {"eval_source": "1+2", "entry": None}),
    (["-eval", "-1"], {"eval_source": "-1"}),  # the script may start with '-'
    (["--eval=pipy()"], {"eval_source": "pipy()"}),
    (["conf/pipyd.yaml"], {"config_path": "conf/pipyd.yaml", "entry": None}),
    (["--instance-name=w1", "a.js"], {"instance_name": "w1"}),
    (["--", "-odd.js"], {"entry": "-odd.js"}),
])
def test_parse_args(argv, attrs):
    o, action = parse_args(argv)
    assert action is None
    for k, v in attrs.items():
        assert getattr(o, k) == v, k


@pytest.mark.parametrize("argv, action", [
    (["--help"], "help"), (["-h"], "help"), (["-help", "x.js"], "help"),
    (["--version"], "version"), (["-v"], "version"), (["-version"], "version"),
])
def test_parse_actions(argv, action):
    assert parse_args(argv)[1] == action


@pytest.mark.parametrize("argv, message", [
    (["--foo"], "unknown option: --foo"),
    (["-x", "a.js"], "unknown option: -x"),
    (["--verify=1", "a.js"], "unknown option: --verify=1"),
    (["a.js", "b.js"], "redundant filename: b.js"),
    (["-e"], "missing script to evaluate"),
    ([], "missing filename"),
    (["--log-level=loud", "a.js"], "invalid log level: loud"),
    (["--threads=0", "a.js"], "--threads: must be between 1 and 1024"),
    (["--threads"], "missing value for option: --threads"),
    (["http://repo:6060/app/"], "not supported"),
])
def test_parse_errors(argv, message):
    with pytest.raises(UsageError) as e:
        parse_args(argv)
    assert message in str(e.value)


def test_directory_is_repo_mode_and_unsupported(tmp_path):
    with pytest.raises(UsageError, match="repo mode"):
        parse_args([str(tmp_path)])


def test_ignored_pipy_options_warn(capsys):
    from pipyd import log
    log.configure(level="warn")
    try:
        o, _ = parse_args(["--admin-tls-cert=c.pem", "a.js"])
    finally:
        log.configure(level="error")
    assert o.entry == "a.js"
    assert "--admin-tls-cert" in capsys.readouterr().err


def test_admin_port_is_parsed():
    o, _ = parse_args(["--admin-port=127.0.0.1:6060", "a.js"])
    assert o.admin_port == ("127.0.0.1", 6060)
    with pytest.raises(UsageError, match="invalid --admin-port"):
        parse_args(["--admin-port=nope", "a.js"])


# -- exit codes -----------------------------------------------------------------------------------

def test_main_unknown_option_exits_255(capsys):
    assert main(["--bogus"]) == 255
    assert capsys.readouterr().err.strip() == "unknown option: --bogus"


def test_main_help_and_version(capsys):
    assert main(["--help"]) == 0
    assert "Usage: pipyd" in capsys.readouterr().out
    assert main(["--version"]) == 0
    assert "Version" in capsys.readouterr().out


def test_main_bad_config_exits_255(tmp_path, capsys):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("module: m.js\nlog_levle: info\n")
    assert main([str(cfg)]) == 255
    assert "unknown setting(s): log_levle" in capsys.readouterr().err


def test_eval_prints_plain_value_on_stdout(capsys):
    assert main(["-e", "1+2"]) == 0
    assert capsys.readouterr().out == "3\n"


def test_eval_sees_daemon_builtins(capsys):
    assert main(["-e", "new Data('abc').size + typeof algo.URLRouter"]) == 0
    assert capsys.readouterr().out == "3function\n"


def test_eval_configuration_runs_the_preloaded_worker_once(monkeypatch):
    ran: list = []
    monkeypatch.setattr(cli, "run_worker", lambda o: ran.append(o.preloaded) or 0)
    assert main(["-e", "pipy().task().onStart(() => new StreamEnd)"]) == 0
    assert len(ran) == 1 and ran[0].loaded and not ran[0].eval_is_value


def test_eval_error_exits_255(capsys):
    assert main(["-e", "nope.x"]) == 255


def test_worker_argv_drops_threads_and_adds_reuse_port():
    argv = worker_argv(["--threads=4", "--log-level=info", "--workers", "2", "a.js"])
    assert argv[:3] == [sys.executable, "-m", "pipyd.cli"]
    assert argv[3:] == ["--reuse-port", "--log-level=info", "a.js"]


# -- config file ------------------------------------------------------------------------------------

def test_load_config_resolves_paths_against_the_file(tmp_path):
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "pipyd.yaml").write_text(
        "module: ../modules/main.js\ndata_dir: ../data\nlog_level: info\nthreads: 2\n"
        "graph: false\nshutdown_timeout: 5s\nports: {http: 8080, admin: '127.0.0.1:9090'}\n"
        "env: {GREETING: hi}\n")
    o = load_config(str(conf / "pipyd.yaml"), Options())
    assert o.entry == str(tmp_path / "modules" / "main.js")
    assert o.data_dir == str(tmp_path / "data")
    assert (o.log_level, o.threads, o.no_graph, o.shutdown_timeout) == ("info", 2, True, 5.0)
    env: dict = {}
    export_environment(o, env)
    assert env == {"GREETING": "hi", "PIPYD_DATA_DIR": str(tmp_path / "data"),
                   "PIPYD_PORT_HTTP": "8080", "PIPYD_PORT_ADMIN": "127.0.0.1:9090"}


def test_command_line_wins_over_config(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("module: m.js\nlog_level: info\nthreads: 3\n")
    o, _ = parse_args(["--log-level=debug", str(cfg)])
    load_config(o.config_path, o)
    assert (o.log_level, o.threads) == ("debug", 3)


@pytest.mark.parametrize("text, message", [
    ("- a\n- b\n", "expected a mapping"),
    ("log_level: info\n", "'module' (the entry module) is required"),
    ("module: m.js\nthreads: many\n", "threads: expected a number"),
    ("module: m.js\nports: {http: 99999}\n", "ports.http"),
    ("module: m.js\nreuse_port: 1\n", "reuse_port: expected true or false"),
    ("module: [\n", "invalid YAML"),
])
def test_config_errors(tmp_path, text, message):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_config(str(cfg), Options())
    assert message in str(e.value)


def test_shipped_default_config_loads():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    o = load_config(os.path.join(root, "conf", "pipyd.yaml"), Options())
    assert o.entry == os.path.join(root, "modules", "main.js")
    assert o.data_dir == os.path.join(root, "data")


# -- the Daemon around a Worker ---------------------------------------------------------------------

class FakeWorker:
    instances: list = []

    def __init__(self, entry, options):
        self.entry, self.options = entry, options
        self.calls: list = []
        self.fail_start = options.env.get("FAIL") == "start"
        self.reload_ok = options.env.get("RELOAD") != "fail"
        FakeWorker.instances.append(self)

    async def start(self):
        self.calls.append("start")
        if self.fail_start:
            raise RuntimeError("cannot load /main.js")
        return True

    def reload(self):
        """Like Worker.reload: the worker that serves from now on, or None."""
        self.calls.append("reload")
        return self if self.reload_ok else None

    async def shutdown(self, timeout):
        self.calls.append(("shutdown", timeout))
        await asyncio.sleep(0.05)


@pytest.fixture
def fake_worker(monkeypatch):
    mod = types.ModuleType("pipyd.worker")
    mod.Worker = FakeWorker
    monkeypatch.setitem(sys.modules, "pipyd.worker", mod)
    FakeWorker.instances = []
    return FakeWorker


def daemon_run(options, during):
    async def main():
        d = Daemon(options)
        task = asyncio.get_running_loop().create_task(d.run())
        await asyncio.sleep(0.05)
        await during(d)
        return await task
    return run(main)


def test_sigint_graceful_then_255(fake_worker, capsys):
    async def during(d):
        os.kill(os.getpid(), signal.SIGINT)
    o = Options(entry="main.js", shutdown_timeout=7)
    assert daemon_run(o, during) == 255
    assert fake_worker.instances[0].calls == ["start", ("shutdown", 7)]
    assert "Done." in capsys.readouterr().err


def test_sigterm_graceful_exit_0(fake_worker):
    async def during(d):
        os.kill(os.getpid(), signal.SIGTERM)
    assert daemon_run(Options(entry="main.js"), during) == 0


def test_second_sigint_forces(fake_worker):
    class Slow(FakeWorker):
        async def shutdown(self, timeout):
            await asyncio.sleep(30)
    sys.modules["pipyd.worker"].Worker = Slow

    async def during(d):
        os.kill(os.getpid(), signal.SIGINT)
        await asyncio.sleep(0.05)
        os.kill(os.getpid(), signal.SIGINT)
    assert daemon_run(Options(entry="main.js"), during) == 255


def test_sighup_reloads_and_logs(fake_worker, capsys):
    async def during(d):
        os.kill(os.getpid(), signal.SIGHUP)
        await asyncio.sleep(0.05)
        d.exit(0)
    assert daemon_run(Options(entry="main.js"), during) == 0
    assert "reload" in fake_worker.instances[0].calls
    err = capsys.readouterr().err
    assert "[restart] Reloading codebase..." in err and "[restart] Codebase reloaded" in err


def test_failed_reload_keeps_running(fake_worker, capsys):
    async def during(d):
        d.restart()
        await asyncio.sleep(0.05)
        assert not d.done.done()
        d.exit(4)
    assert daemon_run(Options(entry="main.js", env={"RELOAD": "fail"}), during) == 4
    assert "[restart] Failed reloading codebase" in capsys.readouterr().err


def test_pipy_exit_through_control(fake_worker):
    async def during(d):
        d.options.control.exit(3)  # what pipy.exit(3) calls
    assert daemon_run(Options(entry="main.js"), during) == 3


def test_signal_task_replaces_default_sigint(fake_worker):
    hits: list = []

    async def during(d):
        table = signal_table()
        fn = lambda: hits.append(1)  # noqa: E731
        table.add_task(signal.SIGINT, fn)
        os.kill(os.getpid(), signal.SIGINT)
        await asyncio.sleep(0.05)
        assert hits == [1] and not d.stopping
        table.remove_task(signal.SIGINT, fn)
        d.exit(0)
    assert daemon_run(Options(entry="main.js"), during) == 0


def test_load_failure_exits_255(fake_worker, capsys):
    o = Options(entry="main.js", env={"FAIL": "start"})

    async def main():
        return await Daemon(o).run()
    assert run(main) == 255
    assert "cannot load /main.js" in capsys.readouterr().err


def test_verify_loads_then_exits_0(fake_worker):
    async def main():
        return await Daemon(Options(entry="main.js", verify=True)).run()
    assert run(main) == 0
    assert fake_worker.instances[0].calls == ["start", ("shutdown", 0)]

