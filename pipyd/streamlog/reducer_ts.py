"""TypeScript reducers (streamlog.md §7): ``PUT`` with ``Content-Type: application/typescript``.

The source is type-checked and transpiled once, at PUT, by the TypeScript compiler dukpy ships
(5.7), in a sandbox worker of its own (sandbox.py ``ReducerSandbox.transpile``: the compiler is
JavaScript and never runs in the daemon's interpreter); the JavaScript is what gets stored and
run, so restarts and catch-up treat it like any reducer.

The check is a real program (``ts.createProgram`` over an in-memory host, reducer_lib.py's
``CHECKER``) of three files: our own declarations file ``LIB`` with ``noLib`` (dukpy ships no
``lib.d.ts``), the stream's event types (§9) as interfaces — so a reducer can write
``(s: number = 0, e: ReducerEvent<Greeting>) => …`` and have ``e.data`` typed — and the
reducer. Syntax errors, then type errors, of the reducer answer 400 with
``{errors: [{line, column, message, code}]}``: positions in the body sent (columns count UTF-16
code units, as TypeScript's do). Errors in the declarations are not the tenant's and are not
reported (two imported streams may declare the same name). Options are TypeScript's defaults
(not ``strict``): an unannotated parameter is ``any``, as is ``e.data`` of ``ReducerEvent``.

A reducer is an expression, often an object literal (``{reduce, selector}``), which a program
would read as a block; the source is first tried as ``(\\n source \\n)`` and, when that does not
parse, as a program (statements, then the reducer as the last expression), like JavaScript
sources in the sandbox. ``current.#name`` is not TypeScript either: each ``#name`` becomes a
plain property for the compiler (``__pipyd_ref_<hex of name>``) and ``.#name`` again in its output
(reducer_deps.py finds it there); positions after it on its line are mapped back, and the
property's name in messages too.
"""
from __future__ import annotations

import bisect
import hashlib
import re
from typing import Any

from . import reducer_deps
from .reducer_lib import CHECKER
from .store import BadRequest

__all__ = ["transpile", "declarations"]

_REF_PREFIX = "__pipyd_ref_"
_REF_OUT = re.compile(r"\." + _REF_PREFIX + r"([0-9a-f]+)\b")
_REF_MESSAGE = re.compile(_REF_PREFIX + r"([0-9a-f]+)\b")
# TypeScript's line terminators (computeLineStarts; ECMA-262 §12.3): CR LF, CR, LF, LS, PS.
_LINE_BREAK = re.compile("\r\n|[\r\n\u2028\u2029]")

# The checker goes to the compiler's worker once per worker process (the sandbox keeps track,
# by this hash, as it does for reducer sources).
_SETUP = {hashlib.sha1(CHECKER.encode()).hexdigest(): CHECKER}


async def transpile(sandbox: Any, store: Any, key: str, source: str) -> str:
    """JavaScript for TypeScript ``source`` of a reducer on stream ``key``; BadRequest (400) with
    ``{errors: [{line, column, message, code}]}`` when it does not compile or type-check."""
    body, shifts = _hide_refs(source)
    doc = await sandbox.transpile({"decls": await declarations(store, key), "src": body},
                                  _SETUP)
    if "fatal" in doc:
        raise BadRequest(f"TypeScript compiler failed: {doc['fatal']}", {"error": doc["fatal"]})
    if doc["errors"]:
        errors = [_tenant_position(e, shifts) for e in doc["errors"]]
        first = errors[0]
        raise BadRequest(f"reducer does not compile: {first['line']}:{first['column']}: "
                         f"{first['message']}", {"errors": errors})
    return _REF_OUT.sub(lambda m: ".#" + bytes.fromhex(m.group(1)).decode(), doc["js"])


async def declarations(store: Any, key: str) -> str:
    """The stream's event types as TypeScript declarations: those of ``key`` (a substream's are
    its factory's) and of the streams it imports (``ReducerEvent`` and the globals are in LIB)."""
    from .factories import configs_for
    from .types import typescript
    configs = configs_for(store)
    out, seen, todo = [], set(), [key.split("(", 1)[0]]
    while todo:
        base = todo.pop(0)
        if base in seen:
            continue
        seen.add(base)
        settings = await configs.get(base)
        for name, schema in settings.types.items():
            # `export` would make the file a module (and its names not global)
            out.append(re.sub(r"^export ", "", typescript(name, schema), flags=re.M))
        todo.extend(settings.import_types)
    return "".join(out)


# A shift: (line, column of '#' in the source, its UTF-16 length there, length for the compiler).
Shift = tuple[int, int, int, int]


def _hide_refs(source: str) -> tuple[str, list[Shift]]:
    """``.#name`` → ``.__pipyd_ref_<hex of name>`` (restored in the output), and where the text
    grew. Only ``#name`` is replaced (a ``.`` and line break before it stay), so lines keep
    their numbers and only columns after a reference move."""
    refs: list[tuple[int, int, str]] = []
    declared: set[str] = set()
    reducer_deps._lex(source, refs, declared)
    out: list[str] = []
    shifts: list[Shift] = []
    last = 0
    starts: list[int] | None = None
    for start, end, name in refs:
        if name in declared:
            continue
        if starts is None:
            starts = [0] + [m.end() for m in _LINE_BREAK.finditer(source)]
        at = source.index("#", start, end)
        new = _REF_PREFIX + name.encode().hex()
        line = bisect.bisect_right(starts, at)
        shifts.append((line, _u16(source[starts[line - 1]:at]) + 1, _u16(source[at:end]),
                       len(new)))
        out.append(source[last:at])
        out.append(new)
        last = end
    out.append(source[last:])
    return "".join(out), shifts


def _tenant_position(error: dict, shifts: list[Shift]) -> dict:
    """A compiler diagnostic with its column on the tenant's line and ``#name`` in its text."""
    line, column, acc = error["line"], error["column"], 0
    for s_line, s_col, old, new in shifts:
        if s_line != line:
            continue
        here = s_col + acc              # where this reference starts in the compiler's text
        if column < here:
            break
        if column < here + new:         # inside the replaced name: its start
            column, acc = s_col, 0
            break
        acc += new - old
    message = _REF_MESSAGE.sub(lambda m: "#" + bytes.fromhex(m.group(1)).decode(),
                               error["message"])
    return {**error, "column": column - acc, "message": message}


def _u16(text: str) -> int:
    """Length in UTF-16 code units (TypeScript's columns)."""
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2
