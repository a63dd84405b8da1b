"""``link`` and ``branch``: send the stream to one of several sub-pipelines chosen by conditions
(reference §2.2 rows 5 and 48). The sub-pipeline shares the context (§0.4) and its output is
this filter's output.

* ``link(name1, [cond1,] name2, [cond2,] …)``: named layouts of this module; a name without a
  following function is unconditional; ``''`` passes the stream through with no sub-pipeline.
* ``branch(cond1, layout1, cond2, layout2, …, [fallback])``: a layout is a name or a builder
  function ``$ => $.filter()…`` (an anonymous layout, built as ``.to()`` builds one).

The choice is made on the first event and fixed for the stream's life. Until a condition holds
the events are buffered, and the conditions are evaluated again on each new input event.
A condition that throws counts as false (the error is logged, §2.3).
"""
from __future__ import annotations

from typing import Any

from pipyd.events import MessageEnd, MessageStart
from pipyd.js.coerce import to_boolean
from pipyd.js.values import HostObject, js_error, type_error
from pipyd.pipeline import FAILED, JointFilter, deliver_message, expand_message
from pipyd.registry import register

PASS = -1  # route index: no sub-pipeline, events go straight out


class _Choose(JointFilter):
    """Routes: ``(condition, index into sub_layouts or PASS)``, tried in order; a condition
    is a function, a constant, or ``True`` for an unconditional route."""

    __slots__ = ("routes", "sub", "passing", "buffer")
    CONFIG = ("routes",)
    REQUIRES_TO = False

    def add_sub_layout(self, layout: Any) -> None:
        raise js_error("Error", "calling to() without a joint-filter")

    def _route(self, layout: Any) -> int:
        if layout == "":
            return PASS
        self.sub_layouts.append(layout)
        return len(self.sub_layouts) - 1

    def init_state(self) -> None:
        self.sub: Any = None
        self.passing = False
        self.buffer: list | None = None

    def reset(self) -> None:
        sub = self.sub
        self.sub = None
        if sub is not None:
            sub.end()
        self.passing = False
        self.buffer = None

    def shutdown(self) -> None:
        if self.sub is not None:
            self.sub.shutdown()

    def process(self, evt: Any) -> None:
        sub = self.sub
        if sub is not None:
            sub.head.process(evt)  # Pipeline.input inlined
            return
        if self.passing:
            self.next.process(evt)
            return
        buf = self.buffer
        chosen = self._choose()
        if chosen is None:  # no condition holds yet: keep the events
            if buf is None:
                self.buffer = [evt]
            else:
                buf.append(evt)
            return
        self.buffer = None
        target = self._start(chosen)
        if buf is not None:
            for e in buf:
                target.process(e)
        target.process(evt)

    def process_message(self, head: Any, body: Any, tail: Any) -> None:
        """A whole message (``deliver_message``): ``process`` of its events in a row, the
        route chosen once, the message handed on whole once it has one."""
        sub = self.sub
        if sub is not None:
            return deliver_message(sub.head, head, body, tail)
        if self.passing:
            return deliver_message(self.next, head, body, tail)
        if self.buffer is not None:
            return expand_message(self.process, head, body, tail)
        chosen = self._choose()
        if chosen is None:  # held; the conditions are asked again on the body and the end
            self.buffer = [MessageStart(head)]
            if body is not None and body.size:
                self.process(body)
            self.process(MessageEnd(tail))
            return
        target = self._start(chosen)
        deliver_message(target.head if target is self.sub else target, head, body, tail)

    def _start(self, chosen: int) -> Any:
        """Where the chosen route's events go: the next filter, or a new sub-pipeline (whose
        ``process`` reads its head per event: a sub-pipeline may end while taking them)."""
        if chosen == PASS:
            self.passing = True
            return self.next
        # start_sub() inlined: the parent's context, flow and lineage; the sub-pipeline's
        # output is this filter's output, straight to next with no SubOutput in between
        # (on_sub_output is not overridden here)
        p = self.pipeline
        sub = self.sub = self.sub_layouts[chosen].instantiate(
            p.context, self.next, (), p.flow, p.lineage)
        return sub

    def _choose(self) -> int | None:
        for cond, index in self.routes:
            if cond is True:
                return index
            if callable(cond) and not isinstance(cond, (HostObject, type)):
                v = self.callback(cond)  # Filter.eval_arg inlined
                if v is not FAILED and (v is True or (v is not False and to_boolean(v))):
                    return index
            elif to_boolean(cond):
                return index
        return None


@register("link")
class Link(_Choose):
    __slots__ = ()

    @classmethod
    def configure(cls, config: Any, *args: Any) -> "Link":
        f = cls.__new__(cls)
        f.sub_layouts = []
        routes = []
        i, n = 0, len(args)
        if n == 0:
            raise type_error("link: expected at least one pipeline name")
        while i < n:
            name = args[i]
            if type(name) is not str:
                raise type_error(f"link: argument #{i + 1} expects a pipeline name")
            has_cond = i + 1 < n and callable(args[i + 1])
            routes.append((args[i + 1] if has_cond else True, f._route(name)))
            i += 2 if has_cond else 1
        f.routes = tuple(routes)
        f.init_state()
        return f


@register("branch")
class Branch(_Choose):
    __slots__ = ()

    @classmethod
    def configure(cls, config: Any, *args: Any) -> "Branch":
        if not args:
            raise type_error("branch: expected conditions and pipelines")
        f = cls.__new__(cls)
        f.sub_layouts = []
        routes = []
        for i in range(0, len(args), 2):
            if i + 1 < len(args):
                cond, target, pos = args[i], args[i + 1], i + 2
            else:  # a trailing layout without a condition: the fallback
                cond, target, pos = True, args[i], i + 1
            routes.append((cond, f._route(_layout(config, target, pos))))
        f.routes = tuple(routes)
        f.init_state()
        return f


def _layout(config: Any, target: Any, pos: int) -> Any:
    if type(target) is str:
        return target
    if callable(target):
        return config.build_layout(target)
    raise type_error(f"branch: argument #{pos} expects a pipeline name or a builder function")

