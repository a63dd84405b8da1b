"""JS backtraces from Python tracebacks, and Python exceptions as JS errors.

Compiled code objects carry the JS filename and JS line/column positions (compiler.locate), and
generated functions are renamed to their JS names, so the frames of a traceback whose code came
from the compiler *are* the JS backtrace. Frames of the runtime and builtins are skipped.
"""
from __future__ import annotations

import re
from types import TracebackType
from typing import Any

from pipyd.js.scope import ESCAPE, unmangle
from pipyd.js.values import JSErrorObject, JSThrow, js_error

_PY_TYPE_TO_JS = {"JSObject": "object", "JSArray": "object", "JSUndefined": "undefined",
                  "NoneType": "null", "int": "number", "float": "number", "str": "string",
                  "bool": "boolean"}
_NOT_CALLABLE = re.compile(r"'(\w+)' object is not callable")
_UNBOUND = re.compile(r"cannot access (?:local|free) variable '([^']+)'")
_UNDEFINED = re.compile(r"name '([^']+)' is not defined")


def _is_compiled(code: Any) -> bool:
    from pipyd.js import runtime
    return code in runtime.FN_INFO or code.co_name == "<module>" and not code.co_filename.endswith(".py")


def js_frames(tb: TracebackType | None) -> list[tuple[str, str, int, int]]:
    """(function, file, line, col 1-based) of each compiled-code frame, innermost first."""
    frames = []
    while tb is not None:
        code = tb.tb_frame.f_code
        if _is_compiled(code):
            line, col = tb.tb_lineno, 0
            positions = list(code.co_positions())
            i = tb.tb_lasti // 2
            if 0 <= i < len(positions):
                p = positions[i]
                if p[0] is not None:
                    line = p[0]
                if p[2] is not None:
                    col = p[2]
            name = "" if code.co_name == "<module>" else code.co_name
            if name.startswith(ESCAPE):  # a loop-iteration function: part of its parent
                tb = tb.tb_next
                continue
            frames.append((name, code.co_filename, line, col + 1))
        tb = tb.tb_next
    frames.reverse()
    return frames


def js_backtrace(exc: BaseException) -> list[str]:
    """``at fn (file:line:col)`` lines for the compiled frames of ``exc``, innermost first."""
    out = []
    for name, filename, line, col in js_frames(exc.__traceback__):
        where = f"{filename}:{line}:{col}"
        out.append(f"at {name} ({where})" if name and name != "(anonymous)" else f"at {where}")
    return out


def _js_name(pyname: str) -> str:
    if ESCAPE in pyname:
        base = pyname
        i = pyname.rfind(ESCAPE)
        if pyname[i + 1:].isdigit():
            base = pyname[:i]
        return unmangle(base)
    return pyname


def to_js_error(exc: BaseException) -> JSThrow:
    """The JS error a Python exception stands for; never a Python traceback in its message.
    A call of something that is no function says which (``f``, ``o.x``) as V8 does."""
    from pipyd.js import runtime
    named = runtime.call_site_error(exc)
    if named is not None:
        if named is not exc:
            _fill_stack(named.value, exc)
        return named
    if isinstance(exc, JSThrow):
        return exc
    msg = str(exc)
    if isinstance(exc, NameError):
        m = _UNBOUND.search(msg)
        if m:
            err = js_error("ReferenceError", f"Cannot access '{_js_name(m.group(1))}' before initialization")
        else:
            m = _UNDEFINED.search(msg)
            name = _js_name(m.group(1)) if m else (getattr(exc, "name", None) or "variable")
            err = js_error("ReferenceError", f"{name} is not defined")
    elif isinstance(exc, RecursionError):
        err = js_error("RangeError", "Maximum call stack size exceeded")
    elif isinstance(exc, TypeError):
        m = _NOT_CALLABLE.search(msg)
        if m:
            err = js_error("TypeError", f"{_PY_TYPE_TO_JS.get(m.group(1), 'value')} is not a function")
        else:
            err = js_error("TypeError", _clean(msg))
    elif isinstance(exc, (OverflowError, MemoryError)):
        err = js_error("RangeError", _clean(msg) or "Out of range")
    else:
        err = js_error("Error", _clean(msg) or type(exc).__name__)
    err.__traceback__ = exc.__traceback__
    _fill_stack(err.value, exc)
    return err


def _clean(msg: str) -> str:
    return msg.replace(ESCAPE, "")


def _fill_stack(err: Any, exc: BaseException) -> None:
    if type(err) is JSErrorObject or isinstance(err, JSErrorObject):
        lines = js_backtrace(exc)
        if lines:
            err.stack = str(err) + "".join("\n    " + line for line in lines)


# Source lines of compiled modules by file name, for the excerpt under a run-time error
# (the last compile of a name wins, so a reloaded module shows its new text).
_SOURCES: dict[str, list[str]] = {}


def remember_source(filename: str, source: str) -> None:
    _SOURCES[filename] = source.splitlines()


def source_excerpt(filename: str, line: int, col: int) -> list[str]:
    """The source line and a caret under column ``col`` (1-based), or nothing."""
    lines = _SOURCES.get(filename)
    if not lines or not 0 < line <= len(lines):
        return []
    text = lines[line - 1]
    return [text, " " * max(col - 1, 0) + "^"]


def format_js_error(exc: BaseException) -> str:
    """``Error: msg``, the innermost JS line with a caret, and the JS backtrace, for logs."""
    err = to_js_error(exc)
    v = err.value
    head = str(v) if isinstance(v, JSErrorObject) else f"Uncaught {_describe(v)}"
    frames = js_frames(exc.__traceback__)
    excerpt = source_excerpt(*frames[0][1:]) if frames else []
    lines = js_backtrace(exc)
    return "\n".join([head, *excerpt]) + "".join("\n    " + line for line in lines)


def _describe(v: Any) -> str:
    from pipyd.js.coerce import to_string
    try:
        return to_string(v)
    except Exception:  # noqa: BLE001 - a value whose toString throws still gets logged
        return "[object]"
