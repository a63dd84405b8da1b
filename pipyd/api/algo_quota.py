"""``algo.Quota`` (reference §3.4, used by the throttle filters of §2.2).

A token bucket. ``new algo.Quota(initial, {per, produce})``: the bucket starts with
``initial`` units (a number, or a size string such as ``'1m'``, handy for byte rates). With
``per`` (a Pipy duration) it is refilled at each period boundary: back to ``initial`` when
``produce`` is absent, otherwise by ``produce`` units per elapsed period, never above
``initial``. Without ``per`` nothing refills by itself: ``throttleConcurrency`` takes a unit
per stream and gives it back with ``produce(1)``.

Refills are computed lazily from the clock whenever the quota is read, so the arithmetic needs
no timer. A throttle filter that finds the bucket empty stalls its stream and asks to be told
when units are back: ``on_produce(callback)`` (Python only, one-shot) fires after ``produce``,
``reset`` or — through one asyncio timer armed only while someone waits — the next refill.
A woken waiter that still finds too little simply registers again.
"""
from __future__ import annotations

import asyncio
import time
from typing import Any, Callable

from pipyd.js.coerce import to_number
from pipyd.js.values import HostObject, type_error, undefined
from pipyd.units import parse_duration, parse_size


def js_number(x: float) -> int | float:
    """JS numbers are ints while integral (values.py); keep quota arithmetic that way."""
    if type(x) is float and x.is_integer() and abs(x) <= 2**53:
        return int(x)
    return x


def _amount(v: Any, what: str) -> int | float:
    n = parse_size(v, what) if type(v) is str else to_number(v)
    if n != n or n < 0:
        raise type_error(f"algo.Quota: {what} must be a non-negative number")
    return n


class Quota(HostObject):
    __slots__ = ("_initial", "_current", "_per", "_produce", "_last", "_waiters", "_timer",
                 "now")
    js_get = frozenset({"initial", "current", "reset", "produce", "consume"})
    js_new = True
    js_class_name = "Quota"

    def __init__(self, initial: Any = 0, options: Any = undefined) -> None:
        self._initial = _amount(initial, "initial")
        self._current = self._initial
        self._per = 0.0
        self._produce: int | float | None = None
        if isinstance(options, dict):
            per = options.get("per", undefined)
            if per is not undefined and per is not None:
                self._per = parse_duration(per, "options.per")
            produce = options.get("produce", undefined)
            if produce is not undefined and produce is not None:
                self._produce = _amount(produce, "options.produce")
        elif options is not undefined and options is not None:
            raise type_error("algo.Quota: options must be an object")
        self.now: Callable[[], float] = time.monotonic  # tests inject a clock here
        self._last = self.now()  # start of the current refill period
        self._waiters: list[Callable[[], Any]] = []
        self._timer: asyncio.TimerHandle | None = None

    # -- JS members ---------------------------------------------------------------------------

    @property
    def initial(self) -> int | float:
        return js_number(self._initial)

    @property
    def current(self) -> int | float:
        if self._per:
            self._refill()
        return js_number(self._current)

    def reset(self) -> None:
        self._current = self._initial
        self._last = self.now()
        self._notify()

    def produce(self, n: Any = 1) -> None:
        """Give ``n`` units back; not capped, since a caller returns what it took."""
        n = to_number(n)
        if n > 0:
            self._current += n
            self._notify()

    def consume(self, n: Any = 1) -> int | float:
        """Take up to ``n`` units; returns how many were granted (0 when empty)."""
        n = n if type(n) is int else to_number(n)
        if self._per:
            self._refill()
        cur = self._current
        if not n > 0 or cur <= 0:
            return 0
        granted = n if n <= cur else cur
        self._current = cur - granted
        return js_number(granted)

    # -- Python side: waiting for quota -------------------------------------------------------

    def on_produce(self, callback: Callable[[], Any]) -> None:
        """Call ``callback()`` once, the next time units become available."""
        self._waiters.append(callback)
        self._arm()

    def remove_on_produce(self, callback: Callable[[], Any]) -> None:
        try:
            self._waiters.remove(callback)
        except ValueError:
            pass
        if not self._waiters and self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def poll(self) -> None:
        """Apply any due refill and wake the waiters if there is quota (the timer's job;
        tests with an injected clock call it directly)."""
        if self._per:
            self._refill()
        self._notify()
        self._arm()

    def _refill(self) -> None:
        periods = int((self.now() - self._last) // self._per)
        if periods <= 0:
            return
        self._last += periods * self._per
        if self._current < self._initial:
            p = self._produce
            self._current = self._initial if p is None else min(
                self._initial, self._current + periods * p)

    def _notify(self) -> None:
        if not self._waiters or self._current <= 0:
            return
        waiters, self._waiters = self._waiters, []
        for cb in waiters:  # FIFO; each re-registers itself if it still lacks quota
            cb()

    def _arm(self) -> None:
        if self._timer is not None or not self._per or not self._waiters:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (unit tests): poll() is called by hand
        delay = max(0.0, self._last + self._per - self.now())
        self._timer = loop.call_later(delay, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self.poll()
