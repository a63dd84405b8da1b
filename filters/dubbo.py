"""decodeDubbo and encodeDubbo: Dubbo protocol frames as messages (reference §2.2 rows 14, 31).

Frame layout (the Dubbo 2 protocol, all integers big-endian)::

    0-1   magic 0xdabb
    2     flags: request (0x80) | two-way (0x40) | event (0x20) | serialization id (5 bits,
          2 = Hessian 2)
    3     status (responses: 20 = OK)
    4-11  request id, 64 bits
    12-15 body length, 32 bits
    16-   body (Hessian values; left raw here, ``Hessian.decode`` reads it)

Rules, following Pipy 0.70:

- Decoder: head ``{id, status, isRequest, isTwoWay, isEvent}`` with ``id`` the request id as a
  decimal string (64 bits do not fit a JS number). The body streams out as it arrives. A frame
  without the magic number is a peer that does not speak Dubbo: Pipy logs and carries on
  reading garbage; pipyd logs the same line and ends the stream (``StreamEnd('ReadError')``).
- Encoder: ``encodeDubbo(defaultHead?)``; the optional object (or function returning one)
  replaces the message's head when it is an object (Pipy [src]). The body is buffered until
  MessageEnd, then the MessageStart, the 16-byte header, the body and the MessageEnd go out.
  Absent fields: ``id`` counts 0, 1, 2… per stream, ``status`` 0, ``isRequest`` and
  ``isTwoWay`` true, ``isEvent`` false; serialization id 2 (Hessian 2). A string ``id`` is read
  as a decimal integer.
"""
from __future__ import annotations

from typing import Any

from pipyd import log
from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.js import runtime
from pipyd.js.coerce import to_number
from pipyd.js.values import HostObject, JSObject, undefined
from pipyd.pipeline import FAILED, Filter
from pipyd.registry import register

from .stream_decoder import DEAD, StreamDecoder

MAGIC = b"\xda\xbb"
HEADER_SIZE = 16
HESSIAN2 = 2

_HEAD, _BODY = range(2)


def parse_header(h: bytes) -> tuple[JSObject, int]:
    """The head of a 16-byte frame header and the body length."""
    flags = h[2]
    head = JSObject(
        id=str(int.from_bytes(h[4:12], "big", signed=True)),
        status=h[3],
        isRequest=bool(flags & 0x80),
        isTwoWay=bool(flags & 0x40),
        isEvent=bool(flags & 0x20),
    )
    return head, int.from_bytes(h[12:16], "big")


@register("decodeDubbo")
class DecodeDubbo(StreamDecoder):
    __slots__ = ("hbuf", "remaining")

    def reset(self) -> None:
        self.state = _HEAD
        self.hbuf = b""
        self.remaining = 0

    def _feed(self, b: bytes) -> None:
        pos, n = 0, len(b)
        nxt = self.next
        while pos < n:
            if self.state == _BODY:
                take = min(self.remaining, n - pos)
                nxt.process(Data.from_bytes(b[pos:pos + take] if (pos or take < n) else b))
                pos += take
                self.remaining -= take
                if not self.remaining:
                    self.state = _HEAD
                    nxt.process(MessageEnd())
                continue
            if self.state == DEAD:
                return
            want = HEADER_SIZE - len(self.hbuf)
            h = self.hbuf + b[pos:pos + want]
            pos += want
            if len(h) < HEADER_SIZE:
                self.hbuf = h
                return
            self.hbuf = b""
            self._frame(h)

    def _frame(self, h: bytes) -> None:
        if h[:2] != MAGIC:
            log.error("[dubbo] magic number not found")
            self.state = DEAD
            self.next.process(StreamEnd("ReadError"))
            return
        head, size = parse_header(h)
        self.next.process(MessageStart(head))
        if size:
            self.state, self.remaining = _BODY, size
        else:
            self.next.process(MessageEnd())

    def dump(self) -> str:
        return "decodeDubbo"


def _field(head: Any, key: str, default: int) -> int:
    """A header field as Pipy reads it: absent → default, string → decimal integer, else the
    number (booleans count 1/0)."""
    if head is None:
        return default
    v = runtime.get(head, key)
    if v is undefined:
        return default
    if type(v) is str:
        digits = v.strip()
        sign = -1 if digits.startswith("-") else 1
        digits = digits.lstrip("+-")
        end = 0
        while end < len(digits) and digits[end].isdigit():
            end += 1
        return sign * int(digits[:end]) if end else 0
    n = to_number(v)
    return int(n) if n == n and n not in (float("inf"), float("-inf")) else 0


def build_header(head: Any, size: int, auto_id: int) -> bytes:
    rid = _field(head, "id", auto_id)
    status = _field(head, "status", 0)
    flags = HESSIAN2 | (0x80 if _field(head, "isRequest", 1) else 0)
    if _field(head, "isTwoWay", 1):
        flags |= 0x40
    if _field(head, "isEvent", 0):
        flags |= 0x20
    return (MAGIC + bytes((flags, status & 0xFF))
            + (rid & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "big") + (size & 0xFFFFFFFF).to_bytes(4, "big"))


@register("encodeDubbo")
class EncodeDubbo(Filter):
    __slots__ = ("default_head", "start", "buffer", "auto_id")
    CONFIG = ("default_head",)

    @classmethod
    def configure(cls, config: Any, head: Any = undefined, *args: Any) -> "EncodeDubbo":
        f = cls.__new__(cls)
        f.default_head = head
        f.reset()
        return f

    def reset(self) -> None:
        self.start: MessageStart | None = None
        self.buffer: list[bytes] | None = None
        self.auto_id = 0

    def process(self, evt: Any) -> None:
        t = type(evt)
        if t is Data:
            if self.buffer is not None:
                self.buffer.extend(evt.chunks)
        elif t is MessageStart:
            self.start = evt
            self.buffer = []
        elif t is MessageEnd:
            if self.start is not None:
                self._frame(evt)
        elif t is StreamEnd:
            self.next.process(evt)

    def _frame(self, end: MessageEnd) -> None:
        start, body = self.start, self.buffer or []
        self.start = self.buffer = None
        head = self.eval_arg(self.default_head)
        if head is FAILED:
            return
        if not isinstance(head, (dict, HostObject)):
            head = start.head if isinstance(start.head, (dict, HostObject)) else None
        size = sum(map(len, body))
        header = build_header(head, size, self.auto_id)
        self.auto_id += 1
        nxt = self.next
        nxt.process(start)
        nxt.process(Data.from_chunks([header, *body]))
        nxt.process(end)

    def dump(self) -> str:
        return "encodeDubbo"
