"""throttleConcurrency, throttleDataRate, throttleMessageRate (reference §2.2 rows 67–69).

Each takes an ``algo.Quota`` (or a function returning one, called once per stream on its first
event). Events pass while the quota grants units; when it runs dry the filter stalls: the event
that could not pass (for data rate, the part of a Data beyond the grant) and everything after
it is held in order, the pipeline's input is paused (real back-pressure toward the socket, not
an unbounded buffer), and the filter asks the quota to call it back when units return
(``Quota.on_produce``). On the wake-up the held events are released as far as the quota allows;
when all are out, input is resumed. Pauses are balanced: a stream ended while stalled resumes
its input and withdraws its wake-up from ``reset()``.

  throttleMessageRate  1 unit per MessageStart
  throttleDataRate     1 unit per byte (a Data is split at the grant)
  throttleConcurrency  1 unit at the stream's first event, given back when the pipeline ends
"""
from __future__ import annotations

from collections import deque
from typing import Any

from pipyd import log
from pipyd.api.algo_quota import Quota
from pipyd.events import Data, MessageStart
from pipyd.js.values import type_error, undefined
from pipyd.pipeline import FAILED, Filter
from pipyd.registry import register


class ThrottleBase(Filter):
    """Stall/release machinery; subclasses say what an event costs in ``consume``."""

    __slots__ = ("quota_arg", "quota", "held", "stalled")
    CONFIG = ("quota_arg",)

    @classmethod
    def configure(cls, config: Any, quota: Any = undefined, *rest: Any) -> "ThrottleBase":
        if type(quota) is not Quota and not callable(quota):
            raise type_error(f"{cls.NAME}: argument #1 expects an algo.Quota "
                             "or a function that returns that")
        f = cls.__new__(cls)
        f.quota_arg = quota
        f.reset()
        return f

    def reset(self) -> None:
        if getattr(self, "stalled", False):
            self.quota.remove_on_produce(self._wake)
            self.pipeline.resume_input()
        self.stalled = False
        self.held: deque = deque()
        arg = self.quota_arg
        self.quota = arg if type(arg) is Quota else None

    def consume(self, evt: Any, quota: Quota) -> Any:
        """Pass ``evt`` on if the quota allows; return what could not pass (or None)."""
        raise NotImplementedError

    def process(self, evt: Any) -> None:
        if self.stalled:
            self.held.append(evt)
            return
        quota = self.quota
        if quota is None:
            quota = self.callback(self.quota_arg)
            if quota is FAILED:
                return
            if type(quota) is not Quota:
                log.error(f"[{self.NAME}] function did not return an object of type algo.Quota")
                return
            self.quota = quota
        rest = self.consume(evt, quota)
        if rest is not None:
            self.held.append(rest)
            self.stalled = True
            self.pipeline.pause_input()
            quota.on_produce(self._wake)

    def _wake(self) -> None:
        """Units are back: release held events in order while the quota grants them."""
        held = self.held
        quota = self.quota
        while held:
            evt = held.popleft()
            rest = self.consume(evt, quota)
            if not self.stalled:
                return  # the pipeline ended while that event went downstream
            if rest is not None:
                held.appendleft(rest)
                quota.on_produce(self._wake)
                return
        self.stalled = False
        self.pipeline.resume_input()


@register("throttleMessageRate")
class ThrottleMessageRate(ThrottleBase):
    __slots__ = ()

    def consume(self, evt: Any, quota: Quota) -> Any:
        if type(evt) is MessageStart and not quota.consume(1) > 0:
            return evt
        self.next.process(evt)
        return None


@register("throttleDataRate")
class ThrottleDataRate(ThrottleBase):
    __slots__ = ()

    def consume(self, evt: Any, quota: Quota) -> Any:
        if type(evt) is not Data or evt.size == 0:
            self.next.process(evt)
            return None
        size = evt.size
        n = int(quota.consume(size))
        if n >= size:
            self.next.process(evt)
            return None
        rest = Data(evt)  # a copy sharing the chunks: the sender's Data is left intact
        if n > 0:
            self.next.process(rest._shift_bytes(n))
        return rest


@register("throttleConcurrency")
class ThrottleConcurrency(ThrottleBase):
    __slots__ = ("active",)

    def reset(self) -> None:
        if getattr(self, "active", False):
            self.active = False
            self.quota.produce(1)  # the stream's unit goes back; a waiting stream wakes
        self.active = False
        ThrottleBase.reset(self)

    def consume(self, evt: Any, quota: Quota) -> Any:
        if not self.active:
            if not quota.consume(1) > 0:
                return evt
            self.active = True
        self.next.process(evt)
        return None
