"""detectProtocol(cb): names the protocol of a stream from its first bytes (reference §2.2
row 28). Events pass through unchanged; ``cb`` is called once with ``'HTTP'``, ``'TLS'`` or
``''`` as soon as the bytes decide it.

- HTTP/1: a known method and a space, a request target, then ``HTTP/1.0`` or ``HTTP/1.1`` and
  CRLF (RFC 9112 §3: the request line).
- TLS: a handshake record (content type 22, major version 3, minor version at most 4) whose
  first message is a ClientHello (type 1) no longer than the record (RFC 8446 §5.1, §4).
- Anything that fails both is ``''``. A stream that ends first never calls ``cb``.
"""
from __future__ import annotations

import re
from typing import Any

from pipyd.events import Data
from pipyd.js.values import type_error
from pipyd.registry import register
from pipyd.pipeline import Filter

_METHODS = (b"GET ", b"HEAD ", b"POST ", b"PUT ", b"PATCH ", b"DELETE ", b"CONNECT ",
            b"OPTIONS ", b"TRACE ")
_VERSION = re.compile(rb"HTTP/1\.[01]\r\n")
_MAX_PEEK = 16384  # a request line longer than this is not worth waiting for


def _http(b: bytes) -> bool | None:
    """True/False once decided, None when more bytes are needed."""
    n = len(b)
    for m in _METHODS:
        if b[:len(m)] == m[:n]:
            break
    else:
        return False
    if n < len(m):
        return None
    sp = b.find(b" ", len(m))
    if sp < 0:
        return None if n < _MAX_PEEK else False
    tail = b[sp + 1:sp + 11]
    if len(tail) < 10:
        return None if b"HTTP/1.0\r\n"[:len(tail)] == tail or b"HTTP/1.1\r\n"[:len(tail)] == tail else False
    return _VERSION.fullmatch(tail) is not None


def _tls(b: bytes) -> bool | None:
    n = len(b)
    if n >= 1 and b[0] != 22:
        return False
    if n >= 2 and b[1] != 3:
        return False
    if n >= 3 and b[2] > 4:
        return False
    if n >= 6 and b[5] != 1:
        return False
    if n >= 9 and (b[6] << 16 | b[7] << 8 | b[8]) > (b[3] << 8 | b[4]) + 4:
        return False
    return True if n >= 11 else None


@register("detectProtocol")
class DetectProtocol(Filter):
    __slots__ = ("cb", "buf", "done")
    CONFIG = ("cb",)

    @classmethod
    def configure(cls, config: Any, cb: Any = None, *rest: Any) -> "DetectProtocol":
        if not callable(cb):
            raise type_error("detectProtocol: argument #1 expects a function")
        f = cls.__new__(cls)
        f.cb = cb
        f.reset()
        return f

    def reset(self) -> None:
        self.buf = b""
        self.done = False

    def process(self, evt: Any) -> None:
        if not self.done and type(evt) is Data and evt.size:
            self.buf += evt.to_bytes()
            name = self._decide(self.buf)
            if name is not None:
                self.done = True
                self.buf = b""
                self.callback(self.cb, name)
        self.next.process(evt)

    @staticmethod
    def _decide(b: bytes) -> str | None:
        h = _http(b)
        if h:
            return "HTTP"
        t = _tls(b)
        if t:
            return "TLS"
        if h is False and t is False:
            return ""
        return None

    def dump(self) -> str:
        return "detectProtocol"
