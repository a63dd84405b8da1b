"""compiler.py: the shape of compiled code, positions, names, backtraces."""
from __future__ import annotations

import pytest

from pipyd.js import nodes as N
from pipyd.js.backtrace import format_js_error, js_backtrace, to_js_error
from pipyd.js.compiler import compile_program
from pipyd.js.engine import compile_module, evaluate
from pipyd.js.values import JSFunction, JSThrow


def test_hand_built_program() -> None:
    prog = N.Program([N.ExpressionStatement(N.BinaryExpression("+", N.Literal(1, "1"), N.Literal(2, "2"),
                                                               line=1, col=0, end_line=1, end_col=5),
                                            line=1, col=0, end_line=1, end_col=5)])
    code, names = compile_program(prog, "hand.js")
    g = compile_module("0", "hand.js").new_globals()
    exec(code, g)
    assert g["\u01c2result"] == 3 and names == []


def test_arrow_is_plain_function_and_function_is_jsfunction() -> None:
    arrow = evaluate("const handler = msg => msg; handler")
    assert callable(arrow) and not isinstance(arrow, JSFunction) and arrow(1, 2, 3) == 1
    fn = evaluate("(function named(a, b) { return this })")
    assert isinstance(fn, JSFunction) and fn.name == "named" and fn.length == 2


def test_function_names_and_lengths_registered() -> None:
    assert evaluate("const handler = (a, b) => 0; [handler.name, handler.length]") == ["handler", 2]


def test_top_level_names() -> None:
    m = compile_module("var a = 1; let b = 2; const c = 3; function d() {}", "t.js")
    assert sorted(m.top_level_names) == ["a", "b", "c", "d"]


def test_positions_point_at_js_source() -> None:
    src = "const f = o => o.a.b;\nconst g = x => f(x);\ng({})"
    with pytest.raises(JSThrow) as info:
        evaluate(src, "pos.js")
    frames = js_backtrace(info.value)
    assert frames[0] == "at f (pos.js:1:16)"
    assert frames[1].startswith("at g (pos.js:2:")
    assert frames[-1].startswith("at pos.js:3:")
    text = format_js_error(info.value)
    assert text.startswith("TypeError: Cannot read properties of undefined (reading 'b')\n"
                           "const f = o => o.a.b;\n"
                           "               ^\n"
                           "    at f (pos.js:1:16)")


def test_python_errors_become_js_errors() -> None:
    assert to_js_error(RecursionError()).value.name == "RangeError"
    err = to_js_error(NameError("name 'xǂ3' is not defined")).value
    assert (err.name, err.message) == ("ReferenceError", "x is not defined")
    err = to_js_error(TypeError("'int' object is not callable")).value
    assert err.message == "number is not a function"
    assert "Traceback" not in to_js_error(ValueError("bad")).value.message


def test_tdz_is_a_reference_error() -> None:
    with pytest.raises(JSThrow, match="Cannot access 'v' before initialization"):
        evaluate("function f() { v; let v = 1 } f()")


def test_closures_assign_captured_variables() -> None:
    assert evaluate("function f() { let n = 0; const inc = () => { n++ }; inc(); inc(); return n } f()") == 2


def test_per_iteration_binding_only_when_captured() -> None:
    m = compile_module("let s = 0; for (let i = 0; i < 3; i++) s += i; s", "t.js")
    assert not any(c for c in m.code.co_consts if hasattr(c, "co_code"))  # stays inline
    m2 = compile_module("let f = []; for (let i = 0; i < 3; i++) f.push(() => i); f.map(g => g())", "t.js")
    assert m2.run() == [0, 1, 2]


def test_unsupported_syntax_reports_position() -> None:
    from pipyd.js.errors import JSSyntaxError
    with pytest.raises(JSSyntaxError):
        evaluate("function* g() { yield 1 }")  # getters in literals are supported since; generators are not


def test_no_python_warning_for_folded_constants() -> None:
    """`-1.5 === false` folds its left side to a constant; compiled as `is` it made CPython's
    compiler print a SyntaxWarning at load (found by the differential tests)."""
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = compile_module("[(-30.875) !== false, -0 === null, (-1) === undefined, +'1' === true]", "w.js")
    assert m.run() == [True, False, False, False]
