"""``current.#name`` references between reducers of one stream (streamlog.md §7).

``#name`` after a dot is a private name in ECMAScript (§15.7.1) and a SyntaxError outside a class
that declares it, so neither QuickJS nor our parser (pipyd.js.parser) accepts reducer sources as
written. We therefore scan the source ourselves — a small lexer that skips string, template and
regular-expression literals and comments — and rewrite each ``.#name`` into ``["#name"]`` before
the sandbox compiles it; the names found are the reducer's dependencies. A ``#name`` declared as
a class member somewhere in the source (a ``#name`` not preceded by ``.``) keeps its private
meaning and is neither rewritten nor a dependency.

The regex/division ambiguity is settled the usual way: ``/`` starts a regular expression unless
the previous token ends an operand (identifier, number, string, ``)``, ``]``, ``}``).
"""
from __future__ import annotations

import re
from typing import Iterable, Mapping

__all__ = ["scan", "order", "find_cycle"]

_IDENT = re.compile(r"[A-Za-z_$][\w$]*")
_REF = re.compile(r"\.\s*#([A-Za-z_$][\w$-]*)")
_OPERAND_WORDS = frozenset({"this", "super", "null", "true", "false", "undefined"})


def scan(source: str) -> tuple[str, list[str]]:
    """(the source with ``.#name`` rewritten to ``["#name"]``, the referenced names in order)."""
    refs: list[tuple[int, int, str]] = []
    declared: set[str] = set()
    _lex(source, refs, declared)
    names: list[str] = []
    out, last = [], 0
    for start, end, name in refs:
        if name in declared:
            continue
        out.append(source[last:start])
        out.append(f'["#{name}"]')
        last = end
        if name not in names:
            names.append(name)
    out.append(source[last:])
    return "".join(out), names


def _lex(src: str, refs: list, declared: set) -> None:
    i, n = 0, len(src)
    operand = False                 # whether the previous token ends an operand (for '/')
    braces: list[str] = []          # '{' of code, or '`' for a template's ${ … }
    while i < n:
        c = src[i]
        if c in " \t\r\n":
            i += 1
        elif src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif c in "'\"":
            i, operand = _skip_quoted(src, i, c), True
        elif c == "`" or (c == "}" and braces and braces[-1] == "`"):
            if c == "}":
                braces.pop()
            i, opened = _skip_template(src, i + 1)
            if opened:
                braces.append("`")
            operand = not opened
        elif c == "/" and not operand:
            i, operand = _skip_regex(src, i), True
        elif c == ".":
            m = _REF.match(src, i)
            if m:
                refs.append((i, m.end(), m.group(1)))
                i, operand = m.end(), True
            else:
                i, operand = i + 1, False
        elif c == "#":
            m = _IDENT.match(src, i + 1)
            if m:
                declared.add(m.group())
                i = m.end()
            else:
                i += 1
            operand = True
        elif c.isalnum() or c in "_$":
            m = re.compile(r"[\w$]+").match(src, i)
            word = m.group()
            i = m.end()
            operand = not _keyword_before_expression(word)
        else:
            if c == "{":
                braces.append("{")
            elif c == "}" and braces:
                braces.pop()
            operand = c in ")]}"
            i += 1


def _keyword_before_expression(word: str) -> bool:
    return word in ("return", "typeof", "instanceof", "in", "of", "new", "delete", "void",
                    "throw", "case", "do", "else", "yield", "await") and word not in _OPERAND_WORDS


def _skip_quoted(src: str, i: int, q: str) -> int:
    i += 1
    while i < len(src):
        c = src[i]
        if c == "\\":
            i += 2
            continue
        if c == q or c == "\n":
            return i + 1
        i += 1
    return i


def _skip_template(src: str, i: int) -> tuple[int, bool]:
    """From inside a template: (position after its end or after ``${``, whether ``${`` opened)."""
    while i < len(src):
        c = src[i]
        if c == "\\":
            i += 2
        elif c == "`":
            return i + 1, False
        elif c == "$" and src.startswith("${", i):
            return i + 2, True
        else:
            i += 1
    return i, False


def _skip_regex(src: str, i: int) -> int:
    i += 1
    in_class = False
    while i < len(src):
        c = src[i]
        if c == "\\":
            i += 2
            continue
        if c == "\n":
            return i
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "/":
            i += 1
            while i < len(src) and (src[i].isalnum() or src[i] in "_$"):
                i += 1                 # flags
            return i
        i += 1
    return i


def find_cycle(deps: Mapping[str, Iterable[str]]) -> list[str] | None:
    """A dependency cycle as a path ``[a, b, …, a]``, or None. Names missing from ``deps`` are
    leaves (the caller checks that every dependency exists)."""
    state: dict[str, int] = {}      # 1 on the current path, 2 done
    path: list[str] = []

    def visit(v: str) -> list[str] | None:
        state[v] = 1
        path.append(v)
        for w in deps.get(v, ()):
            if state.get(w) == 1:
                return path[path.index(w):] + [w]
            if w not in state and w in deps:
                found = visit(w)
                if found:
                    return found
        path.pop()
        state[v] = 2
        return None

    for v in sorted(deps):
        if v not in state:
            found = visit(v)
            if found:
                return found
    return None


def order(deps: Mapping[str, Iterable[str]]) -> list[str]:
    """Names with every dependency before its dependents (ties by name, so the order is stable).
    The graph must be acyclic (``find_cycle`` first)."""
    done: list[str] = []
    seen: set[str] = set()

    def visit(v: str) -> None:
        if v in seen:
            return
        seen.add(v)
        for w in sorted(deps.get(v, ())):
            if w in deps:
                visit(w)
        done.append(v)

    for v in sorted(deps):
        visit(v)
    return done
