"""Statements: JS statements -> Python statements (§14).

Breakable statements (loops, switch, labelled blocks) each become one Python loop and push a
``Jump`` entry. A break/continue aimed at the innermost entry is a Python break/continue; one
aimed further out stores the target's code in ``ǂjump`` and breaks, and code after each Python
loop forwards it outwards. A loop whose let/const bindings are captured by closures runs each
iteration in its own Python function (fresh bindings per iteration, §14.7.4.4); that function
returns ``(signal, payload, *loop_vars)``: 0 next iteration, 1 break, 2 jump (payload = code),
3 return (payload = value).
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from pipyd.js import nodes as N
from pipyd.js.compiler_names import E, LOAD, STORE, PyFunc, locate, loop_needs_fresh_bindings

_JUMP = E + "jump"
_LOOPS = ("ForStatement", "ForInStatement", "ForOfStatement", "WhileStatement", "DoWhileStatement")


@dataclass(eq=False)
class Jump:
    kind: str  # loop | switch | block | fn (an iteration function standing for its loop)
    labels: set[str]
    id: int
    continued: bool = False
    passing: set[int] = field(default_factory=set)  # jump codes leaving through this entry

    @property
    def break_code(self) -> int:
        return 2 * self.id

    @property
    def cont_code(self) -> int:
        return 2 * self.id + 1


def _name(n: str, ctx: Any = None) -> ast.Name:
    return ast.Name(n, ctx or LOAD)


def _h(name: str) -> ast.expr:
    return ast.Name(E + name, LOAD)


def _eq(a: ast.expr, v: int) -> ast.expr:
    return ast.Compare(a, [ast.Eq()], [ast.Constant(v)])


class StmtMixin:
    """Statement compilation (mixed into compiler.Compiler)."""

    def stmt(self, node: N.Node, labels: set[str] | None = None) -> None:
        self.last_node = node  # where a RecursionError is reported (compile_program_ex)
        method = getattr(self, "s_" + node.type, None)
        if method is None:
            raise self.error(node, f"{node.type} is not supported")
        if labels is not None:
            method(node, labels)
        else:
            method(node)

    def block(self, body: list[N.Node], lexical: bool = True) -> list[ast.stmt]:
        """Compile statements into a fresh list, in a new block scope (§14.2.2)."""
        saved = self.out
        self.out = []
        if lexical:
            self.fn.scopes.append({})
        try:
            if lexical:
                self.hoist_lexical(body)
            for s in body:
                self.stmt(s)
            return self.out or [ast.Pass()]
        finally:
            if lexical:
                self.fn.scopes.pop()
            self.out = saved

    def body_of(self, node: N.Node) -> list[ast.stmt]:
        if node.type == "BlockStatement":
            return self.block(node.body)
        return self.block([node], lexical=False)

    # -------------------------------------------------------------- simple statements

    def s_EmptyStatement(self, node: N.Node) -> None:
        pass

    def s_FunctionDeclaration(self, node: N.Node) -> None:
        pass  # hoisted to the start of its scope (compiler.hoist_lexical)

    def s_BlockStatement(self, node: N.Node) -> None:
        for s in self.block(node.body):
            if not isinstance(s, ast.Pass):
                self.out.append(s)

    def s_ExpressionStatement(self, node: N.Node) -> None:
        e = node.expression
        if self.fn.is_module:
            from pipyd.js.compiler import RESULT
            self.emit(ast.Assign([_name(RESULT, STORE)], self.expr(e), lineno=None), node)
            return
        if e.type == "UpdateExpression" and e.argument.type == "Identifier":
            # ``x++;`` is ``x = x + 1`` for its effect (the ToNumeric of §13.4.2 is inc's)
            self.emit(self.assign_stmt(e.argument.name, self.update_value(e)), node)
            return
        if e.type == "UpdateExpression":
            value = self.x_UpdateExpression(e, value_used=False)
        elif e.type == "AssignmentExpression" and e.operator == "=" and e.left.type == "Identifier":
            self.emit(self.assign_stmt(e.left.name, self.named(e.right, e.left.name)), node)
            return
        elif (e.type == "AssignmentExpression" and e.left.type == "Identifier"
              and e.operator not in ("=", "&&=", "||=", "??=")):
            self.emit(self.assign_stmt(e.left.name, self.compound_value(e)), node)
            return
        elif (e.type == "AssignmentExpression" and e.operator == "=" and e.left.type == "MemberExpression"
              and self.member_store_stmt(e, node)):
            return
        else:
            value = self.expr(e)
        self.emit(ast.Expr(value), node)

    def effect_expr(self, e: N.Node) -> ast.expr:
        """An expression evaluated for its effect only (a for loop's update): ``i++`` need not
        keep the old value."""
        if e.type == "UpdateExpression":
            return self.x_UpdateExpression(e, value_used=False)
        return self.expr(e)

    def member_store_stmt(self, e: N.Node, node: N.Node) -> bool:
        """``o.k = v;`` / ``o['k-x'] = v;`` as a statement with a constant name key: ``t = o;
        v = value`` (obj, then value: §13.15.2), then a plain dict store when ``t`` is exactly a
        JSObject (what runtime.set does for it), else runtime.set. False: not that shape."""
        from pipyd.js.compiler_expr import _is_name_key
        obj, key = self.member_parts(e.left)
        if not _is_name_key(key):
            self.emit(ast.Expr(ast.Call(_name(E + "set"), [obj, key, self.expr(e.right)], [])), node)
            return True
        t, v = self.fresh(), self.fresh()
        self.emit(ast.Assign([_name(t, STORE)], obj, lineno=None), e.left)
        self.emit(ast.Assign([_name(v, STORE)], self.expr(e.right), lineno=None), e.right)
        test = ast.Compare(ast.Call(_name(E + "type"), [_name(t)], []), [ast.Is()], [_name(E + "JSObject")])
        put = ast.Assign([ast.Subscript(_name(t), key, STORE)], _name(v), lineno=None)
        slow = ast.Expr(ast.Call(_name(E + "set"), [_name(t), ast.Constant(key.value), _name(v)], []))
        self.emit(ast.If(test, [put], [slow]), node)
        return True

    def s_VariableDeclaration(self, node: N.Node) -> None:
        for d in node.declarations:
            if d.init is None:
                if node.kind == "var":
                    continue
                if node.kind == "const":
                    raise self.error(d, "Missing initializer in const declaration")
                self.bind_pattern_stmt(d.id, _h("u"), node.kind, d)
                continue
            name = d.id.name if d.id.type == "Identifier" else ""
            self.bind_pattern_stmt(d.id, self.named(d.init, name), node.kind, d)

    def s_ReturnStatement(self, node: N.Node) -> None:
        value = self.expr(node.argument) if node.argument is not None else _h("u")
        self.emit(self.return_stmt(value), node)

    def return_stmt(self, value: ast.expr) -> ast.stmt:
        if self.fn.iteration is not None:
            return ast.Return(self.signal(3, value))
        if self.fn.is_module:
            raise self.error(N.Node(), "Illegal return statement")
        return ast.Return(value)

    def signal(self, code: int, payload: ast.expr) -> ast.expr:
        vars_ = [_name(v) for v in self.fn.loop_vars]
        return ast.Tuple([ast.Constant(code), payload, *vars_], LOAD)

    def s_ThrowStatement(self, node: N.Node) -> None:
        self.emit(ast.Raise(ast.Call(_h("JSThrow"), [self.expr(node.argument)], []), None), node)

    def s_IfStatement(self, node: N.Node) -> None:
        """``if … else if … else …``: the else-if chain is walked, not recursed into, so a chain
        of any length compiles. Each link's test is compiled where the nested form would put
        it: statements it emits (a function expression's def) open the enclosing else."""
        links = []
        link: N.Node | None = node
        while link is not None and link.type == "IfStatement":
            saved, self.out = self.out, []
            try:
                test = self.test(link.test)
                before = self.out
            finally:
                self.out = saved
            links.append((link, before, test, self.body_of(link.consequent)))
            link = link.alternate
        orelse = self.body_of(link) if link is not None else []
        for link, before, test, body in reversed(links):
            orelse = [*before, locate(ast.If(test, body, orelse), link)]
        self.out.extend(orelse)

    def s_TryStatement(self, node: N.Node) -> None:
        body = self.block(node.block.body)
        handlers = []
        if node.handler is not None:
            h = node.handler
            exc = self.fresh("e")
            saved = self.out
            self.out = []
            self.fn.scopes.append({})
            try:
                if h.param is not None:
                    from pipyd.js.compiler_names import pattern_names
                    for name in pattern_names(h.param):
                        self.declare(name, "let")
                    value = ast.Call(_h("catch_value"), [_name(exc)], [])
                    self.bind_pattern_stmt(h.param, value, "let", h, declared=True)
                self.hoist_lexical(h.body.body)
                for s in h.body.body:
                    self.stmt(s)
                hbody = self.out or [ast.Pass()]
            finally:
                self.fn.scopes.pop()
                self.out = saved
            handlers.append(ast.ExceptHandler(_h("Exception"), exc, hbody))
        final = self.block(node.finalizer.body) if node.finalizer is not None else []
        self.emit(ast.Try(body, handlers, [], final), node)

    # -------------------------------------------------------------- jumps

    def push_jump(self, kind: str, labels: set[str]) -> Jump:
        j = Jump(kind, labels, self.counter + 1)
        self.counter += 1
        self.jumps.append(j)
        return j

    def find_target(self, node: N.Node, is_continue: bool) -> Jump:
        label = node.label.name if node.label is not None else None
        for j in reversed(self.jumps):
            if label is not None:
                if label in j.labels:
                    if is_continue and j.kind not in ("loop", "fn"):
                        raise self.error(node, f"Illegal continue statement: '{label}' does not denote an iteration statement")
                    return j
            elif j.kind in ("loop", "fn") or (j.kind == "switch" and not is_continue):
                return j
        if label is not None:
            raise self.error(node, f"Undefined label '{label}'")
        raise self.error(node, "Illegal continue statement" if is_continue else "Illegal break statement")

    def s_BreakStatement(self, node: N.Node) -> None:
        self.jump(node, False)

    def s_ContinueStatement(self, node: N.Node) -> None:
        self.jump(node, True)

    def jump(self, node: N.Node, is_continue: bool) -> None:
        target = self.find_target(node, is_continue)
        inner = self.jumps[-1]
        code = target.cont_code if is_continue else target.break_code
        for e in reversed(self.jumps):
            if e is target:
                break
            e.passing.add(code)
            if e.kind == "fn":
                break
        if inner.kind == "fn":
            sig = (0 if is_continue else 1) if target is inner else 2
            self.emit(ast.Return(self.signal(sig, ast.Constant(code))), node)
            return
        if target is inner:
            if is_continue:
                target.continued = True
            self.emit(ast.Continue() if is_continue else ast.Break(), node)
            return
        self.fn.uses_jump = True
        self.emit(ast.Assign([_name(_JUMP, STORE)], ast.Constant(code), lineno=None), node)
        self.emit(ast.Break(), node)

    def after_loop(self, j: Jump, node: N.Node) -> None:
        """Forward a pending ``ǂjump`` once the Python loop of entry ``j`` has been left."""
        if not j.passing:
            return
        parent = self.jumps[-1]
        code = _name(_JUMP)
        stmts: list[ast.stmt] = []
        rest = j.passing - {parent.break_code, parent.cont_code}
        if parent.kind == "fn":
            if parent.break_code in j.passing:
                stmts.append(ast.If(_eq(code, parent.break_code), [ast.Return(self.signal(1, ast.Constant(0)))], []))
            if parent.cont_code in j.passing:
                stmts.append(ast.If(_eq(_name(_JUMP), parent.cont_code), [ast.Return(self.signal(0, ast.Constant(0)))], []))
            if rest:
                stmts.append(ast.Return(self.signal(2, _name(_JUMP))))
        else:
            reset = ast.Assign([_name(_JUMP, STORE)], ast.Constant(0), lineno=None)
            if parent.break_code in j.passing:
                stmts.append(ast.If(_eq(code, parent.break_code), [reset, ast.Break()], []))
            if parent.cont_code in j.passing:
                parent.continued = True
                stmts.append(ast.If(_eq(_name(_JUMP), parent.cont_code), [reset, ast.Continue()], []))
            if rest:
                stmts.append(ast.Break())
        parent.passing |= rest
        self.emit(ast.If(_name(_JUMP), stmts, []), node)

    def s_LabeledStatement(self, node: N.Node, labels: set[str] | None = None) -> None:
        labels = set(labels or ()) | {node.label.name}
        body = node.body
        if body.type in _LOOPS or body.type == "LabeledStatement":
            self.stmt(body, labels)
            return
        j = self.push_jump("block", labels)
        try:
            stmts = self.body_of(body) + [ast.Break()]
        finally:
            self.jumps.pop()
        self.emit(ast.While(ast.Constant(True), stmts, []), node)
        self.after_loop(j, node)

    # -------------------------------------------------------------- switch §14.12

    def s_SwitchStatement(self, node: N.Node) -> None:
        d = self.fresh("d")
        m = self.fresh("m")
        self.emit(ast.Assign([_name(d, STORE)], self.expr(node.discriminant), lineno=None), node)
        default = len(node.cases)
        chain: list[ast.stmt] = []
        tests = []
        for i, case in enumerate(node.cases):
            if case.test is None:
                default = i
                continue
            tests.append((i, case))
        # if/elif over the case tests in order; the default position when none matches
        orelse: list[ast.stmt] = [ast.Assign([_name(m, STORE)], ast.Constant(default), lineno=None)]
        for i, case in reversed(tests):
            test = ast.Call(_h("seq"), [_name(d), self.expr(case.test)], [])
            orelse = [ast.If(test, [ast.Assign([_name(m, STORE)], ast.Constant(i), lineno=None)], orelse)]
        chain = orelse
        j = self.push_jump("switch", set())
        self.fn.scopes.append({})
        saved = self.out
        try:
            self.out = []
            self.hoist_lexical([s for c in node.cases for s in c.consequent])
            for i, case in enumerate(node.cases):
                body = self.block(case.consequent, lexical=False)
                self.out.append(ast.If(ast.Compare(_name(m), [ast.LtE()], [ast.Constant(i)]), body, []))
            inner = self.out + [ast.Break()]
        finally:
            self.out = saved
            self.fn.scopes.pop()
            self.jumps.pop()
        for s in chain:
            self.emit(s, node)
        self.emit(ast.While(ast.Constant(True), inner, []), node)
        self.after_loop(j, node)

    # -------------------------------------------------------------- loops §14.7

    def s_WhileStatement(self, node: N.Node, labels: set[str] | None = None) -> None:
        j = self.push_jump("loop", labels or set())
        try:
            test = self.test(node.test)
            body = self.iteration_body(node, j, [], [])
        finally:
            self.jumps.pop()
        self.emit(ast.While(test, body, []), node)
        self.after_loop(j, node)

    def s_DoWhileStatement(self, node: N.Node, labels: set[str] | None = None) -> None:
        first = self.fresh("first")
        j = self.push_jump("loop", labels or set())
        try:
            body = self.iteration_body(node, j, [], [])
            test = self.test(node.test)
        finally:
            self.jumps.pop()
        self.emit(ast.Assign([_name(first, STORE)], ast.Constant(True), lineno=None), node)
        loop_test = ast.BoolOp(ast.Or(), [_name(first), test])
        reset = ast.Assign([_name(first, STORE)], ast.Constant(False), lineno=None)
        self.emit(ast.While(loop_test, [reset, *body], []), node)
        self.after_loop(j, node)

    def s_ForStatement(self, node: N.Node, labels: set[str] | None = None) -> None:
        self.fn.scopes.append({})
        try:
            self._for(node, labels or set())
        finally:
            self.fn.scopes.pop()

    def _for(self, node: N.Node, labels: set[str]) -> None:
        init = node.init
        head_vars: list[str] = []
        if init is not None:
            if init.type == "VariableDeclaration":
                if init.kind != "var":
                    self.hoist_lexical([init])
                    head_vars = [self.fn.scopes[-1][n].pyname for n in self.fn.scopes[-1]]
                self.s_VariableDeclaration(init)
            else:
                self.emit(ast.Expr(self.expr(init)), init)
        fresh = loop_needs_fresh_bindings(node)
        j = self.push_jump("loop", labels)
        try:
            if fresh:
                self._for_fresh(node, j, head_vars)
            else:
                test = self.test(node.test) if node.test is not None else ast.Constant(True)
                body = self.iteration_body(node, j, [], [])
                update = []
                if node.update is not None:
                    update = [locate_stmt(ast.Expr(self.effect_expr(node.update)), node.update)]
        finally:
            self.jumps.pop()
        if fresh:
            pass
        elif not j.continued:
            self.emit(ast.While(test, body + update, []), node)
        else:
            first = self.fresh("first")
            self.emit(ast.Assign([_name(first, STORE)], ast.Constant(True), lineno=None), node)
            step = ast.If(_name(first), [ast.Assign([_name(first, STORE)], ast.Constant(False), lineno=None)],
                          update or [ast.Pass()])
            stop = ast.If(ast.UnaryOp(ast.Not(), test), [ast.Break()], [])
            self.emit(ast.While(ast.Constant(True), [step, stop, *body], []), node)
        self.after_loop(j, node)

    def _for_fresh(self, node: N.Node, j: Jump, head_vars: list[str]) -> None:
        """A ``for(let…)`` whose bindings closures capture: one Python call per iteration."""
        first = self.fresh("first")
        fid = self.iteration_function(node, j, head_vars, [first], [])
        r = self.fresh("r")
        call = ast.Call(_name(fid), [_name(v) for v in head_vars] + [_name(first)], [])
        stmts = [ast.Assign([_name(r, STORE)], call, lineno=None),
                 ast.Assign([_name(first, STORE)], ast.Constant(False), lineno=None)]
        for i, v in enumerate(head_vars):
            stmts.append(ast.Assign([_name(v, STORE)],
                                    ast.Subscript(_name(r), ast.Constant(2 + i), LOAD), lineno=None))
        stmts += self.dispatch(r, j, node)
        self.emit(ast.Assign([_name(first, STORE)], ast.Constant(True), lineno=None), node)
        self.emit(ast.While(ast.Constant(True), stmts, []), node)

    def iteration_function(self, node: N.Node, j: Jump, params: list[str], extra: list[str],
                           pre: list[ast.stmt], item: tuple[N.Node, str] | None = None) -> str:
        """Emit ``def ǂitN(params…)`` running one iteration of ``node``; return its name."""
        fid = self.fresh("it")
        parent = self.fn
        fn = PyFunc(parent=parent, this_name=parent.this_name)
        fn.iteration = j
        fn.loop_vars = list(params)
        # the loop's let bindings are this function's parameters: re-declare them here
        head = parent.scopes[-1] if params else {}
        for name, b in list(head.items()):
            if b.pyname in params:
                from pipyd.js.compiler_names import Binding
                fn.scopes[0][name] = Binding(b.pyname, b.kind, fn)
        saved = self.out, self.jumps
        fj = Jump("fn", j.labels, j.id)
        self.fn, self.out, self.jumps = fn, [], self.jumps + [fj]
        try:
            if node.type == "ForStatement":
                flag = extra[0]
                if node.update is not None:
                    upd = locate_stmt(ast.Expr(self.effect_expr(node.update)), node.update)
                    self.out.append(ast.If(ast.UnaryOp(ast.Not(), _name(flag)), [upd], []))
                if node.test is not None:
                    stop = ast.If(ast.UnaryOp(ast.Not(), self.test(node.test)),
                                  [ast.Return(self.signal(1, ast.Constant(0)))], [])
                    self.out.append(locate(stop, node.test))
            if item is not None:
                self.for_target(item[0], _name(item[1]))
            for s in self.body_of(node.body):
                if not isinstance(s, ast.Pass):
                    self.out.append(s)
            self.out.append(ast.Return(self.signal(0, ast.Constant(0))))
            stmts = self.out
        finally:
            self.fn, (self.out, self.jumps) = parent, saved
        j.passing |= fj.passing
        head_stmts: list[ast.stmt] = []
        if fn.nonlocals:
            head_stmts.append(ast.Nonlocal(sorted(fn.nonlocals)))
        if fn.globals:
            head_stmts.append(ast.Global(sorted(fn.globals)))
        if fn.uses_jump:
            head_stmts.append(ast.Assign([_name(_JUMP, STORE)], ast.Constant(0), lineno=None))
        args = ast.arguments([], [ast.arg(p) for p in [*params, *extra]], None, [], [], None, [])
        self.emit(ast.FunctionDef(fid, args, head_stmts + stmts, [], None, None), node)
        return fid

    def dispatch(self, r: str, j: Jump, node: N.Node) -> list[ast.stmt]:
        """After an iteration call: act on its signal (break, return, outer jump)."""
        sig = ast.Subscript(_name(r), ast.Constant(0), LOAD)
        payload = ast.Subscript(_name(r), ast.Constant(1), LOAD)
        inner: list[ast.stmt] = [ast.If(_eq(sig, 1), [ast.Break()], [])]
        if not self.fn.is_module or self.fn.iteration is not None:
            inner.append(ast.If(_eq(ast.Subscript(_name(r), ast.Constant(0), LOAD), 3),
                                [self.return_stmt(payload)], []))
        if j.passing:
            self.fn.uses_jump = True
            inner += [ast.Assign([_name(_JUMP, STORE)],
                                 ast.Subscript(_name(r), ast.Constant(1), LOAD), lineno=None),
                      ast.Break()]
        return [ast.If(ast.Subscript(_name(r), ast.Constant(0), LOAD), inner, [])]

    def iteration_body(self, node: N.Node, j: Jump, params: list[str], extra: list[str],
                       item: tuple[N.Node, str] | None = None) -> list[ast.stmt]:
        """The Python loop body of a JS loop: inline, or a call of an iteration function."""
        if not loop_needs_fresh_bindings(node):
            saved = self.out
            self.out = []
            try:
                self.fn.scopes.append({})
                if item is not None:
                    self.hoist_lexical([item[0]] if item[0].type == "VariableDeclaration" else [])
                    self.for_target(item[0], _name(item[1]), declared=True)
                for s in self.body_of(node.body):
                    if not isinstance(s, ast.Pass):
                        self.out.append(s)
                return self.out or [ast.Pass()]
            finally:
                self.fn.scopes.pop()
                self.out = saved
        args = [item[1]] if item is not None else []
        fid = self.iteration_function(node, j, [], args, [], item)
        r = self.fresh("r")
        call = ast.Assign([_name(r, STORE)], ast.Call(_name(fid), [_name(a) for a in args], []), lineno=None)
        return [call, *self.dispatch(r, j, node)]

    def s_ForOfStatement(self, node: N.Node, labels: set[str] | None = None) -> None:
        self._for_each(node, labels or set(), "iterate")

    def s_ForInStatement(self, node: N.Node, labels: set[str] | None = None) -> None:
        self._for_each(node, labels or set(), "forin_keys")

    def _for_each(self, node: N.Node, labels: set[str], helper: str) -> None:
        v = self.fresh("v")
        source = ast.Call(_h(helper), [self.expr(node.right)], [])
        j = self.push_jump("loop", labels)
        try:
            body = self.iteration_body(node, j, [], [], (node.left, v))
        finally:
            self.jumps.pop()
        self.emit(ast.For(_name(v, STORE), source, body, [], lineno=None), node)
        self.after_loop(j, node)

    def for_target(self, left: N.Node, value: ast.expr, declared: bool = False) -> None:
        """Bind the loop variable of for-in/for-of to ``value``."""
        if left.type == "VariableDeclaration":
            d = left.declarations[0]
            if left.kind != "var" and not declared:
                self.hoist_lexical([left])
            self.bind_pattern_stmt(d.id, value, left.kind, d, declared=True)
        else:
            self.assign_target_stmt(left, value)


def locate_stmt(stmt: ast.stmt, node: N.Node) -> ast.stmt:
    return locate(stmt, node)  # type: ignore[return-value]
