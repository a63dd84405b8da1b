"""Error and the native error kinds (ECMAScript 2020 §19.5, ES2022 ``cause``).

Every error is a ``values.JSErrorObject`` whose ``name`` says its kind; the runtime serves
``name``/``message``/``stack`` from its slots and other members from ``ERROR_PROTO``. The
constructors work with or without ``new`` (§19.5.1.1). ``e instanceof TypeError`` is decided by the
error's name, so errors raised by the runtime itself (``values.type_error``…) answer it too;
``instanceof Error`` holds for every kind.
"""
from __future__ import annotations

from typing import Any, Callable

from pipyd.js import runtime
from pipyd.js.builtins.classes import BuiltinClass, register_prototype
from pipyd.js.coerce import is_object, to_string
from pipyd.js.values import JSErrorObject, type_error, undefined

NATIVE_KINDS = ("TypeError", "RangeError", "SyntaxError", "ReferenceError", "EvalError", "URIError")


def error_to_string(this: Any = undefined, *_: Any) -> str:
    """Error.prototype.toString (§19.5.3.4)."""
    if not is_object(this):
        raise type_error("Error.prototype.toString requires that 'this' be an Object")
    name = runtime.get(this, "name")
    msg = runtime.get(this, "message")
    name = "Error" if name is undefined else to_string(name)
    msg = "" if msg is undefined else to_string(msg)
    if not name:
        return msg
    return f"{name}: {msg}" if msg else name


ERROR_PROTO: dict[str, Callable[..., Any]] = {"toString": error_to_string}


def _constructor(kind: str) -> Callable[..., JSErrorObject]:
    def make(message: Any = undefined, options: Any = undefined, *_: Any) -> JSErrorObject:
        e = JSErrorObject(kind, "" if message is undefined else to_string(message))
        if is_object(options) and runtime.has("cause", options):
            e["cause"] = runtime.get(options, "cause")  # InstallErrorCause (ES2022 §20.5.8.1)
        return e
    return make


class _KindCheck(type):
    """``isinstance(v, cls)`` is true for an error object whose name is ``cls.kind``; used as the
    ``instance_types`` of TypeError, RangeError… (BuiltinClass.has_instance calls isinstance)."""

    kind: str

    def __instancecheck__(cls, v: Any) -> bool:
        return isinstance(v, JSErrorObject) and v.name == cls.kind


def _kind_type(kind: str) -> type:
    return _KindCheck(kind + "Check", (), {"kind": kind})


def _capture_stack_trace(target: Any = undefined, *_: Any) -> Any:
    """Error.captureStackTrace (V8): give a plain object a ``stack``; errors already have one."""
    if type(target) is JSErrorObject:
        return undefined
    if is_object(target):
        runtime.set(target, "stack", error_to_string(target))
    return undefined


ERROR_CLASS = BuiltinClass("Error", _constructor("Error"), _constructor("Error"), proto_methods=ERROR_PROTO,
                           statics={"captureStackTrace": _capture_stack_trace},
                           instance_types=(JSErrorObject,), length=1)
register_prototype((JSErrorObject,), ERROR_CLASS)

EXPORTS: dict[str, object] = {"Error": ERROR_CLASS}
for _kind in NATIVE_KINDS:
    _make = _constructor(_kind)
    EXPORTS[_kind] = BuiltinClass(_kind, _make, _make, instance_types=(_kind_type(_kind),), length=1,
                                  parent=ERROR_CLASS)
