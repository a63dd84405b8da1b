"""Free-name resolution for compiled modules: context variables and imports.

A compiled module's globals dict holds the JS builtins and the module's top-level bindings; its
``__builtins__`` is the module's ``ModuleScope``, so CPython falls back to ``ModuleScope.__getitem__``
for any other free name (LOAD_GLOBAL accepts a mapping there). That lookup reads the context of the
running pipeline, ``ACTIVE.current``, which the caller of a script callback sets with a single
attribute store. Resolution order (docs/internals/engine.md, Scope): a context variable of this
module, an imported variable, then ``__inbound`` / ``__filename``; otherwise KeyError, which CPython
turns into NameError and backtrace.to_js_error into ``ReferenceError: x is not defined``.
"""
from __future__ import annotations

from typing import Any, Iterator, Mapping

from pipyd.js.values import reference_error, undefined

# The compiler escapes JS names that Python would treat specially (see compiler_names.py): this
# is the escape character; a Python name starting with it is never a JS context variable.
ESCAPE = "\u01c2"


class Active:
    """Holder of the running pipeline's context (an object with ``data`` and ``inbound``)."""

    __slots__ = ("current",)

    def __init__(self) -> None:
        self.current: Any = None


ACTIVE = Active()


def unmangle(name: str) -> str:
    """The JS name behind a compiled Python name (inverse of compiler_names.mangle)."""
    if ESCAPE not in name:
        return name
    out = []
    i = 0
    if name.startswith(ESCAPE + "K"):
        name = name[2:]
    while i < len(name):
        c = name[i]
        if c == ESCAPE and i + 1 < len(name):
            nxt = name[i + 1]
            out.append("$" if nxt == "S" else ESCAPE)
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


class ModuleScope(Mapping[str, Any]):
    """The ``__builtins__`` of one compiled module: context variables, imports, ``__inbound``."""

    def __init__(self, index: int = 0, filename: str = "<eval>",
                 imports: dict[str, tuple[int, str]] | None = None) -> None:
        self.index = index
        self.filename = filename
        self.imports: dict[str, tuple[int, str]] = imports if imports is not None else {}
        # True once the loader knows ``__inbound`` can only be the context's inbound: the
        # module declares no context variable and imports no variable of that name (set by
        # Worker._bind); compiled reads then skip those two lookups
        self.plain_inbound = False

    def __getitem__(self, name: str) -> Any:
        ctx = ACTIVE.current
        if ctx is not None:
            data = ctx.data
            if self.index < len(data):
                own = data[self.index]
                if name in own:
                    return own[name]
            imp = self.imports.get(name)
            if imp is not None and imp[0] < len(data):
                d = data[imp[0]]
                if imp[1] in d:
                    return d[imp[1]]
            if name == "__inbound":
                inbound = getattr(ctx, "inbound", None)
                return undefined if inbound is None else inbound
        if name == "__filename":
            return self.filename
        if ESCAPE in name:
            js = unmangle(name)
            if js != name and not js.startswith("__"):
                return self[js]
        raise KeyError(name)

    def assign(self, name: str, value: Any) -> Any:
        """``name = value`` for a free name: only a context variable (own or imported) may be set."""
        ctx = ACTIVE.current
        if ctx is not None:
            data = ctx.data
            if self.index < len(data) and name in data[self.index]:
                data[self.index][name] = value
                return value
            imp = self.imports.get(name)
            if imp is not None and imp[0] < len(data) and imp[1] in data[imp[0]]:
                data[imp[0]][imp[1]] = value
                return value
        raise reference_error(f"{name} is not defined")

    def __contains__(self, name: object) -> bool:
        try:
            self[name]  # type: ignore[index]
        except KeyError:
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        ctx = ACTIVE.current
        if ctx is None or self.index >= len(ctx.data):
            return iter(())
        return iter(list(ctx.data[self.index]))

    def __len__(self) -> int:
        ctx = ACTIVE.current
        return 0 if ctx is None or self.index >= len(ctx.data) else len(ctx.data[self.index])
