"""Hessian 2.0: encode/decode round trips and bytes from the spec's examples."""
from __future__ import annotations

import pytest

from pipyd.api.hessian import decode, encode
from pipyd.events import Data
from pipyd.js.values import JSArray, JSObject, JSThrow


@pytest.mark.parametrize("value,raw", [
    (None, b"N"), (True, b"T"), (0, b"\x90"), (-16, b"\x80"), (47, b"\xbf"), (48, b"\xc8\x30"),
    (-2048, b"\xc0\x00"), (262143, b"\xd7\xff\xff"), (2**31 - 1, b"I\x7f\xff\xff\xff"),
    (1.5, b"D?\xf8\x00\x00\x00\x00\x00\x00"), ("", b"\x00"), ("hello", b"\x05hello"),
])
def test_scalars(value, raw):
    assert encode(value).to_bytes() == raw
    assert decode(Data(raw)) == value


def test_compact_forms_from_spec():
    assert decode(Data(b"\xe0")) == 0 and decode(Data(b"\xf8\x10")) == 16  # compact longs
    assert decode(Data(b"\x59\x00\x00\x01\x00")) == 256
    assert decode(Data(b"\x5b")) == 0 and decode(Data(b"\x5d\x80")) == -128
    assert decode(Data(b"\x31\x00" + b"a" * 256)) == "a" * 256
    assert decode(Data(b"\x23abc")).to_bytes() == b"abc"


def test_containers_round_trip_and_sequence():
    v = JSObject(a=JSArray([1, "x", None]), b=JSObject(c=2.5))
    got = decode(encode(v))
    assert got["a"] == [1, "x", None] and got["b"]["c"] == 2.5
    seq = decode(Data(b"\x91\x05hello"))  # several values: an array
    assert list(seq) == [1, "hello"]


def test_class_and_object():
    raw = (b"C\x0bexample.Car\x92\x05color\x05model"
           b"\x60\x03red\x08corvette" b"\x60\x05green\x05civic")
    cars = decode(Data(raw))
    assert [dict(c) for c in cars] == [{"color": "red", "model": "corvette"},
                                       {"color": "green", "model": "civic"}]


def test_typed_fixed_list_and_unicode():
    assert list(decode(Data(b"\x7a\x91\x92"))) == [1, 2]  # untyped fixed list of 2
    assert decode(encode("héllo ☃")) == "héllo ☃"


def test_bad_bytecode():
    with pytest.raises(JSThrow):
        decode(Data(b"\x45"))
