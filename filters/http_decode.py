"""HTTP/1.x request decoding, sans-I/O, on httptools (llhttp, strict: no lenient flags).

Bytes go in with ``feed``; the sink is called back:
``on_message_start(head)``, ``on_body(bytes)``, ``on_message_end(tail)``,
``on_error(status, reason)`` (the peer broke the protocol; the decoder is dead afterwards) and
``on_tunnel(bytes)`` (raw bytes after an upgrade the owner accepted with ``tunnel()``).
A sink that has ``on_message(head)`` gets a request that cannot have a body (no
``content-length`` but 0, no ``transfer-encoding``, no upgrade) in that one call instead of
``on_message_start`` + ``on_message_end``: most requests a proxy sees.

Rules:
- Head (reference §4.1): ``{protocol, headers, method, scheme, authority, path}`` in that key
  order, header names lower-cased, a repeated header overwrites except ``set-cookie`` (an
  array). Values are decoded as UTF-8 with ``surrogateescape`` so any byte round-trips through
  the encoder. Trailers of chunked bodies are ignored (but count towards the head limit).
- Errors (strict where a proxy must be): anything llhttp rejects -> 400 (this covers
  request smuggling: content-length together with transfer-encoding, duplicate or non-numeric
  content-length, bad chunk sizes, bare LF, obs-fold); a second ``host`` -> 400 (RFC 9112 §3.2);
  a version other than HTTP/1.0 or 1.1 -> 505; a head (or trailer block) larger than
  ``max_head_size`` -> 431.
- CONNECT and ``Connection: upgrade`` + ``Upgrade`` (except h2c) end the HTTP part: the bytes
  after that request are held until the owner calls ``tunnel()`` (101-299 response) or
  ``resume()`` (any other response: parse them as the next request).
"""
from __future__ import annotations

from typing import Any

from httptools import HttpParserCallbackError, HttpParserError, HttpParserUpgrade, HttpRequestParser

from pipyd.js.values import JSArray, JSObject, undefined

DEFAULT_MAX_HEAD_SIZE = 32768

_PROTOCOLS = {"1.1": "HTTP/1.1", "1.0": "HTTP/1.0"}
_METHODS: dict[bytes, str] = {}
_NAMES: dict[bytes, str] = {}  # header name bytes -> lower-cased str (bounded cache)
_HEAD_TEMPLATE = {"protocol": None, "headers": None, "method": None, "scheme": undefined,
                  "authority": undefined, "path": None}


def _only_http11_keeps_alive_by_default() -> bool:
    """Whether llhttp's keep-alive answer identifies HTTP/1.1: true when, of every version it
    accepts, only 1.1 is persistent without a ``Connection`` header (RFC 9112 §9.3; llhttp
    treats 0.9, 1.0 and 2.0 as "1.0-like"). Then a persistent request without that header
    is HTTP/1.1 and ``get_http_version()`` (a string format per call) can be skipped.
    Checked once against the installed llhttp rather than assumed."""
    class _Probe:
        __slots__ = ()

    for major in range(10):
        for minor in range(10):
            p = HttpRequestParser(_Probe())
            try:
                p.feed_data(b"GET / HTTP/%d.%d\r\nHost: x\r\n\r\n" % (major, minor))
            except HttpParserError:
                continue  # a version llhttp rejects
            if p.should_keep_alive() != (major == 1 and minor == 1):
                return False
    return True


_KEEP_ALIVE_MEANS_11 = _only_http11_keeps_alive_by_default()


class ProtocolError(Exception):
    """The peer broke HTTP/1: carries the status to answer with (400, 431, 505, 502…)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(status, reason)
        self.status = status
        self.reason = reason


def header_name(name: bytes) -> str:
    k = _NAMES.get(name)
    if k is None:
        k = name.decode("latin-1").lower()
        if len(_NAMES) < 1024:
            _NAMES[name] = k
    return k


def store_header(headers: JSObject, k: str, v: str) -> None:
    """Pipy's header storage: later values overwrite, ``set-cookie`` collects an array."""
    if k == "set-cookie":
        old = headers.get(k)
        if old is None:
            headers[k] = JSArray([v])
        else:
            old.append(v)
    else:
        headers[k] = v


class _Callbacks:
    """What httptools calls. ``on_body`` is the sink's own bound method: no extra frame."""

    __slots__ = ("on_message_begin", "on_url", "on_header", "on_headers_complete", "on_body",
                 "on_message_complete")


class RequestDecoder:
    __slots__ = ("sink", "max_head_size", "keep_alive", "upgrade", "protocol", "_parser",
                 "_cb", "_url", "_headers", "_head_size", "_in_head", "_in_message",
                 "_pending", "_held", "_state", "_decided", "_whole", "_ended")

    # _state: 0 parsing, 1 upgrade pending (bytes held), 2 tunnel, 3 dead (after an error)

    def __init__(self, sink: Any, max_head_size: int = DEFAULT_MAX_HEAD_SIZE) -> None:
        self.sink = sink
        self.max_head_size = max_head_size
        self.keep_alive = True
        self.upgrade = False
        self.protocol = "HTTP/1.1"
        cb = _Callbacks()
        cb.on_message_begin = self._begin
        cb.on_url = self._on_url
        cb.on_header = self._on_header
        cb.on_headers_complete = self._on_headers_complete
        cb.on_body = sink.on_body
        cb.on_message_complete = self._on_complete
        self._cb = cb
        self._parser = HttpRequestParser(cb)
        self._url = b""
        self._headers: JSObject = JSObject()
        self._head_size = 0
        self._in_head = False
        self._in_message = False
        self._pending = 0
        self._held: list[bytes] = []
        self._state = 0
        self._decided = 0  # a tunnel()/resume() that came before llhttp paused: 1 resume, 2 tunnel
        self._whole = getattr(sink, "on_message", None)
        self._ended = False  # the sink had the whole message: llhttp's end is not passed on

    # -- httptools callbacks (hot path: keep them small) --

    def _begin(self) -> None:
        self._url = b""
        self._headers = JSObject()
        self._head_size = 0
        self._pending = 0
        self._in_head = True
        self._in_message = True
        self._ended = False

    def _on_url(self, piece: bytes) -> None:
        self._url += piece
        size = self._head_size + len(piece)
        self._head_size = size
        if size > self.max_head_size:
            raise ProtocolError(431, "Request Header Fields Too Large")

    def _on_header(self, name: bytes, value: bytes) -> None:
        size = self._head_size + len(name) + len(value) + 4
        self._head_size = size
        if size > self.max_head_size:
            raise ProtocolError(431, "Request Header Fields Too Large")
        if not self._in_head:
            return  # a trailer of a chunked body: ignored (reference §4.1)
        k = _NAMES.get(name) or header_name(name)
        h = self._headers
        # store_header() inlined: the first occurrence of a name is the common case
        try:
            v = value.decode()  # the strict codec's fast path; any byte survives below
        except UnicodeDecodeError:
            v = value.decode("utf-8", "surrogateescape")
        if k in h:
            if k == "host":
                raise ProtocolError(400, "Bad Request")
            if k == "set-cookie":
                h[k].append(v)
                return
        elif k == "set-cookie":
            h[k] = JSArray([v])
            return
        h[k] = v

    def _on_headers_complete(self) -> None:
        p = self._parser
        h = self._headers
        keep_alive = p.should_keep_alive()
        if keep_alive and _KEEP_ALIVE_MEANS_11 and "connection" not in h:
            proto = "HTTP/1.1"
        else:
            proto = _PROTOCOLS.get(p.get_http_version())
            if proto is None:
                raise ProtocolError(505, "HTTP Version Not Supported")
        m = p.get_method()
        method = _METHODS.get(m)
        if method is None:
            method = _METHODS[m] = m.decode("latin-1")
        if "transfer-encoding" in h:
            te = h["transfer-encoding"]
            if te.rpartition(",")[2].strip(" \t").lower() != "chunked":
                # RFC 9112 §6.3 rule 4: a request body framed otherwise is unknowable (llhttp
                # would only fail after the head was handed on)
                raise ProtocolError(400, "Bad Request")
        self._in_head = False
        self.protocol = proto
        self.keep_alive = keep_alive
        upgrading = p.should_upgrade()
        if upgrading:
            if method != "CONNECT":
                u = h.get("upgrade")
                self.upgrade = not (type(u) is str and u.lower() == "h2c")  # h2c: a later issue
            else:
                self.upgrade = True
        else:
            self.upgrade = False
        # The head in reference §4.1 key order: a copy of the template keeps the order and
        # is cheaper than keyword construction.
        head = JSObject(_HEAD_TEMPLATE)
        head["protocol"] = proto
        head["headers"] = h
        head["method"] = method
        try:
            head["path"] = self._url.decode()
        except UnicodeDecodeError:
            head["path"] = self._url.decode("utf-8", "surrogateescape")
        whole = self._whole
        if whole is not None and not upgrading and "transfer-encoding" not in h \
                and h.get("content-length", "0") == "0":
            # no body can follow: llhttp's message-complete comes next, with nothing between
            self._ended = True
            whole(head)
        else:
            self.sink.on_message_start(head)

    def _on_complete(self) -> None:
        self._in_message = False
        self._in_head = False
        if self._ended:
            self._ended = False
            return
        self.sink.on_message_end(None)

    # -- feeding --

    def feed(self, data: bytes) -> None:
        state = self._state
        if state:
            if state == 1:
                self._held.append(data)
            elif state == 2:
                self.sink.on_tunnel(data)
            return
        if self._in_head:
            # llhttp buffers a header line itself until it ends: bound that here (one read of slack)
            self._pending += len(data)
            if self._pending + self._head_size > self.max_head_size:
                return self._fail(431, "Request Header Fields Too Large")
        try:
            self._parser.feed_data(data)
        except HttpParserUpgrade as e:
            self._upgraded(data, e.args[0])
        except HttpParserCallbackError as e:
            err = e.__context__
            if type(err) is ProtocolError:
                return self._fail(err.status, err.reason)
            if err is not None:
                raise err  # a bug downstream: not the peer's fault
            self._fail(400, "Bad Request")
        except HttpParserError as e:
            if str(e) == "Invalid HTTP version":  # llhttp's reason for HTTP/1.2, HTTP/3.0…
                return self._fail(505, "HTTP Version Not Supported")
            self._fail(400, "Bad Request")

    def feed_eof(self) -> None:
        """The peer closed. A message cut short is an error (the owner decides what to send)."""
        if self._state == 0 and self._in_message:
            self._fail(400, "Bad Request")

    def _upgraded(self, data: bytes, offset: int) -> None:
        rest = data[offset:]
        decided = self._decided
        self._decided = 0
        if self.upgrade and decided != 1:
            if decided == 2:
                self._state = 2
                if rest:
                    self.sink.on_tunnel(rest)
            else:
                self._state = 1
                self._held = [rest] if rest else []
            return
        # refused already, or an h2c upgrade we do not take: carry on with a fresh parser
        self.upgrade = False
        self._parser = HttpRequestParser(self._cb)
        if rest:
            self.feed(rest)

    def resume(self) -> None:
        """The upgrade was refused (not 1xx/2xx): parse the held bytes as HTTP again.
        May be called before the decoder noticed the upgrade (a synchronous response)."""
        if self._state != 1:
            if self._state == 0 and self.upgrade:
                self._decided = 1
            return
        held = self._held
        self._held = []
        self._state = 0
        self.upgrade = False
        self._parser = HttpRequestParser(self._cb)
        for chunk in held:
            self.feed(chunk)

    def tunnel(self) -> None:
        """The upgrade was accepted: held and later bytes go to ``sink.on_tunnel``."""
        if self._state != 1:
            if self._state == 0 and self.upgrade:
                self._decided = 2
            return
        held = self._held
        self._held = []
        self._state = 2
        for chunk in held:
            self.sink.on_tunnel(chunk)

    @property
    def dead(self) -> bool:
        return self._state == 3

    def _fail(self, status: int, reason: str) -> None:
        self._state = 3
        self._in_message = False
        self.sink.on_error(status, reason)
