"""Lexer tests: whole sources to token lists, literal values, positions, newline flags, errors."""
from __future__ import annotations

import pytest

from pipyd.js.errors import JSSyntaxError
from pipyd.js.lexer import Lexer


def toks(src: str) -> list[tuple[str, object]]:
    return [(t.type, t.value) for t in Lexer(src).tokens()[:-1]]


def kinds(src: str) -> list[str]:
    return [t.type for t in Lexer(src).tokens()[:-1]]


PUNCTUATORS = ("{ } ( ) [ ] ; , < > + - * / % & | ^ ! ~ ? : = . ... => == != === !== <= >= "
               "&& || ?? ?. ++ -- += -= *= /= %= **= <<= >>= >>>= &= |= ^= &&= ||= ??= << >> "
               ">>> **").split()


@pytest.mark.parametrize("p", PUNCTUATORS)
def test_each_punctuator_alone(p: str) -> None:
    assert kinds("a " + p + " b") == ["name", p, "name"]


def test_longest_punctuator_wins_and_optional_chain_before_digit() -> None:
    assert kinds("a>>>=b") == ["name", ">>>=", "name"]
    assert kinds("a?.b") == ["name", "?.", "name"]
    assert kinds("a?.5:1") == ["name", "?", "num", ":", "num"]  # `?.5` is `? .5`
    assert kinds("a...b") == ["name", "...", "name"]
    assert kinds("a=>b") == ["name", "=>", "name"]


NUMBERS = [
    ("0", 0), ("42", 42), ("1.5", 1.5), (".5", 0.5), ("5.", 5.0), ("1e3", 1000.0),
    ("1E+3", 1000.0), ("2.5e-3", 0.0025), ("0x1F", 31), ("0XAb", 171), ("0o17", 15),
    ("0O7", 7), ("0b1010", 10), ("0B1", 1), ("1_000", 1000), ("0xF_F", 255),
    ("1_0.0_1", 10.01), ("1e1_0", 1e10), ("9007199254740992", 9007199254740992),
    ("9007199254740993", 9007199254740992.0), ("0xFFFFFFFFFFFFFFFF", 18446744073709551616.0),
]


@pytest.mark.parametrize("src,value", NUMBERS)
def test_numeric_literals(src: str, value: object) -> None:
    [(kind, got)] = toks(src)
    assert kind == "num" and got == value and type(got) is type(value)


STRINGS = [
    (r"'abc'", "abc"), (r'"a\"b"', 'a"b'), (r"'a\'b'", "a'b"),
    (r"'\n\t\r\b\f\v\0'", "\n\t\r\b\f\v\0"), (r"'\x41\x7e'", "A~"), (r"'\u0041\u00e9'", "Aé"),
    (r"'\u{1F600}'", "😀"), (r"'\u{41}'", "A"), (r"'\ud83d\ude00'", "😀"), (r"'\ud83d'", "\ud83d"),
    (r"'\q\$'", "q$"), ("'a\\\nb'", "ab"), ("'a\\\r\nb'", "ab"), ("'a\\\u2028b'", "ab"),
    ("'a\u2028b'", "a\u2028b"), ("'😀é'", "😀é"), (r"'\\'", "\\"),
]


@pytest.mark.parametrize("src,value", STRINGS)
def test_string_literals(src: str, value: str) -> None:
    assert toks(src) == [("string", value)]


def test_identifiers_unicode_and_escapes_and_keywords() -> None:
    assert toks("café $x _y ñ1 \\u0061b \\u{62}c") == [
        ("name", "café"), ("name", "$x"), ("name", "_y"), ("name", "ñ1"), ("name", "ab"),
        ("name", "bc")]
    assert kinds("if else typeof instanceof let of get") == [
        "if", "else", "typeof", "instanceof", "let", "name", "name"]


def test_comments_are_skipped_and_newline_flags_set() -> None:
    tokens = Lexer("a // one\nb /* two\n */ c /* three */ d\n\n e").tokens()
    assert [(t.value, t.nl) for t in tokens[:-1]] == [
        ("a", False), ("b", True), ("c", True), ("d", False), ("e", True)]
    assert Lexer("a\u2028b").tokens()[1].nl
    assert Lexer("a\rb").tokens()[1].nl


def test_positions_lines_and_code_point_columns() -> None:
    tokens = Lexer("x = '😀'\r\n  + y\u2029z").tokens()
    assert [(t.type, t.line, t.col, t.start, t.end) for t in tokens] == [
        ("name", 1, 0, 0, 1), ("=", 1, 2, 2, 3), ("string", 1, 4, 4, 7), ("+", 2, 2, 11, 12),
        ("name", 2, 4, 13, 14), ("name", 3, 0, 15, 16), ("eof", 3, 1, 16, 16)]


def test_template_tokens_with_nested_substitutions() -> None:
    tokens = Lexer("`a${ {b: `c${d}`} }e`").tokens()
    assert [(t.type, t.value) for t in tokens[:-1]] == [
        ("template", "a"), ("{", "{"), ("name", "b"), (":", ":"), ("template", "c"),
        ("name", "d"), ("template", ""), ("}", "}"), ("template", "e")]
    assert [t.extra[1] for t in tokens if t.type == "template"] == [False, False, True, True]


def test_template_cooked_raw_and_invalid_escapes() -> None:
    [tok] = Lexer("`a\\tb\r\nc\\\nd$e$`").tokens()[:-1]
    assert tok.value == "a\tb\ncd$e$"
    assert tok.extra == ("a\\tb\nc\\\nd$e$", True, None)
    [bad] = Lexer("`\\xZ`").tokens()[:-1]
    assert bad.value is None and bad.extra[2] == ("Invalid hexadecimal escape sequence", 1)


def test_regex_rescan_on_request() -> None:
    lx = Lexer("/[/\\]]+\\//gi.x")
    tok = lx.next()
    assert tok.type == "/"
    rx = lx.rescan_regex(tok)
    assert (rx.type, rx.value, rx.end) == ("regex", ("[/\\]]+\\/", "gi"), 12)
    assert lx.next().type == "."


def test_tokens_guess_regex_after_operators_and_division_after_values() -> None:
    assert kinds("a / b / c") == ["name", "/", "name", "/", "name"]
    assert kinds("x = /b/g") == ["name", "=", "regex"]
    assert kinds("f(/=/)") == ["name", "(", "regex", ")"]
    assert kinds("a /= 2") == ["name", "/=", "num"]


LEX_ERRORS = [
    ("'abc", 0, "Unterminated string literal"),
    ("x = 'a\nb'", 4, "Unterminated string literal"),
    ("`abc", 0, "Unterminated template literal"),
    ("/* x", 0, "Unterminated comment"),
    ("'\\x4g'", 1, "Invalid hexadecimal escape sequence"),
    ("'\\u{110000}'", 1, "Invalid Unicode escape sequence"),
    ("'\\u004'", 1, "Invalid Unicode escape sequence"),
    ("'\\7'", 1, "Octal escape sequences"),
    ("'\\9'", 1, "\\8 and \\9"),
    ("007", 0, "Octal literals"),
    ("09", 0, "leading zeros"),
    ("1__2", 0, "Only one underscore"),
    ("1_", 0, "at the end of numeric literals"),
    ("1_.5", 0, "Numeric separators"),
    ("0b2", 0, "Invalid or unexpected token"),
    ("1a", 1, "Invalid or unexpected token"),
    ("a @ b", 2, "Invalid or unexpected token"),
    ("x = \\u{zz}", 4, "Invalid Unicode escape sequence"),
    ("\\u0020", 0, "Invalid Unicode escape sequence"),
]


@pytest.mark.parametrize("src,col,text", LEX_ERRORS)
def test_lexical_errors(src: str, col: int, text: str) -> None:
    with pytest.raises(JSSyntaxError) as info:
        Lexer(src).tokens()
    assert info.value.col == col and text in info.value.message


def test_regex_errors() -> None:
    for src, text in [("/abc", "missing /"), ("/a/gg", "flags"), ("/a/z", "flags"),
                      ("/a\n/", "missing /")]:
        lx = Lexer(src)
        with pytest.raises(JSSyntaxError, match=text):
            lx.rescan_regex(lx.next())


def test_hashbang_line_is_skipped() -> None:
    assert toks("#!/usr/bin/env pipy\nx") == [("name", "x")]
