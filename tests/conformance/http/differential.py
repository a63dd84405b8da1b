"""Differential testing of the HTTP/1 decoders against h11 (an independent, pure-Python peer).

A seeded generator (``random.Random(seed)``) writes HTTP/1.x connections: requests (h11 plays
the server) and responses (h11 plays the client, after it has sent each matching request, since
HEAD, CONNECT and upgrades decide response framing). Most streams are valid; a mutation step
then probes the grammar and the framing edges request smuggling and response splitting live on
(whitespace before the colon, obs-fold, bare CR/LF, control characters, duplicate or malformed
content-length, transfer-encoding lists, chunk sizes and extensions, trailers, versions,
methods, targets, over-long heads...).

Each stream goes to our decoder whole and split at random positions (every split must give the
same outcome: a difference there is always a bug) and to h11, and both are normalised to an
``Outcome``: the messages (start line, headers as lower-cased pairs after Pipy's storage rules,
body), where the stream was rejected (message index, and ``head`` or ``body``) and the bytes
of a tunnel. Where the two differ the difference must be in ``ALLOWED`` below, each entry with
the reason pipyd differs from h11 (a documented Pipy behaviour, an RFC choice, or h11 being
wrong); anything else is a mismatch.

Run long sessions with ``python -m tests.conformance.http.differential [N] [SEED]``; the pytest
wrapper (test_differential.py) runs fixed seeds, ``PIPYD_HTTP_DIFF_N`` raising the count.
"""
from __future__ import annotations

import random
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

import h11

from pipyd.filters.http_codec import DEFAULT_MAX_HEAD_SIZE, RequestDecoder, ResponseDecoder

# ---------------------------------------------------------------------------------------------
# Normalised outcome


@dataclass(frozen=True)
class Outcome:
    messages: tuple  # ((start...), ((name, value), ...), body) per message, interim responses too
    error: tuple | None = None  # (message index, "head" | "body") of the rejection
    tunnel: bytes | None = None  # what followed an accepted CONNECT/upgrade
    status: int | None = None  # the rejection's status (shown, not compared: h11 only hints)
    cut: int | None = None  # h11 only: the connection must close after this many messages

    def key(self) -> tuple:
        return (self.messages, self.error, self.tunnel)


def _store(pairs: list[tuple[bytes, bytes]]) -> tuple:
    """Pipy's header storage applied to a list of (lower-cased name, value): a repeated name
    overwrites in place, ``set-cookie`` collects its values."""
    out: dict[bytes, Any] = {}
    for k, v in pairs:
        if k == b"set-cookie":
            out.setdefault(k, []).append(v)
        else:
            out[k] = v
    return tuple((k, tuple(v) if type(v) is list else v) for k, v in out.items())


def _norm_value(k: bytes, v: bytes) -> bytes:
    # NORMALISED["trailing-ows"] and NORMALISED["te-case"]: applied to both sides alike
    v = v.rstrip(b" \t")
    return v.lower() if k == b"transfer-encoding" else v


def _our_headers(h: Any) -> tuple:
    pairs = []
    for k, v in h.items():
        kb = k.encode("latin-1")
        if type(v) is str:
            pairs.append((kb, _norm_value(kb, v.encode("utf-8", "surrogateescape"))))
        else:  # set-cookie's array
            pairs.append((kb, tuple(_norm_value(kb, x.encode("utf-8", "surrogateescape")) for x in v)))
    return tuple(pairs)


def _h11_headers(headers: Any) -> tuple:
    return _store([(bytes(k), _norm_value(bytes(k), bytes(v))) for k, v in headers])


# ---------------------------------------------------------------------------------------------
# The generator


TOKEN_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"
TOKEN_RARE = "!#$%&'*+.^_`|~"
PATH_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@%"
VALUE_CHARS = bytes(range(0x21, 0x7f))
RESERVED = {b"host", b"content-length", b"transfer-encoding", b"connection", b"upgrade",
            b"te", b"expect", b"keep-alive", b"trailer", b"http2-settings", b"proxy-connection"}
METHODS = [b"GET", b"GET", b"GET", b"POST", b"POST", b"PUT", b"DELETE", b"PATCH", b"OPTIONS",
           b"HEAD", b"TRACE", b"PROPFIND", b"PURGE", b"MKCOL", b"REPORT", b"SEARCH", b"QUERY"]
BODY_METHODS = {b"POST", b"PUT", b"PATCH", b"PROPFIND", b"REPORT", b"SEARCH", b"QUERY"}
REASONS = {100: b"Continue", 102: b"Processing", 103: b"Early Hints", 101: b"Switching Protocols",
           200: b"OK", 201: b"Created", 202: b"Accepted", 204: b"No Content", 206: b"Partial Content",
           301: b"Moved Permanently", 302: b"Found", 304: b"Not Modified", 400: b"Bad Request",
           403: b"Forbidden", 404: b"Not Found", 407: b"Proxy Authentication Required",
           500: b"Internal Server Error", 502: b"Bad Gateway", 503: b"Service Unavailable"}


def _token(rng: random.Random, lo: int = 1, hi: int = 12) -> bytes:
    chars = TOKEN_CHARS + (TOKEN_RARE if rng.random() < 0.2 else "")
    return "".join(rng.choice(chars) for _ in range(rng.randint(lo, hi))).encode()


def _name(rng: random.Random) -> bytes:
    while True:
        n = rng.choice([b"X-" + _token(rng), _token(rng), b"Accept", b"User-Agent", b"Cookie",
                        b"Cache-Control", b"Accept-Encoding", b"Set-Cookie", b"Via", b"Date"])
        if n.lower() not in RESERVED:
            return n


def _value(rng: random.Random) -> bytes:
    r = rng.random()
    if r < 0.1:
        return b""
    n = rng.randint(1, 40)
    out = bytearray(rng.choice(VALUE_CHARS) for _ in range(n))
    if r < 0.3:  # inner blanks
        for _ in range(rng.randint(1, 3)):
            out.insert(rng.randint(1, len(out)), rng.choice(b" \t"))
    if r > 0.9:  # obs-text (any byte round-trips through the decoders)
        out[rng.randrange(len(out))] = rng.randint(0x80, 0xff)
    v = bytes(out).strip(b" \t")
    return v or b"v"


def _field(name: bytes, value: bytes, rng: random.Random | None = None, tails: bytes = b" \t") -> bytes:
    ows = b" "
    tail = b""
    if rng is not None:
        ows = rng.choice([b" ", b" ", b" ", b"", b"\t", b"  "])
        if rng.random() < 0.05:
            tail = bytes([rng.choice(tails)])
    return name + b":" + ows + value + tail


@dataclass
class Chunked:
    chunks: list  # [size bytes, ext bytes, line end, data, data end]
    last: list  # [size bytes, ext bytes, line end]
    trailers: list  # field lines
    trailer_eols: list
    end: bytes = b"\r\n"

    def bytes(self) -> bytes:
        out = []
        for size, ext, eol, data, dend in self.chunks:
            out += [size, ext, eol, data, dend]
        out += self.last
        for line, eol in zip(self.trailers, self.trailer_eols):
            out += [line, eol]
        out.append(self.end)
        return b"".join(out)


@dataclass
class Msg:
    start: bytes
    fields: list  # field lines (bytes)
    eols: list  # line ends: the start line's, one per field line, the empty line's
    body: Any = b""  # bytes, or a Chunked
    method: bytes = b"GET"  # requests: the method; responses: the method of the request answered
    interim: bool = False  # a 1xx response

    def bytes(self) -> bytes:
        out = [self.start, self.eols[0]]
        for line, eol in zip(self.fields, self.eols[1:]):
            out += [line, eol]
        out.append(self.eols[-1])
        out.append(self.body.bytes() if isinstance(self.body, Chunked) else self.body)
        return b"".join(out)

    def add(self, line: bytes, at: int | None = None, eol: bytes = b"\r\n") -> None:
        if at is None:
            at = len(self.fields)
        self.fields.insert(at, line)
        self.eols.insert(at + 1, eol)

    def remove(self, i: int) -> None:
        del self.fields[i]
        del self.eols[i + 1]

    def find(self, name: bytes) -> int:
        for i, line in enumerate(self.fields):
            if line.split(b":", 1)[0].lower() == name:
                return i
        return -1


def _hexsize(rng: random.Random, n: int) -> bytes:
    s = b"%x" % n
    r = rng.random()
    if r < 0.15:
        s = s.upper()
    elif r < 0.2:
        s = b"0" * rng.randint(1, 4) + s
    return s


def _chunk_ext(rng: random.Random) -> bytes:
    r = rng.random()
    if r < 0.75:
        return b""
    if r < 0.85:
        return b";" + _token(rng, 1, 6)
    if r < 0.95:
        return b";" + _token(rng, 1, 6) + b"=" + _token(rng, 1, 6)
    return b";" + _token(rng, 1, 6) + b'="q v"'


def _chunked(rng: random.Random, body: bytes) -> Chunked:
    chunks = []
    i = 0
    while i < len(body):
        n = rng.randint(1, max(1, min(len(body) - i, rng.choice([3, 16, 300, 5000]))))
        chunks.append([_hexsize(rng, n), _chunk_ext(rng), b"\r\n", body[i:i + n], b"\r\n"])
        i += n
    trailers = [_field(_name(rng), _value(rng)) for _ in range(rng.choice([0, 0, 0, 1, 2]))]
    return Chunked(chunks, [rng.choice([b"0", b"0", b"000"]), _chunk_ext(rng), b"\r\n"], trailers,
                   [b"\r\n"] * len(trailers))


def _body_bytes(rng: random.Random) -> bytes:
    n = rng.choice([0, 1, 3, 10, 100, 1000, 20000]) if rng.random() < 0.9 else rng.randint(0, 70000)
    if rng.random() < 0.3:  # bodies that look like HTTP: what smuggling would hide
        return (b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n" * (n // 30 + 1))[:max(n, 1)]
    return rng.randbytes(n)


def _frame(rng: random.Random, m: Msg, body: bytes, choice: str) -> None:
    if choice == "cl":
        m.add(_field(rng.choice([b"Content-Length", b"content-length", b"CONTENT-LENGTH"]),
                     b"%d" % len(body), rng), rng.randint(0, len(m.fields)))
        m.body = body
    elif choice == "chunked":
        m.add(_field(rng.choice([b"Transfer-Encoding", b"transfer-encoding"]),
                     rng.choice([b"chunked", b"chunked", b"Chunked"]), rng, b" "),
              rng.randint(0, len(m.fields)))  # a trailing HTAB is in TE_VALUES
        m.body = _chunked(rng, body)


def _target(rng: random.Random, method: bytes) -> bytes:
    if method == b"CONNECT":
        return rng.choice([b"example.com:443", b"10.0.0.1:8443", b"[::1]:443", b"h:1"])
    if method == b"OPTIONS" and rng.random() < 0.4:
        return b"*"
    path = b"/" + b"/".join("".join(rng.choice(PATH_CHARS) for _ in range(rng.randint(0, 8))).encode()
                            for _ in range(rng.randint(1, 4)))
    if rng.random() < 0.3:
        path += b"?" + "".join(rng.choice(PATH_CHARS + "/?") for _ in range(rng.randint(0, 20))).encode()
    if rng.random() < 0.15:
        path = rng.choice([b"http://example.com", b"http://h:8080", b"https://a.b"]) + path
    return path


def _fields(rng: random.Random, m: Msg, n: int) -> None:
    for _ in range(n):
        m.add(_field(_name(rng), _value(rng), rng))


def gen_request(rng: random.Random, last: bool, kind: str | None = None) -> Msg:
    """One valid request; ``kind``: None, "connect", "upgrade" or "h2c"."""
    method = b"CONNECT" if kind == "connect" else b"GET" if kind == "upgrade" else rng.choice(METHODS)
    if kind == "h2c":
        method = rng.choice([b"GET", b"POST", b"OPTIONS"])
    version = b"HTTP/1.0" if rng.random() < 0.12 and kind in (None, "connect") else b"HTTP/1.1"
    m = Msg(method + b" " + _target(rng, method) + b" " + version, [], [b"\r\n", b"\r\n"], method=method)
    if version == b"HTTP/1.1" or rng.random() < 0.5:
        m.add(_field(rng.choice([b"Host", b"host", b"HOST"]),
                     rng.choice([b"example.com", b"a:8080", b"h"]), rng))
    _fields(rng, m, rng.choice([0, 1, 2, 3, 5, 8, 20]) if rng.random() < 0.97 else rng.randint(50, 200))
    if kind == "upgrade":
        m.add(_field(b"Connection", rng.choice([b"Upgrade", b"upgrade", b"keep-alive, Upgrade"]), rng))
        m.add(_field(b"Upgrade", rng.choice([b"websocket", b"WebSocket", b"foo/2"]), rng))
        m.add(_field(b"Sec-WebSocket-Key", b"dGhlIHNhbXBsZSBub25jZQ==", rng))
    elif kind == "h2c":
        m.add(_field(b"Connection", b"Upgrade, HTTP2-Settings", rng))
        m.add(_field(b"Upgrade", b"h2c", rng))
        m.add(_field(b"HTTP2-Settings", b"AAMAAABkAAQCAAAAAAIAAAAA", rng))
    elif version == b"HTTP/1.0" and not last:
        m.add(_field(b"Connection", rng.choice([b"keep-alive", b"Keep-Alive"]), rng))
    elif last and rng.random() < 0.2:
        m.add(_field(b"Connection", rng.choice([b"close", b"Close"]), rng))
    elif rng.random() < 0.1:
        m.add(_field(b"Connection", b"keep-alive", rng))
    if kind in ("connect", "upgrade"):
        return m
    r = rng.random()
    if method in BODY_METHODS or kind == "h2c":
        choice = "cl" if r < 0.45 else "chunked" if r < 0.85 and version == b"HTTP/1.1" else "none"
    else:
        choice = "cl" if r < 0.08 else "chunked" if r < 0.12 and version == b"HTTP/1.1" else "none"
    _frame(rng, m, _body_bytes(rng) if choice != "none" else b"", choice)
    return m


def gen_response(rng: random.Random, method: bytes, last: bool, upgrade: bool) -> list[Msg]:
    """The responses (interim ones first) to one request made with ``method``."""
    out = []
    for _ in range(rng.choice([0, 0, 0, 0, 1, 2])):
        st = rng.choice([100, 102, 103])
        m = Msg(b"HTTP/1.1 %d %s" % (st, REASONS[st]), [], [b"\r\n", b"\r\n"], method=method, interim=True)
        if st == 103:
            m.add(_field(b"Link", b"</style.css>; rel=preload", rng))
        out.append(m)
    if upgrade and rng.random() < 0.7:
        m = Msg(b"HTTP/1.1 101 Switching Protocols", [], [b"\r\n", b"\r\n"], method=method, interim=True)
        m.add(_field(b"Connection", b"Upgrade", rng))
        m.add(_field(b"Upgrade", b"websocket", rng))
        m.body = rng.randbytes(rng.randint(0, 30))  # the new protocol
        out.append(m)
        return out
    if method == b"CONNECT":
        status = rng.choice([200, 200, 403, 407, 502])
    elif method == b"HEAD":
        status = rng.choice([200, 200, 404, 301, 304])
    else:
        status = rng.choice([200, 200, 200, 201, 204, 206, 301, 302, 304, 400, 404, 500, 503])
    version = b"HTTP/1.0" if last and rng.random() < 0.1 else b"HTTP/1.1"
    reason = REASONS.get(status, b"")
    line = b"%s %d" % (version, status)
    r = rng.random()
    if r < 0.9:
        line += b" " + reason
    elif r < 0.95:
        line += b" "
    m = Msg(line, [], [b"\r\n", b"\r\n"], method=method)
    _fields(rng, m, rng.choice([0, 1, 2, 4, 8]) if rng.random() < 0.97 else rng.randint(30, 150))
    if rng.random() < 0.2:
        for _ in range(rng.randint(1, 3)):
            m.add(_field(b"Set-Cookie", b"k%d=v" % rng.randint(0, 9), rng))
    if last and rng.random() < 0.15:
        m.add(_field(b"Connection", b"close", rng))
    if method == b"CONNECT" and status < 300:
        m.body = rng.randbytes(rng.randint(0, 30))  # tunnel bytes
        return out + [m]
    bodiless = method == b"HEAD" or status in (204, 304)
    r = rng.random()
    choice = "cl" if r < 0.5 else "chunked" if r < 0.85 or not last else "close"
    if version == b"HTTP/1.0" and choice == "chunked":
        choice = "cl"
    body = _body_bytes(rng)
    if bodiless:
        if status != 204 and rng.random() < 0.5:  # a HEAD or 304 answer may state a length
            m.add(_field(b"Content-Length", b"%d" % len(body), rng))
        return out + [m]
    if choice == "close":
        m.body = body
    else:
        _frame(rng, m, body, choice)
    return out + [m]


# ---------------------------------------------------------------------------------------------
# Mutations: each takes (rng, msg) and returns its tag, or None when it does not apply.


def _pick_field(rng: random.Random, m: Msg) -> int:
    fields = [i for i, line in enumerate(m.fields)  # a field line, not one mutated already
              if b":" in line and line[:1] not in (b"", b":", b" ", b"\t")]
    return rng.choice(fields) if fields else -1


def mut_ws_before_colon(rng, m):
    i = _pick_field(rng, m)
    if i < 0:
        return None
    name, _, rest = m.fields[i].partition(b":")
    m.fields[i] = name + rng.choice([b" ", b"\t", b"  "]) + b":" + rest
    return "ws-before-colon"


def mut_obs_fold(rng, m):
    i = _pick_field(rng, m)
    if i < 0:
        return None
    m.add(rng.choice([b" ", b"\t", b"  "]) + _value(rng), i + 1)
    return "obs-fold"


def mut_leading_ws_line(rng, m):
    m.add(rng.choice([b" ", b"\t"]) + _field(_name(rng), _value(rng)), 0)
    return "obs-fold-first"


def mut_bare_lf(rng, m):
    i = rng.randrange(len(m.eols))
    m.eols[i] = b"\n"
    return "bare-lf"


def mut_bare_cr(rng, m):
    r = rng.random()
    if r < 0.5:
        i = rng.randrange(len(m.eols))
        eol = rng.choice([b"\r", b"\r\r\n", b"\n\r"])
        m.eols[i] = eol
        return "bare-cr:" + {b"\r": "eol", b"\r\r\n": "eol-crcrlf", b"\n\r": "eol-lfcr"}[eol]
    i = _pick_field(rng, m)
    if i < 0:
        return None
    line = m.fields[i]
    p = rng.randint(line.index(b":") + 1, len(line))
    m.fields[i] = line[:p] + b"\r" + line[p:]
    return "bare-cr:value"


def mut_ctl_value(rng, m):
    i = _pick_field(rng, m)
    if i < 0:
        return None
    line = m.fields[i]
    c = rng.choice([0, 1, 7, 8, 0x0b, 0x0c, 0x1b, 0x1f, 0x7f])
    p = rng.randint(line.index(b":") + 1, len(line))
    m.fields[i] = line[:p] + bytes([c]) + line[p:]
    return "ctl-value:%02x" % c


def mut_ctl_name(rng, m):
    i = _pick_field(rng, m)
    if i < 0:
        return None
    line = m.fields[i]
    c = rng.choice([0, 1, 9, 0x0b, 0x7f, 0x80, ord("("), ord("@"), ord("/"), ord('"')])
    p = rng.randint(0, line.index(b":"))
    m.fields[i] = line[:p] + bytes([c]) + line[p:]
    return "obs-fold" if p == 0 and c == 9 else "bad-name:%02x" % c


def mut_empty_name(rng, m):
    m.add(b":" + rng.choice([b" v", b"", b" x: y"]), rng.randint(0, len(m.fields)))
    return "empty-name"


def mut_no_colon(rng, m):
    m.add(rng.choice([b"NoColon", b"no colon here", b"X"]), rng.randint(0, len(m.fields)))
    return "no-colon"


CL_VALUES = [b"+%d", b"0%d", b" %d", b"%d,%d", b"%d, %d", b"%d ", b"-%d", b"%d.0", b"0x%x", b"",
             b"%d%d", b"99999999999999999999999", b"%d;", b"\t%d", b"%d\t"]


def _body_len(m: Msg) -> int:
    return len(m.body.bytes() if isinstance(m.body, Chunked) else m.body)


def mut_cl_value(rng, m):
    n = _body_len(m)
    fmt = rng.choice(CL_VALUES)
    v = fmt % ((n,) * fmt.count(b"%")) if b"%" in fmt else fmt
    while m.find(b"content-length") >= 0:
        m.remove(m.find(b"content-length"))
    m.add(b"Content-Length: " + v, rng.randint(0, len(m.fields)))
    if isinstance(m.body, Chunked):
        j = m.find(b"transfer-encoding")
        m.remove(j)
        m.body = m.body.bytes()
    return "cl-value:" + fmt.decode()


def mut_dup_cl(rng, m):
    n = _body_len(m)
    same = rng.random() < 0.5
    i = m.find(b"content-length")
    if i < 0:
        if isinstance(m.body, Chunked):
            return None
        m.add(b"Content-Length: %d" % n)
    m.add(b"content-length: %d" % (n if same else n + rng.randint(1, 5)), rng.randint(0, len(m.fields)))
    return "dup-cl:same" if same else "dup-cl:differ"


def mut_cl_and_te(rng, m):
    if isinstance(m.body, Chunked):
        m.add(b"Content-Length: %d" % rng.randint(0, 40), rng.randint(0, len(m.fields)))
    else:
        m.add(b"Transfer-Encoding: chunked", rng.randint(0, len(m.fields)))
    return "cl-and-te"


TE_VALUES = [b"chunked, gzip", b"gzip, chunked", b"Chunked", b"CHUNKED", b"chunked ", b"identity",
             b"chunked, chunked", b"", b" chunked", b",chunked", b"chunked,", b"chunked;q=1",
             b"xchunked", b"chunk", b"chunked\x0b", b"gzip", b"identity, chunked", b"chunked , ",
             b"chunked\t", b"\tchunked", b"chunked,\tchunked"]


def mut_te_value(rng, m):
    v = rng.choice(TE_VALUES)
    i = m.find(b"transfer-encoding")
    if i < 0:
        if isinstance(m.body, bytes) and m.find(b"content-length") >= 0:
            m.remove(m.find(b"content-length"))
        m.body = _chunked(rng, m.body if isinstance(m.body, bytes) else b"")
        i = len(m.fields)
        m.add(b"")
    m.fields[i] = b"Transfer-Encoding: " + v
    return "te-value:" + v.decode("latin-1")


def mut_dup_te(rng, m):
    i = m.find(b"transfer-encoding")
    if i < 0:
        return None
    v = rng.choice([b"chunked", b"gzip", b"identity", b""])
    m.add(b"Transfer-Encoding: " + v, rng.choice([i, i + 1]))
    return "dup-te:" + v.decode()


def _chunks(m: Msg) -> Chunked | None:
    return m.body if isinstance(m.body, Chunked) and m.body.chunks else None


def mut_chunk_size(rng, m):
    c = _chunks(m)
    if c is None:
        return None
    k = rng.randrange(len(c.chunks))
    n = len(c.chunks[k][3])
    kind = rng.choice(["zeros", "upper", "overflow", "neg", "space-after", "tab-after",
                       "space-before", "0x", "empty", "plus", "underscore", "huge-zeros", "wrong"])
    c.chunks[k][0] = {
        "zeros": b"000%x" % n, "upper": b"%X" % n, "overflow": b"1" + b"0" * 16 + b"%x" % n,
        "neg": b"-%x" % n, "space-after": b"%x " % n, "tab-after": b"%x\t" % n,
        "space-before": b" %x" % n, "0x": b"0x%x" % n, "empty": b"", "plus": b"+%x" % n,
        "underscore": b"%x_" % n, "huge-zeros": b"0" * 18 + b"%x" % n, "wrong": b"%x" % (n + 1),
    }[kind]
    return "chunk-size:" + kind + ("@ext" if c.chunks[k][1] else "")


def mut_chunk_crlf(rng, m):
    c = _chunks(m)
    if c is None:
        return None
    k = rng.randrange(len(c.chunks))
    kind = rng.choice(["none", "lf", "cr", "xx", "crcr"])
    c.chunks[k][4] = {"none": b"", "lf": b"\n", "cr": b"\r", "xx": b"XX", "crcr": b"\r\r"}[kind]
    return "chunk-data-end:" + kind


def mut_chunk_line_end(rng, m):
    c = _chunks(m)
    if c is None:
        return None
    kind = rng.choice(["lf", "cr", "lf-last", "lf-end"])
    if kind == "lf-last":
        c.last[2] = b"\n"
    elif kind == "lf-end":
        c.end = b"\n"
    else:
        c.chunks[rng.randrange(len(c.chunks))][2] = b"\n" if kind == "lf" else b"\r"
    return "chunk-line-end:" + kind


CHUNK_EXTS = [b";", b";=v", b"; a", b";a=\"unterminated", b";a=b c", b";a\x01", b" ;a", b";a=\"x\\\"y\"",
              b";a\nb", b";a=", b";a=b;c", b";a=\"\x7f\"", b"\t;a", b";a\rb", b";\x80"]


def mut_chunk_ext(rng, m):
    c = _chunks(m)
    if c is None:
        return None
    ext = rng.choice(CHUNK_EXTS)
    if rng.random() < 0.3:
        c.last[1] = ext
    else:
        c.chunks[rng.randrange(len(c.chunks))][1] = ext
    return "chunk-ext:" + ext.decode("latin-1")


def mut_trailer(rng, m):
    c = _chunks(m)
    if c is None:
        return None
    kind = rng.choice(["no-colon", "ws-colon", "fold", "lf", "ctl", "valid", "content-length"])
    line = {"no-colon": b"junk", "ws-colon": b"X-T : 1", "fold": b" folded", "lf": b"X-T: a\nb",
            "ctl": b"X-T: \x01", "valid": b"X-T: ok", "content-length": b"Content-Length: 5"}[kind]
    c.trailers.append(line)
    c.trailer_eols.append(b"\r\n")
    return "trailer:" + kind


REQ_VERSIONS = [b"HTTP/1.2", b"HTTP/2.0", b"http/1.1", b"HTTP/1.10", b"HTTP/01.1", b"HTTP/1",
                b"HTTP/1.1 ", b"HTTP/0.9", b"HTTP/3.0", b"HTTPS/1.1", b"HTTP/1.1x", b"RTSP/1.0",
                b"HTTP/ 1.1", b"HTTP/9.9", b"HTTP/1.0"]


def mut_req_version(rng, m):
    v = rng.choice(REQ_VERSIONS)
    head, _, _ = m.start.rpartition(b" ")
    m.start = head + b" " + v
    return "version:" + v.decode() + ("@te" if m.find(b"transfer-encoding") >= 0 else "")


def mut_req_line(rng, m):
    if m.start.count(b" ") != 2:
        return None  # mutated already
    method, target, version = m.start.split(b" ", 2)
    kind = rng.choice(["lower", "unknown", "bad-char", "double-sp", "tab", "lead-sp", "no-target",
                       "target-sp", "target-ctl", "target-8bit", "target-del", "target-frag",
                       "target-authority", "target-asterisk", "target-quote", "empty-method"])
    line = {
        "lower": method.lower() + b" " + target + b" " + version,
        "unknown": rng.choice([b"FOO", b"BREW", b"X-CUSTOM", b"GETT"]) + b" " + target + b" " + version,
        "bad-char": b"G@T " + target + b" " + version,
        "double-sp": method + b"  " + target + b" " + version,
        "tab": method + b"\t" + target + b" " + version,
        "lead-sp": b" " + m.start,
        "no-target": method + b" " + version,
        "target-sp": method + b" /a b " + version,
        "target-ctl": method + b" /a\x01 " + version,
        "target-8bit": method + b" /\xc3\xa9 " + version,
        "target-del": method + b" /\x7f " + version,
        "target-frag": method + b" /a#frag " + version,
        "target-authority": method + b" example.com:80 " + version,
        "target-asterisk": method + b" * " + version,
        "target-quote": method + b' /"<>\\^`{|} ' + version,
        "empty-method": b" " + target + b" " + version,
    }[kind]
    m.start = line
    return "request-line:" + kind


def mut_status_line(rng, m):
    kind = rng.choice(["2digit", "4digit", "no-sp", "double-sp", "ctl-reason", "http2", "lower",
                       "http12", "0xx", "6xx", "no-reason", "tab-reason", "8bit-reason", "lead-sp",
                       "http10", "minus"])
    line = {
        "2digit": b"HTTP/1.1 20 OK", "4digit": b"HTTP/1.1 2000 OK", "no-sp": b"HTTP/1.1 200OK",
        "double-sp": b"HTTP/1.1  200 OK", "ctl-reason": b"HTTP/1.1 200 O\x01K", "http2": b"HTTP/2 200 OK",
        "lower": b"http/1.1 200 OK", "http12": b"HTTP/1.2 200 OK", "0xx": b"HTTP/1.1 099 X",
        "6xx": b"HTTP/1.1 600 X", "no-reason": b"HTTP/1.1 200", "tab-reason": b"HTTP/1.1 200 O\tK",
        "8bit-reason": b"HTTP/1.1 200 \xc3\xa9", "lead-sp": b" HTTP/1.1 200 OK", "http10": b"HTTP/1.0 200 OK",
        "minus": b"HTTP/1.1 -20 OK",
    }[kind]
    if m.interim or m.method == b"CONNECT" or b" 204" in m.start or b" 304" in m.start:
        return None  # the framing would change with the status
    m.start = line
    return "status-line:" + kind + ("@te" if m.find(b"transfer-encoding") >= 0 else "")


def mut_long_head(rng, m):
    if rng.random() < 0.5:
        m.add(b"X-Big: " + b"a" * rng.randint(40000, 50000))
    else:
        for _ in range(rng.randint(900, 1200)):
            m.add(b"X-%d: %s" % (rng.randint(0, 1 << 30), b"v" * 30))
    return "long-head"


def mut_truncate(rng, m):
    """Cuts the message's bytes (the stream ends there)."""
    return "truncate"  # applied by the case builder: the stream is cut inside the last message


def mut_extra_crlf(rng, m):
    if isinstance(m.body, Chunked):
        m.body.end += b"\r\n"
    else:
        m.body += b"\r\n"
    return "extra-crlf-after"


def mut_bodiless_with_length(rng, m):
    """A HEAD answer / 204 / 304 / 1xx that carries a length (or a body it must not have)."""
    if not (m.interim or m.method == b"HEAD" or b" 204" in m.start or b" 304" in m.start):
        return None
    if b" 101" in m.start:
        return None
    m.add(rng.choice([b"Content-Length: 5", b"Transfer-Encoding: chunked"]))
    return "bodiless-length"


def mut_host(rng, m):
    kind = rng.choice(["none", "dup", "dup-case", "empty"])
    i = m.find(b"host")
    if kind == "none":
        if i < 0:
            return None
        m.remove(i)
    elif kind in ("dup", "dup-case"):
        m.add((b"host" if kind == "dup-case" else b"Host") + b": other.example",
              rng.randint(0, len(m.fields)))
        if i < 0:
            m.add(b"Host: a")
    else:
        if i >= 0:
            m.remove(i)
        m.add(b"Host:")
    return "host:" + kind


def mut_upgrade_body(rng, m):
    """Upgrade/CONNECT headers on a request that has a body, or a body on CONNECT/upgrade."""
    kind = rng.choice(["h2c-cl", "h2c-chunked", "ws-cl", "ws-chunked", "connect-cl",
                       "connect-chunked", "ws-http10", "upgrade-no-connection", "connect-cl0"])
    if m.start.count(b" ") != 2:
        return None  # mutated already
    method, target, version = m.start.split(b" ", 2)
    for name in (b"content-length", b"transfer-encoding", b"connection", b"upgrade"):
        while m.find(name) >= 0:
            m.remove(m.find(name))
    body = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n" if rng.random() < 0.5 \
        else rng.randbytes(rng.randint(1, 40))
    if m.find(b"host") < 0:
        m.add(b"Host: example.com")
    if kind.startswith("connect"):
        m.start = b"CONNECT example.com:443 " + version
        m.method = b"CONNECT"
    elif kind != "ws-http10":
        m.start = b"POST " + (target if target.startswith(b"/") else b"/") + b" HTTP/1.1"
        m.method = b"POST"
    if kind.startswith("h2c"):
        m.add(b"Connection: Upgrade, HTTP2-Settings")
        m.add(b"Upgrade: h2c")
        m.add(b"HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA")
    elif kind.startswith("ws") or kind == "upgrade-no-connection":
        if kind != "upgrade-no-connection":
            m.add(b"Connection: Upgrade")
        m.add(b"Upgrade: websocket")
    if kind == "ws-http10":
        m.start = b"GET / HTTP/1.0"
        m.method = b"GET"
        m.body = b""
    elif kind.endswith("-cl") or kind == "upgrade-no-connection":
        m.add(b"Content-Length: %d" % len(body))
        m.body = body
    elif kind.endswith("chunked"):
        m.add(b"Transfer-Encoding: chunked")
        m.body = _chunked(rng, body)
    else:
        m.add(b"Content-Length: 0")
        m.body = b""
    return "upgrade-body:" + kind


REQUEST_MUTATIONS: list[Callable] = [
    mut_ws_before_colon, mut_obs_fold, mut_leading_ws_line, mut_bare_lf, mut_bare_cr, mut_ctl_value,
    mut_ctl_name, mut_empty_name, mut_no_colon, mut_cl_value, mut_dup_cl, mut_cl_and_te, mut_te_value,
    mut_dup_te, mut_chunk_size, mut_chunk_crlf, mut_chunk_line_end, mut_chunk_ext, mut_trailer,
    mut_req_version, mut_req_line, mut_long_head, mut_truncate, mut_host, mut_upgrade_body,
    mut_extra_crlf,
]
RESPONSE_MUTATIONS: list[Callable] = [
    mut_ws_before_colon, mut_obs_fold, mut_leading_ws_line, mut_bare_lf, mut_bare_cr, mut_ctl_value,
    mut_ctl_name, mut_empty_name, mut_no_colon, mut_cl_value, mut_dup_cl, mut_cl_and_te, mut_te_value,
    mut_dup_te, mut_chunk_size, mut_chunk_crlf, mut_chunk_line_end, mut_chunk_ext, mut_trailer,
    mut_status_line, mut_long_head, mut_truncate, mut_extra_crlf, mut_bodiless_with_length,
]


FLIP_BYTES = b"\x00\t\n\r :;,\"=\x7f\x80\xff\x0b\x0c/0aA-"


def _flip(rng: random.Random, msgs: list, data_parts: list, response: bool = False) -> tuple[str, int]:
    """Replaces, inserts or deletes one byte in the head of a random message (its serialized
    bytes in ``data_parts``): unstructured fuzzing next to the structured mutations."""
    i = rng.randrange(len(msgs))
    part = data_parts[i]
    head_len = part.find(b"\r\n\r\n") + 4 if b"\r\n\r\n" in part else len(part)
    p = rng.randrange(max(1, head_len))
    b = bytes([rng.choice(FLIP_BYTES) if rng.random() < 0.8 else rng.randrange(256)])
    op = rng.choice(["replace", "insert", "delete"])
    data_parts[i] = part[:p] + (b"" if op == "delete" else b) + part[p + (op != "insert"):]
    tag = "flip"
    if p < part.find(b"\r\n") and op != "delete" and b == b" ":
        tag += "@line-sp"  # a space more on the start line
    elif op != "delete" and b in (b"\r", b"\n") and (p == 0 or p >= head_len - 2):
        tag += "@boundary"  # an empty line (or a bare CR/LF) between two messages
    if response and _bodiless(msgs[i]):
        tag += "@bodiless"
    return tag, i


# ---------------------------------------------------------------------------------------------
# Cases


@dataclass
class Case:
    kind: str  # "request" | "response"
    seed: int
    data: bytes
    tags: list = field(default_factory=list)  # (tag, message index)
    accept: bool = True  # requests: accept CONNECT/upgrades (tunnel) or refuse them (resume)
    requests: list = field(default_factory=list)  # responses: (method, upgrade?) per request

    def __repr__(self) -> str:
        return f"Case({self.kind}, seed={self.seed}, tags={self.tags})"


def make_request_case(seed: int) -> Case:
    rng = random.Random(seed)
    n = rng.choice([1, 1, 2, 3, 4, 6])
    accept = rng.random() < 0.5
    msgs = []
    for i in range(n):
        last = i == n - 1
        r = rng.random()
        kind = None
        if r < 0.06 and (last or not accept):
            kind = "connect"
        elif r < 0.12 and (last or not accept):
            kind = "upgrade"
        elif r < 0.16:
            kind = "h2c"
        msgs.append(gen_request(rng, last, kind))
    tags = []
    if rng.random() < 0.75:
        for _ in range(1 if rng.random() < 0.85 else 2):
            i = rng.randrange(n)
            mut = rng.choice(REQUEST_MUTATIONS)
            tag = mut(rng, msgs[i])
            if tag is not None:
                at = i + 1 if tag == "extra-crlf-after" else i
                if msgs[i].method == b"CONNECT":
                    tag += "@connect"  # framing headers on a CONNECT: pipyd refuses a body
                tags.append((tag, at))
    parts = [m.bytes() for m in msgs]
    if not tags and rng.random() < 0.4:
        tags.append(_flip(rng, msgs, parts))
    data = b"".join(parts)
    if msgs[-1].method == b"CONNECT" or any(t.startswith("upgrade-body") for t, _ in tags):
        data += rng.choice([b"", b"tunnel bytes", b"GET /after HTTP/1.1\r\nHost: x\r\n\r\n"])
    elif accept and b"Upgrade: " in data:
        data += rng.choice([b"", b"\x81\x05hello"])
    if rng.random() < 0.08 and not (tags and tags[0][0].startswith("flip")):
        data = b"\r\n" * rng.randint(1, 2) + data  # empty lines before the first request
    if any(t == "truncate" for t, _ in tags):
        data = data[:rng.randrange(len(data))]
    return Case("request", seed, data, tags, accept)


def make_response_case(seed: int) -> Case:
    rng = random.Random(seed)
    n = rng.choice([1, 1, 2, 3, 4, 6])
    requests = []
    msgs = []
    for i in range(n):
        last = i == n - 1
        r = rng.random()
        if r < 0.15:
            method, upgrade = b"HEAD", False
        elif r < 0.22 and last:
            method, upgrade = b"CONNECT", False
        elif r < 0.28 and last:
            method, upgrade = b"GET", True
        else:
            method, upgrade = rng.choice([b"GET", b"GET", b"POST", b"PUT", b"DELETE"]), False
        requests.append((method, upgrade))
        resp = gen_response(rng, method, last, upgrade)
        msgs.extend(resp)
        final = resp[-1]
        if i < n - 1 and ((method == b"CONNECT" and b" 2" in final.start[8:11])
                          or b" 101 " in final.start):
            break  # a tunnel: nothing after it is HTTP
    tags = []
    if rng.random() < 0.75:
        for _ in range(1 if rng.random() < 0.85 else 2):
            i = rng.randrange(len(msgs))
            mut = rng.choice(RESPONSE_MUTATIONS)
            tag = mut(rng, msgs[i])
            if tag is not None:
                at = i + 1 if tag == "extra-crlf-after" else i
                if _bodiless(msgs[i]):
                    tag += "@bodiless"  # the framing headers of this one count for nothing
                tags.append((tag, at))
    parts = [m.bytes() for m in msgs]
    if not tags and rng.random() < 0.4:
        tags.append(_flip(rng, msgs, parts, response=True))
    data = b"".join(parts)
    if any(t == "truncate" for t, _ in tags):
        data = data[:rng.randrange(len(data))]
    return Case("response", seed, data, tags, requests=requests)


def _bodiless(m: Msg) -> bool:
    """A response that has no body whatever its headers say (RFC 9112 §6.3 rules 1-2)."""
    status = m.start[9:12]
    return (m.interim or m.method == b"HEAD" or status in (b"204", b"304")
            or (m.method == b"CONNECT" and status[:1] == b"2"))


# ---------------------------------------------------------------------------------------------
# Running our decoders


class _OurSink:
    def __init__(self, kind: str, accept: bool) -> None:
        self.kind = kind
        self.accept = accept
        self.messages: list = []
        self.cur: list | None = None
        self.error: tuple | None = None
        self.status: int | None = None
        self.tunnel: bytes | None = None
        self.decoder: Any = None

    def _head(self, head: Any) -> list:
        if self.kind == "request":
            start = (head["method"].encode("latin-1"), head["path"].encode("utf-8", "surrogateescape"),
                     head["protocol"][5:].encode())
        else:
            start = (head["status"], head["statusText"].encode("utf-8", "surrogateescape"),
                     head["protocol"][5:].encode())
        return [start, _our_headers(head["headers"]), b""]

    def on_message_start(self, head: Any) -> None:
        assert self.cur is None and self.error is None, "start inside a message"
        self.cur = self._head(head)

    def on_body(self, b: bytes) -> None:
        assert self.cur is not None, "body outside a message"
        self.cur[2] += b

    def on_message_end(self, tail: Any) -> None:
        assert self.cur is not None, "end outside a message"
        self.messages.append(tuple(self.cur))
        self.cur = None
        d = self.decoder
        if self.kind == "request" and d.upgrade:
            d.tunnel() if self.accept else d.resume()

    def on_error(self, status: int, reason: str) -> None:
        assert self.error is None, "two errors"
        self.error = (len(self.messages), "body" if self.cur is not None else "head")
        self.status = status

    def on_tunnel(self, b: bytes) -> None:
        self.tunnel = (self.tunnel or b"") + b

    def outcome(self) -> Outcome:
        return Outcome(tuple(self.messages), self.error, self.tunnel, self.status)


class _OurWholeSink(_OurSink):
    def on_message(self, head: Any, body: bytes | None = None) -> None:
        self.on_message_start(head)
        if body:
            self.on_body(body)
        self.on_message_end(None)


def run_ours(case: Case, pieces: list[bytes], whole: bool = False) -> Outcome:
    sink = (_OurWholeSink if whole else _OurSink)(case.kind, case.accept)
    if case.kind == "request":
        d = RequestDecoder(sink)
    else:
        d = ResponseDecoder(sink)
        for method, _ in case.requests:
            d.expect(method == b"HEAD", method == b"CONNECT")
    sink.decoder = d
    for p in pieces:
        d.feed(p)
    d.feed_eof()
    return sink.outcome()


# ---------------------------------------------------------------------------------------------
# Running h11

_H11_STEP = 4096  # h11 bounds only incomplete events: feed it in steps so a long head is refused


class _Feed:
    """Feeds one side's bytes to an h11 connection in steps as it asks for them; the end of the
    bytes is h11's end of stream."""

    def __init__(self, conn: h11.Connection, data: bytes) -> None:
        self.conn, self.data, self.fed = conn, data, 0

    def next_event(self):
        while True:
            ev = self.conn.next_event()
            if ev is not h11.NEED_DATA:
                return ev
            chunk = self.data[self.fed:self.fed + _H11_STEP]
            self.fed += len(chunk)
            self.conn.receive_data(chunk)  # b"" once all is fed: the peer closed

    def rest(self) -> bytes:
        """What follows the last event: h11's unread bytes and those not fed yet."""
        return bytes(self.conn.trailing_data[0]) + self.data[self.fed:]


def _rfc_upgrade(req: h11.Request) -> bool:
    """Whether the h11 peer (a server) takes the upgrade h11 saw proposed: as RFC 9110 §7.8 asks
    (Upgrade named in Connection, HTTP/1.1), and not h2c, which pipyd's decoder leaves to its
    owner (the server answers it outside the decoder)."""
    if req.method == b"CONNECT":
        return True
    conn = [t.strip().lower() for k, v in req.headers if k == b"connection" for t in v.split(b",")]
    ups = [v.strip().lower() for k, v in req.headers if k == b"upgrade"]
    return req.http_version == b"1.1" and b"upgrade" in conn and bool(ups) and ups != [b"h2c"]


def run_h11_requests(case: Case) -> Outcome:
    c = h11.Connection(h11.SERVER, max_incomplete_event_size=DEFAULT_MAX_HEAD_SIZE)
    feed = _Feed(c, case.data)
    msgs: list = []
    cur: list | None = None
    req: h11.Request | None = None
    while True:
        try:
            ev = feed.next_event()
        except h11.RemoteProtocolError as e:
            return Outcome(tuple(msgs), (len(msgs), "body" if cur is not None else "head"),
                           status=e.error_status_hint)
        if type(ev) is h11.Request:
            req = ev
            cur = [(ev.method, ev.target, ev.http_version), _h11_headers(ev.headers), b""]
        elif type(ev) is h11.Data:
            cur[2] += ev.data
        elif type(ev) is h11.EndOfMessage:
            msgs.append(tuple(cur))
            cur = None
            if c.their_state is h11.MIGHT_SWITCH_PROTOCOL and case.accept and _rfc_upgrade(req):
                if req.method == b"CONNECT":
                    c.send(h11.Response(status_code=200, headers=[]))
                else:
                    c.send(h11.InformationalResponse(status_code=101, headers=[("Upgrade", "x")]))
                return Outcome(tuple(msgs), tunnel=feed.rest() or None)
            c.send(h11.Response(status_code=404 if req.method == b"CONNECT" else 200,
                                headers=[("Content-Length", "0")]))
            c.send(h11.EndOfMessage())
            if c.their_state is h11.MUST_CLOSE or c.our_state is h11.MUST_CLOSE:
                return Outcome(tuple(msgs), cut=len(msgs))
            c.start_next_cycle()
        elif type(ev) is h11.ConnectionClosed:
            return Outcome(tuple(msgs))
        elif ev is h11.PAUSED:  # pragma: no cover - not expected with the driving above
            raise AssertionError(f"h11 paused in {c.states}")


def run_h11_responses(case: Case) -> Outcome:
    c = h11.Connection(h11.CLIENT, max_incomplete_event_size=DEFAULT_MAX_HEAD_SIZE)
    feed = _Feed(c, case.data)
    msgs: list = []
    cur: list | None = None
    reqs = list(case.requests)

    def send_next() -> bool:
        if not reqs:
            return False
        method, upgrade = reqs.pop(0)
        target = b"example.com:443" if method == b"CONNECT" else b"/"
        headers = [(b"Host", b"example.com")]
        if upgrade:
            headers += [(b"Connection", b"Upgrade"), (b"Upgrade", b"websocket")]
        body = method in (b"POST", b"PUT")
        if body:
            headers.append((b"Content-Length", b"1"))
        c.send(h11.Request(method=method, target=target, headers=headers))
        if body:
            c.send(h11.Data(data=b"x"))
        c.send(h11.EndOfMessage())
        return True

    if not send_next():  # pragma: no cover
        return Outcome(())
    while True:
        try:
            ev = feed.next_event()
        except h11.RemoteProtocolError as e:
            return Outcome(tuple(msgs), (len(msgs), "body" if cur is not None else "head"),
                           status=e.error_status_hint)
        if ev is h11.PAUSED:
            if c.their_state is h11.SWITCHED_PROTOCOL:
                if cur is not None:
                    msgs.append(tuple(cur))
                return Outcome(tuple(msgs), tunnel=feed.rest() or None)
            raise AssertionError(f"h11 paused in {c.states}")  # pragma: no cover
        t = type(ev)
        if t is h11.InformationalResponse or t is h11.Response:
            if cur is not None:
                msgs.append(tuple(cur))
            cur = [(ev.status_code, bytes(ev.reason), ev.http_version), _h11_headers(ev.headers), b""]
            if t is h11.InformationalResponse:
                if c.their_state is h11.SWITCHED_PROTOCOL:
                    continue  # 101: PAUSED comes next
                msgs.append(tuple(cur))
                cur = None
        elif t is h11.Data:
            cur[2] += ev.data
        elif t is h11.EndOfMessage:
            msgs.append(tuple(cur))
            cur = None
            if c.their_state in (h11.MUST_CLOSE, h11.CLOSED) or c.our_state is h11.MUST_CLOSE:
                return Outcome(tuple(msgs), cut=len(msgs))
            if c.their_state is h11.SWITCHED_PROTOCOL:  # pragma: no cover
                continue
            c.start_next_cycle()
            if not send_next():
                # no request is outstanding: h11 rejects anything more (so would muxHTTP)
                return Outcome(tuple(msgs), cut=len(msgs))
        elif t is h11.ConnectionClosed:
            return Outcome(tuple(msgs))


# ---------------------------------------------------------------------------------------------
# Comparison and the allow-list


def _cut(o: Outcome, n: int) -> Outcome:
    """``o`` seen only up to message ``n`` (h11 closes the connection there)."""
    err = o.error if o.error is not None and o.error[0] < n else None
    msgs = o.messages[:n]
    if err is None and len(o.messages) < n and o.error is not None:
        err = o.error
    return Outcome(msgs, err, o.tunnel if len(o.messages) <= n else None, o.status)


def _tunnel_vs_http(a: Outcome, b: Outcome, idx: int) -> bool:
    """``b`` turned the connection into a tunnel after message ``idx`` where ``a`` went on with
    HTTP (and may have failed on what followed), the messages up to there agreeing."""
    return (b.tunnel is not None and len(b.messages) == idx + 1 and a.messages[:idx + 1] == b.messages
            and (a.tunnel is None or len(a.messages) > idx + 1) and (a.error is None or a.error[0] > idx))


def _rejects_at(a: Outcome, b: Outcome, idx: int) -> bool:
    """``a`` rejected the stream at message ``idx``, where ``b`` did not (or only later), and
    the messages before agree."""
    return (a.error is not None and a.error[0] == idx and a.messages[:idx] == b.messages[:idx]
            and (b.error is None or b.error[0] > idx or (b.error[0] == idx and b.error[1] == "body"
                                                          and a.error[1] == "head")))


@dataclass(frozen=True)
class Allowed:
    name: str
    reason: str
    tags: tuple  # mutation tags (exact, or a prefix ending in ':') this concerns
    who: str  # "ours": pipyd rejects where h11 accepts; "h11": the other way; "any": either
    # shape, the messages before agreeing; "http": h11 tunnels where pipyd goes on with HTTP


# Differences of representation or of the peers' roles, taken out before comparing (on every
# stream, both sides alike), so that what is compared is what the decoders decide.
NORMALISED = {
    "trailing-ows": "h11 strips OWS after a field value (RFC 9112 §5: not part of the value); "
                    "pipyd keeps it, as Pipy does (reference §4.1: the text after the colon minus "
                    "leading blanks; cases_requests.py pins it): values are compared right-stripped",
    "te-case": "h11 lower-cases transfer-encoding values; compared lower-cased",
    "close-cut": "h11 ends the connection after a message that closes it (HTTP/1.0 without "
                 "keep-alive, 'Connection: close', every HTTP/1.0 response) and refuses anything "
                 "after it; pipyd's decoders go on parsing and their owners stop there (codec "
                 "deviation 11): pipyd's outcome is compared up to that message",
    "upgrade-policy": "the h11 server takes an upgrade only as RFC 9110 §7.8 describes it "
                      "('upgrade' in Connection, HTTP/1.1) and never h2c, which pipyd's decoder "
                      "leaves to its owner (h11 proposes a switch on any Upgrade header)",
    "no-empty-reads": "our decoders are fed split reads without empty ones: transports deliver "
                      "none (an empty read while held would be an empty tunnel chunk)",
}

ALLOWED: list[Allowed] = [
    # -- pipyd stricter than h11, as the RFCs allow (and a proxy should be)
    Allowed("bare-lf", "RFC 9112 §2.2 lets a recipient accept a bare LF as a line end (h11 does); "
            "pipyd rejects it (400/502): lenient line ends are a request-smuggling vector when "
            "another hop disagrees", ("bare-lf", "chunk-line-end:", "trailer:lf", "bare-cr:eol-lfcr"),
            "ours"),
    Allowed("obs-fold", "RFC 9112 §5.2: a server MUST reject obs-fold or replace it with SP, a proxy "
            "MUST reject it (502) or replace it; h11 unfolds, pipyd rejects (400/502)",
            ("obs-fold", "trailer:fold"), "ours"),
    Allowed("ctl-in-value", "RFC 9110 §5.5: CTLs other than HTAB make a field value invalid "
            "(recipients MAY keep them), as in a reason phrase (RFC 9112 §4); h11 keeps them, "
            "pipyd rejects", ("ctl-value:", "trailer:ctl", "status-line:ctl-reason"), "ours"),
    Allowed("cl-list", "RFC 9110 §8.6: a list of identical Content-Length values ('5,5', or two "
            "header lines) MAY be accepted as one value or rejected; h11 merges, pipyd (llhttp) "
            "rejects requests (a response's repeated equal lines are accepted as one)",
            ("cl-value:%d,%d", "cl-value:%d, %d", "dup-cl:same"), "ours"),
    Allowed("cl-and-te", "RFC 9112 §6.1: a server MAY reject a request with both Content-Length and "
            "Transfer-Encoding (h11 lets chunked win); pipyd rejects it, the usual smuggling shape. "
            "In a response Transfer-Encoding overrides Content-Length (§6.3 rule 3), which pipyd "
            "then ignores (and drops when it re-frames), where h11 still checks its syntax",
            ("cl-and-te", "trailer:content-length"), "any"),
    Allowed("te-list", "Transfer-Encoding lists that are valid per RFC 9112 §6.1/RFC 9110 §5.6.1 "
            "(empty elements, codings before chunked: 501 for requests) or not: h11 accepts only "
            "exactly 'chunked' (anything else is its 501); pipyd answers requests 400/501 "
            "and frames responses by RFC 9112 §6.3 rule 3 (final chunked, else until close)",
            ("te-value:", "dup-te:"), "any"),
    Allowed("chunk-ext", "llhttp parses request chunk extensions by their grammar (RFC 9112 §7.1.1) "
            "and refuses BWS, bare CR or quoting errors in them; h11 skips ';.*' unread but refuses "
            "BWS before the ';' (which the grammar allows and pipyd's response decoder takes); "
            "pipyd's response decoder takes any extension without CTLs (it never forwards them)",
            ("chunk-ext:", "chunk-size:space-after@ext", "chunk-size:tab-after@ext"), "any"),
    Allowed("chunk-size-zeros", "h11 caps a chunk size at 20 hex digits even when they are leading "
            "zeros; pipyd accepts any number of leading zeros (RFC 9112 §7.1 sets no limit)",
            ("chunk-size:huge-zeros",), "h11"),
    Allowed("chunk-size-ws", "h11 accepts whitespace after a chunk size without an extension "
            "(its own leniency); llhttp refuses it for requests (responses accept it, as h11)",
            ("chunk-size:space-after", "chunk-size:tab-after"), "ours"),
    Allowed("version", "pipyd, like Pipy, takes only HTTP/1.0 and HTTP/1.1 (505 for requests, 502 "
            "for responses: reference §4.1, codec deviation 3); h11 accepts any digit.digit",
            ("version:HTTP/1.2", "version:HTTP/2.0", "version:HTTP/0.9", "version:HTTP/3.0",
             "version:HTTP/9.9", "status-line:http12"), "ours"),
    Allowed("http10-transfer-encoding", "RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding "
            "MUST be treated as having faulty framing (a 1.0 hop knows no chunked coding, the "
            "classic smuggling split); pipyd rejects it (400/502), h11 reads it as chunked",
            ("status-line:http10@te", "version:HTTP/1.0@te"), "ours"),
    Allowed("method-table", "llhttp knows a fixed table of methods (case-sensitive); any other "
            "token is 400 where h11 takes every token (RFC 9110 §9.1 would answer 501). A "
            "limitation of the llhttp request parser, kept",
            ("request-line:lower", "request-line:unknown"), "ours"),
    Allowed("authority-form", "RFC 9112 §3.2.3: authority-form is only for CONNECT; llhttp rejects "
            "it for other methods, h11 takes any visible target", ("request-line:target-authority",),
            "ours"),
    Allowed("upgrade-body", "RFC 9110 §7.8 lets a server ignore Upgrade; pipyd serves an upgrade "
            "request that has a body as a plain request (llhttp, through httptools, would end it at "
            "its head and take the body for the next request or the tunnel), where h11 reads the "
            "body and then switches", ("upgrade-body:ws-cl", "upgrade-body:ws-chunked"), "http"),
    Allowed("connect-body", "RFC 9110 §9.3.6: a CONNECT request has no content, and what follows its "
            "head is tunnel data; h11 reads a Content-Length/chunked body first, so the two would "
            "frame it differently: pipyd rejects a CONNECT with a body (400)",
            ("upgrade-body:connect-cl", "upgrade-body:connect-chunked", "cl-value:@connect",
             "dup-cl:@connect", "cl-and-te@connect", "te-value:@connect", "dup-te:@connect"), "ours"),
    # -- pipyd more lenient than h11, where the RFCs allow it and nothing is ambiguous
    Allowed("leading-crlf", "RFC 9112 §2.2: a server SHOULD ignore empty lines before a "
            "request-line; h11 refuses them ('no request line'); pipyd ignores them (responses "
            "too: servers add stray CRLF after bodies)", ("leading-crlf", "extra-crlf-after"), "h11"),
    Allowed("no-host", "pipyd, like Pipy, serves an HTTP/1.1 request without Host (RFC 9112 §3.2 "
            "says 400; h11 refuses it); no framing depends on it", ("host:none",), "h11"),
    Allowed("request-line-spaces", "RFC 9112 §3 lets a recipient parse the request-line on "
            "whitespace boundaries; llhttp accepts runs of SP between its parts, h11 does not",
            ("request-line:double-sp",), "h11"),
    Allowed("rtsp-protocol", "llhttp (request mode) accepts RTSP/1.x for GET, POST and OPTIONS and "
            "reports it as HTTP/1.x; httptools cannot tell them apart without a raw-byte scan on "
            "the hot path; the framing is the same and the proxy re-encodes HTTP/1.x",
            ("version:RTSP/1.0",), "h11"),
    Allowed("flip-stricter", "a byte replaced, inserted or deleted in a head: pipyd may refuse what "
            "h11 takes (all the strictness listed here), never take what h11 refuses; h11's own "
            "strictness (leading-crlf, no-host, request-line-spaces...) is not matched for flips, "
            "so a flip that meets it reports", ("flip",), "ours"),
    Allowed("eof-awaiting-response", "a stream that ends between responses (cut short, or a response "
            "read until close), requests still unanswered: h11 (a client) fails; pipyd's decoder has "
            "nothing to report, its owner (muxHTTP) answers the requests (reference §4.6: an empty "
            "200 or a 502). Checked on every stream, mutated or not", ("truncate", "flip"), "h11"),
    Allowed("bodiless-framing", "a 1xx/204/304/HEAD answer or a CONNECT's 2xx has no body whatever "
            "its headers say (RFC 9112 §6.3 rules 1-2); h11 still validates content-length and "
            "transfer-encoding in them, pipyd ignores them",
            ("bodiless-length", "cl-value:@bodiless", "dup-cl:@bodiless", "cl-and-te@bodiless",
             "te-value:@bodiless", "dup-te:@bodiless"), "any"),
]


def _tag_matches(tag: str, allowed: tuple) -> bool:
    """``allowed`` holds tags and prefixes (ending in ':'), each optionally followed by
    qualifiers ('@bodiless', '@te': what the mutated message was) the tag must carry too."""
    base, *quals = tag.split("@")
    for a in allowed:
        a_base, *a_quals = a.split("@")
        if not set(a_quals) <= set(quals):
            continue
        if base == a_base or (a_base.endswith(":") and base.startswith(a_base)):
            return True
    return False


def _leading_crlf(case: Case) -> bool:
    return case.data.startswith((b"\r\n", b"\n"))


def classify(case: Case, ours: Outcome, theirs: Outcome) -> str | None:
    """The ALLOWED entry explaining a difference, or None."""
    if (case.kind == "response" and ours.error is None and ours.tunnel is None
            and theirs.error == (len(ours.messages), "head") and ours.messages == theirs.messages):
        return "eof-awaiting-response"  # whatever the stream was: a role, not a parse
    tags = list(case.tags)
    if tags and tags[0][0].startswith("flip"):
        return _classify_flip(ours, theirs, tags[0][1], tags[0][0])
    if _leading_crlf(case):
        tags.append(("leading-crlf", 0))
    # a stream left as generated (valid) must decode the same: nothing is allowed for it
    for a in ALLOWED:
        for tag, idx in tags:
            if not _tag_matches(tag, a.tags):
                continue
            # the mutation's message index among decoded messages (response streams: by position)
            if a.who in ("ours", "any") and _rejects_at(ours, theirs, idx):
                return a.name
            if a.who in ("h11", "any") and _rejects_at(theirs, ours, idx):
                return a.name
            if a.who == "any" and ours.messages[:idx] == theirs.messages[:idx]:
                return a.name
            if a.who == "http" and _tunnel_vs_http(ours, theirs, idx):
                return a.name
    return None


def _classify_flip(ours: Outcome, theirs: Outcome, idx: int, tag: str) -> str | None:
    """A byte flipped in a head: pipyd may refuse what h11 takes (every strictness above), from
    the flipped message on, the messages before agreeing; it must not take what h11 refuses,
    but for h11's own strictness that a flip can meet (a Host header renamed, a second space on
    the request-line, a transfer coding h11 does not know, an upgrade with a body)."""
    e = ours.error[0] if ours.error is not None else -1
    if e >= idx and ours.messages[:e] == theirs.messages[:e] and (theirs.error is None or theirs.error[0] >= e):
        return "flip-stricter"
    k = theirs.error[0] if theirs.error is not None else -1
    if theirs.error == (k, "head") and k < len(ours.messages) and ours.messages[:k] == theirs.messages:
        start, headers, _ = ours.messages[k]
        names = {name for name, _ in headers}
        if type(start[0]) is bytes and start[2] == b"1.1" and b"host" not in names:
            return "no-host"
        if theirs.status == 501 and b"transfer-encoding" in names:
            return "te-list"  # a coding h11 does not know: pipyd reads until close (responses)
        if "@line-sp" in tag and k == idx:
            return "request-line-spaces"
    if "@bodiless" in tag and theirs.error == (idx, "head") and ours.messages[:idx] == theirs.messages \
            and len(ours.messages) > idx and (ours.error is None or ours.error[0] > idx):
        return "bodiless-framing"  # h11 checks framing headers that count for nothing here
    if "@boundary" in tag and theirs.error is not None and theirs.error[1] == "head" \
            and theirs.error[0] in (idx, idx + 1) and ours.messages[:k] == theirs.messages \
            and (ours.error is None or ours.error[0] > k):
        return "leading-crlf"
    k = len(theirs.messages) - 1
    if theirs.tunnel is not None and _tunnel_vs_http(ours, theirs, k):
        names = {name for name, _ in ours.messages[k][1]}
        if b"upgrade" in names and (b"transfer-encoding" in names or b"content-length" in names):
            return "upgrade-body"
    return None


def compare(case: Case, splits: int = 2) -> tuple[str, str | None]:
    """('same' | 'allowed' | 'mismatch' | 'split', detail)."""
    ours = run_ours(case, [case.data])
    rng = random.Random(case.seed ^ 0x5EED)
    for k in range(splits):
        n = len(case.data)
        cuts = sorted({rng.randint(1, n - 1) for _ in range(rng.randint(1, 6))}) if n > 1 else []
        if n < 300 and k == 0:
            cuts = list(range(1, n))  # byte by byte (no empty reads: transports have none)
        pieces = [case.data[a:b] for a, b in zip([0] + cuts, cuts + [n])]
        other = run_ours(case, pieces, whole=k % 2 == 0)
        if other.key() != ours.key():
            return "split", _report(case, ours, other, "split differs from whole")
    theirs = (run_h11_requests if case.kind == "request" else run_h11_responses)(case)
    if theirs.cut is not None:
        ours = _cut(ours, theirs.cut)
    if ours.key() == theirs.key():
        return "same", None
    name = classify(case, ours, theirs)
    if name is not None:
        return "allowed", name
    return "mismatch", _report(case, ours, theirs, "pipyd vs h11")


def _short(o: Outcome) -> str:
    msgs = []
    for start, headers, body in o.messages:
        b = body if len(body) <= 80 else body[:60] + b"...(%d bytes)" % len(body)
        msgs.append(f"    {start!r} {headers!r} body={b!r}")
    tun = o.tunnel if o.tunnel is None or len(o.tunnel) < 80 else o.tunnel[:60] + b"..."
    return "\n".join(msgs + [f"    error={o.error} status={o.status} tunnel={tun!r} cut={o.cut}"])


def _report(case: Case, a: Outcome, b: Outcome, what: str) -> str:
    data = case.data if len(case.data) <= 2000 else case.data[:2000] + b"...(%d bytes)" % len(case.data)
    return (f"{case!r}: {what}\n  bytes: {data!r}\n  accept upgrades: {case.accept}, "
            f"requests: {case.requests}\n  pipyd:\n{_short(a)}\n  other:\n{_short(b)}")


def run(kind: str, seeds: range, splits: int = 2) -> dict:
    """Runs ``seeds``; the counts per result and allow-list entry, and the failures."""
    make = make_request_case if kind == "request" else make_response_case
    stats: dict[str, Any] = {"same": 0, "allowed": 0, "failures": [], "by_reason": {}}
    for seed in seeds:
        try:
            case = make(seed)
            result, detail = compare(case, splits)
        except Exception:  # a decoder that raises on input is a bug; so is a harness that does
            result, detail = "crash", f"{kind} seed {seed}:\n{traceback.format_exc()}"
        if result == "same":
            stats["same"] += 1
        elif result == "allowed":
            stats["allowed"] += 1
            stats["by_reason"][detail] = stats["by_reason"].get(detail, 0) + 1
        else:
            stats["failures"].append(detail)
    return stats


def main(argv: list[str]) -> int:
    n = int(argv[1]) if len(argv) > 1 else 10000
    start = int(argv[2]) if len(argv) > 2 else 0
    bad = 0
    for kind in ("request", "response"):
        t = time.monotonic()
        s = run(kind, range(start, start + n))
        dt = time.monotonic() - t
        print(f"{kind}: {n} cases in {dt:.1f}s: {s['same']} same, {s['allowed']} allowed "
              f"{dict(sorted(s['by_reason'].items()))}, {len(s['failures'])} failing")
        for f in s["failures"][:10]:
            print(f, "\n")
        for f in s["failures"][10:]:
            print(f.split("\n", 1)[0])  # the rest by seed and tags
        bad += len(s["failures"])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
