"""Netmask for IPv4 and IPv6: fields, contains, next, decompose (reference §3.3)."""
from __future__ import annotations

import pytest

from pipyd.api.netmask import Netmask
from pipyd.js.values import JSThrow


def test_v4_fields():
    m = Netmask("192.168.1.77/24")
    assert (m.version, m.ip, m.base, m.bitmask) == (4, "192.168.1.77", "192.168.1.0", 24)
    assert (m.mask, m.hostmask, m.broadcast) == ("255.255.255.0", "0.0.0.255", "192.168.1.255")
    assert (m.size, m.first, m.last) == (256, "192.168.1.1", "192.168.1.254")
    assert list(m.decompose()) == [192, 168, 1, 77]


def test_v4_contains():
    m = Netmask("10.0.0.0/8")
    assert m.contains("10.255.0.1") and not m.contains("11.0.0.1")
    assert not m.contains("::1") and not m.contains("garbage")


def test_v4_next_walks_hosts():
    m = Netmask("10.0.0.0/30")
    assert [m.next(), m.next(), m.next()] == ["10.0.0.1", "10.0.0.2", ""]


def test_v6():
    m = Netmask("2001:db8::5/64")
    assert m.version == 6 and m.base == "2001:db8::" and m.ip == "2001:db8::5"
    assert m.contains("2001:db8::ffff") and not m.contains("2001:db9::1")
    assert not m.contains("10.0.0.1")
    assert list(m.decompose()) == [0x2001, 0xdb8, 0, 0, 0, 0, 0, 5]
    assert m.mask == "ffff:ffff:ffff:ffff::"
    assert [m.next(), m.next()] == ["2001:db8::1", "2001:db8::2"]
    assert m.size == float(2**64)
    assert len(m.toBytes()) == 16


def test_bits_and_bytes_constructor():
    assert Netmask(24, [10, 1, 2, 3]).base == "10.1.2.0"
    assert Netmask(16, [0x20, 0x01] + [0] * 14).version == 6


@pytest.mark.parametrize("bad", ["1.2.3.4/33", "nope/8", "::/129"])
def test_invalid(bad):
    with pytest.raises(JSThrow):
        Netmask(bad)
