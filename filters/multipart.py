"""``decodeMultipart()``: a MIME multipart message becomes one message per part (reference §2.2
row 18; RFC 2046 §5.1).

A message whose ``head.headers['content-type']`` is ``multipart/…; boundary=…`` is replaced by
its parts: each part is output as ``MessageStart({headers})``, its body as Data (streamed as it
arrives, holding back only what could be the start of a delimiter), and ``MessageEnd``. A part
that is itself multipart is split the same way, its parts output in place of it. Other messages
pass untouched.

The delimiter is ``CRLF--boundary`` (RFC 2046 §5.1.1: the CRLF before a boundary belongs to
it, so part bodies do not end with a stray CRLF); a virtual CRLF before the body lets the first
boundary open the body. The preamble and the epilogue after ``--boundary--`` are discarded.
Header names are lower-cased; a repeated header becomes an array. A part head over
``MAX_HEADER_SIZE`` bytes ends the decoding of that message with an error log.

A StreamEnd is always passed on (Pipy 0.70 swallowed one that arrived mid-message); the outer
message's own MessageStart/MessageEnd are not output.
"""
from __future__ import annotations

import re
from typing import Any, Callable

from pipyd import log
from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.js.values import JSArray, JSObject
from pipyd.pipeline import Filter
from pipyd.registry import register

MAX_HEADER_SIZE = 16384
_BOUNDARY = re.compile(r'boundary\s*=\s*(?:"([^"]{1,200})"|([^\s;,"]{1,200}))', re.I)

PREAMBLE, AFTER_DELIMITER, HEADERS, BODY, EPILOGUE = range(5)


def boundary_of(content_type: Any) -> bytes | None:
    """The boundary of a ``multipart/*`` content type, or None."""
    if type(content_type) is not str or len(content_type) > 1000:
        return None
    if not content_type[:10].lower() == "multipart/":
        return None
    m = _BOUNDARY.search(content_type)
    if m is None:
        return None
    return (m.group(1) or m.group(2)).encode("latin-1", "replace")


def _content_type(head: Any) -> Any:
    headers = head.get("headers") if isinstance(head, dict) else None
    return headers.get("content-type") if isinstance(headers, dict) else None


class Multipart:
    """The parser of one multipart body; ``emit(evt)`` receives the part events."""

    __slots__ = ("emit", "delim", "buf", "state", "headers", "header_size", "child")

    def __init__(self, boundary: bytes, emit: Callable[[Any], None]) -> None:
        self.emit = emit
        self.delim = b"\r\n--" + boundary
        self.buf = bytearray(b"\r\n")  # the virtual CRLF before the first boundary
        self.state = PREAMBLE
        self.headers: JSObject = JSObject()
        self.header_size = 0
        self.child: Multipart | None = None

    def feed(self, b: bytes) -> None:
        self.buf += b
        self._run()

    def end(self) -> None:
        """The enclosing message ended: close an unterminated part."""
        if self.state == BODY:
            if self.buf:
                self._body(bytes(self.buf))
            self._end_part()
        self.buf.clear()
        self.state = EPILOGUE

    def _body(self, b: bytes) -> None:
        if self.child is not None:
            self.child.feed(b)
        else:
            self.emit(Data.from_bytes(b))

    def _end_part(self) -> None:
        if self.child is not None:
            self.child.end()
            self.child = None
        else:
            self.emit(MessageEnd())

    def _run(self) -> None:
        buf = self.buf
        while buf:
            state = self.state
            if state == PREAMBLE or state == BODY:
                if not self._scan(buf, state == BODY):
                    return
            elif state == AFTER_DELIMITER:
                if not self._after_delimiter(buf):
                    return
            elif state == HEADERS:
                if not self._header_line(buf):
                    return
            else:
                buf.clear()  # epilogue

    def _scan(self, buf: bytearray, in_body: bool) -> bool:
        delim = self.delim
        i = buf.find(delim)
        if i < 0:
            keep = len(delim) - 1  # could be the start of a delimiter split across chunks
            if len(buf) > keep:
                if in_body:
                    self._body(bytes(buf[:len(buf) - keep]))
                del buf[:len(buf) - keep]
            return False
        if in_body:
            if i:
                self._body(bytes(buf[:i]))
            self._end_part()
        del buf[:i + len(delim)]
        self.state = AFTER_DELIMITER
        return True

    def _after_delimiter(self, buf: bytearray) -> bool:
        # "--" closes the body; otherwise optional whitespace then CRLF (§5.1.1 transport
        # padding) opens a part's headers
        if buf[:2] == b"--":
            self.state = EPILOGUE
            return True
        i = 0
        while i < len(buf) and buf[i] in b" \t":
            i += 1
        if i == len(buf) or (buf[i:i + 1] == b"\r" and i + 1 == len(buf)) or buf == b"-":
            return False  # need more bytes
        if buf[i:i + 2] == b"\r\n":
            i += 2
        elif buf[i:i + 1] == b"\n":
            i += 1
        else:
            log.error("[decodeMultipart] malformed boundary line")
            self.state = EPILOGUE
            return True
        del buf[:i]
        self.state = HEADERS
        self.headers = JSObject()
        self.header_size = 0
        return True

    def _header_line(self, buf: bytearray) -> bool:
        i = buf.find(b"\n")
        if i < 0:
            if self.header_size + len(buf) > MAX_HEADER_SIZE:
                self._too_big()
                return True
            return False
        self.header_size += i + 1
        if self.header_size > MAX_HEADER_SIZE:
            self._too_big()
            return True
        line = bytes(buf[:i]).rstrip(b"\r")
        del buf[:i + 1]
        if line:
            self._add_header(line)
            return True
        self._start_part()
        return True

    def _add_header(self, line: bytes) -> None:
        name, sep, value = line.decode("utf-8", "replace").partition(":")
        if not sep:
            return
        name = name.strip().lower()
        value = value.strip(" \t")
        headers = self.headers
        old = headers.get(name)
        if old is None:
            headers[name] = value
        elif type(old) is JSArray:
            old.append(value)
        else:
            headers[name] = JSArray([old, value])

    def _start_part(self) -> None:
        self.state = BODY
        b = boundary_of(self.headers.get("content-type"))
        if b is not None:
            self.child = Multipart(b, self.emit)
        else:
            self.emit(MessageStart(JSObject(headers=self.headers)))

    def _too_big(self) -> None:
        log.error(f"[decodeMultipart] part header exceeds {MAX_HEADER_SIZE} bytes")
        self.buf.clear()
        self.state = EPILOGUE


@register("decodeMultipart")
class DecodeMultipart(Filter):
    __slots__ = ("current",)

    @classmethod
    def configure(cls, config: Any, *args: Any) -> "DecodeMultipart":
        f = cls.__new__(cls)
        f.reset()
        return f

    def reset(self) -> None:
        self.current: Multipart | None = None

    def process(self, evt: Any) -> None:
        t = type(evt)
        cur = self.current
        if t is Data:
            if cur is not None:
                cur.feed(evt.to_bytes())
                return
        elif t is MessageStart:
            if cur is None:
                b = boundary_of(_content_type(evt.head))
                if b is not None:
                    self.current = Multipart(b, self.next.process)
                    return
        elif t is MessageEnd or t is StreamEnd:
            if cur is not None:
                self.current = None
                cur.end()
                if t is MessageEnd:
                    return
        self.next.process(evt)
