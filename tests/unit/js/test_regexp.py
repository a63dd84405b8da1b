"""JS regular expressions: translation to Python re, RegExp objects, String pattern methods."""
from __future__ import annotations

import pytest

from pipyd.js import runtime as rt
from pipyd.js.builtins import string_regex as sr
from pipyd.js.builtins.regexp import EXPORTS, JSMatch, JSRegExp, make_regexp, regexp_exec, regexp_test
from pipyd.js.regexp import compile_js
from pipyd.js.values import JSArray, JSThrow, undefined

RegExp = EXPORTS["RegExp"]


def first(pattern: str, flags: str, subject: str):
    m = compile_js(pattern, flags).regex.search(subject)
    return None if m is None else m.group(0)


@pytest.mark.parametrize("pattern,flags,subject,expected", [
    ("a$", "", "a\n", None),                      # JS $ is the very end without m
    ("a$", "m", "a\nb", "a"),
    ("a$", "m", "a\rb", "a"),                     # \r is a line terminator too
    ("^b", "m", "a\u2028b", "b"),
    ("^b", "", "a\nb", None),
    ("\\s+", "", "x\ufeff\u00a0y", "\ufeff\u00a0"),
    ("\\s", "", "\x1c", None),                    # Python's \s has U+001C; JS's does not
    ("\\d+", "", "\u0663\u0664 42", "42"),        # \d is ASCII only
    ("\\w+", "", "été", "t"),
    ("\\bt", "", "été", "t"),                     # é is not a word character for \b
    ("\\bé", "i", "xÉ", "É"),
    ("[]", "", "abc", None),
    ("[^]", "", "\n", "\n"),
    ("a.c", "", "a\nc", None),
    ("a.c", "", "a\u2028c", None),
    ("a.c", "s", "a\nc", "a\nc"),
    ("a{,2}", "", "a{,2}", "a{,2}"),              # not a quantifier in JS
    ("a{2}", "", "aaa", "aa"),
    ("x{", "", "x{", "x{"),
    ("}", "", "}", "}"),
    ("[[]", "", "[", "["),
    ("[a-]", "", "-", "-"),
    ("[\\d-z]", "", "-", "-"),
    ("[\\b]", "", "\b", "\b"),
    ("\\cJ", "", "\n", "\n"),
    ("\\x41\\u0042", "", "AB", "AB"),
    ("\\u{1F600}", "u", "😀", "😀"),
    ("\\uD83D\\uDE00", "", "😀", "😀"),
    ("\\0", "", "\x00", "\x00"),
    ("\\101", "", "A", "A"),                      # Annex B octal when there is no group 1
    ("(a)\\1", "", "aa", "aa"),
    ("(a)|\\1b", "", "b", "b"),                   # a group that did not take part matches empty
    ("\\1(a)", "", "a", "a"),                     # so does a forward reference
    ("(?<year>\\d{4})-\\k<year>", "", "2020-2020", "2020-2020"),
    ("(?<=\\$)\\d+", "", "$42", "42"),
    ("(?<!\\$)\\b\\d+", "", "$4 5", "5"),
    ("(?<=a|bc)d", "", "bcd", "d"),               # alternatives of different widths
    ("A", "i", "a", "a"),
    ("\\/", "", "/", "/"),
    ("\\k", "", "k", "k"),                        # no named groups: an identity escape
])
def test_translation(pattern: str, flags: str, subject: str, expected: str | None) -> None:
    assert first(pattern, flags, subject) == expected


@pytest.mark.parametrize("pattern,flags,reason", [
    ("(", "", "Unterminated group"),
    (")", "", "Unmatched ')'"),
    ("a**", "", "Nothing to repeat"),
    ("*a", "", "Nothing to repeat"),
    ("{1}", "", "Nothing to repeat"),
    ("[a", "", "Unterminated character class"),
    ("[z-a]", "", "Range out of order in character class"),
    ("a{3,2}", "", "numbers out of order in {} quantifier"),
    ("\\", "", "\\ at end of pattern"),
    ("(?<a>x)(?<a>y)", "", "Duplicate capture group name"),
    ("(?<1a>x)", "", "Invalid capture group name"),
    ("(?<a>x)\\k<b>", "", "Invalid named capture referenced"),
    ("(?x)", "", "Invalid group"),
    ("\\q", "u", "Invalid escape"),
    ("{", "u", "Lone quantifier brackets"),
    ("\\u{110000}", "u", "Invalid Unicode escape"),
])
def test_invalid_patterns(pattern: str, flags: str, reason: str) -> None:
    with pytest.raises(JSThrow) as info:
        compile_js(pattern, flags)
    err = info.value.value
    assert err.name == "SyntaxError"
    assert err.message == f"Invalid regular expression: /{pattern}/: {reason}"


@pytest.mark.parametrize("flags", ["gg", "x", "gimx"])
def test_invalid_flags(flags: str) -> None:
    with pytest.raises(JSThrow) as info:
        RegExp.construct("a", flags)
    assert "Invalid flags supplied to RegExp constructor" in info.value.value.message


def test_compile_is_cached() -> None:
    assert compile_js("a+b", "g") is compile_js("a+b", "g")


def test_exec_result_carries_index_input_groups() -> None:
    rx = RegExp.construct("(?<y>\\d{4})-(\\d\\d)?x?")
    m = regexp_exec(rx, "on 2024-x")
    assert isinstance(m, JSMatch)
    assert list(m) == ["2024-x", "2024", undefined]
    assert rt.get(m, "index") == 3
    assert rt.get(m, "input") == "on 2024-x"
    assert dict(rt.get(m, "groups")) == {"y": "2024"}
    assert rt.get(m, 0) == "2024-x" and rt.get(m, "length") == 3
    assert regexp_exec(rx, "none") is None
    assert rt.get(regexp_exec(RegExp.construct("a"), "a"), "groups") is undefined


def test_has_indices_flag() -> None:
    m = regexp_exec(RegExp.construct("b(c)", "d"), "abc")
    indices = rt.get(m, "indices")
    assert [list(p) for p in indices] == [[1, 3], [2, 3]]


def test_global_and_sticky_last_index() -> None:
    rx = RegExp.construct("o", "g")
    assert regexp_test(rx, "foo") and rx.lastIndex == 2
    assert regexp_test(rx, "foo") and rx.lastIndex == 3
    assert not regexp_test(rx, "foo") and rx.lastIndex == 0
    sticky = RegExp.construct("o", "y")
    assert not regexp_test(sticky, "foo") and sticky.lastIndex == 0
    rt.set(sticky, "lastIndex", 1)
    assert regexp_test(sticky, "foo") and rt.get(sticky, "lastIndex") == 2
    rx = RegExp.construct("a", "g")
    rx.lastIndex = 10
    assert regexp_exec(rx, "aaa") is None and rx.lastIndex == 0
    plain = RegExp.construct("a")
    plain.lastIndex = 5
    assert regexp_test(plain, "a")  # without g or y lastIndex is ignored


def test_properties_and_to_string() -> None:
    rx = RegExp.construct("a/b\n", "yigm")
    assert rt.get(rx, "source") == "a\\/b\\n"
    assert rt.get(rx, "flags") == "gimy"
    assert rt.call_method(rx, "toString") == "/a\\/b\\n/gimy"
    assert (rt.get(rx, "global"), rt.get(rx, "ignoreCase"), rt.get(rx, "dotAll")) == (True, True, False)
    assert rt.get(RegExp.construct(), "source") == "(?:)"
    assert rt.get(RegExp.construct("[/]"), "source") == "[/]"


def test_constructor_forms() -> None:
    rx = make_regexp("a", "g")
    assert RegExp(rx) is rx                      # call form returns a RegExp argument as is
    copy = RegExp.construct(rx, "i")
    assert copy is not rx and copy.flags == "i" and copy.source == "a"
    assert RegExp("x", undefined).flags == ""
    assert rt.instanceof(rx, RegExp) and isinstance(rx, JSRegExp)
    assert rt.typeof(rx) == "object"


def test_string_match() -> None:
    assert sr.string_match("a1b22", make_regexp("\\d+", "g")) == ["1", "22"]
    assert sr.string_match("abc", make_regexp("x", "g")) is None
    m = sr.string_match("abc", "b")
    assert list(m) == ["b"] and rt.get(m, "index") == 1
    assert sr.string_match("baa", make_regexp("a*?", "g")) == ["", "", "", ""]
    assert sr.string_match("baa", make_regexp("a*", "g")) == ["", "aa", ""]


def test_match_all() -> None:
    found = sr.string_match_all("a1b2", make_regexp("[a-z](\\d)", "g"))
    assert [list(m) for m in found] == [["a1", "1"], ["b2", "2"]]
    assert [rt.get(m, "index") for m in found] == [0, 2]
    with pytest.raises(JSThrow):
        sr.string_match_all("a", make_regexp("a", ""))
    assert len(sr.string_match_all("a.a", ".")) == 3  # a string becomes a global RegExp


@pytest.mark.parametrize("subject,pattern,replacement,expected", [
    ("John Smith", ("(\\w+)\\s(\\w+)", ""), "$2, $1", "Smith, John"),
    ("abc", ("b", ""), "[$&|$`|$'|$$]", "a[b|a|c|$]c"),
    ("abc", ("(b)", ""), "$0$2$01$10", "a$0$2bb0c"),
    ("2020-12", ("(?<y>\\d+)-(?<m>\\d+)", ""), "$<m>/$<y>$<none>", "12/2020"),
    ("ab", ("b", ""), "$<x>", "a$<x>"),               # no named groups: literal
    ("aaa", ("a", "g"), "b", "bbb"),
    ("aaa", ("a", ""), "b", "baa"),
    ("abc", ("", "g"), "-", "-a-b-c-"),
    ("xAx", ("a", "gi"), "$&$&", "xAAx"),
])
def test_replace_with_regexp(subject: str, pattern: tuple[str, str], replacement: str, expected: str) -> None:
    assert sr.string_replace(subject, make_regexp(*pattern), replacement) == expected


def test_replace_with_strings_and_functions() -> None:
    assert sr.string_replace("a-b-c", "-", "+") == "a+b-c"
    assert sr.string_replace("a-b", "-", "[$&$$]") == "a[-$]b"
    assert sr.string_replace_all("a-b-c", "-", "+") == "a+b+c"
    assert sr.string_replace_all("abc", "", "-") == "-a-b-c-"
    assert sr.string_replace_all("aaaa", "aa", "$&!") == "aa!aa!"
    seen = []
    out = sr.string_replace("x12y", make_regexp("(\\d)(?<two>\\d)", ""),
                            lambda *a: seen.append(a) or "#")
    assert out == "x#y"
    assert seen[0][:5] == ("12", "1", "2", 1, "x12y") and dict(seen[0][5]) == {"two": "2"}
    assert sr.string_replace("abc", "b", lambda m, p, s: m.upper() + str(p)) == "aB1c"
    with pytest.raises(JSThrow):
        sr.string_replace_all("a", make_regexp("a", ""), "b")


def test_replace_resets_last_index() -> None:
    rx = make_regexp("a", "g")
    rx.lastIndex = 2
    assert sr.string_replace("aXa", rx, "b") == "bXb" and rx.lastIndex == 0


def test_search() -> None:
    rx = make_regexp("b", "g")
    rx.lastIndex = 3
    assert sr.string_search("abcb", rx) == 1 and rx.lastIndex == 3
    assert sr.string_search("abc", "c") == 2
    assert sr.string_search("abc", make_regexp("x", "")) == -1
    assert sr.string_search("abc", make_regexp("b", "y")) == -1


@pytest.mark.parametrize("subject,sep,limit,expected", [
    ("a,b,c", ",", undefined, ["a", "b", "c"]),
    ("a,b,c", ",", 2, ["a", "b"]),
    ("abc", "", undefined, ["a", "b", "c"]),
    ("", "", undefined, []),
    ("", ",", undefined, [""]),
    ("abc", undefined, undefined, ["abc"]),
    ("abc", undefined, 0, []),
    ("a1b2c", ("\\d", ""), undefined, ["a", "b", "c"]),
    ("a1b2c", ("(\\d)", ""), undefined, ["a", "1", "b", "2", "c"]),
    ("a1b2c", ("(\\d)", ""), 2, ["a", "1"]),
    ("a1b", ("(x)?\\d", ""), undefined, ["a", undefined, "b"]),
    ("abc", ("", ""), undefined, ["a", "b", "c"]),
    ("abc", ("(?:)", ""), 2, ["a", "b"]),
    ("", ("x", ""), undefined, [""]),
    ("", ("(?:)", ""), undefined, []),
    (",a,", (",", ""), undefined, ["", "a", ""]),
    ("one  two", ("\\s*", ""), undefined, ["o", "n", "e", "t", "w", "o"]),
    ("test", ("t", ""), undefined, ["", "es", ""]),
])
def test_split(subject: str, sep, limit, expected) -> None:
    if isinstance(sep, tuple):
        sep = make_regexp(*sep)
    assert list(sr.string_split(subject, sep, limit)) == expected


def test_match_array_extra_props_are_writable() -> None:
    m = regexp_exec(make_regexp("a", ""), "a")
    rt.set(m, "extra", 1)
    assert rt.get(m, "extra") == 1
    rt.set(m, 1, "z")
    assert list(m) == ["a", "z"]
    assert isinstance(m, JSArray) and rt.get(m, "groups") is undefined
