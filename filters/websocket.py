"""decodeWebSocket and encodeWebSocket: WebSocket frames (RFC 6455 §5) as messages (reference
§2.2 rows 20 and 36).

Frame layout (RFC 6455 §5.2)::

    byte 0: FIN | RSV1-3 | opcode(4)      byte 1: MASK | payload length(7)
    then 2 or 8 bytes of extended length when the 7-bit length is 126 or 127 (network order),
    then the 4-byte masking key when MASK is set, then the payload (XORed with the key).

Rules, following Pipy 0.70:

- Decoder: one *message* per WebSocket message. A data frame without FIN starts a message that
  continuation frames (opcode 0) extend; the FIN frame ends it. Head ``{opcode, masked, fin}``:
  opcode and masked of the first frame, ``fin`` is true (the message is complete at its
  MessageEnd). Payload is unmasked and streamed out as it arrives (nothing is buffered, so
  there is no size limit to enforce). RSV bits are ignored (no extension is negotiated here).
- Control frames (opcode >= 8: close, ping, pong) are messages of their own. RFC 6455 §5.4 lets
  them arrive between the fragments of a data message; we cannot nest a message inside the open
  one, so they are held (each at most 125 bytes, §5.5) and output right after that message's
  MessageEnd. A larger control frame there is a protocol error: the stream ends (ReadError).
- Encoder: head ``opcode`` (default 1, text), ``masked`` (default false: a server does not mask,
  §5.1; a client must set it), ``fin`` (default true). The body is cut into frames of at most
  16 KiB as it streams (Pipy's chunk size); MessageEnd sends the final frame. ``fin: false``
  leaves the message open: the next message continues it with continuation frames (opcode 0),
  so a script can stream one WebSocket message as several Pipy messages. Masking keys are
  random per frame (§5.3). MessageStart/MessageEnd pass through, as Pipy's encoder does.
"""
from __future__ import annotations

import os
from typing import Any

from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.js.runtime import getters
from pipyd.js.values import JSObject, undefined
from pipyd.pipeline import Filter
from pipyd.registry import register

from .stream_decoder import DEAD, StreamDecoder

FRAME_SIZE = 0x4000  # Pipy's DATA_CHUNK_SIZE: the encoder's largest frame payload
MAX_CONTROL_PAYLOAD = 125  # RFC 6455 §5.5

# decoder states
_HEAD, _PAYLOAD = 0, 1

_opcode_of = getters("opcode")
_masked_of = getters("masked")
_fin_of = getters("fin")


def mask_bytes(b: bytes, key: bytes, offset: int = 0) -> bytes:
    """``b`` XORed with the 4-byte ``key`` starting at key position ``offset`` (RFC 6455
    §5.3); one big-integer XOR instead of a Python loop per byte."""
    n = len(b)
    if not n:
        return b
    o = offset & 3
    if o:
        key = key[o:] + key[:o]
    stream = (key * ((n >> 2) + 1))[:n]
    return (int.from_bytes(b, "little") ^ int.from_bytes(stream, "little")).to_bytes(n, "little")


def frame_head(opcode: int, fin: bool, size: int, key: bytes | None) -> bytes:
    """The header of one frame (RFC 6455 §5.2), the masking key included when given."""
    b0 = (opcode & 0x0F) | (0x80 if fin else 0)
    m = 0x80 if key is not None else 0
    if size < 126:
        head = bytes((b0, m | size))
    elif size <= 0xFFFF:
        head = bytes((b0, m | 126)) + size.to_bytes(2, "big")
    else:
        head = bytes((b0, m | 127)) + size.to_bytes(8, "big")
    return head + key if key is not None else head


@register("decodeWebSocket")
class DecodeWebSocket(StreamDecoder):
    __slots__ = ("hbuf", "opcode", "fin", "key", "offset", "remaining", "started",
                 "control", "held")

    def reset(self) -> None:
        self.state = _HEAD
        self.hbuf = b""
        self.opcode = 0
        self.fin = True
        self.key: bytes | None = None
        self.offset = 0
        self.remaining = 0
        self.started = False  # a data message is open (its FIN frame not seen yet)
        self.control: list | None = None  # the control frame being read inside a message
        self.held: list | None = None  # control messages waiting for that message's end

    def _feed(self, b: bytes) -> None:
        pos, n = 0, len(b)
        while pos < n:
            if self.state == _PAYLOAD:
                take = min(self.remaining, n - pos)
                self._payload(b[pos:pos + take] if (pos or take < n) else b)
                pos += take
                self.remaining -= take
                if not self.remaining:
                    self._frame_end()
                continue
            if self.state == DEAD:
                return
            pos = self._head(b, pos)

    def _head(self, b: bytes, pos: int) -> int:
        """Read header bytes from ``b[pos:]``; returns the new position."""
        h = self.hbuf + b[pos:pos + 14] if self.hbuf else b[pos:pos + 14]
        if len(h) < 2:
            self.hbuf = h
            return len(b)
        ln = h[1] & 0x7F
        size = 2 + (2 if ln == 126 else 8 if ln == 127 else 0) + (4 if h[1] & 0x80 else 0)
        if len(h) < size:
            self.hbuf = h
            return len(b)
        used = size - len(self.hbuf)
        self.hbuf = b""
        self._frame_start(h[:size], ln)
        return pos + used

    def _frame_start(self, h: bytes, ln: int) -> None:
        if ln == 126:
            ln, k = int.from_bytes(h[2:4], "big"), 4
        elif ln == 127:
            ln, k = int.from_bytes(h[2:10], "big") & 0x7FFFFFFFFFFFFFFF, 10
        else:
            k = 2
        masked = bool(h[1] & 0x80)
        self.key = h[k:k + 4] if masked else None
        self.offset = 0
        self.remaining = ln
        opcode = h[0] & 0x0F
        self.fin = bool(h[0] & 0x80)
        self.state = _PAYLOAD
        if opcode >= 8 and self.started:  # a control frame between fragments (§5.4)
            if ln > MAX_CONTROL_PAYLOAD:
                self._fail()
                return
            self.control = [JSObject(opcode=opcode, masked=masked, fin=True)]
        else:
            self.control = None
            if not self.started:
                self.started = True
                self.opcode = opcode
                self.next.process(MessageStart(JSObject(opcode=opcode, masked=masked, fin=True)))
        if not ln:
            self._frame_end()

    def _payload(self, b: bytes) -> None:
        key = self.key
        if key is not None:
            off = self.offset
            self.offset = off + len(b)
            b = mask_bytes(b, key, off)
        if self.control is not None:
            self.control.append(b)
        else:
            self.next.process(Data.from_bytes(b))

    def _frame_end(self) -> None:
        self.state = _HEAD
        ctl = self.control
        if ctl is not None:
            self.control = None
            if self.held is None:
                self.held = []
            self.held.append(ctl)
            return
        if self.fin or self.opcode >= 8:  # control frames are never fragmented (§5.5)
            self.started = False
            nxt = self.next
            nxt.process(MessageEnd())
            held = self.held
            if held:
                self.held = None
                for head, *body in held:
                    nxt.process(MessageStart(head))
                    if body and any(body):
                        nxt.process(Data.from_bytes(b"".join(body)))
                    nxt.process(MessageEnd())

    def _fail(self) -> None:
        self.state = DEAD
        self.next.process(StreamEnd("ReadError"))

    def dump(self) -> str:
        return "decodeWebSocket"


def _head_prop(table: Any, head: Any) -> Any:
    if head is None or head is undefined:
        return undefined
    return table[type(head)](head)


@register("encodeWebSocket")
class EncodeWebSocket(Filter):
    __slots__ = ("opcode", "masked", "fin", "started", "continuing", "buffer", "size",
                 "shutting")

    @classmethod
    def configure(cls, config: Any, *args: Any) -> "EncodeWebSocket":
        f = cls.__new__(cls)
        f.reset()
        return f

    def reset(self) -> None:
        self.opcode = 1
        self.masked = False
        self.fin = True
        self.started = False
        self.continuing = False  # the previous message had fin: false
        self.buffer: list[bytes] = []
        self.size = 0
        self.shutting = False

    def shutdown(self) -> None:
        # Pipy: end the stream now when idle, else after the message in progress
        if self.started:
            self.shutting = True
        else:
            self.next.process(StreamEnd())

    def process(self, evt: Any) -> None:
        t = type(evt)
        if t is Data:
            if self.started and evt.size:
                self.buffer.extend(evt.chunks)
                self.size += evt.size
                while self.size >= FRAME_SIZE:
                    self._frame(False, FRAME_SIZE)
        elif t is MessageStart:
            if not self.started:
                self._start(evt.head)
                self.next.process(evt)
        elif t is MessageEnd:
            if self.started:
                self.started = False
                self._frame(self.fin, self.size)
                self.continuing = not self.fin
                if self.shutting:
                    self.next.process(StreamEnd())
                else:
                    self.next.process(evt)
        elif t is StreamEnd:
            self.next.process(evt)

    def _start(self, head: Any) -> None:
        op = _head_prop(_opcode_of, head)
        self.opcode = op if type(op) is int else int(op) if type(op) is float else 1
        self.masked = _head_prop(_masked_of, head) is True
        self.fin = _head_prop(_fin_of, head) is not False
        self.started = True
        self.buffer = []
        self.size = 0

    def _frame(self, fin: bool, n: int) -> None:
        """Send the first ``n`` buffered bytes as one frame."""
        data = b"".join(self.buffer) if len(self.buffer) != 1 else self.buffer[0]
        payload, rest = data[:n], data[n:]
        self.buffer = [rest] if rest else []
        self.size = len(rest)
        opcode = 0 if self.continuing else self.opcode
        self.continuing = True  # later frames of this message are continuations
        key = os.urandom(4) if self.masked else None
        head = frame_head(opcode, fin, n, key)
        if key is not None:
            payload = mask_bytes(payload, key)
        self.next.process(Data.from_chunks([head, payload] if payload else [head]))

    def dump(self) -> str:
        return "encodeWebSocket"
