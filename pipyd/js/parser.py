"""PipyJS parser: hand-written recursive descent producing ESTree nodes (pipyd.js.nodes).

Expressions use precedence climbing for the binary operators (one call per operand instead of
one per grammar level). Arrow parameters and destructuring assignment targets are parsed first as
expressions and converted to patterns when ``=>`` or ``=`` follows (the "cover grammars" of
ECMA-262 §13.2.5 and §13.15.5). Automatic semicolon insertion follows §12.9 using the
lexer's newline-before flag. Patterns are in parser_patterns.py, statements in
parser_statements.py (mixins of ``Parser``).
"""
from __future__ import annotations

from . import nodes as N
from .errors import JSSyntaxError
from .lexer import KEYWORDS, Lexer, Token
from .parser_patterns import PatternMixin
from .parser_statements import (  # noqa: F401  (re-exported: the language's left-out parts)
    _NAME_ERRORS, NO_ASYNC, NO_AWAIT, NO_GENERATORS, NO_YIELD, UNSUPPORTED, StatementMixin,
)

# §13.6-§13.13 binary operators, tighter binding = higher number. `??` sits below `||` so that
# mixing them without parentheses is caught by the check in _binary (§13.13 CoalesceExpression).
BINARY_PREC = {
    "??": 1, "||": 2, "&&": 3, "|": 4, "^": 5, "&": 6,
    "==": 7, "!=": 7, "===": 7, "!==": 7,
    "<": 8, ">": 8, "<=": 8, ">=": 8, "instanceof": 8, "in": 8,
    "<<": 9, ">>": 9, ">>>": 9, "+": 10, "-": 10, "*": 11, "/": 11, "%": 11, "**": 12,
}
LOGICAL = frozenset(("??", "||", "&&"))
ASSIGN_OPS = frozenset("= += -= *= /= %= **= <<= >>= >>>= &= |= ^= &&= ||= ??=".split())
UNARY_OPS = frozenset(("delete", "void", "typeof", "+", "-", "!", "~"))


class Parser(StatementMixin, PatternMixin):
    """One parse of one source text; see ``parse``."""

    def __init__(self, source: str, filename: str = "<eval>") -> None:
        self.lx = Lexer(source, filename)
        self.tok: Token = self.lx.next()
        self.prev_end = 0  # source offset where the last consumed token ended
        self.parens: set[N.Node] = set()  # expressions written inside ( )
        self.cover_inits: list[Token] = []  # `{a = 1}` waiting to become a pattern
        self.in_function = False
        self.labels: list[list] = []  # [name, labels a loop]
        # the labels directly enclosing a label that would start at the given token
        self.label_chain: tuple[list[list], Token] | None = None
        self.loops = 0  # enclosing iteration statements (continue targets)
        self.breakables = 0  # enclosing loops and switches (break targets)

    # -- token helpers -------------------------------------------------------------------
    def advance(self) -> Token:
        tok = self.tok
        self.prev_end = tok.end
        self.tok = self.lx.next()
        return tok

    def expect(self, type_: str) -> Token:
        if self.tok.type != type_:
            self.unexpected()
        return self.advance()

    def fin(self, node: N.Node, start: Token | N.Node) -> N.Node:
        """Give ``node`` the span from ``start`` to the end of the last consumed token."""
        node.line = start.line
        node.col = start.col
        node.end_line, node.end_col = self.lx.loc(self.prev_end)
        return node

    def error(self, message: str, at: Token | N.Node | None = None) -> JSSyntaxError:
        at = at or self.tok
        if isinstance(at, Token):
            return self.lx.error(message, at.start)
        return JSSyntaxError(message, self.lx.filename, at.line, at.col,
                             self.lx.source_line(at.line))

    def unexpected(self, tok: Token | None = None) -> None:
        tok = tok or self.tok
        t = tok.type
        if t == "eof":
            msg = "Unexpected end of input"
        elif t == "name":
            msg = _NAME_ERRORS.get(tok.value) or f"Unexpected identifier '{tok.value}'"
        elif t in _TOKEN_WORDS:
            msg = _TOKEN_WORDS[t]
        elif t in UNSUPPORTED:
            msg = UNSUPPORTED[t]
        else:
            msg = f"Unexpected token '{t}'"
        raise self.lx.error(msg, tok.start)

    def semicolon(self) -> None:
        """Consume a `;` or insert one (§12.9: before `}`, at the end, after a newline)."""
        t = self.tok
        if t.type == ";":
            self.advance()
        elif not (t.nl or t.type == "}" or t.type == "eof"):
            self.unexpected()

    # -- expressions ---------------------------------------------------------------------
    def expression(self, no_in: bool = False, cover: bool = False) -> N.Node:
        """Expression (§13.16): assignment expressions separated by commas."""
        start = self.tok
        expr = self.assign(no_in, cover)
        if self.tok.type != ",":
            return expr
        items = [expr]
        while self.tok.type == ",":
            self.advance()
            items.append(self.assign(no_in, cover))
        return self.fin(N.SequenceExpression(items), start)

    def assign(self, no_in: bool = False, cover: bool = False) -> N.Node:
        """AssignmentExpression (§13.15); ``cover`` defers `{a = 1}` checks to the caller."""
        start = self.tok
        mark = len(self.cover_inits)
        left = self.conditional(no_in)
        op = self.tok.type
        if op not in ASSIGN_OPS:
            if not cover and len(self.cover_inits) > mark:
                raise self.error("Invalid shorthand property initializer", self.cover_inits[mark])
            return left
        kind = type(left)
        if op == "=" and (kind is N.ObjectExpression or kind is N.ArrayExpression) \
                and left not in self.parens:
            left = self.to_pattern(left, False)
            del self.cover_inits[mark:]
        elif kind is not N.Identifier and kind is not N.MemberExpression:
            raise self.error("Invalid left-hand side in assignment", left)
        if len(self.cover_inits) > mark:
            raise self.error("Invalid shorthand property initializer", self.cover_inits[mark])
        self.advance()
        right = self.assign(no_in)
        return self.fin(N.AssignmentExpression(op, left, right), start)

    def conditional(self, no_in: bool) -> N.Node:
        start = self.tok
        test = self.binary(0, no_in)
        if self.tok.type != "?" or (type(test) is N.ArrowFunctionExpression and
                                    test not in self.parens):
            return test
        self.advance()
        consequent = self.assign()
        self.expect(":")
        alternate = self.assign(no_in)
        return self.fin(N.ConditionalExpression(test, consequent, alternate), start)

    def binary(self, min_prec: int, no_in: bool) -> N.Node:
        """Precedence climbing over BINARY_PREC; `**` is right-associative (§13.6)."""
        start = self.tok  # a `(` before the left operand starts the whole chain
        left = self.unary()
        while True:
            op = self.tok.type
            prec = BINARY_PREC.get(op)
            if prec is None or prec < min_prec or (no_in and op == "in"):
                return left
            kind = type(left)
            if kind is N.ArrowFunctionExpression and left not in self.parens:
                # `() => {} + 1`: an arrow function is never an operand without parentheses
                return left
            if op == "**" and kind is N.UnaryExpression and left not in self.parens:
                raise self.error("Unary operator used immediately before exponentiation "
                                 "expression. Parenthesis must be used to disambiguate "
                                 "operator precedence")
            if op in LOGICAL:
                # §13.13: `a ?? b || c` and `a || b ?? c` need parentheses. The right operand
                # of `??` stops below `&&`, so every mix shows up here with `left` as `??`.
                if kind is N.LogicalExpression and left not in self.parens and \
                        (left.operator == "??") != (op == "??"):
                    self.unexpected()
                self.advance()
                right = self.binary(4 if op == "??" else prec + 1, no_in)
                node = N.LogicalExpression(op, left, right)
            else:
                self.advance()
                right = self.binary(prec if op == "**" else prec + 1, no_in)
                node = N.BinaryExpression(op, left, right)
            left = self.fin(node, start)

    def unary(self) -> N.Node:
        tok = self.tok
        t = tok.type
        if t in UNARY_OPS:
            self.advance()
            arg = self.unary()
            return self.fin(N.UnaryExpression(t, True, arg), tok)
        if t == "++" or t == "--":
            self.advance()
            arg = self.unary()
            if type(arg) is not N.Identifier and type(arg) is not N.MemberExpression:
                raise self.error("Invalid left-hand side expression in prefix operation", arg)
            return self.fin(N.UpdateExpression(t, True, arg), tok)
        expr = self.lhs()
        t = self.tok.type
        if (t == "++" or t == "--") and not self.tok.nl:  # §12.9.1 restricted production
            if type(expr) is N.ArrowFunctionExpression and expr not in self.parens:
                return expr
            if type(expr) is not N.Identifier and type(expr) is not N.MemberExpression:
                raise self.error("Invalid left-hand side expression in postfix operation", expr)
            self.advance()
            return self.fin(N.UpdateExpression(t, False, expr), tok)
        return expr

    def lhs(self) -> N.Node:
        """LeftHandSideExpression: new, calls, member access, optional chains (§13.3)."""
        start = self.tok
        expr = self.new_expression() if start.type == "new" else self.primary()
        if type(expr) is N.ArrowFunctionExpression and expr not in self.parens:
            # `() => {}()` is not a call (§15.3: an arrow is an AssignmentExpression)
            return expr
        return self.subscripts(expr, start, False)

    def new_expression(self) -> N.Node:
        start = self.advance()
        if self.tok.type == ".":
            raise self.error("'new.target' is not supported in PipyJS")
        callee_start = self.tok
        callee = self.new_expression() if callee_start.type == "new" else self.primary()
        callee = self.subscripts(callee, callee_start, True)
        args = self.arguments() if self.tok.type == "(" else []
        return self.fin(N.NewExpression(callee, args), start)

    def subscripts(self, expr: N.Node, start: Token, no_call: bool) -> N.Node:
        chained = False
        while True:
            t = self.tok.type
            if t == ".":
                self.advance()
                expr = self.fin(N.MemberExpression(expr, self.identifier_name(), False, False),
                                start)
            elif t == "[":
                self.advance()
                prop = self.expression()
                self.expect("]")
                expr = self.fin(N.MemberExpression(expr, prop, True, False), start)
            elif t == "(" and not no_call:
                if type(expr) is N.Identifier and expr.name == "async" and \
                        expr not in self.parens:
                    args = self.arguments()
                    if self.tok.type == "=>":
                        raise self.error(NO_ASYNC, start)
                else:
                    args = self.arguments()
                expr = self.fin(N.CallExpression(expr, args, False), start)
            elif t == "?.":
                if no_call:
                    raise self.error("Invalid optional chain from new expression")
                chained = True
                expr = self._optional_link(expr, start)
            elif t == "template":
                if chained:
                    raise self.error("Invalid tagged template on optional chain")
                quasi = self.template(True)
                expr = self.fin(N.TaggedTemplateExpression(expr, quasi), start)
            else:
                break
        if chained:  # ESTree wraps a whole chain `a?.b.c()` in one ChainExpression
            expr = self.fin(N.ChainExpression(expr), start)
        return expr

    def _optional_link(self, expr: N.Node, start: Token) -> N.Node:
        self.advance()
        t = self.tok.type
        if t == "(":
            return self.fin(N.CallExpression(expr, self.arguments(), True), start)
        if t == "[":
            self.advance()
            prop = self.expression()
            self.expect("]")
            return self.fin(N.MemberExpression(expr, prop, True, True), start)
        if t == "template":
            raise self.error("Invalid tagged template on optional chain")
        return self.fin(N.MemberExpression(expr, self.identifier_name(), False, True), start)

    def arguments(self) -> list[N.Node]:
        self.expect("(")
        args = []
        while self.tok.type != ")":
            if self.tok.type == "...":
                start = self.advance()
                args.append(self.fin(N.SpreadElement(self.assign()), start))
            else:
                args.append(self.assign())
            if self.tok.type != ")":
                self.expect(",")
        self.advance()
        return args

    def identifier_name(self) -> N.Node:
        """IdentifierName (§12.7): reserved words are fine after `.` and as property keys."""
        tok = self.tok
        if tok.type != "name" and tok.type not in KEYWORDS:
            self.unexpected()
        self.advance()
        return self.fin(N.Identifier(tok.value), tok)

    def identifier(self) -> N.Node:
        """An IdentifierReference or BindingIdentifier: a name that is not reserved."""
        tok = self.tok
        if tok.type != "name" or tok.value in _NAME_ERRORS:
            self.unexpected()
        self.advance()
        return self.fin(N.Identifier(tok.value), tok)

    def primary(self) -> N.Node:
        tok = self.tok
        t = tok.type
        if t == "name":
            return self._name_or_arrow(tok)
        method = _PRIMARY.get(t)
        if method is not None:
            return method(self, tok)
        self.unexpected()

    def _name_or_arrow(self, tok: Token) -> N.Node:
        name = tok.value
        if name in _NAME_ERRORS:
            self._reserved_name(tok)
        self.advance()
        ident = self.fin(N.Identifier(name), tok)
        nxt = self.tok
        if nxt.type == "=>" and not nxt.nl:
            return self.arrow_body([ident], tok)
        if name == "async" and not nxt.nl and (nxt.type == "function" or nxt.type == "name"):
            raise self.error(NO_ASYNC, tok)
        return ident

    def _reserved_name(self, tok: Token) -> None:
        raise self.error(_NAME_ERRORS[tok.value], tok)

    def _literal(self, tok: Token) -> N.Node:
        self.advance()
        value = _CONSTANTS[tok.type] if tok.type in _CONSTANTS else tok.value
        return self.fin(N.Literal(value, self.lx.src[tok.start:tok.end]), tok)

    def _this(self, tok: Token) -> N.Node:
        self.advance()
        return self.fin(N.ThisExpression(), tok)

    def _regex(self, tok: Token) -> N.Node:
        tok = self.tok = self.lx.rescan_regex(tok)
        self.advance()
        pattern, flags = tok.value
        raw = self.lx.src[tok.start:tok.end]
        return self.fin(N.Literal(None, raw, {"pattern": pattern, "flags": flags}), tok)

    def _template_literal(self, tok: Token) -> N.Node:
        return self.template(False)

    def template(self, tagged: bool) -> N.Node:
        """TemplateLiteral (§13.2.8); the parser drives the lexer through each `${ }`."""
        start = self.tok
        quasis, expressions = [], []
        while True:
            tok = self.tok
            raw, tail, err = tok.extra
            if err is not None and not tagged:
                raise self.lx.error(err[0], err[1])
            self.advance()
            quasi = N.TemplateElement({"cooked": tok.value, "raw": raw}, tail)
            quasi.line, quasi.col = self.lx.loc(tok.start + 1)
            quasi.end_line, quasi.end_col = self.lx.loc(tok.end - (1 if tail else 2))
            quasis.append(quasi)
            if tail:
                return self.fin(N.TemplateLiteral(quasis, expressions), start)
            expressions.append(self.expression())
            if self.tok.type != "}":
                self.unexpected()
            self.tok = self.lx.rescan_template(self.tok)

    def _function_expression(self, tok: Token) -> N.Node:
        return self.function(False)

    def _unsupported(self, tok: Token) -> N.Node:
        self.unexpected()

    # -- array and object literals, parentheses, arrows, functions ---------------------
    def _array(self, tok: Token) -> N.Node:
        self.advance()
        elements: list[N.Node | None] = []
        while self.tok.type != "]":
            t = self.tok.type
            if t == ",":  # a hole
                self.advance()
                elements.append(None)
                continue
            if t == "...":
                start = self.advance()
                elements.append(self.fin(N.SpreadElement(self.assign(cover=True)), start))
            else:
                elements.append(self.assign(cover=True))
            if self.tok.type != "]":
                self.expect(",")
        self.advance()
        return self.fin(N.ArrayExpression(elements), tok)

    def _object(self, tok: Token) -> N.Node:
        self.advance()
        props = []
        while self.tok.type != "}":
            props.append(self._property())
            if self.tok.type != "}":
                self.expect(",")
        self.advance()
        return self.fin(N.ObjectExpression(props), tok)

    def _property(self) -> N.Node:
        start = self.tok
        if start.type == "...":
            self.advance()
            return self.fin(N.SpreadElement(self.assign(cover=True)), start)
        if start.type == "*":
            raise self.error(NO_GENERATORS)
        key, computed = self.property_key()
        t = self.tok.type
        if start.type == "name" and start.value in _ACCESSOR_WORDS and t not in _AFTER_KEY:
            return self._accessor(start)
        if t == ":":
            self.advance()
            value = self.assign(cover=True)
            return self.fin(N.Property(key, value, "init", False, False, computed), start)
        if t == "(":
            value = self._method_function()
            return self.fin(N.Property(key, value, "init", True, False, computed), start)
        if start.type != "name" or computed:
            self.unexpected()
        if start.value in _NAME_ERRORS:
            self._reserved_name(start)
        value = self._copy(N.Identifier(key.name), key)
        if t == "=":  # CoverInitializedName: only valid once turned into a pattern
            self.cover_inits.append(self.tok)
            self.advance()
            value = self.fin(N.AssignmentPattern(value, self.assign()), start)
        return self.fin(N.Property(key, value, "init", False, True, False), start)

    def _accessor(self, start: Token) -> N.Node:
        # `get x() {}` / `set x(v) {}` (§13.2.5); `async x() {}` is out of scope.
        kind = start.value
        if kind == "async":
            raise self.error(NO_ASYNC, start)
        key, computed = self.property_key()
        value = self._method_function()
        if kind == "get" and value.params:
            raise self.error("Getter must not have any formal parameters", value.params[0])
        if kind == "set" and (len(value.params) != 1 or type(value.params[0]) is N.RestElement):
            raise self.error("Setter must have exactly one formal parameter", value)
        return self.fin(N.Property(key, value, kind, False, False, computed), start)

    def property_key(self) -> tuple[N.Node, bool]:
        tok = self.tok
        t = tok.type
        if t == "[":
            self.advance()
            key = self.assign()
            self.expect("]")
            return key, True
        if t == "string" or t == "num":
            return self._literal(tok), False
        return self.identifier_name(), False

    def _method_function(self) -> N.Node:
        start = self.tok
        params = self.function_params()
        body = self.function_body()
        return self.fin(N.FunctionExpression(None, params, body, False, False), start)

    def _parenthesised(self, tok: Token) -> N.Node:
        """`( ... )`: a parenthesised expression or the parameters of an arrow function."""
        self.advance()
        mark = len(self.cover_inits)
        items: list[N.Node] = []
        rest = None
        trailing_comma = False
        while self.tok.type != ")":
            if self.tok.type == "...":
                dots = self.advance()
                rest = self.fin(N.RestElement(self.binding_target()), dots)
                if self.tok.type != ")":
                    raise self.error("Rest parameter must be last formal parameter")
                break
            items.append(self.assign(cover=True))
            if self.tok.type != ")":
                self.expect(",")
                trailing_comma = self.tok.type == ")"
        close = self.advance()
        if self.tok.type == "=>" and not self.tok.nl:
            params = [self.to_pattern(item, True) for item in items]
            if rest is not None:
                params.append(rest)
            del self.cover_inits[mark:]
            return self.arrow_body(params, tok)
        if rest is not None:
            raise self.error("Unexpected token '...'", rest)
        if not items or trailing_comma:
            self.unexpected(close)
        if len(self.cover_inits) > mark:
            raise self.error("Invalid shorthand property initializer", self.cover_inits[mark])
        if len(items) == 1:
            expr = items[0]
        else:
            expr = N.SequenceExpression(items, line=items[0].line, col=items[0].col,
                                        end_line=items[-1].end_line, end_col=items[-1].end_col)
        self.parens.add(expr)
        return expr

    def arrow_body(self, params: list[N.Node], start: Token) -> N.Node:
        self.advance()  # =>
        if self.tok.type == "{":
            body = self.function_body()
            return self.fin(N.ArrowFunctionExpression(None, params, body, False, False, False),
                            start)
        body = self.assign()
        return self.fin(N.ArrowFunctionExpression(None, params, body, True, False, False), start)

    def function(self, declaration: bool) -> N.Node:
        start = self.advance()  # function
        if self.tok.type == "*":
            raise self.error(NO_GENERATORS)
        ident = None
        if self.tok.type != "(":
            ident = self.identifier()
        elif declaration:
            raise self.error("Function statements require a function name")
        params = self.function_params()
        body = self.function_body()
        cls = N.FunctionDeclaration if declaration else N.FunctionExpression
        return self.fin(cls(ident, params, body, False, False), start)

    def function_params(self) -> list[N.Node]:
        self.expect("(")
        params = []
        while self.tok.type != ")":
            if self.tok.type == "...":
                dots = self.advance()
                params.append(self.fin(N.RestElement(self.binding_target()), dots))
                if self.tok.type != ")":
                    raise self.error("Rest parameter must be last formal parameter")
                break
            params.append(self.binding_element())
            if self.tok.type != ")":
                self.expect(",")
        self.advance()
        return params

    def function_body(self) -> N.Node:
        """A function's `{ ... }`: `return` becomes legal, labels and loops start afresh."""
        saved = self.in_function, self.labels, self.loops, self.breakables
        self.in_function, self.labels, self.loops, self.breakables = True, [], 0, 0
        body = self.block()
        self.in_function, self.labels, self.loops, self.breakables = saved
        return body



_CONSTANTS = {"null": None, "true": True, "false": False}
_TOKEN_WORDS = {"num": "Unexpected number", "string": "Unexpected string",
                "template": "Unexpected template string",
                "regex": "Unexpected regular expression"}
_PRIMARY = {
    "num": Parser._literal, "string": Parser._literal, "null": Parser._literal,
    "true": Parser._literal, "false": Parser._literal, "this": Parser._this,
    "/": Parser._regex, "/=": Parser._regex, "template": Parser._template_literal,
    "(": Parser._parenthesised, "[": Parser._array, "{": Parser._object,
    "function": Parser._function_expression,
}
for _word in UNSUPPORTED:
    _PRIMARY[_word] = Parser._unsupported
_ACCESSOR_WORDS = frozenset(("get", "set", "async"))
_AFTER_KEY = frozenset((",", ":", "(", "}", "="))
def parse(source: str, filename: str = "<eval>") -> N.Program:
    """Parse a PipyJS script or module into an ESTree ``Program``; raises JSSyntaxError."""
    parser = Parser(source, filename)
    try:
        return parser.program()
    except RecursionError:  # pathological nesting: report it as the script's error
        raise parser.error("Expression or statement nested too deeply") from None
