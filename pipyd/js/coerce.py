"""ECMAScript type conversions and equality (ECMA-262 §7.1, §7.2) on pipyd's value representation.

These run on every operator and most builtins, so each starts with ``type(x) is`` fast paths for
the common primitive types before the general case. Values are as described in ``values.py``.
"""
from __future__ import annotations

import math
import re
from typing import Any

from pipyd.js.numfmt import number_to_string
from pipyd.js.values import (HostObject, JSArray, JSFunction, JSObject, JSObjectP, type_error,
                             undefined)

NaN = math.nan
_INF = math.inf
MAX_SAFE = 2**53

# WhiteSpace and LineTerminator code points (§12.2, §12.3): what StringToNumber and trim() strip.
JS_WHITESPACE = ("\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
                 "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff")

# StrUnsignedDecimalLiteral (§7.1.4.1.1): no underscores, no 'inf'/'nan' that float() would accept.
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)\Z", re.ASCII)
_RADIX_PREFIX = {"0x": 16, "0X": 16, "0o": 8, "0O": 8, "0b": 2, "0B": 2}


def _int_or_float(i: int) -> int | float:
    return i if -MAX_SAFE <= i <= MAX_SAFE else float(i)


def string_to_number(s: str) -> int | float:
    """StringToNumber (§7.1.4.1.1)."""
    if s.isascii() and s.isdigit():  # the common case: '123'
        return _int_or_float(int(s)) if len(s) < 16 else float(s)
    s = s.strip(JS_WHITESPACE)
    if not s:
        return 0
    radix = _RADIX_PREFIX.get(s[:2])
    if radix is not None:
        try:
            body = s[2:]
            if not body or not body.isalnum() or not body.isascii():
                return NaN
            return _int_or_float(int(body, radix))
        except ValueError:
            return NaN
    if _DECIMAL.match(s) is None:
        t = s.lstrip("+-")
        if t == "Infinity" and len(s) - len(t) <= 1:
            return -_INF if s[0] == "-" else _INF
        return NaN
    if s.lstrip("+-").isdigit() and len(s) < 16:
        i = int(s)
        if i == 0 and s[0] == "-":
            return -0.0
        return i
    return float(s)


def to_number(v: Any) -> int | float:
    """ToNumber (§7.1.4)."""
    t = type(v)
    if t is int or t is float:
        return v
    if t is str:
        return string_to_number(v)
    if t is bool:
        return 1 if v else 0
    if v is undefined:
        return NaN
    if v is None:
        return 0
    return to_number(to_primitive(v, "number"))


def to_numeric_float(v: Any) -> float:
    """ToNumber as a Python float (for math functions)."""
    t = type(v)
    if t is float:
        return v
    if t is int:
        return float(v)
    return float(to_number(v))


def to_string(v: Any) -> str:
    """ToString (§7.1.17)."""
    t = type(v)
    if t is str:
        return v
    if t is int:
        return str(v)
    if t is float:
        return number_to_string(v)
    if t is bool:
        return "true" if v else "false"
    if v is undefined:
        return "undefined"
    if v is None:
        return "null"
    if t is JSArray:
        return array_join(v, ",")
    return to_string(to_primitive(v, "string"))


_JOINING: set[int] = set()  # arrays being joined: a cycle joins as '' as engines do


def array_join(arr: list, sep: str) -> str:
    """Array.prototype.join's core: null/undefined elements are empty strings."""
    key = id(arr)
    if key in _JOINING:
        return ""
    _JOINING.add(key)
    try:
        return sep.join("" if (x is None or x is undefined) else (x if type(x) is str else to_string(x))
                        for x in arr)
    finally:
        _JOINING.discard(key)


def to_boolean(v: Any) -> bool:
    """ToBoolean (§7.1.2): NaN, 0, -0, '' are false; every object is true."""
    t = type(v)
    if t is bool:
        return v
    if t is str:
        return v != ""
    if t is int:
        return v != 0
    if t is float:
        return not (v == 0 or v != v)
    return not (v is undefined or v is None)


truthy = to_boolean


def is_object(v: Any) -> bool:
    """True for JS objects and functions (anything that is not a primitive)."""
    t = type(v)
    return not (t is str or t is int or t is float or t is bool or v is undefined or v is None)


def _lookup(obj: Any, key: str) -> Any:
    """Property read used by ToPrimitive: own/proto-chain fast path, else the runtime's get."""
    t = type(obj)
    if t is JSObject:
        v = obj.get(key, _MISSING)
        return _DEFAULT_METHODS[key] if v is _MISSING else v
    if t is JSObjectP:
        o: Any = obj
        while isinstance(o, dict):
            if key in o:
                return o[key]
            if type(o) is JSObject:  # a plain object ends the chain with Object.prototype
                return _DEFAULT_METHODS[key]
            o = getattr(o, "proto", None)
        if o is None:
            return undefined  # Object.create(null) has no valueOf/toString
        obj = o
    from pipyd.js import runtime  # import cycle: runtime imports coerce
    return runtime.get(obj, key)


_MISSING = object()


def _object_to_string(this: Any) -> str:
    return "[object Object]"


def _object_value_of(this: Any) -> Any:
    return this


_DEFAULT_METHODS = {"valueOf": _object_value_of, "toString": _object_to_string}


def call_with_this(f: Any, this: Any, *args: Any) -> Any:
    """Call a JS function value with a ``this``: JSFunction takes it; others (arrows, bound) do not."""
    if type(f) is JSFunction:
        return f.fn(this, *args)
    if f is _object_to_string or f is _object_value_of:
        return f(this)
    return f(*args)


def to_primitive(v: Any, hint: str = "default") -> Any:
    """ToPrimitive (§7.1.1) via OrdinaryToPrimitive: valueOf then toString (toString first for the
    string hint, and for the default hint on Dates, whose class sets ``js_default_hint = 'string'``)."""
    if not is_object(v):
        return v
    t = type(v)
    if t is JSArray:
        return array_join(v, ",")
    if hint == "default":
        hint = getattr(t, "js_default_hint", "number")
    order = ("toString", "valueOf") if hint == "string" else ("valueOf", "toString")
    for name in order:
        f = _lookup(v, name)
        if callable(f):
            r = call_with_this(f, v)
            if not is_object(r):
                return r
    if isinstance(v, HostObject) and v.js_class_name:
        return f"[object {v.js_class_name}]"
    if callable(v) and (t is JSFunction or not isinstance(v, (dict, list))):
        return function_source(v)
    raise type_error("Cannot convert object to primitive value")


def function_source(f: Any) -> str:
    """What String(fn) shows: the source is not kept, so a native-code placeholder with the name."""
    name = getattr(f, "name", "") if type(f) is JSFunction or hasattr(f, "construct") else ""
    if type(name) is not str:
        name = ""
    return f"function {name}() {{ [native code] }}"


def to_object_key(v: Any) -> str:
    """ToPropertyKey (§7.1.19) for objects whose keys are str."""
    t = type(v)
    if t is str:
        return v
    if t is int:
        return str(v)
    return to_string(v)


def to_integer(v: Any) -> int | float:
    """ToIntegerOrInfinity (§7.1.5): an int, or ±inf; NaN gives 0."""
    if type(v) is int:
        return v
    n = to_number(v)
    if type(n) is int:
        return n
    if n != n:
        return 0
    if n == _INF or n == -_INF:
        return n
    return int(n)


def to_int32(v: Any) -> int:
    """ToInt32 (§7.1.6)."""
    if type(v) is int and -2147483648 <= v <= 2147483647:
        return v
    n = to_number(v)
    if type(n) is float:
        if n != n or n == _INF or n == -_INF:
            return 0
        n = int(n)
    n &= 0xFFFFFFFF
    return n - 0x100000000 if n >= 0x80000000 else n


def to_uint32(v: Any) -> int:
    """ToUint32 (§7.1.7)."""
    if type(v) is int and 0 <= v <= 0xFFFFFFFF:
        return v
    n = to_number(v)
    if type(n) is float:
        if n != n or n == _INF or n == -_INF:
            return 0
        n = int(n)
    return n & 0xFFFFFFFF


def to_uint16(v: Any) -> int:
    return to_uint32(v) & 0xFFFF


def strict_equals(a: Any, b: Any) -> bool:
    """IsStrictlyEqual (§7.2.15): numbers by value (NaN unequal, -0 equal to 0), objects by identity."""
    ta = type(a)
    tb = type(b)
    if ta is tb:
        if ta is str or ta is int or ta is float or ta is bool:
            return a == b
        return a is b
    if (ta is int and tb is float) or (ta is float and tb is int):
        return a == b
    return False


def same_value_zero(a: Any, b: Any) -> bool:
    """SameValueZero (§7.2.11): as === but NaN equals NaN (includes, Map, Set)."""
    if type(a) is float and a != a:
        return type(b) is float and b != b
    return strict_equals(a, b)


def same_value(a: Any, b: Any) -> bool:
    """SameValue (§7.2.10, Object.is): NaN equals NaN, -0 differs from 0."""
    if (type(a) is float or type(a) is int) and (type(b) is float or type(b) is int):
        if a == 0 and b == 0:
            return math.copysign(1, a) == math.copysign(1, b)
    return same_value_zero(a, b)


def _is_num(t: type) -> bool:
    return t is int or t is float


def loose_equals(a: Any, b: Any) -> bool:
    """IsLooselyEqual (§7.2.14), the == operator."""
    ta = type(a)
    tb = type(b)
    if ta is tb or (_is_num(ta) and _is_num(tb)):
        return strict_equals(a, b)
    a_nullish = a is None or a is undefined
    b_nullish = b is None or b is undefined
    if a_nullish or b_nullish:
        return a_nullish and b_nullish
    if _is_num(ta) and tb is str:
        return a == string_to_number(b)
    if ta is str and _is_num(tb):
        return string_to_number(a) == b
    if ta is bool:
        return loose_equals(1 if a else 0, b)
    if tb is bool:
        return loose_equals(a, 1 if b else 0)
    a_obj = is_object(a)
    b_obj = is_object(b)
    if a_obj and b_obj:
        return a is b
    if a_obj:
        return loose_equals(to_primitive(a), b)
    if b_obj:
        return loose_equals(a, to_primitive(b))
    return False


def _array_index_key(k: str) -> bool:
    """A canonical array index: '0' or digits without a leading zero, below 2**32 - 1."""
    return k.isdigit() and k.isascii() and (k == "0" or k[0] != "0") and int(k) < 0xFFFFFFFF


def own_keys(obj: Any) -> list[str]:
    """EnumerableOwnProperty keys in JS order (§10.1.11.1): integer-like keys ascending, then
    string keys in insertion order. Strings and arrays give their indices."""
    t = type(obj)
    if t is JSObject or t is JSObjectP or (isinstance(obj, dict) and not getattr(t, "js_hidden_keys", False)):
        for k in obj:
            if k[:1].isdigit() and _array_index_key(k):
                break
        else:
            return list(obj)
        ints = sorted((k for k in obj if _array_index_key(k)), key=int)
        return ints + [k for k in obj if not _array_index_key(k)]
    if t is JSArray or t is str or isinstance(obj, list):
        keys = [str(i) for i in range(len(obj))]
        props = getattr(obj, "props", None) if t is not str else None
        return keys + own_keys(props) if props else keys
    if t is JSFunction:
        return own_keys(obj.props) if obj.props else []
    return []

