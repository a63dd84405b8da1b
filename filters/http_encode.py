"""HTTP/1.x message encoding, sans-I/O: heads to bytes, bodies to framed pieces.

Rules (reference §4.4, all HTTP/1 encoders):
- Response start line ``<protocol || HTTP/1.1> <status || 200> <statusText || IANA reason || OK>``;
  request start line ``<method || GET> <path || /> <protocol || HTTP/1.1>``.
- ``head.headers`` entries in insertion order, names as given; an array value gives one line per
  element (``set-cookie``). Dropped: ``content-length`` (kept only for bodiless responses),
  ``transfer-encoding``, ``keep-alive``, and ``connection`` unless its value is ``upgrade``.
- Then the framing header we own (``content-length: n`` or ``transfer-encoding: chunked``; none
  for 1xx/204/304 and bodiless responses) and ``connection: keep-alive|close`` (none for 1xx).
- Header lines never contain CR or LF from values: a line that would is dropped (response
  splitting, RFC 9112 §2.2); checked with one count over the joined head.

``MessageEncoder`` is the streaming part: it holds the head and up to ``buffer_size`` bytes of
body so that small messages get ``content-length``; a body that outgrows the buffer switches to
chunked (or, for HTTP/1.0 peers that cannot read chunked, to a close-delimited body).
Output is a list of ``bytes`` pieces so body chunks are never copied.
"""
from __future__ import annotations

from typing import Any

from pipyd.js.coerce import to_string
from pipyd.js.values import JSArray, JSObject

# RFC 9110 §15 / IANA HTTP Status Code Registry: the reasons Pipy writes by default.
REASONS: dict[int, str] = {
    100: "Continue", 101: "Switching Protocols", 102: "Processing", 103: "Early Hints",
    200: "OK", 201: "Created", 202: "Accepted", 203: "Non-Authoritative Information",
    204: "No Content", 205: "Reset Content", 206: "Partial Content", 207: "Multi-Status",
    208: "Already Reported", 226: "IM Used",
    300: "Multiple Choices", 301: "Moved Permanently", 302: "Found", 303: "See Other",
    304: "Not Modified", 305: "Use Proxy", 307: "Temporary Redirect", 308: "Permanent Redirect",
    400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden",
    404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
    407: "Proxy Authentication Required", 408: "Request Timeout", 409: "Conflict", 410: "Gone",
    411: "Length Required", 412: "Precondition Failed", 413: "Payload Too Large",
    414: "URI Too Long", 415: "Unsupported Media Type", 416: "Range Not Satisfiable",
    417: "Expectation Failed", 421: "Misdirected Request", 422: "Unprocessable Entity",
    423: "Locked", 424: "Failed Dependency", 425: "Too Early", 426: "Upgrade Required",
    428: "Precondition Required", 429: "Too Many Requests",
    431: "Request Header Fields Too Large", 451: "Unavailable For Legal Reasons",
    500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Gateway Timeout", 505: "HTTP Version Not Supported",
    506: "Variant Also Negotiates", 507: "Insufficient Storage", 508: "Loop Detected",
    510: "Not Extended", 511: "Network Authentication Required",
}

# Framing modes passed to the head encoders.
CHUNKED = -1        # transfer-encoding: chunked
UNTIL_CLOSE = -2    # no framing header; the body ends when the connection closes
NO_BODY = -3        # 1xx / 204 / 304 / bodiless: no framing header we add

LAST_CHUNK = b"0\r\n\r\n"
CRLF = b"\r\n"
DEFAULT_BUFFER_SIZE = 16384  # Pipy 0.70 bufferSize default (the mdx pages say 4 KB)

_STATUS_LINES: dict[int, str] = {s: f"HTTP/1.1 {s} {r}\r\n" for s, r in REASONS.items()}
_KA = "connection: keep-alive\r\n\r\n"
_CLOSE = "connection: close\r\n\r\n"


def _status_of(head: Any) -> int:
    s = head.get("status") if type(head) is JSObject or isinstance(head, dict) else None
    if type(s) is int and s:
        return s
    if not s:
        return 200
    try:  # a numeric string or a float, as Pipy's atoi of the stringified value
        return int(float(s))
    except (TypeError, ValueError):
        return 200


# content-length -> the head of a Message without a head (``new Message('body')``), one table
# per connection disposition; bounded, since lengths are as many as bodies.
PLAIN_HEADS_KEEP_ALIVE: dict[int, bytes] = {}
PLAIN_HEADS_CLOSE: dict[int, bytes] = {}


def plain_response_head(length: int, final: bool) -> bytes:
    """``response_head(None, length, final)`` for ``length >= 0``. Nothing in it comes from a
    script, so it needs no CR/LF check and is cached (callers may look in the two tables
    first and call this on a miss)."""
    table = PLAIN_HEADS_CLOSE if final else PLAIN_HEADS_KEEP_ALIVE
    b = table.get(length)
    if b is None:
        b = (f"HTTP/1.1 200 OK\r\ncontent-length: {length}\r\n"
             f"{_CLOSE if final else _KA}").encode("ascii")
        if len(table) < 4096:
            table[length] = b
    return b


def _header_lines(parts: list[str], headers: Any, keep_length: bool) -> None:
    """Append ``name: value\\r\\n`` for every header we keep (rules at the top)."""
    # JSObject first: its truthiness is a Python-level __bool__ (an empty object is truthy)
    if type(headers) is not JSObject and (not headers or not isinstance(headers, dict)):
        return
    for k, v in headers.items():
        n = len(k)
        if n == 10 or n == 14 or n == 17:  # cheap pre-filter: only these lengths may be dropped
            lk = k.lower()
            if lk == "content-length":
                if not keep_length:
                    continue
            elif lk == "transfer-encoding" or lk == "keep-alive":
                continue
            elif lk == "connection":
                if type(v) is not str or v.lower() != "upgrade":
                    continue
        if type(v) is str:
            parts.append(f"{k}: {v}\r\n")
        elif type(v) is JSArray or type(v) is list:
            for item in v:
                parts.append(f"{k}: {to_string(item)}\r\n")
        else:
            parts.append(f"{k}: {to_string(v)}\r\n")


def _finish(parts: list[str]) -> bytes:
    s = "".join(parts)
    lines = len(parts)  # every part ends with one CRLF, the last one with two
    if s.count("\n") != lines + 1 or s.count("\r") != lines + 1:
        s = _without_split_lines(parts)
    return s.encode("utf-8", "surrogateescape")


def _without_split_lines(parts: list[str]) -> str:
    """Slow path: drop header lines whose name or value carried CR/LF (RFC 9112 §2.2)."""
    kept = [parts[0]] if parts[0].count("\n") == 1 and parts[0].count("\r") == 1 else ["HTTP/1.1 500 Internal Server Error\r\n"]
    for p in parts[1:-1]:
        if p.count("\n") == 1 and p.count("\r") == 1:
            kept.append(p)
    kept.append(parts[-1])
    return "".join(kept)


def response_head(head: Any, length: int, final: bool, bodiless: bool = False) -> bytes:
    """Encode a response head. ``length`` >= 0 is a content-length, else a framing mode."""
    if type(head) is not JSObject and not isinstance(head, dict):
        head = None  # no head (or not an object): every default
    return encode_response_head(head, _status_of(head), length, final, bodiless)


def encode_response_head(head: "dict | None", status: int, length: int, final: bool,
                         bodiless: bool = False) -> bytes:
    """``response_head`` for a caller that already has ``status`` (``_status_of(head)``) and
    knows ``head`` is a dict or None."""
    if head is None:
        if length >= 0 and not bodiless:
            return plain_response_head(length, final)
        proto = text = headers = None
    else:
        proto = head.get("protocol")
        text = head.get("statusText")
        headers = head.get("headers")
    # A head that names our own defaults (a proxied upstream response: HTTP/1.1, the IANA
    # reason) writes the same line as one that names none: take the prebuilt one.
    if (not proto or proto == "HTTP/1.1") and status in _STATUS_LINES \
            and (not text or text == REASONS[status]):
        parts = [_STATUS_LINES[status]]
        scripted = False  # the status line is ours: only header lines need the CR/LF check
    else:
        if not text:
            text = REASONS.get(status, "OK")
        parts = [f"{to_string(proto) if proto else 'HTTP/1.1'} {status} {to_string(text)}\r\n"]
        scripted = True
    informational = status < 200
    no_body = bodiless or informational or status == 204 or status == 304
    if headers is not None and (type(headers) is JSObject or headers):
        _header_lines(parts, headers, bodiless or status == 304)
        scripted = scripted or len(parts) > 1
    if not no_body:
        if length >= 0:
            parts.append(f"content-length: {length}\r\n")
        elif length == CHUNKED:
            parts.append("transfer-encoding: chunked\r\n")
        else:
            final = True  # a close-delimited body ends only with the connection
    if informational:
        parts.append("\r\n")
    else:
        parts.append(_CLOSE if final else _KA)
    if scripted:
        return _finish(parts)
    return "".join(parts).encode("ascii")


def request_head(head: Any, length: int) -> bytes:
    """Encode a request head; requests always carry ``connection: keep-alive`` (§4.4)."""
    if type(head) is JSObject or isinstance(head, dict):
        method = head.get("method") or "GET"
        path = head.get("path") or "/"
        proto = head.get("protocol") or "HTTP/1.1"
        if type(method) is not str:
            method = to_string(method)
        if type(path) is not str:
            path = to_string(path)
        if type(proto) is not str:
            proto = to_string(proto)
        parts = [f"{method} {path} {proto}\r\n"]
        _header_lines(parts, head.get("headers"), False)
    else:
        parts = ["GET / HTTP/1.1\r\n"]
    if length >= 0:
        parts.append(f"content-length: {length}\r\n")
    elif length == CHUNKED:
        parts.append("transfer-encoding: chunked\r\n")
    parts.append(_KA)
    return _finish(parts)


def chunk_header(size: int) -> bytes:
    return b"%X\r\n" % size


def _asks_for_chunked(head: Any) -> bool:
    """A head whose headers name ``transfer-encoding: chunked`` (any case)."""
    if head is None:  # callers pass a dict or None (a JSObject's truthiness is Python-level)
        return False
    headers = head.get("headers")
    if type(headers) is not JSObject and (not headers or not isinstance(headers, dict)):
        return False
    for k, v in headers.items():
        if len(k) == 17 and k.lower() == "transfer-encoding":
            return type(v) is str and "chunked" in v.lower()
    return False


class MessageEncoder:
    """Streams one message at a time: ``start`` then ``data``* then ``end``, each returning the
    pieces to write. Small bodies (up to ``buffer_size``) are held to send ``content-length``."""

    __slots__ = ("buffer_size", "is_response", "_head", "_final", "_no_chunked",
                 "_held", "_held_size", "_mode", "final_sent", "status")

    def __init__(self, is_response: bool, buffer_size: int = DEFAULT_BUFFER_SIZE) -> None:
        self.buffer_size = buffer_size
        self.is_response = is_response
        self._mode = 0  # 0 idle, 1 buffering, 2 chunked, 3 raw (until close or no body)
        self._held: list[bytes] = []
        self._held_size = 0
        self._head: Any = None
        self._final = False
        self._no_chunked = False
        self.final_sent = False  # the last head said connection: close
        self.status = 0  # a response's status (``_status_of`` its head), set by ``start``

    def start(self, head: Any, final: bool = False, bodiless: bool = False,
              peer_http10: bool = False) -> list[bytes]:
        """Begin a message. ``peer_http10``: the request was HTTP/1.0, so a long body cannot be
        chunked and is sent close-delimited instead (RFC 9112 §7.1: chunked needs HTTP/1.1).
        A response that can have no body (bodiless, 1xx, 204, 304) is written at once."""
        if type(head) is not JSObject and not isinstance(head, dict):
            head = None
        self._head = head
        self._final = final
        self._no_chunked = peer_http10
        self._held = []
        self._held_size = 0
        if self.is_response:
            s = self.status = _status_of(head)
            if bodiless or s < 200 or s == 204 or s == 304:
                self._mode = 4  # body dropped: RFC 9112 §6.3 rules 1-2
                self.final_sent = final and s >= 200
                return [encode_response_head(head, s, NO_BODY, final, bodiless)]
        self._mode = 1
        if _asks_for_chunked(head):
            # The script asked for a streamed body (an SSE or long-poll answer): send the head
            # now rather than holding it until the body outgrows the buffer.
            return self._switch_to_streaming()
        return []

    def data(self, chunks: list[bytes], size: int) -> list[bytes]:
        mode = self._mode
        if mode == 1:
            self._held.extend(chunks)
            self._held_size += size
            if self._held_size <= self.buffer_size:
                return []
            return self._switch_to_streaming()
        if mode == 2:
            return [chunk_header(size), *chunks, CRLF] if size else []
        if mode == 3:
            return list(chunks)
        return []  # outside a message, or the body of a bodiless response: dropped

    def end(self) -> list[bytes]:
        mode = self._mode
        self._mode = 0
        if mode == 1:
            head = self._encode_head(self._held_size)
            held = self._held
            self._held = []
            return [head, *held] if held else [head]
        if mode == 2:
            return [LAST_CHUNK]
        return []

    def _switch_to_streaming(self) -> list[bytes]:
        if self.is_response and self._no_chunked:
            head = self._encode_head(UNTIL_CLOSE)
            self._mode = 3
            out = [head, *self._held]
        else:
            head = self._encode_head(CHUNKED)
            self._mode = 2
            # nothing held yet: no chunk (a zero-size chunk would end the body)
            out = [head, chunk_header(self._held_size), *self._held, CRLF] if self._held else [head]
        self._held = []
        return out

    def _encode_head(self, length: int) -> bytes:
        if self.is_response:
            self.final_sent = self._final or length == UNTIL_CLOSE
            return encode_response_head(self._head, self.status, length, self._final)
        return request_head(self._head, length)
