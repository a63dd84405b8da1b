"""PipyJS compiler: an ESTree Program -> a Python ``ast.Module`` -> a code object.

The design (docs/internals/engine.md): a JS function is a Python ``def`` (arrows take their JS
parameters defaulting to ``undefined`` plus ``*rest`` for extra arguments; ``function``s also take
``this`` first and are wrapped in a JSFunction); expressions compile to Python expressions (walrus
for assignments, ``nonlocal``/``global`` for captured variables — Python closures are by reference,
as JS's); statements to statements. Every generated node carries the JS position, and the code
object's filename is the JS file's, so a Python traceback through compiled code is a JS backtrace.

This file holds the driver, functions and names; expressions, statements and destructuring
patterns are mixins in compiler_expr.py, compiler_stmt.py and compiler_patterns.py.

TDZ is approximated: a let/const read before its declaration ran is an unbound Python local,
reported as ``ReferenceError: Cannot access 'x' before initialization`` (at module level, as
``x is not defined``). ``arguments`` is approximated by a JSArray of the arguments (unaliased,
as in strict code): length and indices are JS's, but it is also an Array (``Array.isArray``,
array methods, ``[object Array]``) where JS has an arguments object.
"""
from __future__ import annotations

import ast
import copy
import gc
from typing import Any

from pipyd.js import nodes as N
from pipyd.js import runtime
from pipyd.js.compiler_calls import NamespaceCallMixin
from pipyd.js.compiler_expr import ExprMixin
from pipyd.js.compiler_names import (  # noqa: F401  (locate, span: re-exported for the mixins' callers)
    _POSITIONED, E, LOAD, STORE, Binding, PyFunc, lexical_decls, locate, mangle, nodes_under, pattern_names, span,
    uses_arguments, var_names,
)
from pipyd.js.compiler_patterns import PatternMixin
from pipyd.js.compiler_pure import PureChainMixin
from pipyd.js.compiler_stmt import StmtMixin
from pipyd.js.errors import JSSyntaxError

RESULT = E + "result"


def H(name: str) -> ast.expr:
    """A reference to a runtime helper in the module globals (``ǂget``…)."""
    return ast.Name(E + name, LOAD)


def hcall(name: str, *args: ast.expr) -> ast.expr:
    return ast.Call(H(name), list(args), [])


def const(v: Any) -> ast.expr:
    return ast.Constant(v)


def load(name: str) -> ast.expr:
    return ast.Name(name, LOAD)


def store(name: str) -> ast.expr:
    return ast.Name(name, STORE)


def assign(name: str, value: ast.expr) -> ast.stmt:
    return ast.Assign([store(name)], value, lineno=None)


# Per AST class: (whether it carries a position, the fields that may hold child nodes). Fields
# that hold names, operators, contexts or constants are left out so the walk never looks at them.
_NOT_CHILD = frozenset(("ctx", "op", "ops", "id", "attr", "name", "names", "type_comment",
                        "conversion", "is_async", "kind", "arg", "module", "level", "asname"))
_WALK_INFO: dict[type, tuple[bool, tuple[str, ...]]] = {}


def _walk_info(cls: type) -> tuple[bool, tuple[str, ...]]:
    fields = () if cls is ast.Constant else tuple(f for f in getattr(cls, "_fields", ()) if f not in _NOT_CHILD)
    info = _WALK_INFO[cls] = (cls in _POSITIONED, fields)
    return info


def _fill_positions(mod: ast.Module) -> None:
    """One top-down pass: every node without a position takes its nearest positioned
    ancestor's (locate's rule), and what has none above it (the module prologue) takes 1:0.
    Leaves (names and constants, half the nodes) are positioned from their parent without
    being pushed."""
    infos = _WALK_INFO
    name_cls, const_cls = ast.Name, ast.Constant
    stack: list[tuple[ast.AST, tuple[int, int, int, int]]] = [(n, (1, 0, 1, 0)) for n in mod.body]
    pop = stack.pop
    push = stack.append
    while stack:
        n, pos = pop()
        cls = type(n)
        info = infos.get(cls) or _walk_info(cls)
        if info[0]:
            d = n.__dict__
            if d.get("lineno") is None:
                n.lineno, n.col_offset, n.end_lineno, n.end_col_offset = pos
            else:
                pos = (d["lineno"], d["col_offset"], d["end_lineno"], d["end_col_offset"])
        for name in info[1]:
            v = getattr(n, name, None)
            if v is None:
                continue
            for x in (v if type(v) is list else (v,)):
                c = type(x)
                if c is name_cls or c is const_cls:
                    if x.__dict__.get("lineno") is None:
                        x.lineno, x.col_offset, x.end_lineno, x.end_col_offset = pos
                elif x is not None:
                    push((x, pos))


class Compiler(ExprMixin, NamespaceCallMixin, PureChainMixin, StmtMixin, PatternMixin):
    """Compiles one Program; ``compile_program`` is the entry point."""

    def __init__(self, filename: str, not_context: frozenset[str] = frozenset()) -> None:
        self.filename = filename
        # Free names compiled as inline context-variable reads (scope.py, "fast path"), and the
        # names that must not be (they turned out to be module globals: engine.CompiledModule).
        self.guessed: set[str] = set()
        self.not_context = not_context
        self.counter = 0
        self.last_node: N.Node | None = None  # the node being compiled (expr, stmt)
        self.fn = PyFunc(parent=None, is_module=True)
        self.out: list[ast.stmt] = []
        self.jumps: list[Any] = []
        self.fn_info: dict[str, tuple[str, int]] = {}
        self.chain: list[ast.expr] | None = None  # guards of the optional chain being compiled
        self.callees: dict[tuple[int, int], str] = {}  # (line, col) of a direct call -> callee name
        self.member_tables: dict[tuple[str, str], str] = {}  # (getters|invokers, name) -> global
        self.site_caches: list[str] = []  # globals of per-site inline caches (None at start)
        self.host_names = runtime.host_member_names()  # member reads test these as host attributes first

    # -------------------------------------------------------------- small tools

    def fresh(self, prefix: str = "t") -> str:
        self.counter += 1
        return f"{E}{prefix}{self.counter}"

    def error(self, node: N.Node, message: str) -> JSSyntaxError:
        return JSSyntaxError(message, self.filename, max(node.line, 1), node.col)

    def emit(self, stmt: ast.stmt, node: N.Node) -> None:
        self.out.append(locate(stmt, node))

    def site_cache(self) -> str:
        """A fresh module global for one site's inline cache, set to None at module start."""
        name = self.fresh("k")
        self.site_caches.append(name)
        return name

    def member_table(self, kind: str, key: str) -> ast.expr:
        """The module-level name of runtime.getters(key) / invokers(key) (see runtime.py)."""
        name = self.member_tables.get((kind, key))
        if name is None:
            name = self.member_tables[(kind, key)] = self.fresh(kind[0])
        return load(name)

    # -------------------------------------------------------------- bindings

    def declare(self, name: str, kind: str, scope_index: int = -1) -> Binding:
        """Bind a JS name in the current block scope. Names of the function's top scope keep
        their Python name; nested blocks get a fresh one so shadowing needs no Python scope."""
        scopes = self.fn.scopes
        top = scope_index == 0 or len(scopes) == 1
        pyname = mangle(name) if top else f"{mangle(name)}{E}{self.counter + 1}"
        if not top:
            self.counter += 1
        b = Binding(pyname, kind, self.fn)
        scopes[scope_index][name] = b
        return b

    def read_name(self, name: str) -> ast.expr:
        b = self.fn.lookup(name)
        if b is None:
            if name == "undefined":
                return H("u")
            if name == "__inbound" and name not in self.not_context:
                return self.inbound_read()
            if self.is_context_guess(name):
                # ``d[k] if (c := ACTIVE.current) is not None and k in (d := c.data[S.index])
                # else k``: the module's own context variable in one dict test; anything else
                # (imports, globals, errors) through the plain global load and ModuleScope.
                c, d = self.fresh("c"), self.fresh("d")
                read = ast.IfExp(self.context_test(name, c, d), ast.Subscript(load(d), const(name), LOAD),
                                 load(mangle(name)))
                read.context_read = name  # type: ignore[attr-defined]  (see assign_stmt)
                return read
            return load(mangle(name))
        return load(b.pyname)

    def is_context_guess(self, name: str) -> bool:
        """Free names that start with ``_`` are taken for context variables (Pipy's convention:
        ``pipy({_target: ''})``); the guess is exact because a miss falls back to the full
        resolution and a clash with a module global recompiles without it (engine.py)."""
        if name[:1] != "_" or name in ("__filename", "__inbound") or name in self.not_context:
            return False
        self.guessed.add(name)
        return True

    def context_test(self, name: str, c: str, d: str) -> ast.expr:
        data = ast.Subscript(ast.Attribute(load(c), "data", LOAD),
                             ast.Attribute(load("__builtins__"), "index", LOAD), LOAD)
        return ast.BoolOp(ast.And(), [
            ast.Compare(ast.NamedExpr(store(c), ast.Attribute(H("A"), "current", LOAD)),
                        [ast.IsNot()], [const(None)]),
            ast.Compare(const(name), [ast.In()], [ast.NamedExpr(store(d), data)])])

    def inbound_read(self) -> ast.expr:
        """``__inbound``: the running context's inbound, unless a context variable or an import
        of that name comes first (scope.ModuleScope order); other cases through ModuleScope.
        Where the loader found no such variable (``ModuleScope.plain_inbound``) the context's
        inbound is read at once: ``i if (c := A.current) is not None and S.plain_inbound and
        (i := c.inbound) is not None else <the full order>``."""
        self.guessed.add("__inbound")
        c, d, i = self.fresh("c"), self.fresh("d"), self.fresh("i")
        own = self.context_test("__inbound", c, d)
        direct = ast.BoolOp(ast.And(), [
            ast.Compare(ast.NamedExpr(store(i), ast.Attribute(load(c), "inbound", LOAD)),
                        [ast.IsNot()], [const(None)]),
            ast.Compare(const("__inbound"), [ast.NotIn()],
                        [ast.Attribute(load("__builtins__"), "imports", LOAD)])])
        fallback = load("__inbound")
        full = ast.IfExp(own, ast.Subscript(load(d), const("__inbound"), LOAD),
                         ast.IfExp(ast.BoolOp(ast.And(), [
                             ast.Compare(load(c), [ast.IsNot()], [const(None)]), direct]), load(i), fallback))
        quick = ast.BoolOp(ast.And(), [
            ast.Compare(ast.NamedExpr(store(c), ast.Attribute(H("A"), "current", LOAD)),
                        [ast.IsNot()], [const(None)]),
            ast.Attribute(load("__builtins__"), "plain_inbound", LOAD),
            ast.Compare(ast.NamedExpr(store(i), ast.Attribute(load(c), "inbound", LOAD)),
                        [ast.IsNot()], [const(None)])])
        return ast.IfExp(quick, load(i), full)

    def write_name(self, name: str, value: ast.expr, declaring: bool = False) -> ast.expr:
        """An expression assigning ``value`` to a JS name (its value is ``value``)."""
        b = self.fn.lookup(name)
        if b is None:
            slow = ast.Call(ast.Attribute(load("__builtins__"), "assign", LOAD), [const(name), value], [])
            if not self.is_context_guess(name):
                return slow
            # ``setitem(d, k, v) or v if (v := value) is v and <own context variable> else
            # S.assign(k, v)``: the value first (§13.15.2), then one dict store.
            v, c, d = self.fresh("v"), self.fresh("c"), self.fresh("d")
            test = ast.BoolOp(ast.And(), [ast.Compare(ast.NamedExpr(store(v), value), [ast.Is()], [load(v)]),
                                          *self.context_test(name, c, d).values])
            fast = ast.BoolOp(ast.Or(), [hcall("setitem", load(d), const(name), load(v)), load(v)])
            slow.args[1] = load(v)
            return ast.IfExp(test, fast, slow)
        if b.kind == "fself" and not declaring:
            return value  # assigning a named function expression's own name is a no-op
        if b.kind == "const" and not declaring:
            return ast.Subscript(ast.Tuple([value, hcall("const_assign", const(name))], LOAD),
                                 const(0), LOAD)
        self._note_write(b)
        return ast.NamedExpr(store(b.pyname), value)

    def _note_write(self, b: Binding) -> None:
        if b.owner is not self.fn:
            if b.owner.is_module:
                self.fn.globals.add(b.pyname)
            else:
                self.fn.nonlocals.add(b.pyname)

    def assign_stmt(self, name: str, value: ast.expr, declaring: bool = False) -> ast.stmt:
        """A statement form of write_name (a plain ``x = v`` where possible)."""
        b = self.fn.lookup(name)
        if b is None and self.is_context_guess(name):
            # ``if <own context variable k in d>: d[k] = value' else: S.assign(k, value)``. The
            # reference is resolved before the value is evaluated, as §13.15.2 orders it, so
            # value' may read k from ``d`` directly (``_n = _n + 1``: one context lookup).
            c, d = self.fresh("c"), self.fresh("d")
            fast = _ContextReads(name, d).visit(copy.deepcopy(value))
            put = ast.Assign([ast.Subscript(load(d), const(name), STORE)], fast, lineno=None)
            slow = ast.Call(ast.Attribute(load("__builtins__"), "assign", LOAD), [const(name), value], [])
            return ast.If(self.context_test(name, c, d), [put], [ast.Expr(slow)])
        if b is None or (b.kind in ("const", "fself") and not declaring):
            return ast.Expr(self.write_name(name, value, declaring))
        self._note_write(b)
        return assign(b.pyname, value)

    # -------------------------------------------------------------- program

    def compile_program(self, program: N.Program) -> ast.Module:
        body = program.body
        self.out = out = []
        self.hoist(body, module=True)
        for stmt in body:
            self.stmt(stmt)
        prologue = [assign(pyname, hcall(kind, const(key)))  # bound once, at module start
                    for (kind, key), pyname in reversed(self.member_tables.items())]
        if self.site_caches:  # ǂk1 = ǂk2 = … = None: one statement for every inline cache
            prologue.append(ast.Assign([store(name) for name in self.site_caches], const(None), lineno=None))
        prologue.append(assign(RESULT, H("u")))
        if self.fn.uses_jump:
            prologue.append(assign(E + "jump", const(0)))
        mod = ast.Module(prologue + out, [])
        _fill_positions(mod)
        return mod

    def top_level_names(self) -> list[str]:
        root = self.fn
        while root.parent is not None:
            root = root.parent
        return list(root.scopes[0])

    def hoist(self, body: list[N.Node], module: bool = False) -> None:
        """Function-level declarations (§10.2.11 FunctionDeclarationInstantiation): vars set
        to undefined, function declarations created first, let/const bound (uninitialised)."""
        scope = self.fn.scopes[-1]
        for name in var_names(body):
            if name not in scope or scope[name].kind == "fself":
                b = self.declare(name, "var")
                if not module or name not in ("undefined",):
                    self.out.append(assign(b.pyname, H("u")))
        self.hoist_lexical(body)

    def hoist_lexical(self, body: list[N.Node]) -> None:
        scope = self.fn.scopes[-1]
        for name, kind in lexical_decls(body):
            if name in scope and scope[name].kind not in ("param", "fself"):
                if kind != "function" and scope[name].kind not in ("var", "function"):
                    raise self.error(body[0], f"Identifier '{name}' has already been declared")
                continue
            self.declare(name, kind)
        for stmt in body:
            if stmt.type == "FunctionDeclaration":
                value = self.function(stmt, stmt.id.name)
                self.emit(ast.Expr(self.write_name(stmt.id.name, value, declaring=True)), stmt)

    # -------------------------------------------------------------- functions

    def function(self, node: N.Node, name: str = "") -> ast.expr:
        """Emit a ``def`` for a JS function into the current statement list; return its value."""
        arrow = node.type == "ArrowFunctionExpression"
        fid = self.fresh("f")
        parent = self.fn
        fn = PyFunc(parent=parent, this_name=parent.this_name if arrow else E + "this")
        saved = self.out, self.jumps, self.chain
        self.fn, self.out, self.jumps, self.chain = fn, [], [], None
        if not arrow and node.type == "FunctionExpression" and node.id is not None:
            # The function's own name is visible only inside it (§15.2.5): a closure cell of
            # the parent, assigned when the function value is made.
            fn.scopes[0][node.id.name] = Binding(self.fresh("self"), "fself", parent)
        try:
            args, length = self.parameters(node, arrow)
            body = node.body
            if body.type == "BlockStatement":
                self.hoist(body.body)
                for stmt in body.body:
                    self.stmt(stmt)
                if not self.out or not isinstance(self.out[-1], ast.Return):
                    self.out.append(ast.Return(H("u")))  # falling off the end gives undefined
            else:
                self.emit(ast.Return(self.expr(body)), body)
            stmts = self.out
        finally:
            self.fn, self.out, self.jumps, self.chain = fn.parent, *saved
        self.fn_info[fid] = (name, length)
        head: list[ast.stmt] = []
        if fn.nonlocals:
            head.append(ast.Nonlocal(sorted(fn.nonlocals)))
        if fn.globals:
            head.append(ast.Global(sorted(fn.globals)))
        if fn.uses_jump:
            head.append(assign(E + "jump", const(0)))
        fdef = ast.FunctionDef(fid, args, head + stmts or [ast.Pass()], [], None, None)
        self.emit(fdef, node)
        value = load(fid)
        if not arrow:
            value = hcall("mkfn", value)
            if node.type == "FunctionExpression" and node.id is not None and _refers_to(node.body, node.id.name):
                # Each evaluation makes a new function whose own name is bound to itself: a
                # factory call gives every instance its own cell (§15.2.5).
                holder = fn.scopes[0][node.id.name].pyname
                self.out.pop()
                mk = self.fresh("mk")
                no_args = ast.arguments([], [], None, [], [], None, [])
                factory = ast.FunctionDef(mk, no_args, [fdef, assign(holder, value), ast.Return(load(holder))],
                                          [], None, None)
                self.emit(factory, node)
                return ast.Call(load(mk), [], [])
        return value

    def parameters(self, node: N.Node, arrow: bool) -> tuple[ast.arguments, int]:
        """The Python signature of a JS function and the statements that finish binding its
        parameters (defaults, rest, patterns). Returns (arguments, JS length)."""
        fn = self.fn
        params = node.params
        scope = fn.scopes[-1]
        for p in params:
            for name in pattern_names(p):
                scope[name] = Binding(mangle(name), "param", fn)
        args = ast.arguments([], [], None, [], [], None, [])
        if not arrow:
            args.args.append(ast.arg(E + "this"))
        length = 0
        counting = True
        with_arguments = not arrow and uses_arguments(node)
        if with_arguments:
            args.vararg = ast.arg(E + "args")
            b = fn.scopes[-1].setdefault("arguments", Binding("arguments", "var", fn))
            self.out.append(assign(b.pyname, ast.Call(H("JSArray"), [load(E + "args")], [])))
        for i, p in enumerate(params):
            if p.type == "RestElement":
                counting = False
                if with_arguments:
                    value = hcall("rest_args", load(E + "args"), const(i))
                else:
                    pyname = self.fresh("rest")
                    args.vararg = ast.arg(pyname)
                    value = ast.Call(H("JSArray"), [load(pyname)], [])
                self.bind_pattern_stmt(p.argument, value, "let", p)
                continue
            if p.type == "AssignmentPattern":
                counting = False
            elif counting:
                length += 1
            if p.type == "Identifier" and not with_arguments:
                args.args.append(ast.arg(mangle(p.name)))
                args.defaults.append(H("u"))
                continue
            if with_arguments:
                value = hcall("arg", load(E + "args"), const(i))
            else:
                pyname = self.fresh("p")
                args.args.append(ast.arg(pyname))
                args.defaults.append(H("u"))
                value = load(pyname)
            self.bind_pattern_stmt(p, value, "let", p)
        if args.vararg is None:
            args.vararg = ast.arg(E + "_")
        return args, length


class _ContextReads(ast.NodeTransformer):
    """Rewrites reads of context variable ``name`` (read_name's marked IfExp) as ``d[name]``,
    for an assignment whose target reference already found ``name`` in dict ``d``."""

    def __init__(self, name: str, d: str) -> None:
        self.name, self.d = name, d

    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        if getattr(node, "context_read", None) == self.name:
            return ast.Subscript(load(self.d), const(self.name), LOAD)
        return self.generic_visit(node)


def _refers_to(body: N.Node, name: str) -> bool:
    """Whether an identifier ``name`` occurs in ``body`` (conservatively: any occurrence)."""
    return any(n.type == "Identifier" and n.name == name for n in [body, *nodes_under(body)])


def compile_program(program: N.Program, filename: str,
                    not_context: frozenset[str] = frozenset()) -> tuple[Any, list[str]]:
    """Compile a parsed Program; returns (code object, top-level names)."""
    code, names, _ = compile_program_ex(program, filename, not_context)
    return code, names


def compile_program_ex(program: N.Program, filename: str,
                       not_context: frozenset[str] = frozenset()) -> tuple[Any, list[str], frozenset[str]]:
    """compile_program, also returning the free names compiled as context-variable reads
    (``not_context`` lists names that must stay plain global loads)."""
    c = Compiler(filename, not_context)
    # The compiler allocates tens of thousands of AST nodes and no garbage cycles: the cyclic
    # collector's passes triggered by those allocations cost about a third of compile time.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        mod = c.compile_program(program)
    except RecursionError:  # nesting no flat form absorbs (compile_chain): the script's error
        raise c.error(c.last_node or program, _TOO_DEEP) from None
    finally:
        if was_enabled:
            gc.enable()
    try:
        code = compile(mod, filename, "exec", dont_inherit=True)
    except (RecursionError, SyntaxError, MemoryError) as e:
        raise _python_limit(e, mod, filename) from None
    code = _name_functions(code, c.fn_info, c.callees)
    return code, c.top_level_names(), frozenset(c.guessed)


_TOO_DEEP = "Expression or statement nested too deeply"


def _python_limit(exc: BaseException, mod: ast.Module, filename: str) -> JSSyntaxError:
    """CPython's compiler refused the generated code: a limit of Python's, not JS syntax (20
    nested loop/try/with blocks in one function, its own recursion depth). Reported at the JS
    position it gives, or else at the deepest point of the tree, with what to change."""
    if isinstance(exc, SyntaxError) and exc.lineno:
        what = str(exc.msg)
        if "nested blocks" in what:
            what = "Too many loops, try and switch statements nested in one function (Python allows 20)"
        return JSSyntaxError(what, filename, exc.lineno, max((exc.offset or 1) - 1, 0))
    deepest, depth = mod, 0
    stack: list[tuple[ast.AST, int]] = [(mod, 0)]
    while stack:
        n, d = stack.pop()
        if d > depth and getattr(n, "lineno", None):
            deepest, depth = n, d
        stack.extend((k, d + 1) for k in ast.iter_child_nodes(n))
    return JSSyntaxError(_TOO_DEEP, filename, getattr(deepest, "lineno", 1) or 1, getattr(deepest, "col_offset", 0) or 0)


def _name_functions(code: Any, info: dict[str, tuple[str, int]], callees: dict) -> Any:
    """Rename generated defs (``ǂf3``) to their JS names and register name/length per code,
    and the module's direct call sites (runtime.CALL_SITES, for "f is not a function")."""
    consts = tuple(_name_functions(k, info, callees) if hasattr(k, "co_code") else k for k in code.co_consts)
    meta = info.get(code.co_name)  # (the only lambdas are arrow_lambda's: ``<lambda>``)
    if meta is not None:
        js_name = meta[0] or "(anonymous)"
        code = code.replace(co_consts=consts, co_name=js_name, co_qualname=js_name)
        runtime.FN_INFO[code] = meta
    else:
        code = code.replace(co_consts=consts)
    if callees:
        runtime.CALL_SITES[code] = callees
    return code

