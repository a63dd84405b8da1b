"""Stream events and the Message container (Pipy reference §1.1, §3.2).

A stream is ``Data* … StreamEnd``, with ``MessageStart``/``MessageEnd`` markers inserted by codecs.
All four events and ``Message`` are host objects: scripts see exactly the members of §3.2.
On the hot path events are told apart by class identity (``type(evt) is Data``), never by
isinstance chains, so none of these classes is meant to be subclassed.

``Data`` keeps its bytes as a list of immutable ``bytes`` chunks: handing a Data from filter to
filter, or pushing one Data into another, never copies bytes. ``to_bytes()`` joins once and keeps
the joined chunk as the only chunk, so asking twice is free.
"""
from __future__ import annotations

import base64
import binascii
from typing import Any, Iterable

from pipyd.js.values import (
    HostObject,
    JSArray,
    type_error,
    undefined,
)

__all__ = [
    "Data", "MessageStart", "MessageEnd", "StreamEnd", "Message",
    "EVENT_TYPES", "STREAM_END_ERRORS", "output_events", "expand",
]


def _truthy(v: Any) -> bool:
    # JS truthiness differs from Python's only for NaN (falsy in JS); undefined, empty
    # objects/arrays and host objects already define __bool__ the JS way.
    return bool(v) and (type(v) is not float or v == v)


def _encode_text(text: str, enc: Any) -> bytes:
    """Pipy's string → bytes encodings: utf8 (default), hex, base64, base64url."""
    if enc is undefined or enc is None or enc == "utf8" or enc == "utf-8":
        return text.encode("utf-8", "surrogatepass")
    if enc == "hex":
        try:
            return binascii.unhexlify(text)
        except (binascii.Error, ValueError):
            raise type_error("invalid hex string") from None
    if enc == "base64" or enc == "base64url":
        # Pipy accepts unpadded input (JWT-style base64url); restore the padding.
        pad = "=" * (-len(text) % 4)
        try:
            if enc == "base64":
                return base64.b64decode(text + pad)
            return base64.urlsafe_b64decode(text + pad)
        except (binascii.Error, ValueError):
            raise type_error(f"invalid {enc} string") from None
    raise type_error(f"unknown encoding: {enc}")


class Data(HostObject):
    """A chunk of bytes, and the Data event.

    Python callers build one with ``Data(b'...')``, ``Data.from_bytes(b)`` or
    ``Data.from_chunks([...])``; scripts use the constructor forms of §3.2.
    """

    __slots__ = ("chunks", "size")
    js_get = frozenset({"size", "push", "shift", "shiftTo", "shiftWhile", "toString"})
    js_static = frozenset({"from"})
    js_new = True
    js_class_name = "Data"

    def __init__(self, value: Any = None, enc: Any = undefined) -> None:
        t = type(value)
        if t is bytes:
            self.chunks = [value] if value else []
            self.size = len(value)
            return
        if value is None or value is undefined:
            b = b""
        elif t is str:
            b = _encode_text(value, enc)
        elif t is Data:
            self.chunks = list(value.chunks)  # bytes are immutable: share them
            self.size = value.size
            return
        elif t is JSArray or t is list:
            try:
                b = bytes(int(x) & 255 for x in value)
            except (TypeError, ValueError):
                raise type_error("Data: array elements must be numbers") from None
        elif t is bytearray or t is memoryview:
            b = bytes(value)
        else:
            raise type_error("Data: invalid constructor argument")
        self.chunks = [b] if b else []
        self.size = len(b)

    # -- Python-side constructors (no argument dispatch) ------------------------------------

    @classmethod
    def from_bytes(cls, b: bytes) -> "Data":
        d = cls.__new__(cls)
        d.chunks = [b] if b else []
        d.size = len(b)
        return d

    @classmethod
    def from_chunks(cls, chunks: list[bytes]) -> "Data":
        """Takes ownership of ``chunks`` (a list of non-empty bytes)."""
        d = cls.__new__(cls)
        d.chunks = chunks
        d.size = sum(map(len, chunks))
        return d

    @classmethod
    def from_(cls, text: Any = undefined, enc: Any = undefined) -> "Data":
        """``Data.from(text, enc)``: same as the string constructor."""
        if type(text) is not str:
            raise type_error("Data.from: expected a string")
        return cls(text, enc)

    # -- Python consumers ------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        chunks = self.chunks
        if len(chunks) == 1:
            return chunks[0]
        if not chunks:
            return b""
        b = b"".join(chunks)
        self.chunks = [b]  # cache: the next call is free
        return b

    def append_bytes(self, b: bytes) -> None:
        if b:
            self.chunks.append(b)
            self.size += len(b)

    def __repr__(self) -> str:
        return f"Data({self.to_bytes()!r})"

    # -- Script API (§3.2) -----------------------------------------------------------------

    def push(self, value: Any = undefined) -> "Data":
        t = type(value)
        if t is Data:
            if value is self:
                value = Data(value)
            self.chunks.extend(value.chunks)
            self.size += value.size
        elif t is str:
            self.append_bytes(value.encode("utf-8", "surrogatepass"))
        elif t is bytes:
            self.append_bytes(value)
        else:
            raise type_error("Data.push: expected a Data or a string")
        return self

    def shift(self, n: Any = undefined) -> "Data":
        n = 0 if n is undefined or n is None else int(n)
        return self._shift_bytes(max(0, min(n, self.size)))

    def shiftTo(self, fn: Any = undefined) -> "Data":
        """Removes bytes up to and including the first byte for which ``fn`` is truthy
        (everything when none is)."""
        if not callable(fn):
            raise type_error("Data.shiftTo: expected a function")
        b = self.to_bytes()
        for i, byte in enumerate(b):
            if _truthy(fn(byte)):
                return self._shift_bytes(i + 1)
        return self._shift_bytes(len(b))

    def shiftWhile(self, fn: Any = undefined) -> "Data":
        """Removes leading bytes while ``fn`` is truthy."""
        if not callable(fn):
            raise type_error("Data.shiftWhile: expected a function")
        b = self.to_bytes()
        for i, byte in enumerate(b):
            if not _truthy(fn(byte)):
                return self._shift_bytes(i)
        return self._shift_bytes(len(b))

    def _shift_bytes(self, n: int) -> "Data":
        """Moves the first ``n`` bytes (0 <= n <= size) into a new Data, splitting one chunk
        at most."""
        out: list[bytes] = []
        chunks = self.chunks
        left = n
        i = 0
        while left > 0:
            c = chunks[i]
            if len(c) <= left:
                out.append(c)
                left -= len(c)
                i += 1
            else:
                out.append(c[:left])
                chunks[i] = c[left:]
                left = 0
        del chunks[:i]
        self.size -= n
        d = Data.__new__(Data)
        d.chunks = out
        d.size = n
        return d

    def toString(self, enc: Any = undefined) -> str:
        b = self.to_bytes()
        if enc is undefined or enc is None or enc == "utf8" or enc == "utf-8":
            return b.decode("utf-8", "replace")
        if enc == "hex":
            return b.hex()
        if enc == "base64":
            return base64.b64encode(b).decode("ascii")
        if enc == "base64url":
            # unpadded, as used in JWTs (RFC 7515 §2)
            return base64.urlsafe_b64encode(b).decode("ascii").rstrip("=")
        raise type_error(f"unknown encoding: {enc}")


def _head(v: Any) -> Any:
    return None if v is undefined else v


class MessageStart(HostObject):
    """Start of a message; ``head`` is shared, scripts mutate it in place (§3.2)."""

    __slots__ = ("head",)
    js_get = frozenset({"head"})
    js_new = True
    js_class_name = "MessageStart"

    def __init__(self, head: Any = None) -> None:
        self.head = None if head is undefined else head

    def __repr__(self) -> str:
        return f"MessageStart({self.head!r})"


class MessageEnd(HostObject):
    """End of a message: ``tail`` (trailers) and ``payload`` (decoded payload, Thrift)."""

    __slots__ = ("tail", "payload")
    js_get = frozenset({"tail", "payload"})
    js_new = True
    js_class_name = "MessageEnd"

    def __init__(self, tail: Any = None, payload: Any = None) -> None:
        self.tail = None if tail is undefined else tail
        self.payload = None if payload is undefined else payload

    def __repr__(self) -> str:
        return f"MessageEnd({self.tail!r})"


# The exact error strings of Pipy's StreamEnd (§1.1); "" is a normal end.
STREAM_END_ERRORS = frozenset({
    "", "Replay", "UnknownError", "RuntimeError", "ReadError", "WriteError",
    "CannotResolve", "ConnectionCanceled", "ConnectionReset", "ConnectionRefused",
    "ConnectionTimeout", "ReadTimeout", "WriteTimeout", "IdleTimeout", "Unauthorized",
    "BufferOverflow",
})


class StreamEnd(HostObject):
    __slots__ = ("error",)
    js_get = frozenset({"error"})
    js_new = True
    js_class_name = "StreamEnd"

    def __init__(self, error: Any = "") -> None:
        if error is undefined or error is None:
            error = ""
        elif error not in STREAM_END_ERRORS:
            # Pipy: `new StreamEnd('Nope')` throws "unknown error type"
            raise type_error("unknown error type")
        self.error = error

    def __repr__(self) -> str:
        return f"StreamEnd({self.error!r})"


EVENT_TYPES = frozenset({Data, MessageStart, MessageEnd, StreamEnd})


class Message(HostObject):
    """``{head, body, tail}``: not an event; output it and it expands into three events."""

    __slots__ = ("head", "_body", "tail")
    js_get = frozenset({"head", "body", "tail"})
    js_set = frozenset({"head", "body", "tail"})
    js_new = True
    js_class_name = "Message"

    def __init__(self, head: Any = None, body: Any = None, tail: Any = None) -> None:
        self.head = None if head is undefined else head
        self._body = _body(body)
        self.tail = None if tail is undefined else tail

    @property
    def body(self) -> "Data | None":
        return self._body

    @body.setter
    def body(self, value: Any) -> None:
        # scripts assign msg.body = 'text' and expect a Data
        self._body = _body(value)

    @classmethod
    def js_construct(cls, *args: Any) -> "Message":
        """``new Message()``, ``(body)``, ``(head)``, ``(head, body)``, ``(head, body, tail)``:
        a single string or Data argument is the body, any other single object the head."""
        if len(args) == 1:
            a = args[0]
            if type(a) is str or type(a) is Data:
                return cls(None, a)
            return cls(a)
        return cls(*args[:3])

    def __repr__(self) -> str:
        return f"Message({self.head!r}, {self.body!r})"


def _body(body: Any) -> "Data | None":
    t = type(body)
    if t is Data or body is None:
        return body
    if body is undefined:
        return None
    if t is str or t is bytes:
        return Data(body)
    raise type_error("Message: body must be a Data or a string")


def expand(msg: Message) -> list:
    """A Message as events: ``MessageStart(head) [Data(body)] MessageEnd(tail)``."""
    body = msg._body
    if body is not None and body.size:
        # a fresh Data sharing the chunks, so a downstream shift() does not empty msg.body
        return [MessageStart(msg.head), Data(body), MessageEnd(msg.tail)]
    return [MessageStart(msg.head), MessageEnd(msg.tail)]


def _not_events() -> Exception:
    return type_error("output is not events or messages")


def output_events(value: Any) -> list:
    """A callback's return value as events (§2.3): an Event, a Message, an array of those
    (null/undefined elements ignored), or null/undefined for nothing. Anything else raises
    the JS TypeError "output is not events or messages"."""
    t = type(value)
    if t in EVENT_TYPES:
        return [value]
    if t is Message:
        return expand(value)
    if value is None or value is undefined:
        return []
    if t is JSArray or t is list:
        out: list = []
        for v in value:
            tv = type(v)
            if tv in EVENT_TYPES:
                out.append(v)
            elif tv is Message:
                out.extend(expand(v))
            elif v is not None and v is not undefined:
                raise _not_events()
        return out
    raise _not_events()


def is_output_value(value: Any) -> bool:
    """Whether ``output_events(value)`` would succeed: used to validate constant
    replacements at configure time."""
    try:
        output_events(value)
    except Exception:
        return False
    return True


def events_of(items: Iterable[Any]) -> list:
    """Test and Python-side helper: events from a mix of events and Messages."""
    out: list = []
    for v in items:
        out.extend(output_events(v))
    return out

