"""The HTTP/1 codec filters (reference §2.2 rows 15, 16, 32, 33; §4.4, §4.6).

decodeHTTPRequest / decodeHTTPResponse: Data => Msg. encodeHTTPRequest / encodeHTTPResponse:
Msg => Data. The server filters demuxHTTP and serveHTTP live in http_server.py. The protocol
itself is in the sans-I/O codec (http_codec.py); these classes only turn its callbacks into
events and events into its calls.
"""
from __future__ import annotations

from typing import Any

from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.js.values import JSObject, type_error, undefined
from pipyd.pipeline import FAILED, Filter
from pipyd.registry import register
from pipyd.units import parse_size

from .http_codec import DEFAULT_BUFFER_SIZE, MessageEncoder, RequestDecoder, ResponseDecoder

# §4.6: an upstream that fails before a response head becomes this response.
ERROR_RESPONSES: dict[str, tuple[int, str]] = {
    "CannotResolve": (502, "Cannot Resolve"),
    "ConnectionRefused": (502, "Connection Refused"),
    "Unauthorized": (401, "Unauthorized"),
    "ReadError": (502, "Read Error"),
    "WriteError": (502, "Write Error"),
    "ConnectionTimeout": (504, "Gateway Timeout"),
    "ReadTimeout": (504, "Gateway Timeout"),
    "WriteTimeout": (504, "Gateway Timeout"),
}


def error_response_head(error: str) -> JSObject:
    status, text = ERROR_RESPONSES.get(error, (502, "Bad Gateway"))
    return JSObject(protocol="HTTP/1.1", headers=JSObject(), status=status, statusText=text)


def options_arg(name: str, args: tuple, index: int = 0) -> Any:
    """The optional options object of a filter (argument errors are JS TypeErrors)."""
    if len(args) <= index or args[index] is undefined or args[index] is None:
        return JSObject()
    opts = args[index]
    if not isinstance(opts, dict):
        raise type_error(f"{name}: argument #{index + 1} expects an object")
    return opts


def buffer_size_option(opts: Any) -> int:
    v = opts.get("bufferSize", undefined)
    if v is undefined or v is None:
        return DEFAULT_BUFFER_SIZE
    return parse_size(v, "bufferSize")


class _DecoderFilter(Filter):
    """Shared sink: decoder callbacks become events on ``self.next``."""

    __slots__ = ("decoder",)

    def on_message_start(self, head: JSObject) -> None:
        self.next.process(MessageStart(head))

    def on_body(self, b: bytes) -> None:
        self.next.process(Data.from_bytes(b))

    def on_message_end(self, tail: Any) -> None:
        self.next.process(MessageEnd(tail))

    def on_tunnel(self, b: bytes) -> None:
        self.next.process(Data.from_bytes(b))


@register("decodeHTTPRequest")
class DecodeHTTPRequest(_DecoderFilter):
    """HTTP/1 requests from bytes. A protocol error ends the stream (``StreamEnd('ReadError')``):
    without an encoder behind it there is nobody to answer with a status."""

    __slots__ = ()

    @classmethod
    def configure(cls, config: Any, *args: Any) -> "DecodeHTTPRequest":
        return cls.__new__(cls)

    def reset(self) -> None:
        self.decoder = RequestDecoder(self)

    def process(self, evt: Any) -> None:
        t = type(evt)
        if t is Data:
            for chunk in evt.chunks:
                self.decoder.feed(chunk)
        elif t is StreamEnd:
            self.decoder.feed_eof()
            if not self.decoder.dead:
                self.next.process(evt)

    def on_error(self, status: int, reason: str) -> None:
        self.next.process(StreamEnd("ReadError"))


@register("decodeHTTPResponse")
class DecodeHTTPResponse(_DecoderFilter):
    """HTTP/1 responses from bytes; ``{bodiless}`` (bool or fn) says the next response answers a
    HEAD. An error StreamEnd before any head becomes the response of §4.6."""

    __slots__ = ("bodiless", "_started")
    CONFIG = ("bodiless",)

    @classmethod
    def configure(cls, config: Any, *args: Any) -> "DecodeHTTPResponse":
        f = cls.__new__(cls)
        f.bodiless = options_arg("decodeHTTPResponse", args).get("bodiless", False)
        return f

    def reset(self) -> None:
        self.decoder = ResponseDecoder(self)
        self._started = False

    def process(self, evt: Any) -> None:
        t = type(evt)
        d = self.decoder
        if t is Data:
            if not d.in_message:
                b = self.eval_arg(self.bodiless)
                d.bodiless = b is not FAILED and bool(b)
            for chunk in evt.chunks:
                d.feed(chunk)
        elif t is StreamEnd:
            if d.dead:
                return
            if evt.error and not self._started:
                self.on_message_start(error_response_head(evt.error))
                self.on_message_end(None)
            else:
                d.feed_eof()
                if d.dead:
                    return
            self.next.process(evt)

    def on_message_start(self, head: JSObject) -> None:
        self._started = True
        self.next.process(MessageStart(head))

    def on_error(self, status: int, reason: str) -> None:
        """A malformed response: 502 if nothing was output for it yet, then the stream ends."""
        if not self._started:
            self.on_message_start(error_response_head(""))
            self.on_message_end(None)
        self.next.process(StreamEnd("ReadError"))


class _EncoderFilter(Filter):
    __slots__ = ("buffer_size", "encoder")
    CONFIG = ("buffer_size",)

    def _write(self, pieces: list[bytes]) -> None:
        if pieces:
            self.next.process(Data.from_chunks(pieces))


@register("encodeHTTPRequest")
class EncodeHTTPRequest(_EncoderFilter):
    __slots__ = ()

    @classmethod
    def configure(cls, config: Any, *args: Any) -> "EncodeHTTPRequest":
        f = cls.__new__(cls)
        f.buffer_size = buffer_size_option(options_arg("encodeHTTPRequest", args))
        return f

    def reset(self) -> None:
        self.encoder = MessageEncoder(False, self.buffer_size)

    def process(self, evt: Any) -> None:
        t = type(evt)
        if t is Data:
            self._write(self.encoder.data(evt.chunks, evt.size))
        elif t is MessageStart:
            self._write(self.encoder.start(evt.head))
        elif t is MessageEnd:
            self._write(self.encoder.end())
        elif t is StreamEnd:
            self.next.process(evt)


@register("encodeHTTPResponse")
class EncodeHTTPResponse(_EncoderFilter):
    """``{final, bodiless, bufferSize}``: ``final`` (bool or fn) adds ``connection: close`` and
    ends the stream after the message; ``bodiless`` sends the head only (HEAD responses)."""

    __slots__ = ("final", "bodiless", "_closing")
    CONFIG = ("buffer_size", "final", "bodiless")

    @classmethod
    def configure(cls, config: Any, *args: Any) -> "EncodeHTTPResponse":
        opts = options_arg("encodeHTTPResponse", args)
        f = cls.__new__(cls)
        f.buffer_size = buffer_size_option(opts)
        f.final = opts.get("final", False)
        f.bodiless = opts.get("bodiless", False)
        return f

    def reset(self) -> None:
        self.encoder = MessageEncoder(True, self.buffer_size)
        self._closing = False

    def process(self, evt: Any) -> None:
        t = type(evt)
        if self._closing:
            return
        if t is Data:
            self._write(self.encoder.data(evt.chunks, evt.size))
        elif t is MessageStart:
            final = self.eval_arg(self.final, evt)
            bodiless = self.eval_arg(self.bodiless, evt)
            self._write(self.encoder.start(evt.head, final is not FAILED and bool(final),
                                           bodiless is not FAILED and bool(bodiless)))
        elif t is MessageEnd:
            self._write(self.encoder.end())
            if self.encoder.final_sent:
                self._closing = True
                self.next.process(StreamEnd())
        elif t is StreamEnd:
            self.next.process(evt)

# the server filters register themselves from their own module
from . import http_server  # noqa: E402,F401
