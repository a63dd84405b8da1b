"""PipyJS parser, statements (§14): a mixin of ``parser.Parser`` (see parser.py for the design)."""
from __future__ import annotations

from typing import Any

from . import nodes as N
from .lexer import Token

# Parts of JavaScript that PipyJS leaves out (see specs/pipyjs.md, "Out of scope").
UNSUPPORTED = {
    "class": "Classes are not supported in PipyJS",
    "import": "'import' is not supported in PipyJS (use pipy.solve, chain or use)",
    "export": "'export' declarations are not supported in PipyJS",
    "with": "'with' statements are not supported in PipyJS",
    "debugger": "'debugger' statements are not supported in PipyJS",
    "super": "'super' is not supported in PipyJS",
    "extends": "Classes are not supported in PipyJS",
}
NO_ASYNC = "async functions are not supported in PipyJS"
NO_GENERATORS = "Generators are not supported in PipyJS"
NO_AWAIT = "'await' is not supported in PipyJS"
NO_YIELD = "'yield' is not supported in PipyJS"
_NAME_ERRORS = {"await": NO_AWAIT, "yield": NO_YIELD}
_LOOP_WORDS = frozenset(("for", "while", "do"))
_CASE_END = frozenset(("case", "default", "}"))


class StatementMixin:
    """Statement parsing; relies on the token helpers and expressions of ``Parser``."""

    tok: Token
    lx: Any
    labels: list[list]

    # -- statements (§14) ----------------------------------------------------------------
    def program(self) -> N.Program:
        body = []
        while self.tok.type != "eof":
            body.append(self.statement())
        end_line, end_col = self.lx.loc(len(self.lx.src))
        return N.Program(body, "script", line=1, col=0, end_line=end_line, end_col=end_col)

    def statement(self) -> N.Node:
        method = _STATEMENTS.get(self.tok.type)
        if method is not None:
            return method(self)
        return self._expression_statement()

    def _sub_statement(self) -> N.Node:
        """The single statement of if/for/while/labels: no lexical declarations (§14.6)."""
        t = self.tok.type
        if t == "let" or t == "const":
            raise self.error("Lexical declaration cannot appear in a single-statement context")
        return self.statement()

    def _expression_statement(self) -> N.Node:
        start = self.tok
        expr = self.expression()
        if type(expr) is N.Identifier and self.tok.type == ":" and expr not in self.parens:
            return self._labeled(expr, start)
        self.semicolon()
        return self.fin(N.ExpressionStatement(expr), start)

    def _labeled(self, label: N.Node, start: Token) -> N.Node:
        self.advance()  # :
        name = label.name
        if any(entry[0] == name for entry in self.labels):
            raise self.error(f"Label '{name}' has already been declared", label)
        # A label labels a loop when its statement is one, possibly through more labels
        # (`l1: l2: for …` — §14.13.1 LabelledEvaluation passes the label set down): an entry
        # of a label chain is a mutable list that the innermost label completes.
        entry = [name, self.tok.type in _LOOP_WORDS]
        outer = self.label_chain
        chain = (outer[0] if outer is not None and outer[1] is start else []) + [entry]
        self.label_chain = (chain, self.tok)  # valid only for a label starting at this token
        if entry[1]:
            for e in chain:
                e[1] = True
        self.labels.append(entry)
        try:
            body = self._sub_statement()
        finally:
            self.labels.pop()
            self.label_chain = None
        return self.fin(N.LabeledStatement(label, body), start)

    def block(self) -> N.Node:
        start = self.expect("{")
        body = []
        while self.tok.type != "}":
            body.append(self.statement())
        self.advance()
        return self.fin(N.BlockStatement(body), start)

    def _empty(self) -> N.Node:
        start = self.advance()
        return self.fin(N.EmptyStatement(), start)

    def variable_declaration(self, no_in: bool) -> N.Node:
        """`var|let|const` declarators, without the `;` (for-statement heads share this)."""
        start = self.advance()
        decls = []
        while True:
            ds = self.tok
            target = self.binding_target()
            init = None
            if self.tok.type == "=":
                self.advance()
                init = self.assign(no_in)
            decls.append(self.fin(N.VariableDeclarator(target, init), ds))
            if self.tok.type != ",":
                break
            self.advance()
        return self.fin(N.VariableDeclaration(decls, start.type), start)

    def _check_initializers(self, decl: N.Node) -> None:
        for d in decl.declarations:
            if d.init is None:
                if decl.kind == "const":
                    raise self.error("Missing initializer in const declaration", d.id)
                if type(d.id) is not N.Identifier:
                    raise self.error("Missing initializer in destructuring declaration", d.id)

    def _var_statement(self) -> N.Node:
        decl = self.variable_declaration(False)
        self._check_initializers(decl)
        self.semicolon()
        return self.fin(decl, decl)

    def _function_declaration(self) -> N.Node:
        return self.function(True)

    def _if(self) -> N.Node:
        """``if … else if … else …``: the else-if chain is read in a loop, so a chain of any
        length parses; every link spans to the end of the whole chain, as nested reading gives."""
        links = []
        alternate = None
        while True:
            start = self.advance()
            test = self._paren_expression()
            links.append((start, test, self._sub_statement()))
            if self.tok.type != "else":
                break
            self.advance()
            if self.tok.type != "if":
                alternate = self._sub_statement()
                break
        for start, test, consequent in reversed(links):
            alternate = self.fin(N.IfStatement(test, consequent, alternate), start)
        return alternate

    def _paren_expression(self) -> N.Node:
        self.expect("(")
        expr = self.expression()
        self.expect(")")
        return expr

    def _loop_body(self) -> N.Node:
        self.loops += 1
        self.breakables += 1
        body = self._sub_statement()
        self.loops -= 1
        self.breakables -= 1
        return body

    def _while(self) -> N.Node:
        start = self.advance()
        test = self._paren_expression()
        return self.fin(N.WhileStatement(test, self._loop_body()), start)

    def _do_while(self) -> N.Node:
        start = self.advance()
        body = self._loop_body()
        self.expect("while")
        test = self._paren_expression()
        if self.tok.type == ";":  # §12.9.1: a `;` is inserted after do-while's `)` anyway
            self.advance()
        return self.fin(N.DoWhileStatement(body, test), start)

    def _for(self) -> N.Node:
        start = self.advance()
        if self.tok.type == "name" and self.tok.value == "await":
            raise self.error(NO_AWAIT)
        self.expect("(")
        init = None
        t = self.tok.type
        if t == "var" or t == "let" or t == "const":
            init = self.variable_declaration(True)
            if self._at_in_or_of():
                if len(init.declarations) != 1 or init.declarations[0].init is not None:
                    raise self.error(f"Invalid left-hand side in for-{self._in_or_of()} loop: "
                                     "Must have a single binding.", init)
                return self._for_in_of(start, init)
            self._check_initializers(init)
        elif t != ";":
            mark = len(self.cover_inits)
            init = self.expression(True, cover=True)
            if self._at_in_or_of():
                return self._for_in_of(start, self._for_target(init, mark))
            if len(self.cover_inits) > mark:
                raise self.error("Invalid shorthand property initializer",
                                 self.cover_inits[mark])
        self.expect(";")
        test = None if self.tok.type == ";" else self.expression()
        self.expect(";")
        update = None if self.tok.type == ")" else self.expression()
        self.expect(")")
        return self.fin(N.ForStatement(init, test, update, self._loop_body()), start)

    def _at_in_or_of(self) -> bool:
        tok = self.tok
        return tok.type == "in" or (tok.type == "name" and tok.value == "of")

    def _in_or_of(self) -> str:
        return "in" if self.tok.type == "in" else "of"

    def _for_target(self, init: N.Node, mark: int) -> N.Node:
        kind = type(init)
        if (kind is N.ObjectExpression or kind is N.ArrayExpression) and init not in self.parens:
            init = self.to_pattern(init, False)
            del self.cover_inits[mark:]
        elif kind is not N.Identifier and kind is not N.MemberExpression:
            raise self.error(f"Invalid left-hand side in for-{self._in_or_of()} loop", init)
        return init

    def _for_in_of(self, start: Token, left: N.Node) -> N.Node:
        is_of = self.advance().type != "in"
        right = self.assign() if is_of else self.expression()
        self.expect(")")
        body = self._loop_body()
        cls = N.ForOfStatement if is_of else N.ForInStatement
        return self.fin(cls(left, right, body), start)

    def _switch(self) -> N.Node:
        start = self.advance()
        discriminant = self._paren_expression()
        self.expect("{")
        cases = []
        seen_default = False
        self.breakables += 1
        while self.tok.type != "}":
            case = self.tok
            if case.type == "case":
                self.advance()
                test = self.expression()
            elif case.type == "default":
                if seen_default:
                    raise self.error("More than one default clause in switch statement")
                seen_default = True
                self.advance()
                test = None
            else:
                self.unexpected()
            self.expect(":")
            body = []
            while self.tok.type not in _CASE_END:
                body.append(self.statement())
            cases.append(self.fin(N.SwitchCase(test, body), case))
        self.advance()
        self.breakables -= 1
        return self.fin(N.SwitchStatement(discriminant, cases), start)

    def _break_continue(self) -> N.Node:
        start = self.advance()
        is_break = start.type == "break"
        label = None
        if self.tok.type == "name" and not self.tok.nl:  # §12.9.1 restricted production
            label = self.identifier()
            entry = next((e for e in reversed(self.labels) if e[0] == label.name), None)
            if entry is None:
                raise self.error(f"Undefined label '{label.name}'", label)
            if not is_break and not entry[1]:
                raise self.error(f"Illegal continue statement: '{label.name}' does not denote "
                                 "an iteration statement", label)
        elif is_break and not self.breakables:
            raise self.error("Illegal break statement", start)
        elif not is_break and not self.loops:
            raise self.error("Illegal continue statement: no surrounding iteration statement",
                             start)
        self.semicolon()
        return self.fin((N.BreakStatement if is_break else N.ContinueStatement)(label), start)

    def _return(self) -> N.Node:
        start = self.tok
        if not self.in_function:  # a PipyJS file is a script: no top-level return
            raise self.error("Illegal return statement")
        self.advance()
        t = self.tok
        arg = None
        if not (t.nl or t.type == ";" or t.type == "}" or t.type == "eof"):
            arg = self.expression()
        self.semicolon()
        return self.fin(N.ReturnStatement(arg), start)

    def _throw(self) -> N.Node:
        start = self.advance()
        if self.tok.nl:
            raise self.error("Illegal newline after throw", start)
        arg = self.expression()
        self.semicolon()
        return self.fin(N.ThrowStatement(arg), start)

    def _try(self) -> N.Node:
        start = self.advance()
        block = self.block()
        handler = finalizer = None
        if self.tok.type == "catch":
            catch = self.advance()
            param = None
            if self.tok.type == "(":
                self.advance()
                param = self.binding_target()
                self.expect(")")
            handler = self.fin(N.CatchClause(param, self.block()), catch)
        if self.tok.type == "finally":
            self.advance()
            finalizer = self.block()
        if handler is None and finalizer is None:
            raise self.error("Missing catch or finally after try")
        return self.fin(N.TryStatement(block, handler, finalizer), start)

    def _unsupported_statement(self) -> N.Node:
        self.unexpected()


_STATEMENTS = {
    "{": StatementMixin.block, "var": StatementMixin._var_statement, "let": StatementMixin._var_statement,
    "const": StatementMixin._var_statement, "function": StatementMixin._function_declaration,
    "if": StatementMixin._if, "for": StatementMixin._for, "while": StatementMixin._while, "do": StatementMixin._do_while,
    "switch": StatementMixin._switch, "break": StatementMixin._break_continue,
    "continue": StatementMixin._break_continue, "return": StatementMixin._return, "throw": StatementMixin._throw,
    "try": StatementMixin._try, ";": StatementMixin._empty,
}
for _word in UNSUPPORTED:
    _STATEMENTS[_word] = StatementMixin._unsupported_statement
