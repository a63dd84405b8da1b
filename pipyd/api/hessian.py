"""``Hessian.decode`` / ``Hessian.encode``: Hessian 2.0 serialisation (Dubbo payloads).

As Pipy: ``decode`` returns the single value a buffer holds, or an array when it holds several
(a Dubbo request body is a sequence of values); longs become numbers; typed objects (class
definition ``C`` + instance ``O``/0x60-0x6f) become plain objects of their fields; maps become
objects with string keys. pipyd also reads what Pipy skips: typed and fixed-length lists
(``V``, ``X``, 0x70-0x7f), typed maps (``M``), binary (Data), dates (ms numbers) and back
references. ``encode`` writes the compact forms of the spec: ints, doubles, strings, Data as
binary, arrays as untyped variable lists (``W``…``Z``) and objects as untyped maps (``H``…``Z``).
Malformed input throws an Error.
"""
from __future__ import annotations

import struct
from typing import Any

from pipyd.events import Data
from pipyd.js.values import HostObject, JSArray, JSObject, js_error, type_error, undefined


class _Decoder:
    __slots__ = ("buf", "pos", "classes", "refs", "types")

    def __init__(self, buf: bytes) -> None:
        self.buf, self.pos = buf, 0
        self.classes: list[list[str]] = []
        self.refs: list[Any] = []
        self.types: list[str] = []

    def take(self, n: int) -> bytes:
        b = self.buf[self.pos:self.pos + n]
        if len(b) < n:
            raise js_error("Error", "Hessian: unexpected end of data")
        self.pos += n
        return b

    def byte(self) -> int:
        return self.take(1)[0]

    def int_(self, n: int, signed: bool = True) -> int:
        return int.from_bytes(self.take(n), "big", signed=signed)

    def string(self, n: int) -> str:
        """``n`` UTF-16 code units' worth of (modified) UTF-8 (Hessian counts characters)."""
        start, units = self.pos, 0
        while units < n:
            c = self.byte()
            extra = 3 if c >= 0xF0 else 2 if c >= 0xE0 else 1 if c >= 0xC0 else 0
            self.take(extra)
            units += 2 if extra == 3 else 1
        return self.buf[start:self.pos].decode("utf-8", "surrogatepass")

    def value(self) -> Any:
        c = self.byte()
        if c == 0x4E:
            return None
        if c in (0x54, 0x46):
            return c == 0x54
        if 0x80 <= c <= 0xBF:
            return c - 0x90
        if 0xC0 <= c <= 0xCF:
            return ((c - 0xC8) << 8) | self.byte()
        if 0xD0 <= c <= 0xD7:
            return ((c - 0xD4) << 16) | self.int_(2, False)
        if c == 0x49 or c == 0x59:
            return self.int_(4)
        if 0xD8 <= c <= 0xEF:
            return c - 0xE0
        if 0xF0 <= c <= 0xFF:
            return ((c - 0xF8) << 8) | self.byte()
        if 0x38 <= c <= 0x3F:
            return ((c - 0x3C) << 16) | self.int_(2, False)
        if c == 0x4C:
            return _number(self.int_(8))
        return self.value_more(c)

    def value_more(self, c: int) -> Any:
        if c == 0x44:
            return struct.unpack(">d", self.take(8))[0]
        if c in (0x5B, 0x5C):
            return c - 0x5B
        if c == 0x5D:
            return self.int_(1)
        if c == 0x5E:
            return self.int_(2)
        if c == 0x5F:
            return self.int_(4) / 1000  # Hessian 2.0: a double as int32 milliunits
        if c <= 0x1F:
            return self.string(c)
        if 0x30 <= c <= 0x33:
            return self.string(((c - 0x30) << 8) | self.byte())
        if c in (0x52, 0x53):
            return self.chunks(c, 0x52, self.string)
        if 0x20 <= c <= 0x2F:
            return Data.from_bytes(self.take(c - 0x20))
        if 0x34 <= c <= 0x37:
            return Data.from_bytes(self.take(((c - 0x34) << 8) | self.byte()))
        if c in (0x41, 0x42):
            return Data.from_bytes(self.chunks(c, 0x41, self.take))
        if c == 0x4A:
            return _number(self.int_(8))
        if c == 0x4B:
            return self.int_(4) * 60000
        return self.compound(c)

    def chunks(self, c: int, more: int, read: Any) -> Any:
        parts = []
        while True:
            parts.append(read(self.int_(2, False)))
            if c != more:
                return type(parts[0])().join(parts) if parts else ""
            c = self.byte()

    def type_name(self) -> str:
        t = self.value()
        if type(t) is str:
            self.types.append(t)
            return t
        return self.types[int(t)]

    def compound(self, c: int) -> Any:
        if c in (0x55, 0x57):  # variable list, typed or not
            if c == 0x55:
                self.type_name()
            return self.items(None)
        if c in (0x56, 0x58) or 0x70 <= c <= 0x7F:  # fixed-length list
            if c == 0x56 or 0x70 <= c <= 0x77:
                self.type_name()
            n = self.value() if c in (0x56, 0x58) else (c - 0x70 if c < 0x78 else c - 0x78)
            return self.items(int(n))
        if c in (0x48, 0x4D):
            if c == 0x4D:
                self.type_name()
            obj = JSObject()
            self.refs.append(obj)
            while self.buf[self.pos:self.pos + 1] not in (b"Z", b""):
                k = self.value()
                obj[k if type(k) is str else str(k)] = self.value()
            self.take(1)
            return obj
        if c == 0x43:
            self.value()  # class name
            self.classes.append([self.value() for _ in range(int(self.value()))])
            return self.value()
        if c == 0x4F or 0x60 <= c <= 0x6F:
            fields = self.classes[int(self.value()) if c == 0x4F else c - 0x60]
            obj = JSObject()
            self.refs.append(obj)
            for f in fields:
                obj[f] = self.value()
            return obj
        if c == 0x51:
            return self.refs[int(self.value())]
        raise js_error("Error", f"Hessian: unrecognized bytecode 0x{c:02x}")

    def items(self, n: int | None) -> JSArray:
        arr = JSArray()
        self.refs.append(arr)
        if n is None:
            while self.buf[self.pos:self.pos + 1] not in (b"Z", b""):
                arr.append(self.value())
            self.take(1)
        else:
            arr.extend(self.value() for _ in range(n))
        return arr


def _number(n: int) -> int | float:
    return n if -2**53 <= n <= 2**53 else float(n)


def decode(data: Any = undefined) -> Any:
    if data is None:
        return None
    if type(data) is not Data:
        raise type_error("Hessian.decode: expected a Data")
    d = _Decoder(data.to_bytes())
    values = []
    while d.pos < len(d.buf):
        values.append(d.value())
    if not values:
        return undefined
    return values[0] if len(values) == 1 else JSArray(values)


def _enc_int(n: int, out: bytearray) -> None:
    if -16 <= n <= 47:
        out.append(0x90 + n)
    elif -2048 <= n <= 2047:
        out += bytes([0xC8 + (n >> 8), n & 0xFF])
    elif -262144 <= n <= 262143:
        out += bytes([0xD4 + (n >> 16)]) + (n & 0xFFFF).to_bytes(2, "big")
    elif -2**31 <= n < 2**31:
        out += b"I" + n.to_bytes(4, "big", signed=True)
    else:
        out += b"L" + n.to_bytes(8, "big", signed=True)


def _enc_str(s: str, out: bytearray) -> None:
    units = len(s.encode("utf-16-le", "surrogatepass")) // 2
    b = s.encode("utf-8", "surrogatepass")
    if units <= 31:
        out.append(units)
    elif units <= 1023:
        out += bytes([0x30 + (units >> 8), units & 0xFF])
    elif units <= 0xFFFF:
        out += b"S" + units.to_bytes(2, "big")
    else:
        raise js_error("Error", "Hessian.encode: string too long")
    out += b


def _encode(v: Any, out: bytearray) -> None:
    t = type(v)
    if v is None or v is undefined:
        out += b"N"
    elif t is bool:
        out += b"T" if v else b"F"
    elif t is int:
        _enc_int(v, out)
    elif t is float:
        if v.is_integer() and -2**31 <= v < 2**31:
            _enc_int(int(v), out)
        else:
            out += b"D" + struct.pack(">d", v)
    elif t is str:
        _enc_str(v, out)
    elif t is Data:
        b = v.to_bytes()
        out += (bytes([0x20 + len(b)]) if len(b) <= 15 else b"B" + len(b).to_bytes(2, "big")) + b
    elif isinstance(v, list):
        out += b"W"
        for x in v:
            _encode(x, out)
        out += b"Z"
    elif isinstance(v, dict):
        out += b"H"
        for k, x in v.items():
            _enc_str(k, out)
            _encode(x, out)
        out += b"Z"
    else:
        out += b"N"


def encode(value: Any = undefined) -> Data:
    out = bytearray()
    _encode(value, out)
    return Data.from_bytes(bytes(out))


class Hessian(HostObject):
    """The ``Hessian`` global."""

    __slots__ = ()
    js_static = frozenset({"decode", "encode"})
    js_class_name = "Hessian"
    decode = staticmethod(decode)
    encode = staticmethod(encode)
