"""Map and Set (ECMAScript 2020 §23.1, §23.2): insertion-ordered, keys compared by SameValueZero.

Entries live in a Python dict keyed by a normalised key (``_norm``): NaN becomes one marker (NaN
equals NaN), -0 becomes 0 (§23.1.3.9 step 6), booleans get their own markers (Python's
``True == 1`` must not make ``true`` and ``1`` the same key), and objects are keyed by identity
(JSObject and JSArray hash and compare by identity already). A Map's dict maps the normalised key
to ``[key, value]``; a Set's maps it to the value.

``keys``/``values``/``entries`` return arrays, not iterators (generators are out of scope): a
script that spreads them or loops with ``for of`` sees the same values. ``for of`` and spread over
a Map or Set itself use ``js_iter`` (runtime.iterate).
"""
from __future__ import annotations

from typing import Any, Callable, Iterator

from pipyd.js import runtime
from pipyd.js.builtins.classes import BuiltinClass, register_prototype
from pipyd.js.coerce import call_with_this
from pipyd.js.values import JSArray, type_error, undefined

_NAN_KEY = object()
_TRUE_KEY = object()
_FALSE_KEY = object()


def _norm(k: Any) -> Any:
    t = type(k)
    if t is str or t is int:
        return k
    if t is float:
        return _NAN_KEY if k != k else k  # 0.0 and -0.0 hash and compare equal, as 0 does
    if t is bool:
        return _TRUE_KEY if k else _FALSE_KEY
    try:
        hash(k)
    except TypeError:
        return ("id", id(k))  # the entry keeps the object alive, so its id stays unique
    return k


def _store_key(k: Any) -> Any:
    """The key as stored and shown back: -0 is stored as +0."""
    return 0 if type(k) is float and k == 0 else k


class JSMap:
    __slots__ = ("entries", "__weakref__")

    def __init__(self) -> None:
        self.entries: dict[Any, list[Any]] = {}

    def js_iter(self) -> Iterator[JSArray]:
        return (JSArray(e) for e in _live(self.entries))


class JSSet:
    __slots__ = ("entries", "__weakref__")

    def __init__(self) -> None:
        self.entries: dict[Any, Any] = {}

    def js_iter(self) -> Iterator[Any]:
        return _live(self.entries)


def _live(d: dict[Any, Any]) -> Iterator[Any]:
    """Visit entries in order, skipping ones deleted meanwhile and reaching ones added meanwhile
    (§23.1.3.5 forEach: a live list), without failing on a dict that changed size."""
    seen: set[Any] = set()
    while True:
        batch = [k for k in d if k not in seen] if seen else list(d)
        if not batch:
            return
        for k in batch:
            seen.add(k)
            v = d.get(k, seen)
            if v is not seen:
                yield v


# -- Map (§23.1.3) ---------------------------------------------------------------------------

def map_get(this: JSMap, key: Any = undefined, *_: Any) -> Any:
    e = this.entries.get(_norm(key))
    return undefined if e is None else e[1]


def map_set(this: JSMap, key: Any = undefined, value: Any = undefined, *_: Any) -> JSMap:
    k = _norm(key)
    e = this.entries.get(k)
    if e is None:
        this.entries[k] = [_store_key(key), value]
    else:
        e[1] = value
    return this


def map_has(this: JSMap, key: Any = undefined, *_: Any) -> bool:
    return _norm(key) in this.entries


def map_delete(this: JSMap | JSSet, key: Any = undefined, *_: Any) -> bool:
    return this.entries.pop(_norm(key), _M) is not _M


_M = object()


def map_clear(this: JSMap | JSSet, *_: Any) -> Any:
    this.entries.clear()
    return undefined


def map_for_each(this: JSMap, fn: Any = undefined, this_arg: Any = undefined, *_: Any) -> Any:
    _check_callable(fn, "Map")
    for e in _live(this.entries):
        call_with_this(fn, this_arg, e[1], e[0], this)
    return undefined


def _check_callable(fn: Any, cls: str) -> None:
    if not callable(fn) or isinstance(fn, (dict, list)):
        raise type_error(f"{runtime.to_string(fn) if type(fn) is str else runtime.typeof(fn)} is not a function")


MAP_PROTO: dict[str, Any] = {
    "get": map_get,
    "set": map_set,
    "has": map_has,
    "delete": map_delete,
    "clear": map_clear,
    "forEach": map_for_each,
    "keys": lambda this, *_: JSArray(e[0] for e in this.entries.values()),
    "values": lambda this, *_: JSArray(e[1] for e in this.entries.values()),
    "entries": lambda this, *_: JSArray(JSArray(e) for e in this.entries.values()),
    "size": runtime.Accessor(lambda this: len(this.entries)),
}


def construct_map(iterable: Any = undefined, *_: Any) -> JSMap:
    m = JSMap()
    if iterable is undefined or iterable is None:
        return m
    for entry in runtime.iterate(iterable):
        if not isinstance(entry, (list, dict)) and not hasattr(type(entry), "js_iter"):
            raise type_error(f"Iterator value {runtime.to_string(entry)} is not an entry object")
        map_set(m, runtime.get(entry, 0), runtime.get(entry, 1))
    return m


# -- Set (§23.2.3) ---------------------------------------------------------------------------

def set_add(this: JSSet, value: Any = undefined, *_: Any) -> JSSet:
    k = _norm(value)
    if k not in this.entries:
        this.entries[k] = _store_key(value)
    return this


def set_has(this: JSSet, value: Any = undefined, *_: Any) -> bool:
    return _norm(value) in this.entries


def set_for_each(this: JSSet, fn: Any = undefined, this_arg: Any = undefined, *_: Any) -> Any:
    _check_callable(fn, "Set")
    for v in _live(this.entries):
        call_with_this(fn, this_arg, v, v, this)
    return undefined


def _set_values(this: JSSet, *_: Any) -> JSArray:
    return JSArray(this.entries.values())


SET_PROTO: dict[str, Any] = {
    "add": set_add,
    "has": set_has,
    "delete": map_delete,
    "clear": map_clear,
    "forEach": set_for_each,
    "keys": _set_values,
    "values": _set_values,
    "entries": lambda this, *_: JSArray(JSArray((v, v)) for v in this.entries.values()),
    "size": runtime.Accessor(lambda this: len(this.entries)),
}


def construct_set(iterable: Any = undefined, *_: Any) -> JSSet:
    s = JSSet()
    if iterable is not undefined and iterable is not None:
        for v in runtime.iterate(iterable):
            set_add(s, v)
    return s


def _requires_new(name: str) -> Callable[..., Any]:
    def call(*_: Any) -> Any:
        raise type_error(f"Constructor {name} requires 'new'")
    return call


def _methods(table: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in table.items() if callable(v)}


MAP_CLASS = BuiltinClass("Map", _requires_new("Map"), construct_map, proto_methods=_methods(MAP_PROTO),
                         instance_types=(JSMap,), length=0)
SET_CLASS = BuiltinClass("Set", _requires_new("Set"), construct_set, proto_methods=_methods(SET_PROTO),
                         instance_types=(JSSet,), length=0)
register_prototype((JSMap,), MAP_CLASS)
register_prototype((JSSet,), SET_CLASS)
runtime.PROTO_BY_TYPE[JSMap] = MAP_PROTO
runtime.PROTO_BY_TYPE[JSSet] = SET_PROTO

EXPORTS: dict[str, object] = {"Map": MAP_CLASS, "Set": SET_CLASS}
