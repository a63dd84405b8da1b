"""decodeWebSocket / encodeWebSocket (RFC 6455 §5): tables of frames fed whole, byte by byte
and split at every position; the RFC's own examples (§5.7) are the first rows."""
import pytest

from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.js.values import JSObject

from pipyd.filters.websocket import mask_bytes

from . import codec, merged, show

KEY = bytes((0x37, 0xFA, 0x21, 0x3D))


def frame(opcode: int, payload: bytes, fin: bool = True, key: bytes | None = None) -> bytes:
    """An independent frame builder for the tables (RFC 6455 §5.2)."""
    b0 = opcode | (0x80 if fin else 0)
    m = 0x80 if key else 0
    n = len(payload)
    if n < 126:
        h = bytes((b0, m | n))
    elif n < 65536:
        h = bytes((b0, m | 126)) + n.to_bytes(2, "big")
    else:
        h = bytes((b0, m | 127)) + n.to_bytes(8, "big")
    if key:
        payload = bytes(c ^ key[i % 4] for i, c in enumerate(payload))
        h += key
    return h + payload


def head(opcode, masked=False):
    return {"opcode": opcode, "masked": masked, "fin": True}


def msg(opcode, body, masked=False):
    return [("MS", head(opcode, masked))] + ([("D", body)] if body else []) + [("ME",)]


BIG = bytes(range(256)) * 256  # 64 KiB
DECODE_CASES = [
    # RFC 6455 §5.7 examples, verbatim bytes
    ("rfc-unmasked-text", bytes.fromhex("810548656c6c6f"), msg(1, b"Hello")),
    ("rfc-masked-text", bytes.fromhex("818537fa213d7f9f4d5158"), msg(1, b"Hello", True)),
    ("rfc-fragmented", bytes.fromhex("010348656c") + bytes.fromhex("80026c6f"), msg(1, b"Hello")),
    ("rfc-ping", bytes.fromhex("890548656c6c6f"), msg(9, b"Hello")),
    ("rfc-masked-pong", bytes.fromhex("8a8537fa213d7f9f4d5158"), msg(10, b"Hello", True)),
    ("rfc-256-binary", bytes.fromhex("827e0100") + bytes(256), msg(2, bytes(256))),
    ("rfc-64k-binary", bytes.fromhex("827f0000000000010000") + BIG, msg(2, BIG)),
    # more
    ("empty-text", frame(1, b""), msg(1, b"")),
    ("close-with-code", frame(8, b"\x03\xe8bye", key=KEY), msg(8, b"\x03\xe8bye", True)),
    ("two-messages", frame(1, b"a") + frame(2, b"bc", key=KEY),
     msg(1, b"a") + msg(2, b"bc", True)),
    ("125-bytes", frame(2, b"x" * 125), msg(2, b"x" * 125)),
    ("126-bytes-16bit", frame(2, b"y" * 126, key=KEY), msg(2, b"y" * 126, True)),
    ("three-fragments-masked",
     frame(1, b"ab", False, KEY) + frame(0, b"", False, KEY) + frame(0, b"cd", True, KEY),
     msg(1, b"abcd", True)),
    # a ping between fragments (§5.4) comes out after the message it interrupted
    ("ping-inside-fragments", frame(1, b"He", False) + frame(9, b"p") + frame(0, b"llo"),
     msg(1, b"Hello") + msg(9, b"p")),
    ("empty-ping-inside-fragments", frame(2, b"a", False) + frame(9, b"") + frame(0, b"b"),
     msg(2, b"ab") + msg(9, b"")),
]


def decode(pieces):
    p, out = codec("decodeWebSocket")
    for b in pieces:
        p.input(Data(b))
    return merged(show(out.events))


@pytest.mark.parametrize("wire,expected", [c[1:] for c in DECODE_CASES],
                         ids=[c[0] for c in DECODE_CASES])
def test_decode_whole(wire, expected):
    assert decode([wire]) == expected


@pytest.mark.parametrize("wire,expected", [c[1:] for c in DECODE_CASES if len(c[1]) < 2000],
                         ids=[c[0] for c in DECODE_CASES if len(c[1]) < 2000])
def test_decode_byte_by_byte(wire, expected):
    assert decode([wire[i:i + 1] for i in range(len(wire))]) == expected


@pytest.mark.parametrize("name", ["rfc-masked-text", "three-fragments-masked",
                                  "ping-inside-fragments", "126-bytes-16bit"])
def test_decode_split_at_every_position(name):
    wire, expected = next(c[1:] for c in DECODE_CASES if c[0] == name)
    for cut in range(1, len(wire)):
        assert decode([wire[:cut], wire[cut:]]) == expected, cut


def test_decode_streams_payload_before_the_frame_ends():
    p, out = codec("decodeWebSocket")
    wire = frame(2, b"0123456789", key=KEY)
    p.input(Data(wire[:10]))  # head (6) + 4 payload bytes
    assert show(out.events) == [("MS", head(2, True)), ("D", b"0123")]


def test_decode_oversized_control_frame_inside_a_message_ends_the_stream():
    wire = frame(1, b"a", False) + frame(9, b"x" * 126) + frame(0, b"b")
    assert decode([wire]) == [("MS", head(1)), ("D", b"a"), ("SE", "ReadError")]


def test_decode_stream_end_passes_and_resets():
    p, out = codec("decodeWebSocket")
    p.input(Data(frame(1, b"abc", False)[:3]))
    p.input(StreamEnd())
    p.input(Data(frame(1, b"z")))
    assert merged(show(out.events)) == [("MS", head(1)), ("D", b"a"), ("SE", ""),
                                        ("MS", head(1)), ("D", b"z"), ("ME",)]


def test_mask_bytes_matches_a_byte_loop_at_every_offset():
    data = bytes(range(37))
    for off in range(8):
        loop = bytes(c ^ KEY[(i + off) % 4] for i, c in enumerate(data))
        assert mask_bytes(data, KEY, off) == loop


# -- encoder ---------------------------------------------------------------------------------

def encode(*events):
    p, out = codec("encodeWebSocket")
    for e in events:
        p.input(e)
    return out


def wire_of(out):
    return b"".join(e.to_bytes() for e in out.events if type(e) is Data)


def unframe(wire):
    """Frames of ``wire`` as (fin, opcode, masked, payload), unmasked."""
    res, i = [], 0
    while i < len(wire):
        b0, b1 = wire[i], wire[i + 1]
        n, i = b1 & 0x7F, i + 2
        if n == 126:
            n, i = int.from_bytes(wire[i:i + 2], "big"), i + 2
        elif n == 127:
            n, i = int.from_bytes(wire[i:i + 8], "big"), i + 8
        key = None
        if b1 & 0x80:
            key, i = wire[i:i + 4], i + 4
        payload = wire[i:i + n]
        if key:
            payload = bytes(c ^ key[j % 4] for j, c in enumerate(payload))
        res.append((bool(b0 & 0x80), b0 & 0x0F, key is not None, payload))
        i += n
    return res


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 70000])
def test_encode_lengths_7_16_64_bit(size):
    body = bytes(i & 0xFF for i in range(size))
    out = encode(MessageStart(JSObject(opcode=2)), Data(body), MessageEnd())
    frames = unframe(wire_of(out))
    assert b"".join(f[3] for f in frames) == body
    assert all(len(f[3]) <= 0x4000 for f in frames)
    assert frames[0][1] == 2 and all(f[1] == 0 for f in frames[1:])
    assert [f[0] for f in frames] == [False] * (len(frames) - 1) + [True]


def test_encode_small_message_is_one_frame_with_rfc_bytes():
    out = encode(MessageStart(JSObject()), Data(b"Hello"), MessageEnd())
    assert wire_of(out) == bytes.fromhex("810548656c6c6f")
    assert [type(e).__name__ for e in out.events] == ["MessageStart", "Data", "MessageEnd"]


def test_encode_large_frame_uses_the_16_and_64_bit_length_forms():
    out = encode(MessageStart(JSObject(opcode=2)), Data(b"z" * 300), MessageEnd())
    assert wire_of(out)[:4] == bytes.fromhex("827e012c")


def test_encode_masked_frames_round_trip_through_the_decoder():
    out = encode(MessageStart(JSObject(opcode=1, masked=True)), Data(b"x" * 20000), MessageEnd(),
                 MessageStart(JSObject(opcode=9)), MessageEnd())
    frames = unframe(wire_of(out))
    assert [(f[0], f[1], f[2], len(f[3])) for f in frames] == [
        (False, 1, True, 0x4000), (True, 0, True, 20000 - 0x4000), (True, 9, False, 0)]
    assert decode([wire_of(out)]) == msg(1, b"x" * 20000, True) + msg(9, b"")


def test_encode_fin_false_continues_into_the_next_message():
    out = encode(MessageStart(JSObject(opcode=1, fin=False)), Data(b"Hel"), MessageEnd(),
                 MessageStart(JSObject(opcode=1)), Data(b"lo"), MessageEnd())
    assert wire_of(out) == bytes.fromhex("010348656c") + bytes.fromhex("80026c6f")
    assert decode([wire_of(out)]) == msg(1, b"Hello")


def test_encode_stream_end_passes_and_data_outside_a_message_is_dropped():
    out = encode(Data(b"loose"), StreamEnd("ReadError"))
    assert show(out.events) == [("SE", "ReadError")]


def test_encode_shutdown_ends_after_the_current_message():
    p, out = codec("encodeWebSocket")
    p.input(MessageStart(JSObject()))
    p.shutdown()
    p.input(Data(b"a"))
    p.input(MessageEnd())
    assert show(out.events)[-1] == ("SE", "")
    p2, out2 = codec("encodeWebSocket")
    p2.shutdown()
    assert show(out2.events) == [("SE", "")]
