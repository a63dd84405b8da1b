"""decodeDubbo / encodeDubbo: frames written byte by byte from the Dubbo 2 protocol header
layout, with Hessian 2 bodies that the Hessian builtin reads back (the peer check)."""
import pytest

from pipyd.api.hessian import decode as hessian_decode
from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.js.values import JSObject

from . import codec, decode, encode, show, splits

# A request body as a Dubbo consumer writes it: Hessian 2 values one after another.
REQUEST_BODY = bytes([
    0x05, *b"2.0.2",                    # dubbo version (short string, length 5)
    0x04, *b"demo",                     # service path
    0x05, *b"0.0.0",                    # service version
    0x05, *b"hello",                    # method name
    0x12, *b"Ljava/lang/String;",       # parameter types descriptor (18 chars)
    0x05, *b"world",                    # the argument
    0x48, 0x04, *b"path", 0x04, *b"demo", 0x5A,  # attachments: untyped map {path: demo} Z
])
REQUEST = bytes([
    0xDA, 0xBB,                         # magic
    0xC2,                               # request | two-way | serialization 2 (Hessian 2)
    0x00,                               # status (unused in requests)
    0, 0, 0, 0, 0, 0, 0, 0x07,          # request id 7
    0, 0, 0, len(REQUEST_BODY),         # body length
]) + REQUEST_BODY
RESPONSE_BODY = bytes([0x91,            # int 1: RESPONSE_VALUE
                       0x05, *b"hi!!!"])
RESPONSE = bytes([0xDA, 0xBB,
                  0x02,                 # response, serialization 2
                  0x14,                 # status 20: OK
                  0, 0, 0, 0, 0, 0, 0, 0x07,
                  0, 0, 0, len(RESPONSE_BODY)]) + RESPONSE_BODY
HEARTBEAT = bytes([0xDA, 0xBB,
                   0xE2,                # request | two-way | event | Hessian 2
                   0x00,
                   0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE,  # id -2 (signed 64 bits)
                   0, 0, 0, 1,
                   0x4E])               # null: a heartbeat
EMPTY = bytes([0xDA, 0xBB, 0x82, 0x00, 0x12, 0x34, 0x56, 0x78, 0x9A, 0xBC, 0xDE, 0xF0,
               0, 0, 0, 0])             # one-way request, id 0x123456789abcdef0, no body


def head(id, status=0, req=True, two=True, event=False):
    return {"id": id, "status": status, "isRequest": req, "isTwoWay": two, "isEvent": event}


CASES = [
    ("request", REQUEST, [("MS", head("7")), ("D", REQUEST_BODY), ("ME",)]),
    ("response", RESPONSE, [("MS", head("7", 20, False, False)), ("D", RESPONSE_BODY), ("ME",)]),
    ("heartbeat", HEARTBEAT, [("MS", head("-2", event=True)), ("D", b"N"), ("ME",)]),
    ("empty-body", EMPTY, [("MS", head(str(0x123456789ABCDEF0), two=False)), ("ME",)]),
]


@pytest.mark.parametrize("wire,expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_decode_every_split(wire, expected):
    for pieces in splits(wire):
        assert decode("decodeDubbo", pieces) == expected


def test_frames_back_to_back():
    wire = b"".join(c[1] for c in CASES)
    expected = [x for c in CASES for x in c[2]]
    for pieces in splits(wire):
        assert decode("decodeDubbo", pieces) == expected


def test_the_body_is_hessian_the_builtin_reads():
    out = decode("decodeDubbo", [REQUEST])
    args = hessian_decode(Data(out[1][1]))
    assert list(args[:6]) == ["2.0.2", "demo", "0.0.0", "hello", "Ljava/lang/String;", "world"]
    assert dict(args[6]) == {"path": "demo"}


def test_bad_magic_ends_the_stream():
    assert decode("decodeDubbo", [b"\xca\xfe" + REQUEST[2:]]) == [("SE", "ReadError")]


def test_stream_end_resets():
    p, out = codec("decodeDubbo")
    p.input(Data(REQUEST[:20]))
    p.input(StreamEnd())
    p.input(Data(RESPONSE))
    assert show(out.events) == [("MS", head("7")), ("D", REQUEST_BODY[:4]), ("SE", ""),
                                *CASES[1][2]]


@pytest.mark.parametrize("wire", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_reencode_gives_the_same_bytes(wire):
    p, out = codec("decodeDubbo")
    p.input(Data(wire))
    # the decoder's id is a string: the encoder reads it back as a 64-bit integer
    res = encode("encodeDubbo", out.events)
    assert [r[0] for r in res] == ["MS", "D", "ME"]
    assert res[1][1] == wire


def test_encode_defaults_and_auto_ids():
    events = [MessageStart(JSObject()), Data(b"ab"), MessageEnd(), MessageStart(), MessageEnd()]
    res = encode("encodeDubbo", events)
    assert res[1] == ("D", bytes([0xDA, 0xBB, 0xC2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2])
                      + b"ab")
    assert res[4] == ("D", bytes([0xDA, 0xBB, 0xC2, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]))


def test_encode_default_head_replaces_the_message_head():
    # Pipy [src]: encodeDubbo({isRequest: false}) — the object stands for the whole head
    events = [MessageStart(JSObject(id="9", status=20)), Data(b"x"), MessageEnd()]
    res = encode("encodeDubbo", events, JSObject(isRequest=False, status=20))
    assert res[1] == ("D", bytes([0xDA, 0xBB, 0x42, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
                      + b"x")


def test_encode_default_head_from_a_function():
    events = [MessageStart(JSObject()), MessageEnd()]
    res = encode("encodeDubbo", events, lambda: JSObject(id=5, isTwoWay=False, isEvent=True))
    assert res[1][1][:4] == bytes([0xDA, 0xBB, 0xA2, 0]) and res[1][1][11] == 5
