"""Parser tests: source -> compact S-expression of the ESTree AST, node positions, early errors.

The S-expression (see ``sx``) shows an Identifier as its name, a Literal as its value, and other
nodes as ``(Type fields...)`` with 'Expression'/'Statement' dropped from the type name, True flags
as ``:name``, None as ``_``; False flags, ``init`` property kinds and sourceType are left out.
"""
from __future__ import annotations

import json
import time

import pytest

from pipyd.js import nodes as N
from pipyd.js.errors import JSSyntaxError
from pipyd.js.parser import parse
from tests.conformance.js.cases_syntax_errors import CASES as SYNTAX_ERROR_CASES

_NAMES = {"ExpressionStatement": "ExprStmt"}


def sx(node: object) -> str:
    if node is None:
        return "_"
    if isinstance(node, list):
        return "[" + " ".join(sx(n) for n in node) + "]"
    if type(node) is N.Identifier:
        return node.name
    if type(node) is N.Literal:
        if node.regex is not None:
            return f"/{node.regex['pattern']}/{node.regex['flags']}"
        return _value(node.value)
    if type(node) is N.TemplateElement:
        cooked = node.value["cooked"]
        return "!" + json.dumps(node.value["raw"]) if cooked is None else json.dumps(cooked)
    name = _NAMES.get(node.type) or node.type.replace("Expression", "").replace("Statement", "")
    parts = [name]
    for field in node.fields:
        v = getattr(node, field)
        if v is False or v == "init" or field == "sourceType":
            continue
        if v is True:
            parts.append(":" + field)
        elif isinstance(v, str):
            parts.append(v)
        else:
            parts.append(sx(v))
    return "(" + " ".join(parts) + ")"


def _value(v: object) -> str:
    if v is None:
        return "null"
    if v is True or v is False:
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    return repr(v)


def sx_expr(src: str) -> str:
    body = parse(src).body
    assert len(body) == 1 and type(body[0]) is N.ExpressionStatement, body
    return sx(body[0].expression)


def sx_prog(src: str) -> str:
    return " ".join(sx(s) for s in parse(src).body)


EXPRESSIONS = [  # noqa: E501  (one case per line reads best)
    ('1', '1'),
    ('1.5', '1.5'),
    ('.5', '0.5'),
    ('1e3', '1000.0'),
    ('1E-2', '0.01'),
    ('0x1F', '31'),
    ('0o17', '15'),
    ('0b101', '5'),
    ('1_000_000', '1000000'),
    ('0.000_1', '0.0001'),
    ('9007199254740993', '9007199254740992.0'),
    ('0XfF', '255'),
    ("'a\\nb'", '"a\\nb"'),
    ('"\\x41\\u0042\\u{1F600}\\0"', '"AB😀\\u0000"'),
    ("'a\\\nb'", '"ab"'),
    ('\'\\t\\r\\b\\f\\v\\\'\\"\\\\\'', '"\\t\\r\\b\\f\\u000b\'\\"\\\\"'),
    ("'\\ud83d\\ude00'", '"😀"'),
    ("'\\q'", '"q"'),
    ('null', 'null'),
    ('true', 'true'),
    ('false', 'false'),
    ('this', '(This)'),
    ('`a${b}c${d}e`', '(TemplateLiteral ["a" "c" "e"] [b d])'),
    ('`x`', '(TemplateLiteral ["x"] [])'),
    ('`${a}`', '(TemplateLiteral ["" ""] [a])'),
    ('tag`a\\u{}${b}`', '(TaggedTemplate tag (TemplateLiteral [!"a\\\\u{}" ""] [b]))'),
    ('`a\\nb`', '(TemplateLiteral ["a\\nb"] [])'),
    ('`${ {a: 1}.a }`', '(TemplateLiteral ["" ""] [(Member (Object [(Property a 1)]) a)])'),
    ('`a${`b${c}`}`', '(TemplateLiteral ["a" ""] [(TemplateLiteral ["b" ""] [c])])'),
    ('a.b`x`', '(TaggedTemplate (Member a b) (TemplateLiteral ["x"] []))'),
    ('[]', '(Array [])'),
    ('[1, , 2]', '(Array [1 _ 2])'),
    ('[,]', '(Array [_])'),
    ('[a,]', '(Array [a])'),
    ('[...a, b]', '(Array [(SpreadElement a) b])'),
    ('[[1], [2, [3]]]', '(Array [(Array [1]) (Array [2 (Array [3])])])'),
    ('({})', '(Object [])'),
    ("({a, b: 1, 'c': 2, 3: d, [e]: f})", '(Object [(Property a a :shorthand) (Property b 1) (Property "c" 2) (Property 3 d) (Property e f :computed)])'),
    ('({g() {}, get h() { return 1 }, set h(v) {}})', '(Object [(Property g (Function _ [] (Block [])) :method) (Property h (Function _ [] (Block [(Return 1)])) get) (Property h (Function _ [v] (Block [])) set)])'),
    ('({...r, if: 1, class: 2})', '(Object [(SpreadElement r) (Property if 1) (Property class 2)])'),
    ('({get, set: 1, async})', '(Object [(Property get get :shorthand) (Property set 1) (Property async async :shorthand)])'),
    ('({get() {}, set(a) {}})', '(Object [(Property get (Function _ [] (Block [])) :method) (Property set (Function _ [a] (Block [])) :method)])'),
    ("({'a b': 1, 1.5: 2, 0x10: 3})", '(Object [(Property "a b" 1) (Property 1.5 2) (Property 16 3)])'),
    ('a => a', '(ArrowFunction _ [a] a :expression)'),
    ('() => 1', '(ArrowFunction _ [] 1 :expression)'),
    ('(a, b) => { return a }', '(ArrowFunction _ [a b] (Block [(Return a)]))'),
    ('(a = 1, {b, c: [d]}, ...e) => 0', '(ArrowFunction _ [(AssignmentPattern a 1) (ObjectPattern [(Property b b :shorthand) (Property c (ArrayPattern [d]))]) (RestElement e)] 0 :expression)'),
    ('([a, b]) => a', '(ArrowFunction _ [(ArrayPattern [a b])] a :expression)'),
    ('a => b => c', '(ArrowFunction _ [a] (ArrowFunction _ [b] c :expression) :expression)'),
    ('(a) => ({a})', '(ArrowFunction _ [a] (Object [(Property a a :shorthand)]) :expression)'),
    ('({a: [b = 1]}) => b', '(ArrowFunction _ [(ObjectPattern [(Property a (ArrayPattern [(AssignmentPattern b 1)]))])] b :expression)'),
    ('(a, b,) => a', '(ArrowFunction _ [a b] a :expression)'),
    ('(() => {})()', '(Call (ArrowFunction _ [] (Block [])) [])'),
    ('(() => 1) + 1', '(Binary + (ArrowFunction _ [] 1 :expression) 1)'),
    ('a.b.c', '(Member (Member a b) c)'),
    ('a[b]', '(Member a b :computed)'),
    ('a?.b', '(Chain (Member a b :optional))'),
    ('a?.[b]', '(Chain (Member a b :computed :optional))'),
    ('a?.(b)', '(Chain (Call a [b] :optional))'),
    ('a?.b.c()', '(Chain (Call (Member (Member a b :optional) c) []))'),
    ('(a?.b).c', '(Member (Chain (Member a b :optional)) c)'),
    ('a.if.class', '(Member (Member a if) class)'),
    ('a?.b?.c', '(Chain (Member (Member a b :optional) c :optional))'),
    ('a?.b[c](d)', '(Chain (Call (Member (Member a b :optional) c :computed) [d]))'),
    ('f(a, ...b)', '(Call f [a (SpreadElement b)])'),
    ('f()', '(Call f [])'),
    ('f(a,)', '(Call f [a])'),
    ('new A', '(New A [])'),
    ('new A(1)', '(New A [1])'),
    ('new A.B()', '(New (Member A B) [])'),
    ('new new A()()', '(New (New A []) [])'),
    ('new (f())()', '(New (Call f []) [])'),
    ('new A().b', '(Member (New A []) b)'),
    ('new A(...b)', '(New A [(SpreadElement b)])'),
    ('new a.b.c', '(New (Member (Member a b) c) [])'),
    ('typeof a', '(Unary typeof :prefix a)'),
    ('void 0', '(Unary void :prefix 0)'),
    ('delete a.b', '(Unary delete :prefix (Member a b))'),
    ('!a', '(Unary ! :prefix a)'),
    ('~a', '(Unary ~ :prefix a)'),
    ('+a', '(Unary + :prefix a)'),
    ('-a', '(Unary - :prefix a)'),
    ('- -a', '(Unary - :prefix (Unary - :prefix a))'),
    ('++a', '(Update ++ :prefix a)'),
    ('a--', '(Update -- a)'),
    ('a++ + ++b', '(Binary + (Update ++ a) (Update ++ :prefix b))'),
    ('!!a', '(Unary ! :prefix (Unary ! :prefix a))'),
    ('typeof typeof a', '(Unary typeof :prefix (Unary typeof :prefix a))'),
    ('-a.b', '(Unary - :prefix (Member a b))'),
    ('a + b * c', '(Binary + a (Binary * b c))'),
    ('a - b - c', '(Binary - (Binary - a b) c)'),
    ('a ** b ** c', '(Binary ** a (Binary ** b c))'),
    ('(-a) ** b', '(Binary ** (Unary - :prefix a) b)'),
    ('a || b && c', '(Logical || a (Logical && b c))'),
    ('a ?? b', '(Logical ?? a b)'),
    ('(a || b) ?? c', '(Logical ?? (Logical || a b) c)'),
    ('a ?? (b && c)', '(Logical ?? a (Logical && b c))'),
    ('a ?? b ?? c', '(Logical ?? (Logical ?? a b) c)'),
    ('a | b ^ c & d', '(Binary | a (Binary ^ b (Binary & c d)))'),
    ('a ?? b | c', '(Logical ?? a (Binary | b c))'),
    ('2 ** -1', '(Binary ** 2 (Unary - :prefix 1))'),
    ('a == b != c === d !== e', '(Binary !== (Binary === (Binary != (Binary == a b) c) d) e)'),
    ('a < b > c <= d >= e', '(Binary >= (Binary <= (Binary > (Binary < a b) c) d) e)'),
    ('a in b', '(Binary in a b)'),
    ('a instanceof B', '(Binary instanceof a B)'),
    ('a << b >> c >>> d', '(Binary >>> (Binary >> (Binary << a b) c) d)'),
    ('a % b / c', '(Binary / (Binary % a b) c)'),
    ('a + b + c', '(Binary + (Binary + a b) c)'),
    ('(a + b) * c', '(Binary * (Binary + a b) c)'),
    ('a ? b : c ? d : e', '(Conditional a b (Conditional c d e))'),
    ('a ? b = 1 : c', '(Conditional a (Assignment = b 1) c)'),
    ('a = b = c', '(Assignment = a (Assignment = b c))'),
    ('a += 1', '(Assignment += a 1)'),
    ('a -= 1', '(Assignment -= a 1)'),
    ('a *= 1', '(Assignment *= a 1)'),
    ('a /= 2', '(Assignment /= a 2)'),
    ('a %= 2', '(Assignment %= a 2)'),
    ('a **= 2', '(Assignment **= a 2)'),
    ('a <<= 1', '(Assignment <<= a 1)'),
    ('a >>= 1', '(Assignment >>= a 1)'),
    ('a >>>= 1', '(Assignment >>>= a 1)'),
    ('a &= 1', '(Assignment &= a 1)'),
    ('a |= 1', '(Assignment |= a 1)'),
    ('a ^= 1', '(Assignment ^= a 1)'),
    ('a &&= b', '(Assignment &&= a b)'),
    ('a ||= b', '(Assignment ||= a b)'),
    ('a ??= b', '(Assignment ??= a b)'),
    ('a.b = 1', '(Assignment = (Member a b) 1)'),
    ('a[0] = 1', '(Assignment = (Member a 0 :computed) 1)'),
    ('(a) = 1', '(Assignment = a 1)'),
    ('[a, b] = [b, a]', '(Assignment = (ArrayPattern [a b]) (Array [b a]))'),
    ('({a, b: {c}, ...d} = o)', '(Assignment = (ObjectPattern [(Property a a :shorthand) (Property b (ObjectPattern [(Property c c :shorthand)])) (RestElement d)]) o)'),
    ('[a.b, c[0], ...d] = e', '(Assignment = (ArrayPattern [(Member a b) (Member c 0 :computed) (RestElement d)]) e)'),
    ('({a = 1} = {})', '(Assignment = (ObjectPattern [(Property a (AssignmentPattern a 1) :shorthand)]) (Object []))'),
    ('[a = 1, [b]] = c', '(Assignment = (ArrayPattern [(AssignmentPattern a 1) (ArrayPattern [b])]) c)'),
    ('[, a] = b', '(Assignment = (ArrayPattern [_ a]) b)'),
    ('({a: b.c} = d)', '(Assignment = (ObjectPattern [(Property a (Member b c))]) d)'),
    ('a, b, c', '(Sequence [a b c])'),
    ('(a, b)', '(Sequence [a b])'),
    ('/re/g.test(s)', '(Call (Member /re/g test) [s])'),
    ('x = /[/]/', '(Assignment = x /[/]/)'),
    ('a / b / c', '(Binary / (Binary / a b) c)'),
    ('/=/', '/=/'),
    ('x = /a\\/b/imsuy', '(Assignment = x /a\\/b/imsuy)'),
    ('a ? /x/ : /y/', '(Conditional a /x/ /y/)'),
    ('x = function () {}', '(Assignment = x (Function _ [] (Block [])))'),
    ('x = function named(a) { return named }', '(Assignment = x (Function named [a] (Block [(Return named)])))'),
    ('x = a ? (b, c) : d => e', '(Assignment = x (Conditional a (Sequence [b c]) (ArrowFunction _ [d] e :expression)))'),
    ('a\n?.b', '(Chain (Member a b :optional))'),
    ('a\n(b)', '(Call a [b])'),
    ('a = {}\n[1]', '(Assignment = a (Member (Object []) 1 :computed))'),
    ('x = () => 1\n(foo)', '(Assignment = x (ArrowFunction _ [] (Call 1 [foo]) :expression))'),
]

PROGRAMS = [
    ('var a; let b = 1, c; const d = 2; let {e} = f, [g, , ...h] = i', '(VariableDeclaration [(VariableDeclarator a _)] var) (VariableDeclaration [(VariableDeclarator b 1) (VariableDeclarator c _)] let) (VariableDeclaration [(VariableDeclarator d 2)] const) (VariableDeclaration [(VariableDeclarator (ObjectPattern [(Property e e :shorthand)]) f) (VariableDeclarator (ArrayPattern [g _ (RestElement h)]) i)] let)'),
    ('function f(a, b = 1, ...c) { return } function g() { return a, b }', '(FunctionDeclaration f [a (AssignmentPattern b 1) (RestElement c)] (Block [(Return _)])) (FunctionDeclaration g [] (Block [(Return (Sequence [a b]))]))'),
    ('{ a; b } ; if (a) b; else if (c) d; else { e }', '(Block [(ExprStmt a) (ExprStmt b)]) (Empty) (If a (ExprStmt b) (If c (ExprStmt d) (Block [(ExprStmt e)])))'),
    ('for (;;) {} for (var i = 0, n = 3; i < n; i++) ; for (i = 0; i in o;) break', '(For _ _ _ (Block [])) (For (VariableDeclaration [(VariableDeclarator i 0) (VariableDeclarator n 3)] var) (Binary < i n) (Update ++ i) (Empty)) (For (Assignment = i 0) (Binary in i o) _ (Break _))'),
    ('for (const k in o) {} for (let [k, v] of m) {} for (x of y) ; for ([a, b] of c) ; for (a.b in c) ;', '(ForIn (VariableDeclaration [(VariableDeclarator k _)] const) o (Block [])) (ForOf (VariableDeclaration [(VariableDeclarator (ArrayPattern [k v]) _)] let) m (Block [])) (ForOf x y (Empty)) (ForOf (ArrayPattern [a b]) c (Empty)) (ForIn (Member a b) c (Empty))'),
    ('for (var x = (a in b); x;) ; for (let {a} of b) ;', '(For (VariableDeclaration [(VariableDeclarator x (Binary in a b))] var) x _ (Empty)) (ForOf (VariableDeclaration [(VariableDeclarator (ObjectPattern [(Property a a :shorthand)]) _)] let) b (Empty))'),
    ('while (a) continue; do a(); while (b) c()', '(While a (Continue _)) (DoWhile (ExprStmt (Call a [])) b) (ExprStmt (Call c []))'),
    ('switch (x) { case 1: a(); break; case 2: case 3: default: b() }', '(Switch x [(SwitchCase 1 [(ExprStmt (Call a [])) (Break _)]) (SwitchCase 2 []) (SwitchCase 3 []) (SwitchCase _ [(ExprStmt (Call b []))])])'),
    ('outer: for (;;) { inner: for (;;) { continue outer; break inner } } L: { break L }', '(Labeled outer (For _ _ _ (Block [(Labeled inner (For _ _ _ (Block [(Continue outer) (Break inner)])))]))) (Labeled L (Block [(Break L)]))'),
    ('try { a() } catch (e) { b(e) } try {} catch {} finally {} try {} finally {} try {} catch ({message}) {}', '(Try (Block [(ExprStmt (Call a []))]) (CatchClause e (Block [(ExprStmt (Call b [e]))])) _) (Try (Block []) (CatchClause _ (Block [])) (Block [])) (Try (Block []) _ (Block [])) (Try (Block []) (CatchClause (ObjectPattern [(Property message message :shorthand)]) (Block [])) _)'),
    ("function f() { throw new Error('x') }", '(FunctionDeclaration f [] (Block [(Throw (New Error ["x"]))]))'),
    ('f(() => { for (;;) { break } })', '(ExprStmt (Call f [(ArrowFunction _ [] (Block [(For _ _ _ (Block [(Break _)]))]))]))'),
    ('if (a) function f() {}', '(If a (FunctionDeclaration f [] (Block [])) _)'),
    ('do x++; while (0) y()', '(DoWhile (ExprStmt (Update ++ x)) 0) (ExprStmt (Call y []))'),
    (';;', '(Empty) (Empty)'),
    ('#!/usr/bin/env pipy\n1', '(ExprStmt 1)'),
    ('label: x++', '(Labeled label (ExprStmt (Update ++ x)))'),
    ('var async = 1, of = 2, get = 3', '(VariableDeclaration [(VariableDeclarator async 1) (VariableDeclarator of 2) (VariableDeclarator get 3)] var)'),
    ('async(x)', '(ExprStmt (Call async [x]))'),
    ('x = () => {}\n(foo)', '(ExprStmt (Assignment = x (ArrowFunction _ [] (Block [])))) (ExprStmt foo)'),
    ("'use strict'; a", '(ExprStmt "use strict") (ExprStmt a)'),
    ('function f() { return function () { return 1 } }', '(FunctionDeclaration f [] (Block [(Return (Function _ [] (Block [(Return 1)])))]))'),
    ('while (1) { switch (a) { case 1: continue } }', '(While 1 (Block [(Switch a [(SwitchCase 1 [(Continue _)])])]))'),
    ('a\nb\n++c', '(ExprStmt a) (ExprStmt b) (ExprStmt (Update ++ :prefix c))'),
    ('a = b\n(c)', '(ExprStmt (Assignment = a (Call b [c])))'),
    ('function f() { return\na }', '(FunctionDeclaration f [] (Block [(Return _) (ExprStmt a)]))'),
    ('x\n++\ny', '(ExprStmt x) (ExprStmt (Update ++ :prefix y))'),
    ('a = 1\n/b/g.test(c)', '(ExprStmt (Assignment = a (Binary / (Binary / 1 b) (Call (Member g test) [c]))))'),
    ('{ a } b', '(Block [(ExprStmt a)]) (ExprStmt b)'),
    ('a\n;b', '(ExprStmt a) (ExprStmt b)'),
    ('var a = 1\nvar b\nc', '(VariableDeclaration [(VariableDeclarator a 1)] var) (VariableDeclaration [(VariableDeclarator b _)] var) (ExprStmt c)'),
    ('i\n--\nj', '(ExprStmt i) (ExprStmt (Update -- :prefix j))'),
    ('throw a\nb', '(Throw a) (ExprStmt b)'),
    ('do ; while (a) b', '(DoWhile (Empty) a) (ExprStmt b)'),
    ('x: while (1) { break\nx }', '(Labeled x (While 1 (Block [(Break _) (ExprStmt x)])))'),
    ('f(a)\n[b]\n.c', '(ExprStmt (Member (Member (Call f [a]) b :computed) c))'),
]


@pytest.mark.parametrize("src,expected", EXPRESSIONS)
def test_expression(src: str, expected: str) -> None:
    assert sx_expr(src) == expected


@pytest.mark.parametrize("src,expected", PROGRAMS)
def test_program(src: str, expected: str) -> None:
    assert sx_prog(src) == expected


def test_literal_values_and_raw() -> None:
    lit = parse("x = 0x10").body[0].expression.right
    assert (lit.value, lit.raw, type(lit.value)) == (16, "0x10", int)
    lit = parse("'\\u{1F600}'").body[0].expression
    assert (lit.value, lit.raw) == ("😀", "'\\u{1F600}'")
    lit = parse("/a+/gi").body[0].expression
    assert (lit.value, lit.raw, lit.regex) == (None, "/a+/gi", {"pattern": "a+", "flags": "gi"})
    assert type(parse("1.0").body[0].expression.value) is float


def test_template_cooked_and_raw() -> None:
    tpl = parse("`a\\n${b}\\x41\r\nc`").body[0].expression
    assert [q.value for q in tpl.quasis] == [{"cooked": "a\n", "raw": "a\\n"},
                                             {"cooked": "A\nc", "raw": "\\x41\nc"}]
    assert [q.tail for q in tpl.quasis] == [False, True]
    tagged = parse("t`\\unicode`").body[0].expression
    assert tagged.quasi.quasis[0].value == {"cooked": None, "raw": "\\unicode"}


def span(node: N.Node) -> tuple[int, int, int, int]:
    return node.line, node.col, node.end_line, node.end_col


def test_positions_of_expression_nodes() -> None:
    prog = parse("x = a.b(1, 'two')\n  + f?.g")
    stmt = prog.body[0]
    assert span(prog) == (1, 0, 2, 8)
    assert span(stmt) == (1, 0, 2, 8)
    assign = stmt.expression
    assert span(assign.left) == (1, 0, 1, 1)
    plus = assign.right
    assert span(plus) == (1, 4, 2, 8)
    call = plus.left
    assert span(call) == (1, 4, 1, 17)
    assert span(call.callee) == (1, 4, 1, 7)
    assert span(call.callee.property) == (1, 6, 1, 7)
    assert [span(a) for a in call.arguments] == [(1, 8, 1, 9), (1, 11, 1, 16)]
    assert span(plus.right) == (2, 4, 2, 8)  # the ChainExpression
    assert span(plus.right.expression) == (2, 4, 2, 8)


def test_positions_of_statements_and_functions() -> None:
    src = "function f(a, b = 2) {\n  return a\n}\nlet [x] = [1];\nif (x) {\n} else y()\n"
    fn, decl, if_ = parse(src).body
    assert span(fn) == (1, 0, 3, 1)
    assert span(fn.id) == (1, 9, 1, 10)
    assert span(fn.params[1]) == (1, 14, 1, 19)
    assert span(fn.body) == (1, 21, 3, 1)
    assert span(fn.body.body[0]) == (2, 2, 2, 10)
    assert span(decl) == (4, 0, 4, 14)  # includes the semicolon, as ESTree does
    assert span(decl.declarations[0]) == (4, 4, 4, 13)
    assert span(if_) == (5, 0, 6, 10)
    assert span(if_.alternate) == (6, 7, 6, 10)


def test_positions_count_code_points_and_template_parts() -> None:
    expr = parse("'😀😀' + `a${b}c`").body[0].expression
    assert span(expr.right) == (1, 7, 1, 15)
    q0, q1 = expr.right.quasis
    assert span(q0) == (1, 8, 1, 9)
    assert span(q1) == (1, 13, 1, 14)
    assert span(expr.right.expressions[0]) == (1, 11, 1, 12)


def test_parenthesised_expression_keeps_inner_span() -> None:
    expr = parse("(a + b) * c").body[0].expression
    assert span(expr.left) == (1, 1, 1, 6)
    assert span(expr) == (1, 0, 1, 11)


def test_pipy_module_is_one_expression_statement() -> None:
    src = """((
  config = { port: 8080 },
) => pipy({ _n: 0 })
  .listen(config.port)
  .serveHTTP(
    msg => new Message({ status: 200 }, `hi ${msg?.head?.path ?? '/'}`)
  )
)()
"""
    prog = parse(src, "main.js")
    assert len(prog.body) == 1 and type(prog.body[0].expression) is N.CallExpression


@pytest.mark.parametrize("src,expected", SYNTAX_ERROR_CASES)
def test_syntax_error_cases(src: str, expected: object) -> None:
    with pytest.raises(JSSyntaxError) as info:
        parse(src, "case.js")
    err = info.value
    assert (err.line, err.col) == (expected.line, expected.col), err.message
    assert expected.text in err.message


def test_syntax_error_cases_are_many() -> None:
    assert len(SYNTAX_ERROR_CASES) >= 80


def test_syntax_error_str_has_location_line_and_caret() -> None:
    with pytest.raises(JSSyntaxError) as info:
        parse("let a = 1;\n\tlet b = )", "m.js")
    err = info.value
    assert (err.filename, err.line, err.col, err.source_line) == ("m.js", 2, 9, "\tlet b = )")
    assert str(err) == "SyntaxError: Unexpected token ')' at m.js:2:10\n\tlet b = )\n\t        ^"


def _module(lines: int) -> str:
    chunk = """var x{i} = {{a: 1, b: [1, 2, 3], c: "str\\n", d: `t${{x}}u`}}; // comment
function f{i}(a, b = 2, ...rest) {{
  if (a > b && !rest.length) {{ return a ** 2 + b * 3 - (a % 4) }} else {{ a = b ?? 0 }}
  for (let i = 0; i < 10; i++) {{ x{i}.b.push(i); }}
  const {{p, q: [r, s]}} = obj?.prop ?? {{}};
  return rest.map(v => v.toString(16)).filter((v, i) => /^[0-9a-f]+$/i.test(v) || i === 0);
}}"""
    out: list[str] = []
    while len(out) < lines - 1:
        out.extend(chunk.format(i=len(out)).splitlines())
    out.append("pipy({_n: 0}).listen(8080).serveHTTP(msg => new Message('hi'))")
    return "\n".join(out)


def test_parse_speed_of_a_2000_line_module() -> None:
    src = _module(2000)
    t0 = time.perf_counter()
    prog = parse(src)
    elapsed = time.perf_counter() - t0
    print(f"\nparsed {src.count(chr(10)) + 1} lines in {elapsed * 1000:.0f} ms")
    assert len(prog.body) > 500  # timing is reported, not asserted (see DESIGN.md, Testing)
