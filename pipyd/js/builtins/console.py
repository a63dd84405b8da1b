"""console.log/info/warn/error/debug and the value formatting they use.

Pipy sends console output through its logger to stderr as ``YYYY-MM-DD HH:MM:SS.mmm [INF] a b c``
(reference §0.8): arguments joined by a space, strings as they are, other values in the compact
form Node's util.inspect prints (``{ a: 1, b: 'x' }``, ``[ 1, 2 ]``, ``Map(1) { 'k' => 1 }``).
The daemon routes the lines into its own log with ``set_console_sink(fn(level, text))``; level is
one of ``DBG INF WRN ERR``.
"""
from __future__ import annotations

import re
import sys
from datetime import datetime
from typing import Any, Callable

from pipyd.js import runtime
from pipyd.js.coerce import to_string
from pipyd.js.values import HostObject, JSErrorObject, JSFunction, JSObject, undefined

Sink = Callable[[str, str], None]
_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*\Z")
_MAX_DEPTH = 2  # as util.inspect: deeper objects show as [Object] / [Array]


def _stderr_sink(level: str, text: str) -> None:
    stamp = datetime.now().strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    sys.stderr.write(f"{stamp} [{level}] {text}\n")
    sys.stderr.flush()


_sink: list[Sink] = [_stderr_sink]


def set_console_sink(fn: Sink | None) -> None:
    """Route console lines to ``fn(level, text)``; ``None`` restores the stderr default."""
    _sink[0] = fn if fn is not None else _stderr_sink


def _quote(s: str) -> str:
    q = "'" if "'" not in s else ('"' if '"' not in s else "`")
    s = s.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return q + (s.replace(q, "\\" + q) if q == "'" else s) + q


def _key(k: str) -> str:
    return k if _IDENT.match(k) else _quote(k)


def _number(v: Any) -> str:
    if type(v) is float and v == 0 and str(v).startswith("-"):
        return "-0"
    return to_string(v)


def inspect(v: Any, depth: int = 0, seen: tuple[int, ...] = ()) -> str:
    """A value as console.log shows it inside a container (strings quoted)."""
    t = type(v)
    if t is str:
        return _quote(v)
    if t is int or t is float:
        return _number(v)
    if t is bool or v is undefined or v is None:
        return to_string(v) if t is bool else ("undefined" if v is undefined else "null")
    if id(v) in seen:
        return "[Circular]"
    from pipyd.js.builtins.date import JSDate, date_to_iso_string
    from pipyd.js.builtins.mapset import JSMap, JSSet
    from pipyd.js.builtins.regexp import JSRegExp, regexp_to_string
    if t is JSRegExp:
        return regexp_to_string(v)
    if t is JSDate:
        return date_to_iso_string(v) if v.tv == v.tv else "Invalid Date"
    if isinstance(v, JSErrorObject):
        return v.stack if type(v.stack) is str else str(v)
    if isinstance(v, HostObject):
        return _host(v)
    if isinstance(v, list):
        return _container(v, depth, seen, "[", "]", "[Array]", lambda: [inspect(x, depth + 1, seen + (id(v),)) for x in v])
    if t is JSMap:
        items = lambda: [f"{inspect(k, depth + 1, seen + (id(v),))} => {inspect(x, depth + 1, seen + (id(v),))}"
                         for k, x in v.entries.values()]
        return _container(v, depth, seen, f"Map({len(v.entries)}) {{", "}", "[Map]", items)
    if t is JSSet:
        return _container(v, depth, seen, f"Set({len(v.entries)}) {{", "}", "[Set]",
                          lambda: [inspect(x, depth + 1, seen + (id(v),)) for x in v.entries.values()])
    if isinstance(v, dict):
        return _container(v, depth, seen, "{", "}", "[Object]", lambda: [
            f"{_key(k)}: {inspect(v[k], depth + 1, seen + (id(v),))}" for k in runtime.own_keys(v)])
    if callable(v):
        name = runtime.fn_name(v) if t is JSFunction or not hasattr(v, "construct") else v.name
        return f"[Function: {name}]" if name else "[Function (anonymous)]"
    return to_string(v)


def _container(v: Any, depth: int, seen: tuple[int, ...], open_: str, close: str, deep: str,
               items: Callable[[], list[str]]) -> str:
    if depth > _MAX_DEPTH:
        return deep
    parts = items()
    if not parts:
        return open_ + close
    return f"{open_} {', '.join(parts)} {close}"


def _host(v: HostObject) -> str:
    if "toString" in type(v).js_get:
        try:
            return to_string(v)
        except Exception:  # a host toString that cannot run here still prints something
            pass
    return f"[object {type(v).js_class_name or 'Object'}]"


def format_args(args: tuple[Any, ...]) -> str:
    """The line console.log prints: top-level strings raw, the rest inspected, space-joined."""
    return " ".join(a if type(a) is str else inspect(a) for a in args)


def _method(level: str) -> Callable[..., Any]:
    def log(*args: Any) -> Any:
        _sink[0](level, format_args(args))
        return undefined
    log.__name__ = {"INF": "log", "WRN": "warn", "ERR": "error", "DBG": "debug"}[level]
    return log


CONSOLE = JSObject(log=_method("INF"), info=_method("INF"), warn=_method("WRN"), error=_method("ERR"),
                   debug=_method("DBG"))

EXPORTS: dict[str, object] = {"console": CONSOLE}
