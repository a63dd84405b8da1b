"""The TLS ClientHello, read off the wire: SNI and ALPN (reference §2.2 row 46).

``ClientHelloReader`` collects the first handshake message from TLS records as bytes arrive
(sans-I/O: bytes in, a ``ClientHello`` out) and ``parse_client_hello`` pulls the server names
(RFC 6066 §3, extension 0) and the offered application protocols (RFC 7301 §3.1, extension 16)
from its body (RFC 8446 §4.1.2). ``acceptTLS`` uses it to pick a certificate and an ALPN protocol
before OpenSSL sees the hello; ``handleTLSClientHello`` hands it to a script.

Record layout (RFC 8446 §5.1): type(1) = 22 handshake, legacy version(2), length(2), fragment.
The handshake message (§4): type(1) = 1 client_hello, length(3), body; it may span records.
"""
from __future__ import annotations

from typing import Any

from pipyd.events import Data
from pipyd.js.values import JSArray, JSObject, type_error
from pipyd.pipeline import Filter
from pipyd.registry import register

# A ClientHello bigger than this is not one we wait for (RFC 8446 allows 2^24, real ones are
# a few hundred bytes; post-quantum key shares stay under 4 KiB).
MAX_HELLO = 65536


class ClientHello:
    """What the hello offered: ``server_names`` and ``protocol_names`` are None when the
    extension is absent (Pipy sets the keys only when it is present)."""

    __slots__ = ("server_names", "protocol_names")

    def __init__(self, server_names: list[str] | None, protocol_names: list[str] | None) -> None:
        self.server_names = server_names
        self.protocol_names = protocol_names

    def to_js(self) -> JSObject:
        obj = JSObject()
        if self.server_names is not None:
            obj["serverNames"] = JSArray(self.server_names)
        if self.protocol_names is not None:
            obj["protocolNames"] = JSArray(self.protocol_names)
        return obj


class ClientHelloReader:
    """Feed the first bytes of a connection; ``done`` once the hello is complete (``hello`` set)
    or once the bytes cannot be a ClientHello (``hello`` None). ``raw`` keeps every byte fed,
    so a TLS server can replay them."""

    __slots__ = ("raw", "done", "hello")

    def __init__(self) -> None:
        self.raw = bytearray()
        self.done = False
        self.hello: ClientHello | None = None

    def feed(self, b: bytes) -> bool:
        if self.done:
            return True
        self.raw += b
        body = _handshake_body(self.raw)
        if body is None:
            return False
        self.done = True
        if body is not False:
            self.hello = parse_client_hello(body)
        return True


def _handshake_body(raw: bytearray) -> bytes | None | bool:
    """The ClientHello body once complete; None: need more bytes; False: not a ClientHello."""
    frag = bytearray()
    pos, n = 0, len(raw)
    while pos + 5 <= n:
        if raw[pos] != 22:
            return False
        size = (raw[pos + 3] << 8) | raw[pos + 4]
        if size == 0:
            return False
        frag += raw[pos + 5:pos + 5 + size]
        pos += 5 + size
        if len(frag) >= 4:
            if frag[0] != 1:
                return False
            length = (frag[1] << 16) | (frag[2] << 8) | frag[3]
            if length == 0 or length > MAX_HELLO:
                return False
            if len(frag) >= 4 + length:
                return bytes(frag[4:4 + length])
    if n > MAX_HELLO + 1024:
        return False
    return None


def parse_client_hello(body: bytes) -> ClientHello | None:
    """SNI and ALPN from a ClientHello body; None when it is malformed."""
    try:
        return _parse(memoryview(body))
    except (IndexError, ValueError, UnicodeDecodeError):
        return None


def _u16(b: memoryview, i: int) -> int:
    if i + 2 > len(b):
        raise IndexError
    return (b[i] << 8) | b[i + 1]


def _parse(b: memoryview) -> ClientHello:
    pos = 2 + 32  # legacy_version, random
    pos += 1 + b[pos]  # legacy_session_id
    pos += 2 + _u16(b, pos)  # cipher_suites
    pos += 1 + b[pos]  # legacy_compression_methods
    names = protos = None
    if pos >= len(b):  # no extensions at all (a TLS 1.0-style hello)
        return ClientHello(None, None)
    end_all = pos + 2 + _u16(b, pos)
    pos += 2
    while pos + 4 <= end_all:
        ext, size = _u16(b, pos), _u16(b, pos + 2)
        pos += 4
        end = pos + size
        if end > len(b):
            raise IndexError
        if ext == 0:
            names = _server_names(b[pos:end])
        elif ext == 16:
            protos = _protocol_names(b[pos:end])
        pos = end
    return ClientHello(names, protos)


def _server_names(b: memoryview) -> list[str]:
    # ServerNameList: u16 length, then entries of name_type(1) = 0 host_name, u16 length, name
    names, pos, end = [], 2, 2 + _u16(b, 0)
    while pos < end:
        if b[pos] != 0:
            raise ValueError("unknown name type")
        size = _u16(b, pos + 1)
        names.append(bytes(b[pos + 3:pos + 3 + size]).decode("ascii"))
        pos += 3 + size
    return names


def _protocol_names(b: memoryview) -> list[str]:
    # ProtocolNameList: u16 length, then entries of u8 length, name
    names, pos, end = [], 2, 2 + _u16(b, 0)
    while pos < end:
        size = b[pos]
        names.append(bytes(b[pos + 1:pos + 1 + size]).decode("latin-1"))
        pos += 1 + size
    return names


@register("handleTLSClientHello")
class HandleTLSClientHello(Filter):
    """Passes every event through; calls ``cb({serverNames, protocolNames})`` once, when the
    stream's first handshake message is a complete, well-formed ClientHello. Not a hello (or a
    malformed one): no call. The event that completes the hello is output after the call."""

    __slots__ = ("fn", "reader")
    CONFIG = ("fn",)

    @classmethod
    def configure(cls, config: Any, fn: Any = None, *rest: Any) -> "HandleTLSClientHello":
        if not callable(fn):
            raise type_error("handleTLSClientHello: argument #1 expects a function")
        f = cls.__new__(cls)
        f.fn = fn
        f.reset()
        return f

    def reset(self) -> None:
        self.reader: ClientHelloReader | None = ClientHelloReader()

    def process(self, evt: Any) -> None:
        reader = self.reader
        if reader is not None and type(evt) is Data:
            for chunk in evt.chunks:
                if reader.feed(chunk):
                    self.reader = None
                    if reader.hello is not None:
                        self.callback(self.fn, reader.hello.to_js())
                    break
        self.next.process(evt)
