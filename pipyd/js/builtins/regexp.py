"""RegExp (ECMAScript 2020 §22.2.3–§22.2.5): the constructor, exec/test/toString, lastIndex.

A RegExp value is a ``JSRegExp`` (not a HostObject: its members come from ``REGEXP_PROTO``, which
the runtime finds through ``PROTO_BY_TYPE``; properties such as ``source`` and the writable
``lastIndex`` are ``Accessor`` entries). The pattern is translated once by ``pipyd.js.regexp``.

A successful ``exec`` returns a ``JSMatch``: a JSArray of the captures (undefined for a group that
did not take part) that also carries ``index``, ``input``, ``groups`` (and ``indices`` with the d
flag) in its ``props`` object; the runtime reaches them through ``JSMatch.js_get_member``.
"""
from __future__ import annotations

from typing import Any

from pipyd.js import runtime
from pipyd.js.builtins.classes import BuiltinClass, register_prototype
from pipyd.js.coerce import to_integer, to_string
from pipyd.js.regexp import Translated, compile_js
from pipyd.js.values import JSArray, JSObject, undefined

_FLAG_ORDER = "dgimsuy"  # the order of RegExp.prototype.flags (§22.2.5.4)
_MAX_LENGTH = 2**53 - 1


class JSRegExp:
    """A RegExp instance. ``lastIndex`` holds whatever a script assigned (read with ToLength)."""

    __slots__ = ("compiled", "source", "flags", "lastIndex", "global_", "sticky", "__weakref__")

    def __init__(self, source: str, flags: str = "") -> None:
        self.compiled: Translated = compile_js(source, flags)
        self.source = source
        self.flags = "".join(f for f in _FLAG_ORDER if f in flags)
        self.lastIndex: Any = 0
        self.global_ = "g" in flags
        self.sticky = "y" in flags

    def __repr__(self) -> str:
        return f"/{escape_source(self.source)}/{self.flags}"


class JSMatch(JSArray):
    """The array ``exec``/``match`` return: captures plus ``index``, ``input``, ``groups``."""

    __slots__ = ("props",)

    def __init__(self, items: list[Any], props: JSObject) -> None:
        super().__init__(items)
        self.props = props

    def js_get_member(self, key: str) -> Any:
        v = self.props.get(key, _M)
        if v is not _M:
            return v
        if key == "length":
            return len(self)
        i = runtime.array_index(key)
        if i >= 0:
            return self[i] if i < len(self) else undefined
        m = runtime.ARRAY_PROTO.get(key) or runtime.OBJECT_PROTO.get(key)
        return runtime.proto_member(m, self) if m is not None else undefined

    def js_set_member(self, key: str, value: Any) -> None:
        i = runtime.array_index(key)
        if i >= 0:
            if i >= len(self):
                self.extend([undefined] * (i + 1 - len(self)))
            self[i] = value
        elif key == "length":
            n = to_length(value)
            del self[n:]
            self.extend([undefined] * (n - len(self)))
        else:
            self.props[key] = value


_M = object()


def escape_source(source: str) -> str:
    """EscapeRegExpPattern (§22.2.3.2.5): the form ``source`` and ``toString`` show."""
    if not source:
        return "(?:)"
    out, in_class, i, n = [], False, 0, len(source)
    while i < n:
        c = source[i]
        if c == "\\" and i + 1 < n:
            out.append(source[i:i + 2])
            i += 2
            continue
        if c == "[":
            in_class = True
        elif c == "]":
            in_class = False
        elif c == "/" and not in_class:
            c = "\\/"
        elif c in _LT_ESCAPES:
            c = _LT_ESCAPES[c]
        out.append(c)
        i += 1
    return "".join(out)


_LT_ESCAPES = {"\n": "\\n", "\r": "\\r", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def to_length(v: Any) -> int:
    """ToLength (§7.1.20)."""
    n = v if type(v) is int else to_integer(v)
    if n <= 0:
        return 0
    return int(min(n, _MAX_LENGTH))


def match_at(rx: JSRegExp, s: str) -> Any:
    """RegExpBuiltinExec (§22.2.5.2.2) up to the Python match object; updates lastIndex."""
    if rx.global_ or rx.sticky:
        li = rx.lastIndex
        if type(li) is not int or li < 0:  # ToLength: a negative lastIndex starts at 0
            li = to_length(li)
        if li > len(s):
            rx.lastIndex = 0
            return None
        regex = rx.compiled.regex
        m = regex.match(s, li) if rx.sticky else regex.search(s, li)
        rx.lastIndex = m.end() if m is not None else 0
        return m
    return rx.compiled.regex.search(s)


def build_match(rx: JSRegExp, m: Any, s: str) -> JSMatch:
    """The match array for a Python match object (§22.2.5.2.2 steps 15–35)."""
    items = [v if v is not None else undefined for v in m.groups()]
    items.insert(0, m.group(0))
    props = JSObject(index=m.start(), input=s, groups=groups_object(rx.compiled, m))
    if "d" in rx.flags:
        props["indices"] = _indices(rx.compiled, m)
    return JSMatch(items, props)


def groups_object(c: Translated, m: Any) -> Any:
    if not c.names:
        return undefined
    g = m.group
    return JSObject((name, g(i) if g(i) is not None else undefined) for name, i in c.names)


def _indices(c: Translated, m: Any) -> JSArray:
    pairs = [JSArray(m.span(i)) if m.start(i) >= 0 else undefined for i in range(c.ngroups + 1)]
    groups = undefined
    if c.names:
        groups = JSObject((name, pairs[i]) for name, i in c.names)
    return JSMatch(pairs, JSObject(groups=groups))


# -- prototype methods (fn(this, *args)) -----------------------------------------------------

def regexp_exec(this: JSRegExp, string: Any = undefined, *_: Any) -> Any:
    s = string if type(string) is str else to_string(string)
    m = match_at(this, s)
    return None if m is None else build_match(this, m, s)


def regexp_test(this: JSRegExp, string: Any = undefined, *_: Any) -> bool:
    s = string if type(string) is str else to_string(string)
    return match_at(this, s) is not None


def regexp_to_string(this: JSRegExp, *_: Any) -> str:
    return "/" + escape_source(this.source) + "/" + this.flags


def _set_last_index(this: JSRegExp, value: Any) -> None:
    this.lastIndex = value


def _flag(letter: str) -> runtime.Accessor:
    return runtime.Accessor(lambda this: letter in this.flags)


REGEXP_PROTO: dict[str, Any] = {
    "exec": regexp_exec,
    "test": regexp_test,
    "toString": regexp_to_string,
    "source": runtime.Accessor(lambda this: escape_source(this.source)),
    "flags": runtime.Accessor(lambda this: this.flags),
    "lastIndex": runtime.Accessor(lambda this: this.lastIndex, _set_last_index),
    "global": _flag("g"),
    "ignoreCase": _flag("i"),
    "multiline": _flag("m"),
    "dotAll": _flag("s"),
    "unicode": _flag("u"),
    "sticky": _flag("y"),
    "hasIndices": _flag("d"),
}


# -- constructor (§22.2.3.1) -----------------------------------------------------------------

def _pattern_and_flags(pattern: Any, flags: Any) -> tuple[str, str]:
    if type(pattern) is JSRegExp:
        return pattern.source, pattern.flags if flags is undefined else to_string(flags)
    p = "" if pattern is undefined else to_string(pattern)
    return p, "" if flags is undefined else to_string(flags)


def construct_regexp(pattern: Any = undefined, flags: Any = undefined, *_: Any) -> JSRegExp:
    """``new RegExp(pattern, flags)``; a RegExp pattern is copied (with new flags if given)."""
    return JSRegExp(*_pattern_and_flags(pattern, flags))


def call_regexp(pattern: Any = undefined, flags: Any = undefined, *_: Any) -> JSRegExp:
    """``RegExp(pattern, flags)`` without new returns a RegExp argument itself when no flags."""
    if type(pattern) is JSRegExp and flags is undefined:
        return pattern
    return construct_regexp(pattern, flags)


def make_regexp(pattern: str, flags: str) -> JSRegExp:
    """A regex literal's value: a new object per evaluation (§13.2.7.3), the compile is cached.
    The compiler may call ``pipyd.js.regexp.compile_js`` at compile time to report early errors."""
    return JSRegExp(pattern, flags)


# Cls.prototype shows methods only: accessors are read on instances through PROTO_BY_TYPE.
REGEXP_CLASS = BuiltinClass("RegExp", call_regexp, construct_regexp,
                            proto_methods={k: v for k, v in REGEXP_PROTO.items() if callable(v)},
                            instance_types=(JSRegExp,), length=2)
register_prototype((JSRegExp,), REGEXP_CLASS)
runtime.PROTO_BY_TYPE[JSRegExp] = REGEXP_PROTO

EXPORTS: dict[str, object] = {"RegExp": REGEXP_CLASS}
