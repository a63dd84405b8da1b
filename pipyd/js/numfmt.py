"""ECMAScript number formatting: Number::toString, toString(radix), toFixed, toPrecision, toExponential.

Digits come from Python's ``repr(float)``, which is the shortest string that round-trips, the same
digits ECMAScript asks for in Number::toString (ECMA-262 §6.1.6.1.20); only the layout differs.
toFixed/toPrecision/toExponential round the *exact* binary value (Decimal(float) is exact), ties to
the larger n as the spec says (§21.1.3.3, .5, .2), which is ROUND_HALF_UP on the magnitude.
"""
from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Context, Decimal

from pipyd.js.values import range_error

_DIGITS36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_CTX = Context(prec=1200, rounding=ROUND_HALF_UP)  # 1200 digits hold any double exactly


def shortest_digits(x: float) -> tuple[str, int]:
    """For finite x > 0: (digits without trailing zeros, n) with x = 0.digits × 10**n (spec's k, n)."""
    s = repr(x)
    e = 0
    if "e" in s:
        s, exp = s.split("e")
        e = int(exp)
    if "." in s:
        ip, fp = s.split(".")
    else:
        ip, fp = s, ""
    digits = ip + fp
    n = len(ip) + e
    stripped = digits.lstrip("0")
    n -= len(digits) - len(stripped)
    return stripped.rstrip("0"), n


def number_to_string(x: float | int) -> str:
    """Number::toString(x) (§6.1.6.1.20)."""
    if type(x) is int:
        return str(x)
    if x != x:
        return "NaN"
    if x == 0:
        return "0"  # also -0
    if x < 0:
        return "-" + number_to_string(-x)
    if x == math.inf:
        return "Infinity"
    if x.is_integer() and x <= 9007199254740992.0:
        return str(int(x))
    digits, n = shortest_digits(x)
    k = len(digits)
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    e = n - 1
    exp = ("e+" if e >= 0 else "e-") + str(abs(e))
    if k == 1:
        return digits + exp
    return digits[0] + "." + digits[1:] + exp


def _int_to_radix(i: int, radix: int) -> str:
    if i == 0:
        return "0"
    out = []
    while i:
        i, r = divmod(i, radix)
        out.append(_DIGITS36[r])
    return "".join(reversed(out))


def _float_int_to_radix(integer: float, radix: int) -> str:
    """The integer part as V8 writes it: exact below 2**53 * radix; above, the value is divided
    down in doubles and the dropped places are written as zeros (so 1e21.toString(36) ends in 0s)."""
    zeros = 0
    while integer / radix >= 2.0**53:
        integer /= radix
        zeros += 1
    out = []
    while True:
        rem = math.fmod(integer, radix)
        out.append(_DIGITS36[int(rem)])
        integer = (integer - rem) / radix
        if integer <= 0:
            break
    return "".join(reversed(out)) + "0" * zeros


def number_to_radix_string(x: float | int, radix: int) -> str:
    """Number.prototype.toString(radix) for 2 <= radix <= 36, radix != 10.

    The fraction is produced as V8 does: digits until the remaining fraction is below half the
    distance to the next double, rounding the last digit, so 0.5.toString(2) is '0.1' and
    (0.1).toString(3) matches engines.
    """
    if type(x) is int:
        return ("-" if x < 0 else "") + _int_to_radix(abs(x), radix)
    if x != x:
        return "NaN"
    if x in (math.inf, -math.inf):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    x = abs(x)
    integer = math.floor(x)
    fraction = x - integer
    delta = max(0.5 * (math.nextafter(x, math.inf) - x), math.nextafter(0.0, 1.0))
    frac_digits: list[int] = []
    if fraction >= delta:
        while True:
            fraction *= radix
            delta *= radix
            digit = int(fraction)
            frac_digits.append(digit)
            fraction -= digit
            if fraction > 0.5 or (fraction == 0.5 and (digit & 1)):
                if fraction + delta > 1:
                    # round up, carrying into earlier digits (and the integer part) as needed
                    i = len(frac_digits) - 1
                    while True:
                        if i < 0:
                            integer += 1
                            break
                        if frac_digits[i] + 1 < radix:
                            frac_digits[i] += 1
                            del frac_digits[i + 1:]
                            break
                        i -= 1
                    if i < 0:
                        frac_digits = []
                    break
            if fraction < delta:
                break
    out = sign + _float_int_to_radix(float(integer), radix)
    if frac_digits:
        out += "." + "".join(_DIGITS36[d] for d in frac_digits)
    return out


def _check_digits(f: int, lo: int, method: str) -> None:
    if f < lo or f > 100:
        raise range_error(f"{method}() argument must be between {lo} and 100")


def to_fixed(x: float | int, f: int) -> str:
    """Number.prototype.toFixed(f) (§21.1.3.3); f already ToIntegerOrInfinity'd."""
    _check_digits(f, 0, "toFixed")
    if x != x:
        return "NaN"
    if abs(x) >= 1e21:
        return number_to_string(x)
    sign = "-" if x < 0 else ""
    d = Decimal(abs(x)).quantize(Decimal(1).scaleb(-f), rounding=ROUND_HALF_UP, context=_CTX)
    return sign + f"{d:f}"


def _round_sig(x: float, p: int) -> tuple[str, int]:
    """x > 0 rounded to p significant digits (ties up): (p digits, e) with x ≈ d.ddd × 10**e."""
    d = Decimal(x)
    e = d.adjusted()
    q = d.quantize(Decimal(1).scaleb(e - p + 1), rounding=ROUND_HALF_UP, context=_CTX)
    digits = str(int(q.scaleb(p - 1 - e, context=_CTX)))
    if len(digits) > p:  # 9.99 -> 10.0: one more digit, exponent up
        digits = digits[:p]
        e += 1
    return digits, e


def to_exponential(x: float | int, f: int | None) -> str:
    """Number.prototype.toExponential(f) (§21.1.3.2); f None means 'as many digits as needed'."""
    if x != x:
        return "NaN"
    sign = "-" if x < 0 else ""
    x = abs(x)
    if x == math.inf:
        return sign + "Infinity"
    if f is not None:
        _check_digits(f, 0, "toExponential")
    if x == 0:
        digits, e = "0" * ((f or 0) + 1), 0
    elif f is None:
        digits, n = shortest_digits(float(x))
        e = n - 1
    else:
        digits, e = _round_sig(float(x), f + 1)
    m = digits if len(digits) == 1 else digits[0] + "." + digits[1:]
    return sign + m + ("e+" if e >= 0 else "e-") + str(abs(e))


def to_precision(x: float | int, p: int) -> str:
    """Number.prototype.toPrecision(p) (§21.1.3.5); p already ToIntegerOrInfinity'd."""
    if x != x:
        return "NaN"
    sign = "-" if x < 0 else ""
    x = abs(x)
    if x == math.inf:
        return sign + "Infinity"
    _check_digits(p, 1, "toPrecision")
    if x == 0:
        digits, e = "0" * p, 0
    else:
        digits, e = _round_sig(float(x), p)
    if e < -6 or e >= p:
        m = digits if p == 1 else digits[0] + "." + digits[1:]
        return sign + m + ("e+" if e >= 0 else "e-") + str(abs(e))
    if e == p - 1:
        return sign + digits
    if e >= 0:
        return sign + digits[:e + 1] + "." + digits[e + 1:]
    return sign + "0." + "0" * (-(e + 1)) + digits
