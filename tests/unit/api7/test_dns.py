"""DNS wire format: a query and an answer built from raw bytes (RFC 1035 §4)."""
from __future__ import annotations

import struct

import pytest

from pipyd.api.dns import decode, encode
from pipyd.events import Data
from pipyd.js.values import JSThrow

QUERY = (struct.pack(">6H", 0x1234, 0x0100, 1, 0, 0, 0)
         + b"\x07example\x03com\x00" + struct.pack(">HH", 1, 1))


def answer_bytes() -> bytes:
    head = struct.pack(">6H", 0x1234, 0x8180, 1, 3, 0, 0)
    q = b"\x07example\x03com\x00" + struct.pack(">HH", 1, 1)
    a = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 300, 4) + bytes([93, 184, 216, 34])
    cname_rd = b"\x03www\xc0\x0c"
    cname = b"\xc0\x0c" + struct.pack(">HHIH", 5, 1, 60, len(cname_rd)) + cname_rd
    mx_rd = struct.pack(">H", 10) + b"\x04mail\xc0\x0c"
    mx = b"\xc0\x0c" + struct.pack(">HHIH", 15, 1, 60, len(mx_rd)) + mx_rd
    return head + q + a + cname + mx


def test_decode_query():
    msg = decode(Data(QUERY))
    assert msg["id"] == 0x1234 and msg["rd"] == 1 and "qr" not in msg
    assert [dict(q) for q in msg["question"]] == [{"name": "example.com", "type": "A"}]
    assert "answer" not in msg


def test_encode_query_matches_bytes():
    msg = decode(Data(QUERY))
    assert encode(msg).to_bytes() == QUERY


def test_decode_answer_with_compression():
    msg = decode(Data(answer_bytes()))
    assert msg["qr"] == 1 and msg["ra"] == 1 and msg["rd"] == 1
    a, cname, mx = msg["answer"]
    assert dict(a) == {"name": "example.com", "type": "A", "ttl": 300, "rdata": "93.184.216.34"}
    assert cname["rdata"] == "www.example.com"
    assert dict(mx["rdata"]) == {"preference": 10, "exchange": "mail.example.com"}


def test_answer_round_trip_through_encode():
    msg = decode(Data(answer_bytes()))
    again = decode(encode(msg))  # encode writes names uncompressed; the content is the same
    assert [dict(r) for r in again["answer"][:2]] == [dict(r) for r in msg["answer"][:2]]
    assert dict(again["answer"][2]["rdata"]) == dict(msg["answer"][2]["rdata"])


def test_aaaa_txt_unknown():
    recs = {"id": 7, "qr": 1, "answer": [
        {"name": "x", "type": "AAAA", "ttl": 1, "rdata": "2001:db8::1"},
        {"name": "x", "type": "TXT", "ttl": 1, "rdata": "hello"},
        {"name": "x", "type": 99, "class": 3, "ttl": 1, "rdata": "abcd"}]}
    from pipyd.js.values import JSArray, JSObject
    obj = JSObject(recs)
    obj["answer"] = JSArray(JSObject(r) for r in recs["answer"])
    out = decode(encode(obj))["answer"]
    assert [r["rdata"] for r in out] == ["2001:db8::1", "hello", "abcd"]
    assert out[2]["type"] == 99 and out[2]["class"] == 3


@pytest.mark.parametrize("raw", [b"\x00" * 5, QUERY[:-2], QUERY[:12] + b"\xc0"])
def test_malformed_throws(raw):
    with pytest.raises(JSThrow):
        decode(Data(raw))
