"""algo load balancers: weight distributions, borrower stickiness and release, unhealthy
skipping, hashing stability, least-work accounting."""
from __future__ import annotations

import gc
from collections import Counter

import pytest

from pipyd.api.algo import (Cache, HashingLoadBalancer, LeastWorkLoadBalancer, LoadBalancer,
                            Resource, RoundRobinLoadBalancer, hash_value)
from pipyd.js.values import JSArray, JSObject, JSThrow, undefined


class Borrower:
    """Stands for a weakly referenceable borrower (a Context, say)."""


def picks(lb, n, *args):
    return [lb.select(*args) for _ in range(n)]


# -- round robin ---------------------------------------------------------------------------------

def test_round_robin_smooth_sequence():
    # nginx's smooth weighted round robin: 5:1:1 interleaves rather than bursting
    lb = RoundRobinLoadBalancer(JSObject(a=5, b=1, c=1))
    assert "".join(picks(lb, 7)) == "aabacaa"
    assert "".join(picks(lb, 7)) == "aabacaa"


@pytest.mark.parametrize("weights", [
    {"a": 1, "b": 1, "c": 1}, {"a": 50, "b": 25, "c": 25}, {"a": 3, "b": 1}, {"a": 1, "b": 0},
])
def test_round_robin_distribution(weights):
    lb = RoundRobinLoadBalancer(JSObject(weights))
    total = sum(weights.values())
    n = total * 40
    counts = Counter(picks(lb, n))
    assert counts == {t: w * 40 for t, w in weights.items() if w}


def test_round_robin_array_and_set():
    lb = RoundRobinLoadBalancer(JSArray(["x", "y"]))
    assert picks(lb, 4) == ["x", "y", "x", "y"]
    lb.set("z", 2)
    assert Counter(picks(lb, 40)) == {"x": 10, "y": 10, "z": 20}
    lb.set("x", 0)  # weight 0 disables
    assert "x" not in picks(lb, 10)


def test_round_robin_empty_and_all_unhealthy():
    assert RoundRobinLoadBalancer(JSArray()).select() is undefined
    bad = Cache()
    bad.set("a", True)
    lb = RoundRobinLoadBalancer(JSArray(["a"]), bad)
    assert lb.select() is undefined
    assert lb.next(Borrower()) is None


def test_unhealthy_skipped_with_ttl():
    clock = [0.0]
    bad = Cache(None, None, 0, 10)
    bad.now = lambda: clock[0]
    bad.set("b", True)
    lb = RoundRobinLoadBalancer(JSArray(["a", "b", "c"]), bad)
    assert set(picks(lb, 6)) == {"a", "c"}
    clock[0] = 10.0  # the mark expires: b is back
    assert set(picks(lb, 6)) == {"a", "b", "c"}


def test_per_call_unhealthy():
    bad = Cache()
    bad.set("a", 1)
    lb = RoundRobinLoadBalancer(JSArray(["a", "b"]))
    assert picks(lb, 3, undefined, bad) == ["b", "b", "b"]
    r = lb.next(Borrower(), undefined, bad)
    assert r.id == "b"


def test_unhealthy_must_be_a_cache():
    with pytest.raises(JSThrow):
        RoundRobinLoadBalancer(JSArray(["a"]), JSObject())


def test_bad_targets_throw():
    with pytest.raises(JSThrow):
        RoundRobinLoadBalancer("a")


# -- next(): resources and borrowers -------------------------------------------------------------

def test_same_borrower_same_resource():
    lb = RoundRobinLoadBalancer(JSArray(["a", "b"]))
    b1, b2 = Borrower(), Borrower()
    r1 = lb.next(b1)
    assert type(r1) is Resource and r1.id == "a"
    assert lb.next(b1) is r1 and lb.next(b1) is r1
    r2 = lb.next(b2)
    assert r2.id == "b" and lb.next(b2) is r2


def test_released_resource_is_reused_by_next_borrower():
    lb = RoundRobinLoadBalancer(JSArray(["a"]))
    b = Borrower()
    r = lb.next(b)
    del b
    gc.collect()
    assert lb.next(Borrower()) is r  # connection-pool semantics: same resource object


def test_concurrent_borrowers_get_distinct_resources():
    lb = RoundRobinLoadBalancer(JSArray(["a"]))
    bs = [Borrower() for _ in range(3)]
    rs = [lb.next(b) for b in bs]
    assert len({id(r) for r in rs}) == 3 and {r.id for r in rs} == {"a"}


def test_jsobject_borrower_released_when_collected():
    # JSObject is weakly referenceable: its resource goes back as soon as it is collected
    lb = LeastWorkLoadBalancer(JSArray(["a", "b"]))
    b = JSObject()
    r = lb.next(b)
    assert lb.next(b) is r and lb._work == {"a": 1, "b": 0}
    del b
    assert sum(lb._work.values()) == 0


def test_release_explicitly():
    lb = LeastWorkLoadBalancer(JSArray(["a"]))
    b = JSObject()
    lb.next(b)
    lb.release(b)
    assert lb._work == {"a": 0}
    lb.release(b)  # idempotent


def test_no_borrower_fresh_resource_each_call():
    lb = LeastWorkLoadBalancer(JSArray(["a", "b"]))
    r1, r2 = lb.next(), lb.next(undefined)
    assert r1 is not r2 and {r1.id, r2.id} == {"a", "b"}
    assert lb._work == {"a": 1, "b": 1}
    del r1, r2
    gc.collect()
    assert lb._work == {"a": 0, "b": 0}  # work returns when the script drops the resource


def test_weak_borrower_release_returns_work():
    lb = LeastWorkLoadBalancer(JSArray(["a", "b"]))
    b = Borrower()
    assert lb.next(b).id == "a"
    del b
    gc.collect()
    assert lb._work == {"a": 0, "b": 0}


# -- hashing -------------------------------------------------------------------------------------

def test_hashing_is_stable_and_spread():
    targets = ["t0", "t1", "t2", "t3"]
    lb = HashingLoadBalancer(JSArray(targets))
    for tag in ["alice", "bob", 42, "10.0.0.1"]:
        assert lb.select(tag) == targets[hash_value(tag) % 4] == lb.select(tag)
    counts = Counter(lb.select(f"client-{i}") for i in range(4000))
    assert all(800 < c < 1200 for c in counts.values())


def test_hashing_skips_unhealthy_to_next():
    bad = Cache()
    lb = HashingLoadBalancer(JSArray(["a", "b", "c"]), bad)
    tag = "k"
    first = lb.select(tag)
    bad.set(first, True)
    i = ["a", "b", "c"].index(first)
    assert lb.select(tag) == ["a", "b", "c"][(i + 1) % 3]
    bad.set("a", 1), bad.set("b", 1), bad.set("c", 1)
    assert lb.select(tag) is undefined


def test_hashing_add_and_next_with_tag():
    lb = HashingLoadBalancer()
    assert lb.select("x") is undefined
    lb.add("a")
    lb.add("a")
    assert lb._targets == ["a"]
    assert lb.next(Borrower(), "x").id == "a"


def test_hash_value_properties():
    assert hash_value("abc") == hash_value("abc") != hash_value("abd")
    assert hash_value(1) == hash_value(1.0) != hash_value("1")
    assert hash_value(undefined) == hash_value(None) == 0
    o = JSObject()
    assert hash_value(o) == hash_value(o)
    assert all(0 <= hash_value(f"s{i}") < 2**53 for i in range(100))
    assert hash_value("abc") == 6145393156209624  # pinned: must not vary across processes


# -- least work ----------------------------------------------------------------------------------

def test_least_work_select_and_deselect():
    lb = LeastWorkLoadBalancer(JSArray(["a", "b", "c"]))
    assert picks(lb, 3) == ["a", "b", "c"]
    lb.deselect("b")
    assert lb.select() == "b"
    lb.deselect("zzz")  # unknown target: ignored
    lb.deselect("a"), lb.deselect("a"), lb.deselect("a")  # never below zero
    assert lb._work["a"] == 0


def test_least_work_weights():
    lb = LeastWorkLoadBalancer(JSObject(a=3, b=1))
    assert Counter(picks(lb, 40)) == {"a": 30, "b": 10}
    lb.set("c", 4)  # new target starts idle: gets work until it catches up
    assert picks(lb, 3) == ["c", "c", "c"]


def test_least_work_unhealthy():
    bad = Cache()
    bad.set("a", 1)
    lb = LeastWorkLoadBalancer(JSArray(["a", "b"]), bad)
    assert picks(lb, 3) == ["b", "b", "b"]


def test_default_borrower_hook(monkeypatch):
    inbound = Borrower()
    monkeypatch.setattr(LoadBalancer, "default_borrower", lambda: inbound)
    lb = RoundRobinLoadBalancer(JSArray(["a", "b"]))
    r = lb.next()
    assert lb.next() is r and lb.next(inbound) is r  # undefined -> the current __inbound
    assert lb.next(None) is not r  # explicit null: no borrower
