"""acceptProxyProtocol and connectProxyProtocol: the HAProxy PROXY protocol header, versions 1
(text) and 2 (binary) (reference §2.2 rows 2 and 11; haproxy doc/proxy-protocol.txt). Both
sub-pipelines share the context (§0.4).

``acceptProxyProtocol(handler)`` reads the header at the start of the stream and calls
``handler(header)`` with ``{version, command (v2 only), protocol, sourceAddress, sourcePort,
targetAddress, targetPort}``; protocol is ``TCP4 TCP6 UNKNOWN`` (v1) or ``TCP4 UDP4 TCP6 UDP6
UNIX UNIX_DGRAM UNKNOWN`` (v2), and the address fields are present for IPv4/IPv6 only. A truthy
answer sends the rest of the stream through the sub-pipeline, whose output is ours; a falsy one,
or a malformed header, ends the stream. Detection as Pipy: ``PROXY `` in the first 6 bytes is
v1 (a line of at most 107 bytes, CRLF included), the 12-byte v2 signature is v2, anything else
by byte 16 is an error. v2 TLVs after the addresses are skipped. The input's StreamEnd is passed
to the sub-pipeline (Pipy dropped it, so an upstream was never half-closed).

``connectProxyProtocol(header)`` (an object like the one above, or a function returning one)
starts the sub-pipeline on the first event with the encoded header as its first Data, then
passes every event to it. ``version: 2`` writes v2 (``command: 'LOCAL'`` or PROXY, protocol
``TCP4`` default, ``UDP4 TCP6 UDP6``), anything else v1 (protocol default ``TCP4``, missing
addresses ``0.0.0.0``/``::``, missing ports 0).
"""
from __future__ import annotations

import ipaddress
from typing import Any

from pipyd import log
from pipyd.events import Data, StreamEnd
from pipyd.js.coerce import to_boolean, to_number
from pipyd.js.runtime import getters
from pipyd.js.values import JSObject, type_error, undefined
from pipyd.pipeline import FAILED
from pipyd.registry import register

from .tunnel import TunnelFilter

V1_PREFIX = b"PROXY "
V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
V1_MAX = 107  # the longest v1 line, CRLF included (proxy-protocol.txt §2.1)

_V2_PROTOCOLS = {0x00: "UNKNOWN", 0x11: "TCP4", 0x12: "UDP4", 0x21: "TCP6", 0x22: "UDP6",
                 0x31: "UNIX", 0x32: "UNIX_DGRAM"}
_V2_CODES = {"TCP4": 0x11, "UDP4": 0x12, "TCP6": 0x21, "UDP6": 0x22}


def parse_v1(line: bytes) -> JSObject | None:
    """``PROXY TCP4 src dst sport dport`` (without CRLF) as the handler's object; None if
    malformed."""
    parts = line.split(b" ")
    proto = parts[1] if len(parts) > 1 else b""
    if proto == b"UNKNOWN":
        return JSObject(version=1, protocol="UNKNOWN")
    if proto not in (b"TCP4", b"TCP6") or len(parts) < 6:
        return None
    try:
        src, dst = (p.decode("ascii") for p in parts[2:4])
        cls = ipaddress.IPv4Address if proto == b"TCP4" else ipaddress.IPv6Address
        cls(src), cls(dst)
        sport, dport = int(parts[4]), int(parts[5])
    except ValueError:
        return None
    return JSObject(version=1, protocol=proto.decode(), sourceAddress=src, targetAddress=dst,
                    sourcePort=sport, targetPort=dport)


def parse_v2(h: bytes) -> JSObject | None:
    """A whole v2 header (signature, 4 fixed bytes, address block) as the handler's object."""
    if h[12] >> 4 != 2 or h[12] & 0x0F > 1:
        return None
    proto = _V2_PROTOCOLS.get(h[13])
    if proto is None:
        return None
    obj = JSObject(version=2, command="PROXY" if h[12] & 1 else "LOCAL", protocol=proto)
    a = h[16:]
    fam = h[13] >> 4
    if fam == 1 and len(a) >= 12:
        obj.update(sourceAddress=str(ipaddress.IPv4Address(a[0:4])),
                   targetAddress=str(ipaddress.IPv4Address(a[4:8])),
                   sourcePort=int.from_bytes(a[8:10], "big"),
                   targetPort=int.from_bytes(a[10:12], "big"))
    elif fam == 2 and len(a) >= 36:
        obj.update(sourceAddress=str(ipaddress.IPv6Address(a[0:16])),
                   targetAddress=str(ipaddress.IPv6Address(a[16:32])),
                   sourcePort=int.from_bytes(a[32:34], "big"),
                   targetPort=int.from_bytes(a[34:36], "big"))
    elif fam in (1, 2):
        return None  # an address block too short for its family
    return obj


@register("acceptProxyProtocol")
class AcceptProxyProtocol(TunnelFilter):
    __slots__ = ("handler", "buf", "failed")
    CONFIG = ("handler",)

    @classmethod
    def configure(cls, config: Any, handler: Any = undefined, *rest: Any) -> "AcceptProxyProtocol":
        if not callable(handler):
            raise type_error("acceptProxyProtocol: argument #1 expects a function")
        f = cls.__new__(cls)
        f.sub_layouts = None
        f.handler = handler
        f.reset()
        return f

    def reset(self) -> None:
        self.end_sub()
        self.buf = b""
        self.failed = False

    def process(self, evt: Any) -> None:
        sub = self.sub
        if sub is not None:
            sub.input(evt)
            return
        if self.failed:
            return
        t = type(evt)
        if t is Data:
            self.buf += evt.to_bytes()
            self._header()
        elif t is StreamEnd:
            self.failed = True
            self.next.process(evt)

    def _header(self) -> None:
        b = self.buf
        sig = V1_PREFIX if b[0] == 0x50 else V2_SIGNATURE  # 'P' or '\r' tells them apart
        n = min(len(b), len(sig))
        if b[:n] != sig[:n]:
            return self._fail()
        if n < len(sig):
            return
        if sig is V1_PREFIX:
            end = b.find(b"\r\n", 0, V1_MAX)
            if end < 0:
                if len(b) >= V1_MAX:
                    self._fail()
                return
            return self._accept(parse_v1(b[:end]), b[end + 2:])
        if len(b) < 16:
            return
        size = 16 + int.from_bytes(b[14:16], "big")
        if len(b) < size:
            return
        self._accept(parse_v2(b[:size]), b[size:])

    def _accept(self, header: JSObject | None, rest: bytes) -> None:
        self.buf = b""
        if header is None:
            return self._fail()
        ok = self.callback(self.handler, header)
        if ok is FAILED or not to_boolean(ok):
            return self._fail()
        self.sub = self.sub_pipeline(0)
        if rest:
            self.sub.input(Data.from_bytes(rest))

    def _fail(self) -> None:
        self.failed = True
        self.buf = b""
        self.next.process(StreamEnd())


_props = {k: getters(k) for k in ("version", "command", "protocol", "sourceAddress",
                                   "sourcePort", "targetAddress", "targetPort")}


def _prop(obj: Any, key: str) -> Any:
    return _props[key][type(obj)](obj)


def _port(v: Any) -> int:
    if v is undefined or v is None:
        return 0
    n = to_number(v)
    return int(n) & 0xFFFF if n == n and abs(n) != float("inf") else 0


def _ip(v: Any, cls: type) -> bytes:
    """The packed address, or zeros when missing or malformed (Pipy)."""
    size = 16 if cls is ipaddress.IPv6Address else 4
    try:
        return cls(v).packed if type(v) is str else bytes(size)
    except ValueError:
        return bytes(size)


def encode_header(obj: Any) -> bytes:
    """The header for ``obj`` (see the module docstring), as Pipy writes it."""
    version, protocol = _prop(obj, "version"), _prop(obj, "protocol")
    src, dst = _prop(obj, "sourceAddress"), _prop(obj, "targetAddress")
    sport, dport = _port(_prop(obj, "sourcePort")), _port(_prop(obj, "targetPort"))
    if version == 2:
        cmd = 0 if _prop(obj, "command") == "LOCAL" else 1
        code = _V2_CODES.get(protocol, 0x11) if type(protocol) is str else 0x11
        cls = ipaddress.IPv6Address if code >> 4 == 2 else ipaddress.IPv4Address
        addrs = _ip(src, cls) + _ip(dst, cls)
        tail = addrs + sport.to_bytes(2, "big") + dport.to_bytes(2, "big")
        return V2_SIGNATURE + bytes((0x20 | cmd, code)) + len(tail).to_bytes(2, "big") + tail
    proto = protocol if type(protocol) is str else "TCP4"
    zero = "::" if proto == "TCP6" else "0.0.0.0"
    src = src if type(src) is str else zero
    dst = dst if type(dst) is str else zero
    return f"PROXY {proto} {src} {dst} {sport} {dport}\r\n".encode()


@register("connectProxyProtocol")
class ConnectProxyProtocol(TunnelFilter):
    __slots__ = ("header", "failed")
    CONFIG = ("header",)

    @classmethod
    def configure(cls, config: Any, header: Any = undefined,
                  *rest: Any) -> "ConnectProxyProtocol":
        if not (isinstance(header, dict) or callable(header)):
            raise type_error("connectProxyProtocol: argument #1 expects an object or a function")
        f = cls.__new__(cls)
        f.sub_layouts = None
        f.header = header
        f.reset()
        return f

    def reset(self) -> None:
        self.end_sub()
        self.failed = False

    def process(self, evt: Any) -> None:
        sub = self.sub
        if sub is None:
            if self.failed:
                return
            if type(evt) is StreamEnd:  # nothing was sent: no header, the stream just ends
                self.failed = True
                self.next.process(evt)
                return
            obj = self.eval_arg(self.header)
            if obj is FAILED:
                self.failed = True
                return
            if obj is None or obj is undefined or type(obj) in (str, int, float, bool):
                log.error("[connectProxyProtocol] an object containing source/target "
                          "addresses is expected")
                self.failed = True
                return
            sub = self.sub = self.sub_pipeline(0)
            sub.input(Data.from_bytes(encode_header(obj)))
        sub.input(evt)
