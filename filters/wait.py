"""``wait(condition[, {timeout}])``: hold the stream until ``condition()`` is truthy
(reference §2.2 row 71, §1.4 ContextGroup).

While the condition is false the events are buffered. It is evaluated on each input event
and, through a waiter on the context group, whenever the group is touched (an event processed
anywhere in the root context and its clones: the roots touch the group after each input
batch). Once true, the buffer is flushed and everything passes from then on. With
``timeout`` (seconds or a duration string), the buffer is flushed when it expires as if the
condition held. Events after a StreamEnd are ignored, as in Pipy.
"""
from __future__ import annotations

import asyncio
from typing import Any

from pipyd.events import StreamEnd
from pipyd.js.coerce import to_boolean
from pipyd.js.values import JSObject, type_error, undefined
from pipyd.pipeline import FAILED, Filter
from pipyd.registry import register
from pipyd.units import parse_duration


@register("wait")
class Wait(Filter):
    __slots__ = ("condition", "timeout", "fulfilled", "ended", "buffer", "group", "timer",
                 "waiter")
    CONFIG = ("condition", "timeout")

    @classmethod
    def configure(cls, config: Any, condition: Any = undefined, options: Any = undefined,
                  *rest: Any) -> "Wait":
        if not callable(condition):
            raise type_error("wait: argument #1 expects a function")
        timeout = 0.0
        if isinstance(options, JSObject):
            t = options.get("timeout", undefined)
            if t is not undefined and t is not None:
                timeout = parse_duration(t, "wait: timeout")
        elif options is not undefined and options is not None:
            raise type_error("wait: argument #2 expects an object")
        f = cls.__new__(cls)
        f.condition = condition
        f.timeout = timeout
        f.reset()
        return f

    def reset(self) -> None:
        self._cancel()
        self.fulfilled = False
        self.ended = False
        self.buffer: list = []
        self.waiter = None

    def _cancel(self) -> None:
        group = getattr(self, "group", None)
        if group is not None:
            group.remove_waiter(self.waiter)
        self.group = None
        timer = getattr(self, "timer", None)
        if timer is not None:
            timer.cancel()
        self.timer = None

    def process(self, evt: Any) -> None:
        if self.ended:
            return
        if type(evt) is StreamEnd:
            self.ended = True
        if self.fulfilled:
            self.next.process(evt)
            return
        v = self.callback(self.condition)
        if v is FAILED:
            return  # logged; the event is dropped (§2.3)
        self.buffer.append(evt)
        if to_boolean(v):
            self._release()
        elif self.group is None:
            self._start_waiting()

    def _start_waiting(self) -> None:
        self.waiter = self._recheck
        self.group = self.pipeline.context.get_group()
        self.group.add_waiter(self.waiter)
        if self.timeout > 0:
            self.timer = asyncio.get_running_loop().call_later(self.timeout, self._release)

    def _recheck(self) -> None:
        v = self.callback(self.condition)
        if v is not FAILED and to_boolean(v):
            self._release()

    def _release(self) -> None:
        self._cancel()
        self.fulfilled = True
        buf, self.buffer = self.buffer, []
        nxt = self.next
        for evt in buf:
            nxt.process(evt)
