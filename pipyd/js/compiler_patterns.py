"""Destructuring (§8.6.2 BindingInitialization, §13.15.5 DestructuringAssignmentEvaluation):
a pattern becomes a list of Python expressions (walrus / ``ǂset`` calls) evaluated in order, so
the same code serves declarations, parameters, ``for`` heads and assignment expressions.
"""
from __future__ import annotations

import ast

from pipyd.js import nodes as N
from pipyd.js.compiler_names import E, LOAD, STORE

_FUNCTIONS = ("FunctionExpression", "ArrowFunctionExpression")


def _h(name: str) -> ast.expr:
    return ast.Name(E + name, LOAD)


def _call(name: str, *args: ast.expr) -> ast.expr:
    return ast.Call(_h(name), list(args), [])


class PatternMixin:
    """Pattern compilation (mixed into compiler.Compiler)."""

    def pattern_exprs(self, p: N.Node, value: ast.expr, declaring: bool, out: list[ast.expr]) -> None:
        t = p.type
        if t == "Identifier":
            out.append(self.write_name(p.name, value, declaring))
        elif t == "MemberExpression":
            obj, key = self.member_parts(p)
            out.append(_call("set", obj, key, value))
        elif t == "AssignmentPattern":
            tmp = self.fresh()
            out.append(ast.NamedExpr(ast.Name(tmp, STORE), value))
            default = (self.named(p.right, p.left.name) if p.left.type == "Identifier"
                       else self.expr(p.right))
            chosen = ast.IfExp(ast.Compare(ast.Name(tmp, LOAD), [ast.Is()], [_h("u")]),
                               default, ast.Name(tmp, LOAD))
            self.pattern_exprs(p.left, chosen, declaring, out)
        elif t == "ObjectPattern":
            self.object_pattern(p, value, declaring, out)
        elif t == "ArrayPattern":
            tmp = self.fresh()
            out.append(ast.NamedExpr(ast.Name(tmp, STORE), _call("to_list", value)))
            for i, e in enumerate(p.elements):
                if e is None:
                    continue
                if e.type == "RestElement":
                    self.pattern_exprs(e.argument, _call("slice_rest", ast.Name(tmp, LOAD),
                                                         ast.Constant(i)), declaring, out)
                else:
                    self.pattern_exprs(e, _call("at", ast.Name(tmp, LOAD), ast.Constant(i)),
                                       declaring, out)
        else:
            raise self.error(p, "Invalid destructuring assignment target")

    def object_pattern(self, p: N.Node, value: ast.expr, declaring: bool, out: list[ast.expr]) -> None:
        tmp = self.fresh()
        out.append(ast.NamedExpr(ast.Name(tmp, STORE), _call("require_object", value)))
        used: list[ast.expr] = []
        for prop in p.properties:
            if prop.type == "RestElement":
                keys = ast.Tuple(used, LOAD)
                self.pattern_exprs(prop.argument, _call("object_rest", ast.Name(tmp, LOAD), keys),
                                   declaring, out)
                continue
            key = self.prop_key(prop)
            if not isinstance(key, ast.Constant):
                k = self.fresh()
                out.append(ast.NamedExpr(ast.Name(k, STORE), key))
                key = ast.Name(k, LOAD)
            used.append(key)
            self.pattern_exprs(prop.value, _call("get", ast.Name(tmp, LOAD), key), declaring, out)

    def bind_pattern_stmt(self, p: N.Node, value: ast.expr, kind: str, node: N.Node,
                          declared: bool = True) -> None:
        """Statements binding a declaration's (already hoisted) names to ``value``."""
        if p.type == "Identifier":
            self.emit(self.assign_stmt(p.name, value, declaring=True), node)
            return
        out: list[ast.expr] = []
        self.pattern_exprs(p, value, True, out)
        for e in out:
            self.emit(ast.Expr(e), node)

    def assign_target_stmt(self, target: N.Node, value: ast.expr) -> None:
        """``for (x of …)`` / ``for (o.k in …)``: assign to an existing target."""
        if target.type == "Identifier":
            self.emit(self.assign_stmt(target.name, value), target)
            return
        out: list[ast.expr] = []
        self.pattern_exprs(target, value, False, out)
        for e in out:
            self.emit(ast.Expr(e), target)

    def pattern_assign_expr(self, p: N.Node, value: ast.expr) -> ast.expr:
        """``({a, b} = o)`` as an expression: its value is the right-hand side."""
        tmp = self.fresh()
        out: list[ast.expr] = [ast.NamedExpr(ast.Name(tmp, STORE), value)]
        self.pattern_exprs(p, ast.Name(tmp, LOAD), False, out)
        out.append(ast.Name(tmp, LOAD))
        return ast.Subscript(ast.Tuple(out, LOAD), ast.Constant(-1), LOAD)
