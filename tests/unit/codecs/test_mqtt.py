"""decodeMQTT / encodeMQTT: packets written byte by byte from the MQTT 3.1.1 and 5.0 specs,
decoded whole, byte by byte and split at every position, and re-encoded to the same bytes."""
import pytest

from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.js.values import JSArray, JSObject

from pipyd.filters.mqtt import varint

from . import codec, decode, encode, show, splits


def h(ptype, qos=0, dup=False, retain=False, **fields):
    return {"type": ptype, "qos": qos, "dup": dup, "retain": retain, **fields}


def msg(head, body=b""):
    return [("MS", head)] + ([("D", body)] if body else []) + [("ME",)]


V4 = [
    ("connect-3.1.1", bytes([
        0x10, 27,                                   # CONNECT, remaining length 27 (§3.1.1)
        0x00, 0x04, *b"MQTT",                       # protocol name
        0x04,                                       # protocol level 4 = 3.1.1
        0xC2,                                       # flags: username, password, clean session
        0x00, 0x3C,                                 # keep alive 60 s
        0x00, 0x03, *b"abc",                        # client identifier
        0x00, 0x04, *b"user",                       # user name
        0x00, 0x04, *b"pass",                       # password
    ]), msg(h("CONNECT", protocolLevel=4, keepAlive=60, clientID="abc", cleanStart=True,
              username="user", password=b"pass"))),
    ("connack", bytes([0x20, 0x02,                  # CONNACK, length 2 (§3.2)
                       0x01,                        # session present
                       0x00]),                      # return code 0: accepted
     msg(h("CONNACK", sessionPresent=True, reasonCode=0))),
    ("publish-qos0", bytes([
        0x30, 10,                                   # PUBLISH qos 0, length 10 (§3.3)
        0x00, 0x03, *b"a/b",                        # topic name
        *b"hello",                                  # payload: the rest
    ]), msg(h("PUBLISH", topicName="a/b"), b"hello")),
    ("publish-qos1-dup-retain", bytes([
        0x3B, 7,                                    # PUBLISH dup(8) qos 1(2) retain(1)
        0x00, 0x01, *b"t",                          # topic name
        0x00, 0x0A,                                 # packet identifier 10 (qos > 0)
        *b"xy",
    ]), msg(h("PUBLISH", 1, True, True, topicName="t", packetIdentifier=10), b"xy")),
    ("publish-empty-payload", bytes([0x30, 3, 0x00, 0x01, *b"t"]),
     msg(h("PUBLISH", topicName="t"))),
    ("publish-2-byte-length", bytes([0x30, 0xCB, 0x01,  # 203 = 0x4B | 1 << 7 (§1.5.5)
                                     0x00, 0x01, *b"t"]) + bytes(range(200)),
     msg(h("PUBLISH", topicName="t"), bytes(range(200)))),
    ("puback", bytes([0x40, 0x02, 0x00, 0x0A]),     # PUBACK for packet 10 (§3.4)
     msg(h("PUBACK", packetIdentifier=10, reasonCode=0))),
    ("pubrec", bytes([0x50, 0x02, 0x01, 0x00]),     # PUBREC for packet 256
     msg(h("PUBREC", packetIdentifier=256, reasonCode=0))),
    ("pubrel", bytes([0x62, 0x02, 0x00, 0x0A]),     # PUBREL: reserved flags 0010 (§3.6.1)
     msg(h("PUBREL", 1, packetIdentifier=10, reasonCode=0))),
    ("pubcomp", bytes([0x70, 0x02, 0x00, 0x0A]),
     msg(h("PUBCOMP", packetIdentifier=10, reasonCode=0))),
    ("subscribe", bytes([
        0x82, 12,                                   # SUBSCRIBE, flags 0010 (§3.8.1)
        0x00, 0x01,                                 # packet identifier 1
        0x00, 0x03, *b"a/#", 0x01,                  # filter "a/#", requested qos 1
        0x00, 0x01, *b"b", 0x00,                    # filter "b", qos 0
    ]), msg(h("SUBSCRIBE", 1, packetIdentifier=1, topicFilters=[
        {"filter": "a/#", "qos": 1}, {"filter": "b", "qos": 0}]))),
    ("suback", bytes([0x90, 0x04, 0x00, 0x01,       # SUBACK for packet 1 (§3.9)
                      0x01, 0x80]),                 # granted qos 1, failure
     msg(h("SUBACK", packetIdentifier=1, reasonCodes=[1, 0x80]))),
    ("unsubscribe", bytes([0xA2, 0x07, 0x00, 0x02,  # UNSUBSCRIBE, flags 0010 (§3.10.1)
                           0x00, 0x03, *b"a/#"]),
     msg(h("UNSUBSCRIBE", 1, packetIdentifier=2, topicFilters=["a/#"]))),
    ("unsuback", bytes([0xB0, 0x02, 0x00, 0x02]),   # 3.1.1 UNSUBACK has no payload
     msg(h("UNSUBACK", packetIdentifier=2, reasonCodes=[]))),
    ("pingreq", bytes([0xC0, 0x00]), msg(h("PINGREQ"))),
    ("pingresp", bytes([0xD0, 0x00]), msg(h("PINGRESP"))),
    ("disconnect", bytes([0xE0, 0x00]), msg(h("DISCONNECT", reasonCode=0))),
]

V5 = [  # decoded with {protocolLevel: 5}
    ("publish-properties", bytes([
        0x30, 16,                                   # PUBLISH qos 0, length 16
        0x00, 0x01, *b"t",                          # topic name
        11,                                         # properties length (§2.2.2.1)
        0x03, 0x00, 0x01, *b"a",                    # content type "a" (id 3)
        0x26, 0x00, 0x01, *b"k", 0x00, 0x01, *b"v",  # user property k=v (id 38)
        *b"p",
    ]), msg(h("PUBLISH", topicName="t", properties={"contentType": "a", "k": "v"}), b"p")),
    ("puback-reason", bytes([0x40, 0x07, 0x00, 0x05,  # PUBACK packet 5
                             0x10,                  # reason 16: no matching subscribers
                             0x03,                  # properties length 3
                             0x1F, 0x00, 0x00]),    # reason string "" (id 31)
     msg(h("PUBACK", packetIdentifier=5, reasonCode=0x10, properties={"reasonString": ""}))),
    ("subscribe-options", bytes([
        0x82, 9, 0x00, 0x03,                        # SUBSCRIBE packet 3, length 9
        0x02, 0x0B, 0x07,                           # properties: subscription identifier 7
        0x00, 0x01, *b"x",
        0x2D,                                       # options: retain handling 2, rap, nl, qos 1
    ]), msg(h("SUBSCRIBE", 1, packetIdentifier=3, properties={"subscriptionIdentifier": 7},
              topicFilters=[{"filter": "x", "qos": 1, "noLocal": True,
                             "retainAsPublished": True, "retainHandling": 2}]))),
    ("suback-v5", bytes([0x90, 0x05, 0x00, 0x03, 0x00,  # no properties
                         0x01, 0x87]),              # granted 1, not authorized
     msg(h("SUBACK", packetIdentifier=3, reasonCodes=[1, 0x87]))),
    ("unsuback-v5", bytes([0xB0, 0x04, 0x00, 0x02, 0x00, 0x11]),
     msg(h("UNSUBACK", packetIdentifier=2, reasonCodes=[0x11]))),
    ("disconnect-v5", bytes([0xE0, 0x07, 0x8E,      # reason 0x8E: session taken over
                             0x05,                  # properties length 5
                             0x11, 0x00, 0x00, 0x00, 0x3C]),  # session expiry 60 (4 bytes)
     msg(h("DISCONNECT", reasonCode=0x8E, properties={"sessionExpiryInterval": 60}))),
    ("connack-v5", bytes([0x20, 0x08, 0x00, 0x00,
                          0x05,                     # properties length 5
                          0x21, 0x00, 0x0A,         # receive maximum 10 (id 33, two bytes)
                          0x24, 0x01]),             # maximum qos 1 (id 36)
     msg(h("CONNACK", sessionPresent=False, reasonCode=0,
           properties={"receiveMaximum": 10, "maximumQoS": 1}))),
    ("disconnect-empty-v5", bytes([0xE0, 0x00]), msg(h("DISCONNECT", reasonCode=0))),
]

CONNECT_V5 = bytes([
    0x10, 30,                                       # CONNECT, length 30
    0x00, 0x04, *b"MQTT", 0x05,                     # protocol name, level 5
    0x0E,                                           # flags: will qos 1 (08), will (04), clean
    0x00, 0x0A,                                     # keep alive 10
    0x05, 0x11, 0x00, 0x00, 0x00, 0x3C,             # properties: session expiry 60 (id 17)
    0x00, 0x02, *b"id",                             # client identifier
    0x02, 0x01, 0x01,                               # will properties: payload format 1 (id 1)
    0x00, 0x01, *b"t",                              # will topic
    0x00, 0x02, *b"hi",                             # will payload
])
CONNECT_V5_MSG = msg(h("CONNECT", protocolLevel=5, keepAlive=10, clientID="id", cleanStart=True,
                       properties={"sessionExpiryInterval": 60},
                       will={"qos": 1, "retain": False, "properties": {"payloadFormatIndicator": 1},
                             "topic": "t", "payload": b"hi"}))

OPT5 = JSObject(protocolLevel=5)
CASES = [(n, w, e, ()) for n, w, e in V4] + [(n, w, e, (OPT5,)) for n, w, e in V5]


@pytest.mark.parametrize("wire,expected,args", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_decode_every_split(wire, expected, args):
    for pieces in splits(wire):
        assert decode("decodeMQTT", pieces, *args) == expected


@pytest.mark.parametrize("wire,expected,args", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_reencode_gives_the_same_bytes(wire, expected, args):
    out = encode("encodeMQTT", _decode_events(wire, args), *args)
    assert out[0][0] == "MS" and out[-1] == ("ME",)
    assert b"".join(x[1] for x in out if x[0] == "D") == wire


def _decode_events(wire, args):
    p, out = codec("decodeMQTT", *args)
    p.input(Data(wire))
    return out.events


def test_all_packets_back_to_back():
    wire = b"".join(c[1] for c in V4)
    expected = [x for c in V4 for x in c[2]]
    for pieces in (splits(wire)):
        assert decode("decodeMQTT", pieces) == expected


def test_connect_sets_the_level_for_what_follows():
    # a 5.0 CONNECT makes the decoder read properties in later packets without the option
    wire = CONNECT_V5 + V5[0][1]
    for pieces in splits(wire):
        assert decode("decodeMQTT", pieces) == CONNECT_V5_MSG + V5[0][2]


def test_connect_v5_reencodes():
    p_events = _decode_events(CONNECT_V5, ())
    out = encode("encodeMQTT", p_events)
    assert out[1] == ("D", CONNECT_V5)


def test_protocol_level_option_as_function():
    calls = []

    def level():
        calls.append(1)
        return 5
    wire = V5[0][1] + V5[0][1]
    assert decode("decodeMQTT", [wire], JSObject(protocolLevel=level)) == V5[0][2] * 2
    assert calls == [1]  # known after the first packet


@pytest.mark.parametrize("wire", [
    bytes([0x00, 0x00]),                           # packet type 0 is reserved (§2.1.2)
    bytes([0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]),   # a remaining length of 5 bytes (§1.5.5)
])
def test_malformed_fixed_header_ends_the_stream(wire):
    assert decode("decodeMQTT", [wire + bytes([0xC0, 0x00])]) == [("SE", "ReadError")]


def test_stream_end_resets_the_decoder():
    p, out = codec("decodeMQTT")
    p.input(Data(bytes([0x30, 0x05, 0x00])))  # a partial PUBLISH
    p.input(StreamEnd())
    p.input(Data(bytes([0xC0, 0x00])))
    assert show(out.events) == [("SE", ""), *msg(h("PINGREQ"))]


def test_varint_boundaries():
    # §1.5.5 table: 127 -> 1 byte, 128 -> 2, 16383 -> 2, 16384 -> 3, 268435455 -> 4
    assert varint(0) == b"\x00"
    assert varint(127) == b"\x7f"
    assert varint(128) == b"\x80\x01"
    assert varint(16383) == b"\xff\x7f"
    assert varint(16384) == b"\x80\x80\x01"
    assert varint(268435455) == b"\xff\xff\xff\x7f"


def test_encode_from_script_heads():
    head = JSObject(type="PUBLISH", qos=1, topicName="a", packetIdentifier=7)
    out = encode("encodeMQTT", [MessageStart(head), Data(b"xyz"), MessageEnd()])
    assert out == [("MS", dict(head)), ("D", bytes([0x32, 0x08, 0, 1, *b"a", 0, 7, *b"xyz"])),
                   ("ME",)]
    sub = JSObject(type="SUBSCRIBE", packetIdentifier=1,
                   topicFilters=JSArray([JSObject(filter="a/#", qos=1)]))
    out = encode("encodeMQTT", [MessageStart(sub), MessageEnd()])
    assert out[1] == ("D", bytes([0x82, 8, 0, 1, 0, 3, *b"a/#", 1]))


def test_encode_connect_username_and_password_from_strings():
    head = JSObject(type="CONNECT", clientID="c", username="u", password="p", keepAlive=5)
    out = encode("encodeMQTT", [MessageStart(head), MessageEnd()])
    assert out[1] == ("D", bytes([0x10, 19, 0, 4, *b"MQTT", 4, 0xC0, 0, 5,
                                  0, 1, *b"c", 0, 1, *b"u", 0, 1, *b"p"]))


def test_encode_v5_user_properties_and_known_ones():
    head = JSObject(type="PUBACK", packetIdentifier=1, reasonCode=0,
                    properties=JSObject(reasonString="ok", x="1"))
    out = encode("encodeMQTT", [MessageStart(head), MessageEnd()], JSObject(protocolLevel=5))
    props = bytes([0x1F, 0, 2, *b"ok", 0x26, 0, 1, *b"x", 0, 1, *b"1"])
    assert out[1] == ("D", bytes([0x40, 4 + len(props), 0, 1, 0, len(props)]) + props)


def test_encode_invalid_type_drops_the_message(caplog):
    out = encode("encodeMQTT", [MessageStart(JSObject(type="NOPE")), MessageEnd(),
                                MessageStart(JSObject(type="PINGREQ")), MessageEnd()])
    assert out == [("MS", {"type": "PINGREQ"}), ("D", b"\xc0\x00"), ("ME",)]


def test_encode_flushes_an_open_packet_at_stream_end():
    out = encode("encodeMQTT", [MessageStart(JSObject(type="PINGRESP")), StreamEnd()])
    assert out == [("MS", {"type": "PINGRESP"}), ("D", b"\xd0\x00"), ("SE", "")]
