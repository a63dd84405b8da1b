"""runtime.py: operators and property access with JS semantics, called directly."""
from __future__ import annotations

import math

import pytest

from pipyd.js import runtime as rt
from pipyd.js.values import HostObject, JSArray, JSObject, JSObjectP, JSThrow, undefined


def neg_zero(v: object) -> bool:
    return isinstance(v, float) and v == 0 and math.copysign(1, v) < 0


@pytest.mark.parametrize("a,b,out", [(1, 2, 3), ("a", 1, "a1"), (1, "a", "1a"), (None, 1, 1), (True, 1, 2),
                                     (2**53, 2, float(2**53 + 2)), (JSArray([1]), JSArray([2]), "12")])
def test_add(a: object, b: object, out: object) -> None:
    assert rt.add(a, b) == out and type(rt.add(a, b)) is type(out)


def test_division_and_modulo_corners() -> None:
    assert rt.div(1, 0) == math.inf and rt.div(-1, 0) == -math.inf and math.isnan(rt.div(0, 0))
    assert neg_zero(rt.div(0, -3)) and rt.div(6, 3) == 2 and type(rt.div(6, 3)) is int
    assert rt.mod(-5, 3) == -2 and neg_zero(rt.mod(-4, 2)) and math.isnan(rt.mod(1, 0))
    assert neg_zero(rt.mul(0, -1)) and neg_zero(rt.neg(0))


def test_pow_corners() -> None:
    assert rt.pow(math.nan, 0) == 1 and math.isnan(rt.pow(1, math.inf)) and math.isnan(rt.pow(-8, 1 / 3))
    assert rt.pow(0, -1) == math.inf and rt.pow(-0.0, -1) == -math.inf and rt.pow(2, 10) == 1024


def test_bitwise() -> None:
    assert rt.bitor(2**32 + 5, 0) == 5 and rt.shl(1, 31) == -2**31 and rt.ushr(-1, 0) == 2**32 - 1
    assert rt.bitnot(5) == -6 and rt.shr(-5, 1) == -3


def test_comparisons_and_equality() -> None:
    assert rt.lt("10", "9") and not rt.lt(10, "9") and not rt.lt(math.nan, 1)
    assert rt.seq(1, 1.0) and not rt.seq(True, 1) and not rt.seq(None, undefined)
    assert rt.eq(None, undefined) and rt.eq("1", 1) and not rt.eq(None, 0)


def test_object_and_array_access() -> None:
    o = JSObject(a=1)
    assert rt.get(o, "a") == 1 and rt.get(o, "zz") is undefined and rt.get(o, 1) is undefined
    rt.set(o, 1, "x")
    assert o["1"] == "x"
    a = JSArray([1, 2])
    assert rt.get(a, 1) == 2 and rt.get(a, "1") == 2 and rt.get(a, "length") == 2 and rt.get(a, 5) is undefined
    rt.set(a, 4, 9)
    assert a == JSArray([1, 2, undefined, undefined, 9]) or list(a) == [1, 2, undefined, undefined, 9]
    rt.set(a, "length", 1)
    assert list(a) == [1]


def test_proto_chain() -> None:
    base = JSObject(greet="hi")
    child = JSObjectP(base, own=1)
    assert rt.get(child, "greet") == "hi" and rt.get(child, "own") == 1
    assert rt.get(JSObjectP(None), "toString") is undefined


def test_errors_for_null_and_undefined() -> None:
    with pytest.raises(JSThrow, match="reading 'x'"):
        rt.get(undefined, "x")
    with pytest.raises(JSThrow, match="setting 'x'"):
        rt.set(None, "x", 1)
    with pytest.raises(JSThrow, match="is not a function"):
        rt.call_method(JSObject(), "nope")


class Box(HostObject):
    js_get = frozenset({"value", "double", "from"})
    js_set = frozenset({"value"})

    def __init__(self) -> None:
        self.value = 2

    def double(self) -> int:
        return self.value * 2

    def from_(self) -> str:
        return "kw"


def test_host_object_access() -> None:
    b = Box()
    assert rt.get(b, "value") == 2 and rt.call_method(b, "double") == 4 and rt.call_method(b, "from") == "kw"
    assert rt.get(b, "__class__") is undefined and rt.get(b, "__init__") is undefined
    rt.set(b, "value", 5)
    assert b.value == 5
    with pytest.raises(JSThrow):
        rt.set(b, "double", 1)


def test_function_properties_and_methods() -> None:
    def f(a=undefined, b=undefined, *_):  # noqa: ANN001, ANN002, ANN202
        return (a, b)
    assert rt.call_method(f, "call", None, 1, 2) == (1, 2)
    assert rt.call_method(f, "apply", None, JSArray([3, 4])) == (3, 4)
    rt.set(f, "tag", 1)
    assert rt.get(f, "tag") == 1
