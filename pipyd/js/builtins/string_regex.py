"""String.prototype methods that take a pattern: match, matchAll, replace, replaceAll, search, split.

ECMAScript 2020 §22.1.3 with the RegExp halves of §22.2.5 (@@match, @@replace, @@search, @@split)
folded in, since PipyJS has no Symbols: an argument is either a ``JSRegExp`` or coerced to a
string. ``matchAll`` returns an array of match arrays instead of an iterator (generators are out
of scope); ``for of``, spread and indexing behave the same on it.

The core-builtins module merges ``REGEX_STRING_METHODS`` into STRING_PROTO; every function takes
``this`` (a ``str``) first.
"""
from __future__ import annotations

from typing import Any, Callable

from pipyd.js import runtime
from pipyd.js.builtins.regexp import JSRegExp, build_match, groups_object, match_at, regexp_exec, to_length
from pipyd.js.coerce import to_string, to_uint32
from pipyd.js.values import JSArray, type_error, typeof, undefined

_MAX_UINT32 = 2**32 - 1


def _as_regexp(v: Any, flags: str = "") -> JSRegExp:
    if type(v) is JSRegExp:
        return v
    return JSRegExp("" if v is undefined else to_string(v), flags)


def _all_matches(rx: JSRegExp, s: str) -> list[Any]:
    """Every match of a global RegExp from index 0, as repeated exec would find them: an empty
    match moves on by one code point (§22.2.5.6 step 6.e.iii, AdvanceStringIndex)."""
    regex = rx.compiled.regex
    find = regex.match if rx.sticky else regex.search
    out, pos, n = [], 0, len(s)
    while pos <= n:
        m = find(s, pos)
        if m is None:
            break
        out.append(m)
        end = m.end()
        pos = end + 1 if end == m.start() else end
    rx.lastIndex = 0
    return out


def string_match(this: str, regexp: Any = undefined, *_: Any) -> Any:
    rx = _as_regexp(regexp)
    if not rx.global_:
        return regexp_exec(rx, this)
    found = _all_matches(rx, this)
    return JSArray(m.group(0) for m in found) if found else None


def string_match_all(this: str, regexp: Any = undefined, *_: Any) -> JSArray:
    if type(regexp) is JSRegExp and not regexp.global_:
        raise type_error("String.prototype.matchAll called with a non-global RegExp argument")
    rx = _as_regexp(regexp, "g")
    # @@matchAll works on a copy (§22.2.5.8): the argument's lastIndex is where it starts
    copy = JSRegExp(rx.source, rx.flags)
    n = len(this)
    pos = to_length(rx.lastIndex) if type(regexp) is JSRegExp else 0
    regex = copy.compiled.regex
    find = regex.match if copy.sticky else regex.search
    out = JSArray()
    while pos <= n:
        m = find(this, pos)
        if m is None:
            break
        out.append(build_match(copy, m, this))
        end = m.end()
        pos = end + 1 if end == m.start() else end
    return out


def string_search(this: str, regexp: Any = undefined, *_: Any) -> int:
    # @@search (§22.2.5.9) runs exec with lastIndex 0 and restores lastIndex: it is left untouched.
    rx = _as_regexp(regexp)
    regex = rx.compiled.regex
    m = regex.match(this) if rx.sticky else regex.search(this)
    return -1 if m is None else m.start()


# -- replace ---------------------------------------------------------------------------------

def get_substitution(template: str, matched: str, s: str, position: int, captures: list[Any],
                     groups: Any) -> str:
    """GetSubstitution (§22.1.3.17.1): the $$, $&, $`, $', $n, $nn and $<name> patterns."""
    out: list[str] = []
    i, n, m = 0, len(template), len(captures)
    while i < n:
        j = template.find("$", i)
        if j < 0 or j + 1 >= n:
            out.append(template[i:])
            break
        out.append(template[i:j])
        c = template[j + 1]
        i = j + 2
        if c == "$":
            out.append("$")
        elif c == "&":
            out.append(matched)
        elif c == "`":
            out.append(s[:position])
        elif c == "'":
            out.append(s[position + len(matched):])
        elif "0" <= c <= "9":
            d = template[j + 2] if j + 2 < n else ""
            if "0" <= d <= "9" and 1 <= int(c + d) <= m:
                k, i = int(c + d), j + 3
            elif c != "0" and int(c) <= m:
                k = int(c)
            else:
                out.append("$" + c)
                continue
            v = captures[k - 1]
            out.append("" if v is undefined else v)
        elif c == "<" and groups is not undefined:
            end = template.find(">", i)
            if end < 0:
                out.append("$<")
                continue
            v = runtime.get(groups, template[i:end])
            out.append("" if v is undefined else to_string(v))
            i = end + 1
        else:
            out.append("$" + c)
    return "".join(out)


def _replacer(replacement: Any) -> tuple[Callable[..., Any] | None, str]:
    if typeof(replacement) == "function":
        return replacement, ""
    return None, to_string(replacement)


def _replace_regexp(this: str, rx: JSRegExp, replacement: Any, all_matches: list[Any]) -> str:
    fn, template = _replacer(replacement)
    out, last = [], 0
    if fn is None and "$" not in template:  # a constant replacement: no captures needed
        for m in all_matches:
            out.append(this[last:m.start()])
            last = m.end()
        out.append(this[last:])
        return template.join(out)
    names = rx.compiled.names
    for m in all_matches:
        start = m.start()
        captures = [undefined if v is None else v for v in m.groups()]
        groups = groups_object(rx.compiled, m) if names else undefined
        if fn is not None:
            args = [m.group(0), *captures, start, this]
            if names:
                args.append(groups)
            piece = to_string(runtime.call(fn, *args))
        else:
            piece = get_substitution(template, m.group(0), this, start, captures, groups)
        out.append(this[last:start])
        out.append(piece)
        last = m.end()
    out.append(this[last:])
    return "".join(out)


def _replace_string(this: str, search: str, replacement: Any, positions: list[int]) -> str:
    fn, template = _replacer(replacement)
    out, last, k = [], 0, len(search)
    for p in positions:
        if fn is not None:
            piece = to_string(runtime.call(fn, search, p, this))
        elif "$" in template:
            piece = get_substitution(template, search, this, p, [], undefined)
        else:
            piece = template
        out.append(this[last:p])
        out.append(piece)
        last = p + k
    out.append(this[last:])
    return "".join(out)


def string_replace(this: str, pattern: Any = undefined, replacement: Any = undefined, *_: Any) -> str:
    if type(pattern) is str and type(replacement) is str and "$" not in replacement:
        return this.replace(pattern, replacement, 1)  # the common case, no substitution patterns
    if type(pattern) is JSRegExp:
        if pattern.global_:
            found = _all_matches(pattern, this)
        else:
            m = match_at(pattern, this)
            found = [m] if m is not None else []
        return _replace_regexp(this, pattern, replacement, found)
    search = to_string(pattern)
    p = this.find(search)
    return this if p < 0 else _replace_string(this, search, replacement, [p])


def string_replace_all(this: str, pattern: Any = undefined, replacement: Any = undefined, *_: Any) -> str:
    if type(pattern) is JSRegExp:
        if not pattern.global_:
            raise type_error("replaceAll must be called with a global RegExp")
        return _replace_regexp(this, pattern, replacement, _all_matches(pattern, this))
    if type(pattern) is str and type(replacement) is str and "$" not in replacement:
        return this.replace(pattern, replacement)  # Python's '' handling matches §22.1.3.18
    search = to_string(pattern)
    advance = max(1, len(search))
    positions, p = [], this.find(search)
    while p >= 0:
        positions.append(p)
        p = this.find(search, p + advance) if p + advance <= len(this) else -1
    return _replace_string(this, search, replacement, positions)


# -- split -----------------------------------------------------------------------------------

def string_split(this: str, separator: Any = undefined, limit: Any = undefined, *_: Any) -> JSArray:
    lim = _MAX_UINT32 if limit is undefined else to_uint32(limit)
    if type(separator) is JSRegExp:
        return _split_regexp(this, separator, lim)
    if separator is undefined:
        return JSArray([this] if lim else [])
    sep = separator if type(separator) is str else to_string(separator)
    if lim == 0:
        return JSArray()
    if sep == "":
        return JSArray(this[:lim])
    parts = this.split(sep)
    return JSArray(parts if len(parts) <= lim else parts[:lim])


def _split_regexp(s: str, rx: JSRegExp, lim: int) -> JSArray:
    """@@split (§22.2.5.13): matches are tried at each position as if sticky; a search finds the
    same next match. Captures are spliced between the pieces."""
    out = JSArray()
    if lim == 0:
        return out
    regex = rx.compiled.regex
    size = len(s)
    if size == 0:
        if regex.match(s) is None:
            out.append(s)
        return out
    p = q = 0
    while q < size:
        m = regex.search(s, q)
        if m is None or m.start() >= size:
            break
        q = m.start()
        e = min(m.end(), size)
        if e == p:  # an empty match where the last piece ended: move on (step 19.d.iii)
            q += 1
            continue
        out.append(s[p:q])
        if len(out) == lim:
            return out
        for v in m.groups():
            out.append(undefined if v is None else v)
            if len(out) == lim:
                return out
        p = q = e
    out.append(s[p:])
    return out


REGEX_STRING_METHODS: dict[str, Callable[..., Any]] = {
    "match": string_match,
    "matchAll": string_match_all,
    "replace": string_replace,
    "replaceAll": string_replace_all,
    "search": string_search,
    "split": string_split,
}
