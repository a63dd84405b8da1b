"""Fused pure-arithmetic array chains: ``a.map(x => x * 2).filter(x => x % 3 === 0)`` as one
Python comprehension over the list (mixed into compiler.Compiler; docs/internals/engine.md
"Pure array chains").

A chain of inline ``map``/``filter`` stages (compiler_expr._inlinable_arrow) whose bodies are
*pure arithmetic on the element* (the parameter, int literals, ``+ - * %``, comparisons,
``=== !== == !=``) is proved exact at compile time by interval arithmetic: if every element is
an int in a fixed domain (``-B < x < B`` or ``0 <= x < B``, B = 2**30 - 1, one CPython digit),
every intermediate value is an int within ±2**53 (values.py: ints only there), never -0, and a
Python operator gives JS's answer. The comprehension then tests each element once
(``type(x) is int`` excludes bool) and evaluates the stages with plain operators, the element
flowing from stage to stage through a walrus, with no per-operation type test, no ``islice``
(nothing in the loop runs script code, so the list cannot change under it) and one JSArray
instead of one per stage. Map-before-filter order is unobservable for such bodies: they call
nothing and raise nothing. Any element outside the domain marks the result invalid (a map-only
chain keeps fewer elements than it read; otherwise a flag is set) and the whole chain runs again
on the general path from the same receiver, which is exact for all values: the fast attempt had
no side effects to undo.
"""
from __future__ import annotations

import ast
from typing import Any

from pipyd.js import nodes as N
from pipyd.js.compiler_expr import _SMALL, _call, _h, _inlinable_arrow
from pipyd.js.compiler_names import LOAD, STORE, locate

_MAX_SAFE = 2**53  # values.py: a number is an int only while |v| <= 2**53
_ARITH = {"+": ast.Add, "-": ast.Sub, "*": ast.Mult}
_COMPARE = {"<": ast.Lt, "<=": ast.LtE, ">": ast.Gt, ">=": ast.GtE, "===": ast.Eq, "==": ast.Eq,
            "!==": ast.NotEq, "!=": ast.NotEq}
_STAGES = ("map", "filter")
# Element domains tried, widest first: (low, high) inclusive, both one-digit ints.
_DOMAINS = ((-_SMALL + 1, _SMALL - 1), (0, _SMALL - 1))

# A value's kind: ("int", lo, hi) an int in [lo, hi]; ("negz", lo, hi) the same or -0.0 (a
# `%` of a possibly negative dividend: fit only for comparisons, tests and output); ("bool",).
Kind = tuple


class _Fail(Exception):
    """The body is not pure arithmetic provable in the domain (compile time only)."""


class _Slot:
    """A stage parameter: the Python expression for its value (a Name, or a not yet evaluated
    previous stage's body) and how to read it. A compound value is bound by a walrus at its
    first read (reads are generated in evaluation order) and read by name afterwards; read
    exactly once it is used in place."""

    __slots__ = ("value", "kind", "name", "uses", "seen")

    def __init__(self, value: ast.expr, kind: Kind, name: str, uses: int) -> None:
        self.value, self.kind, self.name, self.uses, self.seen = value, kind, name, uses, 0

    def read(self) -> ast.expr:
        self.seen += 1
        v = self.value
        if type(v) is ast.Name:
            return ast.Name(v.id, LOAD)
        if self.uses == 1:
            return v
        if self.seen == 1:
            return ast.NamedExpr(ast.Name(self.name, STORE), v)
        return ast.Name(self.name, LOAD)

    def settled(self) -> ast.expr:
        """The value after the stage: its name once bound, else still the expression."""
        return ast.Name(self.name, LOAD) if self.seen and type(self.value) is not ast.Name else self.value


def _count_reads(node: N.Node, name: str) -> int:
    t = node.type
    if t == "Identifier":
        return 1 if node.name == name else 0
    if t == "BinaryExpression":
        return _count_reads(node.left, name) + _count_reads(node.right, name)
    return 0


def _pure_shape(arrow: N.Node) -> bool:
    """A cheap syntactic pre-test: the body has only identifiers, literals and binary operators."""
    stack = [arrow.body]
    while stack:
        n = stack.pop()
        if n.type == "BinaryExpression":
            if n.operator not in _ARITH and n.operator not in _COMPARE and n.operator != "%":
                return False
            stack.append(n.left)
            stack.append(n.right)
        elif n.type == "Identifier":
            if n.name != arrow.params[0].name:
                return False
        elif not (n.type == "Literal" and type(n.value) is int and abs(n.value) <= _MAX_SAFE):
            return False
    return True


class PureChainMixin:
    """Fusion of pure map/filter chains (compiler_expr.call_with sends calls here first)."""

    _conditionals = 0  # `%` tests on a possibly negative dividend in the attempt being built

    def pure_chain(self, callee: N.Node, args: Any) -> ast.expr | None:
        """The fused form of the chain ending in ``callee(args)``, or None (not such a chain)."""
        stages: list[tuple[N.Node, str, N.Node]] = []  # (call node or None, method, arrow), outermost first
        node, call, arguments = callee, None, args
        while (node.type == "MemberExpression" and not node.computed and not node.optional
               and node.property.type == "Identifier" and node.property.name in _STAGES
               and len(arguments) == 1 and not isinstance(arguments[0], ast.AST)
               and _inlinable_arrow(arguments[0]) and _pure_shape(arguments[0])):
            stages.append((call, node.property.name, arguments[0]))
            base = node.object
            if base.type != "CallExpression" or base.optional:
                break
            node, call, arguments = base.callee, base, base.arguments
        # the longest provable run of outer stages wins; inner ones compile (and fuse) on their own
        for k in range(len(stages), 0, -1):
            run = stages[:k]
            run.reverse()
            best = None
            for domain in _DOMAINS:
                try:
                    built = self._fused_parts(run, domain)
                except _Fail:
                    continue
                if best is None or built[2] < best[2]:
                    best = built
            if best is not None:
                # the receiver of the innermost fused stage
                base = (callee if k == 1 else stages[k - 1][0].callee).object  # type: ignore[union-attr]
                return self._fused(base, run, best)
        return None

    def _fused_parts(self, run: list[tuple[Any, str, N.Node]], domain: tuple[int, int]
                     ) -> tuple[str, ast.expr, int, list[ast.expr], tuple[int, int]]:
        """(element variable, output expression, conditional count, filter tests, domain)
        for the stages ``run`` (innermost first) under the element domain; _Fail if unprovable."""
        x = self.fresh("x")
        value: ast.expr = ast.Name(x, LOAD)
        kind: Kind = ("int", domain[0], domain[1])
        tests: list[ast.expr] = []
        self._conditionals = 0
        for _call_node, method, arrow in run:
            param = arrow.params[0].name
            uses = _count_reads(arrow.body, param)
            if method == "filter" and uses and type(value) is not ast.Name:
                uses = 2  # the element is output after the test: bind it at its first read
            slot = _Slot(value, kind, self.fresh("v"), uses)
            body, body_kind = self._pure(arrow.body, param, slot)
            if method == "map":
                value, kind = body, body_kind
            else:
                tests.append(body)
                value = slot.settled()
        return x, value, self._conditionals, tests, domain

    def _pure(self, node: N.Node, param: str, slot: _Slot) -> tuple[ast.expr, Kind]:
        """Plain Python for a pure body, with its kind; _Fail when a step is not provably exact."""
        t = node.type
        if t == "Identifier":
            return slot.read(), slot.kind
        if t == "Literal":
            return ast.Constant(node.value), ("int", node.value, node.value)
        op = node.operator
        left, lk = self._pure(node.left, param, slot)
        right, rk = self._pure(node.right, param, slot)
        if op in _COMPARE:
            if lk[0] == "bool" or rk[0] == "bool":
                raise _Fail  # `(x > 1) === true`: Python's True == 1 is not JS
            return ast.Compare(left, [_COMPARE[op]()], [right]), ("bool",)
        if lk[0] != "int" or rk[0] != "int":
            raise _Fail  # arithmetic on a boolean or on a possible -0
        _, alo, ahi = lk
        _, blo, bhi = rk
        if op == "%":
            return self._pure_mod(left, lk, right, rk)
        if op == "+":
            lo, hi = alo + blo, ahi + bhi
        elif op == "-":
            lo, hi = alo - bhi, ahi - blo
        else:
            # 0 times a negative number is -0 in JS (§6.1.6.1.4): not an int
            if (alo <= 0 <= ahi and blo < 0) or (blo <= 0 <= bhi and alo < 0):
                raise _Fail
            corners = (alo * blo, alo * bhi, ahi * blo, ahi * bhi)
            lo, hi = min(corners), max(corners)
        if lo < -_MAX_SAFE or hi > _MAX_SAFE:
            raise _Fail  # could leave the int range of values.py
        return ast.BinOp(left, _ARITH[op](), right), ("int", lo, hi)

    def _pure_mod(self, left: ast.expr, lk: Kind, right: ast.expr, rk: Kind) -> tuple[ast.expr, Kind]:
        """``a % n`` for a positive int literal ``n``: Python's ``%`` when ``a >= 0`` (same sign
        rules, §6.1.6.1.6), else the runtime ``mod`` (a negative dividend keeps its sign; a zero
        result is then -0)."""
        if type(right) is not ast.Constant or rk[1] <= 0:
            raise _Fail
        n = rk[1]
        if lk[1] >= 0:
            return ast.BinOp(left, ast.Mod(), right), ("int", 0, min(lk[2], n - 1))
        self._conditionals += 1
        if type(left) is ast.Name:
            bound, name = left, left.id
        elif type(left) is ast.NamedExpr:  # a stage value bound here: its name serves
            bound, name = left, left.target.id
        else:
            name = self.fresh()
            bound = ast.NamedExpr(ast.Name(name, STORE), left)
        fast = ast.BinOp(ast.Name(name, LOAD), ast.Mod(), ast.Constant(n))
        test = ast.Compare(bound, [ast.GtE()], [ast.Constant(0)])
        return ast.IfExp(test, fast, _call("mod", ast.Name(name, LOAD), ast.Constant(n))), ("negz", -(n - 1), n - 1)

    def _fused(self, base: N.Node, run: list[tuple[Any, str, N.Node]],
               parts: tuple[str, ast.expr, int, list[ast.expr], tuple[int, int]]) -> ast.expr:
        """``JSArray(r) if type(t := a) is JSArray and AP.get(m) is Am … and <every element was
        in the domain> else <the chain on the general path from t>``."""
        x, out, _, tests, (lo, hi) = parts
        t, r = self.fresh(), self.fresh()
        guard: list[ast.expr] = [ast.Compare(ast.Call(_h("type"), [ast.NamedExpr(ast.Name(t, STORE), self.expr(base))], []),
                                             [ast.Is()], [_h("JSArray")])]
        for method in dict.fromkeys(m for _, m, _ in run):
            guard.append(ast.Compare(ast.Call(ast.Attribute(_h("AP"), "get", LOAD), [ast.Constant(method)], []),
                                     [ast.Is()], [_h("A" + method)]))
        # one digit ints on both sides: 3.11 specialises the comparisons (compiler_expr._SMALL)
        check = ast.BoolOp(ast.And(), [
            ast.Compare(ast.Call(_h("type"), [ast.Name(x, LOAD)], []), [ast.Is()], [_h("int")]),
            ast.Compare(ast.Constant(lo - 1 if lo else 0), [ast.Lt() if lo else ast.LtE(), ast.Lt()],
                        [ast.Name(x, LOAD), ast.Constant(hi + 1)])])
        if tests:
            # a filter drops elements, so an outsider is recorded in a flag (a cell of the
            # enclosing function, PEP 572) and skipped
            bad = self.fresh("bad")
            ifs = [ast.BoolOp(ast.Or(), [check, ast.UnaryOp(ast.Not(), ast.NamedExpr(ast.Name(bad, STORE), ast.Constant(1)))]),
                   *tests]
            comp = ast.ListComp(out, [ast.comprehension(ast.Name(x, STORE), ast.Name(t, LOAD), ifs, 0)])
            guard += [ast.UnaryOp(ast.Not(), ast.NamedExpr(ast.Name(bad, STORE), ast.Constant(0))),
                      ast.Compare(ast.NamedExpr(ast.Name(r, STORE), comp), [ast.IsNot()], [ast.Constant(None)]),
                      ast.UnaryOp(ast.Not(), ast.Name(bad, LOAD))]
        else:
            # maps only: an outsider is skipped, so the result is short exactly when one was seen
            comp = ast.ListComp(out, [ast.comprehension(ast.Name(x, STORE), ast.Name(t, LOAD), [check], 0)])
            guard.append(ast.Compare(ast.Call(_h("len"), [ast.NamedExpr(ast.Name(r, STORE), comp)], []),
                                     [ast.Eq()], [ast.Call(_h("len"), [ast.Name(t, LOAD)], [])]))
        slow: ast.expr = ast.Name(t, LOAD)
        for call_node, method, arrow in run:
            slow = self.inline_array_callback(slow, method, arrow)
            if call_node is not None:
                self.note_member_call(call_node)
                slow = locate(slow, call_node)
        return ast.IfExp(ast.BoolOp(ast.And(), guard), ast.Call(_h("JSArray"), [ast.Name(r, LOAD)], []), slow)
