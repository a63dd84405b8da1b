"""What compiled PipyJS code calls: property access, calls and operators with JS semantics.

Property access dispatches on ``type(obj)`` (exact type checks first, for the hot path: plain
objects, arrays, strings, host objects). Operators follow ECMAScript §13 (§13.15.3 ApplyStringOr-
NumericBinaryOperator); numbers are ``int`` while |v| <= 2**53 and never -0, else ``float``.
Coercions live in coerce.py and are re-exported here (see docs/internals/engine.md).
Operators and calls are in runtime_ops.py; the per-name member tables compiled code uses for
``o.name`` / ``o.name()``, accessor objects and call-site names are in runtime_members.py; both
are re-exported here.
"""
from __future__ import annotations

import functools
import keyword
import weakref
from typing import Any, Callable

from pipyd.js.coerce import (  # noqa: F401  (re-exported for compiled code and builtins)
    loose_equals, own_keys, strict_equals, to_boolean, to_int32, to_integer, to_number,
    to_object_key, to_primitive, to_string, to_uint32, truthy,
)
from pipyd.js.builtins.classes import BUILTIN_INFO, BuiltinClass, PristineNamespace
from pipyd.js.values import (
    HostObject, JSArray, JSErrorObject, JSFunction, JSObject, JSObjectP, JSThrow, JSUndefined,
    type_error, typeof, undefined,
)

_M = object()  # "missing" marker for dict lookups
_KEYWORDS = frozenset(keyword.kwlist)
_PY_NAMES = {k: k + "_" for k in _KEYWORDS}  # JS member name -> Python attribute (values.py_name)
_FUNC_TYPES = (type(lambda: 0), type(len), functools.partial, type(JSFunction.__init__))

# Proto method tables of the builtins (filled at the bottom of this file, once they import).
OBJECT_PROTO: dict[str, Callable[..., Any]] = {}
ARRAY_PROTO: dict[str, Callable[..., Any]] = {}
STRING_PROTO: dict[str, Callable[..., Any]] = {}
NUMBER_PROTO: dict[str, Callable[..., Any]] = {}
BOOLEAN_PROTO: dict[str, Callable[..., Any]] = {}
ERROR_PROTO: dict[str, Callable[..., Any]] = {}
# Other Python types that carry a proto table (RegExp, Date, Map, Set…): builtins register here.
PROTO_BY_TYPE: dict[type, dict[str, Callable[..., Any]]] = {}

# name/length of compiled functions, per code object (so arrows need no per-creation writes).
FN_INFO: dict[Any, tuple[str, int]] = {}
# Properties scripts set on plain (arrow/builtin) functions.
FN_PROPS: "weakref.WeakKeyDictionary[Any, JSObject]" = weakref.WeakKeyDictionary()
# Names given at run time to arrows made under a computed key ({[k]: () => 1}): one code object
# makes them all, so FN_INFO cannot hold these.
FN_NAMES: "weakref.WeakKeyDictionary[Any, str]" = weakref.WeakKeyDictionary()


class Accessor:
    """A proto-table entry read as a property (``re.lastIndex``, ``map.size``), not a method."""

    __slots__ = ("getter", "setter")

    def __init__(self, getter: Callable[[Any], Any], setter: Callable[[Any, Any], Any] | None = None):
        self.getter = getter
        self.setter = setter


def _describe(v: Any) -> str:
    if v is undefined:
        return "undefined"
    if v is None:
        return "null"
    return typeof(v)


def array_index(key: Any) -> int:
    """The array index a key denotes, or -1 (ECMAScript §6.1.7 array index, canonical form:
    an integer below 2**32 - 1; ``a[2 ** 32]`` is a plain property)."""
    t = type(key)
    if t is int:
        return key if 0 <= key < 4294967295 else -1
    if t is str:
        if key.isdigit() and (key == "0" or key[0] != "0") and key.isascii():
            i = int(key)
            return i if i < 4294967295 else -1
        return -1
    if t is float and key.is_integer() and key >= 0 and key < 4294967295:
        return int(key)
    return -1


# ---------------------------------------------------------------------------- property read

def get(obj: Any, key: Any) -> Any:
    """``obj[key]`` (§13.3.2). ``key`` may be any JS value."""
    t = type(obj)
    if t is JSObject:
        # an absent key: JSObject.__missing__ gives Object.prototype's method or undefined
        return obj[key if type(key) is str else to_object_key(key)]
    if t is JSArray:
        if type(key) is int:
            if 0 <= key < len(obj):
                return obj[key]
            if getattr(obj, "props", None) is None:
                return undefined
            # a[-1] and a[2 ** 32] name properties (no array index), which a script may have set
        return _array_get(obj, key)
    return getp(obj, key)


def getp(obj: Any, key: Any) -> Any:
    """``obj.name``: the compiler calls this for a dot access whose name is not an index."""
    t = type(obj)
    if t is JSObject:
        v = obj.get(key, _M)
        if v is not _M:
            return v
        m = OBJECT_PROTO.get(key)
        return proto_member(m, obj) if m is not None else undefined
    if isinstance(obj, HostObject):
        if key in t.js_get:
            return getattr(obj, _PY_NAMES.get(key, key))
        return undefined
    if t is JSArray:
        return _array_get(obj, key)
    if t is str:
        return _string_get(obj, key)
    return _get_slow(obj, key)


def _array_get(arr: JSArray, key: Any) -> Any:
    if type(key) is not str:
        i = array_index(key)
        if i >= 0:
            return arr[i] if i < len(arr) else undefined
        key = to_object_key(key)  # ToPropertyKey: a[[1]] reads index 1, a[['length']] the length
    if key == "length":
        return len(arr)
    i = array_index(key)
    if i >= 0:
        return arr[i] if i < len(arr) else undefined
    props = getattr(arr, "props", None)
    if props is not None:  # own non-index properties come before Array.prototype
        v = props.get(key, _M)
        if v is not _M:
            return v
    m = ARRAY_PROTO.get(key)
    if m is None:
        m = OBJECT_PROTO.get(key)
    return proto_member(m, arr) if m is not None else undefined


def _string_get(s: str, key: Any) -> Any:
    if type(key) is int:  # an int names an index or nothing a string has ('ab'[-1], 'ab'[2 ** 32])
        return s[key] if 0 <= key < len(s) else undefined
    if type(key) is not str:
        i = array_index(key)
        if i >= 0:
            return s[i] if i < len(s) else undefined
        key = to_object_key(key)  # ToPropertyKey: s[[1]] reads index 1, s[['length']] the length
    if key == "length":
        return len(s)
    m = STRING_PROTO.get(key)
    if m is not None:
        return proto_member(m, s)
    i = array_index(key)
    if i >= 0:
        return s[i] if i < len(s) else undefined
    return _object_proto_get(s, key)


def proto_member(m: Any, obj: Any) -> Any:
    """A proto-table entry read as a value: an Accessor's value (``constructor``, ``size``…) or
    the method bound to ``obj``."""
    return m.getter(obj) if type(m) is Accessor else functools.partial(m, obj)


def _object_proto_get(obj: Any, key: Any) -> Any:
    """What a non-plain object or primitive inherits from Object.prototype once its own
    prototype's table has no ``key`` ('ab'.hasOwnProperty, /x/.isPrototypeOf): the method or
    undefined."""
    m = OBJECT_PROTO.get(key) if type(key) is str else None
    return proto_member(m, obj) if m is not None else undefined


def _proto_lookup(table: dict, obj: Any, key: str) -> Any:
    m = table.get(key)
    if m is None:
        return _M
    if type(m) is Accessor:
        return m.getter(obj)
    return functools.partial(m, obj)


def _get_slow(obj: Any, key: Any) -> Any:
    if obj is undefined or obj is None:
        raise type_error(f"Cannot read properties of {_describe(obj)} (reading '{to_string(key)}')")
    if type(key) is not str:
        key = to_object_key(key)
    t = type(obj)
    if t is AccessorObject:
        return _accessor_get(obj, key)
    if key.startswith("__"):
        return undefined
    if t is BuiltinClass:
        return obj.get(key)
    g = getattr(t, "js_get_member", None)  # builtins' own kinds (classes.py, regexp matches)
    if g is not None:
        return g(obj, key)
    if isinstance(obj, JSArray):  # TemplateStrings (runtime_ops)
        v = getattr(obj, key, _M) if key in getattr(t, "__slots__", ()) else _M
        return v if v is not _M else _array_get(obj, key)
    if isinstance(obj, JSObjectP):
        return _protochain_get(obj, key)
    if t is JSErrorObject:
        return _error_get(obj, key)
    if t is int or t is float:
        v = _proto_lookup(NUMBER_PROTO, obj, key)
        return _object_proto_get(obj, key) if v is _M else v
    if t is bool:
        v = _proto_lookup(BOOLEAN_PROTO, obj, key)
        return _object_proto_get(obj, key) if v is _M else v
    if t is JSFunction or isinstance(obj, _FUNC_TYPES):
        return _function_get(obj, key)
    table = PROTO_BY_TYPE.get(t)
    if table is not None:
        v = _proto_lookup(table, obj, key)
        if v is not _M:
            return v
        return _object_proto_get(obj, key)
    if isinstance(obj, type) and issubclass(obj, HostObject):
        return getattr(obj, key + "_" if key in _KEYWORDS else key) if key in obj.js_static else undefined
    if isinstance(obj, dict):  # other JSObject subclasses (builtins' own object kinds)
        v = obj.get(key, _M)
        if v is not _M:
            return v
        m = OBJECT_PROTO.get(key)
        return proto_member(m, obj) if m is not None else undefined
    return undefined


def _protochain_get(obj: Any, key: str) -> Any:
    o = obj
    while o is not None:
        v = dict.get(o, key, _M)
        if v is not _M:
            if type(v) is PropertyAccessor:  # an inherited getter runs with the receiver as this
                return undefined if v.get is None else call_this(v.get, obj)
            return v
        o = o.proto if isinstance(o, JSObjectP) else _M
        if o is _M:
            break
    else:
        return undefined  # the chain ended in null: no Object.prototype
    m = OBJECT_PROTO.get(key)
    return proto_member(m, obj) if m is not None else undefined


def _error_get(err: JSErrorObject, key: str) -> Any:
    v = dict.get(err, key, _M)
    if v is not _M:
        return v
    if key in ("name", "message", "stack"):
        return getattr(err, key)
    v = _proto_lookup(ERROR_PROTO, err, key)
    if v is _M:
        v = _proto_lookup(OBJECT_PROTO, err, key)
    return undefined if v is _M else v


def _builtin_info(f: Any) -> tuple[str, int] | None:
    """(name, length) of a builtin function, or of a builtin method read as a value
    (``[].concat`` is ``partial(concat, arr)``); None for other callables."""
    if type(f) is functools.partial:
        f = f.func
    try:
        return BUILTIN_INFO.get(f)
    except TypeError:  # an unhashable callable
        return None


def name_function(f: Any, key: str, prefix: str = "") -> Any:
    """SetFunctionName (§10.2.9) for an anonymous function defined under a computed key (the
    compiler names the others); ``prefix`` is "get"/"set" for accessors."""
    name = f"{prefix} {key}" if prefix else key
    if type(f) is JSFunction:
        f.name = name
    else:
        FN_NAMES[f] = name
    return f


def fn_name(f: Any) -> str:
    if type(f) is JSFunction:
        return f.name
    if FN_NAMES:
        try:
            name = FN_NAMES.get(f)
        except TypeError:  # not weakly referenceable: never named at run time
            name = None
        if name is not None:
            return name
    code = getattr(f, "__code__", None)
    info = FN_INFO.get(code) if code is not None else None
    if info is not None:
        return info[0]
    if type(f) is functools.partial and f.__dict__:  # a bound function (_fn_bind)
        return f.__dict__["name"]
    info = _builtin_info(f)
    if info is not None:
        return info[0]
    n = getattr(f, "__name__", "")
    return n if type(n) is str and not n.startswith("_") else ""


def fn_length(f: Any) -> int:
    if type(f) is JSFunction:
        return f.length
    code = getattr(f, "__code__", None)
    info = FN_INFO.get(code) if code is not None else None
    if info is not None:
        return info[1]
    if type(f) is functools.partial and f.__dict__:  # a bound function (_fn_bind)
        return f.__dict__["length"]
    info = _builtin_info(f)
    return info[1] if info is not None else 0


def _function_get(f: Any, key: str) -> Any:
    props = f.props if type(f) is JSFunction else FN_PROPS.get(f)
    if props is not None:
        v = props.get(key, _M)
        if v is not _M:
            return v
    if key == "name":
        return fn_name(f)
    if key == "length":
        return fn_length(f)
    if key == "prototype" and type(f) is JSFunction:
        proto = JSObject(constructor=f)
        set(f, "prototype", proto)
        return proto
    m = _FUNCTION_METHODS.get(key)
    if m is not None:
        return functools.partial(m, f)
    return _object_proto_get(f, key)


# ---------------------------------------------------------------------------- property write

def set(obj: Any, key: Any, value: Any) -> Any:  # noqa: A001 (the contract's name)
    """``obj[key] = value``; returns ``value`` (the assignment expression's value)."""
    t = type(obj)
    if t is JSObject:
        if type(key) is not str:
            key = to_object_key(key)
        obj[key] = value
        return value
    if t is JSObjectP:
        if type(key) is not str:
            key = to_object_key(key)
        if key in obj or not _inherited_set(obj, key, value):
            obj[key] = value
        return value
    if t is JSArray:
        i = key if type(key) is int and key >= 0 else array_index(key)
        if i < 0 and type(key) is not str:
            key = to_object_key(key)  # ToPropertyKey: a[[0]] = v writes index 0
            i = array_index(key)
        if i >= 0:
            n = len(obj)
            if i < n:
                obj[i] = value
            else:
                if i > n:
                    if i >= 4294967295:  # no array index (the int shortcut above): a property
                        _array_props(obj)[str(i)] = value
                        return value
                    obj.extend([undefined] * (i - n))
                obj.append(value)
        elif key == "length":
            _set_length(obj, value)
        else:  # another name (`arr.total = 3`): an own property in the array's props
            _array_props(obj)[key if type(key) is str else to_object_key(key)] = value
        return value
    return _set_slow(obj, key, value)


def _inherited_set(obj: JSObjectP, key: str, value: Any) -> bool:
    """OrdinarySetWithOwnDescriptor (§10.1.9.2) for a key ``obj`` does not own: an accessor up
    the prototype chain takes the write (its setter runs with ``obj`` as this; without a setter
    the write is ignored, as a sloppy-mode write is). False when the nearest such key is data or
    absent: the caller then stores an own property."""
    o = obj.proto
    while o is not None:
        v = dict.get(o, key, _M)
        if v is not _M:
            if type(v) is not PropertyAccessor:
                return False
            if v.set is not None:
                call_this(v.set, obj, value)
            return True
        o = o.proto if isinstance(o, JSObjectP) else None
    return False


def _array_props(arr: JSArray) -> JSObject:
    props = getattr(arr, "props", None)
    if props is None:
        props = arr.props = JSObject()
    return props


def _range(msg: str) -> JSThrow:
    from pipyd.js.values import range_error
    return range_error(msg)


def _set_length(arr: JSArray, value: Any) -> None:
    n = to_number(value)
    if type(n) is float:
        if not n.is_integer() or n < 0:
            raise _range("Invalid array length")
        n = int(n)
    if n < 0 or n > 2**32 - 1:
        raise _range("Invalid array length")
    if n < len(arr):
        del arr[n:]
    elif n > len(arr):
        arr.extend([undefined] * (n - len(arr)))


def _set_slow(obj: Any, key: Any, value: Any) -> Any:
    if obj is undefined or obj is None:
        raise type_error(f"Cannot set properties of {_describe(obj)} (setting '{to_string(key)}')")
    if type(key) is not str:
        key = to_object_key(key)
    t = type(obj)
    if t is AccessorObject:
        _accessor_set(obj, key, value)
        return value
    if key.startswith("__"):
        raise type_error(f"Cannot set property '{key}'")
    if t is BuiltinClass:
        return obj.set(key, value)
    if isinstance(obj, HostObject):
        if key in t.js_set:
            setattr(obj, key + "_" if key in _KEYWORDS else key, value)
            return value
        raise type_error(f"Cannot set property '{key}' of {t.js_class_name or 'object'}")
    if t is JSErrorObject:
        if key in ("name", "message", "stack"):
            setattr(obj, key, value)
        else:
            obj[key] = value
        return value
    if t is JSFunction:
        if obj.props is None:
            obj.props = JSObject()
        obj.props[key] = value
        return value
    if isinstance(obj, _FUNC_TYPES):
        props = FN_PROPS.get(obj)
        if props is None:
            props = FN_PROPS[obj] = JSObject()
        props[key] = value
        return value
    table = PROTO_BY_TYPE.get(t)
    if table is not None:
        acc = table.get(key)
        if type(acc) is Accessor and acc.setter is not None:
            acc.setter(obj, value)
            return value
    s = getattr(t, "js_set_member", None)
    if s is not None:
        s(obj, key, value)
        return value
    if isinstance(obj, dict):
        obj[key] = value
    return value  # primitives silently ignore writes (sloppy mode, §10.4.4)


def delete(obj: Any, key: Any) -> bool:
    """``delete obj[key]`` (§13.5.1): removes an own property; array elements become holes."""
    if obj is undefined or obj is None:
        raise type_error("Cannot convert undefined or null to object")
    if type(obj) is JSArray:
        i = array_index(key)
        if i < 0 and type(key) is not str:
            key = to_object_key(key)  # ToPropertyKey: delete a[[0]] names index 0
            i = array_index(key)
        if 0 <= i < len(obj):
            obj[i] = undefined
        elif i < 0 and getattr(obj, "props", None):
            obj.props.pop(key, None)
        return True
    if isinstance(obj, dict):
        if type(obj) is PristineNamespace:
            obj._spoil()  # Math's members may no longer be the builtins (compiler_expr.math_inline)
        dict.pop(obj, key if type(key) is str else to_object_key(key), None)
        return True
    if type(obj) is JSFunction and obj.props is not None:
        obj.props.pop(to_object_key(key), None)
    return True


def has(key: Any, obj: Any) -> bool:
    """``key in obj`` (§13.10.1)."""
    t = type(obj)
    if t is JSObject or t is JSObjectP or t is JSErrorObject or t is AccessorObject:
        k = key if type(key) is str else to_object_key(key)
        if k in obj:
            return True
        return _protochain_get(obj, k) is not undefined if t is JSObjectP else k in OBJECT_PROTO
    if t is JSArray:
        i = array_index(key)
        if i < 0 and type(key) is not str:
            key = to_object_key(key)  # ToPropertyKey: [0] in a names index 0
            i = array_index(key)
        if i >= 0:
            return i < len(obj)
        k = key
        props = getattr(obj, "props", None)
        return k == "length" or k in ARRAY_PROTO or k in OBJECT_PROTO or (props is not None and k in props)
    if isinstance(obj, HostObject):
        return to_object_key(key) in t.js_get
    if t is JSFunction or isinstance(obj, _FUNC_TYPES) or isinstance(obj, dict) or t in PROTO_BY_TYPE:
        return get(obj, key) is not undefined
    raise type_error(f"Cannot use 'in' operator to search for '{to_string(key)}' in "
                     f"{to_string(obj) if t is str else _describe(obj)}")


def instanceof(v: Any, ctor: Any) -> bool:
    """``v instanceof ctor`` (§13.10.2)."""
    if isinstance(ctor, type) and issubclass(ctor, HostObject):
        return isinstance(v, ctor)
    if type(ctor) is BuiltinClass:
        return ctor.has_instance(v)
    if type(ctor) is JSFunction:
        proto = get(ctor, "prototype")
        o = v.proto if type(v) is JSObjectP else _M
        while o is not _M and o is not None:
            if o is proto:
                return True
            o = o.proto if isinstance(o, JSObjectP) else _M
        return False
    if callable(ctor):
        return False
    raise type_error("Right-hand side of 'instanceof' is not callable")


from pipyd.js.runtime_ops import *  # noqa: E402,F401,F403  (operators, calls, iteration)
from pipyd.js.runtime_ops import _FUNCTION_METHODS  # noqa: E402
from pipyd.js.runtime_members import (  # noqa: E402,F401  (member tables, accessors, call sites)
    CALL_SITES, COMPILED_HELPERS, AccessorObject, PropertyAccessor, _accessor_get, _accessor_set,
    call_site_error, define_property, getters, host_member_names, invokers, not_callable_error,
)


def _load_protos() -> None:
    """Bind the builtins' proto tables (imported late: they import this module)."""
    import importlib
    g = globals()
    for mod, names in (("object", ("OBJECT_PROTO",)), ("array", ("ARRAY_PROTO",)),
                       ("string", ("STRING_PROTO",)), ("number", ("NUMBER_PROTO",)), ("boolean", ("BOOLEAN_PROTO",)),
                       ("errors", ("ERROR_PROTO",)), ("error", ("ERROR_PROTO",))):
        full = f"pipyd.js.builtins.{mod}"
        try:
            m = importlib.import_module(full)
        except ModuleNotFoundError as e:
            if e.name != full:
                raise
            continue
        for n in names:
            table = getattr(m, n, None)
            if table is not None:
                g[n] = table
    from pipyd.js import runtime_ops
    runtime_ops._bind_tables()


_load_protos()


def _object_missing(obj: JSObject, key: Any) -> Any:
    """``JSObject.__missing__``: a plain object's ``o[k]`` for an absent own key is the §10.1.8
    [[Get]] answer, Object.prototype's method or undefined. Compiled member reads test only
    ``type(o) is JSObject`` and subscript (one dict probe on a hit, none extra on a miss).
    Subclasses (prototype chains, accessors, errors, namespaces) keep dict's KeyError: their
    reads go through ``get``/``getp``, and Python code on them may rely on it."""
    if type(obj) is not JSObject:
        raise KeyError(key)
    m = OBJECT_PROTO.get(key) if type(key) is str else None
    return proto_member(m, obj) if m is not None else undefined


JSObject.__missing__ = _object_missing  # type: ignore[attr-defined]

# The inline ``a.map(x => e)`` / ``a.filter(x => e)`` comprehensions (compiler_expr.py,
# ``inline_array_callback``) run only while Array.prototype's method is still the builtin.
import itertools as _itertools  # noqa: E402
from pipyd.js.scope import ESCAPE as _ESC  # noqa: E402

COMPILED_HELPERS.update({_ESC + name: v for name, v in (
    ("AP", ARRAY_PROTO), ("Amap", ARRAY_PROTO.get("map")), ("Afilter", ARRAY_PROTO.get("filter")),
    ("AforEach", ARRAY_PROTO.get("forEach")), ("islice", _itertools.islice), ("len", len))})


def _math_helpers() -> dict[str, Any]:
    """The builtin Math members compiled code may compute inline (compiler_expr.math_inline)."""
    import math
    from pipyd.js.builtins.math import MATH
    h: dict[str, Any] = {_ESC + "M" + k: MATH[k] for k in ("floor", "ceil", "trunc", "round", "abs", "min", "max")}
    h.update({_ESC + "mfloor": math.floor, _ESC + "abs": abs})
    return h


COMPILED_HELPERS.update(_math_helpers())

