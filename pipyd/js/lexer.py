"""PipyJS tokens: one compiled master regex, positions, ASI flags, regex and template re-scans.

The lexer is pulled one token at a time by the parser. Two ECMAScript lexical goals depend on
the grammar (ECMA-262 §12, "InputElementRegExp" and "InputElementTemplateTail"), so the lexer
always scans ``/`` as a division punctuator and ``}`` as a brace, and the parser asks for a
re-scan (``rescan_regex``, ``rescan_template``) where an expression or a template continuation is
expected. Only the current token is ever re-scanned, so a re-scan just moves back to its start.

Token ``type`` is the punctuator or reserved word itself (``'('``, ``'if'``), or one of
``name num string template regex eof``; ``nl`` says a line terminator came before the token (what
automatic semicolon insertion needs, §12.9).
"""
from __future__ import annotations

import re
from bisect import bisect_right

from .errors import JSSyntaxError

# §12.6.2 reserved words plus `let`, which PipyJS always treats as a declaration keyword.
KEYWORDS = frozenset(
    "break case catch class const continue debugger default delete do else export extends "
    "finally for function if import in instanceof new return super switch this throw try "
    "typeof var void while with null true false let".split())

_LT = r"\n\r\u2028\u2029"
# §12.2 white space and §12.3 line terminators, §12.4 comments, skipped as one run.
_SKIP = re.compile(
    r"(?:[ \t\v\f\u00a0\ufeff\u1680\u2000-\u200a\u202f\u205f\u3000" + _LT + r"]+"
    r"|//[^" + _LT + r"]*|/\*[\s\S]*?\*/)*")
_LINE_TERM = re.compile(r"\r\n|[" + _LT + r"]")
_HAS_LT = re.compile(r"[" + _LT + r"]")

_PUNCTUATORS = sorted(
    """>>>= ... === !== **= <<= >>= >>> &&= ||= ??= => == != <= >= && || ?? ++ -- += -= *= /= %=
    &= |= ^= << >> ** { } ( ) [ ] ; , < > + - * / % & | ^ ! ~ ? : = .""".split(),
    key=len, reverse=True)
_UESC = r"\\u(?:[0-9a-fA-F]{4}|\{[0-9a-fA-F]+\})"
_TOKEN = re.compile(
    r"(?P<name>(?:[^\W\d]|\$|" + _UESC + r")(?:[\w$\u200c\u200d]|" + _UESC + r")*)"
    r"|(?P<num>0[xXoObB][0-9a-zA-Z_]*|(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?[\d_]*)?)"
    r"|(?P<string>\"(?:[^\"\\\n\r]|\\(?:\r\n|[\s\S]))*\"|'(?:[^'\\\n\r]|\\(?:\r\n|[\s\S]))*')"
    r"|(?P<template>`)"
    r"|(?P<punct>\?\.(?!\d)|" + "|".join(re.escape(p) for p in _PUNCTUATORS) + ")")
# A template span: from just after ` or } up to the closing ` or the next ${ (§12.8.6).
_TEMPLATE_SPAN = re.compile(r"(?:[^`\\$]|\\[\s\S]|\$(?!\{))*(`|\$\{)")
# §12.8.5: a class may contain an unescaped '/'; no line terminators anywhere.
_REGEX = re.compile(
    r"/((?:[^/\\\[" + _LT + r"]|\\[^" + _LT + r"]|\[(?:[^\]\\" + _LT + r"]|\\[^" + _LT +
    r"])*\])+)/([\w$]*)")
_IDENT_PART = re.compile(r"[\w$\\]")
_REGEX_FLAGS = frozenset("dgimsuy")
_ENDS_EXPRESSION = frozenset(("name", "num", "string", "template", "regex", ")", "]", "}",
                              "this", "null", "true", "false", "++", "--"))


# -- literal values -------------------------------------------------------------------------
_ESCAPE = re.compile(
    r"\\(?:(u\{[0-9a-fA-F]*\}?|u[0-9a-fA-F]{0,4})|x([0-9a-fA-F]{0,2})|([0-9])|(\r\n|[\s\S]))")
_SINGLE = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v",
           "\r\n": "", "\n": "", "\r": "", "\u2028": "", "\u2029": ""}
_SURROGATE_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")
_CRLF = re.compile(r"\r\n?")
_DECIMAL = re.compile(r"(?:0|[1-9](?:_?\d)*)(?:\.(?:\d(?:_?\d)*)?)?(?:[eE][+-]?\d(?:_?\d)*)?"
                      r"|\.\d(?:_?\d)*(?:[eE][+-]?\d(?:_?\d)*)?")
_RADIX = {"x": (16, re.compile(r"[0-9a-fA-F](?:_?[0-9a-fA-F])*")),
          "o": (8, re.compile(r"[0-7](?:_?[0-7])*")), "b": (2, re.compile(r"[01](?:_?[01])*"))}
_MAX_SAFE = 2 ** 53


def _pair(m: re.Match) -> str:
    hi, lo = ord(m.group()[0]), ord(m.group()[1])
    return chr(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))


def _unicode_escape(spec: str) -> str | None:
    """The character of a ``u...`` escape body, None when malformed (§12.8.4)."""
    if spec.startswith("u{"):
        if not spec.endswith("}") or len(spec) < 4 or int(spec[2:-1], 16) > 0x10FFFF:
            return None
        return chr(int(spec[2:-1], 16))
    return chr(int(spec[1:], 16)) if len(spec) == 5 else None


def cook_escapes(body: str, base: int, template: bool) -> tuple[str | None, tuple[str, int] | None]:
    """Cooked value of a string or template body starting at source offset ``base``: (value,
    None), or (None, (message, offset)) at the first invalid escape (§12.8.4, §12.8.6)."""
    out = []
    last = 0
    for m in _ESCAPE.finditer(body):
        out.append(body[last:m.start()])
        last = m.end()
        uni, hexd, digit, other = m.groups()
        if uni is not None:
            ch = _unicode_escape(uni)
            if ch is None:
                return None, ("Invalid Unicode escape sequence", base + m.start())
        elif hexd is not None:
            if len(hexd) != 2:
                return None, ("Invalid hexadecimal escape sequence", base + m.start())
            ch = chr(int(hexd, 16))
        elif digit is not None:
            if digit == "0" and not body[m.end():m.end() + 1].isdigit():
                ch = "\0"
            elif digit in "89":
                return None, ("\\8 and \\9 are not allowed in strict mode", base + m.start())
            else:
                where = "template strings" if template else "strict mode"
                return None, (f"Octal escape sequences are not allowed in {where}", base + m.start())
        else:
            ch = _SINGLE.get(other, other)
        out.append(ch)
    out.append(body[last:])
    value = "".join(out)
    if _SURROGATE_PAIR.search(value):  # "\ud83d\ude00" is one code point in PipyJS strings
        value = _SURROGATE_PAIR.sub(_pair, value)
    return value, None


def decode_identifier(lexer: "Lexer", text: str, offset: int) -> str:
    """An IdentifierName with \\u escapes decoded (§12.7.1)."""
    def one(m: re.Match) -> str:
        ch = _unicode_escape(m.group()[1:])
        if ch is None or not (ch.isidentifier() or ch in "$\u200c\u200d" or ("a" + ch).isidentifier()):
            raise lexer.error("Invalid Unicode escape sequence", offset + m.start())
        return ch
    return re.sub(_UESC, one, text)


def number_value(lexer: "Lexer", text: str, offset: int) -> int | float:
    """Value of a NumericLiteral (§12.8.3): int for integers up to 2**53, float otherwise."""
    if len(text) > 1 and text[0] == "0" and text[1] in "xXoObB":
        base, pattern = _RADIX[text[1].lower()]
        digits = text[2:]
        if not pattern.fullmatch(digits):
            raise lexer.error(_separator_problem(digits) or "Invalid or unexpected token", offset)
        value = int(digits.replace("_", ""), base)
        return value if value <= _MAX_SAFE else float(value)
    if not _DECIMAL.fullmatch(text):
        if len(text) > 1 and text[0] == "0" and text[1].isdigit():
            if text.rstrip("_").isdigit() and "8" not in text and "9" not in text:
                raise lexer.error("Octal literals are not allowed in strict mode", offset)
            raise lexer.error("Decimals with leading zeros are not allowed in strict mode", offset)
        if text.startswith("0_"):
            raise lexer.error("Numeric separator can not be used after leading 0", offset)
        raise lexer.error(_separator_problem(text) or "Invalid or unexpected token", offset)
    clean = text.replace("_", "") if "_" in text else text
    if "." in clean or "e" in clean or "E" in clean:
        return float(clean)
    value = int(clean)
    return value if value <= _MAX_SAFE else float(value)


def _separator_problem(text: str) -> str | None:
    if "__" in text:
        return "Only one underscore is allowed as numeric separator"
    if text.endswith("_"):
        return "Numeric separators are not allowed at the end of numeric literals"
    if "_" in text:
        return "Numeric separators are allowed only between digits"
    return None


class Token:
    """One token: its kind, cooked value, source offsets, start position and newline flag."""

    __slots__ = ("type", "value", "start", "end", "line", "col", "nl", "extra")

    def __init__(self, type: str, value: object, start: int, end: int, line: int, col: int,
                 nl: bool, extra: object = None) -> None:
        self.type, self.value, self.start, self.end = type, value, start, end
        self.line, self.col, self.nl, self.extra = line, col, nl, extra

    def __repr__(self) -> str:
        return f"Token({self.type!r}, {self.value!r}, {self.line}:{self.col})"


class Lexer:
    """Scans ``source`` on demand; ``next()`` returns the token after the previous one."""

    def __init__(self, source: str, filename: str = "<eval>") -> None:
        self.src = source
        self.filename = filename
        self.line_starts = [0] + [m.end() for m in _LINE_TERM.finditer(source)]
        self.pos = 0
        if source.startswith("#!"):  # hashbang line (ES2023), handy for executable scripts
            m = _HAS_LT.search(source)
            self.pos = m.start() if m else len(source)

    # -- positions and errors ------------------------------------------------------------
    def loc(self, offset: int) -> tuple[int, int]:
        """(line 1-based, col 0-based) of a source offset."""
        line = bisect_right(self.line_starts, offset)
        return line, offset - self.line_starts[line - 1]

    def source_line(self, line: int) -> str:
        start = self.line_starts[line - 1]
        m = _HAS_LT.search(self.src, start)
        return self.src[start:m.start() if m else len(self.src)]

    def error(self, message: str, offset: int) -> JSSyntaxError:
        line, col = self.loc(offset)
        return JSSyntaxError(message, self.filename, line, col, self.source_line(line))

    # -- scanning ------------------------------------------------------------------------
    def next(self) -> Token:
        src = self.src
        pos = self.pos
        end = _SKIP.match(src, pos).end()
        nl = end > pos and _HAS_LT.search(src, pos, end) is not None
        pos = end
        line = bisect_right(self.line_starts, pos)
        col = pos - self.line_starts[line - 1]
        m = _TOKEN.match(src, pos)
        if m is None:
            return self._odd(pos, line, col, nl)
        kind = m.lastgroup
        end = m.end()
        self.pos = end
        text = m.group()
        if kind == "punct":
            if text == "/" and src.startswith("/*", pos):
                raise self.error("Unterminated comment", pos)
            return Token(text, text, pos, end, line, col, nl)
        if kind == "name":
            if "\\" in text:
                return Token("name", decode_identifier(self, text, pos), pos, end, line, col, nl)
            return Token(text if text in KEYWORDS else "name", text, pos, end, line, col, nl)
        if kind == "string":
            value = text[1:-1]
            if "\\" in value:
                value, err = cook_escapes(value, pos + 1, False)
                if err:
                    raise self.error(*err)
            return Token("string", value, pos, end, line, col, nl)
        if kind == "num":
            if end < len(src) and _IDENT_PART.match(src, end):
                raise self.error("Invalid or unexpected token", end)
            return Token("num", number_value(self, text, pos), pos, end, line, col, nl)
        return self._template(pos + 1, pos, line, col, nl)

    def _odd(self, pos: int, line: int, col: int, nl: bool) -> Token:
        src = self.src
        if pos >= len(src):
            self.pos = pos
            return Token("eof", None, pos, pos, line, col, nl)
        if src[pos] in "\"'":
            raise self.error("Unterminated string literal", pos)
        if src[pos] == "\\":
            raise self.error("Invalid Unicode escape sequence", pos)
        if src[pos] == "#":
            raise self.error("Private class fields are not supported", pos)
        raise self.error("Invalid or unexpected token", pos)

    def _template(self, body: int, start: int, line: int, col: int, nl: bool) -> Token:
        """Scan a template span whose text begins at ``body``; value is the cooked text (None
        when it holds an invalid escape: allowed only in tagged templates, §13.2.8.2)."""
        m = _TEMPLATE_SPAN.match(self.src, body)
        if m is None:
            raise self.error("Unterminated template literal", start)
        tail = m.group(1) == "`"
        text_end = m.start(1)
        raw = self.src[body:text_end]
        if "\r" in raw:  # §12.8.6: CR and CRLF read as LF in both raw and cooked values
            raw = _CRLF.sub("\n", raw)
        cooked, err = cook_escapes(raw, body, True) if "\\" in raw else (raw, None)
        self.pos = m.end()
        return Token("template", cooked, start, m.end(), line, col, nl, (raw, tail, err))

    def rescan_template(self, tok: Token) -> Token:
        """Re-read a ``}`` token as the continuation of a template literal (TemplateMiddle or
        TemplateTail)."""
        return self._template(tok.start + 1, tok.start, tok.line, tok.col, tok.nl)

    def rescan_regex(self, tok: Token) -> Token:
        """Re-read a ``/`` or ``/=`` token as a regular expression literal (§12.8.5)."""
        m = _REGEX.match(self.src, tok.start)
        if m is None:
            raise self.error("Invalid regular expression: missing /", tok.start)
        flags = m.group(2)
        if "\\" in flags or not _REGEX_FLAGS.issuperset(flags) or len(set(flags)) != len(flags):
            raise self.error("Invalid regular expression flags", tok.start)
        self.pos = m.end()
        return Token("regex", (m.group(1), flags), tok.start, m.end(), tok.line, tok.col, tok.nl)

    def tokens(self) -> list[Token]:
        """Every token to the end, for tests and tools. The parser decides regex-vs-division
        and template continuations by grammar; here the usual approximation stands in: ``/``
        starts a regex unless the previous token can end an expression, and a brace stack
        tells which ``}`` resumes a template."""
        out: list[Token] = []
        braces: list[bool] = []  # True: this '}' resumes a template
        prev = None
        while True:
            tok = self.next()
            if tok.type == "}" and braces and braces.pop():
                tok = self.rescan_template(tok)
            elif (tok.type == "/" or tok.type == "/=") and (
                    prev is None or prev.type not in _ENDS_EXPRESSION):
                tok = self.rescan_regex(tok)
            prev = tok
            if tok.type == "{":
                braces.append(False)
            elif tok.type == "template" and not tok.extra[1]:
                braces.append(True)
            out.append(tok)
            if tok.type == "eof":
                return out
