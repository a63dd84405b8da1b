"""Core builtins called from Python: BuiltinClass interface, Object, Array, String, Number,
Math, JSON, global functions and GLOBALS assembly. (Script-level cases: conformance table.)"""
from __future__ import annotations

import math

import pytest

from pipyd.js.builtins import array as A
from pipyd.js.builtins import json as J
from pipyd.js.builtins import string as S
from pipyd.js.builtins.classes import BuiltinClass, BuiltinPrototype, prototype_of
from pipyd.js.builtins.functions import parse_float, parse_int, repeat
from pipyd.js.builtins.globals import GLOBALS
from pipyd.js.builtins.math import MATH, js_pow
from pipyd.js.builtins.number import Number, to_fixed
from pipyd.js.builtins.object import OBJECT_PROTO, Object
from pipyd.js.coerce import own_keys
from pipyd.js.values import JSArray, JSFunction, JSObject, JSObjectP, JSThrow, typeof, undefined


def kind(exc: pytest.ExceptionInfo) -> str:
    return exc.value.value.name


def test_builtin_class_interface() -> None:
    arr = GLOBALS["Array"]
    assert type(arr) is BuiltinClass and typeof(arr) == "function"
    assert arr(1, 2) == [1, 2] and arr.construct(2) == [undefined, undefined]
    assert arr.get("isArray")(JSArray()) is True
    assert arr.get("name") == "Array" and arr.get("missing") is undefined
    assert arr.has_instance(JSArray()) and not arr.has_instance(JSObject())
    proto = arr.get("prototype")
    assert isinstance(proto, BuiltinPrototype) and proto["constructor"] is arr
    assert isinstance(proto["slice"], JSFunction)
    assert proto["slice"].call_this(JSArray([1, 2, 3]), 1) == [2, 3]
    assert own_keys(proto) == []
    with pytest.raises(JSThrow) as e:
        BuiltinClass("NotNew", lambda *a: 1).construct()
    assert kind(e) == "TypeError"


def test_prototypes_do_not_leak_python_objects() -> None:
    assert prototype_of(JSObject()) is Object.prototype
    assert prototype_of(Object.prototype) is None
    assert prototype_of(JSArray()) is GLOBALS["Array"].prototype
    assert prototype_of("s") is GLOBALS["String"].prototype
    assert prototype_of(1.5) is Number.prototype
    assert prototype_of(True) is GLOBALS["Boolean"].prototype
    assert Object.has_instance(JSObject()) and not Object.has_instance(JSObjectP(None))
    assert not Object.has_instance(5)


def test_object_statics() -> None:
    st = Object.statics
    assert st["keys"](JSObject([("b", 1), ("1", 2)])) == ["1", "b"]
    assert st["entries"](JSObject(a=1)) == [["a", 1]]
    t = st["assign"](JSObject(a=1), JSObject(b=2), None, undefined)
    assert list(t.items()) == [("a", 1), ("b", 2)]
    assert st["fromEntries"](JSArray([JSArray(["k", 1])])) == {"k": 1}
    o = st["create"](None)
    assert type(o) is JSObjectP and o.proto is None
    assert type(st["create"](Object.prototype)) is JSObject
    with pytest.raises(JSThrow):
        st["keys"](None)
    with pytest.raises(JSThrow):
        st["defineProperty"](JSObject(), "x", JSObject(get=lambda: 1))


def test_object_proto_methods() -> None:
    assert OBJECT_PROTO["hasOwnProperty"](JSObject(a=1), "a") is True
    assert OBJECT_PROTO["hasOwnProperty"](JSArray([1]), 0) is True
    assert OBJECT_PROTO["toString"](JSArray()) == "[object Array]"
    assert OBJECT_PROTO["toString"](None) == "[object Null]"


def test_array_callbacks_and_this_arg() -> None:
    this_seen = []
    f = JSFunction(lambda this, v, *r: this_seen.append(this) or v * 2)
    assert A.map_(JSArray([1, 2]), f, "T") == [2, 4] and this_seen == ["T", "T"]
    arr = JSArray([1, 2])
    assert A.map_(arr, lambda v, i, a: (a.append(0), v)[1]) == [1, 2]  # length fixed at start
    with pytest.raises(JSThrow) as e:
        A.for_each(JSArray([1]), undefined)
    assert kind(e) == "TypeError"


def test_array_sort() -> None:
    assert A.array_sort(JSArray([3, 1, 10, 2])) == [1, 10, 2, 3]
    assert A.array_sort(JSArray([3, 1, 2]), lambda a, b: a - b) == [1, 2, 3]
    assert A.array_sort(JSArray(["b", undefined, "a"])) == ["a", "b", undefined]
    recs = JSArray([JSObject(k=1, v="a"), JSObject(k=0, v="b"), JSObject(k=1, v="c")])
    assert [r["v"] for r in A.array_sort(recs, lambda x, y: x["k"] - y["k"])] == ["b", "a", "c"]
    assert A.array_sort(JSArray(["\uffff", "\U0001F600"])) == ["\U0001F600", "\uffff"]  # UTF-16 order


def test_array_misc() -> None:
    assert A.splice(JSArray([1, 2, 3, 4]), 1, 2) == [2, 3]
    assert A.includes(JSArray([float("nan")]), float("nan")) is True
    assert A.index_of(JSArray([1, True]), True) == 1 and A.includes(JSArray([1]), True) is False
    assert A.flat(JSArray([1, JSArray([2, JSArray([3])])]), math.inf) == [1, 2, 3]
    assert A.pop(JSArray()) is undefined and A.shift(JSArray()) is undefined
    with pytest.raises(JSThrow) as e:
        A.reduce_(JSArray(), lambda a, b: a)
    assert kind(e) == "TypeError"
    with pytest.raises(JSThrow) as e:
        A.array_call(-1)
    assert kind(e) == "RangeError"


def test_string_methods_code_points() -> None:
    assert S.char_code_at("\U0001F600", 0) == 0x1F600
    assert S.from_char_code(0xD83D, 0xDE00) == "\U0001F600"
    assert S.slice_("a\U0001F4A9b", 1, 2) == "\U0001F4A9"
    assert S.pad_start("5", 3, 0) == "005"
    assert S.trim("\u00a0\ufeffx\u3000") == "x"
    assert S.last_index_of("canal", "a", 0) == -1
    with pytest.raises(JSThrow) as e:
        S.repeat("a", -1)
    assert kind(e) == "RangeError"


def test_number_and_globals() -> None:
    assert Number() == 0 and math.isnan(Number(undefined))
    assert to_fixed(1.005, 2) == "1.00"
    assert parse_int("0x1F") == 31 and parse_int("z", 36) == 35 and math.isnan(parse_int("12", 1))
    assert parse_float("  .5e3x") == 500 and math.copysign(1, parse_float("-0")) < 0
    seen: list[int] = []
    repeat(lambda i: (seen.append(i), i < 2)[1])
    assert seen == [0, 1, 2]
    seen.clear()
    repeat(2, lambda i: seen.append(i) or True)
    assert seen == [0, 1]
    for name in ("Object", "Array", "String", "Number", "Boolean", "Math", "JSON", "parseInt",
                 "repeat", "NaN", "Infinity", "undefined", "globalThis"):
        assert name in GLOBALS
    assert GLOBALS["globalThis"] is GLOBALS


def test_math_edges() -> None:
    assert MATH["round"](-0.5) == 0 and math.copysign(1, MATH["round"](-0.4)) < 0
    assert MATH["round"](0.49999999999999994) == 0 and MATH["round"](2.5) == 3
    assert MATH["max"]() == -math.inf and math.isnan(MATH["max"](1, float("nan")))
    assert math.isnan(MATH["log"](-1)) and MATH["log"](0) == -math.inf
    assert MATH["cbrt"](27) == 3 and MATH["exp"](1000) == math.inf
    assert js_pow(2, 10) == 1024 and math.isnan(js_pow(1, math.inf)) and js_pow(-0.0, -3) == -math.inf
    assert type(js_pow(2, 60)) is float


def test_json_round_trip_types() -> None:
    v = J.parse('{"a": [1, {"b": null}], "n": -0, "f": 1.5}')
    assert type(v) is JSObject and type(v["a"]) is JSArray and type(v["a"][1]) is JSObject
    assert math.copysign(1, v["n"]) < 0
    assert J.stringify(v) == '{"a":[1,{"b":null}],"n":0,"f":1.5}'
    assert J.stringify("\ud800") == '"\\ud800"'
    assert J.stringify(JSArray([undefined, lambda: 1])) == "[null,null]"
    with pytest.raises(JSThrow) as e:
        J.parse("NaN")
    assert kind(e) == "SyntaxError"
    cyc = JSObject()
    cyc["me"] = cyc
    with pytest.raises(JSThrow) as e:
        J.stringify(cyc)
    assert kind(e) == "TypeError"
