"""decodeThrift / encodeThrift: messages written byte by byte from the Apache Thrift binary and
compact protocol specs (doc/specs/thrift-binary-protocol.md, thrift-compact-protocol.md),
framed and not, decoded whole, byte by byte and split at every position, and re-encoded."""
import pytest

from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.js.values import JSObject

from . import codec, decode, encode, show, splits

PAYLOAD = JSObject(payload=True)


def head(seq, type_, name, protocol="binary", framed=False):
    h = {"seqID": seq, "type": type_, "name": name, "protocol": protocol}
    if framed:
        h["framed"] = True
    return h


def frame(b):
    return len(b).to_bytes(4, "big") + b


# -- binary protocol ------------------------------------------------------------------------
PING = bytes([
    0x80, 0x01, 0x00, 0x01,             # strict: version 1, type 1 (call)
    0, 0, 0, 4, *b"ping",               # name
    0, 0, 0, 1,                         # seq id 1
    0x00,                               # args struct: stop
])
ADD_REPLY = bytes([
    0x80, 0x01, 0x00, 0x02,             # reply
    0, 0, 0, 3, *b"add",
    0, 0, 0, 7,                         # seq id 7
    0x08, 0x00, 0x00, 0, 0, 0, 3,       # field 0 (success), i32 3
    0x00,
])
CALC_STRUCT = bytes([
    0x0B, 0x00, 0x01, 0, 0, 0, 2, *b"hi",           # 1: string "hi"
    0x02, 0x00, 0x02, 0x01,                         # 2: bool true
    0x0A, 0x00, 0x03, 0, 0, 1, 0, 0, 0, 0, 0,       # 3: i64 2**40
    0x04, 0x00, 0x04, 0x3F, 0xF8, 0, 0, 0, 0, 0, 0,  # 4: double 1.5 (big-endian)
    0x0F, 0x00, 0x05, 0x06, 0, 0, 0, 2, 0x00, 0x01, 0xFF, 0xFE,  # 5: list<i16> [1, -2]
    0x0D, 0x00, 0x06, 0x0B, 0x03, 0, 0, 0, 1, 0, 0, 0, 1, *b"a", 0x01,  # 6: map<str,i8> {a: 1}
    0x0C, 0x00, 0x07, 0x03, 0x00, 0x01, 0xFF, 0x00,  # 7: struct {1: i8 -1}
    0x0B, 0x00, 0x08, 0, 0, 0, 1, 0xFF,             # 8: binary, not UTF-8
    0x0E, 0x00, 0x09, 0x08, 0, 0, 0, 1, 0, 0, 0, 5,  # 9: set<i32> [5]
    0x00,                                           # stop
])
CALC = bytes([0x80, 0x01, 0x00, 0x01, 0, 0, 0, 4, *b"calc",
              0xFF, 0xFF, 0xFF, 0xFF]) + CALC_STRUCT  # seq id -1
CALC_PAYLOAD = {"1": "hi", "2": True, "3": 2**40, "4": 1.5, "5": [1, -2], "6": [["a", 1]],
                "7": {"1": -1}, "8": b"\xff", "9": [5]}
OLD_ONEWAY = bytes([
    0, 0, 0, 3, *b"log",                # old encoding: name first
    0x04,                               # type 4 (oneway)
    0, 0, 0, 2,                         # seq id 2
    0x00,
])

# -- compact protocol -----------------------------------------------------------------------
C_PING = bytes([0x82, 0x21,             # protocol id; type 1 << 5 | version 1
                0x01,                   # seq id 1 (varint)
                0x04, *b"ping",         # name length (varint), name
                0x00])
C_ADD_REPLY = bytes([0x82, 0x41,        # reply
                     0xAC, 0x02,        # seq id 300 = 0x2C | 2 << 7
                     0x03, *b"add",
                     0x05, 0x00,        # field header long form: i32, field id zigzag(0)
                     0x06,              # zigzag(3) = 6
                     0x00])
C_CALC_STRUCT = bytes([
    0x18, 0x02, *b"hi",                 # 1 (delta 1): binary "hi"
    0x11,                               # 2: bool true, in the header
    0x12,                               # 3: bool false
    0x16, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x3F,  # 4: i64 -2**40 (zigzag 2**41 - 1)
    0x17, 0, 0, 0, 0, 0, 0, 0xF8, 0x3F,  # 5: double 1.5, little-endian
    0x19, 0x25, 0x02, 0x01,             # 6: list, 2 x i32: [1, -1]
    0xEB, 0x01, 0x83, 0x01, *b"a", 0x01,  # 20 (delta 14): map, 1 entry, binary -> i8: {a: 1}
    0x1B, 0x00,                         # 21: empty map is one byte 0
    0x19, 0x22, 0x01, 0x00,             # 22: list<bool> [true, false]
    0x03, 0xC8, 0x01, 0x07,             # 100 (long form, zigzag 200): i8 7
    0x1C, 0x14, 0x05, 0x00,             # 101: struct {1: i16 -3}
    0x19, 0xF3, 0x0F, *range(15),       # 102: list<i8> long form, 15 elements
    0x00,
])
C_CALC = bytes([0x82, 0x21, 0x05, 0x04, *b"calc"]) + C_CALC_STRUCT
C_CALC_PAYLOAD = {"1": "hi", "2": True, "3": False, "4": -2**40, "5": 1.5, "6": [1, -1],
                  "20": [["a", 1]], "21": [], "22": [True, False], "100": 7, "101": {"1": -3},
                  "102": list(range(15))}

CASES = [
    ("binary-ping", PING, head(1, "call", "ping"), 1, {}),
    ("binary-reply", ADD_REPLY, head(7, "reply", "add"), 8, {"0": 3}),
    ("binary-all-types", CALC, head(-1, "call", "calc"), len(CALC_STRUCT), CALC_PAYLOAD),
    ("binary-old-oneway", OLD_ONEWAY, head(2, "oneway", "log"), 1, {}),
    ("compact-ping", C_PING, head(1, "call", "ping", "compact"), 1, {}),
    ("compact-reply", C_ADD_REPLY, head(300, "reply", "add", "compact"), 4, {"0": 3}),
    ("compact-all-types", C_CALC, head(5, "call", "calc", "compact"), len(C_CALC_STRUCT),
     C_CALC_PAYLOAD),
    ("framed-binary", frame(CALC), head(-1, "call", "calc", framed=True), len(CALC_STRUCT),
     CALC_PAYLOAD),
    ("framed-compact", frame(C_CALC), head(5, "call", "calc", "compact", True),
     len(C_CALC_STRUCT), C_CALC_PAYLOAD),
]
IDS = [c[0] for c in CASES]


def expected(wire, h, body_size, payload=None):
    """The events of one message: its head, the struct bytes (the last ``body_size``)."""
    body = wire[len(wire) - body_size:]
    return [("MS", h)] + ([("D", body)] if body else []) + (
        [("ME",)] if payload is None else [("ME", payload)])


@pytest.mark.parametrize("wire,h,size,payload", [c[1:] for c in CASES], ids=IDS)
def test_decode_every_split(wire, h, size, payload):
    for pieces in splits(wire):
        assert decode("decodeThrift", pieces) == expected(wire, h, size)


@pytest.mark.parametrize("wire,h,size,payload", [c[1:] for c in CASES], ids=IDS)
def test_decode_payload(wire, h, size, payload):
    assert decode("decodeThrift", [wire], PAYLOAD) == expected(wire, h, size, payload)
    assert decode("decodeThrift", [wire[i:i + 1] for i in range(len(wire))], PAYLOAD) == \
        expected(wire, h, size, payload)


def test_messages_back_to_back():
    wire = b"".join(c[1] for c in CASES)
    want = [x for c in CASES for x in expected(*c[1:4])]
    for pieces in splits(wire):
        assert decode("decodeThrift", pieces) == want


@pytest.mark.parametrize("wire", [c[1] for c in CASES if c[0] != "binary-old-oneway"],
                         ids=[c[0] for c in CASES if c[0] != "binary-old-oneway"])
def test_reencode_gives_the_same_bytes(wire):
    p, out = codec("decodeThrift")
    p.input(Data(wire))
    res = encode("encodeThrift", out.events)
    assert res[0][0] == "MS" and res[-1] == ("ME",)
    assert b"".join(r[1] for r in res if r[0] == "D") == wire


def test_old_encoding_is_reencoded_strict():
    p, out = codec("decodeThrift")
    p.input(Data(OLD_ONEWAY))
    res = encode("encodeThrift", out.events)
    assert res[1] == ("D", bytes([0x80, 0x01, 0x00, 0x04, 0, 0, 0, 3, *b"log", 0, 0, 0, 2, 0]))


@pytest.mark.parametrize("wire", [
    bytes([0x80, 0x02, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0]),  # version 2
    bytes([0x80, 0x01, 0x00, 0x05, 0, 0, 0, 0, 0, 0, 0, 0, 0]),  # message type 5
    bytes([0x80, 0x01, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0x11, 0, 1, 0]),  # value type 17
    bytes([0x90, 0x01, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0]),  # not a protocol id
    bytes([0x82, 0x22, 0x01, 0x00, 0x00]),                       # compact version 2
])
def test_not_thrift_ends_the_stream(wire):
    assert decode("decodeThrift", [wire + PING]) == [("SE", "ReadError")]


def test_a_frame_is_not_parsed_unless_the_payload_is_wanted():
    # the frame length alone delimits a framed message; the struct is read only for {payload}
    wire = frame(PING[:-1]) + PING[-1:]  # the struct's stop byte is outside the frame
    assert decode("decodeThrift", [wire])[:2] == [
        ("MS", head(1, "call", "ping", framed=True)), ("ME",)]
    assert decode("decodeThrift", [wire], PAYLOAD) == [("SE", "ReadError")]


def test_deep_nesting_is_refused():
    nested = bytes([0x0C, 0x00, 0x01]) * 70 + bytes(71)
    wire = PING[:-1] + nested
    assert decode("decodeThrift", [wire]) == [("SE", "ReadError")]


def test_stream_end_resets():
    p, out = codec("decodeThrift")
    p.input(Data(CALC[:20]))
    p.input(StreamEnd())
    p.input(Data(PING))
    assert show(out.events) == [("SE", ""), *expected(PING, head(1, "call", "ping"), 1)]


def test_encode_defaults_and_compact_from_a_script_head():
    res = encode("encodeThrift", [MessageStart(JSObject()), Data(b"\x00"), MessageEnd()])
    assert res[1] == ("D", bytes([0x80, 0x01, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0, 0]) + b"\x00")
    h = JSObject(seqID=-1, type="oneway", name="x", protocol="compact")
    res = encode("encodeThrift", [MessageStart(h), Data(b"\x00"), MessageEnd()])
    # type 4 << 5 | version 1; seq id -1 as an unsigned 32-bit varint; name
    assert res[1] == ("D", bytes([0x82, 0x81, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0x01, *b"x", 0]))


def test_encode_framed_holds_the_frame_till_message_end():
    h = JSObject(seqID=1, type="call", name="ping", framed=True)
    res = encode("encodeThrift", [MessageStart(h), Data(b"\x00"), MessageEnd()])
    assert res == [("MS", dict(h)), ("D", frame(PING)), ("ME",)]
