"""The load balancers of ``algo`` (reference §3.4): round robin, hashing, least work.

Two layers, as in Pipy:
- ``select(tag?, unhealthy?)`` / ``deselect(target)``: the raw algorithm. A target is any JS
  value (usually a ``"host:port"`` string). Targets present in an unhealthy ``algo.Cache``
  (the constructor's or the call's) are skipped.
- ``next(borrower?, tag?, unhealthy?)``: connection-pool semantics on top. It hands out a
  *resource* ``{id}`` for the selected target, and the same borrower gets the same resource
  for as long as the borrower lives. When the borrower is gone the resource goes back to its
  target's idle list (``deselect`` is called) and a later borrower of that target reuses it —
  which is what lets ``muxHTTP(() => _resource)`` keep upstream connections across clients.

Borrower lifetime. Pipy holds borrowers weakly. Here a borrower that supports weak references
is watched with ``weakref`` and released as soon as it is collected. JS plain objects
(``JSObject``, a dict) and ``Inbound`` (``__slots__`` without ``__weakref__``) cannot be
weakly referenced, so they are keyed by ``id()`` and held strongly, and ``next`` checks two of
them per call (oldest first, round robin) for "only we still hold it" with
``sys.getrefcount``; such a session is released then. That catches every borrower that is
dropped without being part of a reference cycle; a non-weakrefable borrower caught in a cycle
stays held until the balancer goes. ``release(borrower)`` (Python only) releases at once.

Pipy's default borrower is the calling pipeline's ``__inbound``, which this module cannot see:
the worker sets ``LoadBalancer.default_borrower`` to a function returning the current
``__inbound``, and ``next()`` with an undefined borrower calls it. With no such function, or an
explicit ``null`` or primitive borrower, ``next()`` allocates a fresh resource each call; its
work (for LeastWork) is returned when the script drops the resource object.
"""
from __future__ import annotations

import sys
import weakref
from collections import OrderedDict
from typing import Any, Callable, ClassVar

from pipyd.api.algo_cache import Cache
from pipyd.api.algo_hash import hash_value
from pipyd.js.coerce import to_number
from pipyd.js.values import HostObject, JSArray, type_error, undefined

_PRIMITIVES = (str, int, float, bool)


class Resource(HostObject):
    """What ``next()`` returns: ``id`` is the target it stands for."""

    __slots__ = ("id", "target", "__weakref__")
    js_get = frozenset({"id"})
    js_class_name = "Resource"

    def __init__(self, target: Any) -> None:
        self.id = target
        self.target = target

    def __repr__(self) -> str:
        return f"<Resource {self.id!r}>"


class _Session:
    __slots__ = ("resource", "ref", "held")

    def __init__(self, resource: Resource) -> None:
        self.resource = resource
        self.ref: Any = None  # weakref.ref to the borrower, or None when held strongly
        self.held: Any = None  # the borrower itself when it cannot be weakly referenced


def _unhealthy_cache(v: Any) -> Cache | None:
    if v is undefined or v is None:
        return None
    if type(v) is not Cache:
        raise type_error("expected an algo.Cache of unhealthy targets")
    return v


class LoadBalancer(HostObject):
    """Sessions and resources shared by the three algorithms."""

    __slots__ = ("_unhealthy", "_sessions", "_held", "_idle", "_loose", "__weakref__")
    js_get = frozenset({"next", "select", "deselect"})
    # set once by the worker: () -> the calling pipeline's __inbound (see the module doc)
    default_borrower: ClassVar[Callable[[], Any] | None] = None

    def __init__(self, unhealthy: Any = undefined) -> None:
        self._unhealthy = _unhealthy_cache(unhealthy)
        self._sessions: dict[int, _Session] = {}
        self._held: OrderedDict[int, _Session] = OrderedDict()
        self._idle: dict[Any, list[Resource]] = {}
        self._loose: dict[int, weakref.ref] = {}  # borrower-less resources, by id

    # -- the algorithm (subclasses) -----------------------------------------------------------

    def select(self, tag: Any = undefined, unhealthy: Any = undefined) -> Any:
        raise NotImplementedError

    def deselect(self, target: Any = undefined) -> None:
        """Return a selection's work; only LeastWork keeps any."""

    def _healthy(self, target: Any, extra: Cache | None) -> bool:
        u = self._unhealthy
        if u is not None and u.has(target):
            return False
        return extra is None or not extra.has(target)

    # -- resources ----------------------------------------------------------------------------

    def next(self, borrower: Any = undefined, tag: Any = undefined,  # noqa: A003
             unhealthy: Any = undefined) -> Resource | None:
        if borrower is undefined and LoadBalancer.default_borrower is not None:
            borrower = LoadBalancer.default_borrower()
        if borrower is undefined or borrower is None or type(borrower) in _PRIMITIVES:
            return self._loose_resource(tag, unhealthy)
        key = id(borrower)
        s = self._sessions.get(key)
        if s is not None:
            return s.resource
        if self._held:
            self._sweep()
        target = self.select(tag, unhealthy)
        if target is undefined:
            return None
        s = _Session(self._take(target))
        try:
            s.ref = weakref.ref(borrower, self._gone_callback(key))
        except TypeError:
            s.held = borrower
            self._held[key] = s
        self._sessions[key] = s
        return s.resource

    def release(self, borrower: Any) -> None:
        """Give back what ``borrower`` holds now (Python side; e.g. when a connection ends)."""
        key = id(borrower)
        s = self._sessions.get(key)
        if s is not None and (s.held is borrower or (s.ref is not None and s.ref() is borrower)):
            self._close(key)

    def _take(self, target: Any) -> Resource:
        idle = self._idle.get(target)
        return idle.pop() if idle else Resource(target)

    def _close(self, key: int) -> None:
        s = self._sessions.pop(key)
        self._held.pop(key, None)
        r = s.resource
        self._idle.setdefault(r.target, []).append(r)
        self.deselect(r.target)

    def _gone_callback(self, key: int) -> Any:
        me = weakref.ref(self)

        def gone(_ref: weakref.ref) -> None:
            lb = me()
            if lb is not None:
                s = lb._sessions.get(key)
                if s is not None and s.ref is _ref:
                    lb._close(key)
        return gone

    def _sweep(self) -> None:
        """Check the two oldest strongly held borrowers; release those only we still hold
        (refcount 2 = our ``_Session.held`` slot + getrefcount's own argument)."""
        held = self._held
        for _ in range(2 if len(held) > 1 else 1):
            key, s = held.popitem(last=False)
            if sys.getrefcount(s.held) <= 2:
                held[key] = s  # _close expects it there
                self._close(key)
            else:
                held[key] = s

    def _loose_resource(self, tag: Any, unhealthy: Any) -> Resource | None:
        target = self.select(tag, unhealthy)
        if target is undefined:
            return None
        r = Resource(target)
        me = weakref.ref(self)
        key = id(r)

        def dropped(_ref: weakref.ref, target: Any = target) -> None:
            lb = me()
            if lb is not None and lb._loose.pop(key, None) is not None:
                lb.deselect(target)
        self._loose[key] = weakref.ref(r, dropped)
        return r


def _targets_with_weights(targets: Any, what: str) -> list[tuple[Any, float]]:
    """``[a, b]`` (weight 1 each) or ``{a: 2, b: 1}``."""
    if isinstance(targets, list):
        return [(t, 1) for t in targets]
    if isinstance(targets, dict):
        return [(t, _weight(w)) for t, w in targets.items()]
    if targets is undefined or targets is None:
        return []
    raise type_error(f"{what}: expected an array of targets or an object of {{target: weight}}")


def _weight(w: Any) -> float:
    n = w if type(w) in (int, float) else to_number(w)
    return n if n == n and n > 0 else 0  # NaN and negatives disable the target


class RoundRobinLoadBalancer(LoadBalancer):
    """Smooth weighted round robin (nginx): each pick adds every healthy target's weight to
    its running score, takes the highest score, and takes the total back from the winner.
    Weights 5:1:1 give a a b a c a a — spread out, not bursts."""

    __slots__ = ("_weights", "_scores")
    js_get = LoadBalancer.js_get | {"set"}
    js_new = True
    js_class_name = "RoundRobinLoadBalancer"

    def __init__(self, targets: Any = undefined, unhealthy: Any = undefined) -> None:
        super().__init__(unhealthy)
        self._weights: dict[Any, float] = {}
        self._scores: dict[Any, float] = {}
        for t, w in _targets_with_weights(targets, "RoundRobinLoadBalancer"):
            self._weights[t] = w
            self._scores[t] = 0

    def set(self, target: Any = undefined, weight: Any = 1) -> None:  # noqa: A003
        self._weights[target] = _weight(weight)
        self._scores[target] = 0

    def select(self, tag: Any = undefined, unhealthy: Any = undefined) -> Any:
        extra = _unhealthy_cache(unhealthy)
        check = self._unhealthy is not None or extra is not None
        scores = self._scores
        best, best_score, total = undefined, 0.0, 0.0
        for t, w in self._weights.items():
            if not w or (check and not self._healthy(t, extra)):
                continue
            s = scores[t] + w
            scores[t] = s
            total += w
            if best is undefined or s > best_score:
                best, best_score = t, s
        if best is not undefined:
            scores[best] = best_score - total
        return best


class HashingLoadBalancer(LoadBalancer):
    """``targets[hash(tag) % n]``, probing onwards past unhealthy targets. ``hash`` is
    ``algo.hash``: stable across workers and restarts for strings and numbers."""

    __slots__ = ("_targets",)
    js_get = LoadBalancer.js_get | {"add"}
    js_new = True
    js_class_name = "HashingLoadBalancer"

    def __init__(self, targets: Any = undefined, unhealthy: Any = undefined) -> None:
        super().__init__(unhealthy)
        if targets is undefined or targets is None:
            targets = JSArray()
        if not isinstance(targets, list):
            raise type_error("HashingLoadBalancer: expected an array of targets")
        self._targets = list(dict.fromkeys(targets))

    def add(self, target: Any = undefined) -> None:
        if target not in self._targets:
            self._targets.append(target)

    def select(self, tag: Any = undefined, unhealthy: Any = undefined) -> Any:
        targets = self._targets
        n = len(targets)
        if not n:
            return undefined
        i = hash_value(tag) % n
        extra = _unhealthy_cache(unhealthy)
        if self._unhealthy is None and extra is None:
            return targets[i]
        for k in range(n):
            t = targets[(i + k) % n]
            if self._healthy(t, extra):
                return t
        return undefined


class LeastWorkLoadBalancer(LoadBalancer):
    """The target with the least outstanding work per unit of weight; a selection is one
    unit of work until ``deselect`` (or the borrower of ``next`` going away) returns it.
    Ties go to the earliest target in order."""

    __slots__ = ("_weights", "_work")
    js_get = LoadBalancer.js_get | {"set"}
    js_new = True
    js_class_name = "LeastWorkLoadBalancer"

    def __init__(self, targets: Any = undefined, unhealthy: Any = undefined) -> None:
        super().__init__(unhealthy)
        self._weights: dict[Any, float] = {}
        self._work: dict[Any, int] = {}
        for t, w in _targets_with_weights(targets, "LeastWorkLoadBalancer"):
            self._weights[t] = w
            self._work[t] = 0

    def set(self, target: Any = undefined, weight: Any = 1) -> None:  # noqa: A003
        self._weights[target] = _weight(weight)
        self._work.setdefault(target, 0)

    def select(self, tag: Any = undefined, unhealthy: Any = undefined) -> Any:
        extra = _unhealthy_cache(unhealthy)
        check = self._unhealthy is not None or extra is not None
        work = self._work
        best, best_load = undefined, 0.0
        for t, w in self._weights.items():
            if not w or (check and not self._healthy(t, extra)):
                continue
            load = work[t] / w
            if best is undefined or load < best_load:
                best, best_load = t, load
        if best is not undefined:
            work[best] += 1
        return best

    def deselect(self, target: Any = undefined) -> None:
        n = self._work.get(target)
        if n:
            self._work[target] = n - 1
