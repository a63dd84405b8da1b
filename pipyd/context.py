"""Pipeline contexts (reference §0.4, §1.4).

A ``Context`` holds one dict of context variables per loaded module (``data[i]`` is module i's,
read by ``pipyd.js.scope.ModuleScope``) and the root connection's ``Inbound`` (None for task and
read pipelines). Sub-pipelines either share their parent's context or get a ``clone()``: a
shallow copy of every module's variables taken when the sub-pipeline is created, so object
values stay shared (Pipy's idiom for global state).

A root context and all its clones form a ``ContextGroup``. Filters that wait on a condition
(``wait()``, muxHTTP's version callback) register a waiter on the group; ``touch()`` re-checks
them whenever an event is processed anywhere in the group. The group is created on demand, so
a connection that never clones nor waits pays nothing.
"""
from __future__ import annotations

import itertools
from typing import Any, Callable

_ids = itertools.count(1)
_new = object.__new__
_copy = dict.copy


class ContextGroup:
    """A root context and its clones; holds the waiters to re-check on activity."""

    __slots__ = ("waiters", "_touching")

    def __init__(self) -> None:
        self.waiters: list[Callable[[], Any]] = []
        self._touching = False

    def add_waiter(self, fn: Callable[[], Any]) -> None:
        self.waiters.append(fn)

    def remove_waiter(self, fn: Callable[[], Any]) -> None:
        try:
            self.waiters.remove(fn)
        except ValueError:
            pass

    def touch(self) -> None:
        """Re-check every waiter once. Re-entrant calls (a waiter releasing events that touch
        the group again) are ignored: the outer pass is still running."""
        if self._touching or not self.waiters:
            return
        self._touching = True
        try:
            for fn in list(self.waiters):
                fn()
        finally:
            self._touching = False


def touch_group(context: "Context | None") -> None:
    """After input reached a pipeline from outside (a socket, a file, a timer): let the
    context group re-check its waiters (``wait()``), as Pipy does for any processed event.
    Costs two attribute loads when nobody waits."""
    group = getattr(context, "group", None)
    if group is not None and group.waiters:
        group.touch()


class Context:
    """Per-pipeline script state. ``id`` grows monotonically (``dump()`` prints it)."""

    __slots__ = ("data", "inbound", "id", "group", "__weakref__")

    def __init__(self, data: list[dict], inbound: Any = None,
                 group: ContextGroup | None = None) -> None:
        self.data = data
        self.inbound = inbound
        self.id = next(_ids)
        self.group = group

    def clone(self) -> "Context":
        """A new context in the same group with a shallow copy of each module's variables
        (demuxHTTP clones one per request: built without __init__'s call)."""
        group = self.group
        if group is None:
            group = self.group = ContextGroup()
        c = _new(Context)
        c.data = list(map(_copy, self.data))
        c.inbound = self.inbound
        c.id = next(_ids)
        c.group = group
        return c

    def get_group(self) -> ContextGroup:
        if self.group is None:
            self.group = ContextGroup()
        return self.group

    def __repr__(self) -> str:
        return f"<Context {self.id}>"
