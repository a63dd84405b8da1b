"""``algo.Percentile`` (reference §3.4; undocumented in Pipy): a histogram over fixed bucket
upper bounds that answers "which bound is the p-th percentile under".

As Pipy: ``observe(x)`` counts ``x`` in the first bucket whose bound is >= x and ignores
samples above the last bound; ``calculate(p)`` is 0 for p <= 0, otherwise the first bound whose
cumulative count reaches floor(samples * p / 100) (so with no samples, the first bound), or
Infinity past the last bucket. Bounds must ascend.
"""
from __future__ import annotations

import math
from bisect import bisect_left
from typing import Any

from pipyd.api.algo_quota import js_number
from pipyd.js.coerce import to_number
from pipyd.js.values import HostObject, js_error, type_error, undefined


class Percentile(HostObject):
    __slots__ = ("_bounds", "_counts", "_samples")
    js_get = frozenset({"reset", "observe", "calculate"})
    js_new = True
    js_class_name = "Percentile"

    def __init__(self, buckets: Any = undefined) -> None:
        if not isinstance(buckets, list):
            raise type_error("algo.Percentile: expected an array of bucket bounds")
        bounds = [to_number(b) for b in buckets]
        for i in range(1, len(bounds)):
            if not bounds[i] > bounds[i - 1]:
                raise js_error("Error", f"buckets are not in ascending order: changed from "
                                        f"{bounds[i - 1]} to {bounds[i]} at #{i}")
        self._bounds = bounds
        self._counts = [0] * len(bounds)
        self._samples = 0

    def reset(self) -> None:
        self._counts = [0] * len(self._bounds)
        self._samples = 0

    def observe(self, sample: Any = undefined) -> None:
        x = sample if type(sample) in (int, float) else to_number(sample)
        if x != x:
            return  # NaN is under no bound
        i = bisect_left(self._bounds, x)
        if i < len(self._counts):
            self._counts[i] += 1
            self._samples += 1

    def calculate(self, percentage: Any = undefined) -> int | float:
        p = to_number(percentage)
        if not p > 0:
            return 0
        wanted = math.floor(self._samples * p / 100) if p != math.inf else math.inf
        total = 0
        for bound, n in zip(self._bounds, self._counts):
            total += n
            if total >= wanted:
                return js_number(bound)
        return math.inf
