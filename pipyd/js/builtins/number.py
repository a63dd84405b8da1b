"""Number: the constructor-as-conversion, its constants and statics, Number.prototype (§21.1)."""
from __future__ import annotations

import math
import sys
from typing import Any

from pipyd.js import numfmt
from pipyd.js.builtins.boolean import BOOLEAN_PROTO  # noqa: F401  (runtime reads it from here)
from pipyd.js.builtins.classes import BuiltinClass, register_prototype
from pipyd.js.builtins.functions import parse_float, parse_int
from pipyd.js.coerce import to_integer, to_number
from pipyd.js.values import range_error, undefined

MAX_SAFE_INTEGER = 2**53 - 1


def number_call(*args: Any) -> int | float:
    """Number(value): ToNumber; Number() is 0. ``new Number(x)`` gives the primitive too (pipyd has
    no wrapper objects, so typeof is 'number' where engines say 'object')."""
    return to_number(args[0]) if args else 0


def _is_num(v: Any) -> bool:
    t = type(v)
    return t is int or t is float


def is_integer(v: Any = undefined, *_: Any) -> bool:
    if type(v) is int:
        return True
    return type(v) is float and math.isfinite(v) and v.is_integer()


def is_safe_integer(v: Any = undefined, *_: Any) -> bool:
    return is_integer(v) and abs(v) <= MAX_SAFE_INTEGER


def number_is_finite(v: Any = undefined, *_: Any) -> bool:
    return type(v) is int or (type(v) is float and math.isfinite(v))


def number_is_nan(v: Any = undefined, *_: Any) -> bool:
    return type(v) is float and v != v


def _finite_digits(v: Any, method: str, default: int) -> int:
    if v is undefined:
        return default
    f = to_integer(v)
    if f in (math.inf, -math.inf):
        lo = 1 if method == "toPrecision" else 0
        raise range_error(f"{method}() argument must be between {lo} and 100")
    return f


def to_fixed(this: Any, digits: Any = undefined, *_: Any) -> str:
    return numfmt.to_fixed(this, _finite_digits(digits, "toFixed", 0))


def to_precision(this: Any, precision: Any = undefined, *_: Any) -> str:
    if precision is undefined:
        return numfmt.number_to_string(this)
    return numfmt.to_precision(this, _finite_digits(precision, "toPrecision", 0))


def to_exponential(this: Any, digits: Any = undefined, *_: Any) -> str:
    f = None if digits is undefined else to_integer(digits)
    if f in (math.inf, -math.inf) and this == this and abs(this) != math.inf:
        raise range_error("toExponential() argument must be between 0 and 100")
    return numfmt.to_exponential(this, f)  # type: ignore[arg-type]


def number_to_string(this: Any, radix: Any = undefined, *_: Any) -> str:
    if radix is undefined:
        return numfmt.number_to_string(this)
    r = to_integer(radix)
    if r == 10:
        return numfmt.number_to_string(this)
    if not 2 <= r <= 36:
        raise range_error("toString() radix must be between 2 and 36")
    return numfmt.number_to_radix_string(this, r)


def to_locale_string(this: Any, *_: Any) -> str:
    """en-US formatting as Intl would do by default: grouping, at most 3 fraction digits."""
    if this != this:
        return "NaN"
    if this in (math.inf, -math.inf):
        return "-∞" if this < 0 else "∞"
    s = numfmt.to_fixed(this, 3) if abs(this) < 1e21 else numfmt.number_to_string(this)
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    sign = "-" if s.startswith("-") else ""
    s = s.lstrip("-")
    ip, _, fp = s.partition(".")
    ip = f"{int(ip):,}" if ip.isdigit() else ip
    out = sign + ip + ("." + fp if fp else "")
    return "0" if out == "-0" else out


def value_of(this: Any, *_: Any) -> Any:
    return this


NUMBER_PROTO = {
    "toFixed": to_fixed,
    "toPrecision": to_precision,
    "toExponential": to_exponential,
    "toString": number_to_string,
    "toLocaleString": to_locale_string,
    "valueOf": value_of,
}

NUMBER_STATICS: dict[str, Any] = {
    "EPSILON": sys.float_info.epsilon,
    "MAX_SAFE_INTEGER": MAX_SAFE_INTEGER,
    "MIN_SAFE_INTEGER": -MAX_SAFE_INTEGER,
    "MAX_VALUE": sys.float_info.max,
    "MIN_VALUE": 5e-324,
    "NaN": math.nan,
    "POSITIVE_INFINITY": math.inf,
    "NEGATIVE_INFINITY": -math.inf,
    "isInteger": is_integer,
    "isSafeInteger": is_safe_integer,
    "isFinite": number_is_finite,
    "isNaN": number_is_nan,
    "parseFloat": parse_float,
    "parseInt": parse_int,
}

Number = BuiltinClass("Number", number_call, number_call, NUMBER_STATICS, NUMBER_PROTO, ())
register_prototype((int, float), Number)

EXPORTS: dict[str, object] = {"Number": Number}
