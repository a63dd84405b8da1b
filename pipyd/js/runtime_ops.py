"""JS operators, calls and iteration for compiled code (re-exported by runtime.py).

Import ``pipyd.js.runtime``, never this module directly (runtime imports it at its end).

Numbers: ``int`` results stay ``int`` only while |v| <= 2**53 and are never -0 (values.py);
otherwise the result is a ``float``, which is what an IEEE double would hold.
"""
from __future__ import annotations

import functools
import math
from typing import Any, Iterable

from pipyd.js import runtime as rt
from pipyd.js.builtins.classes import BUILTIN_INFO, BuiltinClass, BuiltinNamespace, PristineNamespace
from pipyd.js.coerce import (
    loose_equals, own_keys, strict_equals, to_int32, to_number, to_primitive, to_string, to_uint32,
    truthy,
)
from pipyd.js.values import (
    HostObject, JSArray, JSErrorObject, JSFunction, JSObject, JSObjectP, JSThrow, MAX_SAFE,
    type_error, typeof, undefined,
)

__all__ = [
    "add", "sub", "mul", "div", "mod", "pow", "neg", "pos", "bitand", "bitor", "bitxor", "bitnot",
    "shl", "shr", "ushr", "lt", "le", "gt", "ge", "eq", "seq", "ne", "sne", "typeof", "truthy",
    "inc", "dec", "call", "call_method", "construct", "iterate", "forin_keys", "spread_into",
    "make_function", "catch_value", "throw", "typeof_free", "const_assign", "template",
    "tagged_strings", "num", "NaN", "Infinity", "call_this", "require_object", "object_rest",
    "to_list", "at", "slice_rest", "arg", "rest_args", "update_member", "regexp",
]

NaN = math.nan
Infinity = math.inf
_INT = int
_FLOAT = float


def num(v: Any) -> Any:
    """A number in canonical form: ints beyond 2**53 become floats."""
    if type(v) is int and not -MAX_SAFE <= v <= MAX_SAFE:
        return float(v)
    return v


def _n(v: Any) -> Any:
    t = type(v)
    if t is int or t is float:
        return v
    return to_number(v)


# ---------------------------------------------------------------------------- arithmetic §13.15.3

def add(a: Any, b: Any) -> Any:
    ta = type(a)
    tb = type(b)
    if ta is int and tb is int:
        r = a + b
        return r if -MAX_SAFE <= r <= MAX_SAFE else float(r)
    if ta is str and tb is str:
        return a + b
    if (ta is float or ta is int) and (tb is float or tb is int):
        return a + b
    a = to_primitive(a)
    b = to_primitive(b)
    if type(a) is str or type(b) is str:
        return to_string(a) + to_string(b)
    return num(to_number(a) + to_number(b))


def sub(a: Any, b: Any) -> Any:
    if type(a) is int and type(b) is int:
        r = a - b
        return r if -MAX_SAFE <= r <= MAX_SAFE else float(r)
    a = _n(a)
    b = _n(b)
    if type(a) is int and type(b) is int:
        return num(a - b)
    return float(a) - b


def mul(a: Any, b: Any) -> Any:
    if type(a) is not int or type(b) is not int:
        a = _n(a)
        b = _n(b)
    if type(a) is int and type(b) is int:
        r = a * b
        if r == 0 and (a < 0 or b < 0):
            return -0.0  # 0 * -5 is -0 in IEEE arithmetic
        return r if -MAX_SAFE <= r <= MAX_SAFE else float(r)
    try:
        return float(a) * b
    except OverflowError:
        return math.copysign(math.inf, a) * math.copysign(1, b)


def div(a: Any, b: Any) -> Any:
    if type(a) is not int or type(b) is not int:
        a = _n(a)
        b = _n(b)
    if type(a) is int and type(b) is int and b != 0:
        if a % b == 0:
            if a == 0 and b < 0:
                return -0.0
            return a // b
        return a / b
    if b == 0:
        if a != a or a == 0:
            return NaN
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    try:
        return float(a) / b
    except OverflowError:
        return math.copysign(math.inf, a) * math.copysign(1, b)


def mod(a: Any, b: Any) -> Any:
    """``%`` keeps the dividend's sign (§6.1.6.1.6, C fmod)."""
    if type(a) is int and type(b) is int and a >= 0 and b > 0:
        return a % b  # the common case: no sign or zero rules apply
    a = _n(a)
    b = _n(b)
    if type(a) is int and type(b) is int:
        if b == 0:
            return NaN
        r = abs(a) % abs(b)
        if a < 0:
            return -r if r else -0.0
        return r
    if b == 0 or a != a or b != b or a in (math.inf, -math.inf):
        return NaN
    if b in (math.inf, -math.inf):
        return a
    return math.fmod(a, b)


def pow(a: Any, b: Any) -> Any:  # noqa: A001 (the contract's name)
    """``**`` (§6.1.6.1.3 Number::exponentiate)."""
    a = _n(a)
    b = _n(b)
    if b != b:
        return NaN
    if b == 0:
        return 1
    if type(a) is int and type(b) is int and 0 <= b < 1100:
        r = a ** b
        if -MAX_SAFE <= r <= MAX_SAFE:
            return r
        try:
            return float(r)
        except OverflowError:  # past the largest double (2**53 ** 40): ±Infinity, not a RangeError
            return -math.inf if r < 0 else math.inf
    if a != a:
        return NaN
    if (a == 1 or a == -1) and b in (math.inf, -math.inf):
        return NaN
    try:
        return math.pow(a, b)
    except OverflowError:
        if a < 0 and float(b).is_integer() and b % 2 == 1:
            return -math.inf
        return math.inf
    except (ValueError, ZeroDivisionError):
        if a == 0:  # 0 ** negative: ±Infinity, sign kept for -0 with an odd integer exponent
            odd = float(b).is_integer() and b % 2 == 1
            return -math.inf if odd and math.copysign(1, a) < 0 else math.inf
        return NaN


def neg(a: Any) -> Any:
    a = _n(a)
    if type(a) is int:
        return -a if a else -0.0
    return -a


def pos(a: Any) -> Any:
    return _n(a)


def inc(a: Any) -> Any:
    if type(a) is int and a < MAX_SAFE:
        return a + 1
    return add(_n(a), 1)


def dec(a: Any) -> Any:
    if type(a) is int and a > -MAX_SAFE:
        return a - 1
    return sub(_n(a), 1)


# ---------------------------------------------------------------------------- bitwise §13.12

def _i32(v: int) -> int:
    v &= 0xFFFFFFFF
    return v - 0x100000000 if v & 0x80000000 else v


def bitand(a: Any, b: Any) -> int:
    return _i32(to_int32(a) & to_int32(b))


def bitor(a: Any, b: Any) -> int:
    return _i32(to_int32(a) | to_int32(b))


def bitxor(a: Any, b: Any) -> int:
    return _i32(to_int32(a) ^ to_int32(b))


def bitnot(a: Any) -> int:
    return ~to_int32(a)


def shl(a: Any, b: Any) -> int:
    return _i32(to_int32(a) << (to_uint32(b) & 31))


def shr(a: Any, b: Any) -> int:
    return to_int32(a) >> (to_uint32(b) & 31)


def ushr(a: Any, b: Any) -> int:
    return to_uint32(a) >> (to_uint32(b) & 31)


# ---------------------------------------------------------------------------- comparison §7.2.13

def _compare_operands(a: Any, b: Any) -> tuple[Any, Any]:
    a = to_primitive(a, "number")
    b = to_primitive(b, "number")
    if type(a) is str and type(b) is str:
        return a, b
    return to_number(a), to_number(b)


def lt(a: Any, b: Any) -> bool:
    ta = type(a)
    tb = type(b)
    if (ta is int or ta is float) and (tb is int or tb is float) or (ta is str and tb is str):
        return a < b
    a, b = _compare_operands(a, b)
    return a < b


def le(a: Any, b: Any) -> bool:
    ta = type(a)
    tb = type(b)
    if (ta is int or ta is float) and (tb is int or tb is float) or (ta is str and tb is str):
        return a <= b
    a, b = _compare_operands(a, b)
    return a <= b


def gt(a: Any, b: Any) -> bool:
    return lt(b, a) if type(a) is not type(b) or type(a) is not int else a > b


def ge(a: Any, b: Any) -> bool:
    return le(b, a) if type(a) is not type(b) or type(a) is not int else a >= b


def eq(a: Any, b: Any) -> bool:
    return loose_equals(a, b)


def ne(a: Any, b: Any) -> bool:
    return not loose_equals(a, b)


def seq(a: Any, b: Any) -> bool:
    """``===``: Python ``==`` is identity for objects and value equality for numbers and strings;
    only booleans need a check, since ``True == 1`` in Python."""
    return a == b and (type(a) is bool) is (type(b) is bool)


def sne(a: Any, b: Any) -> bool:
    return not seq(a, b)


# ---------------------------------------------------------------------------- calls

def _not_function(f: Any, what: str = "") -> JSThrow:
    return type_error(f"{what or (to_string(f) if type(f) is str else typeof(f))} is not a function")


def call(f: Any, *args: Any) -> Any:
    """Call a value as a function with ``this = undefined``."""
    if type(f) is JSFunction:
        return f.fn(undefined, *args)
    if callable(f) and not isinstance(f, (dict, list)):
        return f(*args)
    raise _not_function(f)


def call_this(f: Any, this: Any, *args: Any) -> Any:
    if type(f) is JSFunction:
        return f.fn(this, *args)
    if callable(f) and not isinstance(f, (dict, list)):
        return f(*args)
    raise _not_function(f)


def call_method(obj: Any, key: Any, *args: Any) -> Any:
    """``obj[key](...args)`` with ``this = obj``, without allocating a bound method."""
    t = type(obj)
    if t is JSObject:
        f = obj.get(key, rt._M)
        if f is rt._M:  # not an own property (an own `null` must not reach the prototype)
            m = rt.OBJECT_PROTO.get(key)
            if m is not None and type(m) is not rt.Accessor:
                return m(obj, *args)
            f = rt.get(obj, key)
    elif t is JSArray:
        m = rt.ARRAY_PROTO.get(key) if type(key) is str else None
        if m is not None and type(m) is not rt.Accessor:
            return m(obj, *args)
        f = rt.get(obj, key)
    elif t is str:
        m = rt.STRING_PROTO.get(key) if type(key) is str else None
        if m is not None and type(m) is not rt.Accessor:
            return m(obj, *args)
        f = rt.get(obj, key)
    elif isinstance(obj, HostObject):
        if type(key) is str and key in t.js_get:
            return getattr(obj, key + "_" if key in rt._KEYWORDS else key)(*args)
        raise type_error(f"{rt.to_string(key)} is not a function")
    elif t is BuiltinClass:
        f = obj.get(key) if type(key) is str else rt.get(obj, key)
    elif t is BuiltinNamespace or t is PristineNamespace:  # Math, JSON: members are plain callables taking no `this`
        f = dict.get(obj, key) if type(key) is str else None
        if f is None:
            f = rt.get(obj, key)
    else:
        table = _METHOD_TABLES.get(t) or rt.PROTO_BY_TYPE.get(t)
        m = table.get(key) if table is not None and type(key) is str else None
        if m is not None and type(m) is not rt.Accessor:
            return m(obj, *args)
        if t is JSFunction or isinstance(obj, rt._FUNC_TYPES):
            m = _FUNCTION_METHODS.get(key) if type(key) is str else None
            if m is not None and not (t is JSFunction and obj.props and key in obj.props):
                return m(obj, *args)
        f = rt.get(obj, key)
    if type(f) is JSFunction:
        return f.fn(obj, *args)
    if callable(f) and not isinstance(f, (dict, list)):
        return f(*args)
    raise type_error(f"{_member_text(obj, key)} is not a function")


def _member_text(obj: Any, key: Any) -> str:
    k = key if type(key) is str else rt.to_string(key)
    if obj is undefined or obj is None:
        return k
    return f"{typeof(obj) if not isinstance(obj, HostObject) else type(obj).js_class_name or 'object'}.{k}"


def construct(ctor: Any, *args: Any) -> Any:
    """``new ctor(...args)`` (§13.3.5)."""
    t = type(ctor)
    if t is BuiltinClass:
        return ctor.construct(*args)
    if isinstance(ctor, type) and issubclass(ctor, HostObject):
        if not ctor.js_new:
            raise type_error(f"{ctor.js_class_name or ctor.__name__} is not a constructor")
        return ctor.js_construct(*args)
    if t is JSFunction:
        proto = rt.get(ctor, "prototype")
        obj = JSObjectP(proto if isinstance(proto, dict) else None)
        r = ctor.fn(obj, *args)
        return r if isinstance(r, (dict, list, HostObject)) or callable(r) else obj
    raise type_error(f"{rt.to_string(ctor) if t is str else typeof(ctor)} is not a constructor")


# Function.prototype.call/apply/bind (§20.2.3), reachable on every callable.
def _fn_call(f: Any, this: Any = undefined, *args: Any) -> Any:
    return call_this(f, this, *args)


def _fn_apply(f: Any, this: Any = undefined, args: Any = undefined) -> Any:
    if args is undefined or args is None:
        return call_this(f, this)
    return call_this(f, this, *iterate(args))


def _fn_bind(f: Any, this: Any = undefined, *bound: Any) -> Any:
    if type(f) is JSFunction:
        b = functools.partial(f.fn, this, *bound)
    else:
        b = functools.partial(f, *bound)
    # §20.2.3.2: name "bound <name>", length the target's minus the bound arguments; kept in the
    # partial's __dict__ (a builtin method read as a value is a partial too, with an empty one)
    b.__dict__.update(name="bound " + rt.fn_name(f), length=max(0, rt.fn_length(f) - len(bound)))
    return b


def _fn_to_string(f: Any, *_: Any) -> str:
    return f"function {rt.fn_name(f)}() {{ [native code] }}"


_FUNCTION_METHODS = {"call": _fn_call, "apply": _fn_apply, "bind": _fn_bind, "toString": _fn_to_string}
BUILTIN_INFO.update({_fn_call: ("call", 1), _fn_apply: ("apply", 2), _fn_bind: ("bind", 1),
                     _fn_to_string: ("toString", 0)})
_METHOD_TABLES: dict[type, dict] = {}


def _bind_tables() -> None:
    _METHOD_TABLES[int] = rt.NUMBER_PROTO
    _METHOD_TABLES[float] = rt.NUMBER_PROTO
    _METHOD_TABLES[bool] = rt.BOOLEAN_PROTO


# ---------------------------------------------------------------------------- iteration, spread

def iterate(v: Any) -> Iterable[Any]:
    """The values ``for…of`` and spread visit (§7.4): arrays live, strings by code point."""
    t = type(v)
    if t is JSArray or t is str:
        return v
    it = getattr(t, "js_iter", None)  # Map, Set and host iterables
    if it is not None:
        return it(v)
    if isinstance(v, list):
        return v
    raise type_error(f"{_short(v)} is not iterable")


def _short(v: Any) -> str:
    if v is undefined:
        return "undefined"
    if v is None:
        return "null"
    if type(v) in (int, float, bool, str):
        return to_string(v)
    return "object" if not callable(v) else "function"


def forin_keys(v: Any) -> Iterable[str]:
    """The keys ``for…in`` visits: enumerable string keys, own first then inherited (§14.7.5.9).
    The list is taken at the start, and a key deleted before its turn is skipped (as the spec's
    EnumerateObjectProperties requires): a lazy ``filter`` on membership, one C-level test per
    key. Keys added meanwhile are not visited (the spec allows either)."""
    if v is undefined or v is None:
        return []
    t = type(v)
    if t is JSArray:  # indices, then non-index properties (values.JSArray.props)
        return filter(functools.partial(_array_has_key, v), own_keys(v))
    if t is str:
        return [str(i) for i in range(len(v))]
    if isinstance(v, JSObjectP):
        seen: list[str] = []
        o: Any = v
        while isinstance(o, dict):
            for k in own_keys(o):
                if k not in seen:
                    seen.append(k)
            o = getattr(o, "proto", None)
        return filter(functools.partial(_chain_has_key, v), seen)
    if isinstance(v, dict):
        return filter(v.__contains__, own_keys(v))
    return []


def _array_has_key(arr: JSArray, k: str) -> bool:
    i = rt.array_index(k)
    if i >= 0:
        return i < len(arr)  # `a.length = n` cuts indices off
    props = getattr(arr, "props", None)
    return props is not None and k in props


def _chain_has_key(o: Any, k: str) -> bool:
    while isinstance(o, dict):
        if k in o:
            return True
        o = getattr(o, "proto", None)
    return False


def spread_into(target: JSObject, src: Any) -> None:
    """``{...src}`` (§13.2.5.5 CopyDataProperties)."""
    if src is undefined or src is None:
        return
    t = type(src)
    if t is JSObject:
        target.update(src)
    elif t is JSArray or t is str:
        for i, x in enumerate(src):
            target[str(i)] = x
    elif isinstance(src, dict):
        for k in own_keys(src):
            target[k] = rt.get(src, k)


# ---------------------------------------------------------------------------- compiler helpers

def make_function(fn: Any) -> JSFunction:
    """A compiled ``function`` value; name and length come from the code object's FN_INFO."""
    name, length = rt.FN_INFO.get(fn.__code__, ("", 0))
    return JSFunction(fn, name, length)


def catch_value(exc: BaseException) -> Any:
    """The JS value a ``catch`` clause binds for a Python exception."""
    from pipyd.js.backtrace import to_js_error
    return to_js_error(exc).value


def throw(v: Any) -> JSThrow:
    return JSThrow(v)


def typeof_free(g: dict, name: str) -> str:
    """``typeof x`` for a free name: 'undefined' instead of a ReferenceError (§13.5.3)."""
    v = g.get(name, rt._M)
    if v is rt._M:
        try:
            v = g["__builtins__"][name]
        except KeyError:
            return "undefined"
    return typeof(v)


def const_assign(name: str) -> None:
    raise type_error("Assignment to constant variable.")


def template(*parts: Any) -> str:
    """A template literal: strings and substitutions alternate (§13.2.8.6, ToString each)."""
    return "".join(p if type(p) is str else to_string(p) for p in parts)


class TemplateStrings(JSArray):
    """The strings array a tag function receives, with its ``raw`` twin (§13.2.8.4)."""

    __slots__ = ("raw",)


def tagged_strings(cooked: tuple, raw: tuple) -> JSArray:
    arr = TemplateStrings(undefined if c is None else c for c in cooked)
    arr.raw = JSArray(raw)
    return arr


def require_object(v: Any) -> Any:
    """RequireObjectCoercible before object destructuring (§7.2.1)."""
    if v is undefined or v is None:
        raise type_error(f"Cannot destructure '{_short(v)}' as it is {_short(v)}.")
    return v


def object_rest(src: Any, used: tuple) -> JSObject:
    out = JSObject()
    keys = own_keys(src) if isinstance(src, dict) else forin_keys(src)
    for k in keys:
        if k not in used:
            out[k] = rt.get(src, k)
    return out


def to_list(v: Any) -> Any:
    """The elements an array pattern takes from (§8.6.3 IteratorBindingInitialization)."""
    if type(v) is JSArray:
        return v
    return list(iterate(v))


def at(lst: list, i: int) -> Any:
    return lst[i] if i < len(lst) else undefined


def slice_rest(lst: list, i: int) -> JSArray:
    return JSArray(lst[i:])


def arg(args: tuple, i: int) -> Any:
    return args[i] if i < len(args) else undefined


def rest_args(args: tuple, i: int) -> JSArray:
    return JSArray(args[i:])


def update_member(obj: Any, key: Any, delta: int, prefix: bool) -> Any:
    """``o[k]++`` and friends (§13.4): the old value is ToNumber'd."""
    old = _n(rt.get(obj, key))
    new = add(old, delta)
    rt.set(obj, key, new)
    return new if prefix else old


def regexp(pattern: str, flags: str) -> Any:
    """A regular-expression literal: a new RegExp object per evaluation (§13.2.7.3)."""
    from pipyd.js.builtins.regexp import construct_regexp
    return construct_regexp(pattern, flags)


_bind_tables()
