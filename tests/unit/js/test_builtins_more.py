"""Date, Map/Set, Error kinds, console and the URI functions, called from Python."""
from __future__ import annotations

import math
import os
import time
from typing import Iterator

import pytest

from pipyd.js import runtime as rt
from pipyd.js.builtins import console, date, error, mapset, uri
from pipyd.js.values import JSArray, JSErrorObject, JSObject, JSThrow, range_error, type_error, undefined

Date = date.DATE_CLASS
Map, Set = mapset.MAP_CLASS, mapset.SET_CLASS


@pytest.fixture
def tz() -> Iterator[None]:
    """Run a test in America/New_York, then restore the machine's zone."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = "America/New_York"
    time.tzset()
    yield
    if old is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = old
    time.tzset()


def call(obj, name, *args):
    return rt.call_method(obj, name, *args)


# -- Date ------------------------------------------------------------------------------------

def test_date_utc_fields_and_iso() -> None:
    d = Date.construct(Date.get("UTC")(2024, 1, 29, 13, 4, 5, 6))
    assert call(d, "toISOString") == "2024-02-29T13:04:05.006Z"
    assert [call(d, "getUTC" + n) for n in ("FullYear", "Month", "Date", "Day", "Hours", "Minutes",
                                            "Seconds", "Milliseconds")] == [2024, 1, 29, 4, 13, 4, 5, 6]
    assert call(d, "toUTCString") == "Thu, 29 Feb 2024 13:04:05 GMT"
    assert call(d, "toJSON") == "2024-02-29T13:04:05.006Z"
    assert call(d, "getTime") == call(d, "valueOf") == 1709211845006


@pytest.mark.parametrize("text,expected", [
    ("1970-01-01T00:00:00Z", 0),
    ("2020-01-02", 1577923200000),
    ("2020-01", 1577836800000),
    ("2020-01-02T03:04:05.678Z", 1577934245678),
    ("2020-01-02T03:04:05.6789Z", 1577934245678),
    ("2020-01-02T03:04:05+01:00", 1577930645000),
    ("+275760-09-13T00:00:00.000Z", 8.64e15),
    ("+275760-09-13T00:00:00.001Z", math.nan),
    ("-000001-01-01T00:00:00Z", -62198755200000),
    ("-000000-01-01T00:00:00Z", math.nan),
    ("2019-02-29", math.nan),
    ("2020-13-01", math.nan),
    ("2020-01-01T24:00:00Z", 1577923200000),
    ("Thu, 01 Jan 1970 00:00:00 GMT", 0),
    ("Tue Nov 14 2023 22:13:20 GMT+0000 (Coordinated Universal Time)", 1700000000000),
    ("Tue Nov 14 2023 23:13:20 GMT+0100", 1700000000000),
    ("not a date", math.nan),
])
def test_date_parse(text: str, expected: float) -> None:
    got = Date.get("parse")(text)
    assert (math.isnan(got) and math.isnan(expected)) if expected != expected else got == expected


def test_invalid_dates() -> None:
    d = Date.construct("nope")
    assert math.isnan(call(d, "getTime")) and math.isnan(call(d, "getUTCFullYear"))
    assert call(d, "toString") == "Invalid Date" and call(d, "toJSON") is None
    with pytest.raises(JSThrow) as info:
        call(d, "toISOString")
    assert info.value.value.name == "RangeError"
    assert math.isnan(call(d, "setUTCHours", 1))          # stays invalid
    call(d, "setUTCFullYear", 2000)                         # revives from +0
    assert call(d, "toISOString") == "2000-01-01T00:00:00.000Z"
    assert math.isnan(Date.construct(8.64e15 + 1).tv)
    assert math.isnan(Date.get("UTC")())


def test_utc_setters_overflow_into_next_fields() -> None:
    d = Date.construct(0)
    assert call(d, "setUTCMonth", 13, 31) == Date.get("UTC")(1971, 2, 3)
    call(d, "setUTCHours", 25, 61, 61, 1001)
    assert call(d, "toISOString") == "1971-03-04T02:02:02.001Z"
    call(d, "setUTCDate", 0)
    assert call(d, "toISOString") == "1971-02-28T02:02:02.001Z"
    call(d, "setTime", "86400000")
    assert call(d, "getTime") == 86400000


def test_date_constructor_forms() -> None:
    before = Date.get("now")()
    now = Date.construct()
    assert before <= now.tv <= Date.get("now")()
    assert Date.construct(Date.construct(5)).tv == 5
    assert Date.get("UTC")(99, 0) == Date.get("UTC")(1999, 0)  # two-digit years are 19xx
    assert type(Date()) is str and rt.typeof(now) == "object"
    assert rt.instanceof(now, Date)


def test_date_coercion() -> None:
    d = Date.construct(1000)
    assert rt.sub(d, 0) == 1000
    assert rt.add(d, "").startswith(call(d, "toString"))  # the default hint is string for Dates
    assert rt.lt(Date.construct(1), d)


def test_local_time(tz: None) -> None:
    d = Date.construct(2020, 6, 1, 12, 30)
    assert call(d, "toISOString") == "2020-07-01T16:30:00.000Z"
    assert call(d, "getTimezoneOffset") == 240
    assert call(d, "getHours") == 12 and call(d, "getUTCHours") == 16
    assert call(d, "toString") == "Wed Jul 01 2020 12:30:00 GMT-0400 (EDT)"
    assert call(d, "toDateString") == "Wed Jul 01 2020"
    assert call(d, "toTimeString") == "12:30:00 GMT-0400 (EDT)"
    assert call(d, "toLocaleString") == "7/1/2020, 12:30:00 PM"
    assert call(Date.construct(2020, 0, 1), "getTimezoneOffset") == 300
    assert Date.get("parse")("2020-07-01T00:00") == Date.get("parse")("2020-07-01T04:00Z")
    call(d, "setHours", 0)
    assert call(d, "toISOString") == "2020-07-01T04:30:00.000Z"


# -- Map / Set -------------------------------------------------------------------------------

def test_map_same_value_zero_keys() -> None:
    m = Map.construct()
    key = JSObject()
    call(m, "set", math.nan, "nan")
    call(m, "set", -0.0, "zero")
    call(m, "set", 1, "one")
    call(m, "set", "1", "string one")
    call(m, "set", True, "true")
    call(m, "set", key, "obj")
    assert call(m, "get", math.nan) == "nan"
    assert call(m, "get", 0) == "zero" and call(m, "get", 1.0) == "one"
    assert call(m, "get", "1") == "string one" and call(m, "get", True) == "true"
    assert call(m, "get", key) == "obj" and call(m, "get", JSObject()) is undefined
    assert rt.get(m, "size") == 6
    keys = call(m, "keys")
    assert math.isnan(keys[0]) and keys[1] == 0 and type(keys[1]) is int
    assert call(m, "delete", "1") and not call(m, "has", "1") and not call(m, "delete", "1")
    assert call(m, "set", 1, "uno") is m and list(call(m, "values"))[2] == "uno"
    call(m, "clear")
    assert rt.get(m, "size") == 0


def test_map_construct_and_iterate() -> None:
    m = Map.construct(JSArray([JSArray(["a", 1]), JSArray(["b", 2]), JSArray(["a", 3])]))
    assert [list(e) for e in call(m, "entries")] == [["a", 3], ["b", 2]]
    assert [list(e) for e in rt.iterate(m)] == [["a", 3], ["b", 2]]
    seen = []
    call(m, "forEach", lambda v, k, mm: seen.append((k, v, mm is m)))
    assert seen == [("a", 3, True), ("b", 2, True)]
    with pytest.raises(JSThrow):
        Map.construct(JSArray([1]))
    with pytest.raises(JSThrow):
        Map("called without new")


def test_for_each_sees_live_changes() -> None:
    s = Set.construct(JSArray([1, 2, 3]))
    seen = []

    def visit(v, *_):
        seen.append(v)
        if v == 1:
            call(s, "delete", 2)
            call(s, "add", 4)
    call(s, "forEach", visit)
    assert seen == [1, 3, 4]


def test_set() -> None:
    s = Set.construct("hello")
    assert list(call(s, "values")) == ["h", "e", "l", "o"] and rt.get(s, "size") == 4
    s2 = Set.construct(JSArray([math.nan, math.nan, 0, -0.0, "0"]))
    assert rt.get(s2, "size") == 3 and call(s2, "has", math.nan)
    assert [list(e) for e in call(s2, "entries")][2] == ["0", "0"]
    assert call(s, "add", "z") is s and list(rt.iterate(s))[-1] == "z"
    assert rt.instanceof(s, Set) and not rt.instanceof(s, Map)


# -- Error -----------------------------------------------------------------------------------

def test_error_kinds_and_instanceof() -> None:
    Error, TypeError = error.EXPORTS["Error"], error.EXPORTS["TypeError"]
    e = TypeError("bad")
    assert isinstance(e, JSErrorObject) and (e.name, e.message) == ("TypeError", "bad")
    assert rt.instanceof(e, TypeError) and rt.instanceof(e, Error)
    assert not rt.instanceof(e, error.EXPORTS["RangeError"])
    assert not rt.instanceof(Error("x"), TypeError)
    assert rt.instanceof(type_error("from runtime").value, TypeError)
    assert rt.instanceof(range_error("r").value, error.EXPORTS["RangeError"])
    assert rt.get(e, "stack").startswith("TypeError: bad")
    assert call(e, "toString") == "TypeError: bad"
    assert call(Error.construct(), "toString") == "Error"
    assert rt.get(Error.construct(undefined), "message") == ""


def test_error_cause_and_to_string_generic() -> None:
    Error = error.EXPORTS["Error"]
    e = Error.construct("outer", JSObject(cause="inner"))
    assert rt.get(e, "cause") == "inner"
    assert "cause" not in Error.construct("x", JSObject())
    assert error.error_to_string(JSObject(name="N", message="m")) == "N: m"
    assert error.error_to_string(JSObject(name="", message="m")) == "m"
    with pytest.raises(JSThrow):
        error.error_to_string(1)


# -- console ---------------------------------------------------------------------------------

def test_console_sink_and_format() -> None:
    lines = []
    console.set_console_sink(lambda level, text: lines.append((level, text)))
    try:
        log = console.CONSOLE
        log["log"]("a", 1, JSObject(k="v", n=JSArray([1, "x"])), None, undefined)
        log["warn"](JSArray())
        log["error"](error.EXPORTS["Error"]("boom"))
        log["debug"](Map.construct(JSArray([JSArray(["k", 1])])), Set.construct(JSArray([1])))
        log["info"](JSObject(**{"a-b": JSObject(c=JSObject(d=JSObject(e=1)))}))
    finally:
        console.set_console_sink(None)
    assert lines == [
        ("INF", "a 1 { k: 'v', n: [ 1, 'x' ] } null undefined"),
        ("WRN", "[]"),
        ("ERR", "Error: boom"),
        ("DBG", "Map(1) { 'k' => 1 } Set(1) { 1 }"),
        ("INF", "{ 'a-b': { c: { d: [Object] } } }"),
    ]


def test_console_default_sink_format(capsys: pytest.CaptureFixture[str]) -> None:
    console.CONSOLE["log"]("hello", 2)
    err = capsys.readouterr().err
    assert err.endswith(" [INF] hello 2\n") and err[4] == "-" and err[19] == "."


# -- URI -------------------------------------------------------------------------------------

def test_uri_round_trips() -> None:
    s = "a b&c/d?e=é😀;#"
    assert uri.encode_uri_component(s) == "a%20b%26c%2Fd%3Fe%3D%C3%A9%F0%9F%98%80%3B%23"
    assert uri.encode_uri(s) == "a%20b&c/d?e=%C3%A9%F0%9F%98%80;#"
    assert uri.decode_uri_component(uri.encode_uri_component(s)) == s
    assert uri.decode_uri("%3B%2F%20") == "%3B%2F "     # reserved escapes stay encoded
    assert uri.encode_uri_component("-_.!~*'()") == "-_.!~*'()"
    assert uri.encode_uri_component(1.5) == "1.5" and uri.encode_uri_component() == "undefined"


@pytest.mark.parametrize("bad", ["%", "%2", "%zz", "%E2%82", "%C0%80", "%ED%A0%80", "%FF", "%80", "%E2%28%A1"])
def test_uri_malformed(bad: str) -> None:
    with pytest.raises(JSThrow) as info:
        uri.decode_uri_component(bad)
    assert (info.value.value.name, info.value.value.message) == ("URIError", "URI malformed")


def test_uri_lone_surrogate_and_escape() -> None:
    with pytest.raises(JSThrow):
        uri.encode_uri_component("\ud800")
    assert uri.escape("a b+é😀") == "a%20b+%E9%uD83D%uDE00"
    assert uri.unescape("a%20b+%E9%uD83D%uDE00") == "a b+é😀"
