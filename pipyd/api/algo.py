"""The ``algo`` namespace of scripts (reference §3.4), assembled from one module per idea:

- ``algo_router``      URLRouter
- ``algo_balancers``   RoundRobinLoadBalancer, HashingLoadBalancer, LeastWorkLoadBalancer
- ``algo_cache``       Cache, ResourcePool
- ``algo_quota``       Quota (token bucket for the throttle filters)
- ``algo_percentile``  Percentile
- ``algo_hash``        hash, uuid

``ALGO`` is the object scripts see as ``algo``. Its classes are HostObjects constructed with
``new``; ``LoadBalancer.next`` takes its borrower explicitly (see algo_balancers for why the
worker supplies ``__inbound`` as the default).
"""
from __future__ import annotations

from pipyd.api.algo_balancers import (HashingLoadBalancer, LeastWorkLoadBalancer, LoadBalancer,
                                      Resource, RoundRobinLoadBalancer)
from pipyd.api.algo_cache import Cache, ResourcePool
from pipyd.api.algo_hash import hash_value, uuid
from pipyd.api.algo_percentile import Percentile
from pipyd.api.algo_quota import Quota
from pipyd.api.algo_router import URLRouter
from pipyd.js.values import JSObject

__all__ = ["ALGO", "Cache", "HashingLoadBalancer", "LeastWorkLoadBalancer", "LoadBalancer",
           "Percentile", "Quota", "Resource", "ResourcePool", "RoundRobinLoadBalancer",
           "URLRouter", "hash_value", "uuid"]

ALGO = JSObject({
    "URLRouter": URLRouter,
    "RoundRobinLoadBalancer": RoundRobinLoadBalancer,
    "HashingLoadBalancer": HashingLoadBalancer,
    "LeastWorkLoadBalancer": LeastWorkLoadBalancer,
    "Cache": Cache,
    "Quota": Quota,
    "ResourcePool": ResourcePool,
    "Percentile": Percentile,
    "hash": hash_value,
    "uuid": uuid,
})
