"""HTTP/1.x response decoding, sans-I/O, in Python.

Responses are framed here rather than by llhttp because the framing depends on the request
(RFC 9112 §6.3): a response to HEAD has no body whatever its content-length says, a 2xx to
CONNECT turns the connection into a tunnel, and the caller must be able to say so between two
pipelined responses, at a byte position llhttp (through httptools) cannot report.

Same sink as the request decoder: ``on_message_start(head)``, ``on_body(bytes)``,
``on_message_end(tail)``, ``on_error(status, reason)``, ``on_tunnel(bytes)``; a sink that has
``on_message(head, body)`` gets a final response whose whole body (``content-length``, or none)
is in the bytes at hand in that one call (``body`` is None when there is none).

Rules:
- Head (reference §4.2): ``{protocol, headers, status, statusText}``; names lower-cased, repeated
  headers overwrite except ``set-cookie`` (array). ``statusText`` is the whole reason phrase.
- Framing, in order: 1xx interim (101 -> tunnel); CONNECT expected and 2xx -> tunnel; HEAD
  expected (``bodiless``), 204, 304 -> no body; ``transfer-encoding`` (all its lines, one list)
  whose final coding is ``chunked`` (and no other is) -> chunked (any number of leading zeros
  in a size, extensions skipped, trailers checked as field lines, then ignored); other
  ``transfer-encoding`` -> until close (RFC 9112 §6.3 rule 3), but an error in an HTTP/1.0
  response (§6.1: its framing is faulty); ``content-length`` (digits, then optional blanks; two
  different values are an error) -> that many bytes; else until close.
- Malformed input -> ``on_error(502, 'Bad Gateway')``; a head over ``max_head_size`` -> 502 too
  (a gateway answers for its upstream).
"""
from __future__ import annotations

import re
from collections import deque
from typing import Any

from pipyd.js.values import JSArray, JSObject

from .http_decode import _NAMES, DEFAULT_MAX_HEAD_SIZE, header_name

# The whole head up to its empty line, validated in one pass: the status line (group 4 starts
# where the header lines do); field-name = token; field-value = no CTLs but HTAB (RFC 9110
# §5.1, §5.5); no obs-fold.
_HEAD = re.compile(
    rb"HTTP/1\.([01]) ([1-9][0-9][0-9])(?: ([\t \x21-\x7e\x80-\xff]*))?"
    rb"((?:\r\n[!#$%&'*+.^_`|~0-9A-Za-z-]+:[\t \x21-\x7e\x80-\xff]*)*)")
# possessive: a line of zeros that fails must not backtrack (any number of leading zeros)
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]++)[\t ]*+(?:;[\t \x21-\x7e\x80-\xff]*+)?")
_FIELD_LINE = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+:[\t \x21-\x7e\x80-\xff]*")  # a trailer
_DIGITS = re.compile(r"[0-9]{1,18}[\t ]*")  # OWS after a value is not part of it (RFC 9112 §5)

# The head in reference §4.2 key order: a copy of the template is cheaper than keywords.
_HEAD_TEMPLATE = {"protocol": "HTTP/1.1", "headers": None, "status": 0, "statusText": ""}

HEAD, LENGTH, CHUNK_SIZE, CHUNK_DATA, CHUNK_CRLF, TRAILERS, UNTIL_CLOSE, TUNNEL, DEAD = range(9)
_MAX_CHUNK_LINE = 4096


class ResponseDecoder:
    __slots__ = ("sink", "max_head_size", "bodiless", "_expect", "_buf", "_state", "_remaining",
                 "_trailer_size", "_whole")

    def __init__(self, sink: Any, max_head_size: int = DEFAULT_MAX_HEAD_SIZE) -> None:
        self.sink = sink
        self.max_head_size = max_head_size
        self.bodiless = False  # default for final responses with no expectation queued
        self._expect: deque[tuple[bool, bool]] = deque()
        self._buf = b""
        self._state = HEAD
        self._remaining = 0
        self._trailer_size = 0
        self._whole = getattr(sink, "on_message", None)

    def expect(self, bodiless: bool = False, connect: bool = False) -> None:
        """Queue what the next unanswered request implies for its (final) response."""
        self._expect.append((bodiless, connect))

    @property
    def in_message(self) -> bool:
        return HEAD < self._state < TUNNEL or (self._state == HEAD and bool(self._buf.strip(b"\r\n")))

    def feed(self, data: bytes) -> None:
        state = self._state
        if state == TUNNEL:
            self.sink.on_tunnel(data)
            return
        if state == DEAD:
            return
        buf = self._buf + data if self._buf else data
        self._buf = b""
        try:
            self._run(buf)
        except _Malformed:
            self._fail()

    def feed_eof(self) -> None:
        state = self._state
        if state == UNTIL_CLOSE:
            self._state = HEAD
            self.sink.on_message_end(None)
        elif state != TUNNEL and state != DEAD and self.in_message:
            self._fail()

    def _run(self, buf: bytes) -> None:
        pos = 0
        n = len(buf)
        sink = self.sink
        while pos < n:
            state = self._state
            if state == LENGTH:
                left = n - pos
                r = self._remaining
                if left < r:
                    self._remaining = r - left
                    sink.on_body(buf[pos:] if pos else buf)
                    return
                sink.on_body(buf[pos:pos + r])
                pos += r
                self._state = HEAD
                sink.on_message_end(None)
            elif state == HEAD:
                pos = self._head(buf, pos)
                if pos < 0:
                    return
            elif state == UNTIL_CLOSE:
                sink.on_body(buf[pos:] if pos else buf)
                return
            elif state == CHUNK_DATA:
                left = n - pos
                r = self._remaining
                if left < r:
                    self._remaining = r - left
                    sink.on_body(buf[pos:] if pos else buf)
                    return
                sink.on_body(buf[pos:pos + r])
                pos += r
                self._state = CHUNK_CRLF
            elif state == TUNNEL:
                sink.on_tunnel(buf[pos:] if pos else buf)
                return
            elif state == DEAD:
                return
            else:
                pos = self._chunk_framing(buf, pos, state)
                if pos < 0:
                    return

    def _head(self, buf: bytes, pos: int) -> int:
        while buf.startswith(b"\r\n", pos):  # RFC 9112 §2.2: ignore empty lines before a message
            pos += 2
        end = buf.find(b"\r\n\r\n", pos)
        if end < 0:
            if len(buf) - pos > self.max_head_size:
                raise _Malformed
            self._buf = buf[pos:]
            return -1
        if end - pos > self.max_head_size:
            raise _Malformed
        m = _HEAD.fullmatch(buf, pos, end)
        if m is None:
            raise _Malformed
        headers = JSObject()
        names = _NAMES
        start = m.start(4)
        # split + partition per line beats re.findall here (SRE's per-match objects cost more)
        for line in buf[start + 2:end].split(b"\r\n") if end > start else ():
            name, _, value = line.partition(b":")
            k = names.get(name) or header_name(name)
            value = value.lstrip(b" \t")  # OWS before the value is not part of it
            try:
                v = value.decode()  # the strict codec's fast path; any byte survives below
            except UnicodeDecodeError:
                v = value.decode("utf-8", "surrogateescape")
            # store_header() inlined: later values overwrite, set-cookie collects an array
            if k in headers:
                if k == "content-length" and headers[k].rstrip(" \t") != v.rstrip(" \t"):
                    raise _Malformed  # RFC 9112 §6.3 rule 5: conflicting lengths
                if k == "set-cookie":
                    headers[k].append(v)
                    continue
                if k == "transfer-encoding":  # one list (RFC 9110 §5.3): its final coding counts
                    v = headers[k] + ", " + v
            elif k == "set-cookie":
                headers[k] = JSArray([v])
                continue
            headers[k] = v
        proto, code, reason, _ = m.groups()
        status = int(code)
        head = JSObject(_HEAD_TEMPLATE)
        if proto != b"1":
            head["protocol"] = "HTTP/1.0"
        head["headers"] = headers
        head["status"] = status
        if reason:
            head["statusText"] = reason.decode("utf-8", "surrogateescape")
        self._frame(status, headers, proto)
        state = self._state
        whole = self._whole
        if whole is not None and status >= 200:
            if state == HEAD:
                whole(head, None)
                return end + 4
            if state == LENGTH:
                stop = end + 4 + self._remaining
                if stop <= len(buf):
                    self._state = HEAD
                    whole(head, buf[end + 4:stop])
                    return stop
        self.sink.on_message_start(head)
        state = self._state
        if state == HEAD or state == TUNNEL:  # no body: the message ends with its head
            self.sink.on_message_end(None)
        return end + 4

    def _frame(self, status: int, headers: JSObject, proto: bytes) -> None:
        if status < 200:
            self._state = TUNNEL if status == 101 else HEAD
            return
        bodiless, connect = self._expect.popleft() if self._expect else (self.bodiless, False)
        if connect and status < 300:
            self._state = TUNNEL
        elif bodiless or status == 204 or status == 304:
            self._state = HEAD
        elif "transfer-encoding" in headers:
            if proto != b"1":
                raise _Malformed  # RFC 9112 §6.1: an HTTP/1.0 message with transfer-encoding
            te = headers["transfer-encoding"]
            if te != "chunked":
                te = _final_coding(te)
            self._state = CHUNK_SIZE if te == "chunked" else UNTIL_CLOSE
        elif "content-length" in headers:
            cl = headers["content-length"]
            if _DIGITS.fullmatch(cl) is None:
                raise _Malformed
            self._remaining = int(cl)  # int() takes the trailing blanks
            self._state = LENGTH if self._remaining else HEAD
        else:
            self._state = UNTIL_CLOSE

    def _chunk_framing(self, buf: bytes, pos: int, state: int) -> int:
        """CHUNK_SIZE, CHUNK_CRLF and TRAILERS: line-based, never on the hot path of large bodies."""
        if state == CHUNK_CRLF:
            if len(buf) - pos < 2:
                self._buf = buf[pos:]
                return -1
            if not buf.startswith(b"\r\n", pos):
                raise _Malformed
            self._state = CHUNK_SIZE
            return pos + 2
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            if len(buf) - pos > _MAX_CHUNK_LINE:
                raise _Malformed
            self._buf = buf[pos:]
            return -1
        if state == CHUNK_SIZE:
            m = _CHUNK_SIZE.fullmatch(buf, pos, eol)
            if m is None:
                raise _Malformed
            digits = m.group(1)
            if len(digits) > 15 and len(digits.lstrip(b"0")) > 15:
                raise _Malformed  # past 2**60: no body is that long
            size = int(digits, 16)
            if size:
                self._remaining = size
                self._state = CHUNK_DATA
            else:
                self._trailer_size = 0
                self._state = TRAILERS
            return eol + 2
        if eol == pos:  # the empty line that ends the trailer section
            self._state = HEAD
            self.sink.on_message_end(None)
            return eol + 2
        self._trailer_size += eol - pos + 2
        if self._trailer_size > self.max_head_size or _FIELD_LINE.fullmatch(buf, pos, eol) is None:
            raise _Malformed
        return eol + 2

    def _fail(self) -> None:
        self._state = DEAD
        self._buf = b""
        self.sink.on_error(502, "Bad Gateway")

    @property
    def dead(self) -> bool:
        return self._state == DEAD


def _final_coding(te: str) -> str:
    """The last coding of a transfer-encoding list (empty elements aside, RFC 9110 §5.6.1),
    lower-cased; chunked twice is malformed (RFC 9112 §6.1: a sender MUST NOT)."""
    codings = [c for c in (x.strip(" \t").lower() for x in te.split(",")) if c]
    if codings.count("chunked") > 1:
        raise _Malformed
    return codings[-1] if codings else ""


class _Malformed(Exception):
    pass
