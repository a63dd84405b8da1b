"""Names and scopes for the compiler: JS identifiers as Python names, bindings, and the
syntactic analyses the compiler needs before it emits a function or a loop.

JS names become Python names unchanged when Python has no other meaning for them. The escape
character ``ǂ`` (U+01C2, an identifier letter in both languages) marks every name the compiler
makes up (helpers ``ǂget``, temporaries ``ǂt3``, renamed block bindings ``xǂ4``), so a script can
never name one: in a JS name ``ǂ`` is doubled, ``$`` becomes ``ǂS``, and Python keywords and
dunder names get a ``ǂK`` prefix (``__builtins__`` is the module's ModuleScope, never a script's).
"""
from __future__ import annotations

import ast
import keyword
from dataclasses import dataclass, field
from typing import Any

from pipyd.js import nodes as N
from pipyd.js.scope import ESCAPE

E = ESCAPE
_SPECIAL = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist)


# Expression contexts, shared by every generated node (as ast.parse shares them): 40,000 fewer
# objects to allocate, convert and free per 2,000 lines.
LOAD = ast.Load()
STORE = ast.Store()
# Exact node classes that carry positions, as a set: ``type(n) in _POSITIONED`` avoids isinstance,
# which is slow here because ast's deprecated aliases (ast.Num…) have a Python __instancecheck__.
_POSITIONED = frozenset(t for t in vars(ast).values()
                        if isinstance(t, type) and issubclass(t, ast.AST) and "lineno" in t._attributes)


def span(js: N.Node) -> tuple[int, int, int, int]:
    """The Python position (lineno, col_offset, end_lineno, end_col_offset) of a JS node."""
    line = js.line
    if line < 1:
        line = 1
    end_line = js.end_line
    if end_line < line:
        end_line = line
    col = js.col
    end_col = js.end_col
    if end_line == line and end_col < col:
        end_col = col
    return line, col, end_line, end_col


def locate(py: ast.AST, js: N.Node) -> ast.AST:
    """Give ``py`` the span of ``js`` unless it already has one (a subtree from an inner JS
    node). O(1): ``_fill_positions`` later gives every unpositioned node the span of its nearest
    positioned ancestor, which is what walking the subtree here would do, in one pass instead of
    one walk per JS node (that walk was a quarter of compile time)."""
    if getattr(py, "lineno", None) is None and type(py) in _POSITIONED:
        py.lineno, py.col_offset, py.end_lineno, py.end_col_offset = span(js)
    return py


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


# Fields that never hold a child node (names, operators, flags, literal values), and node types
# with no children: the analyses below walk the JS tree several times per function, so their
# child lists come from a per-class tuple of candidate fields instead of N.Node.children().
_SCALAR_FIELDS = frozenset(("name", "operator", "raw", "regex", "kind", "computed", "optional", "prefix",
                            "generator", "async", "sourceType", "tail", "shorthand", "method"))
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def _child_fields(cls: type) -> tuple[str, ...]:
    fields = () if cls.type in ("Literal", "TemplateElement") else tuple(
        f for f in cls.fields if f not in _SCALAR_FIELDS)
    if cls.type == "ArrowFunctionExpression":
        fields = tuple(f for f in fields if f != "expression")  # a flag here, a node elsewhere
    _CHILD_FIELDS[cls] = fields
    return fields


def child_nodes(n: N.Node) -> list[N.Node]:
    """The child nodes of ``n`` in field order (N.Node.children as a list, without a generator)."""
    cls = type(n)
    fields = _CHILD_FIELDS.get(cls)
    if fields is None:
        fields = _child_fields(cls)
    out: list[N.Node] = []
    for name in fields:
        v = getattr(n, name)
        if v is None:
            continue
        if type(v) is list:
            out += [x for x in v if x is not None]
        else:
            out.append(v)
    return out


def nodes_under(node: N.Node, into_functions: bool = True) -> list[N.Node]:
    """The nodes under ``node`` (itself excluded), depth first in source order; nested functions
    are listed but not entered unless ``into_functions``."""
    out: list[N.Node] = []
    stack = child_nodes(node)
    stack.reverse()
    pop, push = stack.pop, out.append
    while stack:
        n = pop()
        push(n)
        if into_functions or n.type not in _FUNCS:
            kids = child_nodes(n)
            if kids:
                kids.reverse()
                stack += kids
    return out


def walk_no_functions(node: N.Node) -> list[N.Node]:
    """Nodes under ``node`` without descending into nested functions (which are listed)."""
    return nodes_under(node, False)


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
        if stmt.type == "FunctionDeclaration":
            continue  # its body's vars are its own (nested functions are not entered either)
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
    stack = child_nodes(fn)
    while stack:
        n = stack.pop()
        t = n.type
        if t == "Identifier":
            if n.name == "arguments":
                return True
            continue
        if t in ("FunctionExpression", "FunctionDeclaration"):
            continue
        stack += child_nodes(n)
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
        for n in nodes_under(f):
            if n.type == "Identifier" and n.name in lexical:
                return True
    return False
