"""Long left-nested chains compile flat (compiler_expr.compile_chain, test_logical): builder
chains, string concatenations and `||` conditions of any length run, in the order and with the
`this` the nested form gives; nesting nothing can flatten is a SyntaxError with its position."""
from __future__ import annotations

import pytest

from pipyd.js.backtrace import format_js_error
from pipyd.js.compiler_expr import _FLAT_CHAIN
from pipyd.js.engine import evaluate
from pipyd.js.errors import JSSyntaxError
from pipyd.js.values import JSThrow

# lengths on both sides of the flattening threshold, and far past Python's recursion limit
LENGTHS = (1, _FLAT_CHAIN - 1, _FLAT_CHAIN, _FLAT_CHAIN + 1, _FLAT_CHAIN + 2, 3000)


@pytest.mark.parametrize("n", LENGTHS)
def test_method_chain_keeps_this(n: int) -> None:
    src = "var o = {n: 0, x() { this.n++; return this }}; o" + ".x()" * n + ".n"
    assert evaluate(src) == n


@pytest.mark.parametrize("n", LENGTHS)
def test_arithmetic_and_concatenation(n: int) -> None:
    assert evaluate("1" + "+1" * n) == n + 1
    assert evaluate("''" + "+'x'" * n) == "x" * n
    # `+` stays left-associative: numbers add up until the first string, then concatenate
    assert evaluate("1 + 2" + " + 'a' + 1" * n) == "3" + "a1" * n


@pytest.mark.parametrize("n", LENGTHS)
def test_member_index_and_call_chains(n: int) -> None:
    assert evaluate("var a = {}; a.b = a; a" + ".b" * n + " === a") is True
    assert evaluate("var a = [0]; a[0] = a; a" + "[0]" * n + ".length") == 1
    assert evaluate("var f = () => f; typeof f" + "()" * n) == "function"


@pytest.mark.parametrize("n", LENGTHS)
def test_logical_chains_in_value_and_test_positions(n: int) -> None:
    assert evaluate("0" + " || 0" * n + " || 'last'") == "last"
    assert evaluate("1" + " && 2" * n) == 2
    assert evaluate("var hit = 0; if (0" + " || 0" * n + " || 1) hit = 1; hit") == 1
    assert evaluate("var hit = 0; if (1" + " && 1" * n + " && 0) hit = 1; hit") == 0
    # mixed runs: ((0 || 1) && 1) || 0 ... - each operator change nests one level
    assert evaluate("var hit = 0; if (" + "0 || 1 && " * n + "1) hit = 2; hit") == 2


@pytest.mark.parametrize("n", (_FLAT_CHAIN + 5, 500))
def test_evaluation_order_and_short_circuit(n: int) -> None:
    order = evaluate("var log = []; var f = x => (log.push(x), x); f(0)"
                     + "".join(f" + f({i})" for i in range(1, n)) + "; log")
    assert list(order) == list(range(n))
    # the first truthy operand stops the chain, in a value and in a test position
    calls = "".join(f" || f({i})" for i in range(1, n))
    assert evaluate("var log = []; var f = x => (log.push(x), x > 3); f(0)" + calls + "; log.length") == 5
    assert evaluate("var log = []; var f = x => (log.push(x), x > 3); if (f(0)" + calls + ") {}; log.length") == 5


def test_optional_steps_inside_a_long_chain() -> None:
    src = ("var o = {x() { return o }}; var p = null;"
           "[p?.x()" + ".x()" * 300 + ", o?.x()" + ".x()" * 300 + " === o, p?.y" + ".z" * 300 + "]")
    assert list(evaluate(src)) == [evaluate("undefined"), True, evaluate("undefined")]


def test_error_in_a_flattened_chain_has_the_nested_form_position() -> None:
    def error(n: int) -> str:
        with pytest.raises(JSThrow) as info:
            evaluate("var a = {};\na.b = a;\nvar x = a" + ".b" * n + "\n  .c.d", "chain.js")
        return format_js_error(info.value)
    short, long = error(3), error(_FLAT_CHAIN + 10)
    assert "TypeError: Cannot read properties of undefined (reading 'd')" in long
    assert "at chain.js:3:9" in short and "at chain.js:3:9" in long


def test_nesting_with_no_flat_form_is_a_syntax_error_with_its_place() -> None:
    with pytest.raises(JSSyntaxError) as info:
        evaluate("var n = 0\n" + "{" * 2000 + "}" * 2000, "blocks.js")
    text = str(info.value)
    assert "nested too deeply at blocks.js:2:" in text and text.rstrip().endswith("^")


def test_more_nested_blocks_than_python_allows() -> None:
    loops = "for (let i = 0; i < 1; i++) "
    assert evaluate("var n = 0; " + loops * 20 + "n++; n") == 1
    with pytest.raises(JSSyntaxError) as info:
        evaluate("var n = 0;\n" + loops * 21 + "n++", "loops.js")
    e = info.value
    assert "Python allows 20" in e.message
    assert (e.filename, e.line, e.col) == ("loops.js", 2, 20 * len(loops))  # the 21st loop


def _else_ifs(n: int, hit: int) -> str:
    """An n-link else-if chain whose link tests are function expressions counting their calls."""
    links = "".join(f"else if ((() => (tests++, x === {i}))()) r = {i};\n" for i in range(1, n))
    return f"var x = {hit}, r, tests = 0;\nif (x === 0) r = 0;\n{links}else r = -1;\n[r, tests]"


@pytest.mark.parametrize("n, hit", [(3, 2), (800, 799), (800, 400), (800, 5000)])
def test_else_if_chains_run_each_test_only_until_one_holds(n: int, hit: int) -> None:
    r, tests = evaluate(_else_ifs(n, hit))
    assert r == (hit if hit < n else -1)
    assert tests == min(hit, n - 1)


def test_else_if_chain_parses_with_the_nested_spans() -> None:
    from pipyd.js.parser import parse
    outer = parse("if (a) b\nelse if (c) d\nelse if (e) f\nelse g").body[0]
    inner = outer.alternate
    assert (outer.line, outer.col, inner.line, inner.col, inner.alternate.line) == (1, 0, 2, 5, 3)
    assert outer.end_line == inner.end_line == inner.alternate.end_line == 4
    assert inner.alternate.alternate.type == "ExpressionStatement"


def test_past_pythons_own_compiler_depth_a_syntax_error_not_a_crash() -> None:
    # each else-if is one nested If for CPython's compiler, whose depth limit is its own
    with pytest.raises(JSSyntaxError) as info:
        evaluate(_else_ifs(5000, 1), "elif.js")
    assert info.value.message == "Expression or statement nested too deeply"
    assert info.value.filename == "elif.js" and info.value.line > 1


def test_a_long_source_line_is_excerpted_around_the_error() -> None:
    with pytest.raises(JSSyntaxError) as info:
        evaluate("var a = 1" + " + 1" * 1000 + " +* 2" + " + 1" * 1000, "min.js")
    excerpt, caret = str(info.value).split("\n")[1:]
    assert len(excerpt) < 200 and excerpt.startswith("…") and excerpt.endswith("…")
    assert excerpt[caret.index("^")] == "*"
