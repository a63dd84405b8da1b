"""Run options: what one `pipyd` run does, from the command line and the YAML config file.

`pipyd conf/pipyd.yaml` reads a config file naming the entry module and the daemon's
settings; `pipyd script.js` runs a script with command-line options only. Both end as one
``Options`` value that the worker and the supervisor read.

The config file (keys; everything but ``module`` optional)::

    module: ../modules/main.js   # entry module; relative paths are relative to this file
    data_dir: ../data            # where modules keep their data (the stream-log store)
    log_level: info              # debug | info | warn | error
    threads: 1                   # worker processes (SO_REUSEPORT); alias: workers
    reuse_port: false            # SO_REUSEPORT even with one worker
    graph: true                  # print pipeline graphs at start (false = --no-graph)
    shutdown_timeout: 30s        # bounded wait for pipelines at graceful shutdown
    ports: {http: 8080}          # named ports for modules (env PIPYD_PORT_<NAME>)
    env: {NAME: value}           # extra environment variables for scripts (os.env)

Relative paths resolve against the config file's directory, so the same file works from
any current directory (the docker-compose rule). Unknown keys are errors: a typo must not
silently fall back to a default. Options given on the command line win over the file.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

import yaml

LOG_LEVELS = ("debug", "info", "warn", "error")

# Pipy waits for pipelines without bound after SIGINT; pipyd bounds the wait (a second
# SIGINT still forces the stop at once).
DEFAULT_SHUTDOWN_TIMEOUT = 30.0


class ConfigError(Exception):
    """A config file or option value that cannot be used; the CLI exits 255 with it."""


@dataclass
class Options:
    """Everything a run needs to know; the Worker reads the fields it cares about."""

    entry: str | None = None  # entry module path (a file)
    eval_source: str | None = None  # `-e` script text (codebase root = cwd)
    config_path: str | None = None  # the YAML file, when one was given
    log_level: str | None = None  # None = Pipy's default threshold (error)
    verify: bool = False
    no_graph: bool = False
    reuse_port: bool = False
    threads: int = 1
    data_dir: str | None = None
    ports: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT
    instance_uuid: str | None = None
    instance_name: str | None = None
    # Freeze the loaded heap after (re)load (worker.settle_heap): only in a daemon process, where
    # it pays; `pipyd` sets it, an embedding program or a test process keeps its GC untouched.
    settle_heap: bool = False
    admin_port: tuple[str, int] | None = None  # --admin-port: (ip, port), '' ip = every interface
    # Set by the CLI before the worker starts: `pipy.exit(code)` calls control.exit(code),
    # `pipy.restart()` calls control.restart() (see cli.Daemon).
    control: Any = None
    # `pipyd -e` loads the script before knowing whether it is a codebase; the loaded
    # Worker is handed on here so the script is not evaluated twice.
    preloaded: Any = None
    # Which command-line options were given explicitly (they win over the config file).
    given: set[str] = field(default_factory=set)


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT = {None: 1.0, "ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_seconds(value: Any, what: str) -> float:
    """A config-file duration: a number of seconds or '30s', '2m', '500ms'. (Unlike Pipy's
    script durations, 'ms' means milliseconds here: this is pipyd's own file.)"""
    if type(value) in (int, float) and value >= 0:
        return float(value)
    m = _DURATION.match(str(value))
    if not m:
        raise ConfigError(f"{what}: invalid duration: {value!r}")
    return float(m.group(1)) * _UNIT[m.group(2)]


def parse_threads(value: Any, what: str = "--threads") -> int:
    try:
        n = int(str(value), 10)
    except ValueError:
        raise ConfigError(f"{what}: expected a number of workers, got {value!r}") from None
    if n < 1 or n > 1024:
        raise ConfigError(f"{what}: must be between 1 and 1024")
    return n


def check_log_level(value: Any) -> str:
    if value not in LOG_LEVELS:
        raise ConfigError(f"invalid log level: {value} (expected {'|'.join(LOG_LEVELS)})")
    return value


def load_config(path: str, options: Options) -> Options:
    """Reads the YAML file at ``path`` into ``options`` (keeping explicit CLI options)."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
    except OSError as e:
        raise ConfigError(f"cannot read config file {path}: {e.strerror}") from None
    except yaml.YAMLError as e:
        raise ConfigError(f"invalid YAML in {path}: {e}") from None
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: expected a mapping of settings")
    base = os.path.dirname(os.path.abspath(path))
    options.config_path = os.path.abspath(path)
    _apply(doc, base, options, path)
    if not options.entry:
        raise ConfigError(f"{path}: 'module' (the entry module) is required")
    return options


def _apply(doc: dict, base: str, o: Options, path: str) -> None:
    unknown = set(doc) - _KEYS
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s): {', '.join(sorted(map(str, unknown)))}")

    def keep(name: str) -> bool:  # the command line said it already
        return name in o.given

    if "module" in doc:
        o.entry = _path(base, doc["module"], "module")
    if "data_dir" in doc and doc["data_dir"] is not None:
        o.data_dir = _path(base, doc["data_dir"], "data_dir")
    if "log_level" in doc and not keep("log_level"):
        o.log_level = check_log_level(doc["log_level"])
    for key in ("threads", "workers"):
        if key in doc and not keep("threads"):
            o.threads = parse_threads(doc[key], key)
    if "reuse_port" in doc and not keep("reuse_port"):
        o.reuse_port = _bool(doc["reuse_port"], "reuse_port")
    if "graph" in doc and not keep("no_graph"):
        o.no_graph = not _bool(doc["graph"], "graph")
    if "shutdown_timeout" in doc and not keep("shutdown_timeout"):
        o.shutdown_timeout = parse_seconds(doc["shutdown_timeout"], "shutdown_timeout")
    if doc.get("ports") is not None:
        o.ports = _ports(doc["ports"])
    if doc.get("env") is not None:
        if not isinstance(doc["env"], dict):
            raise ConfigError("env: expected a mapping of NAME: value")
        o.env = {str(k): "" if v is None else str(v) for k, v in doc["env"].items()}


_KEYS = frozenset({
    "module", "data_dir", "log_level", "threads", "workers", "reuse_port", "graph",
    "shutdown_timeout", "ports", "env",
})


def _path(base: str, value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{what}: expected a path")
    return os.path.normpath(os.path.join(base, os.path.expanduser(value)))


def _bool(value: Any, what: str) -> bool:
    if type(value) is not bool:
        raise ConfigError(f"{what}: expected true or false")
    return value


def _ports(value: Any) -> dict[str, Any]:
    """Named ports: a number, or 'ip:port' as listen() takes it."""
    if not isinstance(value, dict):
        raise ConfigError("ports: expected a mapping of name: port")
    out: dict[str, Any] = {}
    for name, port in value.items():
        if type(port) is int and 0 <= port <= 65535:
            out[str(name)] = port
        elif isinstance(port, str) and re.match(r"^(\[[0-9a-fA-F:.]+\]|[^:]+):\d{1,5}$", port):
            out[str(name)] = port
        else:
            raise ConfigError(f"ports.{name}: expected a port number or 'ip:port'")
    return out


def export_environment(o: Options, environ: dict | None = None) -> None:
    """Makes the config visible to scripts through `os.env` (Pipy scripts have no other
    channel to the daemon's settings): PIPYD_DATA_DIR, PIPYD_PORT_<NAME>, and ``env``."""
    env = os.environ if environ is None else environ
    for k, v in o.env.items():
        env[k] = v
    if o.data_dir:
        env["PIPYD_DATA_DIR"] = o.data_dir
    for name, port in o.ports.items():
        env["PIPYD_PORT_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()] = str(port)
