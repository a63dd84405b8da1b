"""``Netmask``: an IPv4 or IPv6 CIDR block (Pipy reference §3.3).

As Pipy: ``new Netmask('10.1.2.3/8')`` keeps the full address as ``ip`` and the masked one as
``base``; a missing ``/bits`` means 0 bits. ``first``/``last`` are the first and last *host*
addresses (base+1, broadcast-1 when the block has room for them), ``next()`` walks the host
addresses from base+1 and returns ``''`` when it reaches the broadcast address (for IPv6 the walk
covers the low 64 bits, like Pipy). ``decompose()`` gives the 4 bytes (v4) or 8 16-bit words
(v6) of ``ip``; ``toBytes()`` gives bytes for both. ``new Netmask(bits, bytes[])`` builds one
from a mask length and an address given as bytes (more than 4 bytes means IPv6).
"""
from __future__ import annotations

import ipaddress
from typing import Any

from pipyd.js.values import HostObject, JSArray, js_error, type_error, undefined

_IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class Netmask(HostObject):
    __slots__ = ("_ip", "_bits", "_width", "_mask", "_base", "_next", "_cls")
    js_get = frozenset({"version", "ip", "bitmask", "base", "mask", "hostmask", "broadcast",
                        "size", "first", "last", "decompose", "toBytes", "contains", "next"})
    js_new = True
    js_class_name = "Netmask"

    def __init__(self, cidr: Any = undefined, address: Any = undefined) -> None:
        if type(cidr) is str:
            ip, bits = _parse_cidr(cidr)
        elif type(cidr) in (int, float) and isinstance(address, list):
            ip, bits = _from_bytes(address), int(cidr)
        else:
            raise type_error("Netmask: expected a CIDR string, or a mask length and bytes")
        self._cls = type(ip)
        self._width = 32 if ip.version == 4 else 128
        if not 0 <= bits <= self._width:
            raise js_error("Error", f"IPv{ip.version} CIDR mask out of range")
        self._ip = int(ip)
        self._bits = bits
        self._mask = ((1 << bits) - 1) << (self._width - bits)
        self._base = self._ip & self._mask
        self._next = 1

    def _str(self, n: int) -> str:
        return str(self._cls(n))

    @property
    def _hostmask(self) -> int:
        return ~self._mask & ((1 << self._width) - 1)

    @property
    def version(self) -> int:
        return 4 if self._width == 32 else 6

    @property
    def ip(self) -> str:
        return self._str(self._ip)

    @property
    def bitmask(self) -> int:
        return self._bits

    @property
    def base(self) -> str:
        return self._str(self._base)

    @property
    def mask(self) -> str:
        return self._str(self._mask)

    @property
    def hostmask(self) -> str:
        return self._str(self._hostmask)

    @property
    def broadcast(self) -> str:
        return self._str(self._base | self._hostmask)

    @property
    def size(self) -> int | float:
        n = 1 << (self._width - self._bits)
        return n if n <= 2**53 else float(n)

    @property
    def first(self) -> str:
        return self._str(self._base | (self._hostmask & 1))

    @property
    def last(self) -> str:
        h = self._hostmask
        return self._str(self._base | (h & (h - 1)) if h else self._base)

    def decompose(self) -> JSArray:
        if self._width == 32:
            return JSArray(self._ip.to_bytes(4, "big"))
        return JSArray((self._ip >> (112 - 16 * i)) & 0xFFFF for i in range(8))

    def toBytes(self) -> JSArray:  # noqa: N802 (Pipy's name)
        return JSArray(self._ip.to_bytes(self._width // 8, "big"))

    def contains(self, address: Any = undefined) -> bool:
        if type(address) is not str:
            raise type_error("Netmask.contains: expected an address string")
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return type(ip) is self._cls and (int(ip) & self._mask) == self._base

    def next(self) -> str:
        """The next host address, or ``''`` once the broadcast address is reached."""
        limit = self._hostmask if self._width == 32 else self._hostmask & (2**64 - 1)
        n = self._next
        if n >= limit:
            return ""
        self._next = n + 1
        return self._str(self._base | n)

    def __repr__(self) -> str:
        return f"Netmask({self.ip}/{self._bits})"


def _parse_cidr(cidr: str) -> tuple[_IPAddress, int]:
    addr, slash, bits = cidr.partition("/")
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        raise js_error("Error", "invalid CIDR notation") from None
    if not slash:
        return ip, 0
    try:
        return ip, int(bits)
    except ValueError:
        raise js_error("Error", "invalid CIDR notation") from None


def _from_bytes(octets: list) -> _IPAddress:
    try:
        values = [int(x) & 255 for x in octets]
    except (TypeError, ValueError):
        raise type_error("Netmask: address bytes must be numbers") from None
    if len(values) > 4:
        return ipaddress.IPv6Address(bytes((values + [0] * 16)[:16]))
    return ipaddress.IPv4Address(bytes((values + [0] * 4)[:4]))
