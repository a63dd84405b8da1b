"""Public entry points of the PipyJS engine: compile a module once, run it, evaluate a snippet.

A compiled module runs in its own globals dict: the JS builtins (builtins/globals.py), the
runtime helpers the compiler refers to under escaped names (``ǂget``… — unreachable from
scripts, see compiler_names.py), the caller's extra globals (``pipy``…), and ``__builtins__`` set
to the module's ``scope.ModuleScope`` for context variables.
"""
from __future__ import annotations

import operator
from typing import Any

from pipyd.js import runtime
from pipyd.js.compiler import RESULT, compile_program_ex
from pipyd.js.compiler_names import E
from pipyd.js.errors import JSSyntaxError
from pipyd.js.scope import ACTIVE, ModuleScope
from pipyd.js.values import JSArray, JSObject, JSThrow, undefined

_HELPER_NAMES = (
    "get", "getp", "set", "delete", "has", "instanceof", "call", "call_this", "call_method",
    "construct", "add", "sub", "mul", "div", "mod", "pow", "neg", "pos", "bitand", "bitor",
    "bitxor", "bitnot", "shl", "shr", "ushr", "lt", "le", "gt", "ge", "eq", "ne", "seq", "sne",
    "truthy", "typeof", "inc", "dec", "iterate", "forin_keys", "spread_into", "catch_value",
    "typeof_free", "const_assign", "template", "tagged_strings", "to_object_key",
    "require_object", "object_rest", "to_list", "at", "slice_rest", "arg", "rest_args",
    "update_member", "regexp", "name_function",
)


def _helpers() -> dict[str, Any]:
    h = {E + name: getattr(runtime, name) for name in _HELPER_NAMES}
    h.update({E + "u": undefined, E + "JSObject": JSObject, E + "JSArray": JSArray,
              E + "JSThrow": JSThrow, E + "type": type, E + "Exception": Exception, E + "mkfn": runtime.make_function,
              E + "A": ACTIVE, E + "setitem": operator.setitem})
    h.update(runtime.COMPILED_HELPERS)  # member tables and fast-path helpers (runtime_members.py)
    return h


HELPERS = _helpers()


def builtin_globals() -> dict[str, Any]:
    from pipyd.js.builtins.globals import GLOBALS
    return dict(GLOBALS)


class CompiledModule:
    """A module compiled once: ``run`` executes its top level in a fresh globals dict.

    ``guessed`` are the free names compiled as context-variable reads first (compiler.py,
    ``is_context_guess``). That order is right only while the name is no module global: when the
    globals given at run time hold one of them, the module is compiled again without those
    guesses (once per such set of names; ``source`` is kept for it)."""

    __slots__ = ("code", "filename", "top_level_names", "guessed", "program", "variants")

    def __init__(self, code: Any, filename: str, top_level_names: list[str],
                 guessed: frozenset[str] = frozenset(), program: Any = None) -> None:
        self.code = code
        self.filename = filename
        self.top_level_names = top_level_names
        self.guessed = guessed
        self.program = program
        self.variants: dict[frozenset[str], Any] = {}

    def new_globals(self, scope: ModuleScope | None = None,
                    extra_globals: dict[str, Any] | None = None) -> dict[str, Any]:
        g = builtin_globals()
        if extra_globals:
            g.update(extra_globals)
        g.update(HELPERS)
        g[E + "G"] = g
        g["__builtins__"] = scope if scope is not None else ModuleScope(0, self.filename)
        if self.guessed and not self.guessed.isdisjoint(g):
            g[E + "code"] = self._variant(frozenset(self.guessed.intersection(g)))
        return g

    def _variant(self, clash: frozenset[str]) -> Any:
        code = self.variants.get(clash)
        if code is None:
            code = self.variants[clash] = compile_program_ex(self.program, self.filename, clash)[0]
        return code

    def run(self, scope: ModuleScope | None = None, extra_globals: dict[str, Any] | None = None,
            module_globals: dict[str, Any] | None = None) -> Any:
        """Execute the module; returns the value of its last expression statement."""
        g = module_globals if module_globals is not None else self.new_globals(scope, extra_globals)
        exec(g.get(E + "code", self.code), g)
        return g.get(RESULT, undefined)


def compile_module(source: str, filename: str = "<eval>") -> CompiledModule:
    """Parse and compile a JS module (JSSyntaxError on bad syntax)."""
    from pipyd.js.backtrace import remember_source
    from pipyd.js.parser import parse
    program = parse(source, filename)
    try:
        code, names, guessed = compile_program_ex(program, filename)
    except JSSyntaxError as e:
        if not e.source_line:  # the compiler knows nodes, not text: give the caret its line
            lines = source.splitlines()
            e.source_line = lines[e.line - 1] if 0 < e.line <= len(lines) else ""
        raise
    remember_source(filename, source)
    return CompiledModule(code, filename, names, guessed, program if guessed else None)


def evaluate(source: str, filename: str = "<eval>", globals: dict[str, Any] | None = None) -> Any:
    """Run a snippet and return its value; a script error is raised as JSThrow (a Python
    exception escaping a builtin is converted to the matching JS error first)."""
    from pipyd.js.backtrace import to_js_error
    module = compile_module(source, filename)
    try:
        return module.run(extra_globals=globals)
    except Exception as exc:  # noqa: BLE001 - every Python error becomes a JS error here
        err = to_js_error(exc)
        if err is exc:
            raise
        raise err from None
