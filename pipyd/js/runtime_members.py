"""Member access for compiled code, accessor objects and call-site names (re-exported by runtime).

Import ``pipyd.js.runtime``, never this module directly (runtime imports it at its end). Proto
tables are read as ``rt.X`` at call time: runtime binds them once the builtins are imported.
"""
from __future__ import annotations

import functools
import itertools
import operator
import types
import weakref
from typing import Any, Callable

from pipyd.js import runtime as rt
from pipyd.js.builtins.boolean import Boolean
from pipyd.js.builtins.classes import BuiltinNamespace, PristineNamespace
from pipyd.js.coerce import to_string
from pipyd.js.scope import ESCAPE
from pipyd.js.values import (
    HostObject, JSArray, JSErrorObject, JSFunction, JSObject, JSThrow, type_error, undefined,
)

_M = object()
_PYFUNC = types.FunctionType


# ---------------------------------------------------------------------------- accessor objects

class AccessorObject(JSObject):
    """A plain object literal with getters or setters (``{get x() {…}}``), §10.1.8 [[Get]].

    An accessor property is an ordinary dict entry whose value is a ``PropertyAccessor``, so
    key order, ``in``, ``delete`` and enumeration work as for data properties. The subclass keeps
    plain ``JSObject`` fast: the compiled inline read and ``get``/``set`` test ``type(o) is
    JSObject`` and send every other object down the slower paths, which resolve accessors here.
    Builtins reading dict values directly (not through ``runtime.get``) see the PropertyAccessor.
    """

    __slots__ = ()


class PropertyAccessor:
    """The getter and/or setter (JS functions, or None) of one accessor property."""

    __slots__ = ("get", "set")

    def __init__(self, get: Any = None, set: Any = None) -> None:  # noqa: A002 (JS names)
        self.get = get
        self.set = set


def define_property(obj: AccessorObject, key: str, value: Any, kind: int) -> None:
    """An object literal's property definition: 0 data, 1 getter, 2 setter (§13.2.5.5)."""
    if kind == 0:
        dict.__setitem__(obj, key, value)
        return
    acc = dict.get(obj, key)
    if type(acc) is not PropertyAccessor:
        acc = PropertyAccessor()
        dict.pop(obj, key, None)  # a redefinition moves nothing: JS keeps the first position
        dict.__setitem__(obj, key, acc)
    if kind == 1:
        acc.get = value
    else:
        acc.set = value


def _accessor_get(obj: AccessorObject, key: str) -> Any:
    v = dict.get(obj, key, _M)
    if v is _M:
        m = rt.OBJECT_PROTO.get(key)
        return rt.proto_member(m, obj) if m is not None else undefined
    if type(v) is PropertyAccessor:
        return undefined if v.get is None else rt.call_this(v.get, obj)
    return v


def _accessor_set(obj: AccessorObject, key: str, value: Any) -> None:
    v = dict.get(obj, key)
    if type(v) is PropertyAccessor:
        if v.set is not None:  # no setter: the write is ignored (sloppy mode, §10.1.9.2)
            rt.call_this(v.set, obj, value)
        return
    dict.__setitem__(obj, key, value)


# ---------------------------------------------------------------------------- member tables
#
# Compiled code reads ``o.name`` (a constant, non-index name) as
#   ``t['name'] if (k := type(t := o)) is JSObject and 'name' in t else G[k](t)``
# and calls ``o.name(...)`` as ``M[type(t := o)](t, ...)``, where ``G = getters('name')`` and
# ``M = invokers('name')`` are bound once per module (a module-level ``ǂgN``/``ǂmN`` name). Each
# is a dict from a type to a getter ``fn(obj)`` / an invoker ``fn(obj, *args)`` for that name,
# filled on first use: one dict subscript and one call per access, no allowlist test, no name
# mangling, no isinstance chain. Only types whose members cannot change at run time get
# specialised entries (host classes: their allowlists are class constants; strings, numbers,
# arrays' length and proto methods, Math/JSON-like namespaces); every other type gets a closure
# over the generic ``getp`` / ``call_method``, so semantics never depend on the table.

def _generic_getter(key: str) -> Callable[[Any], Any]:
    return lambda obj: rt.getp(obj, key)


def _undefined_getter(obj: Any) -> Any:
    return undefined


def _host_getter(t: type, key: str) -> Callable[[Any], Any]:
    if key in t.js_get and not key.startswith("__"):
        return operator.attrgetter(rt._PY_NAMES.get(key, key))
    return _undefined_getter


def _proto_getter(table: dict, key: str, fallback: Callable[[Any], Any]) -> Callable[[Any], Any]:
    m = table.get(key)
    if m is None:
        return fallback
    if type(m) is rt.Accessor:
        return m.getter
    return lambda obj: functools.partial(m, obj)


def _namespace_getter(key: str) -> Callable[[Any], Any]:
    def g(obj: Any) -> Any:
        v = dict.get(obj, key, _M)
        return rt.getp(obj, key) if v is _M else v
    return g


def _make_getter(t: type, key: str) -> Callable[[Any], Any]:
    if issubclass(t, HostObject):
        return _host_getter(t, key)
    if t is JSObject:
        return operator.itemgetter(key)  # an absent key: JSObject.__missing__ (runtime.py)
    # a primitive's table, then Object.prototype's ('ab'.hasOwnProperty), else undefined
    inherited = _proto_getter(rt.OBJECT_PROTO, key, _undefined_getter)
    if t is str or t is JSArray:
        if key == "length":
            return len
        if t is str:
            return _proto_getter(rt.STRING_PROTO, key, inherited)
        return _generic_getter(key)
    if t is int or t is float:
        return _proto_getter(rt.NUMBER_PROTO, key, inherited)
    if t is bool:
        return _proto_getter(rt.BOOLEAN_PROTO, key, inherited)
    if t is BuiltinNamespace or t is PristineNamespace:
        return _namespace_getter(key)
    return _generic_getter(key)


class _Getters(dict):
    """type -> getter for one JS name (filled on first use of each type)."""

    __slots__ = ("key",)

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key

    def __missing__(self, t: type) -> Callable[[Any], Any]:
        g = self[t] = _make_getter(t, self.key)
        if type(g) is operator.attrgetter:
            host_types(self.key).add(t)  # a plain allowed attribute: compiled code reads it inline
        return g


_GETTERS: dict[str, _Getters] = {}
_HOST_TYPES: dict[str, set[type]] = {}


def host_types(key: str) -> set[type]:
    """The host classes whose ``.key`` is an allowed plain attribute read (``js_get``), filled as
    the getter table meets them: compiled code tests ``type(o) in host_types(key)`` and then
    reads ``o.<py_name(key)>`` itself, with no call (docs/internals/engine.md)."""
    s = _HOST_TYPES.get(key)
    if s is None:
        s = _HOST_TYPES[key] = set()
    return s


def host_member_names() -> frozenset[str]:
    """Every name some loaded host class lets scripts read (``js_get``). The compiler orders a
    member read's tests by it: such names test the site's host-class cache first, all others
    the plain-object case first (a message head's ``headers``, a config's keys). Only the order
    of the tests depends on it, never the result."""
    names: set[str] = set()
    todo = [HostObject]
    while todo:
        c = todo.pop()
        names.update(c.__dict__.get("js_get", ()))
        todo.extend(c.__subclasses__())
    return frozenset(names)


def getters(key: str) -> dict[type, Callable[[Any], Any]]:
    """The getter table of a member name (shared by every module that reads ``.key``)."""
    tbl = _GETTERS.get(key)
    if tbl is None:
        tbl = _GETTERS[key] = _Getters(key)
    return tbl


def _generic_invoker(key: str) -> Callable[..., Any]:
    return lambda obj, *args: rt.call_method(obj, key, *args)


def _object_invoker(key: str) -> Callable[..., Any]:
    """``o.key(...)`` on a plain object: own function, else Object.prototype's method."""
    proto = rt.OBJECT_PROTO.get(key)
    if type(proto) is rt.Accessor:  # `o.constructor(...)`: the value, called as usual
        return _generic_invoker(key)

    def inv(obj: Any, *args: Any) -> Any:
        f = obj.get(key, _M)
        if f is _M:
            if proto is not None:
                return proto(obj, *args)
            return rt.call_method(obj, key, *args)
        if type(f) is JSFunction:
            return f.fn(obj, *args)
        if callable(f) and not isinstance(f, (dict, list)):
            return f(*args)
        return rt.call_method(obj, key, *args)
    return inv


def _namespace_invoker(key: str) -> Callable[..., Any]:
    """``Math.floor(x)``, ``JSON.stringify(v)``: members are plain callables taking no ``this``."""
    def inv(obj: Any, *args: Any) -> Any:
        f = dict.get(obj, key)
        if f is not None and type(f) is not JSFunction and type(f) is not JSObject and callable(f):
            return f(*args)
        return rt.call_method(obj, key, *args)
    return inv


def _host_invoker(t: type, key: str) -> Callable[..., Any]:
    if key not in t.js_get or key.startswith("__"):
        return _generic_invoker(key)
    name = rt._PY_NAMES.get(key, key)
    # A plain function found on the class is the method itself when instances have no __dict__
    # that could shadow it (host classes use __slots__): call it unbound, no bound-method object.
    for klass in t.__mro__:
        if name in klass.__dict__:
            attr = klass.__dict__[name]
            if type(attr) is _PYFUNC and not t.__dictoffset__:
                return attr
            break
    return lambda obj, *args: getattr(obj, name)(*args)


def _proto_invoker(table: dict, key: str) -> Callable[..., Any]:
    m = table.get(key)
    if m is None or type(m) is rt.Accessor:
        return _generic_invoker(key)
    return m  # the table's functions take ``this`` first: exactly an invoker


def _make_invoker(t: type, key: str) -> Callable[..., Any]:
    if issubclass(t, HostObject):
        return _host_invoker(t, key)
    if t is JSObject:
        return _object_invoker(key)
    if t is str:
        return _proto_invoker(rt.STRING_PROTO, key)
    if t is JSArray:
        return _proto_invoker(rt.ARRAY_PROTO, key)
    if t is int or t is float:
        return _proto_invoker(rt.NUMBER_PROTO, key)
    if t is bool:
        return _proto_invoker(rt.BOOLEAN_PROTO, key)
    if t is BuiltinNamespace or t is PristineNamespace:
        return _namespace_invoker(key)
    return _generic_invoker(key)


class _Invokers(dict):
    """type -> invoker ``fn(obj, *args)`` for one JS name (filled on first use of each type)."""

    __slots__ = ("key",)

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key

    def __missing__(self, t: type) -> Callable[..., Any]:
        f = self[t] = _make_invoker(t, self.key)
        return f


_INVOKERS: dict[str, _Invokers] = {}


def invokers(key: str) -> dict[type, Callable[..., Any]]:
    """The invoker table of a method name (shared by every module that calls ``.key()``)."""
    tbl = _INVOKERS.get(key)
    if tbl is None:
        tbl = _INVOKERS[key] = _Invokers(key)
    return tbl


def bind_method(obj: Any, key: str) -> Callable[..., Any]:
    """``obj.key`` as a function to call with ``this = obj`` (the slow path of a namespace call)."""
    return lambda *args: rt.call_method(obj, key, *args)


# Helpers compiled code refers to as ``ǂname`` beyond engine._HELPER_NAMES (compiler registers them).
COMPILED_HELPERS: dict[str, Any] = {ESCAPE + name: v for name, v in (
    ("getters", getters), ("invokers", invokers), ("hosts", host_types), ("NS", BuiltinNamespace), ("PNS", PristineNamespace),
    ("dget", dict.get), ("PLAIN", frozenset((types.FunctionType, types.BuiltinFunctionType))),
    ("bind_method", bind_method), ("bool", bool), ("str", str), ("int", int), ("float", float),
    ("AccessorObject", AccessorObject), ("define_property", define_property), ("to_string", to_string),
    ("Boolean", Boolean))}


# Direct calls ``f(x)`` compile to plain Python calls; when ``f`` is not callable, Python says
# "'int' object is not callable". To say V8's "f is not a function" without any cost on the
# normal path, the compiler records each code object's direct call sites, (line, col) -> name,
# and the error path maps the failing instruction's position back to the callee's name.
CALL_SITES: "weakref.WeakKeyDictionary[Any, dict[tuple[int, int], str]]" = weakref.WeakKeyDictionary()


_RUNTIME_FILES = frozenset((__file__, rt.__file__.replace("runtime.py", "runtime_ops.py")))


def call_site_error(exc: BaseException) -> JSThrow | None:
    """V8's "o.x is not a function" for a member call in compiled code whose member is no
    function: the runtime raised it (runtime_ops.call_method) with a generic text, and the call
    site's span maps back to the callee's source text. None if ``exc`` is anything else (an
    error raised inside a builtin the call reached keeps its own message)."""
    if type(exc) is not JSThrow or type(exc.value) is not JSErrorObject:
        return not_callable_error(exc)
    v = exc.value
    if v.name != "TypeError" or not v.message.endswith(" is not a function"):
        return None
    tb = exc.__traceback__
    site = None
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename not in _RUNTIME_FILES:
            site = tb if code in CALL_SITES else None
        tb = tb.tb_next
    if site is None:
        return None
    code = site.tb_frame.f_code
    pos = next(itertools.islice(code.co_positions(), site.tb_lasti // 2, None), None)
    text = CALL_SITES[code].get(pos) if pos is not None else None
    if text is None:
        return None
    v.message = f"{text} is not a function"
    v.stack = f"TypeError: {v.message}"
    return exc


def not_callable_error(exc: BaseException) -> JSThrow | None:
    """``TypeError: f is not a function`` for a Python TypeError raised by a compiled direct
    call of a non-callable ``f``; None when ``exc`` is anything else."""
    if type(exc) is not TypeError or "is not callable" not in str(exc):
        return None
    tb = exc.__traceback__
    if tb is None:
        return None
    while tb.tb_next is not None:
        tb = tb.tb_next
    code = tb.tb_frame.f_code
    sites = CALL_SITES.get(code)
    if sites is None:
        return None
    pos = next(itertools.islice(code.co_positions(), tb.tb_lasti // 2, None), None)
    name = sites.get((pos[0], pos[2])) if pos is not None else None
    if name is None:
        return None
    err = type_error(f"{name} is not a function")
    err.__traceback__ = exc.__traceback__
    return err
