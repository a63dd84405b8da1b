"""String: conversion function, statics and String.prototype (ECMA-262 §22.1).

Strings are indexed by code point as in PipyJS (``'😀'.length === 1``), so ``charCodeAt`` returns
the code point at that index (the same as JS for every BMP character) and ``fromCharCode`` joins
surrogate pairs into one character. The pattern methods (match, matchAll, replace, replaceAll,
search, split) live in ``string_regex.py``, which handles string and RegExp patterns; their table
is merged into STRING_PROTO here.
"""
from __future__ import annotations

import unicodedata
from typing import Any, Callable

from pipyd.js.builtins.classes import BuiltinClass, register_prototype
from pipyd.js.coerce import JS_WHITESPACE, to_integer, to_number, to_string, to_uint16
from pipyd.js.values import JSArray, range_error, undefined

MAX_STRING_LENGTH = 2**29 - 24  # V8's limit: 'Invalid string length' beyond it


def _str(v: Any) -> str:
    return v if type(v) is str else to_string(v)


def _clamp(v: Any, n: int, default: int) -> int:
    """ToIntegerOrInfinity clamped to [0, n] (positions of startsWith, indexOf, substring…)."""
    if v is undefined:
        return default
    i = to_integer(v)
    return 0 if i < 0 else (n if i > n else int(i))


def _relative(v: Any, n: int, default: int) -> int:
    """A relative position (negative counts from the end) clamped to [0, n] (slice, substr, at)."""
    if v is undefined:
        return default
    i = to_integer(v)
    if i < 0:
        i += n
        return 0 if i < 0 else int(i)
    return n if i > n else int(i)


def at(this: str, index: Any = undefined, *_: Any) -> Any:
    i = to_integer(index)
    if i < 0:
        i += len(this)
    return this[int(i)] if 0 <= i < len(this) else undefined


def char_at(this: str, pos: Any = undefined, *_: Any) -> str:
    i = to_integer(pos)
    return this[int(i)] if 0 <= i < len(this) else ""


def char_code_at(this: str, pos: Any = undefined, *_: Any) -> int | float:
    i = to_integer(pos)
    return ord(this[int(i)]) if 0 <= i < len(this) else float("nan")


def code_point_at(this: str, pos: Any = undefined, *_: Any) -> Any:
    i = to_integer(pos)
    return ord(this[int(i)]) if 0 <= i < len(this) else undefined


def concat(this: str, *args: Any) -> str:
    return this + "".join(_str(a) for a in args)


def ends_with(this: str, search: Any = undefined, end_position: Any = undefined, *_: Any) -> bool:
    s = _str(search)
    end = _clamp(end_position, len(this), len(this))
    start = end - len(s)
    return start >= 0 and this[start:end] == s


def starts_with(this: str, search: Any = undefined, position: Any = undefined, *_: Any) -> bool:
    s = _str(search)
    return this.startswith(s, _clamp(position, len(this), 0))


def includes(this: str, search: Any = undefined, position: Any = undefined, *_: Any) -> bool:
    return this.find(_str(search), _clamp(position, len(this), 0)) >= 0


def index_of(this: str, search: Any = undefined, position: Any = undefined, *_: Any) -> int:
    return this.find(_str(search), _clamp(position, len(this), 0))


def last_index_of(this: str, search: Any = undefined, position: Any = undefined, *_: Any) -> int:
    s = _str(search)
    n = to_number(position)
    start = len(this) if n != n else _clamp(n, len(this), len(this))
    return this.rfind(s, 0, start + len(s))


def _collation_key(s: str) -> tuple:
    """An approximation of the root-locale collation: letters compare ignoring accents and case
    first, then accents, then case with lower case first ('a' < 'A' < 'b')."""
    decomposed = unicodedata.normalize("NFD", s)
    base = "".join(c for c in decomposed if not unicodedata.combining(c))
    return (base.casefold(), decomposed.casefold(), s.swapcase())


def locale_compare(this: str, that: Any = undefined, *_: Any) -> int:
    a, b = _collation_key(this), _collation_key(_str(that))
    return (a > b) - (a < b)


def normalize(this: str, form: Any = undefined, *_: Any) -> str:
    f = "NFC" if form is undefined else _str(form)
    if f not in ("NFC", "NFD", "NFKC", "NFKD"):
        raise range_error("The normalization form should be one of NFC, NFD, NFKC, NFKD.")
    return unicodedata.normalize(f, this)


def _padding(this: str, max_length: Any, fill: Any) -> str:
    target = to_integer(max_length)
    filler = " " if fill is undefined else _str(fill)
    if target <= len(this) or not filler:
        return ""
    if target > MAX_STRING_LENGTH:
        raise range_error("Invalid string length")
    need = int(target) - len(this)
    return (filler * (need // len(filler) + 1))[:need]


def pad_start(this: str, max_length: Any = undefined, fill: Any = undefined, *_: Any) -> str:
    return _padding(this, max_length, fill) + this


def pad_end(this: str, max_length: Any = undefined, fill: Any = undefined, *_: Any) -> str:
    return this + _padding(this, max_length, fill)


def repeat(this: str, count: Any = undefined, *_: Any) -> str:
    n = to_integer(count)
    if n < 0 or n == float("inf"):
        raise range_error(f"Invalid count value: {to_string(count)}")
    if len(this) * n > MAX_STRING_LENGTH:
        raise range_error("Invalid string length")
    return this * int(n)


def slice_(this: str, start: Any = undefined, end: Any = undefined, *_: Any) -> str:
    n = len(this)
    return this[_relative(start, n, 0):_relative(end, n, n)]


def substring(this: str, start: Any = undefined, end: Any = undefined, *_: Any) -> str:
    n = len(this)
    a, b = _clamp(start, n, 0), _clamp(end, n, n)
    return this[a:b] if a <= b else this[b:a]


def substr(this: str, start: Any = undefined, length: Any = undefined, *_: Any) -> str:
    n = len(this)
    s = _relative(start, n, 0)
    count = n - s if length is undefined else _clamp(length, n - s, 0)
    return this[s:s + count]


def to_lower_case(this: str, *_: Any) -> str:
    return this.lower()


def to_upper_case(this: str, *_: Any) -> str:
    return this.upper()


def trim(this: str, *_: Any) -> str:
    return this.strip(JS_WHITESPACE)


def trim_start(this: str, *_: Any) -> str:
    return this.lstrip(JS_WHITESPACE)


def trim_end(this: str, *_: Any) -> str:
    return this.rstrip(JS_WHITESPACE)


def value_of(this: str, *_: Any) -> str:
    return this


STRING_PROTO: dict[str, Callable[..., Any]] = {
    "at": at, "charAt": char_at, "charCodeAt": char_code_at, "codePointAt": code_point_at,
    "concat": concat, "endsWith": ends_with, "includes": includes, "indexOf": index_of,
    "lastIndexOf": last_index_of, "localeCompare": locale_compare, "normalize": normalize,
    "padEnd": pad_end, "padStart": pad_start, "repeat": repeat, "slice": slice_,
    "startsWith": starts_with, "substring": substring, "substr": substr,
    "toLowerCase": to_lower_case, "toUpperCase": to_upper_case,
    "toLocaleLowerCase": to_lower_case, "toLocaleUpperCase": to_upper_case,
    "trim": trim, "trimStart": trim_start, "trimEnd": trim_end,
    "trimLeft": trim_start, "trimRight": trim_end, "toString": value_of, "valueOf": value_of,
}

# Imported here, not at the top: string_regex imports the runtime, which binds STRING_PROTO from this
# (then partly initialised) module, so the table must exist first.
from pipyd.js.builtins.string_regex import REGEX_STRING_METHODS  # noqa: E402

STRING_PROTO.update(REGEX_STRING_METHODS)  # match, matchAll, replace, replaceAll, search, split


# --- constructor and statics -----------------------------------------------------------------

def string_call(*args: Any) -> str:
    """String(v) is ToString (String() is ''); ``new String(v)`` gives the primitive too."""
    return _str(args[0]) if args else ""


def from_char_code(*codes: Any) -> str:
    """String.fromCharCode: UTF-16 code units; a high+low surrogate pair becomes one character."""
    units = [to_uint16(c) for c in codes]
    if all(u < 0xD800 or u > 0xDFFF for u in units):
        return "".join(map(chr, units))
    raw = "".join(map(chr, units))
    return raw.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def from_code_point(*points: Any) -> str:
    out = []
    for p in points:
        n = to_number(p)
        if n != n or n < 0 or n > 0x10FFFF or n != int(n):
            raise range_error(f"Invalid code point {to_string(p)}")
        out.append(chr(int(n)))
    return "".join(out)


def string_raw(template: Any = undefined, *subs: Any) -> str:
    """String.raw(strings, ...subs): the raw template pieces interleaved with the substitutions."""
    from pipyd.js import runtime
    raw = runtime.get(template, "raw")
    if raw is undefined and isinstance(template, JSArray):  # the runtime's template-strings array
        raw = getattr(template, "raw", undefined)
    pieces = list(raw) if isinstance(raw, list) else [
        runtime.get(raw, str(i)) for i in range(int(to_integer(runtime.get(raw, "length"))))]
    out: list[str] = []
    for i, piece in enumerate(pieces):
        out.append(_str(piece))
        if i + 1 < len(pieces) and i < len(subs):
            out.append(_str(subs[i]))
    return "".join(out)


String = BuiltinClass("String", string_call, string_call,
                      {"fromCharCode": from_char_code, "fromCodePoint": from_code_point, "raw": string_raw},
                      STRING_PROTO, ())
register_prototype((str,), String)

EXPORTS: dict[str, object] = {"String": String}
