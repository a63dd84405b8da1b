"""The global object: GLOBALS assembled from every builtins module's ``EXPORTS`` dict.

Each ``pipyd/js/builtins/<family>.py`` exports ``EXPORTS: dict[str, object]`` with the globals it
contributes; this module merges them in a fixed order. ``GLOBALS`` is itself a ``JSObject`` so it
doubles as ``globalThis`` (its members are not enumerable, as on engines).
"""
from __future__ import annotations

import importlib
import math

from pipyd.js.builtins.classes import BuiltinNamespace
from pipyd.js.values import undefined

# Our families first, then those of the RegExp/Date/Map/Set/Error/console/URI family.
FAMILIES = ("object", "functions", "array", "string", "number", "boolean", "math", "json",
            "regexp", "date", "mapset", "error", "console", "uri")


class GlobalObject(BuiltinNamespace):
    """globalThis: a namespace whose own members are the builtins."""

    __slots__ = ()


def _load(family: str) -> dict[str, object]:
    return importlib.import_module(f"pipyd.js.builtins.{family}").EXPORTS


def build_globals() -> GlobalObject:
    g = GlobalObject({"NaN": math.nan, "Infinity": math.inf, "undefined": undefined})
    for family in FAMILIES:
        g.update(_load(family))
    g["globalThis"] = g
    return g


GLOBALS: GlobalObject = build_globals()
