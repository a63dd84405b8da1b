"""Inline array callbacks (``a.map(x => e)``…) and inline Math calls give the same answers as
the method calls they replace, and fall back to them whenever the fast form is not exact."""
from __future__ import annotations

import math

import pytest

from pipyd.js.builtins.classes import PristineNamespace
from pipyd.js.engine import compile_module, evaluate
from pipyd.js.runtime import ARRAY_PROTO, invokers
from pipyd.js.runtime_members import not_callable_error
from pipyd.js.scope import ModuleScope
from pipyd.js.values import JSArray


def _ev(src: str):
    return evaluate(src, "inline.js")


def test_map_filter_foreach_inline_results() -> None:
    assert list(_ev("[1,2,3,4,5,6].map(x => x * 2).filter(x => x % 3 === 0)")) == [6, 12]
    assert list(_ev("[0, 1, '', null, 'a', NaN].filter(x => x)")) == [1, "a"]
    assert list(_ev("var acc = []; [1,2,3].forEach(x => acc.push(x * 10)); acc")) == [10, 20, 30]
    assert _ev("[1].forEach(x => x)") is not None  # undefined, not a list
    assert list(_ev("const k = 3; [1,2].map(x => x * k)")) == [3, 6]
    assert list(_ev("'abc'.split('').map(c => c.toUpperCase())")) == ["A", "B", "C"]


def test_map_reads_live_list_within_initial_length() -> None:
    # elements pushed during the walk are not visited (the length is fixed at the start)
    assert _ev("var a = [1,2,3]; var r = a.map(x => (a.push(9), x)); r.length + ',' + a.length") == "3,6"


def test_non_array_receiver_takes_the_method_call() -> None:
    assert _ev("var o = { map: f => 'own ' + f(2) }; o.map(x => x + 1)") == "own 3"
    assert _ev("var o = { filter: f => f(0) }; o.filter(x => !x)") is True


def test_patched_prototype_is_honoured() -> None:
    saved = ARRAY_PROTO["map"]
    try:
        ARRAY_PROTO["map"] = lambda this, f, *_: "patched"
        invokers("map").pop(JSArray, None)  # the invoker table caches per type on first use
        assert _ev("[1].map(x => x)") == "patched"
    finally:
        ARRAY_PROTO["map"] = saved
        invokers("map").pop(JSArray, None)  # the slow path's table cached the patched method


def test_not_inlined_shapes_keep_their_semantics() -> None:
    # nested closures capture one binding per call; assignments to the parameter are allowed
    assert _ev("[1,2,3].map(x => () => x).map(f => f()).join()") == "1,2,3"
    assert _ev("[1,2].map(x => x = x + 1).join()") == "2,3"
    assert _ev("[5,6].map((x, i) => i).join()") == "0,1"


def test_inline_callback_error_is_a_js_error() -> None:
    with pytest.raises(Exception) as info:
        _ev("[1].map(x => x.y.z)")
    assert "Cannot read properties of undefined" in str(getattr(info.value, "value", info.value))


@pytest.mark.parametrize("src, want", [
    ("Math.floor(9 / 2)", 4), ("Math.floor(-0.5)", -1), ("Math.floor('8')", 8), ("Math.floor(7)", 7),
    ("1 / Math.floor(-0.2)", -1), ("1 / Math.floor(-0)", -math.inf), ("Math.min(3, 7)", 3),
    ("Math.max(3, 7)", 7), ("Math.max(-1, '5')", 5), ("Math.min(1, NaN)", math.nan), ("Math.abs(-5)", 5),
    ("Math.abs('-3')", 3), ("Math.round(4.5)", 5), ("1 / Math.ceil(-0.5)", -math.inf), ("Math.trunc(7)", 7),
    ("var i = 0; Math.max(i++, i++) * 10 + i", 12),
])
def test_math_inline(src: str, want: object) -> None:
    got = _ev(src)
    if isinstance(want, float) and want != want:
        assert got != got
    else:
        assert got == want


def test_math_member_replaced_or_math_shadowed() -> None:
    from pipyd.js.builtins.math import MATH
    saved = MATH["floor"]
    try:  # Math is one shared object: restore it for the other tests
        assert _ev("Math.floor = x => 'mine ' + x; Math.floor(2)") == "mine 2"
    finally:
        MATH["floor"] = saved
        MATH.__class__ = PristineNamespace  # untouched again: the inline path stays tested
    assert _ev("var Math = { min: (a, b) => 'local' }; Math.min(1, 2)") == "local"
    m = compile_module("var f = () => Math.max(1, 2)", "inline.js")
    g = m.new_globals(ModuleScope(0, "inline.js"), {"Math": {"not": "a namespace"}})
    m.run(module_globals=g)
    with pytest.raises(Exception):
        g["f"]()


def test_inline_map_result_is_a_jsarray() -> None:
    assert type(_ev("[1, 2].map(x => x)")) is JSArray


def test_boolean_call_inline_and_its_fallback() -> None:
    m = compile_module("var f = x => Boolean(x); var g = () => Boolean(h())", "bool.js")
    g = m.new_globals(ModuleScope(0, "bool.js"))
    m.run(module_globals=g)
    assert [g["f"](v) for v in ("", "a", 0, JSArray())] == [False, True, False, True]
    # a module global named Boolean that is not the builtin (an extra global) is called as is
    g2 = m.new_globals(ModuleScope(0, "bool.js"), {"Boolean": lambda *a: ("custom", a)})
    m.run(module_globals=g2)
    assert g2["f"](0) == ("custom", (0,))
    calls = []
    g2["h"] = lambda: calls.append(1) or "v"
    assert g2["g"]() == ("custom", ("v",)) and calls == [1]  # the argument ran once


def test_boolean_fallback_to_a_non_function_names_it() -> None:
    m = compile_module("var f = x => Boolean(x)", "bool.js")
    g = m.new_globals(ModuleScope(0, "bool.js"), {"Boolean": 5})
    m.run(module_globals=g)
    with pytest.raises(TypeError) as e:
        g["f"](1)
    assert "Boolean is not a function" in str(not_callable_error(e.value).value.message)
