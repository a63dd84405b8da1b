"""Boolean: conversion function and Boolean.prototype (§20.3)."""
from __future__ import annotations

from typing import Any

from pipyd.js.builtins.classes import BuiltinClass, register_prototype
from pipyd.js.coerce import to_boolean
from pipyd.js.values import undefined


def boolean_call(value: Any = undefined, *_: Any) -> bool:
    """Boolean(v) is ToBoolean; ``new Boolean(v)`` gives the primitive too (no wrapper objects)."""
    return to_boolean(value)


def boolean_to_string(this: Any, *_: Any) -> str:
    return "true" if this else "false"


def boolean_value_of(this: Any, *_: Any) -> bool:
    return this


BOOLEAN_PROTO = {"toString": boolean_to_string, "valueOf": boolean_value_of}

Boolean = BuiltinClass("Boolean", boolean_call, boolean_call, {}, BOOLEAN_PROTO, ())
register_prototype((bool,), Boolean)

EXPORTS: dict[str, object] = {"Boolean": Boolean}
