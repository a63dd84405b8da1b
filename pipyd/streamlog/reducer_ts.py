"""TypeScript reducers (streamlog.md §7): ``PUT`` with ``Content-Type: application/typescript``.

The source is transpiled once, at PUT, by the TypeScript compiler dukpy ships, in a sandbox
worker of its own (sandbox.py ``ReducerSandbox.transpile``: the compiler is JavaScript and never
runs in the daemon's interpreter); the JavaScript is what gets stored and run, so restarts and
catch-up treat it like any reducer. The stream's event types (§9) are declared in front of the
source as interfaces (``types.typescript``), with ``ReducerEvent<T>`` for the event, so a
reducer can write ``(s: number = 0, e: ReducerEvent<Greeting>) => …``.

What is checked: syntax (TypeScript's ``transpileModule`` diagnostics), answered with 400 and
``[{line, column, message, code}]`` positions in the PUT body. dukpy ships no ``lib.d.ts``, so
there is no type check: a type error transpiles.

A reducer is an expression, often an object literal (``{reduce, selector}``), which a program
would read as a block; the source is first tried as ``(\\n source \\n)`` and, when that does not
parse, as a program (statements, then the reducer as the last expression), like JavaScript
sources in the sandbox. ``current.#name`` is not TypeScript either: each reference becomes a
plain property for the compiler and ``.#name`` again in its output (reducer_deps.py finds it
there).
"""
from __future__ import annotations

import re
from typing import Any

from . import reducer_deps
from .store import BadRequest

__all__ = ["transpile", "declarations"]

_REF_PREFIX = "__pipyd_ref_"
_REF_OUT = re.compile(r"\." + _REF_PREFIX + r"([0-9a-f]+)\b")

EVENT_DECLARATIONS = """\
interface ReducerEvent<T = any> {
  index: number; timestamp: number; eventType: string; contentType: string;
  data: T; encoding?: "base64";
}
declare function dispatch(path: string, value: unknown, options?: {eventType?: string}): void;
declare function request(url: string, options?: {method?: string; headers?: {[k: string]: string};
  body?: unknown}): void;
"""


async def transpile(sandbox: Any, store: Any, key: str, source: str) -> str:
    """JavaScript for TypeScript ``source`` of a reducer on stream ``key``; BadRequest (400) with
    ``{errors: [{line, column, message, code}]}`` when it does not compile."""
    prefix = await declarations(store, key)
    lines = prefix.count("\n")
    body = _hide_refs(source)
    doc = await sandbox.transpile(prefix + "(\n" + body + "\n)")
    if "fatal" in doc:
        raise BadRequest(f"TypeScript compiler failed: {doc['fatal']}", {"error": doc["fatal"]})
    if doc["errors"]:
        doc = await sandbox.transpile(prefix + body)
        if "fatal" in doc:
            raise BadRequest(f"TypeScript compiler failed: {doc['fatal']}",
                             {"error": doc["fatal"]})
        errors = [{**e, "line": e["line"] - lines} for e in doc["errors"]]
        if errors:
            first = errors[0]
            raise BadRequest(f"reducer does not compile: {first['line']}:{first['column']}: "
                             f"{first['message']}", {"errors": errors})
    return _REF_OUT.sub(lambda m: ".#" + bytes.fromhex(m.group(1)).decode(), doc["js"])


async def declarations(store: Any, key: str) -> str:
    """The TypeScript declarations in scope for a reducer of ``key``: ``ReducerEvent`` and the
    event types of its stream (a substream's are its factory's) and of the streams it imports."""
    from .factories import configs_for
    from .types import typescript
    configs = configs_for(store)
    out, seen, todo = [EVENT_DECLARATIONS], set(), [key.split("(", 1)[0]]
    while todo:
        base = todo.pop(0)
        if base in seen:
            continue
        seen.add(base)
        settings = await configs.get(base)
        for name, schema in settings.types.items():
            # `export` would make the file a module (and the output an ES module)
            out.append(re.sub(r"^export ", "", typescript(name, schema), flags=re.M))
        todo.extend(settings.import_types)
    return "".join(out)


def _hide_refs(source: str) -> str:
    """``.#name`` → ``.__pipyd_ref_<hex of name>`` (restored in the output)."""
    refs: list[tuple[int, int, str]] = []
    declared: set[str] = set()
    reducer_deps._lex(source, refs, declared)
    out, last = [], 0
    for start, end, name in refs:
        if name in declared:
            continue
        out.append(source[last:start])
        out.append("." + _REF_PREFIX + name.encode().hex())
        last = end
    out.append(source[last:])
    return "".join(out)
