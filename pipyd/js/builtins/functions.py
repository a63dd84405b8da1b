"""Global functions: parseInt, parseFloat, isNaN, isFinite (ECMA-262 §19.2) and Pipy's repeat().

Pipy 0.70 itself has no parseInt/parseFloat/isNaN/isFinite (reference §3); pipyd offers them
because users write modern JavaScript.
"""
from __future__ import annotations

import math
import re
from typing import Any, Callable

from pipyd.js.coerce import JS_WHITESPACE, MAX_SAFE, to_boolean, to_int32, to_integer, to_number, to_string
from pipyd.js.values import type_error, undefined

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
_FLOAT_PREFIX = re.compile(r"[+-]?(?:Infinity|\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)", re.ASCII)


def _number(i: int, negative: bool) -> int | float:
    if negative:
        i = -i
        if i == 0:
            return -0.0
    return i if -MAX_SAFE <= i <= MAX_SAFE else float(i)


def parse_int(string: Any = undefined, radix: Any = undefined, *_: Any) -> int | float:
    """parseInt (§19.2.5): the longest prefix of radix digits; '0x' selects 16 when radix is 0/16."""
    s = (string if type(string) is str else to_string(string)).lstrip(JS_WHITESPACE)
    negative = s[:1] == "-"
    if s[:1] in "+-" and s:
        s = s[1:]
    r = to_int32(radix)
    strip_prefix = True
    if r != 0:
        if r < 2 or r > 36:
            return math.nan
        strip_prefix = r == 16
    else:
        r = 10
    if strip_prefix and s[:2] in ("0x", "0X"):
        s = s[2:]
        r = 16
    valid = _DIGITS[:r]
    end = 0
    for ch in s:
        if ch.lower() not in valid or not ch.isascii():
            break
        end += 1
    if end == 0:
        return math.nan
    digits = s[:end].lstrip("0") or "0"
    if len(digits) > 1100:  # >= 2**1100 in any radix: beyond the largest double
        return -math.inf if negative else math.inf
    return _number(int(digits, r), negative)


def parse_float(string: Any = undefined, *_: Any) -> int | float:
    """parseFloat (§19.2.4): the longest prefix that is a StrDecimalLiteral."""
    s = (string if type(string) is str else to_string(string)).lstrip(JS_WHITESPACE)
    m = _FLOAT_PREFIX.match(s)
    if m is None:
        return math.nan
    text = m.group()
    if text.lstrip("+-") == "Infinity":
        return -math.inf if text[0] == "-" else math.inf
    if text.lstrip("+-").isdigit():
        return _number(int(text.lstrip("+-")), text[0] == "-")
    return float(text)


def is_nan(v: Any = undefined, *_: Any) -> bool:
    n = to_number(v)
    return n != n


def is_finite(v: Any = undefined, *_: Any) -> bool:
    n = to_number(v)
    return type(n) is int or math.isfinite(n)


def repeat(count: Any = undefined, fn: Any = undefined, *_: Any) -> Any:
    """Pipy's repeat(fn) / repeat(count, fn): call fn(0), fn(1)… while it returns truthy, at most
    count times when a count is given (reference §3.1)."""
    if fn is undefined and callable(count):
        fn, limit = count, math.inf
    else:
        limit = to_integer(count)
    if not callable(fn):
        raise type_error(f"{to_string(fn) if fn is undefined else 'argument'} is not a function")
    call: Callable[..., Any] = fn
    i = 0
    while i < limit:
        if not to_boolean(call(i)):
            break
        i += 1
    return undefined


EXPORTS: dict[str, object] = {
    "parseInt": parse_int,
    "parseFloat": parse_float,
    "isNaN": is_nan,
    "isFinite": is_finite,
    "repeat": repeat,
}
