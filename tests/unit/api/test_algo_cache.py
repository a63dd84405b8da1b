"""algo.Cache (allocation, LRU order, TTL, onFree bookkeeping) and algo.ResourcePool."""
from __future__ import annotations

import pytest

from pipyd.api.algo import Cache, ResourcePool
from pipyd.js.values import JSFunction, JSObject, JSThrow, undefined


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def make(size=0, ttl=0):
    """A cache whose callbacks log, with an injected clock; built the way scripts build it."""
    log: list = []
    c = Cache.js_construct(lambda k: log.append(("alloc", k)) or f"v-{k}",
                           lambda k, v: log.append(("free", k, v)),
                           JSObject(size=size, ttl=ttl))
    clock = Clock()
    c.now = clock
    return c, log, clock


def test_get_allocates_once():
    c, log, _ = make()
    assert c.get("a") == "v-a" and c.get("a") == "v-a"
    assert log == [("alloc", "a")]


def test_get_without_allocator_is_undefined():
    c = Cache()
    assert c.get("x") is undefined
    c.set("x", 1)
    assert c.get("x") == 1


def test_lru_eviction_order_with_onfree():
    c, log, _ = make(size=3)
    for k in "abc":
        c.get(k)
    c.get("a")  # touch: b is now least recently used
    log.clear()
    c.get("d")
    assert log == [("alloc", "d"), ("free", "b", "v-b")]
    c.set("e", 5)
    assert log[-1] == ("free", "c", "v-c")
    assert len(c) == 3 and [c.has(k) for k in "abcde"] == [True, False, False, True, True]


def test_ttl_expiry_reallocates():
    c, log, clock = make(ttl=10)
    c.get("a")
    clock.t += 9.9
    assert c.get("a") == "v-a" and len(log) == 1  # reading does not extend the ttl
    clock.t += 0.1
    assert c.has("a") is False
    c.get("a")
    assert log == [("alloc", "a"), ("free", "a", "v-a"), ("alloc", "a")]


def test_ttl_duration_string():
    c, _, clock = make(ttl="1m")
    c.set("k", 1)
    clock.t += 59
    assert c.get("k") == 1
    clock.t += 1
    assert c.has("k") is False


def test_set_replaces_and_frees_old_value():
    c, log, _ = make()
    c.set("k", 1)
    c.set("k", 1)  # same value: nothing to free
    c.set("k", 2)
    assert log == [("free", "k", 1)] and c.get("k") == 2


def test_remove_and_clear():
    c, log, _ = make()
    c.set("a", 1)
    c.set("b", 2)
    assert c.remove("a") is True and c.remove("a") is False
    c.clear()
    assert log == [("free", "a", 1), ("free", "b", 2)] and len(c) == 0


def test_keys_true_and_one_differ():
    c = Cache()
    c.set(True, "t")
    c.set(1, "one")
    assert c.get(True) == "t" and c.get(1) == "one"
    log = []
    c2 = Cache(None, lambda k, v: log.append(k))
    c2.set(False, 0)
    c2.clear()
    assert log == [False]


def test_object_keys_by_identity():
    c = Cache(lambda k: JSObject(of=k))
    a, b = JSObject(), JSObject()
    assert c.get(a) is c.get(a) and c.get(a) is not c.get(b)


def test_js_function_callbacks():
    seen = []
    f = JSFunction(lambda this, k: k * 2, "alloc", 1)
    g = JSFunction(lambda this, k, v: seen.append((k, v)), "free", 2)
    c = Cache.js_construct(f, g)
    assert c.get(21) == 42
    c.clear()
    assert seen == [(21, 42)]


def test_allocator_returning_undefined_is_not_stored():
    n = []
    c = Cache(lambda k: n.append(k) or undefined)
    c.get("a"), c.get("a")
    assert n == ["a", "a"] and len(c) == 0


@pytest.mark.parametrize("args", [("x",), (JSObject(size=-1),), (JSObject(ttl="soon"),)])
def test_bad_constructor_arguments(args):
    with pytest.raises(JSThrow):
        Cache.js_construct(*args)


# -- ResourcePool --------------------------------------------------------------------------------

def test_pool_reuses_per_tag():
    made = []

    def alloc(tag):
        made.append(tag)
        return JSObject(tag=tag, n=len(made))
    p = ResourcePool(alloc)
    a1 = p.allocate("a")
    a2 = p.allocate("a")
    b1 = p.allocate("b")
    assert made == ["a", "a", "b"]
    p.free(a1)
    assert p.allocate("b") is not a1  # other tag: new
    assert p.allocate("a") is a1  # same tag: reused
    p.free(a2), p.free(b1)
    assert p.allocate("a") is a2 and p.allocate("b") is b1
    p.free(JSObject())  # not ours: ignored


def test_pool_string_resources_and_double_free():
    p = ResourcePool(lambda tag: "conn")
    r1, r2 = p.allocate("x"), p.allocate("y")
    p.free(r1), p.free(r2), p.free(r2)  # the third free has nothing out: ignored
    assert sorted(len(v) for v in p._pools.values()) == [1, 1]


def test_pool_needs_allocator():
    with pytest.raises(JSThrow):
        ResourcePool()
