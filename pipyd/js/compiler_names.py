"""Names and scopes for the compiler: JS identifiers as Python names, bindings, and the
syntactic analyses the compiler needs before it emits a function or a loop.

JS names become Python names unchanged when Python has no other meaning for them. The escape
character ``ǂ`` (U+01C2, an identifier letter in both languages) marks every name the compiler
makes up (helpers ``ǂget``, temporaries ``ǂt3``, renamed block bindings ``xǂ4``), so a script can
never name one: in a JS name ``ǂ`` is doubled, ``$`` becomes ``ǂS``, and Python keywords and
dunder names get a ``ǂK`` prefix (``__builtins__`` is the module's ModuleScope, never a script's).
"""
from __future__ import annotations

import keyword
from dataclasses import dataclass, field
from typing import Any, Iterator

from pipyd.js import nodes as N
from pipyd.js.scope import ESCAPE

E = ESCAPE
_SPECIAL = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist)


def mangle(name: str) -> str:
    """The Python name of a JS identifier (inverse: scope.unmangle)."""
    if name.isascii() and name.isidentifier() and name not in _SPECIAL and not (
            name.startswith("__") and name.endswith("__")):
        return name
    out = name.replace(E, E + E).replace("$", E + "S")
    if out in _SPECIAL or (out.startswith("__") and out.endswith("__")) or not out.isidentifier():
        out = E + "K" + out
    return out


@dataclass
class Binding:
    """One JS binding: its Python name, its kind (var let const param function catch) and the
    Python function (PyFunc) whose local it is."""
    pyname: str
    kind: str
    owner: "PyFunc"


@dataclass
class PyFunc:
    """A Python function being emitted (or the module): its block scopes and declarations."""
    parent: "PyFunc | None"
    is_module: bool = False
    this_name: str | None = None  # Python name holding `this`, None for undefined
    scopes: list[dict[str, Binding]] = field(default_factory=lambda: [{}])
    nonlocals: set[str] = field(default_factory=set)
    globals: set[str] = field(default_factory=set)
    uses_jump: bool = False
    # Set for a loop iteration compiled into its own function (fresh let bindings per iteration):
    # the loop's jump entry and the Python names of the loop variables it hands back.
    iteration: Any = None
    loop_vars: list[str] = field(default_factory=list)

    def lookup(self, name: str) -> Binding | None:
        f: PyFunc | None = self
        while f is not None:
            for scope in reversed(f.scopes):
                b = scope.get(name)
                if b is not None:
                    return b
            f = f.parent
        return None


# ---------------------------------------------------------------------------- analyses

_FUNCS = ("FunctionExpression", "ArrowFunctionExpression", "FunctionDeclaration")


def walk_no_functions(node: N.Node) -> Iterator[N.Node]:
    """Nodes under ``node`` without descending into nested functions (which are yielded)."""
    stack = list(reversed(list(node.children())))
    while stack:
        n = stack.pop()
        yield n
        if n.type not in _FUNCS:
            stack.extend(reversed(list(n.children())))


def pattern_names(p: N.Node | None) -> list[str]:
    """The identifiers a binding pattern declares."""
    if p is None:
        return []
    t = p.type
    if t == "Identifier":
        return [p.name]
    if t == "AssignmentPattern":
        return pattern_names(p.left)
    if t == "RestElement":
        return pattern_names(p.argument)
    if t == "ArrayPattern":
        return [n for e in p.elements for n in pattern_names(e)]
    if t == "ObjectPattern":
        out: list[str] = []
        for prop in p.properties:
            out += pattern_names(prop.argument if prop.type == "RestElement" else prop.value)
        return out
    return []


def var_names(body: list[N.Node]) -> list[str]:
    """`var` names declared anywhere in a function body (hoisted, §14.3.2), in source order."""
    out: list[str] = []
    for stmt in body:
        for n in [stmt, *walk_no_functions(stmt)]:
            if n.type == "VariableDeclaration" and n.kind == "var":
                for d in n.declarations:
                    for name in pattern_names(d.id):
                        if name not in out:
                            out.append(name)
    return out


def lexical_decls(body: list[N.Node]) -> list[tuple[str, str]]:
    """(name, kind) of the let/const/function declarations directly in a statement list."""
    out: list[tuple[str, str]] = []
    for stmt in body:
        if stmt.type == "VariableDeclaration" and stmt.kind != "var":
            out += [(n, stmt.kind) for d in stmt.declarations for n in pattern_names(d.id)]
        elif stmt.type == "FunctionDeclaration" and stmt.id is not None:
            out.append((stmt.id.name, "function"))
    return out


def uses_arguments(fn: N.Node) -> bool:
    """Whether a non-arrow function's body refers to `arguments` (arrows see their parent's)."""
    stack = list(fn.children())
    while stack:
        n = stack.pop()
        if n.type == "Identifier" and n.name == "arguments":
            return True
        if n.type in ("FunctionExpression", "FunctionDeclaration"):
            continue
        stack.extend(n.children())
    return False


def loop_needs_fresh_bindings(loop: N.Node) -> bool:
    """Whether a loop declares let/const bindings that a closure inside it captures: then each
    iteration must run in its own Python call so that every closure sees its own binding
    (§14.7.4.4 CreatePerIterationEnvironment)."""
    lexical: set[str] = set()
    head = getattr(loop, "init", None) or getattr(loop, "left", None)
    if head is not None and head.type == "VariableDeclaration" and head.kind != "var":
        lexical.update(n for d in head.declarations for n in pattern_names(d.id))
    inner_funcs: list[N.Node] = []
    for n in walk_no_functions(loop):
        if n.type in ("BlockStatement", "SwitchCase"):
            body = n.body if n.type == "BlockStatement" else n.consequent
            lexical.update(name for name, _ in lexical_decls(body))
        elif n.type in _FUNCS:
            inner_funcs.append(n)
        elif n.type == "CatchClause" and n.param is not None:
            lexical.update(pattern_names(n.param))
    if not lexical or not inner_funcs:
        return False
    for f in inner_funcs:
        for n in N.walk(f):
            if n.type == "Identifier" and n.name in lexical:
                return True
    return False
