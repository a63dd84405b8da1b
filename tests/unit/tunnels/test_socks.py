"""acceptSOCKS (SOCKS4, 4a, 5) and connectSOCKS (SOCKS5 client) (reference §2.2 rows 3, 12;
RFC 1928)."""
import pytest

from pipyd.events import Data, StreamEnd
from pipyd.js.values import undefined

from . import Peer, joint, merged, peer, show

OK5 = bytes((5, 0, 0, 1, 0, 0, 0, 0, 0, 0))
SOCKS5_CASES = [
    # (name, greeting+request bytes, expected handler args)
    ("ipv4", b"\x05\x01\x00" + b"\x05\x01\x00\x01" + bytes((10, 0, 0, 1)) + b"\x1f\x90",
     ("10.0.0.1", 8080, undefined)),
    ("domain", b"\x05\x02\x00\x02" + b"\x05\x01\x00\x03\x0bexample.com\x00\x50",
     ("example.com", 80, undefined)),
    ("ipv6", b"\x05\x01\x00" + b"\x05\x01\x00\x04" + bytes(15) + b"\x01" + b"\x01\xbb",
     ("::1", 443, undefined)),
]
SOCKS4_CASES = [
    ("socks4", b"\x04\x01\x00\x50" + bytes((192, 168, 1, 2)) + b"bob\x00",
     ("192.168.1.2", 80, "bob")),
    ("socks4-no-user", b"\x04\x01\x01\xbb" + bytes((1, 2, 3, 4)) + b"\x00",
     ("1.2.3.4", 443, undefined)),
    ("socks4a", b"\x04\x01\x00\x50" + bytes((0, 0, 0, 7)) + b"\x00example.org\x00",
     ("example.org", 80, undefined)),
]


def serve(pieces, answer=True):
    calls = []
    p, out = joint("acceptSOCKS", lambda *a: (calls.append(a), answer)[1])
    for b in pieces:
        p.input(Data(b))
    return p, out, calls


@pytest.mark.parametrize("wire,args", [c[1:] for c in SOCKS5_CASES], ids=[c[0] for c in SOCKS5_CASES])
@pytest.mark.parametrize("split", ["whole", "bytes"])
def test_accept_socks5(wire, args, split):
    pieces = [wire + b"payload"] if split == "whole" else [bytes([c]) for c in wire + b"payload"]
    p, out, calls = serve(pieces)
    assert calls == [args]
    assert merged(show(out.events)) == [("D", b"\x05\x00" + OK5)]
    assert merged(show(peer().got)) == [("D", b"payload")]
    peer().send(Data(b"answer"), StreamEnd())
    assert show(out.events)[-2:] == [("D", b"answer"), ("SE", "")]


@pytest.mark.parametrize("wire,args", [c[1:] for c in SOCKS4_CASES], ids=[c[0] for c in SOCKS4_CASES])
@pytest.mark.parametrize("split", ["whole", "bytes"])
def test_accept_socks4(wire, args, split):
    pieces = [wire + b"xy"] if split == "whole" else [bytes([c]) for c in wire + b"xy"]
    p, out, calls = serve(pieces)
    assert calls == [args]
    assert show(out.events) == [("D", b"\x00\x5a" + bytes(6))]
    assert merged(show(peer().got)) == [("D", b"xy")]


def test_accept_greeting_is_answered_before_the_request_arrives():
    p, out, calls = serve([b"\x05\x01\x00"])
    assert show(out.events) == [("D", b"\x05\x00")] and calls == []


@pytest.mark.parametrize("wire,reply", [
    (SOCKS5_CASES[0][1], bytes((5, 2, 0, 1, 0, 0, 0, 0, 0, 0))),
    (SOCKS4_CASES[0][1], b"\x00\x5b" + bytes(6)),
])
def test_accept_refused_by_the_handler(wire, reply):
    p, out, calls = serve([wire], answer=False)
    assert merged(show(out.events))[-2:] == [("D", (b"\x05\x00" if wire[0] == 5 else b"") + reply),
                                             ("SE", "")]
    p.input(Data(b"more"))
    assert all(not i.got for i in Peer.instances)


@pytest.mark.parametrize("wire,reply", [
    (b"\x05\x01\x00\x05\x02\x00\x01", bytes((5, 1, 0, 1, 0, 0, 0, 0, 0, 0))),  # BIND
    (b"\x05\x01\x00\x05\x01\x00\x09", bytes((5, 8, 0, 1, 0, 0, 0, 0, 0, 0))),  # bad ATYP
    (b"\x04\x02\x00\x50\x01\x02\x03\x04\x00", b"\x00\x5b" + bytes(6)),       # SOCKS4 BIND
])
def test_accept_unsupported_requests_are_refused(wire, reply):
    p, out, calls = serve([wire])
    assert show(out.events)[-2:] == [("D", reply), ("SE", "")] and calls == []


def test_accept_other_protocols_and_early_end_close_the_stream():
    p, out, calls = serve([b"GET / HTTP/1.1\r\n"])
    assert show(out.events) == [("SE", "")]
    p, out, calls = serve([b"\x05\x01"])
    p.input(StreamEnd())
    assert show(out.events) == [("SE", "")]


def test_accept_overlong_socks4_user_id_is_refused():
    p, out, calls = serve([b"\x04\x01\x00\x50\x01\x02\x03\x04" + b"u" * 300])
    assert show(out.events) == [("D", b"\x00\x5b" + bytes(6)), ("SE", "")]


# -- connectSOCKS ------------------------------------------------------------------------------

@pytest.mark.parametrize("target,req", [
    ("10.1.2.3:8080", b"\x01" + bytes((10, 1, 2, 3)) + b"\x1f\x90"),
    ("[::1]:443", b"\x04" + bytes(15) + b"\x01\x01\xbb"),
    ("example.com:80", b"\x03\x0bexample.com\x00\x50"),
])
def test_connect_handshake_then_tunnel(target, req):
    p, out = joint("connectSOCKS", target)
    p.input(Data(b"hello"))
    assert show(peer().got) == [("D", b"\x05\x01\x00")]
    peer().send(Data(b"\x05\x00"))
    assert show(peer().got)[1:] == [("D", b"\x05\x01\x00" + req)]
    peer().send(Data(b"\x05\x00\x00\x01" + bytes(6) + b"first"))
    assert show(peer().got)[2:] == [("D", b"hello")]
    assert show(out.events) == [("D", b"first")]
    p.input(Data(b"again"))
    p.input(StreamEnd())
    assert show(peer().got)[3:] == [("D", b"again"), ("SE", "")]


def test_connect_replies_byte_by_byte_and_held_stream_end():
    p, out = joint("connectSOCKS", lambda: "h.example:1")
    p.input(Data(b"a"))
    p.input(StreamEnd())
    reply = b"\x05\x00" + b"\x05\x00\x00\x03\x03abc\x00\x01"
    for c in reply:
        peer().send(Data(bytes([c])))
    assert show(peer().got)[-2:] == [("D", b"a"), ("SE", "")]
    assert out.events == []


@pytest.mark.parametrize("reply,error", [
    (b"\x05\xff", "Unauthorized"),
    (b"\x05\x00\x05\x05\x00\x01" + bytes(6), "ConnectionRefused"),
    (b"\x05\x00\x05\x00\x00\x07", "ReadError"),
])
def test_connect_failures(reply, error):
    p, out = joint("connectSOCKS", "1.2.3.4:5")
    p.input(Data(b"a"))
    peer().send(Data(reply))
    assert show(out.events) == [("SE", error)]
    p.input(Data(b"b"))
    assert not any(d == ("D", b"a") or d == ("D", b"b") for d in show(peer().got))


def test_connect_invalid_target_is_logged(capfd):
    p, out = joint("connectSOCKS", "no-port")
    p.input(Data(b"a"))
    peer().send(Data(b"\x05\x00"))
    assert show(out.events) == [("SE", "CannotResolve")]
    assert "[connectSOCKS]" in capfd.readouterr().err


def test_connect_stream_end_first_starts_nothing():
    p, out = joint("connectSOCKS", "1.2.3.4:5")
    p.input(StreamEnd())
    assert show(out.events) == [("SE", "")] and not Peer.instances  # no sub-pipeline
