"""``algo.hash(value)`` and ``algo.uuid()`` (reference §3.4).

``hash`` must agree between the worker processes sharing a port and across restarts, or a
HashingLoadBalancer would send the same client to different targets depending on which worker
took the connection — so not Python's ``hash()``, which is salted per process for strings.
Strings, numbers and booleans hash their bytes with BLAKE2b (C speed, well mixed for ``% n``);
objects hash by identity, as Pipy hashes the object's address. The result is kept below 2**53
so it is an exact JS number.
"""
from __future__ import annotations

import uuid as _uuid
from hashlib import blake2b
from typing import Any

from pipyd.js.coerce import to_string
from pipyd.js.values import undefined

_MASK = (1 << 53) - 1


def _digest(data: bytes) -> int:
    return int.from_bytes(blake2b(data, digest_size=8).digest(), "little") & _MASK


def hash_value(value: Any = undefined) -> int:
    """A stable non-negative integer for ``value`` (Python side of ``algo.hash``)."""
    t = type(value)
    if t is str:
        return _digest(value.encode("utf-8", "surrogatepass"))
    if t is int or t is float:
        return _digest(b"\x01" + to_string(value).encode())
    if t is bool:
        return 1 if value else 2
    if value is undefined or value is None:
        return 0
    return id(value) & _MASK


def uuid() -> str:
    """A random (version 4) UUID in its 36-character text form."""
    return str(_uuid.uuid4())
