"""The global object: GLOBALS assembled from every builtins module's ``EXPORTS`` dict.

Each ``pipyd/js/builtins/<family>.py`` exports ``EXPORTS: dict[str, object]`` with the globals it
contributes; this module merges them in a fixed order. ``GLOBALS`` is itself a ``JSObject`` so it
doubles as ``globalThis`` (its members are not enumerable, as on engines).
"""
from __future__ import annotations

import importlib
import math

from pipyd.js.builtins.classes import BUILTIN_INFO, BuiltinClass, BuiltinNamespace
from pipyd.js.values import undefined

# Our families first, then those of the RegExp/Date/Map/Set/Error/console/URI family.
FAMILIES = ("object", "functions", "array", "string", "number", "boolean", "math", "json",
            "regexp", "date", "mapset", "error", "console", "uri")


class GlobalObject(BuiltinNamespace):
    """globalThis: a namespace whose own members are the builtins."""

    __slots__ = ()


def _load(family: str) -> dict[str, object]:
    return importlib.import_module(f"pipyd.js.builtins.{family}").EXPORTS


# ``length`` of the builtin functions whose spec length is not 1 (ECMA-262: "The "length"
# property of this method is N", else the count of its required parameters).
_SPEC_LENGTHS = {
    0: """Object.prototype.toString Object.prototype.toLocaleString Object.prototype.valueOf
          Array.of Array.prototype.entries Array.prototype.flat Array.prototype.keys
          Array.prototype.pop Array.prototype.reverse Array.prototype.shift Array.prototype.toString
          Array.prototype.toLocaleString Array.prototype.values Array.prototype.toReversed
          String.prototype.normalize String.prototype.toLowerCase String.prototype.toUpperCase
          String.prototype.toLocaleLowerCase String.prototype.toLocaleUpperCase String.prototype.trim
          String.prototype.trimStart String.prototype.trimEnd String.prototype.toString
          String.prototype.valueOf Number.prototype.toLocaleString Number.prototype.valueOf
          Boolean.prototype.toString Boolean.prototype.valueOf Math.random RegExp.prototype.toString
          Map.prototype.clear Map.prototype.keys Map.prototype.values Map.prototype.entries
          Set.prototype.clear Set.prototype.keys Set.prototype.values Set.prototype.entries
          Error.prototype.toString Date.now""",
    2: """Object.assign Object.create Object.defineProperties Object.getOwnPropertyDescriptor
          Object.is Object.hasOwn Array.prototype.copyWithin Array.prototype.slice
          Array.prototype.splice Array.prototype.toSpliced Array.prototype.with
          String.prototype.replace String.prototype.replaceAll String.prototype.slice
          String.prototype.split String.prototype.substring String.prototype.substr Number.parseInt
          parseInt Math.max Math.min Math.pow Math.hypot Math.atan2 Math.imul JSON.parse
          Map.prototype.set Date.prototype.setMonth Date.prototype.setUTCMonth
          Date.prototype.setSeconds Date.prototype.setUTCSeconds Error.captureStackTrace""",
    3: """Object.defineProperty JSON.stringify Date.prototype.setFullYear
          Date.prototype.setUTCFullYear Date.prototype.setMinutes Date.prototype.setUTCMinutes""",
    4: "Date.prototype.setHours Date.prototype.setUTCHours",
    7: "Date.UTC",
}
_LENGTH_OF = {name: n for n, names in _SPEC_LENGTHS.items() for name in names.split()}
# Date's getters and to*String methods take no arguments.
_ZERO_PREFIXES = ("Date.prototype.get", "Date.prototype.to")


def describe_builtins(g: GlobalObject) -> None:
    """Fill classes.BUILTIN_INFO: (name, length) of every builtin function reachable from ``g``
    (global functions, namespace members, statics and prototype methods). A function found
    under two names keeps the first: right for the spec's own aliases (``trimLeft`` is
    ``trimStart``, ``Number.parseInt`` is ``parseInt``); where pipyd shares one implementation
    between distinct JS functions (``toLocaleLowerCase``), that one reports the other's name."""
    def add(qualified: str, key: str, fn: object) -> None:
        if not callable(fn) or type(fn) is BuiltinClass or fn in BUILTIN_INFO:
            return
        n = _LENGTH_OF.get(qualified)
        if n is None:
            n = 0 if qualified.startswith(_ZERO_PREFIXES) and qualified != "Date.prototype.toJSON" else 1
        BUILTIN_INFO[fn] = (key, n)

    for name, v in g.items():
        if type(v) is BuiltinClass:
            for k, fn in v.statics.items():
                add(f"{name}.{k}", k, fn)
            for k, fn in v.proto_methods.items():
                add(f"{name}.prototype.{k}", k, fn)
        elif isinstance(v, BuiltinNamespace) and v is not g:
            for k, fn in v.items():
                add(f"{name}.{k}", k, fn)
        else:
            add(name, name, v)


def install_constructors(g: GlobalObject) -> None:
    """``constructor`` of every builtin prototype (Object.prototype.constructor, §20.1.3.1, and
    each builtin's own) as an accessor entry of the proto tables, so ``({}).constructor ===
    Object`` and ``'constructor' in []`` hold without a test on the read paths: the tables answer
    it like any inherited member."""
    from pipyd.js import runtime
    from pipyd.js.builtins.classes import _CLASS_OF_TYPE

    def of(cls: BuiltinClass) -> runtime.Accessor:
        return runtime.Accessor(lambda this: cls)

    for table, name in ((runtime.OBJECT_PROTO, "Object"), (runtime.ARRAY_PROTO, "Array"),
                        (runtime.STRING_PROTO, "String"), (runtime.NUMBER_PROTO, "Number"),
                        (runtime.BOOLEAN_PROTO, "Boolean")):
        table["constructor"] = of(g[name])
    for t, table in runtime.PROTO_BY_TYPE.items():  # RegExp, Date, Map, Set
        cls = _CLASS_OF_TYPE.get(t)
        if cls is not None:
            table["constructor"] = of(cls)

    def error_class(err: object) -> object:  # the kind is the error's name (error.py)
        cls = g.get(getattr(err, "name", None))
        return cls if type(cls) is BuiltinClass and cls.has_instance(err) else g["Error"]

    runtime.ERROR_PROTO["constructor"] = runtime.Accessor(error_class)


def build_globals() -> GlobalObject:
    g = GlobalObject({"NaN": math.nan, "Infinity": math.inf, "undefined": undefined})
    for family in FAMILIES:
        g.update(_load(family))
    g["globalThis"] = g
    describe_builtins(g)
    install_constructors(g)
    return g


GLOBALS: GlobalObject = build_globals()
