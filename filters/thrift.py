"""decodeThrift and encodeThrift: Thrift RPC messages (binary and compact protocols, framed or
not) as messages (reference §2.2 rows 19 and 35).

Message headers (Apache Thrift doc/specs: thrift-binary-protocol.md, thrift-compact-protocol.md)::

    binary, strict:  80 01 00 0t | name length (i32) | name | seq id (i32)
    binary, old:     name length (i32) | name | t | seq id (i32)
    compact:         82 | ttt00001 | seq id (varint) | name length (varint) | name
    framed:          frame length (i32) before any of the above (TFramedTransport)

with ``t`` the message type: 1 call, 2 reply, 3 exception, 4 oneway. The header is followed by
one struct (the arguments or the result), which is where the message ends when it is not framed.

Rules, following Pipy 0.70:

- Decoder: head ``{seqID, type, name, protocol}`` with ``type`` ``"call" | "reply" |
  "exception" | "oneway"`` and ``protocol`` ``"binary" | "compact"``; pipyd adds ``framed:
  true`` to the head of a framed message so that encodeThrift frames it again. The body is the
  struct's raw bytes. With ``{payload: true}`` the struct is also decoded into
  ``MessageEnd.payload``: a struct is an object keyed by field id (``"1"``, ``"2"``…), lists and
  sets are arrays, a map is an array of ``[key, value]`` entries, i64 is a number, binary is a
  string when it is valid UTF-8 and a Data otherwise, uuid is its canonical string (Pipy: null).
- A message is output once its struct is complete (a framed one once its frame is). Anything
  that is not Thrift (an unknown message type or value type, a negative length, nesting deeper
  than 64) ends the stream with ``StreamEnd('ReadError')``.
- Where Pipy 0.70 departs from the compact specification pipyd follows the specification:
  varints are little-endian groups of 7 bits, an empty map is the single byte 0, and compact
  seq ids are signed 32-bit numbers.
- Encoder: the MessageStart is followed by the header built from its head (defaults: seqID 0,
  type call, empty name, binary strict protocol) and the body passes through; with ``framed``
  the body is held until MessageEnd and the frame goes out whole. It does not encode
  ``MessageEnd.payload`` (Pipy 0.70 does not either).
"""
from __future__ import annotations

import struct
import uuid
from typing import Any

from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.js import runtime
from pipyd.js.values import JSArray, JSObject, undefined
from pipyd.pipeline import Filter
from pipyd.registry import register

TYPES = (None, "call", "reply", "exception", "oneway")
TYPE_CODES = {"call": 1, "reply": 2, "exception": 3, "oneway": 4}
MAX_DEPTH = 64


class _Short(Exception):
    """More bytes are needed: at least ``need`` from the start of the buffer."""

    def __init__(self, need: int) -> None:
        self.need = need


class _Bad(Exception):
    """Not Thrift: the stream cannot be decoded further."""


def _number(n: int) -> int | float:
    return n if -2**53 <= n <= 2**53 else float(n)


def _i32(n: int) -> int:
    n &= 0xFFFFFFFF
    return n - 0x100000000 if n & 0x80000000 else n


def _binary_value(b: bytes) -> Any:
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError:
        return Data.from_bytes(b)


class _Reader:
    """Reads Thrift values from ``b`` starting at ``pos``; ``compact`` picks the protocol."""

    __slots__ = ("b", "pos", "end", "compact")

    def __init__(self, b: bytes | bytearray, pos: int, end: int, compact: bool) -> None:
        self.b, self.pos, self.end, self.compact = b, pos, end, compact

    def take(self, n: int) -> bytes:
        if n < 0:
            raise _Bad
        p = self.pos
        if p + n > self.end:
            raise _Short(p + n)
        self.pos = p + n
        return bytes(self.b[p:p + n])

    def u8(self) -> int:
        p = self.pos
        if p >= self.end:
            raise _Short(p + 1)
        self.pos = p + 1
        return self.b[p]

    def int_(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big", signed=True)

    def varint(self) -> int:
        n = shift = 0
        while True:
            c = self.u8()
            n |= (c & 0x7F) << shift
            if not c & 0x80:
                return n
            shift += 7
            if shift > 63:
                raise _Bad

    def zigzag(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    # -- values ------------------------------------------------------------------------------

    def value(self, t: int, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise _Bad
        if self.compact:
            return self._compact(t, depth)
        return self._binary(t, depth)

    def _binary(self, t: int, depth: int) -> Any:
        if t == 2:
            return self.u8() != 0
        if t == 3:
            return self.int_(1)
        if t == 4:
            return struct.unpack(">d", self.take(8))[0]
        if t == 6:
            return self.int_(2)
        if t == 8:
            return self.int_(4)
        if t == 10:
            return _number(self.int_(8))
        if t == 11:
            return _binary_value(self.take(self.int_(4)))
        if t == 12:
            return self.struct(depth + 1)
        if t == 13:
            kt, vt, n = self.u8(), self.u8(), self.int_(4)
            return self._map(kt, vt, n, depth)
        if t in (14, 15):
            et, n = self.u8(), self.int_(4)
            return self._list(et, n, depth)
        if t == 16:
            return str(uuid.UUID(bytes=self.take(16)))
        raise _Bad

    def _compact(self, t: int, depth: int) -> Any:
        if t in (1, 2):  # a bool element: one byte, 1 is true (compact spec, booleans)
            return self.u8() == 1
        if t == 3:
            return int.from_bytes(self.take(1), "big", signed=True)
        if t in (4, 5):
            return _i32(self.zigzag())
        if t == 6:
            return _number(self.zigzag())
        if t == 7:
            return struct.unpack("<d", self.take(8))[0]  # little-endian (compact spec)
        if t == 8:
            return _binary_value(self.take(self.varint()))
        if t in (9, 10):
            h = self.u8()
            n = h >> 4
            if n == 15:
                n = self.varint()
            return self._list(h & 0x0F, n, depth)
        if t == 11:
            n = self.varint()
            if not n:
                return JSArray()
            kv = self.u8()
            return self._map(kv >> 4, kv & 0x0F, n, depth)
        if t == 12:
            return self.struct(depth + 1)
        if t == 13:
            return str(uuid.UUID(bytes=self.take(16)))
        raise _Bad

    def _list(self, et: int, n: int, depth: int) -> JSArray:
        if n < 0:
            raise _Bad
        return JSArray(self.value(et, depth + 1) for _ in range(n))

    def _map(self, kt: int, vt: int, n: int, depth: int) -> JSArray:
        if n < 0:
            raise _Bad
        out = JSArray()
        for _ in range(n):
            k = self.value(kt, depth + 1)
            out.append(JSArray((k, self.value(vt, depth + 1))))
        return out

    def struct(self, depth: int) -> JSObject:
        if depth > MAX_DEPTH:
            raise _Bad
        obj = JSObject()
        last = 0
        while True:
            h = self.u8()
            if not h:
                return obj
            if self.compact:
                t, delta = h & 0x0F, h >> 4
                last = last + delta if delta else self.zigzag()  # long form: zigzag i16
                v = (t == 1) if t in (1, 2) else self.value(t, depth)  # bools in the header
            else:
                last = self.int_(2)
                v = self.value(h, depth)
            obj[str(last)] = v


def parse_header(buf: bytes | bytearray, pos: int, end: int) -> tuple[JSObject, int, bool]:
    """The head of the message at ``buf[pos:end]``, where its struct starts, and whether it is
    compact. Raises _Short/_Bad."""
    r = _Reader(buf, pos, end, False)
    b0 = r.u8()
    if b0 == 0x82:
        tv = r.u8()
        if tv & 0x1F != 1:
            raise _Bad
        mtype = tv >> 5
        r.compact = True
        seq = _i32(r.varint())
        name = r.take(r.varint())
        protocol = "compact"
    else:
        if b0 == 0x80:
            if r.u8() != 0x01:
                raise _Bad
            r.u8()
            mtype = r.u8() & 0x07
            name = r.take(r.int_(4))
        elif b0 & 0x80:
            raise _Bad
        else:  # old encoding: starts with the name length
            r.pos = pos
            name = r.take(r.int_(4))
            mtype = r.u8()
        seq = r.int_(4)
        protocol = "binary"
    if not 1 <= mtype <= 4:
        raise _Bad
    head = JSObject(seqID=seq, type=TYPES[mtype], name=name.decode("utf-8", "replace"),
                    protocol=protocol)
    return head, r.pos, r.compact


def parse_message(buf: bytes | bytearray, want_payload: bool) -> tuple[JSObject, int, int, Any, int]:
    """One whole message at the start of ``buf``: (head, body start, body end, payload, size).
    Raises _Short when it is not all there yet, _Bad when it is not Thrift."""
    end = len(buf)
    framed = False
    if end < 5:
        raise _Short(5)
    if not buf[0] & 0x80 and buf[4] in (0x80, 0x82):  # a frame length before a message
        size = int.from_bytes(buf[0:4], "big")
        if size + 4 > end:
            raise _Short(size + 4)
        framed, pos, end = True, 4, size + 4
    else:
        pos = 0
    try:
        head, start, compact = parse_header(buf, pos, end)
        r = _Reader(buf, start, end, compact)
        payload = None
        if want_payload or not framed:
            payload = r.struct(1)
    except _Short:
        if framed:
            raise _Bad from None  # the struct does not fit in its frame
        raise
    if framed:
        head["framed"] = True
        return head, start, end, payload if want_payload else None, end
    return head, start, r.pos, payload if want_payload else None, r.pos


@register("decodeThrift")
class DecodeThrift(Filter):
    __slots__ = ("payload", "buffer", "need", "dead")
    CONFIG = ("payload",)

    @classmethod
    def configure(cls, config: Any, options: Any = undefined, *args: Any) -> "DecodeThrift":
        f = cls.__new__(cls)
        f.payload = False
        if isinstance(options, dict):
            f.payload = runtime.truthy(runtime.get(options, "payload"))
        f.reset()
        return f

    def reset(self) -> None:
        self.buffer = bytearray()
        self.need = 0
        self.dead = False

    def process(self, evt: Any) -> None:
        t = type(evt)
        if t is Data:
            if not self.dead and evt.size:
                for chunk in evt.chunks:
                    self.buffer += chunk
                if len(self.buffer) >= self.need:
                    self._messages()
        elif t is StreamEnd:
            self.reset()
            self.next.process(evt)

    def _messages(self) -> None:
        buf = self.buffer
        nxt = self.next
        while buf:
            try:
                head, start, end, payload, size = parse_message(buf, self.payload)
            except _Short as s:
                # nothing can complete before `need` bytes are here: skip re-parsing till then
                self.need = s.need
                return
            except _Bad:
                self.dead = True
                self.buffer = bytearray()
                nxt.process(StreamEnd("ReadError"))
                return
            nxt.process(MessageStart(head))
            if end > start:
                nxt.process(Data.from_bytes(bytes(buf[start:end])))
            nxt.process(MessageEnd(None, payload))
            del buf[:size]
        self.need = 0

    def dump(self) -> str:
        return "decodeThrift"


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if not n:
            out.append(b)
            return bytes(out)
        out.append(b | 0x80)


def build_header(head: Any) -> tuple[bytes, bool]:
    """The message header for ``head`` and whether it is framed."""
    def field(key: str) -> Any:
        return undefined if head is None or head is undefined else runtime.get(head, key)
    seq = field("seqID")
    seq = int(seq) if type(seq) in (int, float) and seq == seq and abs(seq) != float("inf") else 0
    mtype = TYPE_CODES.get(field("type"), 1)
    name = field("name")
    name_b = name.encode("utf-8", "surrogatepass") if type(name) is str else b""
    if field("protocol") == "compact":
        header = (bytes((0x82, 0x01 | mtype << 5)) + _varint(seq & 0xFFFFFFFF)
                  + _varint(len(name_b)) + name_b)
    else:
        header = (bytes((0x80, 0x01, 0x00, mtype)) + len(name_b).to_bytes(4, "big") + name_b
                  + (seq & 0xFFFFFFFF).to_bytes(4, "big"))
    framed = field("framed")
    return header, framed is not undefined and runtime.truthy(framed)


@register("encodeThrift")
class EncodeThrift(Filter):
    __slots__ = ("started", "frame")

    @classmethod
    def configure(cls, config: Any, *args: Any) -> "EncodeThrift":
        f = cls.__new__(cls)
        f.reset()
        return f

    def reset(self) -> None:
        self.started = False
        self.frame: list[bytes] | None = None  # the held frame of a framed message

    def process(self, evt: Any) -> None:
        t = type(evt)
        if t is Data:
            if self.started:
                if self.frame is not None:
                    self.frame.extend(evt.chunks)
                else:
                    self.next.process(evt)
        elif t is MessageStart:
            if not self.started:
                self.started = True
                header, framed = build_header(evt.head)
                self.next.process(evt)
                if framed:
                    self.frame = [header]
                else:
                    self.next.process(Data.from_bytes(header))
        elif t is MessageEnd:
            if self.started:
                self.started = False
                frame = self.frame
                if frame is not None:
                    self.frame = None
                    size = sum(map(len, frame)).to_bytes(4, "big")
                    self.next.process(Data.from_chunks([size, *frame]))
                self.next.process(evt)
        elif t is StreamEnd:
            self.reset()
            self.next.process(evt)

    def dump(self) -> str:
        return "encodeThrift"
