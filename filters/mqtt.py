"""decodeMQTT and encodeMQTT: MQTT 3.1.1 (protocol level 4) and 5.0 (level 5) control packets as
messages (reference §2.2 rows 17 and 34).

Wire format (MQTT 5.0 §2.1, same in 3.1.1 §2.2)::

    byte 0: packet type (4 bits) | flags (4 bits: PUBLISH dup(8) qos(6) retain(1))
    remaining length: variable byte integer, 1-4 bytes, 7 bits each, low group first (§1.5.5)
    variable header and payload: two-byte big-endian integers, UTF-8 strings and binary data
    prefixed by a two-byte length (§1.5.4, §1.5.6), and in 5.0 a properties block (§2.2.2).

Rules, following Pipy 0.70:

- One message per packet. Head ``{type, qos, dup, retain, …}`` with ``type`` the packet name
  (``"CONNECT"``, ``"PUBLISH"``…) and the per-packet fields named as Pipy names them:
  ``protocolLevel keepAlive clientID cleanStart will{qos retain topic payload properties}
  username password sessionPresent reasonCode topicName packetIdentifier properties
  topicFilters reasonCodes``. The body is the PUBLISH application payload, nothing otherwise.
- The protocol level is unknown until a CONNECT shows it; before that the ``protocolLevel``
  option (4, 5 or a function returning one) decides, else 4. Fields are read as far as the
  packet holds them (a short packet gives a head with fewer fields, as Pipy).
- A malformed fixed header (type 0, a remaining length over 4 bytes) ends the stream with
  ``StreamEnd('ReadError')``: the peer broke the framing and nothing after it can be trusted.
- Where Pipy 0.70 departs from the MQTT specification pipyd follows the specification: four-
  byte integers are big-endian, the username flag is bit 7 and the password flag bit 6 (§3.1.2.8),
  will properties exist only in 5.0, SUBACK reason codes are one byte each (§3.9.3), PUBREL's
  fixed-header flags are 0010 (§3.6.1), and a zero-length DISCONNECT is a valid packet.
  In 5.0 subscription options other than QoS are kept as ``noLocal``, ``retainAsPublished`` and
  ``retainHandling`` when set, so a proxy re-encodes them.
- Encoder: buffers the body until MessageEnd (or StreamEnd), then outputs the MessageStart, the
  whole packet as one Data, and the ending event. The level is taken from a CONNECT/CONNACK
  head's ``protocolLevel`` (default 4) and kept for the stream; pipyd also accepts the decoder's
  ``{protocolLevel}`` option here. Properties with unknown names go out as user properties. In
  5.0 a reason code 0 without properties is left out, the short form the specification allows.
"""
from __future__ import annotations

from typing import Any

from pipyd import log
from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.js import runtime
from pipyd.js.coerce import own_keys, to_number, to_string
from pipyd.js.values import JSArray, JSObject, undefined
from pipyd.pipeline import FAILED, Filter
from pipyd.registry import register

from .stream_decoder import DEAD, StreamDecoder

TYPES = ("", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC", "PUBREL", "PUBCOMP",
         "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE", "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT",
         "AUTH")
TYPE_CODES = {name: i for i, name in enumerate(TYPES) if name}

# Property identifiers and value kinds (MQTT 5.0 §2.2.2.2); 38 is the user property.
_VARINT, _U8, _U16, _U32, _STR, _BIN = range(6)
PROPERTIES = {
    1: ("payloadFormatIndicator", _U8), 2: ("messageExpiryInterval", _U32),
    3: ("contentType", _STR), 8: ("responseTopic", _STR), 9: ("correlationData", _BIN),
    11: ("subscriptionIdentifier", _VARINT), 17: ("sessionExpiryInterval", _U32),
    18: ("assignedClientIdentifier", _STR), 19: ("serverKeepAlive", _U16),
    21: ("authenticationMethod", _STR), 22: ("authenticationData", _BIN),
    23: ("requestProblemInfo", _U8), 24: ("willDelayInterval", _U32),
    25: ("requestResponseInfo", _U8), 26: ("responseInfo", _STR), 28: ("serverReference", _STR),
    31: ("reasonString", _STR), 33: ("receiveMaximum", _U16), 34: ("topicAliasMaximum", _U16),
    35: ("topicAlias", _U16), 36: ("maximumQoS", _U8), 37: ("retainAvailable", _U8),
    39: ("maximumPacketSize", _U32), 40: ("wildcardSubscriptionAvailable", _U8),
    41: ("subscriptionIdentifierAvailable", _U8), 42: ("sharedSubscriptionAvailable", _U8),
}
PROPERTY_IDS = {name: (pid, kind) for pid, (name, kind) in PROPERTIES.items()}
USER_PROPERTY = 38
_INF = float("inf")


class _Short(Exception):
    """The packet ends before the field being read."""


class _Reader:
    __slots__ = ("b", "pos")

    def __init__(self, b: bytes) -> None:
        self.b, self.pos = b, 0

    def take(self, n: int) -> bytes:
        end = self.pos + n
        if end > len(self.b):
            raise _Short
        v = self.b[self.pos:end]
        self.pos = end
        return v

    def u8(self) -> int:
        if self.pos >= len(self.b):
            raise _Short
        self.pos += 1
        return self.b[self.pos - 1]

    def u16(self) -> int:
        return int.from_bytes(self.take(2), "big")

    def u32(self) -> int:
        return int.from_bytes(self.take(4), "big")

    def varint(self) -> int:
        n = shift = 0
        while True:
            c = self.u8()
            n |= (c & 0x7F) << shift
            shift += 7
            if not c & 0x80 or shift >= 28:
                return n

    def string(self) -> str:
        return self.take(self.u16()).decode("utf-8", "replace")

    def binary(self) -> Data:
        return Data.from_bytes(self.take(self.u16()))

    def more(self) -> bool:
        return self.pos < len(self.b)


def _read_properties(r: _Reader, props: JSObject | None = None) -> JSObject | None:
    end = r.varint() + r.pos
    if end == r.pos:
        return props
    props = JSObject() if props is None else props
    while r.pos < end:
        pid = r.u8()
        if pid == USER_PROPERTY:
            k = r.string()
            props[k] = r.string()
            continue
        name, kind = PROPERTIES.get(pid, (None, None))
        if name is None:
            raise _Short  # unknown identifier: the rest cannot be read (§2.2.2.2)
        read = (r.varint, r.u8, r.u16, r.u32, r.string, r.binary)[kind]
        props[name] = read()
    return props


def _properties(r: _Reader, head: JSObject) -> None:
    props = _read_properties(r)
    if props is not None:
        head["properties"] = props


def _connect(r: _Reader, head: JSObject) -> int:
    r.string()  # protocol name: "MQTT" ("MQIsdp" in 3.1)
    level = r.u8()
    head["protocolLevel"] = level
    flags = r.u8()
    head["keepAlive"] = r.u16()
    if level >= 5:
        _properties(r, head)
    head["clientID"] = r.string()
    head["cleanStart"] = bool(flags & 0x02)
    if flags & 0x04:
        will = head["will"] = JSObject(qos=(flags >> 3) & 3, retain=bool(flags & 0x20))
        if level >= 5:
            props = _read_properties(r)
            if props is not None:
                will["properties"] = props
        will["topic"] = r.string()
        will["payload"] = r.binary()
    if flags & 0x80:
        head["username"] = r.string()
    if flags & 0x40:
        head["password"] = r.binary()
    return level


def _reason_code(r: _Reader, head: JSObject) -> None:
    head["reasonCode"] = r.u8() if r.more() else 0  # absent means 0 (5.0 §3.4.2.1)


def _topic_filters(r: _Reader, head: JSObject, level: int, with_options: bool) -> None:
    filters = head["topicFilters"] = JSArray()
    while r.more():
        name = r.string()
        if not with_options:
            filters.append(name)
            continue
        opts = r.u8()
        f = JSObject(filter=name, qos=opts & 3)
        if level >= 5:  # subscription options (5.0 §3.8.3.1)
            if opts & 0x04:
                f["noLocal"] = True
            if opts & 0x08:
                f["retainAsPublished"] = True
            if opts & 0x30:
                f["retainHandling"] = (opts >> 4) & 3
        filters.append(f)


def parse_packet(ptype: int, body: bytes, head: JSObject, level: int) -> tuple[int, int]:
    """Fill ``head`` from a packet's variable header and payload. Returns the protocol level
    (a CONNECT sets it) and where a PUBLISH payload starts."""
    r = _Reader(body)
    v5 = level >= 5
    try:
        if ptype == 1:
            level = _connect(r, head)
        elif ptype == 2:
            head["sessionPresent"] = bool(r.u8() & 1)
            _reason_code(r, head)
            if v5:
                _properties(r, head)
        elif ptype == 3:
            head["topicName"] = r.string()
            if head["qos"] > 0:
                head["packetIdentifier"] = r.u16()
            if v5:
                _properties(r, head)
        elif 4 <= ptype <= 7:
            head["packetIdentifier"] = r.u16()
            _reason_code(r, head)
            if v5 and r.more():
                _properties(r, head)
        elif ptype in (8, 10):
            head["packetIdentifier"] = r.u16()
            if v5:
                _properties(r, head)
            _topic_filters(r, head, level, ptype == 8)
        elif ptype in (9, 11):
            head["packetIdentifier"] = r.u16()
            if v5:
                _properties(r, head)
            head["reasonCodes"] = JSArray(r.take(len(body) - r.pos))
        elif ptype >= 14:
            _reason_code(r, head)
            if v5 and r.more():
                _properties(r, head)
    except _Short:
        pass
    return level, r.pos


# decoder states
_FIXED, _LENGTH, _BODY = range(3)


@register("decodeMQTT")
class DecodeMQTT(StreamDecoder):
    __slots__ = ("option", "level", "byte0", "length", "shift", "buffer", "need")
    CONFIG = ("option",)

    @classmethod
    def configure(cls, config: Any, options: Any = undefined, *args: Any) -> "DecodeMQTT":
        f = cls.__new__(cls)
        f.option = undefined
        if isinstance(options, dict):
            f.option = runtime.get(options, "protocolLevel")
        f.reset()
        return f

    def reset(self) -> None:
        self.level = 0
        self.state = _FIXED
        self.byte0 = 0
        self.length = 0
        self.shift = 0
        self.buffer: list[bytes] = []
        self.need = 0

    def _feed(self, b: bytes) -> None:
        pos, n = 0, len(b)
        while pos < n:
            state = self.state
            if state == _BODY:
                take = min(self.need, n - pos)
                self.buffer.append(b[pos:pos + take])
                pos += take
                self.need -= take
                if not self.need:
                    self._packet()
            elif state == _FIXED:
                self.byte0 = c = b[pos]
                pos += 1
                if not c >> 4:
                    return self._fail()
                self.length = self.shift = 0
                self.state = _LENGTH
            elif state == _LENGTH:
                c = b[pos]
                pos += 1
                self.length |= (c & 0x7F) << self.shift
                self.shift += 7
                if c & 0x80:
                    if self.shift >= 28:  # at most 4 bytes (§1.5.5)
                        return self._fail()
                    continue
                self.need = self.length
                self.buffer = []
                if self.need:
                    self.state = _BODY
                else:
                    self._packet()
            else:
                return

    def _fail(self) -> None:
        self.state = DEAD
        self.next.process(StreamEnd("ReadError"))

    def _packet(self) -> None:
        self.state = _FIXED
        c = self.byte0
        ptype = c >> 4
        head = JSObject(type=TYPES[ptype], qos=(c >> 1) & 3, dup=bool(c & 0x08),
                        retain=bool(c & 1))
        if not self.level:
            self._option_level()
        body = b"".join(self.buffer)
        self.buffer = []
        self.level, start = parse_packet(ptype, body, head, self.level)
        nxt = self.next
        nxt.process(MessageStart(head))
        if ptype == 3 and start < len(body):
            nxt.process(Data.from_bytes(body[start:]))
        nxt.process(MessageEnd())

    def _option_level(self) -> None:
        v = self.eval_arg(self.option)
        if v is undefined or v is None or v is FAILED:
            return
        if type(v) in (int, float):
            if v == 4 or v == 5:
                self.level = int(v)
            else:
                log.error("[decodeMQTT] options.protocolLevel expects 4 or 5")
        else:
            log.error("[decodeMQTT] options.protocolLevel expects a number or a function "
                      "returning a number")

    def dump(self) -> str:
        return "decodeMQTT"


# -- encoding -------------------------------------------------------------------------------

def varint(n: int) -> bytes:
    """A variable byte integer (§1.5.5)."""
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _u16(n: int) -> bytes:
    return (n & 0xFFFF).to_bytes(2, "big")


def _utf8(s: str) -> bytes:
    b = s.encode("utf-8", "surrogatepass")
    return _u16(len(b)) + b


def _bin(b: bytes) -> bytes:
    return _u16(len(b)) + b


def _get(obj: Any, key: str) -> Any:
    if obj is None or obj is undefined:
        return undefined
    return runtime.get(obj, key)


def _num(obj: Any, key: str, default: int = 0) -> int:
    v = _get(obj, key)
    return int(v) if type(v) in (int, float) and v == v else default


def _flag(obj: Any, key: str) -> bool:
    v = _get(obj, key)
    return v is not undefined and runtime.truthy(v)


def _str(obj: Any, key: str) -> str:
    v = _get(obj, key)
    return v if type(v) is str else ""


def _data(obj: Any, key: str) -> bytes | None:
    v = _get(obj, key)
    if type(v) is Data:
        return v.to_bytes()
    if v is None or v is undefined:
        return None
    return to_string(v).encode("utf-8", "surrogatepass")


def encode_properties(props: Any) -> bytes:
    out = bytearray()
    if isinstance(props, dict):
        for k in own_keys(props):
            v = props[k]
            pid, kind = PROPERTY_IDS.get(k, (USER_PROPERTY, -1))
            out += varint(pid)
            if kind == -1:
                out += _utf8(k) + _utf8(to_string(v))
            elif kind == _STR:
                out += _utf8(to_string(v))
            elif kind == _BIN:
                out += _bin(v.to_bytes() if type(v) is Data else b"")
            else:
                x = to_number(v)
                n = int(x) if x == x and x not in (_INF, -_INF) else 0
                out += (varint(n & 0xFFFFFFF) if kind == _VARINT else
                        (n & 0xFF).to_bytes(1, "big") if kind == _U8 else
                        _u16(n) if kind == _U16 else (n & 0xFFFFFFFF).to_bytes(4, "big"))
    return varint(len(out)) + bytes(out)


def build_packet(head: Any, payload: bytes, level: int) -> tuple[bytes | None, int]:
    """The bytes of the packet ``head`` describes (None for an unknown type) and the protocol
    level for what follows."""
    ptype = TYPE_CODES.get(_get(head, "type"))
    if ptype is None:
        return None, level
    if ptype in (1, 2):
        level = _num(head, "protocolLevel", level or 4)
    v5 = level >= 5
    props = encode_properties(_get(head, "properties")) if v5 else b""
    flags = 0
    out = bytearray()
    if ptype == 1:
        out += _connect_body(head, level, props)
    elif ptype == 2:
        out += bytes((1 if _flag(head, "sessionPresent") else 0, _num(head, "reasonCode") & 0xFF))
        out += props
    elif ptype == 3:
        qos = _num(head, "qos") & 3
        flags = qos << 1 | (8 if _flag(head, "dup") else 0) | (1 if _flag(head, "retain") else 0)
        out += _utf8(_str(head, "topicName"))
        if qos:
            out += _u16(_num(head, "packetIdentifier"))
        out += props + payload
    elif 4 <= ptype <= 7:
        flags = 2 if ptype == 6 else 0  # PUBREL's reserved flags are 0010 (§3.6.1)
        out += _u16(_num(head, "packetIdentifier"))
        if v5:
            out += _reason(head, props)
    elif ptype in (8, 10):
        flags = 2  # §3.8.1, §3.10.1
        out += _u16(_num(head, "packetIdentifier")) + props
        out += _filters(_get(head, "topicFilters"), ptype == 8)
    elif ptype in (9, 11):
        out += _u16(_num(head, "packetIdentifier")) + props
        codes = _get(head, "reasonCodes")
        if isinstance(codes, list):
            out += bytes(int(c) & 0xFF if type(c) in (int, float) else 0 for c in codes)
    elif ptype >= 14 and v5:
        out += _reason(head, props)
    return bytes((ptype << 4 | flags,)) + varint(len(out)) + bytes(out), level


def _reason(head: Any, props: bytes) -> bytes:
    """Reason code and properties; both left out when the code is 0 and there are no
    properties (5.0 §3.4.2.1, §3.14.2.1, §3.15.2.1), as the decoder reads them."""
    code = _num(head, "reasonCode") & 0xFF
    if not code and props == b"\x00":
        return b""
    return bytes((code,)) + props


def _connect_body(head: Any, level: int, props: bytes) -> bytes:
    will = _get(head, "will")
    will = will if isinstance(will, dict) else None
    username = _get(head, "username")
    password = _data(head, "password")
    flags = 0x02 if _flag(head, "cleanStart") else 0
    if will is not None:
        flags |= 0x04 | (_num(will, "qos") & 3) << 3 | (0x20 if _flag(will, "retain") else 0)
    if type(username) is str:
        flags |= 0x80
    if password is not None:
        flags |= 0x40
    out = bytearray(_utf8("MQTT"))
    out += bytes((level & 0xFF, flags)) + _u16(_num(head, "keepAlive")) + props
    out += _utf8(_str(head, "clientID"))
    if will is not None:
        if level >= 5:
            out += encode_properties(_get(will, "properties"))
        out += _utf8(_str(will, "topic")) + _bin(_data(will, "payload") or b"")
    if type(username) is str:
        out += _utf8(username)
    if password is not None:
        out += _bin(password)
    return bytes(out)


def _filters(filters: Any, with_options: bool) -> bytes:
    out = bytearray()
    if not isinstance(filters, list):
        return b""
    for f in filters:
        if not with_options:
            out += _utf8(to_string(f))
        elif isinstance(f, dict):
            opts = (_num(f, "qos") & 3 | (4 if _flag(f, "noLocal") else 0)
                    | (8 if _flag(f, "retainAsPublished") else 0)
                    | (_num(f, "retainHandling") & 3) << 4)
            out += _utf8(_str(f, "filter")) + bytes((opts,))
    return bytes(out)


@register("encodeMQTT")
class EncodeMQTT(Filter):
    __slots__ = ("option", "level", "start", "buffer")
    CONFIG = ("option",)

    configure = classmethod(DecodeMQTT.configure.__func__)  # same optional {protocolLevel}

    def reset(self) -> None:
        self.level = 0
        self.start: MessageStart | None = None
        self.buffer: list[bytes] = []

    def process(self, evt: Any) -> None:
        t = type(evt)
        if t is MessageStart:
            self.start = evt
            self.buffer = []
        elif t is Data:
            if self.start is not None:
                self.buffer.extend(evt.chunks)
        elif t is MessageEnd or t is StreamEnd:
            start = self.start
            self.start = None
            # a packet that cannot be encoded is dropped with its MessageEnd (Pipy)
            if (start is not None and self._encode(start)) or t is StreamEnd:
                self.next.process(evt)

    def _encode(self, start: MessageStart) -> bool:
        if not self.level:
            v = self.eval_arg(self.option)
            if v == 4 or v == 5:
                self.level = int(v)
        head = start.head
        if head is None or head is undefined:
            log.error("[encodeMQTT] trying to encode a packet without a head")
            return False
        packet, self.level = build_packet(head, b"".join(self.buffer), self.level)
        self.buffer = []
        if packet is None:
            log.error("[encodeMQTT] invalid packet type")
            return False
        self.next.process(start)
        self.next.process(Data.from_bytes(packet))
        return True

    def dump(self) -> str:
        return "encodeMQTT"
