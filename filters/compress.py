"""compressHTTP, compressMessage, decompressHTTP, decompressMessage (reference §2.2 rows 7, 8,
21, 22).

Each message body is one compressed stream: the compressor is chosen at ``MessageStart``, every
``Data`` of the body goes through it (output as soon as zlib gives bytes back) and the stream is
finished at ``MessageEnd`` (or a ``StreamEnd`` that cuts the message short). Events outside a
message pass through untouched.

Formats: ``deflate`` is the zlib format HTTP means by that token (RFC 9110 §8.4.1.2), ``gzip``
RFC 1952, ``brotli`` RFC 7932 (the ``brotli`` package). Decompressing ``inflate``
accepts both zlib and gzip streams (zlib's automatic header detection).

Where pipyd differs from Pipy 0.70 on purpose (its C++ has bugs here): Data events are not also
passed through uncompressed; the ``level`` option is honoured; compressHTTP names brotli ``br``
(the registered HTTP token, what decompressHTTP looks for), creates ``headers`` when the head
has none and leaves a body that already has a ``content-encoding`` alone; decompressHTTP also
inflates ``deflate``; after a decompression error the rest of that body is dropped (Pipy
passed the undecodable bytes on).
"""
from __future__ import annotations

import zlib

import brotli
from typing import Any

from pipyd import log
from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.js.coerce import to_boolean
from pipyd.js.values import JSObject, type_error, undefined
from pipyd.pipeline import FAILED, Filter
from pipyd.registry import register

METHODS = ("", "deflate", "gzip", "brotli")
LEVELS = {"default": 0, "speed": 1, "best": 2}
_ZLIB_LEVELS = (zlib.Z_DEFAULT_COMPRESSION, 1, 9)
_BROTLI_QUALITY = (5, 0, 11)  # 'default': a streaming-friendly quality, not brotli's slow 11
_HTTP_TOKEN = {"deflate": "deflate", "gzip": "gzip", "brotli": "br"}
_OUT_CHUNK = 65536  # decompressed output is emitted in pieces of at most this size

class _BrotliCompressor:
    """The zlib compressobj interface (``compress``/``flush``) over brotli.Compressor."""

    __slots__ = ("c",)

    def __init__(self, quality: int) -> None:
        self.c = brotli.Compressor(quality=quality)

    def compress(self, b: bytes) -> bytes:
        return self.c.process(b)

    def flush(self) -> bytes:
        return self.c.finish()


def new_compressor(method: str, level: int) -> Any:
    """A compressor for ``method`` ('deflate'|'gzip'|'brotli') at level index ``level``."""
    if method == "gzip":
        return zlib.compressobj(_ZLIB_LEVELS[level], zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    if method == "deflate":
        return zlib.compressobj(_ZLIB_LEVELS[level], zlib.DEFLATED, zlib.MAX_WBITS)
    return _BrotliCompressor(_BROTLI_QUALITY[level])


def _enum_option(name: str, options: Any, key: str, values: Any) -> Any:
    v = options.get(key, undefined)
    if v is undefined or v is None or callable(v):
        return v
    if type(v) is str and v in values:
        return v
    raise type_error(f"{name}: invalid {key}: {v!r}")


class CompressBase(Filter):
    """compressMessage; compressHTTP adds the content-encoding header (``HTTP = True``)."""

    __slots__ = ("method", "level", "compressor", "started")
    CONFIG = ("method", "level")
    HTTP = False

    @classmethod
    def configure(cls, config: Any, options: Any = undefined, *rest: Any) -> "CompressBase":
        if options is undefined or options is None:
            options = JSObject()
        elif not isinstance(options, dict):
            raise type_error(f"{cls.NAME}: argument #1 expects an object")
        f = cls.__new__(cls)
        f.method = _enum_option(cls.NAME, options, "method", METHODS)
        f.level = _enum_option(cls.NAME, options, "level", LEVELS)
        f.reset()
        return f

    def reset(self) -> None:
        self.compressor = None
        self.started = False

    def _choose(self, start: MessageStart) -> Any:
        method = self.method
        if callable(method):
            method = self.callback(method, start)
            if method is FAILED:
                return None
        if method is undefined or method is None or method == "":
            return None
        if type(method) is not str or method not in METHODS:
            log.error(f"[{self.NAME}] invalid method: {method}")
            return None
        level = self.level
        if callable(level):
            level = self.callback(level, start)
            if level is FAILED:
                return None
        if level is undefined or level is None:
            level = "default"
        if type(level) is not str or level not in LEVELS:
            log.error(f"[{self.NAME}] invalid level: {level}")
            return None
        if self.HTTP and not self._mark_http(start, method):
            return None
        return new_compressor(method, LEVELS[level])

    def _mark_http(self, start: MessageStart, method: str) -> bool:
        """Set content-encoding; False when the body is already encoded (leave it alone)."""
        head = start.head
        if not isinstance(head, dict):
            return True
        headers = head.get("headers")
        if not isinstance(headers, dict):
            headers = head["headers"] = JSObject()
        if headers.get("content-encoding") not in (None, undefined, "", "identity"):
            return False
        headers["content-encoding"] = _HTTP_TOKEN[method]
        return True

    def process(self, evt: Any) -> None:
        t = type(evt)
        if t is Data:
            c = self.compressor
            if c is None:
                self.next.process(evt)
                return
            out = [c.compress(b) for b in evt.chunks]
            out = [b for b in out if b]
            if out:
                self.next.process(Data.from_chunks(out))
            return
        if t is MessageStart:
            if not self.started:
                self.started = True
                # choose before passing the head on: compressHTTP sets content-encoding in it
                self.compressor = self._choose(evt)
        elif t is MessageEnd or t is StreamEnd:
            self._finish()
        self.next.process(evt)

    def _finish(self) -> None:
        c = self.compressor
        self.started = False
        if c is not None:
            self.compressor = None
            tail = c.flush()
            if tail:
                self.next.process(Data.from_bytes(tail))


@register("compressMessage")
class CompressMessage(CompressBase):
    """``compressMessage({method, level})``: compress bodies, heads untouched."""

    __slots__ = ()


@register("compressHTTP")
class CompressHTTP(CompressBase):
    """``compressHTTP({method, level})``: compress bodies and set ``content-encoding``."""

    __slots__ = ()
    HTTP = True


class _Inflater:
    """zlib (or gzip, auto-detected) decompression with bounded output pieces."""

    __slots__ = ("d",)

    def __init__(self) -> None:
        self.d = zlib.decompressobj(32 + zlib.MAX_WBITS)

    def decompress(self, b: bytes) -> list[bytes]:
        d = self.d
        out = []
        while b and not d.eof:
            piece = d.decompress(b, _OUT_CHUNK)
            if piece:
                out.append(piece)
            b = d.unconsumed_tail
        return out  # bytes after the end of the stream are ignored, as Pipy does


class _BrotliDecompressor:
    __slots__ = ("d",)

    def __init__(self) -> None:
        self.d = brotli.Decompressor()

    def decompress(self, b: bytes) -> list[bytes]:
        if self.d.is_finished():
            return []
        piece = self.d.process(b)
        return [piece] if piece else []


def new_decompressor(algorithm: str) -> Any:
    """'inflate' (zlib/gzip) or 'brotli'."""
    if algorithm == "inflate":
        return _Inflater()
    return _BrotliDecompressor()


class DecompressBase(Filter):
    """Inflate each message body with the decompressor ``_choose`` picks at MessageStart.
    Data outside a message is dropped, as in Pipy."""

    __slots__ = ("decompressor", "started")

    def reset(self) -> None:
        self.decompressor = None
        self.started = False

    def _choose(self, start: MessageStart) -> Any:
        raise NotImplementedError

    def process(self, evt: Any) -> None:
        t = type(evt)
        if t is Data:
            if not self.started:
                return
            d = self.decompressor
            if d is None:
                self.next.process(evt)
            elif d is not FAILED:
                self._inflate(d, evt)
            return
        if t is MessageStart:
            if not self.started:
                self.started = True
                self.decompressor = self._choose(evt)
        elif t is MessageEnd:
            self.started = False
            self.decompressor = None
        self.next.process(evt)

    def _inflate(self, d: Any, evt: Data) -> None:
        out: list[bytes] = []
        try:
            for b in evt.chunks:
                out.extend(d.decompress(b))
        except Exception:  # zlib.error, brotli.error: the peer sent a bad stream
            log.warn(f"[{self.NAME}] decompression error")
            self.decompressor = FAILED  # drop the rest of this body
        if out:
            self.next.process(Data.from_chunks(out))

    def _new(self, algorithm: str) -> Any:
        return new_decompressor(algorithm)


@register("decompressMessage")
class DecompressMessage(DecompressBase):
    """``decompressMessage('inflate'|'brotli'|fn(start) → name)``."""

    __slots__ = ("algorithm",)
    CONFIG = ("algorithm",)

    @classmethod
    def configure(cls, config: Any, algorithm: Any = undefined, *rest: Any) -> "DecompressMessage":
        if type(algorithm) is str:
            if algorithm not in ("inflate", "brotli"):
                raise type_error(f"decompressMessage: unknown compression algorithm: {algorithm}")
        elif not callable(algorithm):
            raise type_error("decompressMessage: argument #1 expects a string or a function")
        f = cls.__new__(cls)
        f.algorithm = algorithm
        f.reset()
        return f

    def _choose(self, start: MessageStart) -> Any:
        a = self.eval_arg(self.algorithm, start)
        if type(a) is not str:
            return None  # null/undefined (or a failed callback): body passes as is
        if a not in ("inflate", "brotli"):
            log.error(f"[decompress] unknown compression algorithm: {a}")
            return None
        return self._new(a)


_HTTP_DECODERS = {"gzip": "inflate", "x-gzip": "inflate", "deflate": "inflate", "br": "brotli"}


@register("decompressHTTP")
class DecompressHTTP(DecompressBase):
    """``decompressHTTP([enable(start) → bool])``: inflate gzip/deflate/br bodies; the
    content-encoding header is left as it is (Pipy)."""

    __slots__ = ("enable",)
    CONFIG = ("enable",)

    @classmethod
    def configure(cls, config: Any, enable: Any = undefined, *rest: Any) -> "DecompressHTTP":
        if enable is undefined or enable is None:
            enable = None
        elif not callable(enable):
            raise type_error("decompressHTTP: argument #1 expects a function")
        f = cls.__new__(cls)
        f.enable = enable
        f.reset()
        return f

    def _choose(self, start: MessageStart) -> Any:
        head = start.head
        headers = head.get("headers") if isinstance(head, dict) else None
        enc = headers.get("content-encoding") if isinstance(headers, dict) else None
        if type(enc) is not str:
            return None
        algorithm = _HTTP_DECODERS.get(enc.strip().lower())
        if algorithm is None:
            return None
        if self.enable is not None:
            ok = self.callback(self.enable, start)
            if ok is FAILED or not to_boolean(ok):
                return None
        return self._new(algorithm)
