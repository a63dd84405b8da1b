"""JavaScript regular expressions translated to Python ``re`` (ECMAScript 2020 §22.2, Annex B.1.4).

``compile_js(source, flags)`` parses a JS pattern once and returns a cached ``Translated``: the
compiled Python pattern plus what the RegExp builtins need (group count, group names, flags).

Why a translation and not ``re`` as is — the two dialects differ in ways scripts notice:
- ``\\d \\w \\b`` are ASCII-only in JS; ``\\s`` is JS's WhiteSpace + LineTerminator set (it has
  U+FEFF, not U+001C..U+001F as Python's has).
- ``$`` without ``m`` matches only at the very end (Python's also before a final ``\\n``);
  ``^``/``$`` with ``m`` and ``.`` know four line terminators (\\n \\r U+2028 U+2029).
- ``[]`` matches nothing and ``[^]`` anything; ``[`` inside a class is a plain character.
- A backreference to a group that did not take part (or is still open) matches the empty string.
- ``{`` that does not start a quantifier is a literal, and ``{,n}`` is not a quantifier.
- Group names may hold ``$``: groups are emitted unnamed, names are kept in ``Translated.names``
  (the numbering is the same as JS's since we never add capturing groups).
Strings are sequences of code points (values.py), so the ``u`` flag only changes the syntax
accepted (strict escapes, ``\\u{...}``) and case folding under ``i``, never what ``.`` consumes.

Known differences, which ``re`` cannot express (found by tests/conformance/js/differential.py):
- A quantified atom's captures: ECMAScript resets them at each iteration and rejects an iteration
  that matches empty once the minimum is met (§22.2.2.3.1 RepeatMatcher); ``re`` keeps a capture
  from an earlier iteration and accepts the empty one. ``/(?:(a)|b)+/`` on 'ab' captures 'a' (JS:
  undefined); ``/(a|)*b/``, ``/(a?)*/`` may capture, and with alternatives after the empty
  iteration even match, otherwise.
- Under ``i`` without ``u``, the few characters whose case mapping crosses into ASCII or is a
  separate compatibility letter (ſ U+017F, ı U+0131, K U+212A, Å U+212B, Ω U+2126) fold with
  their ASCII or Latin-1 letters in ``re`` when the pattern has non-ASCII text; JS's
  Canonicalize keeps them apart (``/ſ|é/i.test('s')`` is true here, false in JS).
"""
from __future__ import annotations

import re
from typing import NamedTuple

from .values import syntax_error

_LINE_TERMINATORS = "\n\r\u2028\u2029"
# JS WhiteSpace (§11.2) + LineTerminator (§11.3) as code-point ranges.
_SPACE_RANGES = ((0x09, 0x0D), (0x20, 0x20), (0xA0, 0xA0), (0x1680, 0x1680), (0x2000, 0x200A),
                 (0x2028, 0x2029), (0x202F, 0x202F), (0x205F, 0x205F), (0x3000, 0x3000),
                 (0xFEFF, 0xFEFF))
_DIGIT_RANGES = ((0x30, 0x39),)
_WORD_RANGES = ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A))
_MAX_CP = 0x10FFFF
_SYNTAX_CHARS = frozenset("^$\\.*+?()[]{}|/")
_HEX = frozenset("0123456789abcdefABCDEF")
_CACHE_LIMIT = 1024


def _complement(ranges: tuple[tuple[int, int], ...]) -> tuple[tuple[int, int], ...]:
    out, lo = [], 0
    for a, b in ranges:
        if a > lo:
            out.append((lo, a - 1))
        lo = b + 1
    if lo <= _MAX_CP:
        out.append((lo, _MAX_CP))
    return tuple(out)


def _class_char(cp: int) -> str:
    """One code point written so that it is a literal inside a Python character class."""
    if cp < 0x20 or cp == 0x7F:
        return "\\x%02x" % cp
    ch = chr(cp)
    if cp < 0x80 and not ch.isalnum():
        return "\\" + ch  # escaping every ASCII punctuation avoids Python's nested-set warnings
    return ch


def _ranges_body(ranges: tuple[tuple[int, int], ...]) -> str:
    return "".join(_class_char(a) if a == b else _class_char(a) + "-" + _class_char(b) for a, b in ranges)


def _literal(cp: int) -> str:
    """One code point written as a literal outside a class."""
    if cp < 0x20 or cp == 0x7F:
        return "\\x%02x" % cp
    ch = chr(cp)
    if cp < 0x80 and not ch.isalnum() and ch != " ":
        return "\\" + ch
    return ch


# Class escapes: (body inside a class, atom outside a class)
_CLASS_ESCAPES: dict[str, str] = {}
for _letter, _ranges in (("d", _DIGIT_RANGES), ("w", _WORD_RANGES), ("s", _SPACE_RANGES)):
    _CLASS_ESCAPES[_letter] = _ranges_body(_ranges)
    _CLASS_ESCAPES[_letter.upper()] = _ranges_body(_complement(_ranges))
_DOT = "[^" + _ranges_body(((0x0A, 0x0A), (0x0D, 0x0D), (0x2028, 0x2029))) + "]"
_NOT_LT = "[^\\n\\r\u2028\u2029]"
_WORD_CLASS = "[" + _CLASS_ESCAPES["w"] + "]"
# \b and \B spelled out, used when re.ASCII cannot be set (i flag with non-ASCII pattern text).
_WORD_BOUNDARY = f"(?:(?<!{_WORD_CLASS})(?={_WORD_CLASS})|(?<={_WORD_CLASS})(?!{_WORD_CLASS}))"
_NOT_WORD_BOUNDARY = f"(?:(?<={_WORD_CLASS})(?={_WORD_CLASS})|(?<!{_WORD_CLASS})(?!{_WORD_CLASS}))"
_CONTROL_ESCAPES = {"f": 0x0C, "n": 0x0A, "r": 0x0D, "t": 0x09, "v": 0x0B}


class Translated(NamedTuple):
    regex: re.Pattern[str]
    ngroups: int
    names: tuple[tuple[str, int], ...]  # (group name, group number) in pattern order
    flags: str
    source: str


class _Error(Exception):
    pass


def _scan_groups(src: str) -> tuple[int, list[str]]:
    """Count capturing groups and collect names before parsing: ``\\2`` and ``\\k<x>`` may refer
    forward (§22.2.1 early errors use the whole pattern)."""
    count, names, i, n = 0, [], 0, len(src)
    while i < n:
        c = src[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            i += 1
            if i < n and src[i] == "^":
                i += 1
            if i < n and src[i] == "]":
                i += 1
                continue
            while i < n and src[i] != "]":
                i += 2 if src[i] == "\\" else 1
        elif c == "(":
            if not src.startswith("?", i + 1):
                count += 1
            elif src.startswith("?<", i + 1) and not src.startswith(("?<=", "?<!"), i + 1):
                count += 1
                end = src.find(">", i + 3)
                names.append(src[i + 3:end] if end >= 0 else "")
        i += 1
    return count, names


class _Translator:
    def __init__(self, src: str, flags: str, spell_boundaries: bool) -> None:
        self.src = src
        self.pos = 0
        self.unicode = "u" in flags
        self.multiline = "m" in flags
        self.dotall = "s" in flags  # compiled with re.DOTALL: "." is then Python's "."
        self.spell_boundaries = spell_boundaries
        self.total_groups, all_names = _scan_groups(src)
        self.has_names = bool(all_names)
        self.all_names = set(all_names)
        self.group = 0
        self.closed: set[int] = set()
        self.names: list[tuple[str, int]] = []

    # -- helpers ----------------------------------------------------------------------------
    def peek(self, k: int = 0) -> str:
        p = self.pos + k
        return self.src[p] if p < len(self.src) else ""

    def fail(self, reason: str) -> _Error:
        return _Error(reason)

    # -- disjunction / alternative / term ---------------------------------------------------
    def disjunction(self) -> list[str]:
        alts = [self.alternative()]
        while self.peek() == "|":
            self.pos += 1
            alts.append(self.alternative())
        return alts

    def alternative(self) -> str:
        out: list[str] = []
        while True:
            c = self.peek()
            if c == "" or c == "|" or c == ")":
                return "".join(out)
            out.append(self.term())

    def term(self) -> str:
        atom, quantifiable = self.atom()
        q = self.quantifier()
        if q is None:
            return atom
        if not quantifiable:
            raise self.fail("Nothing to repeat")
        if self.peek() in ("*", "+", "?") or (self.peek() == "{" and self.brace_quantifier(peek=True)):
            raise self.fail("Nothing to repeat")
        return atom + q

    def quantifier(self) -> str | None:
        c = self.peek()
        if c in ("*", "+", "?"):
            self.pos += 1
            q = c
        elif c == "{":
            q = self.brace_quantifier()
            if q is None:
                return None
        else:
            return None
        if self.peek() == "?":
            self.pos += 1
            q += "?"
        return q

    def brace_quantifier(self, peek: bool = False) -> str | None:
        m = _BRACE_RE.match(self.src, self.pos)
        if m is None:
            if self.unicode and not peek:
                raise self.fail("Incomplete quantifier")
            return None
        if peek:
            return m.group(0)
        self.pos = m.end()
        lo = int(m.group(1))
        hi = m.group(3) or None  # "{2,}" has an empty upper bound
        if m.group(2) is None:
            return "{%d}" % min(lo, _MAXREPEAT)
        if hi is None or int(hi) >= _MAXREPEAT:
            if hi is not None and lo > int(hi):
                raise self.fail("numbers out of order in {} quantifier")
            return "{%d,}" % min(lo, _MAXREPEAT)
        if lo > int(hi):
            raise self.fail("numbers out of order in {} quantifier")
        return "{%d,%d}" % (lo, int(hi))

    # -- atoms ------------------------------------------------------------------------------
    def atom(self) -> tuple[str, bool]:
        """Returns (python text, may it take a quantifier)."""
        c = self.peek()
        self.pos += 1
        if c == ".":
            return ("." if self.dotall else _DOT), True
        if c == "^":
            return ("(?<![^\\n\\r\u2028\u2029])" if self.multiline else "^"), False
        if c == "$":
            return ("(?![^\\n\\r\u2028\u2029])" if self.multiline else "\\Z"), False
        if c == "(":
            return self.group_atom()
        if c == "[":
            return self.char_class(), True
        if c == "\\":
            return self.atom_escape()
        if c in ("*", "+", "?"):
            raise self.fail("Nothing to repeat")
        if c == "{":
            self.pos -= 1
            if self.brace_quantifier(peek=True):
                raise self.fail("Nothing to repeat")
            self.pos += 1
            if self.unicode:
                raise self.fail("Lone quantifier brackets")
        elif c in ("}", "]") and self.unicode:
            raise self.fail("Lone quantifier brackets")
        return _literal(ord(c)), True

    def group_atom(self) -> tuple[str, bool]:
        src, p = self.src, self.pos
        if src.startswith("?", p):
            if src.startswith("?:", p):
                self.pos += 2
                return "(?:" + self.group_body() + ")", True
            if src.startswith(("?=", "?!"), p):
                kind = src[p:p + 2]
                self.pos += 2
                # Annex B: a lookahead may take a quantifier outside unicode mode
                return "(?:(" + kind + self.group_body() + "))", not self.unicode
            if src.startswith(("?<=", "?<!"), p):
                kind = src[p + 2]
                self.pos += 3
                return self.lookbehind(kind), False
            if src.startswith("?<", p):
                self.pos += 2
                return self.named_group(), True
            raise self.fail("Invalid group")
        self.group += 1
        number = self.group
        body = self.group_body()
        self.closed.add(number)
        return "(" + body + ")", True

    def group_body(self) -> str:
        alts = self.disjunction()
        if self.peek() != ")":
            raise self.fail("Unterminated group")
        self.pos += 1
        return "|".join(alts)

    def lookbehind(self, kind: str) -> str:
        alts = self.disjunction()
        if self.peek() != ")":
            raise self.fail("Unterminated group")
        self.pos += 1
        # Python needs a fixed width per lookbehind; alternatives of different widths become
        # separate lookbehinds (JS allows any width; the rest is reported as unsupported).
        if len(alts) == 1:
            return "(?<" + kind + alts[0] + ")"
        if kind == "=":
            return "(?:" + "|".join("(?<=" + a + ")" for a in alts) + ")"
        return "".join("(?<!" + a + ")" for a in alts)

    def named_group(self) -> str:
        end = self.src.find(">", self.pos)
        name = self.src[self.pos:end] if end >= 0 else ""
        if not _valid_group_name(name):
            raise self.fail("Invalid capture group name")
        if any(n == name for n, _ in self.names):
            raise self.fail("Duplicate capture group name")
        self.pos = end + 1
        self.group += 1
        number = self.group
        self.names.append((name, number))
        body = self.group_body()
        self.closed.add(number)
        return "(" + body + ")"

    def backreference(self, number: int) -> str:
        # A group that is still open or comes later has not captured: JS matches empty there.
        if number not in self.closed:
            return "(?:)"
        return "(?(%d)\\%d|)" % (number, number)

    def atom_escape(self) -> tuple[str, bool]:
        c = self.peek()
        if c == "":
            raise self.fail("\\ at end of pattern")
        if c == "b" or c == "B":
            self.pos += 1
            if self.spell_boundaries:
                return (_WORD_BOUNDARY if c == "b" else _NOT_WORD_BOUNDARY), False
            # re's \B never matches in an empty string; JS's does there (no word character
            # on either side: IsWordChar is false for both)
            return ("\\b" if c == "b" else "(?:\\B|\\A\\Z)"), False
        if c in _CLASS_ESCAPES:
            self.pos += 1
            body = _CLASS_ESCAPES[c.lower()]
            return ("[" + body + "]" if c.islower() else "[^" + body + "]"), True
        if c in "123456789":
            m = _DECIMAL_RE.match(self.src, self.pos)
            number = int(m.group(0))
            if number <= self.total_groups:
                self.pos = m.end()
                return self.backreference(number), True
            if self.unicode:
                raise self.fail("Invalid escape")
        if c == "k" and (self.unicode or self.has_names):
            self.pos += 1
            end = self.src.find(">", self.pos)
            if self.peek() != "<" or end < 0:
                raise self.fail("Invalid named reference")
            name = self.src[self.pos + 1:end]
            if name not in self.all_names:
                raise self.fail("Invalid named capture referenced")
            self.pos = end + 1
            number = next((i for n, i in self.names if n == name), 0)
            return (self.backreference(number) if number else "(?:)"), True
        return _literal(self.char_escape(in_class=False)), True

    def char_escape(self, in_class: bool) -> int:
        """The code point of a CharacterEscape (after the backslash); advances past it."""
        src = self.src
        c = self.peek()
        self.pos += 1
        if c in _CONTROL_ESCAPES:
            return _CONTROL_ESCAPES[c]
        if c == "c":
            x = self.peek()
            if x.isascii() and (x.isalpha() or (in_class and not self.unicode and (x.isdigit() or x == "_"))):
                self.pos += 1
                return ord(x) % 32
            if self.unicode:
                raise self.fail("Invalid unicode escape")
            self.pos -= 1  # Annex B: "\c" stays a backslash followed by "c"
            return 0x5C
        if c == "0" and not self.peek().isdigit():
            return 0
        if c.isdigit():
            if self.unicode:
                raise self.fail("Invalid class escape" if in_class else "Invalid decimal escape")
            if c in "89":
                return ord(c)
            m = _OCTAL_RE.match(src, self.pos - 1)  # Annex B legacy octal, at most \377
            self.pos = m.end()
            return int(m.group(0), 8)
        if c == "x":
            h = src[self.pos:self.pos + 2]
            if len(h) == 2 and all(ch in _HEX for ch in h):
                self.pos += 2
                return int(h, 16)
            if self.unicode:
                raise self.fail("Invalid escape")
            return ord("x")
        if c == "u":
            return self.unicode_escape()
        if c == "-" and in_class:
            return 0x2D
        if c == "":
            raise self.fail("\\ at end of pattern")
        if self.unicode and c not in _SYNTAX_CHARS:
            raise self.fail("Invalid escape")
        return ord(c)  # identity escape

    def unicode_escape(self) -> int:
        src, p = self.src, self.pos
        if self.unicode and src.startswith("{", p):
            end = src.find("}", p)
            digits = src[p + 1:end] if end > p else ""
            if not digits or not all(ch in _HEX for ch in digits) or int(digits, 16) > _MAX_CP:
                raise self.fail("Invalid Unicode escape")
            self.pos = end + 1
            return int(digits, 16)
        h = src[p:p + 4]
        if len(h) != 4 or not all(ch in _HEX for ch in h):
            if self.unicode:
                raise self.fail("Invalid Unicode escape")
            return ord("u")
        self.pos += 4
        cp = int(h, 16)
        if 0xD800 <= cp <= 0xDBFF and src.startswith("\\u", self.pos):
            low = src[self.pos + 2:self.pos + 6]
            if len(low) == 4 and all(ch in _HEX for ch in low) and 0xDC00 <= int(low, 16) <= 0xDFFF:
                self.pos += 6  # a surrogate pair names one astral code point (strings hold code points)
                return 0x10000 + ((cp - 0xD800) << 10) + (int(low, 16) - 0xDC00)
        return cp

    # -- character classes ------------------------------------------------------------------
    def char_class(self) -> str:
        negate = self.peek() == "^"
        if negate:
            self.pos += 1
        if self.peek() == "]":
            self.pos += 1
            return "[\\s\\S]" if negate else "(?!)"
        parts: list[str] = []
        while True:
            c = self.peek()
            if c == "":
                raise self.fail("Unterminated character class")
            if c == "]":
                self.pos += 1
                break
            lo = self.class_atom()
            if self.peek() == "-" and self.peek(1) not in ("]", ""):
                self.pos += 1
                hi = self.class_atom()
                if type(lo) is str or type(hi) is str:
                    if self.unicode:
                        raise self.fail("Invalid character class")
                    parts.append(lo if type(lo) is str else _class_char(lo))
                    parts.append("\\-")
                    parts.append(hi if type(hi) is str else _class_char(hi))
                    continue
                if lo > hi:
                    raise self.fail("Range out of order in character class")
                parts.append(_class_char(lo) + "-" + _class_char(hi))
            else:
                parts.append(lo if type(lo) is str else _class_char(lo))
        return ("[^" if negate else "[") + "".join(parts) + "]"

    def class_atom(self) -> int | str:
        """A code point, or a class body string for \\d \\s \\w and their negations."""
        c = self.peek()
        self.pos += 1
        if c != "\\":
            return ord(c)
        e = self.peek()
        if e in _CLASS_ESCAPES:
            self.pos += 1
            return _CLASS_ESCAPES[e]
        if e == "b":
            self.pos += 1
            return 0x08
        if e == "k" and not self.unicode:
            self.pos += 1
            return ord("k")
        return self.char_escape(in_class=True)


_BRACE_RE = re.compile(r"\{([0-9]+)(,([0-9]*))?\}")
_DECIMAL_RE = re.compile(r"[0-9]+")
_OCTAL_RE = re.compile(r"[0-3][0-7]{0,2}|[4-7][0-7]?")
_MAXREPEAT = 4294967295 - 1  # sre's limit; a larger JS bound is as good as unbounded


def _valid_group_name(name: str) -> bool:
    return bool(name) and not name[0].isdigit() and name.replace("$", "_").isidentifier()


_VALID_FLAGS = frozenset("dgimsuy")
_cache: dict[tuple[str, str], Translated] = {}


def check_flags(flags: str) -> None:
    """SyntaxError for an unknown or repeated flag (§22.2.3.2.2 RegExpInitialize)."""
    if len(set(flags)) != len(flags) or not _VALID_FLAGS.issuperset(flags):
        raise syntax_error(f"Invalid flags supplied to RegExp constructor '{flags}'")


def compile_js(source: str, flags: str = "") -> Translated:
    """Translate and compile a JS pattern; cached by (source, flags). Raises a JS SyntaxError."""
    key = (source, flags)
    hit = _cache.get(key)
    if hit is not None:
        return hit
    check_flags(flags)
    ignore_case = "i" in flags
    try:
        text, names, ngroups = _translate(source, flags, spell_boundaries=False)
        # re.ASCII gives JS's ASCII \b; with i it would also stop non-ASCII case folding, so a
        # pattern that has non-ASCII text under i spells its boundaries out instead. With u the
        # folding is Unicode's simple case folding even for ASCII text (/s/iu matches 'ſ',
        # /k/iu the Kelvin sign, §22.2.2.7.3 Canonicalize), which is what re does without ASCII.
        py_flags = re.ASCII
        if ignore_case:
            py_flags = re.IGNORECASE
            if text.isascii() and "u" not in flags:
                py_flags |= re.ASCII
            elif "\\b" in text or "\\B" in text:
                text, names, ngroups = _translate(source, flags, spell_boundaries=True)
        if "s" in flags:
            py_flags |= re.DOTALL
        compiled = re.compile(text, py_flags)
    except _Error as e:
        raise syntax_error(f"Invalid regular expression: /{source}/: {e}") from None
    except re.error as e:
        reason = "Invalid regular expression: /%s/: %s" % (source, _python_reason(e))
        raise syntax_error(reason) from None
    result = Translated(compiled, ngroups, tuple(names), flags, source)
    if len(_cache) >= _CACHE_LIMIT:
        _cache.clear()
    _cache[key] = result
    return result


def _translate(source: str, flags: str, spell_boundaries: bool) -> tuple[str, list[tuple[str, int]], int]:
    t = _Translator(source, flags, spell_boundaries)
    alts = t.disjunction()
    if t.pos < len(source):  # only a stray ")" stops a top-level disjunction early
        raise _Error("Unmatched ')'")
    return "|".join(alts), t.names, t.group


def _python_reason(e: re.error) -> str:
    if "look-behind" in str(e):
        return "variable-length lookbehind is not supported"
    return str(e.msg)
