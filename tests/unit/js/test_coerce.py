"""coerce.py: ToNumber, ToString, ToPrimitive, ToInt32…, ==, ===, own_keys (ECMA-262 §7.1, §7.2)."""
from __future__ import annotations

import math

import pytest

from pipyd.js.coerce import (loose_equals, own_keys, same_value, same_value_zero, strict_equals,
                             to_boolean, to_int32, to_integer, to_number, to_object_key,
                             to_primitive, to_string, to_uint32)
from pipyd.js.values import JSArray, JSFunction, JSObject, JSObjectP, JSThrow, undefined

NAN = math.nan


def is_neg_zero(v: object) -> bool:
    return isinstance(v, float) and v == 0 and math.copysign(1, v) < 0


@pytest.mark.parametrize("text, want", [
    ("12", 12), (" 12 ", 12), ("0x1F", 31), ("0X1f", 31), ("0b101", 5), ("0o17", 15), ("1e3", 1000),
    (".5", 0.5), ("5.", 5), ("", 0), (" \n\t", 0), ("Infinity", math.inf), ("-Infinity", -math.inf),
    ("+Infinity", math.inf), ("\u00a0 42 \ufeff", 42), ("12345678901234567890", 1.2345678901234567e19),
])
def test_string_to_number(text: str, want: float) -> None:
    assert to_number(text) == want


@pytest.mark.parametrize("text", ["infinity", "1_0", "abc", "0x", "1e", "-0x10", "0x1g", "١٢", "--1", "+-1", "."])
def test_string_to_number_nan(text: str) -> None:
    assert math.isnan(to_number(text))


def test_to_number_other_types() -> None:
    assert to_number("-0") == 0 and is_neg_zero(to_number("-0"))
    assert to_number(True) == 1 and to_number(None) == 0
    assert math.isnan(to_number(undefined))
    assert to_number(JSArray([5])) == 5 and to_number(JSArray()) == 0
    assert math.isnan(to_number(JSObject()))
    assert type(to_number("42")) is int


@pytest.mark.parametrize("value, want", [
    (1, "1"), (1.0, "1"), (-0.0, "0"), (1e21, "1e+21"), (1e-7, "1e-7"), (0.1, "0.1"), (NAN, "NaN"),
    (True, "true"), (None, "null"), (undefined, "undefined"), ("s", "s"),
    (JSArray([1, None, undefined, JSArray([2, 3])]), "1,,,2,3"), (JSObject(a=1), "[object Object]"),
])
def test_to_string(value: object, want: str) -> None:
    assert to_string(value) == want


def test_cyclic_array_joins_empty() -> None:
    a = JSArray([1])
    a.append(a)
    assert to_string(a) == "1,"


def test_to_primitive_user_methods() -> None:
    assert to_primitive(JSObject(valueOf=lambda *a: 42)) == 42
    o = JSObject(valueOf=lambda *a: 1, toString=lambda *a: "2")
    assert to_primitive(o) == 1 and to_primitive(o, "string") == "2"
    this_seen = []
    f = JSFunction(lambda this, *a: this_seen.append(this) or 7, "valueOf")
    o2 = JSObject(valueOf=f)
    assert to_number(o2) == 7 and this_seen == [o2]


def test_to_primitive_proto_chain_and_null_proto() -> None:
    proto = JSObject(toString=lambda *a: "from proto")
    assert to_string(JSObjectP(proto)) == "from proto"
    with pytest.raises(JSThrow) as e:
        to_string(JSObjectP(None))
    assert e.value.value.name == "TypeError"


@pytest.mark.parametrize("value, want", [
    (0, False), (-0.0, False), (NAN, False), ("", False), ("0", True), (JSArray(), True),
    (JSObject(), True), (None, False), (undefined, False), (1, True), (0.5, True),
])
def test_to_boolean(value: object, want: bool) -> None:
    assert to_boolean(value) is want


def test_integer_conversions() -> None:
    assert to_int32(2**31) == -2**31
    assert to_int32(-1.5) == -1
    assert to_int32(math.inf) == 0 and to_int32(NAN) == 0
    assert to_int32("123") == 123
    assert to_int32(4294967296.5) == 0
    assert to_uint32(-1) == 4294967295
    assert to_integer(NAN) == 0 and to_integer(-2.7) == -2 and to_integer(math.inf) == math.inf
    assert to_object_key(1.5) == "1.5" and to_object_key(3) == "3"


def test_strict_equals() -> None:
    assert strict_equals(1, 1.0)
    assert not strict_equals(NAN, NAN)
    assert strict_equals(0, -0.0)
    assert not strict_equals(1, True)
    assert not strict_equals("1", 1)
    assert not strict_equals(JSObject(), JSObject())
    o = JSObject()
    assert strict_equals(o, o)
    assert strict_equals(undefined, undefined) and not strict_equals(undefined, None)


def test_same_value_variants() -> None:
    assert same_value_zero(NAN, NAN) and same_value_zero(0, -0.0)
    assert same_value(NAN, NAN) and not same_value(0, -0.0)


@pytest.mark.parametrize("a, b, want", [
    (None, undefined, True), (None, 0, False), (undefined, 0, False), ("", 0, True), ("0", False, True),
    ("1", True, True), ("2", True, False), (NAN, NAN, False), (JSArray(), False, True),
    (JSArray([0]), False, True), (JSArray([1]), 1, True), (JSArray([1, 2]), "1,2", True),
    (JSObject(), "[object Object]", True), (None, False, False), (1, 1.0, True),
])
def test_loose_equals(a: object, b: object, want: bool) -> None:
    assert loose_equals(a, b) is want
    assert loose_equals(b, a) is want


def test_own_keys_order() -> None:
    o = JSObject([("b", 1), ("2", 1), ("a", 1), ("1", 1), ("01", 1), ("-1", 1)])
    assert own_keys(o) == ["1", "2", "b", "a", "01", "-1"]
    assert own_keys(JSObject(x=1, y=2)) == ["x", "y"]
    assert own_keys(JSArray([7, 8])) == ["0", "1"]
    assert own_keys("ab") == ["0", "1"]
    assert own_keys(5) == []
