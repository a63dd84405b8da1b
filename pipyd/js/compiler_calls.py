"""Builtin-namespace calls: ``Math.floor(x)``, ``Math.min(a, b)``… computed inline on ints, and
``Math.x(…)`` / ``JSON.x(…)`` calling the member without ``this`` (mixed into compiler.Compiler;
docs/internals/engine.md "Inline Math", "Pristine Math", "Floor of a division")."""
from __future__ import annotations

import ast
from typing import Any

from pipyd.js import nodes as N
from pipyd.js.compiler_expr import _SMALL, _call, _h
from pipyd.js.compiler_names import LOAD, STORE


class NamespaceCallMixin:
    """Math/JSON member calls (compiler_expr.call_with sends them here)."""

    def math_inline(self, obj: ast.expr, key: ast.Constant, args: list[ast.expr],
                    js_args: Any = None) -> ast.expr:
        """``Math.floor(x)``, ``Math.min(a, b)``… on ints (and floor on a safe float) computed
        inline when ``Math`` is the builtin namespace whose member is still the builtin. The
        callee is read first and the arguments next (§13.3.6.1), with ``&`` so that both run:
        ``r if ((f := Mk if type(ns := Math) is PNS else <member>) is Mk) & <ints> else f(a…)``
        (PNS, builtins/classes.PristineNamespace, is Math's class until a script writes to it;
        Math is its only instance). An int literal argument is used as itself, untested."""
        name = key.value
        ns, f = self.fresh(), self.fresh("f")
        # untouched Math (builtins/classes.PristineNamespace): its member is the builtin
        pristine = ast.Compare(ast.Call(_h("type"), [ast.NamedExpr(ast.Name(ns, STORE), obj)], []),
                               [ast.Is()], [_h("PNS")])
        callee = ast.IfExp(pristine, _h("M" + name), self.namespace_member(ast.Name(ns, LOAD), key))
        known = ast.Compare(ast.NamedExpr(ast.Name(f, STORE), callee), [ast.Is()], [_h("M" + name)])
        if name == "floor" and js_args and not isinstance(js_args[0], ast.AST):
            fused = self.floor_division(known, f, js_args[0])
            if fused is not None:
                return fused
        temps = [self.fresh() for _ in args]
        # an int literal argument is used as itself: nothing to bind or test
        literal = [type(a) is ast.Constant and type(a.value) is int for a in args]
        tv = [a if lit else ast.Name(t, LOAD) for t, a, lit in zip(temps, args, literal)]
        is_int = [ast.Compare(ast.Call(_h("type"), [ast.NamedExpr(ast.Name(t, STORE), a)], []),
                              [ast.Is()], [_h("int")]) for t, a, lit in zip(temps, args, literal) if not lit]
        if name == "floor" and not literal[0]:  # a float strictly inside ±2**53 other than ±0: math.floor's int is exact
            c = self.fresh()
            is_int[0] = ast.BoolOp(ast.Or(), [
                ast.Compare(ast.NamedExpr(ast.Name(c, STORE), ast.Call(_h("type"), [
                    ast.NamedExpr(ast.Name(temps[0], STORE), args[0])], [])), [ast.Is()], [_h("int")]),
                ast.BoolOp(ast.And(), [
                    ast.Compare(ast.Name(c, LOAD), [ast.Is()], [_h("float")]),
                    ast.Compare(ast.Constant(-2.0**53), [ast.Lt(), ast.Lt()], [tv[0], ast.Constant(2.0**53)]),
                    ast.Compare(tv[0], [ast.NotEq()], [ast.Constant(0)])])])
            fast: ast.expr = ast.IfExp(ast.Compare(ast.Name(c, LOAD), [ast.Is()], [_h("int")]), tv[0],
                                       ast.Call(_h("mfloor"), [tv[0]], []))
        elif len(args) == 2:
            op = ast.LtE() if name == "min" else ast.GtE()
            fast = ast.IfExp(ast.Compare(tv[0], [op], [tv[1]]), tv[0], tv[1])
        else:
            fast = ast.Call(_h("abs"), [tv[0]], []) if name == "abs" else tv[0]
        test: ast.expr = known
        for e in is_int:  # ``&`` on bools: every operand runs, in order
            test = ast.BinOp(test, ast.BitAnd(), e)
        return ast.IfExp(test, fast, ast.Call(ast.Name(f, LOAD), list(tv), []))

    def floor_division(self, known: ast.expr, f: str, arg: N.Node) -> ast.expr | None:
        """``Math.floor(x / n)`` with a positive int literal ``n``: ``x // n`` for an int ``x``
        with |x| < B (_SMALL), else the call on the division: ``x // n if (known & (type(x :=
        e) is int)) and -B < x < B else f(div(x, n))``. Exact for every |x| < 2**53: the double
        x / n is never rounded onto an integer (that needs |x/n| >= 2**53 / n), so its floor is
        floor(x / n)."""
        if not (arg.type == "BinaryExpression" and arg.operator == "/" and self._literal_kind(arg.right) == "num"
                and type(arg.right.value) is int and 0 < arg.right.value < 2**31 and not self._literal_kind(arg.left)):
            return None
        bound, x = self.operand(self.expr(arg.left))
        n = ast.Constant(arg.right.value)
        xv = ast.Name(x, LOAD)
        is_int = ast.Compare(ast.Call(_h("type"), [bound], []), [ast.Is()], [_h("int")])
        test = ast.BoolOp(ast.And(), [
            ast.BinOp(known, ast.BitAnd(), is_int),
            ast.Compare(ast.Constant(-_SMALL), [ast.Lt(), ast.Lt()], [xv, ast.Constant(_SMALL)])])
        slow = ast.Call(ast.Name(f, LOAD), [_call("div", xv, n)], [])
        return ast.IfExp(test, ast.BinOp(xv, ast.FloorDiv(), n), slow)

    def namespace_member(self, obj: ast.expr, key: ast.Constant) -> ast.expr:
        """The function to call for ``Math.floor(…)`` / ``JSON.stringify(…)``: the member
        itself when the object is a builtin namespace and the member a plain function (it takes
        no ``this``), else a method bound by runtime.bind_method (a script replaced something):
        ``f if ((c := type(t := o)) is PNS or c is NS) and type(f := dict.get(t, k)) in PLAIN
        else bind(t, k)`` (PNS: a namespace no script has written to yet)."""
        t, f, c = self.fresh(), self.fresh(), self.fresh()
        kind = ast.NamedExpr(ast.Name(c, STORE), ast.Call(_h("type"), [ast.NamedExpr(ast.Name(t, STORE), obj)], []))
        test = ast.BoolOp(ast.And(), [
            ast.BoolOp(ast.Or(), [ast.Compare(kind, [ast.Is()], [_h("PNS")]),
                                  ast.Compare(ast.Name(c, LOAD), [ast.Is()], [_h("NS")])]),
            ast.Compare(ast.Call(_h("type"), [ast.NamedExpr(ast.Name(f, STORE),
                                                            _call("dget", ast.Name(t, LOAD), key))], []),
                        [ast.In()], [_h("PLAIN")])])
        return ast.IfExp(test, ast.Name(f, LOAD), _call("bind_method", ast.Name(t, LOAD), key))
