"""Round-4 fast paths (docs/internals/engine.md) give the general paths' answers: per-site inline
caches of host attribute reads, inline ToBoolean for ``||``/``&&``, statement member stores,
and the compiler's position pass (every generated node positioned, errors at the JS span)."""
from __future__ import annotations

import pytest

from pipyd.js.engine import compile_module, evaluate
from pipyd.js.scope import ACTIVE, ModuleScope
from pipyd.js.values import HostObject, JSArray, JSObject, JSThrow, undefined


@pytest.fixture(autouse=True)
def _no_context():
    yield
    ACTIVE.current = None


def _module(src: str) -> dict:
    m = compile_module(src, "t.js")
    g = m.new_globals(ModuleScope(0, "t.js"))
    m.run(module_globals=g)
    return g


class _A(HostObject):
    __slots__ = ("head", "body")
    js_get = frozenset(("head",))

    def __init__(self, head: object) -> None:
        self.head = head
        self.body = "hidden"


class _B(HostObject):
    __slots__ = ("head", "body")
    js_get = frozenset(("head", "body"))

    def __init__(self, head: object) -> None:
        self.head = head
        self.body = "b"


def test_site_cache_is_per_site_and_keeps_other_types_right() -> None:
    g = _module("var f = o => o.head\nvar b = o => o.body")
    # the first host type met fills the cache; other hosts, plain objects, arrays, strings and
    # undefined members still take their own paths, in any order
    seq = [_A(1), _B(2), JSObject(head=3), _A(4), JSObject(), "str", JSArray([1]), _B(5)]
    assert [g["f"](o) for o in seq] == [1, 2, 3, 4, undefined, undefined, undefined, 5]
    assert [g["b"](o) for o in (_B(0), _A(0), _B(0))] == ["b", undefined, "b"]  # allowlist per class


def test_site_cache_read_of_a_null_base_is_a_type_error() -> None:
    g = _module("var f = o => o.head")
    assert g["f"](_A(1)) == 1
    with pytest.raises(JSThrow, match="Cannot read properties of null"):
        try:
            g["f"](None)
        except Exception as exc:  # noqa: BLE001
            from pipyd.js.backtrace import to_js_error
            raise to_js_error(exc) from None


@pytest.mark.parametrize("value,expected", [
    ("''", "d"), ("'x'", "x"), ("null", "d"), ("undefined", "d"), ("0", "d"), ("-0", "d"),
    ("NaN", "d"), ("1", 1), ("false", "d"), ("true", True), ("[]", []), ("({})", {}), ("1 === 1", True),
])
def test_or_default_truthiness(value: str, expected: object) -> None:
    assert evaluate(f"var v = {value}; v || 'd'") == expected
    assert evaluate(f"var v = {value}; (v && 'y') || 'n'") == ("y" if expected != "d" else "n")
    assert evaluate(f"var v = {value}; if (v) 'T'; else 'F'") == ("T" if expected != "d" else "F")


def test_or_default_evaluates_left_once() -> None:
    assert evaluate("var n = 0; function f() { n++; return '' } f() || f() || 'z'; n") == 2


def test_member_store_statement() -> None:
    src = """
    var order = []
    function o() { order.push('o'); return obj }
    function v() { order.push('v'); return 7 }
    var obj = {}
    var arr = [1, 2]
    var acc = { set x(v) { this._x = v * 2 }, get x() { return this._x } }
    function run() {
      o().k = v()
      obj['x-y'] = 1
      arr.extra = 3
      acc.x = 5
      var i = 0; arr[i] = 9
      try { var n = null; n.k = 1 } catch (e) { order.push(e instanceof TypeError) }
      return [order.join(','), obj.k, obj['x-y'], arr.extra, acc.x, arr[0]]
    }
    run()
    """
    assert evaluate(src) == ["o,v,true", 7, 1, 3, 10, 9]


def test_var_in_a_top_level_function_is_not_a_module_variable() -> None:
    assert evaluate("function f() { var zz = 1; return zz } [f(), typeof zz]") == [1, "undefined"]


def test_generated_code_positions_point_at_the_js_source() -> None:
    src = "var a = 1\n\nfunction f(o) {\n  return 1 +\n    o.b.c\n}\nf({})"
    with pytest.raises(JSThrow) as info:
        evaluate(src)
    from pipyd.js.backtrace import js_backtrace
    frames = js_backtrace(info.value)
    assert any(":5:" in f for f in frames), frames


def test_plain_object_subscript_misses_answer_as_js_and_subclasses_keep_key_error() -> None:
    """Compiled member reads subscript a plain JSObject directly: an absent key is undefined, or
    Object.prototype's method bound to the object; other dict subclasses raise KeyError."""
    from pipyd.js.values import JSObjectP
    o = JSObject(a=1)
    assert o["a"] == 1 and o["missing"] is undefined
    assert o["hasOwnProperty"]("a") is True and o["hasOwnProperty"]("b") is False
    assert "missing" not in o  # a miss stores nothing
    with pytest.raises(KeyError):
        JSObjectP(None, a=1)["missing"]
    assert evaluate("var o = {a: 1}; [o.b, o.toString(), o.hasOwnProperty('a')]") == \
        [undefined, "[object Object]", True]
