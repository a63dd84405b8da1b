"""Builtin constructors (Object, Array, Number, Map, Error…) as script values.

A ``BuiltinClass`` is what a script sees as ``Array`` or ``Map``. The interface the runtime uses:

- ``cls(*args)``: the constructor called as a plain function (``Number('5')``, ``String(x)``,
  ``Array(3)``); forwards to ``call_fn``. Extra or missing arguments are accepted.
- ``cls.construct(*args)``: ``new Cls(...)`` — ``runtime.construct`` calls this. A class without a
  ``construct_fn`` (Math is not a class; ``Symbol`` would be one) raises ``TypeError: X is not a
  constructor``.
- ``cls.get(key) -> value``: a static member read (``Array.isArray``, ``Number.MAX_VALUE``,
  ``Object.prototype``, ``name``, ``length``); ``undefined`` when absent. Static functions are plain
  Python callables taking only the JS arguments (no ``this``), so ``call_method(Array, 'isArray',
  x)`` is ``cls.statics['isArray'](x)``.
- ``cls.set(key, value)``: scripts may add static members (``Object.foo = 1``).
- ``cls.statics``: the static member dict itself (mutable).
- ``cls.proto_methods``: the method table of instances (``ARRAY_PROTO``…): ``{name: fn(this, *args)}``.
- ``cls.prototype``: the JS-visible ``Cls.prototype`` object, a ``BuiltinPrototype`` whose entries are
  ``JSFunction``s wrapping the method table (so ``Array.prototype.slice.call(x, 1)`` works: a
  ``JSFunction``'s ``fn`` already takes ``this`` first) plus ``constructor``. Built on first use.
- ``cls.has_instance(v) -> bool``: ``v instanceof cls``: ``instance_check(v)`` when the class has one
  (Object: every non-primitive), else ``isinstance(v, cls.instance_types)``, or ``cls.prototype``
  found on the ``proto`` chain of an ``Object.create``d object.

Every builtin constructor is exactly a ``BuiltinClass`` (no subclasses), so the runtime can
dispatch with ``type(x) is BuiltinClass``.

``typeof`` of a BuiltinClass is ``'function'`` (it is a callable, not a HostObject).

``prototype_of(v)`` answers ``Object.getPrototypeOf`` without leaking Python objects: modules
register the prototype object of each Python value type with ``register_prototype``.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

from pipyd.js.values import JSFunction, JSObject, JSObjectP, type_error, undefined


class BuiltinPrototype(JSObjectP):
    """``Cls.prototype``: a dict of JSFunctions. Its members are not enumerable (own_keys gives [])."""

    __slots__ = ()
    js_hidden_keys = True


class BuiltinNamespace(JSObject):
    """A builtin namespace object (Math, JSON): members are plain Python callables and constants,
    called without ``this``; like engines, none of them is enumerable."""

    __slots__ = ()
    js_hidden_keys = True


class PristineNamespace(BuiltinNamespace):
    """A builtin namespace none of whose entries has been written or deleted: compiled code
    tests ``type(Math) is PristineNamespace`` once instead of reading and comparing the member
    (compiler_expr.math_inline). Every dict mutator first turns the object into a plain
    ``BuiltinNamespace`` for good (``__class__`` assignment: same layout), so the test can never
    vouch for a changed member. Runtime type dispatch treats both classes alike."""

    __slots__ = ()

    def _spoil(self) -> None:
        self.__class__ = BuiltinNamespace

    def __setitem__(self, key: Any, value: Any) -> None:
        self._spoil()
        dict.__setitem__(self, key, value)

    def __delitem__(self, key: Any) -> None:
        self._spoil()
        dict.__delitem__(self, key)

    def __ior__(self, other: Any) -> Any:
        self._spoil()
        return dict.__ior__(self, other)

    def pop(self, *args: Any) -> Any:
        self._spoil()
        return dict.pop(self, *args)

    def popitem(self) -> Any:
        self._spoil()
        return dict.popitem(self)

    def clear(self) -> None:
        self._spoil()
        dict.clear(self)

    def update(self, *args: Any, **kw: Any) -> None:
        self._spoil()
        dict.update(self, *args, **kw)

    def setdefault(self, key: Any, default: Any = None) -> Any:
        self._spoil()
        return dict.setdefault(self, key, default)


# The ``name`` and ``length`` scripts read on each builtin function (§18: every built-in function
# has both; the Python names and signatures do not give them: ``slice_``, ``parse_int``, optional
# parameters the spec counts). Filled by ``globals.describe_builtins`` when GLOBALS is built.
BUILTIN_INFO: dict[Any, tuple[str, int]] = {}


def _method_length(fn: Callable[..., Any]) -> int:
    """JS ``length`` of a method fn(this, a, b=undefined, *_): the count of required JS params."""
    code = getattr(fn, "__code__", None)
    if code is None:
        return 0
    required = code.co_argcount - len(getattr(fn, "__defaults__", None) or ())
    return max(required - 1, 0)


class BuiltinClass:
    __slots__ = ("name", "length", "call_fn", "construct_fn", "statics", "proto_methods",
                 "instance_types", "parent", "instance_check", "_prototype", "__weakref__")

    def __init__(self, name: str, call_fn: Callable[..., Any], construct_fn: Callable[..., Any] | None = None,
                 statics: dict[str, Any] | None = None, proto_methods: dict[str, Callable[..., Any]] | None = None,
                 instance_types: tuple[type, ...] = (), length: int = 1,
                 parent: "BuiltinClass | None" = None,
                 instance_check: Callable[[Any], bool] | None = None) -> None:
        self.name = name
        self.length = length
        self.call_fn = call_fn
        self.construct_fn = construct_fn
        self.statics = statics if statics is not None else {}
        self.proto_methods = proto_methods if proto_methods is not None else {}
        self.instance_types = instance_types
        self.parent = parent  # the class whose prototype this one's prototype inherits (Error for TypeError)
        self.instance_check = instance_check
        self._prototype: BuiltinPrototype | None = None

    def __call__(self, *args: Any) -> Any:
        return self.call_fn(*args)

    def construct(self, *args: Any) -> Any:
        if self.construct_fn is None:
            raise type_error(f"{self.name} is not a constructor")
        return self.construct_fn(*args)

    @property
    def prototype(self) -> BuiltinPrototype:
        p = self._prototype
        if p is None:
            p = self._prototype = self._build_prototype()
        return p

    def _build_prototype(self) -> BuiltinPrototype:
        # Object.prototype ends the chain; every other prototype inherits Object's (or its parent's).
        if self.parent is not None:
            parent_proto: Any = self.parent.prototype
        elif self.name == "Object":
            parent_proto = None
        else:
            parent_proto = OBJECT_CLASS_REF[0].prototype if OBJECT_CLASS_REF else None
        p = BuiltinPrototype(parent_proto)
        for key, fn in self.proto_methods.items():
            if not callable(fn):  # an accessor entry (`constructor`): set below or read on instances
                continue
            info = BUILTIN_INFO.get(fn)
            p[key] = JSFunction(fn, key, info[1] if info is not None else _method_length(fn))
        p["constructor"] = self
        return p

    def get(self, key: str) -> Any:
        v = self.statics.get(key, undefined)
        if v is not undefined:
            return v
        if key == "prototype":
            return self.prototype
        if key == "name":
            return self.name
        if key == "length":
            return self.length
        return undefined

    def set(self, key: str, value: Any) -> Any:
        self.statics[key] = value
        return value

    def has_instance(self, v: Any) -> bool:
        if self.instance_check is not None:
            return self.instance_check(v)
        if self.instance_types and isinstance(v, self.instance_types):
            return True
        proto = getattr(v, "proto", None)
        target = self.prototype
        while proto is not None:
            if proto is target:
                return True
            proto = getattr(proto, "proto", None)
        return False

    def __repr__(self) -> str:
        return f"<BuiltinClass {self.name}>"


# The Object class, set by builtins/object.py; a list so other prototypes can find it lazily.
OBJECT_CLASS_REF: list[BuiltinClass] = []

# Python value type -> the BuiltinClass whose prototype Object.getPrototypeOf answers.
_CLASS_OF_TYPE: dict[type, BuiltinClass] = {}


def register_prototype(types: Iterable[type], cls: BuiltinClass) -> None:
    """Declare that values of these Python types have ``cls.prototype`` as their prototype."""
    for t in types:
        _CLASS_OF_TYPE[t] = cls


def prototype_of(v: Any) -> Any:
    """``Object.getPrototypeOf(v)`` for any non-null value: a JS object or null, never a Python object."""
    if isinstance(v, JSObjectP):
        return v.proto
    cls = _CLASS_OF_TYPE.get(type(v))
    if cls is None:
        for t, c in _CLASS_OF_TYPE.items():
            if isinstance(v, t):
                cls = c
                break
    if cls is None:
        if not OBJECT_CLASS_REF:
            return None
        cls = OBJECT_CLASS_REF[0]
    return cls.prototype
