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
  ``transfer-encoding`` other than ``chunked`` alone: 400 when chunked is not the final coding
  (RFC 9112 §6.3 rule 4) or comes twice, 501 for codings before it (§6.1: we could not pass
  them on), 400 on an HTTP/1.0 request (§6.1: its framing is faulty); a CONNECT with a body
  (content-length but 0, or transfer-encoding) -> 400 (RFC 9110 §9.3.6: what follows its head
  is the tunnel); an RTSP-only method (llhttp takes them with ``RTSP/1.x``) -> 400; a version
  other than HTTP/1.0 or 1.1 -> 505; a head (or trailer block) larger than ``max_head_size``
  -> 431.
- CONNECT and ``Connection: upgrade`` + ``Upgrade`` (except h2c, an HTTP/1.0 request, RFC 9110
  §7.8, or a request with a body) end the HTTP part: the bytes after that request are held
  until the owner calls ``tunnel()`` (101-299 response) or ``resume()`` (any other response:
  parse them as the next request). An upgrade request with a body is served as a plain request
  (RFC 9110 §7.8 lets a server ignore Upgrade): its body is read as HTTP, not taken for the
  next request or the tunnel. An owner that takes such a request over at its head (h2c, with
  ``upgrade = True`` and ``tunnel()`` inside ``on_message_start``) gets the body as tunnel
  bytes instead, as before.
"""
from __future__ import annotations

from typing import Any

from httptools import HttpParserCallbackError, HttpParserError, HttpParserUpgrade, HttpRequestParser

from pipyd.js.values import JSArray, JSObject, undefined

DEFAULT_MAX_HEAD_SIZE = 32768

_PROTOCOLS = {"1.1": "HTTP/1.1", "1.0": "HTTP/1.0"}
# Methods llhttp accepts only on an ``RTSP/1.x`` request-line (it refuses them with ``HTTP/``):
# such a request is not HTTP, though llhttp reports its version alone.
_RTSP_ONLY = frozenset([b"DESCRIBE", b"ANNOUNCE", b"SETUP", b"PLAY", b"PAUSE", b"TEARDOWN",
                        b"GET_PARAMETER", b"SET_PARAMETER", b"REDIRECT", b"RECORD", b"FLUSH"])
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


def _check_transfer_encoding(te: str) -> None:
    """A request's ``transfer-encoding`` other than ``chunked`` as llhttp frames it (any case,
    trailing spaces): 501 for codings before a final chunked (RFC 9112 §6.1: the encoder
    re-frames bodies and would drop them), else 400 (§6.3 rule 4: chunked not final, or
    twice; and the forms llhttp would only refuse once the head was handed on, such as a
    trailing HTAB or an empty list element)."""
    if te.rstrip(" ").lower() == "chunked":
        return
    codings = [c for c in (x.strip(" \t").lower() for x in te.split(",")) if c]
    if len(codings) > 1 and codings[-1] == "chunked" and codings.count("chunked") == 1:
        raise ProtocolError(501, "Not Implemented")
    raise ProtocolError(400, "Bad Request")


class _Callbacks:
    """What httptools calls. ``on_body`` is the sink's own bound method: no extra frame."""

    __slots__ = ("on_message_begin", "on_url", "on_header", "on_headers_complete", "on_body",
                 "on_message_complete")


class RequestDecoder:
    __slots__ = ("sink", "max_head_size", "keep_alive", "upgrade", "protocol", "_parser",
                 "_cb", "_url", "_headers", "_head_size", "_in_head", "_in_message",
                 "_pending", "_held", "_state", "_decided", "_whole", "_ended", "_upgrade_body",
                 "_body_only")

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
        self._upgrade_body: bytes | None = None  # the framing of an upgrade request's body
        self._body_only = False  # a parser is given a made-up head: say nothing of it

    # -- httptools callbacks (hot path: keep them small) --

    def _begin(self) -> None:
        self._url = b""
        self._headers = JSObject()
        self._head_size = 0
        self._pending = -1  # the read this head starts in is not counted (see feed)
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
            if k == "transfer-encoding":  # one list (RFC 9110 §5.3), checked as a whole
                v = h[k] + ", " + v
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
            if m in _RTSP_ONLY:
                raise ProtocolError(400, "Bad Request")
            method = _METHODS[m] = m.decode("latin-1")
        if "transfer-encoding" in h:
            te = h["transfer-encoding"]
            if te != "chunked":
                _check_transfer_encoding(te)
            if proto == "HTTP/1.0":  # RFC 9112 §6.1: faulty framing (a 1.0 hop reads no chunks)
                raise ProtocolError(400, "Bad Request")
        self._in_head = False
        self.protocol = proto
        self.keep_alive = keep_alive
        upgrading = p.should_upgrade()
        body = None
        if upgrading:
            # llhttp (through httptools) ends an upgrade request at its head: a body, if any,
            # would be taken for tunnel bytes or for the next request
            if "transfer-encoding" in h:
                body = b"Transfer-Encoding: chunked\r\n"
            elif h.get("content-length", "0").strip(" \t").lstrip("0"):
                body = b"Content-Length: %d\r\n" % int(h["content-length"])
            if method == "CONNECT":
                if body is not None:
                    raise ProtocolError(400, "Bad Request")  # RFC 9110 §9.3.6: no content
                self.upgrade = True
            else:
                u = h.get("upgrade")
                # h2c: the owner's to take over (or not); HTTP/1.0: RFC 9110 §7.8
                self.upgrade = body is None and proto == "HTTP/1.1" \
                    and not (type(u) is str and u.strip(" \t").lower() == "h2c")
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
            if body is not None:
                if self._decided == 2:
                    return  # taken over at its head (h2c): the body is the owner's
                # its end comes after the body, which a new parser reads (see _upgraded)
                self._upgrade_body = b"PUT / HTTP/1.1\r\n" + body \
                    + (b"" if keep_alive else b"Connection: close\r\n") + b"\r\n"
                self._ended = True

    def _body_head(self) -> None:
        """``on_headers_complete`` of a parser that reads an upgrade request's body: the head
        it is first given is made up (only its framing counts), later ones are requests."""
        if self._body_only:
            self._body_only = False
            self._in_head = False
            return
        self._on_headers_complete()

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
        try:
            self._parser.feed_data(data)
            if self._in_head:
                # httptools buffers a header line until it ends, unseen by _on_header: bound the
                # head by the reads that went into it whole (the first and the last one may hold
                # other bytes too: they are slack, one read each)
                pending = self._pending
                if pending < 0:
                    self._pending = 0  # the head began in this read
                else:
                    pending += len(data)
                    self._pending = pending
                    if pending > self.max_head_size:
                        return self._fail(431, "Request Header Fields Too Large")
            return
        except HttpParserUpgrade as e:
            offset = e.args[0]
        except HttpParserCallbackError as e:
            err = e.__context__
            if type(err) is ProtocolError:
                return self._fail(err.status, err.reason)
            if err is not None:
                raise err  # a bug downstream: not the peer's fault
            return self._fail(400, "Bad Request")
        except HttpParserError as e:
            if str(e) == "Invalid HTTP version":  # llhttp's reason for HTTP/1.2, HTTP/3.0…
                return self._fail(505, "HTTP Version Not Supported")
            return self._fail(400, "Bad Request")
        # outside the handler: an error in what follows must not carry the upgrade as context
        self._upgraded(data, offset)

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
        # refused already, or an upgrade we do not take: carry on with a fresh parser
        self.upgrade = False
        framing = self._upgrade_body
        if framing is None:
            self._parser = HttpRequestParser(self._cb)
        else:
            # the request's body comes first: a parser told its framing by a made-up head
            # reads it (then the requests after it), its events going to the sink as usual
            self._upgrade_body = None
            cb = _Callbacks()
            cb.on_message_begin = self._begin
            cb.on_url = self._on_url
            cb.on_header = self._on_header
            cb.on_headers_complete = self._body_head
            cb.on_body = self.sink.on_body
            cb.on_message_complete = self._on_complete
            self._parser = HttpRequestParser(cb)
            self._body_only = True
            self._parser.feed_data(framing)
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
