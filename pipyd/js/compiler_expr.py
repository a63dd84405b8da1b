"""Expressions: JS expression nodes -> Python expressions calling the runtime (§13).

Results of comparisons, ``!``, ``in`` and ``instanceof`` are Python bools; they are marked
(``_jsbool``) so a test position can use them without a ``truthy`` call.
"""
from __future__ import annotations

import ast
import copy
import math
from typing import Any

from pipyd.js import nodes as N
from pipyd.js.coerce import to_string
from pipyd.js.compiler_names import E, LOAD, STORE, Binding, PyFunc, locate, nodes_under
from pipyd.js.values import py_name

BINARY = {
    "+": "add", "-": "sub", "*": "mul", "/": "div", "%": "mod", "**": "pow", "&": "bitand",
    "|": "bitor", "^": "bitxor", "<<": "shl", ">>": "shr", ">>>": "ushr", "<": "lt", "<=": "le",
    ">": "gt", ">=": "ge", "==": "eq", "!=": "ne", "===": "seq", "!==": "sne", "in": "has",
    "instanceof": "instanceof",
}
BOOL_OPS = frozenset(("<", "<=", ">", ">=", "==", "!=", "===", "!==", "in", "instanceof"))
_FUNCTIONS = ("FunctionExpression", "ArrowFunctionExpression")
_CHAIN_TYPES = frozenset(("BinaryExpression", "LogicalExpression", "MemberExpression", "CallExpression"))
# Globals holding builtin namespaces (builtins/classes.py BuiltinNamespace): their calls take the
# namespace_member form. A script's own binding of the name is seen at compile time; a module
# global of that name (an extra global) fails the runtime type test and takes the generic path.
_NAMESPACES = frozenset(("Math", "JSON"))
# Array methods whose one-parameter arrow argument compiles to a comprehension (inline_array_callback).
# Math calls computed inline on ints (math_inline): (member, argument count).
_MATH_INLINE = frozenset((("floor", 1), ("ceil", 1), ("trunc", 1), ("round", 1), ("abs", 1),
                          ("min", 2), ("max", 2)))
_INLINE_CALLBACKS = frozenset(("map", "filter", "forEach"))
# Nodes that keep an arrow body out of a comprehension: a nested function would capture the one
# comprehension variable (not a binding per call), Python forbids rebinding it, and the others
# have no expression form there.
_NOT_INLINE = frozenset(("FunctionExpression", "ArrowFunctionExpression", "ClassExpression",
                         "AssignmentExpression", "UpdateExpression", "YieldExpression", "AwaitExpression"))


def _inlinable_arrow(node: N.Node) -> bool:
    """A non-async arrow ``x => expr`` whose body _NOT_INLINE allows in a comprehension."""
    if node.type != "ArrowFunctionExpression" or getattr(node, "async", False) or node.body.type == "BlockStatement":
        return False
    params = node.params
    if len(params) != 1 or params[0].type != "Identifier" or params[0].name in ("arguments", "eval"):
        return False
    body = node.body
    return body.type not in _NOT_INLINE and not any(n.type in _NOT_INLINE for n in nodes_under(body))


# The bound of the inline int range tests (`-B < x < B`): the largest one-digit CPython int.
# CPython 3.11 specialises int comparisons (COMPARE_OP_INT_JUMP) only for single-digit ints
# (|v| < 2**30); a bound of 2**52 made each test a generic rich comparison, several times the
# cost. Larger ints take the runtime helper, which is exact for every value.
_SMALL = 2**30 - 1

# Binary operators whose result is a number, a BigInt or (``+``) a string, never a boolean
# (§13.7-13.12): `x % 3 === 0` needs no test that the left side is not True/False.
_NUMERIC_OPS = frozenset(("+", "-", "*", "/", "%", "**", "&", "|", "^", "<<", ">>", ">>>"))


def _never_bool(node: N.Node) -> bool:
    """The node's value is never a boolean (so Python ``==`` against a number literal is
    JS ``===``: True == 1 is the only way the two differ)."""
    t = node.type
    if t == "BinaryExpression":
        return node.operator in _NUMERIC_OPS
    return t == "UnaryExpression" and node.operator in ("-", "+", "~")


# Steps of a left-nested chain (compile_chain) compiled one inside the other before it is
# flattened: each step costs a few Python frames here and an AST level in CPython's compiler,
# so a few hundred (a 250-call builder chain, a long string concatenation) would exhaust the
# recursion limit. Chains up to this length keep the nested form.
_FLAT_CHAIN = 64


class Spilled(N.Node):
    """Compiler-internal operand: a value already held by the temporary ``name`` (compile_chain)."""

    __slots__ = ("name",)
    type = "Spilled"
    fields = ("name",)


def _chain_next(node: N.Node) -> N.Node | None:
    """The operand ``node`` evaluates first when ``node`` is a step of a left-nested chain: the
    left side of a left-associative operator, the object of a member access or method call, the
    callee of a plain call. None where no chain continues (``**``, optional steps, other nodes)."""
    t = node.type
    if t == "BinaryExpression" or t == "LogicalExpression":
        return node.left if node.operator != "**" else None
    if t == "MemberExpression":
        return None if node.optional else node.object
    if t == "CallExpression" and not node.optional:
        callee = node.callee
        if callee.type != "MemberExpression":
            return callee
        return None if callee.optional else callee.object
    return None


def _with_first(node: N.Node, first: N.Node) -> N.Node:
    """``node`` with the operand _chain_next gives replaced by ``first``."""
    t = node.type
    if t == "MemberExpression":
        return node.copy_with(object=first)
    if t == "CallExpression":
        callee = node.callee
        if callee.type == "MemberExpression":
            return node.copy_with(callee=callee.copy_with(object=first))
        return node.copy_with(callee=first)
    return node.copy_with(left=first)


def _long_chain(node: N.Node) -> bool:
    n = 0
    while (node := _chain_next(node)) is not None:  # type: ignore[assignment]
        n += 1
        if n > _FLAT_CHAIN:
            return True
    return False


def _h(name: str) -> ast.expr:
    return ast.Name(E + name, LOAD)


def _call(name: str, *args: ast.expr) -> ast.expr:
    return ast.Call(_h(name), list(args), [])


def _bool(e: ast.expr) -> ast.expr:
    e._jsbool = True  # type: ignore[attr-defined]
    return e


def _is(e: ast.expr, what: ast.expr, negate: bool = False) -> ast.expr:
    return ast.Compare(e, [ast.IsNot() if negate else ast.Is()], [what])


def _seq_last(items: list[ast.expr]) -> ast.expr:
    return ast.Subscript(ast.Tuple(items, LOAD), ast.Constant(-1), LOAD)


def _is_name_key(key: ast.expr) -> bool:
    """A constant property name that is no array index (``o.name``, ``o['x-y']``): the names the
    runtime's member tables serve."""
    return isinstance(key, ast.Constant) and type(key.value) is str and not key.value.isdigit()


def _callee_text(node: N.Node) -> str | None:
    """V8's text for a callee in "x.y is not a function": names, ``this`` and member chains."""
    t = node.type
    if t == "Identifier":
        return node.name
    if t == "ThisExpression":
        return "this"
    if t == "MemberExpression":
        base = _callee_text(node.object)
        if base is None:
            return None
        p = node.property
        if not node.computed:
            return f"{base}.{p.name}"
        if p.type == "Literal" and p.regex is None and type(p.value) in (str, int):
            return f"{base}.{p.value}" if type(p.value) is str else f"{base}[{p.value}]"
    return None


class ExprMixin:
    """Expression compilation (mixed into compiler.Compiler)."""

    def expr(self, node: N.Node) -> ast.expr:
        self.last_node = node  # where a RecursionError is reported (compile_program_ex)
        method = getattr(self, "x_" + node.type, None)
        if method is None:
            raise self.error(node, f"{node.type} is not supported here")
        if node.type in _CHAIN_TYPES and _long_chain(node):
            return locate(self.compile_chain(node), node)
        return locate(method(node), node)

    def compile_chain(self, node: N.Node) -> ast.expr:
        """A left-nested chain longer than _FLAT_CHAIN steps as one flat sequence, innermost step
        first: ``(s1 := <step 1>, s2 := <step 2 on s1>, …, <last step on sN>)[-1]``. Each step
        compiles as usual with its first operand a Spilled temporary, so the evaluation order
        and every fast path stay those of the nested form; only the depth is gone."""
        spine = [node]
        n = _chain_next(node)
        while n is not None and _chain_next(n) is not None:
            spine.append(n)
            n = _chain_next(n)
        items: list[ast.expr] = []
        value = self.expr(spine.pop())  # the innermost step, its own operand compiled in place
        for step in reversed(spine):
            t = self.fresh("s")
            items.append(ast.NamedExpr(ast.Name(t, STORE), value))
            value = self.expr(_with_first(step, Spilled(t, line=step.line, col=step.col,
                                                        end_line=step.end_line, end_col=step.end_col)))
        items.append(value)
        return _seq_last(items)

    def x_Spilled(self, node: N.Node) -> ast.expr:
        e = ast.Name(node.name, LOAD)
        e._local = True  # type: ignore[attr-defined]  # assigned once: re-readable (operand)
        return e

    def test(self, node: N.Node) -> ast.expr:
        """A Python expression that is true exactly when the JS value is truthy (§7.1.2)."""
        t = node.type
        if t == "LogicalExpression" and node.operator in ("&&", "||"):
            return self.test_logical(node)
        if t == "UnaryExpression" and node.operator == "!":
            return locate(_bool(ast.UnaryOp(ast.Not(), self.test(node.argument))), node)
        e = self.expr(node)
        if getattr(e, "_jsbool", False):
            return e
        return locate(self.truthy(e), node)

    def test_logical(self, node: N.Node) -> ast.expr:
        """``a && b || c …`` tested as Python ``and``/``or``, one flat BoolOp per run of the same
        operator (in a test only truthiness matters, so ``(a || b) || c`` is ``a or b or c``).
        The left-nested spine is walked, not recursed into: a chain of any length compiles."""
        spine = []
        n = node
        while n.type == "LogicalExpression" and n.operator in ("&&", "||"):
            spine.append(n)
            n = n.left
        acc = self.test(n)
        for step in reversed(spine):
            op = ast.And if step.operator == "&&" else ast.Or
            right = self.test(step.right)
            if getattr(acc, "_flat", False) and type(acc.op) is op:  # type: ignore[attr-defined]
                acc.values.append(right)  # type: ignore[attr-defined]
            else:
                acc = locate(_bool(ast.BoolOp(op(), [acc, right])), step)
                acc._flat = True  # type: ignore[attr-defined]  # built here: ours to extend
        return acc

    def truthy(self, e: ast.expr, t: str | None = None) -> ast.expr:
        """ToBoolean inline (§7.1.2) for the usual operands of ``if``, ``||`` and ``&&``: strings
        first (``headers[k] || d``), booleans, then null/undefined; every other object is true
        there and then, and only numbers go through the runtime: ``t != '' if (c := type(t :=
        e)) is str else t if c is bool else t is not None and t is not undefined and (c is not
        int and c is not float or truthy(t))``. ``t`` names the temporary (a caller that needs
        the value afterwards passes its own)."""
        if t is None:
            bound, t = self.operand(e)
        else:
            bound = ast.NamedExpr(ast.Name(t, STORE), e)
        c = self.fresh()
        kind = ast.NamedExpr(ast.Name(c, STORE), ast.Call(_h("type"), [bound], []))
        nonempty = ast.Compare(ast.Name(t, LOAD), [ast.NotEq()], [ast.Constant("")])
        number = ast.BoolOp(ast.Or(), [
            ast.BoolOp(ast.And(), [_is(ast.Name(c, LOAD), _h("int"), negate=True),
                                   _is(ast.Name(c, LOAD), _h("float"), negate=True)]),
            _call("truthy", ast.Name(t, LOAD))])
        rest = ast.BoolOp(ast.And(), [_is(ast.Name(t, LOAD), ast.Constant(None), negate=True),
                                      _is(ast.Name(t, LOAD), _h("u"), negate=True), number])
        others = ast.IfExp(ast.Compare(ast.Name(c, LOAD), [ast.Is()], [_h("bool")]), ast.Name(t, LOAD), rest)
        return ast.IfExp(ast.Compare(kind, [ast.Is()], [_h("str")]), nonempty, others)

    def operand(self, e: ast.expr) -> tuple[ast.expr, str]:
        """(an expression evaluating ``e`` once, the name holding its value afterwards). A JS
        binding read (x_Identifier marks it ``_local``) is its own name: a fast path that tests
        its type and then uses it reads the variable again instead of storing a temporary (in
        a comprehension the temporary would be a cell of the enclosing function)."""
        if type(e) is ast.Name and getattr(e, "_local", False):
            return e, e.id
        t = self.fresh()
        return ast.NamedExpr(ast.Name(t, STORE), e), t

    def named(self, node: N.Node, name: str) -> ast.expr:
        """An expression whose anonymous function value takes ``name`` (§8.4 NamedEvaluation)."""
        if node.type in _FUNCTIONS and node.id is None:
                return locate(self.function(node, name), node)
        return self.expr(node)

    def nullish(self, e: ast.expr) -> ast.expr:
        """``(t := e) is None or t is undefined``: the value is null or undefined."""
        t = self.fresh()
        return ast.BoolOp(ast.Or(), [_is(ast.NamedExpr(ast.Name(t, STORE), e), ast.Constant(None)),
                                     _is(ast.Name(t, LOAD), _h("u"))])

    def _last_temp(self, guard: ast.expr) -> ast.expr:
        return ast.Name(guard.values[1].left.id, LOAD)

    # -------------------------------------------------------------- primaries

    def x_Identifier(self, node: N.Node) -> ast.expr:
        name = node.name
        if self.fn.lookup(name) is None:
            if name == "NaN":
                return ast.Constant(math.nan)
            if name == "Infinity":
                return ast.Constant(math.inf)
        e = self.read_name(name)
        if type(e) is ast.Name and self.fn.lookup(name) is not None:
            e._local = True  # type: ignore[attr-defined]  # a binding: re-readable (operand)
        return e

    def x_Literal(self, node: N.Node) -> ast.expr:
        if node.regex is not None:
            return _call("regexp", ast.Constant(node.regex["pattern"]), ast.Constant(node.regex["flags"]))
        v = node.value
        if type(v) is int and abs(v) > 2**53:
            v = float(v)
        return ast.Constant(v)

    def x_ThisExpression(self, node: N.Node) -> ast.expr:
        name = self.fn.this_name
        return ast.Name(name, LOAD) if name else _h("u")

    def x_TemplateLiteral(self, node: N.Node) -> ast.expr:
        """An f-string (BUILD_STRING, no helper call): each substitution is ToString'd inline
        when it is not already a string (§13.2.8.6)."""
        if not node.expressions:
            return ast.Constant(node.quasis[0].value["cooked"] or "")
        parts: list[ast.expr] = []
        for i, q in enumerate(node.quasis):
            if q.value["cooked"]:
                parts.append(ast.Constant(q.value["cooked"]))
            if i < len(node.expressions):
                # strings and ints (never -0, |v| <= 2**53) format as JS's ToString does
                bound, t = self.operand(self.expr(node.expressions[i]))
                c = self.fresh()
                kind = ast.NamedExpr(ast.Name(c, STORE), ast.Call(_h("type"), [bound], []))
                test = ast.BoolOp(ast.Or(), [ast.Compare(kind, [ast.Is()], [_h("str")]),
                                             ast.Compare(ast.Name(c, LOAD), [ast.Is()], [_h("int")])])
                value = ast.IfExp(test, ast.Name(t, LOAD), _call("to_string", ast.Name(t, LOAD)))
                parts.append(ast.FormattedValue(value, -1, None))
        return ast.JoinedStr(parts)

    def x_TaggedTemplateExpression(self, node: N.Node) -> ast.expr:
        q = node.quasi
        cooked = ast.Tuple([ast.Constant(e.value["cooked"]) for e in q.quasis], LOAD)
        raw = ast.Tuple([ast.Constant(e.value["raw"]) for e in q.quasis], LOAD)
        args = [_call("tagged_strings", cooked, raw)] + [self.expr(e) for e in q.expressions]
        return self.call_with(node.tag, args, optional=False)

    def x_ArrayExpression(self, node: N.Node) -> ast.expr:
        elts: list[ast.expr] = []
        for e in node.elements:
            if e is None:
                elts.append(_h("u"))
            elif e.type == "SpreadElement":
                elts.append(ast.Starred(_call("iterate", self.expr(e.argument)), LOAD))
            else:
                elts.append(self.expr(e))
        return ast.Call(_h("JSArray"), [ast.List(elts, LOAD)], [])

    def prop_key(self, prop: N.Node) -> ast.expr:
        k = prop.key
        if prop.computed:
            return _call("to_object_key", self.expr(k))
        if k.type == "Identifier":
            return ast.Constant(k.name)
        return ast.Constant(k.value if type(k.value) is str else to_string(k.value))

    def x_ObjectExpression(self, node: N.Node) -> ast.expr:
        keys: list[ast.expr] = []
        values: list[ast.expr] = []
        steps: list[ast.expr] = []
        obj = self.fresh("o")
        for prop in node.properties:
            if prop.type == "SpreadElement":
                steps.append(_call("spread_into", ast.Name(obj, LOAD), self.expr(prop.argument)))
                continue
            key = self.prop_key(prop)
            name = key.value if isinstance(key, ast.Constant) else ""
            anonymous = prop.value.type in _FUNCTIONS and prop.value.id is None
            if anonymous and not isinstance(key, ast.Constant):
                # a computed key names the function when it is known: key, then value
                t = self.fresh("k")
                key = ast.NamedExpr(ast.Name(t, STORE), key)
                kind = prop.kind if prop.kind in ("get", "set") else ""
                named = _call("name_function", locate(self.function(prop.value, ""), prop.value),
                              ast.Name(t, LOAD), ast.Constant(kind))
            else:
                named = None
            if prop.kind in ("get", "set"):
                # an accessor property (§13.2.5.5 MethodDefinitionEvaluation): the object is an
                # AccessorObject from its start, and every later property a define step
                fn = named or self.named(prop.value, f"{prop.kind} {name}" if name else prop.kind)
                if not steps:
                    steps.append(ast.Constant(None))  # marks the object as an AccessorObject
                steps.append(_call("define_property", ast.Name(obj, LOAD), key, fn,
                                   ast.Constant(1 if prop.kind == "get" else 2)))
                continue
            value = named or (self.named(prop.value, name) if prop.value.type in _FUNCTIONS
                              else self.expr(prop.value))
            if steps:
                steps.append(_call("set", ast.Name(obj, LOAD), key, value))
            else:
                keys.append(key)
                values.append(value)
        accessors = bool(steps) and isinstance(steps[0], ast.Constant)
        if accessors:
            steps.pop(0)
            steps = [_call("define_property", *c.args[:3], ast.Constant(0))
                     if isinstance(c, ast.Call) and c.func.id == E + "set" else c for c in steps]
        cls = _h("AccessorObject") if accessors else _h("JSObject")
        first = ast.Call(cls, [ast.Dict(keys, values)] if keys else [], [])
        if not steps:
            return first
        return _seq_last([ast.NamedExpr(ast.Name(obj, STORE), first), *steps,
                          ast.Name(obj, LOAD)])

    def x_FunctionExpression(self, node: N.Node) -> ast.expr:
        return self.function(node, node.id.name if node.id is not None else "")

    x_ArrowFunctionExpression = x_FunctionExpression

    def x_SequenceExpression(self, node: N.Node) -> ast.expr:
        return _seq_last([self.expr(e) for e in node.expressions])

    # -------------------------------------------------------------- operators

    def x_UnaryExpression(self, node: N.Node) -> ast.expr:
        op = node.operator
        arg = node.argument
        if op == "-" and arg.type == "Literal" and type(arg.value) in (int, float) and arg.regex is None:
            return ast.Constant(-arg.value if arg.value else -0.0)
        if op == "!":
            return self.test(node)
        if op == "typeof":
            if arg.type == "Identifier" and self.fn.lookup(arg.name) is None:
                from pipyd.js.compiler_names import mangle
                return _call("typeof_free", _h("G"), ast.Constant(mangle(arg.name)))
            return _call("typeof", self.expr(arg))
        if op == "void":
            return ast.Subscript(ast.Tuple([self.expr(arg), _h("u")], LOAD), ast.Constant(1), LOAD)
        if op == "delete":
            if arg.type == "MemberExpression":
                obj, key = self.member_parts(arg)
                return _bool(_call("delete", obj, key))
            if arg.type == "ChainExpression" and arg.expression.type == "MemberExpression":
                # `delete o?.a.b` deletes unless the chain short-circuits (then true, §13.5.1.2)
                saved = self.chain
                self.chain = []
                try:
                    obj, key = self.member_parts(arg.expression)
                    guards = self.chain
                finally:
                    self.chain = saved
                e = _call("delete", obj, key)
                if guards:
                    test = guards[0] if len(guards) == 1 else ast.BoolOp(ast.Or(), guards)
                    e = ast.IfExp(test, ast.Constant(True), e)
                return _bool(e)
            return _bool(ast.Subscript(ast.Tuple([self.expr(arg), ast.Constant(arg.type != "Identifier")],
                                                 LOAD), ast.Constant(1), LOAD))
        return _call({"-": "neg", "+": "pos", "~": "bitnot"}[op], self.expr(arg))

    def x_BinaryExpression(self, node: N.Node) -> ast.expr:
        op = node.operator
        left, right = node.left, node.right
        if op in ("===", "!==", "==", "!="):
            fast = self.equality_fast_path(op, left, right)
            if fast is not None:
                return _bool(fast)
        if op == "+" and (self._literal_kind(left) == "str") is not (self._literal_kind(right) == "str"):
            return self.concat_literal(left, right)
        if self._literal_kind(right) == "num" and not self._literal_kind(left):
            fast = self.number_literal_op(op, left, right.value)
            if fast is not None:
                return fast
        e = _call(BINARY[op], self.expr(left), self.expr(right))
        return _bool(e) if op in BOOL_OPS else e

    def number_literal_op(self, op: str, left: N.Node, lit: Any) -> ast.expr | None:
        """``x OP n`` with a number literal ``n``: plain Python arithmetic or comparison when ``x``
        is an int in a range where the result needs no JS adjustment (no -0, no float rounding
        beyond 2**53); otherwise the runtime helper. Comparisons also take float ``x``."""
        bound, t = self.operand(self.expr(left))
        tv = ast.Name(t, LOAD)
        n = ast.Constant(lit)
        cmp = {"<": ast.Lt, "<=": ast.LtE, ">": ast.Gt, ">=": ast.GtE}.get(op)
        c = self.fresh() if cmp is not None else None  # the type is tested twice only for comparisons
        kind = ast.Call(_h("type"), [bound], [])
        if c is not None:
            kind = ast.NamedExpr(ast.Name(c, STORE), kind)
        is_int = ast.Compare(kind, [ast.Is()], [_h("int")])
        if cmp is not None:
            test = ast.BoolOp(ast.Or(), [is_int, ast.Compare(ast.Name(c, LOAD), [ast.Is()], [_h("float")])])
            return _bool(ast.IfExp(test, ast.Compare(tv, [cmp()], [n]), _call(BINARY[op], tv, n)))
        if type(lit) is not int or not 0 < lit < 2**31:
            return None
        if op in ("+", "-", "*"):
            bound = min(2**52 if op != "*" else 2**53 // lit, _SMALL)
            in_range = ast.Compare(ast.Constant(-bound), [ast.Lt(), ast.Lt()], [tv, ast.Constant(bound)])
            py_op = {"+": ast.Add, "-": ast.Sub, "*": ast.Mult}[op]()
        elif op == "%":
            in_range = ast.Compare(tv, [ast.GtE()], [ast.Constant(0)])
            py_op = ast.Mod()
        elif op == "/":
            # int / positive int: exact quotient as an int, else the double (§6.1.6.1.5)
            divisible = ast.Compare(ast.BinOp(tv, ast.Mod(), n), [ast.Eq()], [ast.Constant(0)])
            fast = ast.IfExp(divisible, ast.BinOp(tv, ast.FloorDiv(), n), ast.BinOp(tv, ast.Div(), n))
            return ast.IfExp(is_int, fast, _call(BINARY[op], tv, n))
        else:
            return None
        test = ast.BoolOp(ast.And(), [is_int, in_range])
        return ast.IfExp(test, ast.BinOp(ast.Name(t, LOAD), py_op, n), _call(BINARY[op], tv, n))

    def concat_literal(self, left: N.Node, right: N.Node) -> ast.expr:
        """``'lit' + e`` / ``e + 'lit'``: a Python str concatenation when ``e`` is a string."""
        lit_left = self._literal_kind(left) == "str"
        other, t = self.operand(self.expr(right if lit_left else left))
        lit = ast.Constant((left if lit_left else right).value)
        tv = ast.Name(t, LOAD)
        test = ast.Compare(ast.Call(_h("type"), [other], []),
                           [ast.Is()], [_h("str")])
        fast = ast.BinOp(lit, ast.Add(), tv) if lit_left else ast.BinOp(tv, ast.Add(), lit)
        slow = _call("add", lit, tv) if lit_left else _call("add", tv, lit)
        return ast.IfExp(test, fast, slow)

    def _literal_kind(self, node: N.Node) -> str:
        if node.type == "Literal" and node.regex is None:
            v = node.value
            if type(v) is int or type(v) is float:
                return "num"
            return "null" if v is None else "str" if type(v) is str else "bool" if type(v) is bool else ""
        if node.type == "Identifier" and node.name == "undefined" and self.fn.lookup("undefined") is None:
            return "undefined"
        return ""

    def equality_fast_path(self, op: str, left: N.Node, right: N.Node) -> ast.expr | None:
        """Comparisons with a literal need no helper: strings compare by value only with
        strings; null/undefined by identity (loosely, either one)."""
        kind = self._literal_kind(right)
        other = left
        if not kind:
            kind = self._literal_kind(left)
            other = right
            if not kind:
                return None
        negate = op in ("!==", "!=")
        if kind == "num" and op in ("==", "!="):
            return None
        if op in ("==", "!=") and kind in ("null", "undefined"):
            test = self.nullish(self.expr(other))
            return ast.UnaryOp(ast.Not(), test) if negate else test
        if op in ("===", "!=="):
            if self._literal_kind(other):
                return None  # two literals: left to seq (Python warns about `is` between constants)
            if kind == "num":
                # a number equals only numbers (True == 1 in Python, hence the bool test)
                lit = right if other is left else left
                if _never_bool(other):  # an arithmetic result: Python's == is JS's === on it
                    return ast.Compare(self.expr(other), [ast.NotEq() if negate else ast.Eq()], [self.expr(lit)])
                t = self.fresh()
                test = ast.BoolOp(ast.And(), [
                    ast.Compare(ast.NamedExpr(ast.Name(t, STORE), self.expr(other)), [ast.Eq()],
                                [self.expr(lit)]),
                    ast.Compare(ast.Call(_h("type"), [ast.Name(t, LOAD)], []), [ast.IsNot()], [_h("bool")])])
                return ast.UnaryOp(ast.Not(), test) if negate else test
            if kind == "str":
                lit = left if other is right else right
                return ast.Compare(self.expr(left), [ast.NotEq() if negate else ast.Eq()],
                                   [self.expr(right)]) if lit.type == "Literal" else None
            target = {"null": ast.Constant(None), "undefined": _h("u"),
                      "bool": ast.Constant(None)}[kind]
            if kind == "bool":
                lit = right if other is left else left
                target = ast.Constant(lit.value)
            value = self.expr(other)
            if isinstance(value, ast.Constant):  # folded (`-1.5 === false`): `is` on it warns too
                return None
            return _is(value, target, negate)
        return None

    def x_LogicalExpression(self, node: N.Node) -> ast.expr:
        t = self.fresh()
        left = self.expr(node.left)
        right = self.expr(node.right)
        bind = ast.NamedExpr(ast.Name(t, STORE), left)
        tv = ast.Name(t, LOAD)
        if node.operator == "??":
            test = ast.BoolOp(ast.Or(), [_is(bind, ast.Constant(None)), _is(tv, _h("u"))])
            return ast.IfExp(test, right, ast.Name(t, LOAD))
        test = bind if getattr(left, "_jsbool", False) else self.truthy(left, t)
        if node.operator == "&&":
            return ast.IfExp(test, right, tv)
        return ast.IfExp(test, tv, right)

    def x_ConditionalExpression(self, node: N.Node) -> ast.expr:
        return ast.IfExp(self.test(node.test), self.expr(node.consequent), self.expr(node.alternate))

    def x_UpdateExpression(self, node: N.Node, value_used: bool = True) -> ast.expr:
        fn = "inc" if node.operator == "++" else "dec"
        arg = node.argument
        if arg.type == "Identifier":
            if node.prefix or not value_used:
                return self.write_name(arg.name, self.update_value(node))
            t = self.fresh()
            old = ast.NamedExpr(ast.Name(t, STORE), _call("pos", self.read_name(arg.name)))
            return ast.Subscript(ast.Tuple([old, self.write_name(arg.name, _call(fn, ast.Name(t, LOAD)))],
                                           LOAD), ast.Constant(0), LOAD)
        if arg.type == "MemberExpression":
            obj, key = self.member_parts(arg)
            return _call("update_member", obj, key, ast.Constant(1 if fn == "inc" else -1),
                         ast.Constant(bool(node.prefix)))
        raise self.error(arg, "Invalid left-hand side expression in postfix operation")

    def x_AssignmentExpression(self, node: N.Node) -> ast.expr:
        op = node.operator
        left = node.left
        if left.type in ("ObjectPattern", "ArrayPattern"):
            return self.pattern_assign_expr(left, self.expr(node.right))
        if op == "=":
            if left.type == "Identifier":
                return self.write_name(left.name, self.named(node.right, left.name))
            obj, key = self.member_parts(left)
            return _call("set", obj, key, self.expr(node.right))
        if op in ("&&=", "||=", "??="):
            return self.logical_assign(node)
        helper = BINARY[op[:-1]]
        if left.type == "Identifier":
            return self.write_name(left.name, self.compound_value(node))
        o, k = self.fresh(), self.fresh()
        obj, key = self.member_parts(left)
        current = _call("get", ast.Name(o, LOAD), ast.Name(k, LOAD))
        return _call("set", ast.NamedExpr(ast.Name(o, STORE), obj),
                     ast.NamedExpr(ast.Name(k, STORE), key),
                     _call(helper, current, self.expr(node.right)))

    def update_value(self, node: N.Node) -> ast.expr:
        """The new value of ``x++``/``x--`` for an identifier: ``t ± 1`` for an int in the
        exact range, else ``inc``/``dec`` (ToNumeric first, §13.4.2: ``'5'++`` is 6)."""
        bound, t = self.operand(self.read_name(node.argument.name))
        tv = ast.Name(t, LOAD)
        fits = ast.BoolOp(ast.And(), [
            ast.Compare(ast.Call(_h("type"), [bound], []), [ast.Is()], [_h("int")]),
            ast.Compare(ast.Constant(-_SMALL), [ast.Lt(), ast.Lt()], [tv, ast.Constant(_SMALL)])])
        up = node.operator == "++"
        fast = ast.BinOp(ast.Name(t, LOAD), ast.Add() if up else ast.Sub(), ast.Constant(1))
        return ast.IfExp(fits, fast, _call("inc" if up else "dec", tv))

    def compound_value(self, node: N.Node) -> ast.expr:
        """The value of ``x op= e`` for an identifier ``x``: ``x op e`` (reading a name has no
        side effect, so §13.15.2's single evaluation of the reference holds), compiled as the
        binary expression with its inline number and string paths."""
        return self.expr(N.BinaryExpression(node.operator[:-1], node.left, node.right,
                                            line=node.line, col=node.col,
                                            end_line=node.end_line, end_col=node.end_col))

    def logical_assign(self, node: N.Node) -> ast.expr:
        """``a &&= b``, ``a ||= b``, ``a ??= b`` (§13.15.2): assign only when needed."""
        left = node.left
        t = self.fresh()
        if left.type == "Identifier":
            current: ast.expr = self.read_name(left.name)
            write = self.write_name(left.name, self.named(node.right, left.name))
        else:
            o, k = self.fresh(), self.fresh()
            obj, key = self.member_parts(left)
            current = _call("get", ast.NamedExpr(ast.Name(o, STORE), obj),
                            ast.NamedExpr(ast.Name(k, STORE), key))
            write = _call("set", ast.Name(o, LOAD), ast.Name(k, LOAD), self.expr(node.right))
        bind = ast.NamedExpr(ast.Name(t, STORE), current)
        tv = ast.Name(t, LOAD)
        if node.operator == "??=":
            test = ast.BoolOp(ast.Or(), [_is(bind, ast.Constant(None)), _is(tv, _h("u"))])
            return ast.IfExp(test, write, ast.Name(t, LOAD))
        if node.operator == "&&=":
            return ast.IfExp(_call("truthy", bind), write, tv)
        return ast.IfExp(_call("truthy", bind), tv, write)

    # -------------------------------------------------------------- members and calls

    def member_parts(self, node: N.Node) -> tuple[ast.expr, ast.expr]:
        """(object, key) of a member expression, with an optional-chain guard when ``?.``."""
        obj = self.expr(node.object)
        if node.optional and self.chain is not None:
            guard = self.nullish(obj)
            self.chain.append(guard)
            obj = self._last_temp(guard)
        if node.computed:
            return obj, self.expr(node.property)
        return obj, ast.Constant(node.property.name)

    def x_MemberExpression(self, node: N.Node) -> ast.expr:
        obj, key = self.member_parts(node)
        if _is_name_key(key):
            # Inline the plain-object read (an absent key is answered by JSObject.__missing__,
            # runtime._object_missing); anything else goes through the name's getter table
            # (runtime.getters): `t[k] if (c := type(t := o)) is JSObject else G[c](t)`
            obj, t = self.operand(obj)
            c = self.fresh()
            test = ast.Compare(ast.NamedExpr(ast.Name(c, STORE), ast.Call(_h("type"), [obj], [])),
                               [ast.Is()], [_h("JSObject")])
            hit = ast.Subscript(ast.Name(t, LOAD), ast.Constant(key.value), LOAD)
            table = ast.Subscript(self.member_table("getters", key.value), ast.Name(c, LOAD), LOAD)
            other = ast.Call(table, [ast.Name(t, LOAD)], [])
            if key.value.isidentifier() and not key.value.startswith("__"):
                # A host object's allowed attribute (runtime.host_types): a plain attribute read.
                # Monomorphic inline cache: the site's global ``ǂkN`` (None at module start) takes
                # the first host class met here (host_types only grows, so it stays valid), and
                # that class is tested first with one ``is``: `t.a if (c := type(t := o)) is K
                # else <plain object> else t.a if c in H and (K is not None or not
                # setitem(G, 'K', c)) else getter(t)`.
                k = self.site_cache()
                attr = py_name(key.value)
                fill = ast.BoolOp(ast.Or(), [_is(ast.Name(k, LOAD), ast.Constant(None), negate=True),
                                             ast.UnaryOp(ast.Not(), _call("setitem", _h("G"), ast.Constant(k),
                                                                          ast.Name(c, LOAD)))])
                host = ast.BoolOp(ast.And(), [
                    ast.Compare(ast.Name(c, LOAD), [ast.In()], [self.member_table("hosts", key.value)]), fill])
                other = ast.IfExp(host, ast.Attribute(ast.Name(t, LOAD), attr, LOAD), other)
                kind = test.left
                if key.value == "length":
                    # strings and arrays first, their length inline (the getter table's `len`
                    # for exactly these types): `len(t) if (c := type(t)) is str or c is JSArray`
                    kind = ast.Name(c, LOAD)
                    first = ast.BoolOp(ast.Or(), [ast.Compare(test.left, [ast.Is()], [_h("str")]),
                                                  ast.Compare(ast.Name(c, LOAD), [ast.Is()], [_h("JSArray")])])
                cached = ast.Compare(kind, [ast.Is()], [ast.Name(k, LOAD)])
                test = ast.Compare(ast.Name(c, LOAD), [ast.Is()], [_h("JSObject")])
                if key.value in self.host_names:
                    read = ast.IfExp(cached, ast.Attribute(ast.Name(t, LOAD), attr, LOAD), ast.IfExp(test, hit, other))
                else:  # no host class reads this name: the plain object is the likely receiver
                    test.left = kind
                    cached.left = ast.Name(c, LOAD)
                    read = ast.IfExp(test, hit, ast.IfExp(cached, ast.Attribute(ast.Name(t, LOAD), attr, LOAD), other))
                if key.value == "length":
                    return ast.IfExp(first, ast.Call(_h("len"), [ast.Name(t, LOAD)], []), read)
                return read
            return ast.IfExp(test, hit, other)
        return _call("get", obj, key)

    def x_ChainExpression(self, node: N.Node) -> ast.expr:
        saved = self.chain
        self.chain = []
        try:
            e = self.expr(node.expression)
            guards = self.chain
        finally:
            self.chain = saved
        if not guards:
            return e
        test = guards[0] if len(guards) == 1 else ast.BoolOp(ast.Or(), guards)
        return ast.IfExp(test, _h("u"), e)

    def arguments_of(self, args: list[N.Node]) -> list[ast.expr]:
        out: list[ast.expr] = []
        for a in args:
            if a.type == "SpreadElement":
                out.append(ast.Starred(_call("iterate", self.expr(a.argument)), LOAD))
            else:
                out.append(self.expr(a))
        return out

    def x_CallExpression(self, node: N.Node) -> ast.expr:
        self.note_member_call(node)
        return self.call_with(node.callee, node.arguments, node.optional)

    def boolean_inline(self, callee: ast.expr, arg: ast.expr) -> ast.expr:
        """``Boolean(x)`` (a branch condition's usual shape, ``() => Boolean(_target)``) as
        ToBoolean inline while the global is still the builtin: ``<truthy(x)> if (f := Boolean)
        is ǂBoolean else f(x)``. The callee is read first (§13.3.6.1); the argument is compiled
        once and copied into the other branch, of which only one runs."""
        f = self.fresh("f")
        test = ast.Compare(ast.NamedExpr(ast.Name(f, STORE), callee), [ast.Is()], [_h("Boolean")])
        return ast.IfExp(test, self.truthy(arg), ast.Call(ast.Name(f, LOAD), [copy.deepcopy(arg)], []))

    def note_member_call(self, node: N.Node) -> None:
        """Records ``o.x`` for the span of the call ``node`` (runtime.call_site_error names the
        member when it is not a function)."""
        if node.callee.type == "MemberExpression" and not node.optional:
            text = _callee_text(node.callee)
            if text is not None:
                line = max(node.line, 1)
                end_line = max(node.end_line, line)
                end_col = node.end_col if end_line > line or node.end_col >= node.col else node.col
                self.callees[(line, end_line, node.col, end_col)] = text  # the span locate() gives

    def call_with(self, callee: N.Node, args: Any, optional: bool) -> ast.expr:
        """A call: ``o.m(...)`` keeps ``this = o`` (§13.3.6.1); other callees get undefined."""
        if callee.type == "MemberExpression":
            if not optional and not isinstance(args[0] if args else None, ast.AST):
                fused = self.pure_chain(callee, args)  # compiler_pure: pure map/filter chains
                if fused is not None:
                    return fused
            obj, key = self.member_parts(callee)
            if (not optional and _is_name_key(key) and key.value in _INLINE_CALLBACKS and len(args) == 1
                    and not isinstance(args[0], ast.AST) and _inlinable_arrow(args[0])):
                return self.inline_array_callback(obj, key.value, args[0])
            arg_list = args if isinstance(args[0] if args else None, ast.AST) else self.arguments_of(args)
            if optional and self.chain is not None:
                o, f = self.fresh(), self.fresh()
                fetch = _call("get", ast.NamedExpr(ast.Name(o, STORE), obj), key)
                self.chain.append(self.nullish(ast.NamedExpr(ast.Name(f, STORE), fetch)))
                return _call("call_this", ast.Name(f, LOAD), ast.Name(o, LOAD), *arg_list)
            if (_is_name_key(key) and callee.object.type == "Identifier" and callee.object.name in _NAMESPACES
                    and self.fn.lookup(callee.object.name) is None):
                if callee.object.name == "Math" and (key.value, len(arg_list)) in _MATH_INLINE and not any(
                        type(a) is ast.Starred for a in arg_list):
                    return self.math_inline(obj, key, arg_list, args)
                return ast.Call(self.namespace_member(obj, key), arg_list, [])
            if _is_name_key(key):
                # the name's invoker table (runtime.invokers): `M[type(t := o)](t, *args)`
                t = self.fresh()
                table = ast.Subscript(self.member_table("invokers", key.value), ast.Call(_h("type"), [
                    ast.NamedExpr(ast.Name(t, STORE), obj)], []), LOAD)
                return ast.Call(table, [ast.Name(t, LOAD), *arg_list], [])
            return _call("call_method", obj, key, *arg_list)
        f = self.expr(callee)
        arg_list = args if isinstance(args[0] if args else None, ast.AST) else self.arguments_of(args)
        if (callee.type == "Identifier" and callee.name == "Boolean" and not optional and len(arg_list) == 1
                and type(arg_list[0]) is not ast.Starred and self.fn.lookup("Boolean") is None):
            self.callees[(max(callee.line, 1), callee.col)] = callee.name  # for the fallback call
            return self.boolean_inline(f, arg_list[0])
        if optional and self.chain is not None:
            guard = self.nullish(f)
            self.chain.append(guard)
            f = self._last_temp(guard)
        if callee.type in _FUNCTIONS or callee.type == "Identifier":
            if callee.type == "Identifier":  # names the callee if Python finds it not callable
                self.callees[(max(callee.line, 1), callee.col)] = callee.name
            return ast.Call(f, arg_list, [])  # a direct Python call: the hot path
        return _call("call", f, *arg_list)

    def inline_array_callback(self, obj: ast.expr, name: str, arrow: N.Node) -> ast.expr:
        """``a.map(x => e)`` / ``a.filter(x => e)`` / ``a.forEach(x => e)`` as a comprehension
        over the live list (bounds fixed at the start, as builtins/array.py does), binding the
        arrow's one parameter per element, when ``a`` is exactly a JSArray and Array.prototype's
        method is still the builtin; otherwise the method call with the arrow as compiled:
        ``JSArray([e for x in islice(t, len(t))]) if type(t := a) is JSArray and AP.get(k) is
        Amap else M[type(t)](t, f)``. The arrow's body has no nested function, assignment or
        update (_inlinable_arrow), so one comprehension variable is exactly one JS binding."""
        t, v = self.fresh(), self.fresh("x")
        param = arrow.params[0].name
        self.fn.scopes.append({param: Binding(v, "param", self.fn)})
        try:
            body = self.test(arrow.body) if name == "filter" else self.expr(arrow.body)
        finally:
            self.fn.scopes.pop()
        tv = ast.Name(t, LOAD)
        source = ast.Call(_h("islice"), [tv, ast.Call(_h("len"), [ast.Name(t, LOAD)], [])], [])
        gen = [ast.comprehension(ast.Name(v, STORE), source, [], 0)]
        if name == "filter":
            gen[0].ifs.append(body)
            fast: ast.expr = ast.Call(_h("JSArray"), [ast.ListComp(ast.Name(v, LOAD), gen)], [])
        elif name == "map":
            fast = ast.Call(_h("JSArray"), [ast.ListComp(body, gen)], [])
        else:
            fast = _seq_last([ast.ListComp(body, gen), _h("u")])
        test = ast.BoolOp(ast.And(), [
            ast.Compare(ast.Call(_h("type"), [ast.NamedExpr(ast.Name(t, STORE), obj)], []),
                        [ast.Is()], [_h("JSArray")]),
            ast.Compare(ast.Call(ast.Attribute(_h("AP"), "get", LOAD), [ast.Constant(name)], []),
                        [ast.Is()], [_h("A" + name)])])
        table = ast.Subscript(self.member_table("invokers", name),
                              ast.Call(_h("type"), [ast.Name(t, LOAD)], []), LOAD)
        slow = ast.Call(table, [ast.Name(t, LOAD), self.arrow_lambda(arrow)], [])
        return ast.IfExp(test, fast, slow)

    def arrow_lambda(self, arrow: N.Node) -> ast.expr:
        """An inlinable arrow (one parameter, expression body) as a Python ``lambda``: made only
        when the slow path runs, where a ``def`` would be made on every call of the enclosing
        function even when the comprehension is taken. Its code is named like an anonymous
        one-parameter arrow (compiler._name_functions registers ``<lambda>`` as ("", 1))."""
        fn = PyFunc(parent=self.fn, this_name=self.fn.this_name)
        saved = self.fn, self.out, self.jumps, self.chain
        self.fn, self.out, self.jumps, self.chain = fn, [], [], None
        try:
            args, _ = self.parameters(arrow, True)
            body = self.expr(arrow.body)
            extra = self.out
        finally:
            self.fn, self.out, self.jumps, self.chain = saved
        if extra or fn.nonlocals or fn.globals or fn.uses_jump:
            return self.expr(arrow)  # needs statements: the usual def
        self.fn_info["<lambda>"] = ("", 1)
        return locate(ast.Lambda(args, body), arrow)

    def x_NewExpression(self, node: N.Node) -> ast.expr:
        return _call("construct", self.expr(node.callee), *self.arguments_of(node.arguments))
