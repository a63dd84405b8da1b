"""algo.Quota (token bucket refill math, waiters), algo.Percentile, and the namespace."""
from __future__ import annotations

import asyncio
import math
import re

import pytest

from pipyd.api.algo import ALGO, Percentile, Quota
from pipyd.js import runtime as rt  # noqa: F401  (loads runtime before runtime_ops)
from pipyd.js import runtime_ops as ro
from pipyd.js.values import HostObject, JSArray, JSObject, JSThrow, undefined


def quota(initial, clock, **opts):
    q = Quota(initial, JSObject(opts))
    q.now = lambda: clock[0]
    q._last = clock[0]
    return q


def test_consume_grants_what_is_left():
    q = Quota(10)
    assert (q.initial, q.current) == (10, 10)
    assert q.consume(4) == 4 and q.consume(10) == 6 and q.consume(1) == 0
    assert q.current == 0 and q.consume(0) == 0 and q.consume(-3) == 0


def test_no_per_means_no_refill():
    clock = [0.0]
    q = quota(2, clock)
    q.consume(2)
    clock[0] = 1e6
    assert q.current == 0
    q.produce(1)  # throttleConcurrency returns its unit
    assert q.current == 1


@pytest.mark.parametrize("opts, consumed, elapsed, expected", [
    ({"per": 1}, 10, 0.99, 0),            # not yet a period
    ({"per": 1}, 10, 1.0, 10),            # refill to initial
    ({"per": 1}, 3, 5.0, 10),             # never above initial
    ({"per": "1m"}, 10, 59, 0),           # durations as §1.3
    ({"per": "1m"}, 10, 60, 10),
    ({"per": 1, "produce": 3}, 10, 1.0, 3),
    ({"per": 1, "produce": 3}, 10, 2.5, 6),   # two whole periods
    ({"per": 1, "produce": 3}, 10, 7.0, 10),  # capped at initial
    ({"per": 0.5, "produce": 1}, 8, 1.2, 4),
])
def test_refill_math(opts, consumed, elapsed, expected):
    clock = [0.0]
    q = quota(10, clock, **opts)
    q.consume(consumed)
    clock[0] += elapsed
    assert q.current == expected


def test_period_boundaries_do_not_drift():
    clock = [0.0]
    q = quota(5, clock, per=1, produce=1)
    q.consume(5)
    clock[0] = 1.5
    assert q.current == 1  # period boundary at 1.0
    clock[0] = 2.0
    assert q.current == 2  # next boundary at 2.0, not 2.5


def test_reset_and_size_strings():
    q = Quota("1k", JSObject(per=1))
    assert q.initial == 1024
    q.consume(1000)
    q.reset()
    assert q.current == 1024


def test_bad_arguments():
    for args in [(-1,), ("x",), (1, "per"), (1, JSObject(per="later"))]:
        with pytest.raises(JSThrow):
            Quota(*args)


def test_on_produce_is_one_shot_and_fifo():
    q = Quota(1)
    q.consume(1)
    woken = []
    q.on_produce(lambda: woken.append("a"))
    cb = lambda: woken.append("b")  # noqa: E731
    q.on_produce(cb)
    q.on_produce(lambda: woken.append("c"))
    q.remove_on_produce(cb)
    q.remove_on_produce(cb)  # already gone: fine
    q.poll()
    assert woken == []  # still empty: nobody woken
    q.produce(1)
    assert woken == ["a", "c"]
    q.produce(1)
    assert woken == ["a", "c"]  # one-shot


def test_poll_wakes_after_refill():
    clock = [0.0]
    q = quota(2, clock, per=1)
    q.consume(2)
    woken = []
    q.on_produce(lambda: woken.append(q.consume(2)))
    q.poll()
    assert woken == []
    clock[0] = 1.0
    q.poll()
    assert woken == [2]


def test_timer_wakes_a_stalled_waiter():
    async def main():
        q = Quota(1, JSObject(per=0.05))
        q.consume(1)
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        q.on_produce(lambda: done.set_result(q.consume(1)))
        return await asyncio.wait_for(done, 2)
    assert asyncio.run(main()) == 1


def test_percentile():
    p = Percentile(JSArray([1, 5, 10, 50]))
    for x in [0.5, 1, 2, 3, 4, 6, 7, 8, 9, 45, 100, math.nan]:  # 100 and NaN are beyond
        p.observe(x)
    assert p.calculate(0) == 0
    assert p.calculate(20) == 1     # floor(10*.2)=2 samples <= 1
    assert p.calculate(50) == 5
    assert p.calculate(90) == 10
    assert p.calculate(100) == 50
    p.reset()
    assert p.calculate(99) == 1  # no samples: the first bound
    with pytest.raises(JSThrow):
        Percentile(JSArray([1, 1]))
    with pytest.raises(JSThrow):
        Percentile()


def test_namespace_through_the_runtime():
    assert set(ALGO) == {"URLRouter", "RoundRobinLoadBalancer", "HashingLoadBalancer",
                         "LeastWorkLoadBalancer", "Cache", "Quota", "ResourcePool", "Percentile",
                         "hash", "uuid"}
    for name, cls in ALGO.items():
        if isinstance(cls, type):
            assert issubclass(cls, HostObject) and cls.js_new and cls.js_class_name == name
    q = ro.construct(ALGO["Quota"], 3)
    assert ro.call_method(q, "consume", 2) == 2 and rt.getp(q, "current") == 1
    lb = ro.construct(ALGO["RoundRobinLoadBalancer"], JSArray(["a"]))
    r = ro.call_method(lb, "next", JSObject())
    assert rt.getp(r, "id") == "a" and rt.getp(r, "target") is undefined
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
                        ro.call_method(ALGO, "uuid"))
    assert type(ro.call_method(ALGO, "hash", "x")) is int
