"""The `pipyd` command (Pipy reference §6): options, run modes, signals and exit codes.

    pipyd [options] <script.js | config.yaml>
    pipyd -e '<expression>'

Options follow Pipy: ``--name=value``; pipyd also accepts ``--name value`` for options that
take a value. An unknown option prints ``unknown option: x`` and exits 255 (Pipy's −1).

Exit codes: 0 after ``--help``/``--version``/``--verify``/``-e`` with a plain value, after
``pipy.exit()`` and after a graceful SIGTERM; ``pipy.exit(code)``'s code; 255 after a load
failure, a bad option or config, and after SIGINT (as Pipy).

Signals (Pipy's default handling, which a script's ``task('SIGxxx')`` replaces):
SIGINT = graceful shutdown, a second one forces it; SIGHUP = reload the codebase. pipyd
also shuts down gracefully on SIGTERM, where Pipy 0.70 leaves SIGTERM to the OS (immediate
death): service managers and container runtimes stop daemons with SIGTERM, and dropping
every connection mid-response then is the wrong default.
"""
from __future__ import annotations

import asyncio
import inspect
import os
import signal
import sys
import traceback
from typing import Any

from pipyd import __version__, log
from pipyd.config import (
    ConfigError, Options, check_log_level, export_environment, load_config, parse_seconds,
    parse_threads,
)

EXIT_FAILURE = 255  # Pipy exits with -1
EXIT_CRASH = 70  # EX_SOFTWARE: an internal error (the supervisor restarts such a worker)

USAGE = """\
Usage: pipyd [options] <filename>
       pipyd [options] -e <expression>

  <filename>                  a PipyJS entry module (.js) or a pipyd config file (.yaml)

Options:
  -h, -help, --help           Show help information
  -v, -version, --version     Show version information
  -e, -eval, --eval           Evaluate the given string as script
  --log-level=<debug|info|warn|error>
                              Set the level of log output
  --verify                    Verify configuration only
  --no-graph                  Do not print pipeline graphs to the log
  --reuse-port                Enable kernel load balancing for all listening ports
  --threads=<n>, --workers=<n>
                              Run n worker processes sharing the listening ports
  --shutdown-timeout=<time>   Bound the graceful-shutdown wait (default 30s)
  --admin-port=<[[ip]:]port>  Serve GET /metrics (Prometheus text) and /dump/... here
  --instance-uuid=<uuid>      Specify a UUID for this worker process
  --instance-name=<name>      Specify a name for this worker process
"""

# Options taking a value: flag name -> Options attribute
_VALUED = {
    "log-level": "log_level", "threads": "threads", "workers": "threads",
    "shutdown-timeout": "shutdown_timeout", "instance-uuid": "instance_uuid",
    "instance-name": "instance_name", "eval": "eval_source", "admin-port": "admin_port",
}
_FLAGS = {"verify": "verify", "no-graph": "no_graph", "reuse-port": "reuse_port"}
# Pipy options for services pipyd does not have (admin GUI, repo TLS): accepted so launch
# commands written for Pipy still start, with a warning.
_IGNORED = frozenset({
    "admin-tls-cert", "admin-tls-key", "admin-tls-trusted", "tls-cert",
    "tls-key", "tls-trusted", "openssl-engine",
})


class UsageError(Exception):
    """A command line that cannot run; the message is printed as is and the exit is 255."""


def parse_args(argv: list[str]) -> tuple[Options, str | None]:
    """Options from the arguments (without the program name), and the action requested
    first: 'help', 'version' or None (run)."""
    o = Options()
    positional: list[str] = []
    evaluate = False
    action: str | None = None
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        if arg == "--":
            positional.extend(argv[i:])
            break
        if not arg.startswith("-") or arg == "-":
            positional.append(arg)
            continue
        name, eq, value = arg.lstrip("-").partition("=")
        if arg in ("-h", "-help", "--help"):
            action = action or "help"
        elif arg in ("-v", "-version", "--version"):
            action = action or "version"
        elif arg in ("-e", "-eval", "--eval"):
            evaluate = True
            # The script text follows; it may itself start with '-' (`-e '-1'`).
            if i < len(argv) and not positional:
                positional.append(argv[i])
                i += 1
        elif name in _FLAGS and arg.startswith("--") and not eq:
            setattr(o, _FLAGS[name], True)
            o.given.add(_FLAGS[name])
        elif name in _VALUED and arg.startswith("--"):
            if not eq:
                if i >= len(argv):
                    raise UsageError(f"missing value for option: --{name}")
                value = argv[i]
                i += 1
            if name == "eval":
                evaluate = True
                positional.insert(0, value)
            else:
                _set_valued(o, name, value)
        elif name in _IGNORED and arg.startswith("--"):
            if not eq and i < len(argv) and not argv[i].startswith("-"):
                i += 1
            log.warn(f"[cli] --{name} is a Pipy option pipyd does not support; ignored")
        else:
            raise UsageError(f"unknown option: {arg}")
    if action:
        return o, action
    if len(positional) > 1:
        raise UsageError(f"redundant filename: {positional[1]}")
    if evaluate:
        if not positional:
            raise UsageError("missing script to evaluate")
        o.eval_source = positional[0]
    elif positional:
        _set_target(o, positional[0])
    else:
        raise UsageError("missing filename: pipyd runs a script or a config file "
                         "(Pipy's repo mode is not supported)\n" + USAGE)
    return o, None


def _set_valued(o: Options, name: str, value: str) -> None:
    attr = _VALUED[name]
    try:
        if attr == "log_level":
            o.log_level = check_log_level(value)
        elif attr == "threads":
            o.threads = parse_threads(value, "--" + name)
        elif attr == "shutdown_timeout":
            o.shutdown_timeout = parse_seconds(value, "--shutdown-timeout")
        elif attr == "admin_port":
            from pipyd.admin import parse_admin_address
            try:
                o.admin_port = parse_admin_address(value)
            except ValueError:
                raise UsageError(f"invalid --admin-port: {value}") from None
        else:
            setattr(o, attr, value)
    except ConfigError as e:
        raise UsageError(str(e)) from None
    o.given.add(attr)


def _set_target(o: Options, target: str) -> None:
    low = target.lower()
    if low.startswith(("http://", "https://")) or (":" in target and not os.path.exists(target)):
        raise UsageError(f"remote codebases and repo proxies are not supported: {target}")
    if os.path.isdir(target):
        raise UsageError(f"repo mode (a directory codebase) is not supported: {target}")
    if low.endswith((".yaml", ".yml")):
        o.config_path = target
    else:
        o.entry = target


def version_text() -> str:
    return (f"Version     : pipyd {__version__}\n"
            f"Compatible  : Pipy 0.70.0 scripts\n"
            f"Python      : {sys.version.split()[0]}\n")


def main(argv: list[str] | None = None) -> int:
    """The `pipyd` entry point; returns the process exit code."""
    args = sys.argv[1:] if argv is None else argv
    try:
        o, action = parse_args(args)
        if action == "help":
            sys.stdout.write(USAGE)
            return 0
        if action == "version":
            sys.stdout.write(version_text())
            return 0
        if o.config_path:
            load_config(o.config_path, o)
    except (UsageError, ConfigError) as e:
        sys.stderr.write(f"{e}\n")
        return EXIT_FAILURE
    log.configure(level=o.log_level or "error")
    export_environment(o)
    if o.threads > 1 and not os.environ.get("PIPYD_SUPERVISED") and not o.verify \
            and o.eval_source is None:
        from pipyd.supervisor import Supervisor
        return Supervisor(worker_argv(args), o.threads).run()
    if o.eval_source is not None:
        handled, code = evaluate_expression(o)
        if handled:
            return code
    try:
        return run_worker(o)
    except KeyboardInterrupt:
        return EXIT_FAILURE
    except Exception:
        # A bug of ours, not of the script: say so, and let a supervisor restart us.
        log.error("[pipyd] internal error:\n" + traceback.format_exc().rstrip())
        return EXIT_CRASH


def worker_argv(args: list[str]) -> list[str]:
    """The command line of one supervised worker: ours minus --threads, plus --reuse-port
    (every worker binds the same ports)."""
    out: list[str] = []
    skip = False
    for a in args:
        if skip:
            skip = False
            continue
        name = a.lstrip("-").partition("=")[0]
        if a.startswith("--") and name in ("threads", "workers"):
            skip = "=" not in a
            continue
        out.append(a)
    if "--reuse-port" not in out:
        out.insert(0, "--reuse-port")
    return [sys.executable, "-m", "pipyd.cli", *out]


def evaluate_expression(o: Options) -> tuple[bool, int]:
    """`pipyd -e`: evaluate the script with every builtin a module has. A value that is not a
    Configuration is printed on stdout (Pipy §0.8) and the run ends; a Configuration runs as
    a codebase whose root is the working directory (the loaded worker is reused, so the
    script is evaluated once)."""
    from pipyd.worker import LoadError, Worker
    worker = Worker(None, o)
    try:
        worker.load()
    except LoadError as e:
        for line in str(e).splitlines():
            log.error(line)
        return True, EXIT_FAILURE
    if not worker.eval_is_value:
        o.preloaded = worker
        return False, 0
    sys.stdout.write(_display(worker.eval_value) + "\n")
    sys.stdout.flush()
    return True, 0


def _display(value: Any) -> str:
    from pipyd.js.builtins.console import inspect as js_inspect
    return value if type(value) is str else js_inspect(value)


def raise_open_files_limit() -> tuple[int, int]:
    """Take the hard limit on open files as the soft one, as Go's runtime does for every
    program and nginx's worker_rlimit_nofile is set for: a proxied connection holds two
    descriptors, and the soft limit of 1,024 many systems start processes with would cap the
    daemon at about 500 of them. Returns the (before, after) soft limits."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft == resource.RLIM_INFINITY or soft >= hard:
        return soft, soft
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError) as e:
        log.warn(f"[pipyd] could not raise the open-files limit from {soft} to {hard}: {e}")
        return soft, soft
    return soft, hard


def run_worker(o: Options) -> int:
    """Runs one worker on a uvloop event loop until it stops; returns the exit code."""
    import uvloop
    before, after = raise_open_files_limit()
    if after != before:
        log.debug(f"[pipyd] open-files limit raised from {before} to {after}")
    o.settle_heap = True  # this process is the daemon: its heap is ours to tune
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(Daemon(o).run())


class Daemon:
    """The process around one Worker: start, default signal handling, reload, shutdown.

    Scripts reach it as ``options.control``: ``pipy.exit(code)`` → ``exit(code)``,
    ``pipy.restart()`` → ``restart()``."""

    def __init__(self, options: Options) -> None:
        self.options = options
        options.control = self
        self.worker: Any = None
        self.done: asyncio.Future | None = None
        self.stopping = False
        self.exit_code = 0
        self.reloading = False
        self.started = False  # the worker's roots are open (reload needs them)

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        self.done = loop.create_future()
        from pipyd.worker import Worker
        o = self.options
        # Handlers first: once a port accepts, a signal must never get its default action
        # (a SIGTERM killing us mid-request, a SIGHUP killing instead of reloading).
        if not o.verify:
            self._install_signals(loop)
        try:
            try:
                self.worker = getattr(o, "preloaded", None) or Worker(o.entry, o)
                ok = await _maybe(self.worker.start())
            except Exception as e:
                log.error(f"{e}")
                return EXIT_FAILURE
            if ok is False:
                return EXIT_FAILURE
            if o.verify:
                await _maybe(self.worker.shutdown(0))
                return 0
            self.started = True
            admin = await self._start_admin(loop)
            try:
                return await self.done
            finally:
                if admin is not None:
                    admin.close()
        finally:
            if not o.verify:
                self._remove_signals()
                log.info("Done.")

    async def _start_admin(self, loop: asyncio.AbstractEventLoop) -> Any:
        """`--admin-port`: /metrics and /dump of the worker serving now. With --threads only
        worker 0 binds the port and asks the others (pipyd/admin.py)."""
        address = self.options.admin_port
        if address is None:
            return None
        from pipyd.admin import start_admin_endpoints
        return await start_admin_endpoints(loop, address, lambda: self.worker)

    # -- default signal handling (§6), through the table tasks can override -------------------

    def _install_signals(self, loop: asyncio.AbstractEventLoop) -> None:
        from pipyd.tasks import signal_table
        table = signal_table(loop)
        table.set_default(signal.SIGINT, lambda: self.exit(EXIT_FAILURE))
        table.set_default(signal.SIGTERM, lambda: self.exit(0))
        table.set_default(signal.SIGHUP, self.restart)

    def _remove_signals(self) -> None:
        from pipyd.tasks import signal_table
        table = signal_table(asyncio.get_running_loop())
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            table.clear_default(sig)

    def exit(self, code: int = 0) -> None:
        """Graceful shutdown with ``code``; a second request forces the stop at once."""
        if self.done is None or self.done.done():
            return
        if self.stopping:
            log.info("[shutdown] Forcing shutdown...")
            self.done.set_result(self.exit_code)
            return
        self.stopping = True
        self.exit_code = int(code) & 255
        asyncio.get_running_loop().create_task(self._shutdown())

    async def _shutdown(self) -> None:
        try:
            await _maybe(self.worker.shutdown(self.options.shutdown_timeout))
        except Exception as e:
            log.error(f"[shutdown] {e}")
        if self.done is not None and not self.done.done():
            self.done.set_result(self.exit_code)

    def restart(self) -> None:
        """Reload the codebase (SIGHUP, `pipy.restart()`); the old one keeps running on
        failure (§1.6)."""
        if self.stopping or self.reloading or not self.started:
            return
        self.reloading = True
        asyncio.get_running_loop().create_task(self._reload())

    async def _reload(self) -> None:
        log.info("[restart] Reloading codebase...")
        new = None
        try:
            new = await _maybe(self.worker.reload())
        except Exception as e:
            log.error(f"{e}")
        finally:
            self.reloading = False
        if new is not None:
            self.worker = new  # it owns the ports now: the next reload and the stop go to it
        log.info("[restart] Codebase reloaded" if new is not None else "[restart] Failed reloading codebase")


async def _maybe(value: Any) -> Any:
    """The Worker may do its work synchronously or as a coroutine."""
    if inspect.isawaitable(value):
        return await value
    return value


if __name__ == "__main__":
    sys.exit(main())
