"""The Math namespace (ECMA-262 §21.3) with JS results at the edges: NaN instead of Python's
ValueError, ±Infinity instead of OverflowError, -0 kept where the spec keeps it."""
from __future__ import annotations

import math
import random
import struct
from typing import Any, Callable

from pipyd.js.builtins.classes import PristineNamespace
from pipyd.js.coerce import MAX_SAFE, to_int32, to_number, to_numeric_float, to_uint32
from pipyd.js.values import undefined

NaN = math.nan
INF = math.inf


def _integral(x: float) -> int | float:
    """An integral double as pipyd holds it: int when safe and not -0, else the float."""
    if -MAX_SAFE <= x <= MAX_SAFE and not (x == 0 and math.copysign(1, x) < 0):
        return int(x)
    return x


def js_pow(base: Any, exponent: Any) -> int | float:
    """Number::exponentiate (§6.1.6.1.3), shared by Math.pow and the ** operator."""
    b = to_number(base)
    e = to_number(exponent)
    if type(b) is int and type(e) is int and e >= 0 and abs(b).bit_length() * e <= 64:
        r = b ** e
        return r if -MAX_SAFE <= r <= MAX_SAFE else float(r)
    b = float(b)
    e = float(e)
    if e != e:
        return NaN
    if e == 0:
        return 1
    if b != b:
        return NaN
    if abs(b) == 1 and (e == INF or e == -INF):
        return NaN
    odd = e.is_integer() and abs(e) < 2**53 and int(e) % 2 == 1
    try:
        return math.pow(b, e)
    except ZeroDivisionError:
        return -INF if odd and math.copysign(1, b) < 0 else INF
    except ValueError:
        if b == 0:  # pow(±0, negative)
            return -INF if odd and math.copysign(1, b) < 0 else INF
        return NaN  # negative base, fractional exponent
    except OverflowError:
        return -INF if odd and b < 0 else INF


def _unary(fn: Callable[[float], float], on_value_error: Callable[[float], float] | None = None,
           on_overflow: Callable[[float], float] | None = None) -> Callable[..., float]:
    def wrapped(x: Any = undefined, *_: Any) -> float:
        v = to_numeric_float(x)
        try:
            return fn(v)
        except ValueError:
            return on_value_error(v) if on_value_error else NaN
        except OverflowError:
            return on_overflow(v) if on_overflow else math.copysign(INF, v)
    wrapped.__name__ = fn.__name__
    return wrapped


def _log_edge(x: float) -> float:
    return -INF if x == 0 else NaN


def abs_(x: Any = undefined, *_: Any) -> int | float:
    v = to_number(x)
    return abs(v)


def floor(x: Any = undefined, *_: Any) -> int | float:
    t = type(x)
    if t is int:
        return x
    if t is float and -MAX_SAFE < x < MAX_SAFE and x != 0:  # finite, not ±0: an int result
        return math.floor(x)  # |result| <= 2**53, and never -0 (floor(-0.5) is -1)
    v = to_number(x)
    if type(v) is int or v != v or v in (INF, -INF) or v == 0:
        return v
    return _integral(float(math.floor(v)))


def ceil(x: Any = undefined, *_: Any) -> int | float:
    v = to_number(x)
    if type(v) is int or v != v or v in (INF, -INF) or v == 0:
        return v
    r = float(math.ceil(v))
    return -0.0 if r == 0 and v < 0 else _integral(r)


def trunc(x: Any = undefined, *_: Any) -> int | float:
    v = to_number(x)
    if type(v) is int or v != v or v in (INF, -INF) or v == 0:
        return v
    r = float(math.trunc(v))
    return -0.0 if r == 0 and v < 0 else _integral(r)


def round_(x: Any = undefined, *_: Any) -> int | float:
    """Math.round: the nearest integer, .5 rounds up (toward +Infinity); -0.5 <= x < 0 gives -0."""
    v = to_number(x)
    if type(v) is int or v != v or v in (INF, -INF) or v == 0:
        return v
    if abs(v) >= 2**52:
        return _integral(v)
    r = math.floor(v)
    if v - r >= 0.5:  # exact for doubles below 2**52 (no x + 0.5 rounding error)
        r += 1
    if r == 0 and v < 0:
        return -0.0
    return r


def sign(x: Any = undefined, *_: Any) -> int | float:
    v = to_number(x)
    if v != v or v == 0:
        return v
    return 1 if v > 0 else -1


def max_(*args: Any) -> int | float:
    """Math.max: every argument is coerced; any NaN gives NaN; +0 is larger than -0."""
    if len(args) == 2:
        a, b = args
        if type(a) is int and type(b) is int:
            return a if a >= b else b
    best: int | float = -INF
    nan = False
    for a in args:
        v = to_number(a)
        if v != v:
            nan = True
        elif v > best or (v == 0 and best == 0 and math.copysign(1, best) < 0):
            best = v
    return NaN if nan else best


def min_(*args: Any) -> int | float:
    if len(args) == 2:  # the usual Math.min(a, b) on ints: no NaN or -0 rules apply
        a, b = args
        if type(a) is int and type(b) is int:
            return a if a <= b else b
    best: int | float = INF
    nan = False
    for a in args:
        v = to_number(a)
        if v != v:
            nan = True
        elif v < best or (v == 0 and best == 0 and math.copysign(1, v) < 0):
            best = v
    return NaN if nan else best


def pow_(x: Any = undefined, y: Any = undefined, *_: Any) -> int | float:
    return js_pow(x, y)


def hypot(*args: Any) -> float:
    vals = [to_numeric_float(a) for a in args]
    if any(v in (INF, -INF) for v in vals):
        return INF
    try:
        return math.hypot(*vals)
    except OverflowError:
        return INF


def atan2(y: Any = undefined, x: Any = undefined, *_: Any) -> float:
    return math.atan2(to_numeric_float(y), to_numeric_float(x))


def clz32(x: Any = undefined, *_: Any) -> int:
    return 32 - to_uint32(x).bit_length()


def imul(a: Any = undefined, b: Any = undefined, *_: Any) -> int:
    return to_int32(to_int32(a) * to_int32(b))


def fround(x: Any = undefined, *_: Any) -> float:
    v = to_numeric_float(x)
    try:
        return struct.unpack("f", struct.pack("f", v))[0]
    except OverflowError:  # beyond the float32 range rounds to infinity
        return math.copysign(INF, v)


def random_(*_: Any) -> float:
    return random.random()


def _cbrt(v: float) -> float:
    """libm's cbrt can be an ulp off on perfect cubes (cbrt(27) = 3.0000000000000004); engines give 3."""
    r = math.cbrt(v)
    if math.isfinite(r):
        n = round(r)
        if n and n * n * n == v:  # not for ±0: float(0) would lose -0's sign
            return float(n)
    return r


def _sqrt(v: float) -> float:
    return v if v == 0 else math.sqrt(v)  # keeps -0


def _atanh_edge(v: float) -> float:
    return math.copysign(INF, v) if abs(v) == 1 else NaN


def _log1p_edge(v: float) -> float:
    return -INF if v == -1 else NaN


MATH = PristineNamespace({
    "E": math.e, "LN10": math.log(10), "LN2": math.log(2), "LOG10E": 1 / math.log(10),
    "LOG2E": 1 / math.log(2), "PI": math.pi, "SQRT1_2": math.sqrt(0.5), "SQRT2": math.sqrt(2),
    "abs": abs_, "floor": floor, "ceil": ceil, "round": round_, "trunc": trunc, "sign": sign,
    "max": max_, "min": min_, "pow": pow_, "hypot": hypot, "atan2": atan2, "clz32": clz32,
    "imul": imul, "fround": fround, "random": random_,
    "sqrt": _unary(_sqrt), "cbrt": _unary(_cbrt),
    "exp": _unary(math.exp, on_overflow=lambda v: INF), "expm1": _unary(math.expm1, on_overflow=lambda v: INF),
    "log": _unary(math.log, _log_edge), "log2": _unary(math.log2, _log_edge),
    "log10": _unary(math.log10, _log_edge), "log1p": _unary(math.log1p, _log1p_edge),
    "sin": _unary(math.sin), "cos": _unary(math.cos), "tan": _unary(math.tan),
    "asin": _unary(math.asin), "acos": _unary(math.acos), "atan": _unary(math.atan),
    "sinh": _unary(math.sinh), "cosh": _unary(math.cosh, on_overflow=lambda v: INF), "tanh": _unary(math.tanh),
    "asinh": _unary(math.asinh), "acosh": _unary(math.acosh), "atanh": _unary(math.atanh, _atanh_edge),
})

EXPORTS: dict[str, object] = {"Math": MATH}
