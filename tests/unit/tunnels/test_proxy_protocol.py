"""acceptProxyProtocol / connectProxyProtocol (reference §2.2 rows 2, 11; haproxy
proxy-protocol.txt): headers fed whole and byte by byte, the handler's object checked."""
import pytest

from pipyd.events import Data, StreamEnd
from pipyd.filters.proxy_protocol import V2_SIGNATURE, encode_header
from pipyd.js.values import JSObject

from . import Peer, joint, merged, peer, show


def v2(cmd: int, fam: int, addrs: bytes) -> bytes:
    return V2_SIGNATURE + bytes((0x20 | cmd, fam)) + len(addrs).to_bytes(2, "big") + addrs


V4 = bytes((192, 168, 0, 1, 10, 0, 0, 2)) + (56324).to_bytes(2, "big") + (443).to_bytes(2, "big")
V6 = bytes(15) + b"\x01" + bytes.fromhex("20010db8000000000000000000000002") + b"\x00\x50\x01\xbb"
CASES = [
    ("v1-tcp4", b"PROXY TCP4 192.168.0.1 10.0.0.2 56324 443\r\n",
     dict(version=1, protocol="TCP4", sourceAddress="192.168.0.1", targetAddress="10.0.0.2",
          sourcePort=56324, targetPort=443)),
    ("v1-tcp6", b"PROXY TCP6 ::1 2001:db8::2 80 443\r\n",
     dict(version=1, protocol="TCP6", sourceAddress="::1", targetAddress="2001:db8::2",
          sourcePort=80, targetPort=443)),
    ("v1-unknown", b"PROXY UNKNOWN ffff:f::1 ::2 1 2\r\n", dict(version=1, protocol="UNKNOWN")),
    ("v2-tcp4", v2(1, 0x11, V4),
     dict(version=2, command="PROXY", protocol="TCP4", sourceAddress="192.168.0.1",
          targetAddress="10.0.0.2", sourcePort=56324, targetPort=443)),
    ("v2-udp6", v2(1, 0x22, V6),
     dict(version=2, command="PROXY", protocol="UDP6", sourceAddress="::1",
          targetAddress="2001:db8::2", sourcePort=80, targetPort=443)),
    ("v2-local", v2(0, 0x00, b""), dict(version=2, command="LOCAL", protocol="UNKNOWN")),
    ("v2-tlvs-skipped", v2(1, 0x11, V4 + b"\x04\x00\x01z"),
     dict(version=2, command="PROXY", protocol="TCP4", sourceAddress="192.168.0.1",
          targetAddress="10.0.0.2", sourcePort=56324, targetPort=443)),
]


def accept(pieces, answer=True):
    seen = []
    p, out = joint("acceptProxyProtocol", lambda h: (seen.append(dict(h)), answer)[1])
    for b in pieces:
        p.input(Data(b))
    return p, out, seen


@pytest.mark.parametrize("wire,header", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
@pytest.mark.parametrize("split", ["whole", "bytes"])
def test_accept_parses_the_header(wire, header, split):
    stream = wire + b"GET / HTTP/1.1\r\n"
    pieces = [stream] if split == "whole" else [bytes([c]) for c in stream]
    p, out, seen = accept(pieces)
    assert seen == [header]
    assert merged(show(peer().got)) == [("D", b"GET / HTTP/1.1\r\n")]
    p.input(StreamEnd())
    assert show(peer().got)[-1] == ("SE", "")
    peer().send(Data(b"resp"))
    assert show(out.events) == [("D", b"resp")]


@pytest.mark.parametrize("wire", [
    b"GET / HTTP/1.1\r\n\r\n",                       # not a PROXY header
    b"PROXY TCP5 1.2.3.4 1.2.3.4 1 2\r\n",            # unknown protocol
    b"PROXY TCP4 1.2.3.4 nope 1 2\r\n",               # bad address
    b"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",              # missing field
    b"PROXY TCP4 " + b"1" * 120,                      # no CRLF within 107 bytes
    V2_SIGNATURE + b"\x31\x11\x00\x0c" + V4,          # version 3
    V2_SIGNATURE + b"\x22\x11\x00\x0c" + V4,          # command 2
    V2_SIGNATURE + b"\x21\x11\x00\x04" + V4[:4],      # address block too short
])
def test_accept_malformed_headers_end_the_stream(wire):
    p, out, seen = accept([wire])
    assert show(out.events) == [("SE", "")] and seen == []
    p.input(Data(b"more"))
    assert show(out.events) == [("SE", "")]


def test_accept_refused_by_the_handler():
    p, out, seen = accept([CASES[0][1] + b"data"], answer=False)
    assert show(out.events) == [("SE", "")]
    assert all(not i.got for i in Peer.instances)


def test_accept_sub_pipeline_shares_the_context():
    p, out, seen = accept([CASES[0][1]])
    assert peer().pipeline.context is p.context


# -- connectProxyProtocol ----------------------------------------------------------------------

@pytest.mark.parametrize("header,wire", [
    (JSObject(sourceAddress="1.2.3.4", targetAddress="5.6.7.8", sourcePort=1000, targetPort=80),
     b"PROXY TCP4 1.2.3.4 5.6.7.8 1000 80\r\n"),
    (JSObject(), b"PROXY TCP4 0.0.0.0 0.0.0.0 0 0\r\n"),
    (JSObject(protocol="TCP6", targetAddress="::2", targetPort=443),
     b"PROXY TCP6 :: ::2 0 443\r\n"),
    (JSObject(version=2, sourceAddress="192.168.0.1", targetAddress="10.0.0.2",
              sourcePort=56324, targetPort=443), v2(1, 0x11, V4)),
    (JSObject(version=2, protocol="UDP6", sourceAddress="::1", targetAddress="2001:db8::2",
              sourcePort=80, targetPort=443), v2(1, 0x22, V6)),
    (JSObject(version=2, command="LOCAL"), v2(0, 0x11, bytes(12))),
])
def test_encode_header(header, wire):
    assert encode_header(header) == wire


def test_encoded_headers_parse_back():
    for _, wire, header in CASES[:2] + CASES[3:5]:
        p, out, seen = accept([encode_header(JSObject(header))])
        assert seen == [header]


def test_connect_prepends_the_header_and_passes_everything():
    p, out = joint("connectProxyProtocol", lambda: JSObject(sourceAddress="1.1.1.1"))
    p.input(Data(b"payload"))
    p.input(StreamEnd())
    assert show(peer().got) == [("D", b"PROXY TCP4 1.1.1.1 0.0.0.0 0 0\r\n"),
                                ("D", b"payload"), ("SE", "")]
    peer().send(Data(b"back"))
    assert show(out.events) == [("D", b"back")]


def test_connect_non_object_is_logged(capfd):
    p, out = joint("connectProxyProtocol", lambda: "nope")
    p.input(Data(b"x"))
    assert out.events == [] and not Peer.instances[1:]
    assert "[connectProxyProtocol]" in capfd.readouterr().err


def test_connect_stream_end_first_sends_no_header():
    p, out = joint("connectProxyProtocol", JSObject())
    p.input(StreamEnd())
    assert show(out.events) == [("SE", "")] and not Peer.instances  # no sub-pipeline
