"""acceptSOCKS and connectSOCKS: the SOCKS handshakes (reference §2.2 rows 3 and 12). Both
sub-pipelines share the context (§0.4).

``acceptSOCKS(handler)`` is a SOCKS server (SOCKS4 and 4a: the de-facto protocol documents;
SOCKS5: RFC 1928). It reads the client's CONNECT request and calls ``handler(host, port, id)``
(``id``: the SOCKS4 user id, undefined if empty). A truthy answer replies success and sends the
rest of the stream through the sub-pipeline (normally ``connect(...)`` to that host), whose
output goes back to the client; a falsy one replies "refused" and ends the stream. As in Pipy:
no authentication (SOCKS5 always selects method 0 "no authentication"), only CONNECT, and the
reply's bound address is 0.0.0.0:0. Beyond Pipy, SOCKS5 IPv6 addresses (ATYP 4) are accepted.
Failure replies: SOCKS4 ``0x5b``; SOCKS5 ``0x01`` (bad command), ``0x08`` (bad address type),
``0x02`` (refused by the handler).

``connectSOCKS(target)`` is a SOCKS5 client: the sub-pipeline is the connection to the proxy.
It greets (method 0), sends CONNECT for ``target`` ("host:port", IPv4, [IPv6] or a domain, or a
function returning one), and once the proxy answers success it sends the held client bytes and
tunnels. A refused greeting ends the stream with ``Unauthorized``, a refused CONNECT with
``ConnectionRefused`` (Pipy). A StreamEnd from the client during the handshake is held and
sent after the held bytes (Pipy forwarded it at once, half-closing the proxy connection before
the request went out).
"""
from __future__ import annotations

import ipaddress
from typing import Any

from pipyd import log
from pipyd.events import Data, StreamEnd
from pipyd.js.coerce import to_boolean, to_string
from pipyd.js.values import type_error, undefined
from pipyd.outbound import parse_target
from pipyd.pipeline import FAILED
from pipyd.registry import register

from .tunnel import AcceptTunnel, TunnelFilter, name_first_form

MAX_NAME = 255  # user id / domain names: longer is an error (SOCKS4a), a byte length (SOCKS5)

_SOCKS4_OK = b"\x00\x5a" + bytes(6)
_SOCKS4_REFUSED = b"\x00\x5b" + bytes(6)
_SOCKS5_NO_AUTH = b"\x05\x00"


def _socks5_reply(rep: int) -> bytes:
    return bytes((5, rep, 0, 1, 0, 0, 0, 0, 0, 0))


@register("acceptSOCKS")
class AcceptSOCKS(AcceptTunnel):
    __slots__ = ("buf", "done", "version", "greeted")

    def reset(self) -> None:
        self.end_sub()
        self.buf = b""
        self.done = False  # the handshake ended (refused or failed): ignore the rest
        self.version = 0
        self.greeted = False

    def process(self, evt: Any) -> None:
        sub = self.sub
        if sub is not None:
            sub.input(evt)
            return
        if self.done:
            return
        t = type(evt)
        if t is Data:
            self.buf += evt.to_bytes()
            self._handshake()
        elif t is StreamEnd:
            self.done = True
            self.next.process(evt)

    def _handshake(self) -> None:
        b = self.buf
        if not self.version:
            if not b:
                return
            if b[0] != 4 and b[0] != 5:
                return self._close(None)
            self.version = b[0]
        if self.version == 4:
            self._socks4(b)
        else:
            self._socks5(b)

    # SOCKS4: VN=4 CD=1 DSTPORT(2) DSTIP(4) USERID NUL [DOMAIN NUL when DSTIP is 0.0.0.x]
    def _socks4(self, b: bytes) -> None:
        if len(b) < 2:
            return
        if b[1] != 1:
            return self._close(_SOCKS4_REFUSED)
        if len(b) < 9:
            return
        end = b.find(b"\0", 8)
        if end < 0:
            if len(b) - 8 > MAX_NAME:
                self._close(_SOCKS4_REFUSED)
            return
        user = b[8:end].decode("latin-1")
        port = int.from_bytes(b[2:4], "big")
        if b[4] == 0 and b[5] == 0 and b[6] == 0:  # SOCKS4a: the domain follows
            dend = b.find(b"\0", end + 1)
            if dend < 0:
                if len(b) - end - 1 > MAX_NAME:
                    self._close(_SOCKS4_REFUSED)
                return
            host = b[end + 1:dend].decode("latin-1")
            end = dend
        else:
            host = ".".join(str(x) for x in b[4:8])
        self._connect(4, host, port, user or undefined, b[end + 1:])

    # SOCKS5: greeting VER NMETHODS METHODS; request VER CMD RSV ATYP DST.ADDR DST.PORT
    def _socks5(self, b: bytes) -> None:
        if not self.greeted:
            if len(b) < 2 or len(b) < 2 + b[1]:
                return
            self.greeted = True  # the client waits for the method selection: answer now
            self.next.process(Data.from_bytes(_SOCKS5_NO_AUTH))
            b = self.buf = b[2 + b[1]:]
        if len(b) < 4:
            return
        ver, cmd, rsv, atyp = b[:4]
        if ver != 5 or cmd != 1 or rsv != 0:
            return self._close(_socks5_reply(0x01))
        if atyp == 1:
            if len(b) < 10:
                return
            host, p = ".".join(str(x) for x in b[4:8]), 8
        elif atyp == 3:
            if len(b) < 5 or len(b) < 5 + b[4] + 2:
                return
            host, p = b[5:5 + b[4]].decode("latin-1"), 5 + b[4]
        elif atyp == 4:
            if len(b) < 22:
                return
            host, p = str(ipaddress.IPv6Address(b[4:20])), 20
        else:
            return self._close(_socks5_reply(0x08))
        self._connect(5, host, int.from_bytes(b[p:p + 2], "big"), undefined, b[p + 2:])

    def _connect(self, version: int, host: str, port: int, user: Any, rest: bytes) -> None:
        self.buf = b""
        ok = self.callback(self.handler, host, port, user)
        if ok is not FAILED and to_boolean(ok):
            self.sub = self.sub_pipeline(0)
            self.next.process(Data.from_bytes(_SOCKS4_OK if version == 4 else _socks5_reply(0)))
            if rest:
                self.sub.input(Data.from_bytes(rest))
            return
        self._close(_SOCKS4_REFUSED if version == 4 else _socks5_reply(0x02))

    def _close(self, reply: bytes | None) -> None:
        self.done = True
        self.buf = b""
        if reply is not None:
            self.next.process(Data.from_bytes(reply))
        self.next.process(StreamEnd())


# connectSOCKS states
_INIT, _AUTH, _REPLY, _CONNECTED, _CLOSED = range(5)


@register("connectSOCKS")
class ConnectSOCKS(TunnelFilter):
    __slots__ = ("target", "state", "rbuf", "held", "held_end")
    CONFIG = ("target",)

    @classmethod
    def configure(cls, config: Any, *args: Any) -> "ConnectSOCKS":
        f = cls.__new__(cls)
        args = name_first_form(f, args)
        if not args or not (type(args[0]) is str or callable(args[0])):
            raise type_error("connectSOCKS: argument #1 expects a string or a function")
        f.target = args[0]
        f.reset()
        return f

    def reset(self) -> None:
        self.end_sub()
        self.state = _INIT
        self.rbuf = b""
        self.held: list[bytes] = []
        self.held_end: StreamEnd | None = None

    def process(self, evt: Any) -> None:
        state = self.state
        if state == _CONNECTED:
            self.sub.input(evt)
            return
        if state == _CLOSED:
            return
        t = type(evt)
        if state == _INIT and t is StreamEnd:  # nothing to tunnel: no handshake
            self.state = _CLOSED
            self.next.process(evt)
            return
        if t is Data:
            self.held.extend(evt.chunks)
        elif t is StreamEnd:
            self.held_end = evt
        if state == _INIT:
            self.state = _AUTH
            self.sub = self.sub_pipeline(0)
            self.sub.input(Data.from_bytes(b"\x05\x01\x00"))

    def on_sub_output(self, evt: Any) -> None:
        state = self.state
        if state == _CLOSED:
            return
        t = type(evt)
        if t is StreamEnd:
            self.state = _CLOSED
            self.next.process(evt)
        elif t is Data:
            if state == _CONNECTED:
                self.next.process(evt)
            else:
                self.rbuf += evt.to_bytes()
                self._reply()

    def _reply(self) -> None:
        b = self.rbuf
        if self.state == _AUTH:
            if len(b) < 2:
                return
            if b[0] != 5 or b[1] != 0:
                return self._close("Unauthorized")
            self.rbuf = b = b[2:]
            self.state = _REPLY
            if not self._request():
                return
        if self.state == _REPLY:
            if len(b) < 4:
                return
            if b[0] != 5 or b[1] != 0 or b[2] != 0:
                return self._close("ConnectionRefused")
            atyp = b[3]
            if atyp == 3:
                if len(b) < 5:
                    return
                size = 5 + b[4]
            elif atyp == 1 or atyp == 4:
                size = 8 if atyp == 1 else 20
            else:
                return self._close("ReadError")
            if len(b) < size + 2:
                return
            self.rbuf = b""
            self._connected(b[size + 2:])

    def _request(self) -> bool:
        value = self.eval_arg(self.target)
        try:
            if value is FAILED:
                raise ValueError("target function threw")
            host, port = parse_target(to_string(value))
        except ValueError as e:
            log.error(f"[connectSOCKS] {e}")
            self._close("CannotResolve")
            return False
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            name = host.encode("idna" if not host.isascii() else "ascii")[:MAX_NAME]
            addr = bytes((3, len(name))) + name
        else:
            addr = (b"\x01" if ip.version == 4 else b"\x04") + ip.packed
        self.sub.input(Data.from_bytes(b"\x05\x01\x00" + addr + port.to_bytes(2, "big")))
        return True

    def _connected(self, rest: bytes) -> None:
        self.state = _CONNECTED
        sub = self.sub
        if self.held:
            chunks, self.held = self.held, []
            sub.input(Data.from_chunks(chunks))
        if rest:
            self.next.process(Data.from_bytes(rest))
        end = self.held_end
        if end is not None:
            self.held_end = None
            sub.input(end)

    def _close(self, error: str) -> None:
        self.state = _CLOSED
        self.next.process(StreamEnd(error))
