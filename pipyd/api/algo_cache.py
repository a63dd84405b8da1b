"""``algo.Cache`` and ``algo.ResourcePool`` (reference §3.4).

Cache: an insertion-ordered map with an optional capacity (``size``, least recently used goes
first) and an optional time-to-live (``ttl``, a Pipy duration, counted from when the value was
stored; reading does not extend it). ``get`` fills a missing or expired key through
``onAllocate(key)``; every value that leaves the cache (eviction, expiry, ``remove``,
``clear``, overwrite by ``set``) is handed to ``onFree(key, value)`` so scripts can release
what the value holds (tutorial 08 frees a load-balancer selection this way).

The load balancers consult a Cache of unhealthy targets with ``has`` (Python only): presence
without allocating, honouring the TTL, which is how a target marked unhealthy for ``ttl``
comes back by itself.
"""
from __future__ import annotations

import time
from collections import OrderedDict
from typing import Any, Callable

from pipyd.js.values import HostObject, type_error, undefined
from pipyd.units import parse_duration


class _BoolKey:
    """Stands in for ``true``/``false`` as dict keys: Python has ``True == 1``, JS has not."""

    __slots__ = ("value",)

    def __init__(self, value: bool) -> None:
        self.value = value


_TRUE, _FALSE = _BoolKey(True), _BoolKey(False)


def cache_key(k: Any) -> Any:
    if type(k) is bool:
        return _TRUE if k else _FALSE
    return k


def _original_key(k: Any) -> Any:
    return k.value if type(k) is _BoolKey else k


def is_callback(v: Any) -> bool:
    """A JS function (compiled arrow, JSFunction or a Python callable host function)."""
    return callable(v) and not isinstance(v, (dict, list, type))


class Cache(HostObject):
    """``new algo.Cache(onAllocate?, onFree?, {size, ttl}?)``; the functions and the options
    object are recognised by type, so ``new algo.Cache(fn, {ttl: 10})`` works too."""

    __slots__ = ("_alloc", "_free", "_size", "_ttl", "_map", "now")
    js_get = frozenset({"get", "set", "remove", "clear"})
    js_new = True
    js_class_name = "Cache"

    def __init__(self, on_allocate: Callable | None = None, on_free: Callable | None = None,
                 size: int = 0, ttl: float = 0.0) -> None:
        self._alloc = on_allocate
        self._free = on_free
        self._size = size  # 0 = unbounded
        self._ttl = ttl  # seconds; 0 = values never expire
        self._map: OrderedDict[Any, list] = OrderedDict()  # key -> [value, expires_at]
        self.now: Callable[[], float] = time.monotonic  # tests inject a clock here

    @classmethod
    def js_construct(cls, *args: Any) -> "Cache":
        funcs: list[Callable] = []
        size, ttl = 0, 0.0
        for a in args:
            if is_callback(a):
                funcs.append(a)
            elif isinstance(a, dict):
                size, ttl = _cache_options(a)
            elif a is not undefined and a is not None:
                raise type_error("algo.Cache: expected functions and an options object")
        funcs += [None, None]
        return cls(funcs[0], funcs[1], size, ttl)

    # -- JS members ---------------------------------------------------------------------------

    def get(self, key: Any = undefined) -> Any:
        k = cache_key(key)
        entry = self._map.get(k)
        if entry is not None:
            if self._ttl and entry[1] <= self.now():
                del self._map[k]
                self._release(key, entry[0])
            else:
                self._map.move_to_end(k)
                return entry[0]
        if self._alloc is None:
            return undefined
        value = self._alloc(key)
        if value is not undefined:
            self._store(k, value)
        return value

    def set(self, key: Any = undefined, value: Any = undefined) -> None:  # noqa: A003
        k = cache_key(key)
        old = self._map.pop(k, None)
        if old is not None and old[0] is not value:
            self._release(key, old[0])
        self._store(k, value)

    def remove(self, key: Any = undefined) -> bool:
        entry = self._map.pop(cache_key(key), None)
        if entry is None:
            return False
        self._release(key, entry[0])
        return True

    def clear(self) -> None:
        entries, self._map = self._map, OrderedDict()
        for k, entry in entries.items():
            self._release(_original_key(k), entry[0])

    # -- Python side --------------------------------------------------------------------------

    def has(self, key: Any) -> bool:
        """Whether ``key`` holds a live value; never allocates, never touches LRU order."""
        entry = self._map.get(cache_key(key))
        return entry is not None and not (self._ttl and entry[1] <= self.now())

    def __len__(self) -> int:
        return len(self._map)

    def _store(self, k: Any, value: Any) -> None:
        m = self._map
        m[k] = [value, self.now() + self._ttl if self._ttl else 0.0]
        if self._size:
            while len(m) > self._size:
                old_k, entry = m.popitem(last=False)
                self._release(_original_key(old_k), entry[0])

    def _release(self, key: Any, value: Any) -> None:
        if self._free is not None:
            self._free(key, value)


def _cache_options(opts: dict) -> tuple[int, float]:
    size = opts.get("size", undefined)
    ttl = opts.get("ttl", undefined)
    n = 0
    if size is not undefined and size is not None:
        if type(size) not in (int, float) or size < 0:
            raise type_error("algo.Cache: options.size expects a non-negative number")
        n = int(size)
    t = 0.0
    if ttl is not undefined and ttl is not None:
        t = parse_duration(ttl, "options.ttl")
    return n, t


class ResourcePool(HostObject):
    """``new algo.ResourcePool(allocator(tag))``: ``allocate(tag)`` reuses a resource freed
    under the same tag (most recently freed first, for warm connections) or calls the
    allocator; ``free(resource)`` files it back under the tag it was allocated for."""

    __slots__ = ("_allocator", "_pools", "_tags")
    js_get = frozenset({"allocate", "free"})
    js_new = True
    js_class_name = "ResourcePool"

    def __init__(self, allocator: Any = undefined) -> None:
        if not is_callback(allocator):
            raise type_error("algo.ResourcePool: expected an allocator function")
        self._allocator = allocator
        self._pools: dict[Any, list] = {}
        # resource -> tags it is out under; a list because equal primitives (two allocations of
        # the same string) are indistinguishable and each must come back once
        self._tags: dict[Any, list] = {}

    def allocate(self, tag: Any = undefined) -> Any:
        t = cache_key(tag)
        pool = self._pools.get(t)
        resource = pool.pop() if pool else self._allocator(tag)
        self._tags.setdefault(cache_key(resource), []).append(t)
        return resource

    def free(self, resource: Any = undefined) -> None:
        r = cache_key(resource)
        tags = self._tags.get(r)
        if not tags:
            return  # not ours (or already freed): Pipy ignores it too
        t = tags.pop()
        if not tags:
            del self._tags[r]
        self._pools.setdefault(t, []).append(resource)

