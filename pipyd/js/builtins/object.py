"""Object: the conversion function, its statics and Object.prototype (ECMA-262 §20.1).

Approximations, because pipyd objects are plain dicts without property attributes:
- ``freeze``/``seal``/``preventExtensions`` return their argument and change nothing; ``isFrozen``
  and ``isSealed`` are false (and ``isExtensible`` true) for every object, true for primitives.
- ``defineProperty`` stores ``value`` only; ``writable``/``enumerable``/``configurable`` are
  ignored, and accessor descriptors (``get``/``set``) are a TypeError.
"""
from __future__ import annotations

from typing import Any

from pipyd.js.builtins.classes import (_CLASS_OF_TYPE, OBJECT_CLASS_REF, BuiltinClass,
                                       BuiltinNamespace, prototype_of, register_prototype)
from pipyd.js.coerce import is_object, own_keys, same_value, to_object_key, to_string
from pipyd.js.values import (HostObject, JSArray, JSErrorObject, JSFunction, JSObject, JSObjectP,
                             type_error, typeof, undefined)


def _coercible(v: Any) -> Any:
    if v is None or v is undefined:
        raise type_error("Cannot convert undefined or null to object")
    return v


def get_own(obj: Any, key: str) -> Any:
    """The value of an own key returned by own_keys (fast for dicts, lists and strings)."""
    t = type(obj)
    if t is JSObject or t is JSObjectP:  # other dicts (accessor objects…) need runtime.get
        return obj.get(key, undefined)
    if (t is JSArray or t is str) and key.isdigit():
        return obj[int(key)]
    from pipyd.js import runtime
    return runtime.get(obj, key)


def put(obj: Any, key: str, value: Any) -> None:
    """Property write: a dict store for plain objects, the runtime's set for everything else."""
    if type(obj) is JSObject or type(obj) is JSObjectP:
        obj[key] = value
    else:
        from pipyd.js import runtime
        runtime.set(obj, key, value)


def has_own(obj: Any, key: str) -> bool:
    if isinstance(obj, dict):
        if key == "message" and type(obj) is JSErrorObject:  # kept in a slot; own when given
            return obj.message != "" or key in obj  # (§20.5.1.1 step 3; '' counts as not given)
        return key in obj
    if isinstance(obj, (list, str)):
        if key == "length":
            return True
        if key.isdigit() and key.isascii() and str(int(key)) == key:
            return int(key) < len(obj)
        props = getattr(obj, "props", None)  # an array's non-index properties (values.JSArray)
        return props is not None and key in props
    if type(obj) is JSFunction:
        return key in ("name", "length") or bool(obj.props and key in obj.props)
    if isinstance(obj, BuiltinClass):
        return key in obj.statics or key in ("name", "length", "prototype")
    if callable(obj) and not isinstance(obj, type):  # arrows, builtin and bound functions
        from pipyd.js import runtime
        props = runtime.FN_PROPS.get(obj)
        return key in ("name", "length") or (props is not None and key in props)
    return False


def object_call(value: Any = undefined, *_: Any) -> Any:
    """Object(v) / new Object(v): a new object for null/undefined, otherwise v itself (primitives
    are not wrapped in pipyd)."""
    if value is None or value is undefined:
        return JSObject()
    return value


def keys(obj: Any = undefined, *_: Any) -> JSArray:
    return JSArray(own_keys(_coercible(obj)))


def values(obj: Any = undefined, *_: Any) -> JSArray:
    _coercible(obj)
    if type(obj) is JSArray:
        return JSArray(obj)
    if type(obj) is JSObject and not any(k[:1].isdigit() for k in obj):
        return JSArray(obj.values())
    return JSArray(get_own(obj, k) for k in own_keys(obj))


def entries(obj: Any = undefined, *_: Any) -> JSArray:
    _coercible(obj)
    return JSArray(JSArray((k, get_own(obj, k))) for k in own_keys(obj))


def assign(target: Any = undefined, *sources: Any) -> Any:
    _coercible(target)
    for src in sources:
        if src is None or src is undefined:
            continue
        if type(src) is JSObject and type(target) is JSObject:
            target.update(src)  # same order as a key-by-key copy for a plain dict
            continue
        for k in own_keys(src):
            put(target, k, get_own(src, k))
    return target


def from_entries(iterable: Any = undefined, *_: Any) -> JSObject:
    from pipyd.js.builtins.array import iterable_to_list
    out = JSObject()
    for entry in iterable_to_list(_coercible(iterable)):
        if not is_object(entry):
            raise type_error(f"Iterator value {to_string(entry)} is not an entry object")
        if isinstance(entry, list):
            k = entry[0] if len(entry) > 0 else undefined
            v = entry[1] if len(entry) > 1 else undefined
        else:
            k, v = get_own(entry, "0"), get_own(entry, "1")
        out[to_object_key(k)] = v
    return out


def create(proto: Any = undefined, props: Any = undefined, *_: Any) -> JSObject:
    if proto is not None and not is_object(proto):
        raise type_error(f"Object prototype may only be an Object or null: {to_string(proto)}")
    obj = JSObject() if proto is Object.prototype else JSObjectP(proto)
    if props is not undefined:
        define_properties(obj, props)
    return obj


def get_prototype_of(obj: Any = undefined, *_: Any) -> Any:
    return prototype_of(_coercible(obj))


def define_property(obj: Any = undefined, key: Any = undefined, desc: Any = undefined, *_: Any) -> Any:
    if not is_object(obj):
        raise type_error("Object.defineProperty called on non-object")
    if not isinstance(desc, dict):
        raise type_error(f"Property description must be an object: {to_string(desc)}")
    if "get" in desc or "set" in desc:
        raise type_error("pipyd: accessor properties (get/set) are not supported")
    put(obj, to_object_key(key), desc.get("value", undefined))
    return obj


def define_properties(obj: Any = undefined, props: Any = undefined, *_: Any) -> Any:
    for k in own_keys(_coercible(props)):
        define_property(obj, k, get_own(props, k))
    return obj


def get_own_property_names(obj: Any = undefined, *_: Any) -> JSArray:
    _coercible(obj)
    if getattr(type(obj), "js_hidden_keys", False):
        return JSArray(obj)
    names = own_keys(obj)
    if isinstance(obj, (list, str)):
        names.append("length")
    return JSArray(names)


def get_own_property_descriptor(obj: Any = undefined, key: Any = undefined, *_: Any) -> Any:
    k = to_object_key(key)
    if not has_own(_coercible(obj), k):
        return undefined
    if isinstance(obj, list) and k == "length":
        v: Any = len(obj)
    else:
        from pipyd.js import runtime
        acc = dict.get(obj, k) if type(obj) is runtime.AccessorObject else None
        if type(acc) is runtime.PropertyAccessor:  # an accessor property's descriptor (§6.2.6)
            return JSObject(get=undefined if acc.get is None else acc.get,
                            set=undefined if acc.set is None else acc.set,
                            enumerable=True, configurable=True)
        v = get_own(obj, k)
    return JSObject(value=v, writable=True, enumerable=True, configurable=True)


def _identity(obj: Any = undefined, *_: Any) -> Any:
    return obj


def _is_frozen(obj: Any = undefined, *_: Any) -> bool:
    return not is_object(obj)


def _is_extensible(obj: Any = undefined, *_: Any) -> bool:
    return is_object(obj)


def object_is(a: Any = undefined, b: Any = undefined, *_: Any) -> bool:
    return same_value(a, b)


def has_own_static(obj: Any = undefined, key: Any = undefined, *_: Any) -> bool:
    return has_own(_coercible(obj), to_object_key(key))


# --- Object.prototype -------------------------------------------------------------------------

def has_own_property(this: Any, key: Any = undefined, *_: Any) -> bool:
    return has_own(this, to_object_key(key))


def is_prototype_of(this: Any, v: Any = undefined, *_: Any) -> bool:
    if not is_object(v):
        return False
    p = prototype_of(v)
    while p is not None:
        if p is this:
            return True
        p = prototype_of(p)
    return False


def property_is_enumerable(this: Any, key: Any = undefined, *_: Any) -> bool:
    k = to_object_key(key)
    if getattr(type(this), "js_hidden_keys", False):
        return False
    if isinstance(this, (list, str)) and k == "length":
        return False
    return has_own(this, k)


def class_tag(v: Any) -> str:
    """The X of '[object X]' (Object.prototype.toString, §20.1.3.6)."""
    if v is undefined:
        return "Undefined"
    if v is None:
        return "Null"
    t = typeof(v)
    if t != "object":
        return {"string": "String", "number": "Number", "boolean": "Boolean", "function": "Function"}[t]
    if isinstance(v, list):
        return "Array"
    if isinstance(v, JSErrorObject):
        return "Error"
    cls = _CLASS_OF_TYPE.get(type(v))
    if cls is not None and cls.name in _BUILTIN_TAGS:  # RegExp and Date (builtinTag), Map and Set
        return cls.name  # (their @@toStringTag)
    if isinstance(v, BuiltinNamespace):  # Math and JSON have an @@toStringTag too
        from pipyd.js.builtins.globals import GLOBALS
        for name in ("Math", "JSON"):
            if GLOBALS.get(name) is v:
                return name
    return getattr(type(v), "js_class_name", "") or "Object"


_BUILTIN_TAGS = frozenset(("RegExp", "Date", "Map", "Set"))


def object_to_string(this: Any, *_: Any) -> str:
    return f"[object {class_tag(this)}]"


def object_to_locale_string(this: Any, *_: Any) -> str:
    return to_string(this)


def object_value_of(this: Any, *_: Any) -> Any:
    return this


OBJECT_PROTO = {
    "hasOwnProperty": has_own_property,
    "isPrototypeOf": is_prototype_of,
    "propertyIsEnumerable": property_is_enumerable,
    "toString": object_to_string,
    "toLocaleString": object_to_locale_string,
    "valueOf": object_value_of,
}

OBJECT_STATICS: dict[str, Any] = {
    "keys": keys, "values": values, "entries": entries, "assign": assign,
    "fromEntries": from_entries, "create": create, "getPrototypeOf": get_prototype_of,
    "defineProperty": define_property, "defineProperties": define_properties,
    "getOwnPropertyNames": get_own_property_names,
    "getOwnPropertyDescriptor": get_own_property_descriptor,
    "freeze": _identity, "seal": _identity, "preventExtensions": _identity,
    "isFrozen": _is_frozen, "isSealed": _is_frozen, "isExtensible": _is_extensible,
    "is": object_is, "hasOwn": has_own_static,
}


def _is_object_instance(v: Any) -> bool:
    """``v instanceof Object``: every non-primitive, except objects whose chain ends in null."""
    if isinstance(v, JSObjectP):
        p = v.proto
        while p is not None:
            if p is Object.prototype:
                return True
            p = getattr(p, "proto", None)
        return False
    return is_object(v)


Object = BuiltinClass("Object", object_call, object_call, OBJECT_STATICS, OBJECT_PROTO,
                      instance_check=_is_object_instance)
OBJECT_CLASS_REF.append(Object)
register_prototype((JSObject, BuiltinNamespace, HostObject), Object)

EXPORTS: dict[str, object] = {"Object": Object}
