"""JavaScript values as Python values: the representation every part of pipyd agrees on.

| JS            | Python                                                          |
| ------------- | --------------------------------------------------------------- |
| undefined     | the singleton ``undefined`` (falsy)                              |
| null          | ``None``                                                         |
| boolean       | ``bool`` (test ``type(v) is bool`` before ``int``)               |
| number        | ``int`` (only while |v| <= 2**53, never -0) or ``float``         |
| string        | ``str`` (indexed by code point, as PipyJS)                       |
| plain object  | ``JSObject`` (a dict of str keys; ``JSObjectP`` has a prototype) |
| array         | ``JSArray`` (a list; holes read as undefined)                    |
| function      | any Python callable: compiled arrows are plain functions,        |
|               | compiled ``function``s are ``JSFunction`` (they take ``this``)   |
| Error objects | ``JSErrorObject``                                               |
| host objects  | subclasses of ``HostObject`` exposing an explicit allowlist      |

A thrown JS value travels as the Python exception ``JSThrow`` carrying it in ``.value``.
"""
from __future__ import annotations

import keyword
from typing import Any, Callable, ClassVar


class JSUndefined:
    """The type of ``undefined``; there is exactly one instance."""

    __slots__ = ()
    _instance: ClassVar["JSUndefined | None"] = None

    def __new__(cls) -> "JSUndefined":
        if cls._instance is None:
            cls._instance = object.__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "undefined"

    def __reduce__(self) -> str:
        return "undefined"


undefined = JSUndefined()


class JSObject(dict):
    """A plain JS object. Keys are ``str``; enumeration puts integer-like keys first (see own_keys).
    Weakly referenceable: load balancers and mux sessions hold object keys weakly (Pipy)."""

    __slots__ = ("__weakref__",)

    def __bool__(self) -> bool:  # an empty object is truthy in JS
        return True

    __hash__ = object.__hash__  # objects are compared by identity in JS
    __eq__ = object.__eq__
    __ne__ = object.__ne__


class JSObjectP(JSObject):
    """A plain object with an explicit prototype (``Object.create(proto)``); ``proto`` may be None."""

    __slots__ = ("proto",)

    def __init__(self, proto: "JSObject | None", *args: Any, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.proto = proto


class JSArray(list):
    """A JS array: a dense Python list. Non-index properties a script sets (``arr.total = 3``)
    live in ``props``, a JSObject made on the first such write (unset until then: read it with
    ``getattr(arr, "props", None)``)."""

    __slots__ = ("props",)

    def __bool__(self) -> bool:  # an empty array is truthy in JS
        return True

    __hash__ = object.__hash__
    __eq__ = object.__eq__
    __ne__ = object.__ne__


class JSFunction:
    """A compiled ``function`` (not an arrow): it receives ``this`` as its first argument.

    Calling it from Python as ``f(*args)`` passes ``this = undefined``; the runtime uses
    ``f.call_this(this, *args)`` for method calls. ``props`` holds properties scripts set on it.
    """

    __slots__ = ("fn", "name", "length", "props", "__weakref__")

    def __init__(self, fn: Callable[..., Any], name: str = "", length: int = 0) -> None:
        self.fn = fn
        self.name = name
        self.length = length
        self.props: JSObject | None = None

    def __call__(self, *args: Any) -> Any:
        return self.fn(undefined, *args)

    def call_this(self, this: Any, *args: Any) -> Any:
        return self.fn(this, *args)

    def __repr__(self) -> str:
        return f"<JSFunction {self.name or '(anonymous)'}>"


class JSErrorObject(JSObject):
    """An Error instance. ``name``/``message`` are shown to scripts as properties; ``stack`` is
    filled when it is thrown from compiled code (JS frames as ``at file:line:col``)."""

    __slots__ = ("name", "message", "stack")

    def __init__(self, name: str = "Error", message: str = "") -> None:
        super().__init__()
        self.name = name
        self.message = message
        self.stack = f"{name}: {message}" if message else name

    def __str__(self) -> str:
        return f"{self.name}: {self.message}" if self.message else self.name


class JSThrow(Exception):
    """A JS exception in flight. ``value`` is what was thrown (any JS value)."""

    def __init__(self, value: Any) -> None:
        super().__init__(value)
        self.value = value

    def __str__(self) -> str:
        v = self.value
        if isinstance(v, JSErrorObject):
            return str(v)
        return f"Uncaught {v!r}"


def js_error(kind: str, message: str) -> JSThrow:
    """Build a throwable JS error of a builtin kind (``TypeError``, ``RangeError``…)."""
    return JSThrow(JSErrorObject(kind, message))


def type_error(message: str) -> JSThrow:
    return js_error("TypeError", message)


def range_error(message: str) -> JSThrow:
    return js_error("RangeError", message)


def reference_error(message: str) -> JSThrow:
    return js_error("ReferenceError", message)


def syntax_error(message: str) -> JSThrow:
    return js_error("SyntaxError", message)


class HostObject:
    """Base class of Python objects that scripts may touch (Message, Data, algo.Cache…).

    Only names listed here are visible; nothing else of the Python object is reachable:
    - ``js_get``: instance members scripts may read (attributes, properties or methods);
    - ``js_set``: instance members scripts may assign;
    - ``js_static``: class members readable on the class itself (``Data.from``);
    - ``js_new``: whether ``new Cls(...)`` is allowed; it calls ``Cls.js_construct(*args)``.
    A JS name that is a Python keyword maps to the Python name with a trailing underscore
    (``from`` → ``from_``); see ``py_name``. Instances are always truthy.
    """

    __slots__ = ()
    js_get: ClassVar[frozenset[str]] = frozenset()
    js_set: ClassVar[frozenset[str]] = frozenset()
    js_static: ClassVar[frozenset[str]] = frozenset()
    js_new: ClassVar[bool] = False
    js_class_name: ClassVar[str] = ""

    def __bool__(self) -> bool:
        return True

    @classmethod
    def js_construct(cls, *args: Any) -> "HostObject":
        return cls(*args)


def py_name(js_name: str) -> str:
    """The Python attribute behind a JS member name (``from`` → ``from_``)."""
    return js_name + "_" if keyword.iskeyword(js_name) else js_name


MAX_SAFE = 2**53


def is_number(v: Any) -> bool:
    t = type(v)
    return t is int or t is float


def typeof(v: Any) -> str:
    t = type(v)
    if t is str:
        return "string"
    if t is int or t is float:
        return "number"
    if t is bool:
        return "boolean"
    if v is undefined:
        return "undefined"
    if v is None:
        return "object"
    if t is JSObject or t is JSArray or isinstance(v, (dict, list)):
        return "object"
    if callable(v) and not isinstance(v, HostObject):
        return "function"
    if isinstance(v, type) and issubclass(v, HostObject):
        return "function"
    return "object"
