"""URI handling functions (ECMAScript 2020 §18.2.6) and Annex B escape/unescape.

Encoding percent-encodes the UTF-8 bytes of each code point outside the kept set with uppercase hex;
a lone surrogate cannot be encoded (URIError "URI malformed"). Decoding accepts only well-formed
UTF-8 (no overlong forms, no surrogates), and decodeURI leaves escapes of reserved characters as
they are (§18.2.6.2 Decode, reservedSet).
"""
from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from pipyd.js.coerce import to_string
from pipyd.js.values import js_error, undefined

# quote() always keeps ASCII letters, digits and "_.-~"; these complete JS's sets (§18.2.6.1).
_COMPONENT_SAFE = "!*'()"
_URI_SAFE = _COMPONENT_SAFE + ";/?:@&=+$,#"
_URI_RESERVED = frozenset(";/?:@&=+$,#")
_HEX = re.compile(r"[0-9A-Fa-f]{2}")


def _malformed() -> Exception:
    return js_error("URIError", "URI malformed")


def _encode(v: Any, safe: str) -> str:
    s = v if type(v) is str else to_string(v)
    if s.isascii() and s.isalnum():
        return s
    try:
        return quote(s, safe=safe)
    except UnicodeEncodeError:  # a lone surrogate (§18.2.6.1.1 Encode step 4.b.ii)
        raise _malformed() from None


def encode_uri_component(v: Any = undefined, *_: Any) -> str:
    return _encode(v, _COMPONENT_SAFE)


def encode_uri(v: Any = undefined, *_: Any) -> str:
    return _encode(v, _URI_SAFE)


def _byte_at(s: str, i: int) -> int:
    if s.startswith("%", i) and _HEX.match(s, i + 1):
        return int(s[i + 1:i + 3], 16)
    raise _malformed()


def _decode(v: Any, reserved: frozenset[str]) -> str:
    s = v if type(v) is str else to_string(v)
    if "%" not in s:
        return s
    out: list[str] = []
    i, n = 0, len(s)
    while i < n:
        j = s.find("%", i)
        if j < 0:
            out.append(s[i:])
            break
        out.append(s[i:j])
        b = _byte_at(s, j)
        if b < 0x80:
            ch = chr(b)
            out.append(s[j:j + 3] if ch in reserved else ch)
            i = j + 3
            continue
        count = 2 if b & 0xE0 == 0xC0 else 3 if b & 0xF0 == 0xE0 else 4 if b & 0xF8 == 0xF0 else 0
        if not count:
            raise _malformed()
        seq = [b]
        i = j + 3
        for _ in range(count - 1):
            c = _byte_at(s, i)
            if c & 0xC0 != 0x80:
                raise _malformed()
            seq.append(c)
            i += 3
        try:
            out.append(bytes(seq).decode("utf-8"))  # strict: rejects overlong forms and surrogates
        except UnicodeDecodeError:
            raise _malformed() from None
    return "".join(out)


def decode_uri_component(v: Any = undefined, *_: Any) -> str:
    return _decode(v, frozenset())


def decode_uri(v: Any = undefined, *_: Any) -> str:
    return _decode(v, _URI_RESERVED)


# -- Annex B.2.1 -----------------------------------------------------------------------------

_ESCAPE_KEEP = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789@*_+-./")


def escape(v: Any = undefined, *_: Any) -> str:
    out = []
    for ch in to_string(v):
        cp = ord(ch)
        if ch in _ESCAPE_KEEP:
            out.append(ch)
        elif cp < 256:
            out.append("%%%02X" % cp)
        elif cp < 0x10000:
            out.append("%%u%04X" % cp)
        else:  # JS strings are UTF-16: an astral code point escapes as its surrogate pair
            cp -= 0x10000
            out.append("%%u%04X%%u%04X" % (0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF)))
    return "".join(out)


_UNESCAPE = re.compile(r"%u([0-9A-Fa-f]{4})|%([0-9A-Fa-f]{2})")


def unescape(v: Any = undefined, *_: Any) -> str:
    s = _UNESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), to_string(v))
    # pair surrogates back into code points, as strings here hold code points
    return s.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass") if not s.isascii() else s


EXPORTS: dict[str, object] = {
    "encodeURIComponent": encode_uri_component,
    "decodeURIComponent": decode_uri_component,
    "encodeURI": encode_uri,
    "decodeURI": decode_uri,
    "escape": escape,
    "unescape": unescape,
}
