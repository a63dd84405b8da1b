"""Date (ECMAScript 2020 §20.4): time values, local/UTC fields, parsing and string forms.

A Date is a ``JSDate`` (a plain slotted class, ``typeof`` 'object'); its methods are ``DATE_PROTO``
found by the runtime through ``PROTO_BY_TYPE``. ``tv`` is the time value: an ``int`` count of
milliseconds since 1970-01-01T00:00:00Z within ±8.64e15 (TimeClip, §20.4.1.14), or ``NaN`` for an
invalid date. Calendar arithmetic is proleptic Gregorian on day numbers (no ``datetime``, whose
years stop at 9999); the local offset comes from the C library (``time.localtime``), so TZ rules
are the machine's, as in V8.
"""
from __future__ import annotations

import math
import re
import time
from typing import Any, Callable

from pipyd.js import runtime
from pipyd.js.builtins.classes import BuiltinClass, register_prototype
from pipyd.js.coerce import to_number, to_primitive, to_string
from pipyd.js.values import range_error, undefined

NaN = math.nan
MS_PER_DAY = 86400000
_MAX_TIME = 8.64e15
_DAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


class JSDate:
    """A Date instance; ``js_default_hint`` makes ``date + ''`` use toString (§20.4.4.45)."""

    __slots__ = ("tv", "__weakref__")
    js_default_hint = "string"

    def __init__(self, tv: int | float) -> None:
        self.tv = tv

    def __repr__(self) -> str:
        return f"<Date {date_to_iso_string(self) if self.tv == self.tv else 'Invalid Date'}>"


# -- day arithmetic (days_from_civil / civil_from_days: era-based, exact for any int) ----------

def days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (month 1..12)."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468


def civil_from_days(z: int) -> tuple[int, int, int]:
    """(year, month 1..12, day) of a day number."""
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (m <= 2), m, d


def fields(t: int) -> list[int]:
    """[year, month 0..11, date, hours, minutes, seconds, ms, weekday] of a time value."""
    day, ms = divmod(t, MS_PER_DAY)
    y, m, d = civil_from_days(day)
    return [y, m - 1, d, ms // 3600000, ms // 60000 % 60, ms // 1000 % 60, ms % 1000, (day + 4) % 7]


def make_date(f: list[Any]) -> float | int:
    """MakeDate(MakeDay(y, m, d), MakeTime(h, min, s, ms)) (§20.4.1.11–13) of numbers."""
    for x in f:
        if type(x) is float and (x != x or x in (math.inf, -math.inf)):
            return NaN
    y, mo, d, h, mi, s, ms = (int(x) for x in f)  # ToIntegerOrInfinity truncates
    y += mo // 12
    if abs(y) > 400000:  # far outside TimeClip's range; spare the big-int work
        return NaN
    day = days_from_civil(y, mo % 12 + 1, 1) + d - 1
    return day * MS_PER_DAY + h * 3600000 + mi * 60000 + s * 1000 + ms


def time_clip(t: float | int) -> float | int:
    """TimeClip (§20.4.1.14): NaN outside ±8.64e15, else an integer (never -0)."""
    if t != t or abs(t) > _MAX_TIME:
        return NaN
    return int(t)


# -- local time (§20.4.1.7 LocalTZA) ---------------------------------------------------------

_SAFE_SECONDS = (-62135596800, 253402300799)  # years 1..9999, where the C library answers


def _offset_ms(utc_ms: int) -> int:
    sec = min(max(utc_ms // 1000, _SAFE_SECONDS[0]), _SAFE_SECONDS[1])
    return time.localtime(sec).tm_gmtoff * 1000


def local_time(t: int) -> int:
    return t + _offset_ms(t)


def utc_from_local(t: float | int) -> float | int:
    """UTC(t) (§20.4.1.9): the offset is the one in force at the guessed instant."""
    if t != t:
        return t
    t = int(t)
    return t - _offset_ms(t - _offset_ms(t))


def _zone(t: int) -> tuple[str, str]:
    """('+0100', 'CET') for toString's ``GMT+0100 (CET)``."""
    sec = min(max(t // 1000, _SAFE_SECONDS[0]), _SAFE_SECONDS[1])
    lt = time.localtime(sec)
    off = lt.tm_gmtoff // 60
    sign = "+" if off >= 0 else "-"
    off = abs(off)
    return f"{sign}{off // 60:02d}{off % 60:02d}", lt.tm_zone or "UTC"


def _year(y: int) -> str:
    return f"{y:04d}" if y >= 0 else f"-{-y:04d}"


# -- Date.parse (§20.4.3.2): the ISO format (§20.4.1.15), then the forms engines print ---------

_ISO = re.compile(r"([+-]\d{6}|\d{4})(?:-(\d\d)(?:-(\d\d))?)?"
                  r"(?:[T ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d+))?)?)?(Z|[+-]\d\d:?\d\d)?\Z", re.I | re.A)
_LEGACY_TOKEN = re.compile(r"\([^)]*\)|([A-Za-z]+)\.?|(\d+):(\d+)(?::(\d+)(?:\.(\d+))?)?"
                           r"|([+-])(\d\d):?(\d\d)|(\d+)|[\s,/.-]+", re.A)
_MONTH_INDEX = {m.lower(): i for i, m in enumerate(_MONTHS)}
_DAY_NAMES = frozenset(d.lower() for d in _DAYS)


def parse_date(s: str) -> float | int:
    s = s.strip()
    m = _ISO.match(s)
    if m is not None:
        return _parse_iso(m)
    return _parse_legacy(s)


def _offset_minutes(text: str) -> int:
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return sign * (int(digits[:2]) * 60 + int(digits[2:]))


def _valid(y: int, mo: int, d: int, h: int, mi: int, sec: int, ms: int) -> bool:
    if not (1 <= mo <= 12 and 1 <= d <= 31 and mi <= 59 and sec <= 59):
        return False
    if h > 24 or (h == 24 and (mi or sec or ms)):
        return False
    return d <= days_from_civil(y + (mo == 12), mo % 12 + 1, 1) - days_from_civil(y, mo, 1)


def _parse_iso(m: re.Match[str]) -> float | int:
    year_text, mo, d, h, mi, sec, frac, zone = m.groups()
    if year_text == "-000000":
        return NaN  # §20.4.1.15.1: -0 is not a valid extended year
    y = int(year_text)
    f = [y, int(mo or 1), int(d or 1), int(h or 0), int(mi or 0), int(sec or 0), int((frac or "0")[:3].ljust(3, "0"))]
    if not _valid(*f):
        return NaN
    t = make_date([f[0], f[1] - 1, *f[2:]])
    if zone is not None:
        t = t if zone in ("Z", "z") else t - _offset_minutes(zone) * 60000
    elif h is not None:
        t = utc_from_local(t)  # date-time forms without an offset are local time, date-only are UTC
    return time_clip(t)


def _parse_legacy(s: str) -> float | int:
    month = hour = offset = ampm = None
    minute = sec = ms = 0
    nums: list[str] = []
    pos = 0
    while pos < len(s):
        m = _LEGACY_TOKEN.match(s, pos)
        if m is None:
            return NaN
        pos = m.end()
        word, th, tm, ts, tms, sign, oh, om, num = m.groups()
        if word is not None:
            w = word.lower()
            if w[:3] in _MONTH_INDEX and month is None:
                month = _MONTH_INDEX[w[:3]]
            elif w in ("am", "pm"):
                ampm = w
            elif w in ("gmt", "utc", "ut", "z"):
                offset = 0
            elif w[:3] not in _DAY_NAMES and w != "t":
                return NaN
        elif th is not None:
            hour, minute, sec = int(th), int(tm), int(ts or 0)
            ms = int((tms or "0")[:3].ljust(3, "0"))
        elif sign is not None and (hour is not None or offset is not None):
            offset = (1 if sign == "+" else -1) * (int(oh) * 60 + int(om))
        elif num is not None:
            nums.append(num)
        elif sign is not None:
            nums.append(oh + om)
    if month is not None:
        if len(nums) == 2:
            first_is_year = len(nums[0]) >= 3 or int(nums[0]) > 31
            y, d = (nums[0], nums[1]) if first_is_year else (nums[1], nums[0])
        elif len(nums) == 1 and (len(nums[0]) >= 3 or int(nums[0]) > 31):
            y, d = nums[0], "1"
        else:
            return NaN
        mo = month + 1
    elif len(nums) == 3:
        if len(nums[0]) >= 3:
            y, mo, d = nums[0], int(nums[1]), nums[2]
        else:
            mo, d, y = int(nums[0]), nums[1], nums[2]
    else:
        return NaN
    year = int(y)
    if len(y) <= 2:
        year += 2000 if year < 50 else 1900  # two-digit years, as V8's legacy parser
    h = hour or 0
    if ampm is not None:
        if h > 12:
            return NaN
        h = h % 12 + (12 if ampm == "pm" else 0)
    if not _valid(year, mo, int(d), h, minute, sec, ms):
        return NaN
    t = make_date([year, mo - 1, int(d), h, minute, sec, ms])
    return time_clip(utc_from_local(t) if offset is None else t - offset * 60000)


# -- constructor (§20.4.2) -------------------------------------------------------------------

def now_ms() -> int:
    return time.time_ns() // 1000000


def _args_to_fields(args: tuple[Any, ...]) -> list[Any]:
    f: list[Any] = [NaN, 0, 1, 0, 0, 0, 0]
    for i, a in enumerate(args[:7]):
        f[i] = to_number(a)
    y = f[0]
    if y == y and y not in (math.inf, -math.inf) and 0 <= int(y) <= 99:
        f[0] = 1900 + int(y)  # two-digit years are 19xx (§20.4.2.1 step 3.h)
    return f


def construct_date(*args: Any) -> JSDate:
    if not args:
        return JSDate(now_ms())
    if len(args) == 1:
        v = args[0]
        if type(v) is JSDate:
            return JSDate(v.tv)
        v = to_primitive(v)
        if type(v) is str:
            return JSDate(parse_date(v))
        return JSDate(time_clip(to_number(v)))
    return JSDate(time_clip(utc_from_local(make_date(_args_to_fields(args)))))


def call_date(*_: Any) -> str:
    """``Date()`` without new ignores its arguments and returns the current time as a string."""
    return date_to_string(JSDate(now_ms()))


def date_utc(*args: Any) -> float | int:
    """Date.UTC (§20.4.3.4); with no argument the year is NaN."""
    return time_clip(make_date(_args_to_fields(args)))


def date_parse(s: Any = undefined, *_: Any) -> float | int:
    return parse_date(to_string(s))


# -- getters ---------------------------------------------------------------------------------

def _getter(index: int, utc: bool) -> Callable[..., Any]:
    def get(this: JSDate, *_: Any) -> Any:
        t = this.tv
        if t != t:
            return NaN
        return fields(t if utc else local_time(t))[index]
    return get


def date_get_time(this: JSDate, *_: Any) -> Any:
    return this.tv


def date_get_timezone_offset(this: JSDate, *_: Any) -> Any:
    t = this.tv
    if t != t:
        return NaN
    off = -_offset_ms(t)
    return off // 60000 if off % 60000 == 0 else off / 60000


def date_get_year(this: JSDate, *_: Any) -> Any:
    t = this.tv
    return NaN if t != t else fields(local_time(t))[0] - 1900


# -- setters (§20.4.4.20–28): replace some fields, rebuild, TimeClip --------------------------

def _setter(first: int, count: int, utc: bool) -> Callable[..., Any]:
    def set_fields(this: JSDate, *args: Any) -> Any:
        nums = [to_number(a) for a in args[:count]] or [NaN]
        t = this.tv
        if t != t:
            if first != 0:
                return NaN  # only setFullYear revives an invalid date (from +0)
            t = 0
        elif not utc:
            t = local_time(t)
        f: list[Any] = fields(t)[:7]
        f[first:first + len(nums)] = nums
        new = make_date(f)
        this.tv = time_clip(new if utc else utc_from_local(new))
        return this.tv
    return set_fields


def date_set_time(this: JSDate, t: Any = undefined, *_: Any) -> Any:
    this.tv = time_clip(to_number(t))
    return this.tv


# -- string forms (§20.4.4.35–41) ------------------------------------------------------------

def _date_part(f: list[int]) -> str:
    return f"{_DAYS[f[7]]} {_MONTHS[f[1]]} {f[2]:02d} {_year(f[0])}"


def _time_part(f: list[int], t: int) -> str:
    offset, name = _zone(t)
    return f"{f[3]:02d}:{f[4]:02d}:{f[5]:02d} GMT{offset} ({name})"


def date_to_string(this: JSDate, *_: Any) -> str:
    t = this.tv
    if t != t:
        return "Invalid Date"
    f = fields(local_time(t))
    return _date_part(f) + " " + _time_part(f, t)


def date_to_date_string(this: JSDate, *_: Any) -> str:
    t = this.tv
    return "Invalid Date" if t != t else _date_part(fields(local_time(t)))


def date_to_time_string(this: JSDate, *_: Any) -> str:
    t = this.tv
    return "Invalid Date" if t != t else _time_part(fields(local_time(t)), t)


def date_to_utc_string(this: JSDate, *_: Any) -> str:
    t = this.tv
    if t != t:
        return "Invalid Date"
    f = fields(t)
    return f"{_DAYS[f[7]]}, {f[2]:02d} {_MONTHS[f[1]]} {_year(f[0])} {f[3]:02d}:{f[4]:02d}:{f[5]:02d} GMT"


def date_to_iso_string(this: JSDate, *_: Any) -> str:
    t = this.tv
    if t != t:
        raise range_error("Invalid time value")
    f = fields(t)
    y = f[0]
    year = f"{y:04d}" if 0 <= y <= 9999 else f"{'+' if y > 0 else '-'}{abs(y):06d}"
    return f"{year}-{f[1] + 1:02d}-{f[2]:02d}T{f[3]:02d}:{f[4]:02d}:{f[5]:02d}.{f[6]:03d}Z"


def date_to_json(this: JSDate, *_: Any) -> Any:
    return None if this.tv != this.tv else date_to_iso_string(this)


# toLocale*String: a fixed en-US form ("1/2/2024, 3:04:05 PM"), as Node prints with no locale set.
def _locale_date(f: list[int]) -> str:
    return f"{f[1] + 1}/{f[2]}/{f[0]}"


def _locale_time(f: list[int]) -> str:
    h = f[3] % 12 or 12
    return f"{h}:{f[4]:02d}:{f[5]:02d} {'AM' if f[3] < 12 else 'PM'}"


def _locale(fmt: Callable[[list[int]], str]) -> Callable[..., str]:
    def to_locale(this: JSDate, *_: Any) -> str:
        t = this.tv
        return "Invalid Date" if t != t else fmt(fields(local_time(t)))
    return to_locale


DATE_PROTO: dict[str, Callable[..., Any]] = {
    "getTime": date_get_time,
    "valueOf": date_get_time,
    "getTimezoneOffset": date_get_timezone_offset,
    "getYear": date_get_year,
    "setTime": date_set_time,
    "toString": date_to_string,
    "toDateString": date_to_date_string,
    "toTimeString": date_to_time_string,
    "toUTCString": date_to_utc_string,
    "toGMTString": date_to_utc_string,
    "toISOString": date_to_iso_string,
    "toJSON": date_to_json,
    "toLocaleString": _locale(lambda f: _locale_date(f) + ", " + _locale_time(f)),
    "toLocaleDateString": _locale(_locale_date),
    "toLocaleTimeString": _locale(_locale_time),
}
for _i, _name in enumerate(("FullYear", "Month", "Date", "Hours", "Minutes", "Seconds", "Milliseconds", "Day")):
    DATE_PROTO["get" + _name] = _getter(_i, False)
    DATE_PROTO["getUTC" + _name] = _getter(_i, True)
    if _name != "Day":
        _count = (3, 2, 1, 4, 3, 2, 1)[_i]
        DATE_PROTO["set" + _name] = _setter(_i, _count, False)
        DATE_PROTO["setUTC" + _name] = _setter(_i, _count, True)

DATE_CLASS = BuiltinClass("Date", call_date, construct_date, proto_methods=DATE_PROTO,
                          statics={"now": now_ms, "parse": date_parse, "UTC": date_utc},
                          instance_types=(JSDate,), length=7)
register_prototype((JSDate,), DATE_CLASS)
runtime.PROTO_BY_TYPE[JSDate] = DATE_PROTO

EXPORTS: dict[str, object] = {"Date": DATE_CLASS}
