"""``DNS.decode`` / ``DNS.encode``: the DNS wire format (RFC 1035 §4) as plain objects.

The object shape follows Pipy (undocumented there): ``{id, qr, opcode, aa, tc, rd, ra, zero,
rcode, question, answer, authority, additional}`` where a flag or code is present only when it
is non-zero and a section only when it has entries. A question is ``{name, type, class}`` and a
record ``{name, type, class, ttl, rdata}``; ``class`` is left out when it is IN (1); ``type`` is
a name for A NS CNAME SOA PTR MX TXT AAAA SRV OPT and a number otherwise. ``rdata`` is an address
string (A, AAAA), a domain name (NS, CNAME, PTR), the text (TXT, one string), an object
(SOA ``{mname rname serial refresh retry expire minimum}``, SRV ``{priority weight port target}``,
MX ``{preference exchange}``) or, for other types, the bytes as hex. Names are read through
compression pointers (§4.1.4); encode writes them uncompressed. Malformed input throws.
"""
from __future__ import annotations

import ipaddress
import struct
from typing import Any, Callable

from pipyd.events import Data
from pipyd.js.values import HostObject, JSArray, JSObject, js_error, type_error, undefined

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28,
         "SRV": 33, "OPT": 41}
TYPE_NAMES = {v: k for k, v in TYPES.items()}
_FLAGS = (("qr", 15, 1), ("opcode", 11, 15), ("aa", 10, 1), ("tc", 9, 1), ("rd", 8, 1),
          ("ra", 7, 1), ("zero", 4, 7), ("rcode", 0, 15))
_SECTIONS = ("question", "answer", "authority", "additional")
_SOA = ("serial", "refresh", "retry", "expire", "minimum")


def _bad(what: str) -> Exception:
    return js_error("Error", f"dns decode # {what} error")


class _Reader:
    __slots__ = ("buf",)

    def __init__(self, buf: bytes) -> None:
        self.buf = buf

    def name(self, pos: int) -> tuple[str, int]:
        """The name at ``pos`` and the position after it (after the first pointer, if any)."""
        buf, labels, end, hops = self.buf, [], -1, 0
        while True:
            if pos >= len(buf):
                raise _bad("name")
            n = buf[pos]
            if n == 0:
                pos += 1
                break
            if n >= 0xC0:  # compression pointer; a bound on hops stops loops
                if pos + 1 >= len(buf) or hops > 64:
                    raise _bad("name")
                if end < 0:
                    end = pos + 2
                pos = ((n & 0x3F) << 8) | buf[pos + 1]
                hops += 1
                continue
            if n > 63 or pos + 1 + n > len(buf):
                raise _bad("name")
            labels.append(buf[pos + 1:pos + 1 + n].decode("latin-1"))
            pos += 1 + n
        return ".".join(labels), (end if end >= 0 else pos)

    def u16(self, pos: int) -> int:
        if pos + 2 > len(self.buf):
            raise _bad("data")
        return (self.buf[pos] << 8) | self.buf[pos + 1]

    def question(self, pos: int) -> tuple[JSObject, int]:
        name, pos = self.name(pos)
        q = JSObject(name=name)
        q["type"] = TYPE_NAMES.get(self.u16(pos), self.u16(pos))
        cls = self.u16(pos + 2)
        if cls != 1:
            q["class"] = cls
        return q, pos + 4

    def record(self, pos: int) -> tuple[JSObject, int]:
        r, pos = self.question(pos)
        if pos + 6 > len(self.buf):
            raise _bad("record name")
        r["ttl"] = struct.unpack_from(">I", self.buf, pos)[0]
        size = self.u16(pos + 4)
        pos += 6
        if pos + size > len(self.buf):
            raise _bad("rdlength")
        t = r["type"]
        reader = _RDATA_READERS.get(t) if type(t) is str else None
        raw = self.buf[pos:pos + size]
        r["rdata"] = reader(self, pos, raw) if reader is not None else raw.hex()
        return r, pos + size


def _read_soa(rd: _Reader, pos: int, _raw: bytes) -> JSObject:
    mname, pos = rd.name(pos)
    rname, pos = rd.name(pos)
    if pos + 20 > len(rd.buf):
        raise _bad("soa")
    soa = JSObject(mname=mname, rname=rname)
    soa.update(zip(_SOA, struct.unpack_from(">5I", rd.buf, pos)))
    return soa


def _read_srv(rd: _Reader, pos: int, raw: bytes) -> JSObject:
    if len(raw) < 6:
        raise _bad("srv")
    prio, weight, port = struct.unpack_from(">3H", raw)
    return JSObject(priority=prio, weight=weight, port=port, target=rd.name(pos + 6)[0])


def _read_mx(rd: _Reader, pos: int, raw: bytes) -> JSObject:
    if len(raw) < 2:
        raise _bad("mx")
    return JSObject(preference=rd.u16(pos), exchange=rd.name(pos + 2)[0])


def _read_address(_rd: _Reader, _pos: int, raw: bytes) -> str:
    try:
        return str(ipaddress.ip_address(raw))
    except ValueError:
        raise _bad("address rdata") from None


_RDATA_READERS: dict[str, Callable[[_Reader, int, bytes], Any]] = {
    "A": _read_address, "AAAA": _read_address,
    "NS": lambda rd, pos, _raw: rd.name(pos)[0],
    "CNAME": lambda rd, pos, _raw: rd.name(pos)[0],
    "PTR": lambda rd, pos, _raw: rd.name(pos)[0],
    "TXT": lambda _rd, _pos, raw: raw[1:1 + raw[0]].decode("utf-8", "replace") if raw else "",
    "SOA": _read_soa, "SRV": _read_srv, "MX": _read_mx,
}


def decode(data: Any = undefined) -> JSObject:
    if type(data) is not Data:
        raise type_error("DNS.decode: expected a Data")
    buf = data.to_bytes()
    if len(buf) < 12:
        raise _bad("data")
    ident, flags, *counts = struct.unpack_from(">6H", buf)
    msg = JSObject(id=ident)
    for key, shift, mask in _FLAGS:
        v = (flags >> shift) & mask
        if v:
            msg[key] = v
    rd, pos = _Reader(buf), 12
    for section, count in zip(_SECTIONS, counts):
        if not count:
            continue
        items = JSArray()
        read = rd.question if section == "question" else rd.record
        for _ in range(count):
            item, pos = read(pos)
            items.append(item)
        msg[section] = items
    return msg


# -- encode ------------------------------------------------------------------------------------

def _num(obj: Any, key: str, default: int = 0) -> int:
    v = obj.get(key, undefined) if isinstance(obj, dict) else undefined
    return int(v) if type(v) in (int, float, bool) else default


def _name(name: Any) -> bytes:
    if type(name) is not str:
        raise type_error("DNS.encode: a name must be a string")
    out = bytearray()
    for label in name.rstrip(".").split(".") if name not in ("", ".") else ():
        b = label.encode("utf-8")
        if not b or len(b) > 63:
            raise js_error("Error", f"DNS.encode: invalid name {name!r}")
        out += bytes([len(b)]) + b
    return bytes(out + b"\0")


def _type(rec: Any) -> int:
    t = rec.get("type", undefined)
    if type(t) is str and t in TYPES:
        return TYPES[t]
    if type(t) in (int, float):
        return int(t)
    raise type_error(f"DNS.encode: unknown record type {t!r}")


def _rdata(t: int, rdata: Any) -> bytes:
    name = TYPE_NAMES.get(t)
    if name in ("A", "AAAA"):
        return ipaddress.ip_address(rdata).packed
    if name in ("NS", "CNAME", "PTR"):
        return _name(rdata)
    if name == "TXT":
        b = str(rdata).encode("utf-8")
        return bytes([len(b)]) + b
    if name == "SOA":
        return (_name(rdata["mname"]) + _name(rdata["rname"])
                + struct.pack(">5I", *(_num(rdata, k) for k in _SOA)))
    if name == "SRV":
        return struct.pack(">3H", _num(rdata, "priority"), _num(rdata, "weight"),
                           _num(rdata, "port")) + _name(rdata["target"])
    if name == "MX":
        return struct.pack(">H", _num(rdata, "preference")) + _name(rdata["exchange"])
    if rdata is undefined or rdata is None:
        return b""
    return bytes.fromhex(rdata) if type(rdata) is str else Data(rdata).to_bytes()


def _record(rec: Any, question: bool) -> bytes:
    if not isinstance(rec, dict):
        raise type_error("DNS.encode: a record must be an object")
    t = _type(rec)
    head = _name(rec.get("name", "")) + struct.pack(">HH", t, _num(rec, "class", 1))
    if question:
        return head
    try:
        rd = _rdata(t, rec.get("rdata", undefined))
    except (KeyError, ValueError, TypeError):
        raise type_error("DNS.encode: invalid rdata") from None
    return head + struct.pack(">IH", _num(rec, "ttl") & 0xFFFFFFFF, len(rd)) + rd


def encode(msg: Any = undefined) -> Data:
    if not isinstance(msg, dict):
        raise type_error("DNS.encode: expected an object")
    flags = 0
    for key, shift, mask in _FLAGS:
        flags |= (_num(msg, key) & mask) << shift
    sections = []
    for s in _SECTIONS:
        v = msg.get(s, undefined)
        sections.append(v if isinstance(v, list) else [])
    out = [struct.pack(">6H", _num(msg, "id") & 0xFFFF, flags, *map(len, sections))]
    for s, items in zip(_SECTIONS, sections):
        out.extend(_record(r, s == "question") for r in items)
    return Data.from_bytes(b"".join(out))


class DNS(HostObject):
    """The ``DNS`` global: ``DNS.decode(data)`` and ``DNS.encode(object)``."""

    __slots__ = ()
    js_static = frozenset({"decode", "encode"})
    js_class_name = "DNS"
    decode = staticmethod(decode)
    encode = staticmethod(encode)
