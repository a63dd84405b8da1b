"""Differential testing of PipyJS against QuickJS (the engine inside the ``dukpy`` package).

A seeded generator (``Generator``, ``random.Random(seed)``) writes small JS programs over the
ES2020 subset PipyJS supports (/work/shared/specs/pipyjs.md); every program runs on both engines
and the two results are compared as strings. Both engines run the same source: ``PROLOGUE``,
which is ``"use strict"`` (see there) and ``SERIALIZER``, a JS function turning any value into
one canonical string (type tags, ``-0``, ``NaN``, ``undefined``, arrays and objects in key order;
a thrown error as its ``name`` only, since message texts legitimately differ between engines),
then the program.

A program is one to four *items*, each a function body ``stmts; return expr`` run in its own
``try``, so one throwing item does not hide the others; the result is one line per item. Now and
then a single item runs at the top level instead (pipyd compiles module-level bindings
differently), an uncaught error then reported by the Python side of each engine.

Differences are decided against ECMA-262, item by item. What PipyJS does differently on purpose
(or cannot do, or what QuickJS gets wrong) is either never generated (``NOT_GENERATED``, each
with its reason) or, where the generator produces it, accepted by an entry of ``ALLOWED`` (a
predicate over the item and both result lines, with its reason). Nothing is skipped silently.

Run ``python -m tests.conformance.js.differential --seed 1 --n 5000`` for a long session: it
prints each mismatch with the differing items, the whole program and both results (``--brief``
the items only, ``--stop`` stops at the first, ``--show N`` reruns program N of the seed), then
how often each ALLOWED entry was used.
"""
from __future__ import annotations

import json
import math
import random
import re
import struct
import sys
from dataclasses import dataclass, field
from typing import Callable

# --- the canonical serializer (the same text runs on both engines) ---------------------------

SERIALIZER = r"""
function __ser(v, d) {
  if (d === undefined) d = 0;
  if (d > 8) return '<deep>';
  if (v === undefined) return 'u';
  if (v === null) return 'null';
  var t = typeof v;
  if (t === 'boolean') return v ? 'true' : 'false';
  if (t === 'number') {
    if (v !== v) return 'NaN';
    if (v === 0 && 1 / v < 0) return '-0';
    return 'n:' + String(v);
  }
  if (t === 'string') return 's:' + JSON.stringify(v);
  if (t === 'function') return 'fn:' + JSON.stringify(v.name) + '/' + v.length;
  if (t !== 'object') return 't:' + t;
  if (v instanceof Error) return 'err:' + v.name;
  if (v instanceof RegExp) return 're:' + v.source + '/' + v.flags + '@' + __ser(v.lastIndex);
  if (v instanceof Map || v instanceof Set) {
    var es = [];
    v.forEach(function (val, key) { es.push(__ser(key, d + 1) + '=>' + __ser(val, d + 1)); });
    return (v instanceof Map ? 'Map{' : 'Set{') + es.join(',') + '}';
  }
  var parts = [], ks, i;
  if (Array.isArray(v)) {
    for (i = 0; i < v.length; i++) parts.push(__ser(v[i], d + 1));
    // non-index own keys (exec results: index, input, groups), sorted: QuickJS creates
    // "groups" before "index" and "input", against RegExpBuiltinExec's order (and V8's)
    ks = Object.keys(v).filter(function (k) { return String(k >>> 0) !== k; }).sort();
    for (i = 0; i < ks.length; i++) parts.push(JSON.stringify(ks[i]) + ':' + __ser(v[ks[i]], d + 1));
    return '[' + parts.join(',') + ']';
  }
  ks = Object.keys(v);
  for (i = 0; i < ks.length; i++) parts.push(JSON.stringify(ks[i]) + ':' + __ser(v[ks[i]], d + 1));
  return '{' + parts.join(',') + '}';
}
function __thrown(e) {
  return (e instanceof Error) ? 'throw:' + e.name : 'throw-value:' + __ser(e);
}
"""


# PipyJS functions follow strict mode where the modes differ (``this`` of a plain call is
# undefined, ``arguments`` is not aliased to parameters, legacy octal literals and assignment to
# undeclared names are errors), so QuickJS runs every program as strict code. The directive is a
# plain expression statement to pipyd. The few sloppy-mode choices pipyd makes are in ALLOWED.
PROLOGUE = '"use strict";\n' + SERIALIZER
TOPLEVEL_MARK = "// top level\n"  # heads a top-level item's source as ALLOWED sees it


Item = tuple[str, str]  # (statements, final expression)


@dataclass
class Program:
    """A generated program: items run one by one as function bodies (``stmts; return expr``),
    or (``toplevel``) its one item at module level, the value of its expression serialized.
    ``variants[i]`` is item i with every regexp group made non-capturing, when item i has a
    capturing group in a quantified atom and no backreference (ALLOWED: quantified captures)."""
    items: list[Item]
    toplevel: bool = False
    variants: list[Item | None] = field(default_factory=list)

    @property
    def source(self) -> str:
        if self.toplevel:
            stmts, expr = self.items[0]
            return PROLOGUE + "\n" + stmts + "\nvar __out = __ser(" + expr + ");\n__out"
        out = [PROLOGUE, "(function () {", "  var __r = [];"]
        for stmts, expr in self.items:
            body = (stmts + "\n" if stmts else "") + "return " + expr + ";"
            out.append("  try { __r.push(__ser((function () {\n" + body +
                       "\n  })())); } catch (__e) { __r.push(__thrown(__e)); }")
        out.append("  return __r.join('\\n');")
        out.append("})()")
        return "\n".join(out)

    @property
    def text(self) -> str:
        """The program without the prologue, as reports show it."""
        return self.source[len(PROLOGUE):]

    def item_sources(self) -> list[str]:
        """Each item's text as ALLOWED sees it (a top-level item headed by TOPLEVEL_MARK)."""
        head = TOPLEVEL_MARK if self.toplevel else ""
        return [head + (stmts + "\n" if stmts else "") + expr for stmts, expr in self.items]

    def variant(self, i: int) -> "Program | None":
        v = self.variants[i] if i < len(self.variants) else None
        return None if v is None else Program([v], self.toplevel)


# --- running both engines ---------------------------------------------------------------------

def run_pipyd(source: str) -> str:
    import pipyd.events  # noqa: F401  (import order avoids a cycle)
    import pipyd.filters  # noqa: F401
    from pipyd.js.engine import evaluate
    from pipyd.js.errors import JSSyntaxError
    from pipyd.js.values import JSErrorObject, JSThrow
    try:
        result = evaluate(source, "diff.js")
    except JSSyntaxError:
        return "syntax-error"
    except JSThrow as e:
        if isinstance(e.value, JSErrorObject):
            return "uncaught:" + str(e.value.name)
        return "uncaught-value"
    except RecursionError:
        return "uncaught:RangeError"
    except Exception as e:  # noqa: BLE001 - a Python error escaping the engine is a finding
        return f"python-error:{type(e).__name__}: {e}"
    if isinstance(result, str):
        return result
    return f"non-string-result:{result!r}"


def run_quickjs(source: str) -> str:
    import dukpy
    try:
        result = dukpy.JSInterpreter().evaljs(source)
    except dukpy.JSRuntimeError as e:
        text = str(e)
        head = text.split(":", 1)[0]
        if head == "SyntaxError" and "\n    at <dukpy>:" in text and "at <eval>" not in text:
            return "syntax-error"
        if head.endswith("Error") and head.isidentifier():
            return "uncaught:" + head
        return "uncaught-value"
    if isinstance(result, str):
        return result
    return f"non-string-result:{result!r}"


# --- what is not generated, and the accepted differences ------------------------------------

NOT_GENERATED = {
    "astral characters": "PipyJS strings are indexed by code point ('😀'.length === 1), JS by "
                         "UTF-16 unit (spec: Values and semantics); no astral or surrogate "
                         "characters are generated.",
    "array holes": "JSArray is dense: holes read as undefined and callbacks visit them "
                   "(builtins/array.py); no elisions, new Array(n) only under fill(), no "
                   "delete of an array element (it leaves undefined, not a hole), no write "
                   "far past the end (a[4294967294] = v would fill the gap).",
    "iterator objects": "Array/Map/Set keys()/values()/entries() and String matchAll return "
                        "arrays, not iterators (generators are out of scope): only spread or "
                        "for-of over them is generated.",
    "arguments as an array": "`arguments` is a JSArray (compiler.py): only its length and "
                             "indices are generated, not Array.isArray, array methods or "
                             "Object.prototype.toString on it.",
    "cyclic join": "[a].join with a cycle: no cycle detection in the spec (QuickJS overflows the "
                   "stack, V8 and pipyd print the cycle as ''): not generated.",
    "property attributes": "Object.freeze/seal are no-ops and defineProperty ignores attributes "
                           "(builtins/object.py): not generated.",
    "implementation-defined output": "Function.prototype.toString, error messages, locale "
                                     "methods, Number#toString(radix) of non-dyadic fractions "
                                     "and of integers past 2**53 (§21.1.3.6: QuickJS rounds "
                                     "(2**60).toString(3), pipyd is exact), sorting with an "
                                     "inconsistent comparator: not compared.",
    "transcendental Math": "Math.sin/exp/pow... are implementation-approximated (§21.3.2): their "
                           "results are compared through toPrecision(12).",
    "non-determinism": "Date.now, Math.random, new Date() are never generated.",
    "local time and invalid dates": "Dates use UTC methods only (the zone is the machine's); no "
                                    "day past a month's end in a date-time string ('2020-02-30': "
                                    "QuickJS and V8 roll it over, SpiderMonkey and pipyd give NaN; "
                                    "§21.4.3.2 leaves illegal element values to the "
                                    "implementation).",
    "class, generators, async, Symbol, BigInt, Proxy, with, eval": "out of scope of PipyJS.",
    "nullable quantified atoms": "A regexp atom that can match empty is never quantified "
                                 "((a?)*, (a|)+, (?:\\b)?): ECMAScript rejects an empty "
                                 "iteration once the minimum is met (§22.2.2.3.1 RepeatMatcher "
                                 "step 2.b) and backtracks into the atom; Python's re accepts it, "
                                 "so the match itself may differ. A known limitation of "
                                 "translating to re (pipyd/js/regexp.py).",
    "case folding across ASCII": "No ſ (U+017F), ı, K (U+212A), Å (U+212B) or Ω (U+2126) "
                                 "in case-insensitive patterns without u: re folds them with "
                                 "ASCII or Latin-1 letters when the pattern has non-ASCII text, "
                                 "JS's Canonicalize does not (a known limitation, regexp.py).",
    "object spread of a string": "QuickJS bug: ({...'ab'}) copies nothing (CopyDataProperties "
                                 "over ToObject('ab') gives {0: 'a', 1: 'b'}, as pipyd and V8 "
                                 "do): the conformance table has the case instead.",
}


@dataclass(frozen=True)
class Allowed:
    """An accepted difference, decided per item: ``applies(program, i, pipyd_line,
    quickjs_line)`` for item ``i`` (``program.item_sources()[i]`` is its text)."""
    name: str
    reason: str
    applies: Callable[["Program", int, str, str], bool]


def _text(test: Callable[[str, str, str], bool]) -> Callable[["Program", int, str, str], bool]:
    """A predicate over the item's text and the two result lines."""
    return lambda program, i, a, b: test(program.item_sources()[i], a, b)


_NUMBER = re.compile(r"n:(-?(?:\d[\d.]*(?:e[-+]\d+)?|Infinity))")


def _close_numbers(a: str, b: str) -> bool:
    """The lines are equal but for numbers within 4 ulps of each other (same kind each)."""
    na, nb = _NUMBER.findall(a), _NUMBER.findall(b)
    if len(na) != len(nb) or _NUMBER.sub("n:#", a) != _NUMBER.sub("n:#", b):
        return False
    for x, y in zip(na, nb):
        fx, fy = float(x), float(y)
        if fx != fy and not (math.isfinite(fx) and math.isfinite(fy)
                             and abs(fx - fy) <= 4 * math.ulp(max(abs(fx), abs(fy)))):
            return False
    return True


def _capture_free_agrees(program: "Program", i: int, a: str, b: str) -> bool:
    """Item i has a capturing group in a quantified atom, and with every group non-capturing
    (program.variant) both engines agree: what differs is only what the captures hold."""
    variant = program.variant(i)
    return variant is not None and run_pipyd(variant.source) == run_quickjs(variant.source)


def _only_swapped(pipyd_part: str, quickjs_part: str) -> Callable[[str, str], bool]:
    """The two lines are equal once ``pipyd_part`` in pipyd's is read as ``quickjs_part``."""
    return lambda a, b: pipyd_part in a and a.replace(pipyd_part, quickjs_part) == b


_WRITE_IGNORED = _only_swapped('s:"written"', 's:"TypeError"')
_TYPEOF_THIS = _only_swapped('s:"undefined"', 's:"object"')
_RENAMED = _only_swapped(",false]", ",true]")

ALLOWED: list[Allowed] = [
    Allowed("getter-only property write",
            "Writing a property that has a getter and no setter is ignored, as in sloppy mode "
            "(runtime_members.py: OrdinarySet returns false and nothing throws); strict code "
            "throws a TypeError from PutValue.",
            _text(lambda item, a, b: "o.only = 'w'" in item and _WRITE_IGNORED(a, b))),
    Allowed("top-level this",
            "A PipyJS file is a module: `this` at its top level (and in arrows there) is undefined, "
            "as in an ECMAScript module (a module environment's GetThisBinding is undefined); "
            "QuickJS runs a script, whose top-level this is globalThis. The "
            "conformance table (cases_language) holds `({f: () => typeof this}).f()` as undefined.",
            _text(lambda item, a, b: item.startswith(TOPLEVEL_MARK) and "=> typeof this" in item
                  and _TYPEOF_THIS(a, b))),
    Allowed("error kind is its name",
            "An error's kind is its name (builtins/error.py: `e instanceof TypeError` is decided "
            "by the name, so errors the runtime raises answer it too): after e.name = 'Custom' "
            "a TypeError is no longer instanceof TypeError (still instanceof Error); in JS the "
            "prototype decides.",
            _text(lambda item, a, b: "e.name = 'Custom'" in item and _RENAMED(a, b))),
    Allowed("exponentiation precision",
            "Number::exponentiate (§6.1.6.1.3) and Math.pow are implementation-approximated: "
            "pipyd computes int ** int exactly and rounds once, libm pow may be an ulp off (QuickJS "
            "gives (-0.5) ** 44 as 5.6843418860808015e-14, not 2**-44). Accepted within 4 ulps.",
            _text(lambda item, a, b: ("**" in item or "pow" in item) and _close_numbers(a, b))),
    Allowed("quantified captures",
            "Python's re keeps a capture from an earlier iteration of a quantified atom, where "
            "ECMAScript's RepeatMatcher (§22.2.2.3.1 step 4) resets the atom's captures at each "
            "iteration: /(z)((a+)?(b+)?(c))*/ on 'zaacbbbcac' captures 'bbb' for group 4 in re, "
            "undefined in ECMAScript (a known limitation of translating to re, regexp.py). "
            "Accepted only when the same item with every group non-capturing gives equal results "
            "on both engines.",
            _capture_free_agrees),
]


# --- the generator ---------------------------------------------------------------------------

EDGE_NUMBERS = [
    0, -0.0, 1, -1, 2, 3, -7, 10, 0.5, -0.5, 1.5, 2.5, -2.5, 0.1, 0.2, 0.3, 1 / 3, math.nan,
    math.inf, -math.inf, 2**53 - 1, 2**53, 2**53 + 2, -(2**53), 2**31 - 1, 2**31, -(2**31),
    -(2**31) - 1, 2**32 - 1, 2**32, 2**32 + 1, 1e21, 1e-7, 123.456, 5e-324, 1.7976931348623157e308,
    1e300, -1e-300, 255, 31, 32, 33, 65, 0.000001, 123456789, 1e20, 999999999999999900000, 4.35,
    1.005, 0.000001234, 2**-1074 * 3, 2.2250738585072014e-308, 9.5, 0.05, 1e15 + 0.3,
]

NUMERIC_STRINGS = [
    "", " ", "0", "-0", "1", "12", "1.5", " 12 ", "0x1f", "0X1F", "0o17", "0b101", "1e3", "abc",
    "Infinity", "-Infinity", "\t\n 5 \n", "1_000", ".5", "5.", "+5", "0x", "00012", "-0x10", "1e",
    "\u00a0 7", "a", "10", "9", "true", "null", "1e1000", "-1e-400", "0.0000001", "12px", "0b",
    "+.5e-2", "--1", "1,5", "\ufeff3", "0.1e+2", "-", "+", ".", "e5", "0xg", "1 2",
]

STRING_POOL = ["", "a", "abc", "ab ab", "AbC", "a-b_c", "  x y  ", "aaa", "b", "ba", "10", "2",
               "Ab", "hello world", "x\ny", "é", "ß", "İ", "ǅ", "ΑΣ", "ﬀ", "a\tb", "abcabc", "ǰ"]

OBJ_VALUES = [
    "true", "false", "null", "undefined", "[]", "[1]", "[1,2]", "['5']", "[null]", "[undefined]",
    "[[]]", "[0]", "[' 3 ']", "({})", "({a:1})", "({valueOf(){return 42}})",
    "({toString(){return '7'}})", "({valueOf(){return '3'}, toString(){return 'x'}})",
    "[1,[2,3]]", "({valueOf(){return -0}})", "({toString(){return {}}, valueOf(){return 8}})",
]

BINARY_OPS = ["+", "-", "*", "/", "%", "**", "==", "===", "!=", "!==", "<", "<=", ">", ">=",
              "&", "|", "^", "<<", ">>", ">>>", "&&", "||", "??", ","]
ALPHA = "abcAB -_.1\n$"
REPL_ALPHA = "x$&`'1"
WHITESPACE = ["  ", "\t", "\u00a0", "\ufeff", "\u2028", "\u200b", "\u180e", "\u3000", "\u2029",
              "\u000b", "\u000c", "\u1680", "\u205f", "\u0085"]


def js_num(x: float) -> str:
    """A JS number literal for ``x`` (parenthesized when negative)."""
    if isinstance(x, float):
        if math.isnan(x):
            return "NaN"
        if math.isinf(x):
            return "Infinity" if x > 0 else "(-Infinity)"
        if x == 0:
            return "(-0)" if math.copysign(1, x) < 0 else "0"
        text = repr(x)
    else:
        text = str(x)
    return "(" + text + ")" if text.startswith("-") else text


def js_str(s: str) -> str:
    """A JS string literal (JSON's string syntax is JS's; non-ASCII is written as \\u escapes)."""
    return json.dumps(s)


class Generator:
    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)
        self.seed = seed
        self.weights = [(getattr(self, name), w) for name, w in ITEM_WEIGHTS]

    # -- small helpers -----------------------------------------------------------------------
    def pick(self, seq):  # noqa: ANN001, ANN201
        return seq[self.r.randrange(len(seq))]

    def chance(self, p: float) -> bool:
        return self.r.random() < p

    def ri(self, a: int, b: int) -> int:
        return self.r.randint(a, b)

    def double(self) -> float:
        r = self.r.random()
        if r < 0.25:
            return self.pick(EDGE_NUMBERS)
        if r < 0.4:
            return self.ri(-20, 20)
        if r < 0.5:
            return self.ri(-10**self.ri(1, 22), 10**self.ri(1, 22))
        if r < 0.62:
            return round(self.r.uniform(-1, 1), self.ri(0, 6)) * 10.0**self.ri(-12, 25)
        if r < 0.72:
            while True:
                x = struct.unpack("<d", struct.pack("<Q", self.r.getrandbits(64)))[0]
                if not math.isnan(x) and not math.isinf(x):
                    return x
        if r < 0.84:
            base = self.pick([2**53, 2**31, 2**32, 2**30, 2**52, 2**63, 2**64, 1e21, 10**16])
            return self.pick([1, -1]) * (base + self.ri(-3, 3))
        if r < 0.94:
            return self.ri(-50, 50) + self.pick([0.5, 0.25, 0.125, 0.75, 0.005, 0.045, 0.0625])
        return float(f"{self.ri(0, 99)}.{self.ri(0, 999):03d}5")

    def num(self) -> str:
        return js_num(self.double())

    def small_int(self) -> str:
        return js_num(self.ri(-6, 10))

    def arg(self) -> str:
        """An argument for index-like parameters."""
        r = self.r.random()
        if r < 0.6:
            return self.small_int()
        return self.pick(["undefined", "NaN", "Infinity", "(-Infinity)", "1.5", "(-1.5)", "'2'",
                          "null", "true", "'x'", "(-0)", "2147483648", "(-4294967297)", "[]",
                          "[2]", "1e21"])

    def rstr(self, alphabet: str = ALPHA, hi: int = 8) -> str:
        if self.chance(0.25):
            return self.pick(STRING_POOL)
        return "".join(self.pick(alphabet) for _ in range(self.ri(0, hi)))

    def str_lit(self, alphabet: str = ALPHA, hi: int = 8) -> str:
        return js_str(self.rstr(alphabet, hi))

    def numeric_string(self) -> str:
        if self.chance(0.4):
            return self.pick(NUMERIC_STRINGS)
        ws = ["", "", "", " ", "\t", "\n", "\u00a0", "\ufeff", "\u2028", "\u3000"]
        sign = self.pick(["", "", "-", "+"])
        r = self.r.random()
        if r < 0.3:
            body = str(self.ri(0, 10**self.ri(1, 25)))
        elif r < 0.5:
            body = f"{self.ri(0, 999)}.{self.ri(0, 99999)}"
        elif r < 0.6:
            body = "." + str(self.ri(0, 9999))
        elif r < 0.72:
            body = f"{self.ri(0, 99)}{self.pick(['e', 'E'])}{self.pick(['', '+', '-'])}{self.ri(0, 400)}"
        elif r < 0.82:
            body = self.pick(["0x", "0X", "0b", "0o"]) + "".join(
                self.pick("0123456789abcdefABCDEF") for _ in range(self.ri(0, 6)))
        elif r < 0.9:
            body = self.pick(["Infinity", "infinity", "NaN", "inf", "0", "00", "0.0", "1e", "e1"])
        else:
            body = repr(self.double())
        junk = self.pick(["", "", "", "px", "e", ".", "x", " 1", "_1", "a", "..", "e+", "%"])
        return self.pick(ws) + sign + body + junk + self.pick(ws)

    def prim(self) -> str:
        r = self.r.random()
        if r < 0.45:
            return self.num()
        if r < 0.75:
            return js_str(self.numeric_string() if self.chance(0.6) else self.rstr())
        return self.pick(["true", "false", "null", "undefined"])

    def value(self) -> str:
        if self.chance(0.25):
            return self.pick(OBJ_VALUES)
        return self.prim()

    def array_lit(self, depth: int = 0, kind: str = "mixed") -> str:
        n = self.ri(0, 6)
        items = []
        for _ in range(n):
            if kind == "int":
                items.append(js_num(self.ri(-20, 30)))
            elif kind == "num":
                items.append(self.num() if self.chance(0.5) else js_num(self.ri(-20, 30)))
            elif kind == "str":
                items.append(self.str_lit("abcAB10", 3))
            elif depth < 2 and self.chance(0.15):
                items.append(self.array_lit(depth + 1, kind))
            else:
                items.append(self.pick([self.small_int(), self.str_lit("ab1 ", 3), "null",
                                        "undefined", "true", "false", "NaN", "(-0)", "10",
                                        "'10'", "9", "[1,2]", "({a:1})", "''", "Infinity"]))
        return "[" + ", ".join(items) + "]"

    def key(self) -> str:
        return self.pick(["a", "b", "c", "x", "1", "0", "2", "10", "01", "-1", "1.5", "4294967294",
                          "4294967295", "9007199254740993", "length", "constructor", "__x", "z",
                          "99", "1e3", "NaN", " 1", "-0", "18446744073709551615"])

    def object_lit(self, depth: int = 0) -> str:
        parts = []
        for _ in range(self.ri(0, 5)):
            k = self.key()
            ktext = js_str(k) if not k.isidentifier() or self.chance(0.3) else k
            if depth < 2 and self.chance(0.2):
                v = self.object_lit(depth + 1) if self.chance(0.5) else self.array_lit(depth + 1)
            else:
                v = self.pick([self.small_int(), self.str_lit("ab1 ", 3), "null", "undefined",
                               "true", "NaN", "(-0)", "Infinity"])
            parts.append(f"{ktext}: {v}")
        return "({" + ", ".join(parts) + "})"

    # -- program assembly ----------------------------------------------------------------------
    def item(self) -> tuple[Item, Item | None]:
        """One item of a weighted category, and its capture-free variant (see Program)."""
        self.variant_subs: list[tuple[str, str]] = []
        self.variant_ok = True
        self.quantified_capture = False
        total = sum(w for _, w in self.weights)
        x = self.r.uniform(0, total)
        make = self.weights[-1][0]
        for fn, w in self.weights:
            x -= w
            if x <= 0:
                make = fn
                break
        stmts, expr = make()
        variant = None
        if self.variant_ok and self.quantified_capture:
            vs, ve = stmts, expr
            for old, new in self.variant_subs:
                vs, ve = vs.replace(old, new), ve.replace(old, new)
            variant = (vs, ve)
        return (stmts, expr), variant

    def program(self) -> Program:
        toplevel = self.chance(0.1)
        pairs = [self.item() for _ in range(1 if toplevel else self.ri(1, 4))]
        return Program([p[0] for p in pairs], toplevel, [p[1] for p in pairs])

    # -- items: each returns (statements, final expression) ------------------------------------
    def i_binary(self) -> tuple[str, str]:
        exprs = []
        for _ in range(self.ri(1, 4)):
            op = self.pick(BINARY_OPS)
            a, b = self.value(), self.value()
            if op == "??":  # ?? cannot mix with && || unparenthesized; operands are atoms anyway
                exprs.append(f"({a}) ?? ({b})")
            else:
                exprs.append(f"({a}) {op} ({b})")
        return "", "[" + ", ".join(exprs) + "]"

    def i_numeric_binary(self) -> tuple[str, str]:
        exprs = []
        for _ in range(self.ri(2, 5)):
            op = self.pick(["+", "-", "*", "/", "%", "**", "&", "|", "^", "<<", ">>", ">>>", "<",
                            "==", "===", ">="])
            a = self.num()
            b = self.num() if op != "**" or self.chance(0.3) else js_num(self.ri(-3, 60))
            exprs.append(f"{a} {op} {b}")
        return "", "[" + ", ".join(exprs) + "]"

    def i_unary(self) -> tuple[str, str]:
        exprs = []
        for _ in range(self.ri(1, 4)):
            op = self.pick(["typeof ", "-", "+", "!", "~", "void ", "!!", "- -"])
            exprs.append(f"{op}({self.value()})")
        if self.chance(0.3):
            exprs.append(self.pick(["typeof undeclared_name", "typeof Math", "typeof Math.max",
                                    "typeof JSON", "typeof String", "typeof /a/", "typeof []",
                                    "typeof new Map()", "typeof (() => 1)", "typeof null"]))
        return "", "[" + ", ".join(exprs) + "]"

    def i_compound(self) -> tuple[str, str]:
        op = self.pick(["+=", "-=", "*=", "/=", "%=", "**=", "&=", "|=", "^=", "<<=", ">>=",
                        ">>>=", "&&=", "||=", "??="])
        a, b = self.value(), self.value()
        if op == "**=" and self.chance(0.7):
            b = js_num(self.ri(-2, 5))
        upd = self.pick(["x++", "x--", "++x", "--x"])
        target = self.pick(["x", "o.p", "o['p']", "arr[0]"])
        stmts = f"var x = {a}; var o = {{p: {a}}}; var arr = [{a}];\nvar r = ({target} {op} {b});"
        return stmts, f"[r, {target}, ({upd}), x]"

    def i_equality(self) -> tuple[str, str]:
        vals = [self.value() for _ in range(self.ri(2, 4))]
        stmts = "var vs = [" + ", ".join(vals) + "];\nvar out = [];"
        stmts += ("\nfor (var i = 0; i < vs.length; i++) for (var j = 0; j < vs.length; j++)"
                  " out.push([vs[i] == vs[j], vs[i] === vs[j], vs[i] < vs[j], vs[i] >= vs[j],"
                  " Object.is(vs[i], vs[j])].map(Number).join(''));")
        return stmts, "out.join(' ')"

    def i_number_format(self) -> tuple[str, str]:
        exprs = []
        for _ in range(self.ri(1, 5)):
            x = self.double()
            n = js_num(x)
            m = self.r.random()
            if m < 0.25:
                exprs.append(f"String({n})")
            elif m < 0.4:
                # toString(radix): integers, or dyadic fractions in a power-of-two radix (others
                # are implementation-defined, §21.1.3.6)
                if self.chance(0.6):
                    k = self.ri(-(2**53), 2**53) if self.chance(0.5) else self.ri(-5000, 5000)
                    radix = self.ri(2, 36) if self.chance(0.8) else self.pick(
                        ["", "undefined", "10", "16.9", "1", "37", "'8'", "0", "null", "NaN"])
                    exprs.append(f"({js_num(k)}).toString({radix})")
                else:
                    f = self.ri(-4000, 4000) / self.pick([2, 4, 8, 16, 64, 1024])
                    exprs.append(f"({js_num(f)}).toString({self.pick([2, 4, 8, 16, 32])})")
            elif m < 0.6:
                d = self.pick([self.ri(0, 20), self.ri(0, 100), "", "undefined", 101, -1, "1.9"])
                exprs.append(f"({n}).toFixed({d})")
            elif m < 0.8:
                p = self.pick([self.ri(1, 21), self.ri(1, 100), "", "undefined", 0, 101])
                exprs.append(f"({n}).toPrecision({p})")
            else:
                f = self.pick([self.ri(0, 20), self.ri(0, 100), "", "undefined", -1, 101])
                exprs.append(f"({n}).toExponential({f})")
        return "", "[" + ", ".join(exprs) + "]"

    def i_parse(self) -> tuple[str, str]:
        exprs = []
        for _ in range(self.ri(1, 5)):
            s = js_str(self.numeric_string())
            m = self.r.random()
            if m < 0.3:
                exprs.append(f"Number({s})")
            elif m < 0.55:
                radix = self.pick(["", ", 16", ", 2", ", 36", ", 10", ", 0", ", 1", ", 37",
                                   ", undefined", ", '8'", ", 16.9", ", -1", f", {self.ri(2, 36)}"])
                exprs.append(f"parseInt({s}{radix})")
            elif m < 0.75:
                exprs.append(f"parseFloat({s})")
            elif m < 0.85:
                exprs.append(f"+{s}")
            else:
                exprs.append(self.pick([f"isNaN({s})", f"isFinite({s})", f"Number.isInteger({self.num()})",
                                        f"Number.isSafeInteger({self.num()})", f"Number.isNaN({s})",
                                        f"Number.isFinite({self.num()})", f"Number.parseFloat({s})",
                                        f"parseInt({self.num()})", f"Number({self.value()})",
                                        f"{s} * 1", f"{s} - 0", f"{s} | 0", f"~~{s}"]))
        return "", "[" + ", ".join(exprs) + "]"

    def i_string_methods(self) -> tuple[str, str]:
        s = self.str_lit()
        exprs = []
        for _ in range(self.ri(1, 5)):
            sub = self.str_lit("abA -", 2) if self.chance(0.8) else self.arg()
            a, b = self.arg(), self.arg()
            m = self.pick([
                f"s.slice({a})", f"s.slice({a}, {b})", f"s.substring({a}, {b})",
                f"s.substring({a})", f"s.substr({a}, {b})", f"s.substr({a})",
                f"s.indexOf({sub})", f"s.indexOf({sub}, {a})", f"s.lastIndexOf({sub})",
                f"s.lastIndexOf({sub}, {a})", f"s.includes({sub}, {a})", f"s.startsWith({sub}, {a})",
                f"s.endsWith({sub}, {a})", f"s.startsWith({sub})", f"s.endsWith({sub})",
                f"s.padStart({self.ri(-1, 12)}, {self.str_lit('ab- ', 3)})",
                f"s.padEnd({self.ri(-1, 12)}, {self.str_lit('ab- ', 3)})", f"s.padStart({a})",
                f"s.padEnd({self.ri(0, 12)})", f"s.repeat({self.pick(['0', '1', '2', '3', '-1', 'Infinity', '2.5', 'NaN', a])})",
                "s.trim()", "s.trimStart()", "s.trimEnd()", "s.toUpperCase()", "s.toLowerCase()",
                f"s.charAt({a})", f"s.charCodeAt({a})", f"s.codePointAt({a})", f"s.at({a})",
                f"s.concat({self.value()}, {self.value()})", f"s[{a}]", "s.length",
                f"s.split({sub})", f"s.split({sub}, {a})", "s.split()", f"s.split('', {a})",
                f"String.fromCharCode({self.ri(32, 0xD7FF)}, {self.ri(0, 200)})",
                "String.fromCharCode(" + self.pick(["65.9", "-65", "65601", "'66'", "NaN"]) + ")",
                f"String.fromCodePoint({self.ri(32, 0xD7FF)})", "s.localeCompare === undefined",
                f"s.normalize('{self.pick(['NFC', 'NFD', 'NFKC', 'NFKD'])}')",
                f"s < {sub}", "[...s].length", f"s.replaceAll({sub}, {self.str_lit('x$&$$', 3)})",
                f"s.replace({sub}, {self.str_lit(REPL_ALPHA, 4)})",
                "(" + js_str(self.pick(WHITESPACE)) + " + s + '\\n')." + self.pick(["trim()", "trimStart()", "trimEnd()", "split(/\\s/)"]),
            ])
            exprs.append(m)
        return f"var s = {s};", "[" + ", ".join(exprs) + "]"

    def regexp_source(self) -> tuple[str, str | None, bool]:
        """A small JS pattern: (source, the same pattern with every group non-capturing or None
        when it has backreferences, whether a capturing group sits in a quantified atom).
        An atom that can match empty is never quantified (NOT_GENERATED: nullable quantified
        atoms)."""
        state = {"groups": 0, "names": [], "backref": False, "quantified_capture": False}

        def atom(d: int) -> tuple[str, str, bool, bool]:  # text, capture-free, captures, nullable
            r = self.r.random()
            if r < 0.35:
                c = self.pick("abcA1 -é")
                return c, c, False, False
            if r < 0.5:
                c = self.pick([".", "\\d", "\\w", "\\s", "\\D", "\\W", "\\S", "[a-c]", "[^a]",
                               "[ab]", "[\\d-]", "[^\\s]", "\\.", "\\n", "[.]", "\\x41",
                               "\\u0062", "[\\w-]", "\\b", "\\B", "^", "$"])
                return c, c, False, c in ("\\b", "\\B", "^", "$")
            if r < 0.7 and d < 2:
                kind = self.r.random()
                inner, plain, cap, nullable = seq(d + 1)
                if kind < 0.5:
                    state["groups"] += 1
                    return "(" + inner + ")", "(?:" + plain + ")", True, nullable
                if kind < 0.65:
                    name = self.pick(["x", "y", "n1", "a_b", "$d"])
                    if name not in state["names"]:
                        state["groups"] += 1
                        state["names"].append(name)
                        return f"(?<{name}>" + inner + ")", "(?:" + plain + ")", True, nullable
                if kind < 0.85:
                    return "(?:" + inner + ")", "(?:" + plain + ")", cap, nullable
                look = self.pick(["(?=", "(?!"])
                return look + inner + ")", look + plain + ")", cap, True
            if r < 0.8 and state["groups"] > 0:
                state["backref"] = True
                ref = "\\" + str(self.ri(1, state["groups"]))
                return ref, ref, False, True
            c = self.pick("ab")
            return c, c, False, False

        def piece(d: int) -> tuple[str, str, bool, bool]:
            a, plain, cap, nullable = atom(d)
            if nullable or not self.chance(0.3):
                return a, plain, cap, nullable
            q = self.pick(["*", "+", "?", "{2}", "{1,2}", "{0,}", "{2,}", "{,2}"])
            if q == "{,2}":  # not a quantifier: the four characters themselves
                return a + q, plain + q, cap, False
            if self.chance(0.3):
                q += "?"
            if cap:
                state["quantified_capture"] = True
            return a + q, plain + q, cap, q[0] in "*?" or q.startswith("{0")

        def seq(d: int) -> tuple[str, str, bool, bool]:
            alts = [[piece(d) for _ in range(self.ri(1, 3))]
                    for _ in range(1 if self.chance(0.7) else 2)]
            return ("|".join("".join(p[0] for p in alt) for alt in alts),
                    "|".join("".join(p[1] for p in alt) for alt in alts),
                    any(p[2] for alt in alts for p in alt),
                    any(all(p[3] for p in alt) for alt in alts))

        src, plain, _, _ = seq(0)
        return src, None if state["backref"] else plain, bool(state["quantified_capture"])

    def regexp(self, flags_from: str = "gimsuy", force: str = "") -> tuple[str, str]:
        """A RegExp literal or constructor call and its flags. Records the capture-free form for
        the item's variant (see ``item``)."""
        src, plain, quantified_capture = self.regexp_source()
        flags = "".join(f for f in flags_from if f in force or self.chance(0.2 if f == "u" else 0.3))
        # u makes some of these patterns early errors ({,2}): through the constructor they
        # throw inside the item instead of failing the whole program
        literal = self.chance(0.8) and "u" not in flags

        def text(p: str) -> str:
            return "/" + p + "/" + flags if literal else f"new RegExp({js_str(p)}, {js_str(flags)})"

        lit = text(src)
        if plain is None:
            self.variant_ok = False
        else:
            self.variant_subs.append((lit, text(plain)))
            self.quantified_capture = self.quantified_capture or quantified_capture
        return lit, flags

    def re_subject(self) -> str:
        return self.str_lit("abcA1 -\n_éÉ\r\u2028", 10)

    def i_regexp_exec(self) -> tuple[str, str]:
        lit, flags = self.regexp()
        s = self.re_subject()
        start = self.pick(["", "", f"re.lastIndex = {self.ri(0, 12)};", "re.lastIndex = -1;",
                           "re.lastIndex = '2';"])
        stmts = (f"var re = {lit}; var s = {s}; {start}\nvar out = []; var m; var k = 0;\n"
                 "while (k++ < 12) {\n  var li = re.lastIndex; m = re.exec(s);\n"
                 "  out.push(m === null ? null : [m.slice(), m.index, m.groups, re.lastIndex]);\n"
                 "  if (m === null || !re.global && !re.sticky) break;\n"
                 "  if (m[0] === '') re.lastIndex++;\n}")
        extra = self.pick(["re.test(s)", "[re.test(s), re.lastIndex, re.test(s), re.lastIndex]",
                           "[re.source, re.flags, re.global, re.ignoreCase, re.multiline, re.sticky, re.dotAll]",
                           "String(re)", "re.lastIndex"])
        return stmts, f"[out, {extra}]"

    def i_string_regexp(self) -> tuple[str, str]:
        lit, flags = self.regexp()
        s = self.re_subject()
        glit = self.regexp(force="g")[0]
        repl = self.pick(["'[$&]'", "'$1'", "'$2$1'", "'$$'", "'$`|$\\''", "'<$<x>>'", "'$0'",
                          "'$10'", "'$01'", "'x'", "''", "'$'", "'$<y'", "'$99'",
                          "(m, ...a) => JSON.stringify([m, a])", "(m) => m.toUpperCase()",
                          "(m, p1, off) => '' + off + p1", "() => undefined", "'$<n1>'"])
        exprs = []
        for _ in range(self.ri(1, 3)):
            exprs.append(self.pick([
                f"s.match({lit})", f"[...s.matchAll({glit})]", f"[...s.matchAll({lit})]",
                f"s.replace({lit}, {repl})", f"s.replaceAll({lit}, {repl})",
                f"s.search({lit})", f"s.split({lit})", f"s.split({lit}, {self.ri(0, 3)})",
                f"s.replace({self.str_lit('ab ', 2)}, {repl})",
                f"s.replaceAll({self.str_lit('ab ', 2)}, {repl})", f"s.match({self.str_lit('ab.', 2)})",
                f"s.split({self.str_lit('ab ', 2)}, {self.arg()})",
            ]))
        return f"var s = {s};", "[" + ", ".join(exprs) + "]"

    def i_array_methods(self) -> tuple[str, str]:
        kind = self.pick(["mixed", "int", "num", "str"])
        arr = self.array_lit(kind=kind)
        exprs = []
        for _ in range(self.ri(1, 4)):
            a, b = self.arg(), self.arg()
            x = self.pick([self.small_int(), "NaN", "undefined", "null", "'a'", "'1'", "(-0)", "10"])
            cmp = {"int": "(p, q) => p - q", "num": "(p, q) => (p < q ? -1 : p > q ? 1 : 0)",
                   "str": "(p, q) => (p < q ? 1 : p > q ? -1 : 0)"}.get(kind)
            choices = [
                "a.slice().sort()", f"a.slice({a}, {b})", f"a.slice({a})",
                f"[a.splice({a}, {b}, 'x', 'y'), a.slice()]", f"[a.splice({a}), a.slice()]",
                f"a.concat({self.array_lit()}, {x}, [[1]])", "a.join(" + self.pick(["", "'-'", "undefined", "null", "0"]) + ")",
                f"a.indexOf({x})", f"a.indexOf({x}, {a})", f"a.lastIndexOf({x})", f"a.lastIndexOf({x}, {a})",
                f"a.includes({x})", f"a.includes({x}, {a})", f"a.flat({self.pick(['', '0', '2', 'Infinity', '-1'])})",
                "a.flatMap(v => [v, [v]])", "a.flatMap(v => v)",
                "a.reduce((p, v, i) => p + '|' + i + ':' + v)", "a.reduce((p, v) => p + v, '')",
                "a.reduceRight((p, v, i) => p + '|' + i + ':' + v, '')", "a.reduceRight((p, v) => [p, v])",
                "a.find(v => typeof v === 'number')", "a.findIndex(v => v === 'a')",
                "a.findLast(v => !v)", "a.findLastIndex(v => v !== null)",
                "a.some(v => v === undefined)", "a.every(v => v)", "a.every(v => v !== 7)",
                f"a.slice().fill({x}, {a}, {b})", f"a.slice().fill({x})", "a.slice().reverse()",
                f"a.at({a})", "Array.from(a, (v, i) => [i, typeof v])", "Array.of(...a)",
                "Array.isArray(a)", "String(a)", "a.toString()", "a.length",
                "[a.push(1, 2), a.pop(), a.shift(), a.unshift('u'), a.slice()]",
                "a.map((v, i) => i)", "a.filter((v, i, arr) => arr.indexOf(v) === i)",
                "a.map(String)", "a.map(Number)", "a.map(v => v * 2).filter(v => v % 3 === 0)",
                "[...a.keys()]", "[...a.entries()]", "a.toReversed()", f"a.with(0, {x})",
                "a.slice().sort(undefined)", "a.concat().sort().reverse()",
            ]
            if cmp:  # on a0, the untouched literal of one type: a consistent comparator (sort's)
                choices += [f"a0.slice().sort({cmp})", f"a0.toSorted({cmp})"]
            exprs.append(self.pick(choices))
        keep = {"int": "typeof v === 'number'", "num": "typeof v === 'number' && v === v",
                "str": "typeof v === 'string'"}.get(kind, "true")
        return f"var a = {arr}; var a0 = a.filter(v => {keep});", "[" + ", ".join(exprs) + "]"

    def i_array_static(self) -> tuple[str, str]:
        src = self.pick([self.str_lit("abc", 4), "{length: 3, 0: 'a', 2: 'c'}", "{length: '2'}",
                         "{length: -1}", "{}", self.array_lit(), "new Set([1, 1, 2])",
                         "new Map([[1, 'a']])", "{length: 2.7, 1: 'x'}", "'ab'.split('')"])
        fn = self.pick(["", ", (v, i) => [v, i]", ", v => v === undefined", ", String"])
        more = self.pick(["Array.of(7)", "Array.of()", "Array(3).fill(0)", "new Array(2, 3)",
                          "Array(2).fill().map((v, i) => i)", "Array.isArray({length: 0})",
                          "Array.from({length: 4}, (v, i) => i * i)", "[].concat.length",
                          "Array.prototype.slice.call('abc', 1)", "Array.from('abc').length"])
        return "", f"[Array.from({src}{fn}), {more}]"

    def i_sort(self) -> tuple[str, str]:
        r = self.r.random()
        if r < 0.4:  # default sort compares ToString, undefined last
            items = [self.pick([self.small_int(), self.num(), "'10'", "'9'", "'a'", "'B'", "undefined",
                                "null", "true", "[2]", "'-1'", "NaN", "Infinity", "(-0)", "0"])
                     for _ in range(self.ri(0, 9))]
            return "", "[" + ", ".join(items) + "].sort()"
        if r < 0.7:  # stability with a consistent comparator on a key
            n = self.ri(0, 12)
            items = ", ".join(f"{{k: {self.ri(0, 3)}, i: {i}}}" for i in range(n))
            desc = self.pick(["p.k - q.k", "q.k - p.k", "(p.k > q.k) - (p.k < q.k)", "0"])
            return "", f"[{items}].sort((p, q) => {desc}).map(o => o.k + ':' + o.i).join(' ')"
        nums = ", ".join(self.num() if self.chance(0.3) else js_num(self.ri(-100, 100))
                         for _ in range(self.ri(0, 9)))
        return f"var a = [{nums}].filter(v => v === v);", "[a.slice().sort((p, q) => p - q), a.slice().sort((p, q) => q < p ? -1 : q > p ? 1 : 0)]"

    def json_value(self, depth: int = 0) -> str:
        r = self.r.random()
        if depth < 3 and r < 0.2:
            return "[" + ", ".join(self.json_value(depth + 1) for _ in range(self.ri(0, 4))) + "]"
        if depth < 3 and r < 0.4:
            parts = []
            for _ in range(self.ri(0, 4)):
                parts.append(f"{js_str(self.key())}: {self.json_value(depth + 1)}")
            return "{" + ", ".join(parts) + "}"
        return self.pick([self.num(), js_str(self.rstr("ab\"\\\n\t\u0001\u007f\u00e9\u2028/<", 5)),
                          "null", "undefined", "true", "false", "(() => 1)", "NaN", "Infinity",
                          "(-0)", "{toJSON() { return 'tj' }}", "{toJSON(k) { return 'k=' + k }}",
                          "new Map([[1, 2]])", "'\\ud800'", "/re/g", "new Error('x')",
                          "{toJSON: 5}", "[undefined, () => 1]", "{a: undefined}", "1e21",
                          "new Set([1])", "Object.create(null)", "'\\u2029'"])

    def i_json(self) -> tuple[str, str]:
        v = self.json_value()
        space = self.pick(["", ", null, 2", ", null, '\\t'", ", null, 12", ", null, -1",
                           ", null, 'abcdefghijklmnop'", ", null, ''", ", null, 2.9", ", null, '--'",
                           ", null, 1"])
        rep = self.pick(["", "", f", ['a', 'b', 1, {js_str(self.key())}, 'a']",
                         ", (k, v) => typeof v === 'number' ? v * 2 : v",
                         ", (k, v) => k === 'a' ? undefined : v",
                         ", function (k, v) { return k === '' ? v : Array.isArray(this) ? 'el' : v }",
                         ", []", ", null", ", (k, v) => v === null ? 'N' : v"])
        if rep and space:
            space = space[len(", null"):]
            call = f"JSON.stringify(v{rep}{space})"
        elif rep:
            call = f"JSON.stringify(v{rep})"
        else:
            call = f"JSON.stringify(v{space})"
        reviver = self.pick(["", ", (k, v) => typeof v === 'number' ? v + 1 : v",
                             ", (k, v) => k === 'a' ? undefined : v",
                             ", function (k, v) { return Array.isArray(v) ? v.length : v }",
                             ", (k, v) => k === '' ? [v] : v"])
        stmts = f"var v = {v};\nvar t = {call};"
        return stmts, f"[t, t === undefined ? 'u' : JSON.parse(t{reviver})]"

    def i_json_parse(self) -> tuple[str, str]:
        text = self.pick(["1", "-0", "1e400", "-1e-400", "0.1", "1.0", "01", "-", "1.", ".5",
                          "[1, 2, ]", "{\"a\": 1, \"a\": 2}", "{\"__proto__\": 1}", "\"\\u0041\"",
                          "\"\\ud83d\"", "\" \\t \"", "\"\t\"", "[]", "{}", "nul", "true ",
                          " [1,[2,[3]]] ", "{\"b\":1,\"2\":2,\"1\":3}", "\"\\/\"", "'a'", "NaN",
                          "1e5", "12345678901234567890", "{\"a\":[{\"b\":null}]}", "\"\\x41\"",
                          "[1 2]", "\u00a01", "1 ", "\n1\n", "", "{\"a\" : 1 , \"b\":[ ]}",
                          "-1E+2", "2.50", "0e0", "-0.0", "[\"\\u00e9\", \"\\\\\"]"])
        reviver = self.pick(["", ", (k, v) => v", ", (k, v) => typeof v === 'number' ? -v : v",
                             ", function (k, v) { return k === '1' ? undefined : v }",
                             ", (k, v) => [k, v]"])
        return "", f"JSON.parse({js_str(text)}{reviver})"

    def i_object_statics(self) -> tuple[str, str]:
        o = self.object_lit()
        stmts = f"var o = {o};"
        if self.chance(0.5):
            ops = []
            for _ in range(self.ri(1, 4)):
                k = self.pick([js_str(self.key()), self.small_int(), "1.5", "-0", "NaN", "1e21",
                               "4294967295", "true", "null", "[1]", "[]"])
                ops.append(self.pick([f"o[{k}] = {self.small_int()};", f"delete o[{k}];",
                                      f"o[{k}] = o[{k}];"]))
            stmts += "\n" + "\n".join(ops)
        exprs = [self.pick(["Object.keys(o)", "Object.values(o)", "Object.entries(o)",
                            "JSON.stringify(o)", "Object.assign({}, o, {z: 1, 1: 'one'})",
                            "Object.fromEntries(Object.entries(o).reverse())",
                            "Object.getOwnPropertyNames(o)", "Object.assign(o, null, undefined, 'ab')",
                            "Object.assign({}, [5, 6], 'xyz')", "Object.keys('abc')",
                            "Object.entries([7, 8])", "Object.fromEntries([['a', 1], ['a', 2], [1, 3]])",
                            "Object.fromEntries(new Map([[true, 1]]))",
                            "(function () { var ks = []; for (var k in o) ks.push(k); return ks })()",
                            "{...o, ...['hi'], ...null, ...7, a: 9}", "'a' in o", "o.hasOwnProperty('1')",
                            "Object.keys(Object.create(o))", "Object.entries(o).length"])
                 for _ in range(self.ri(1, 3))]
        return stmts, "[" + ", ".join(exprs) + "]"

    def i_math(self) -> tuple[str, str]:
        exact1 = ["abs", "ceil", "floor", "round", "trunc", "sign", "fround", "sqrt", "clz32"]
        approx1 = ["acos", "acosh", "asin", "asinh", "atan", "atanh", "cbrt", "cos", "cosh", "exp",
                   "expm1", "log", "log1p", "log10", "log2", "sin", "sinh", "tan", "tanh"]
        exprs = []
        for _ in range(self.ri(1, 5)):
            x = self.value() if self.chance(0.15) else self.num()
            m = self.r.random()
            if m < 0.45:
                exprs.append(f"Math.{self.pick(exact1)}({x})")
            elif m < 0.65:
                exprs.append(f"__approx(Math.{self.pick(approx1)}({x}))")
            elif m < 0.85:
                f = self.pick(["max", "min", "imul", "hypot", "atan2", "pow"])
                args = ", ".join(self.num() for _ in range(self.ri(0, 3) if f in ("max", "min", "hypot") else 2))
                call = f"Math.{f}({args})"
                exprs.append(call if f in ("max", "min", "imul") else f"__approx({call})")
            else:
                exprs.append(self.pick(["Math.round(-0.5)", "Math.round(0.49999999999999994)",
                                        "Math.round(-2.5)", "Math.max()", "Math.min(0, -0)",
                                        "Math.max(-0, 0)", "Math.max(NaN, 1)", "Math.sign(-0)",
                                        "Math.PI", "Math.E", "Math.LN2", "Math.SQRT1_2",
                                        "Math.round(2**52 + 0.5)", "Math.round(-(2**52) - 0.5)",
                                        f"Math.round({self.num()})", "Math.hypot()",
                                        "Math.atan2(-0, -0)", "Math.pow(-0, -3)"]))
        return ("var __approx = x => typeof x !== 'number' || x !== x || x === 0 || !isFinite(x)"
                " ? x : +x.toPrecision(12);"), "[" + ", ".join(exprs) + "]"

    def i_destructuring(self) -> tuple[str, str]:
        src = self.pick([self.object_lit(), "{a: undefined, b: null, c: 0}", "{a: {b: [1, , 3]}}",
                         "{}", "{x: 1, y: 2, z: 3, 1: 'one'}", "{a: [null, undefined]}"])
        arr = self.pick([self.array_lit(), "'ab'", "[undefined, null]", "[[1, [2]], 3]", "[]"])
        d1, d2 = self.value(), self.value()
        pat = self.pick([
            f"var {{a = {d1}, b: bb = {d2}, ...rest}} = {src}; var res = [a, bb, rest];",
            f"var {{a: {{b: [p, q = {d1}] = []}} = {{}}}} = {src}; var res = [p, q];",
            f"var [x, y = {d1}, ...zs] = {arr}; var res = [x, y, zs];",
            f"var [, second, [third] = [{d2}]] = {arr}; var res = [second, third];",
            "var x = 1, y = 2; [x, y] = [y, x]; var res = [x, y];",
            f"var o2 = {{}}; ({{a: o2.first, ...o2.rest}} = {src}); var res = o2;",
            f"function f({{a = {d1}, c}} = {{}}, [b] = [{d2}], ...more) {{ return [a, b, c, more, arguments.length]; }}\n"
            f"var res = [f(), f({src}), f({src}, {arr}, 1, 2), f.length];",
            f"var {{length: len, 0: first}} = {arr}; var res = [len, first];",
            f"var res = []; for (var [k, v = {d1}] of [[1], [2, 3], 'ab']) res.push(k, v);",
            f"var res = []; for (const {{a, ...r}} of [{src}, {src}]) res.push(a, r);",
            f"var [a = 1, b = a + 1, c = b * 2] = {self.pick(['[]', '[5]', '[undefined, 7]', '[null]'])}; var res = [a, b, c];",
        ])
        return pat, "res"

    def i_spread(self) -> tuple[str, str]:
        a1, a2 = self.array_lit(), self.array_lit()
        o = self.object_lit()
        exprs = [self.pick([f"[...{a1}, ...'ab', ...{a2}]", f"Math.max(...{self.array_lit(kind='num')})",
                            f"{{...{o}, k: 1, ...{a1}}}", f"{{...{a1}, ...{o}}}", f"[...new Set({a1})]",
                            f"((...r) => r.length)(...{a1}, ...{a2})", "String.fromCharCode(...[72, 105])",
                            "[...[..."'"xy"'"]]", "{...[9], ...undefined, ...true}", f"Array.of(...{a1}).length",
                            "[...new Map([[1, 2], [3, 4]])]", f"(function () {{ return arguments.length }})(...{a1})"])
                 for _ in range(self.ri(1, 3))]
        return "", "[" + ", ".join(exprs) + "]"

    def i_closures(self) -> tuple[str, str]:
        n = self.ri(0, 5)
        r = self.r.random()
        if r < 0.3:
            kind = self.pick(["let", "var"])
            body = self.pick(["fs.push(() => i);", "fs.push(() => i); i++;",
                              "fs.push(() => i++);", "if (i % 2) continue; fs.push(() => i * 10);",
                              "fs.push(function () { return i; }); if (i === 2) break;"])
            return f"var fs = [];\nfor ({kind} i = 0; i < {n}; i++) {{ {body} }}", "fs.map(f => f()).concat(fs.map(f => f()))"
        if r < 0.5:
            kind = self.pick(["let", "const", "var"])
            coll = self.pick([self.array_lit(), "'abc'", "{a: 1, b: 2, 1: 0}"])
            loop = "in" if coll.startswith("{") else self.pick(["of", "in"])
            return f"var fs = [];\nfor ({kind} k {loop} {coll}) fs.push(() => k);", "fs.map(f => f())"
        if r < 0.7:
            return (f"function counter(start) {{ let n = start; return {{ inc: () => ++n, get: () => n, "
                    f"add(d) {{ n += d; return this; }} }}; }}\nvar c1 = counter({n}), c2 = counter(10);\n"
                    f"c1.inc(); c1.add(5).add(1); c2.inc();"), "[c1.get(), c2.get(), c1.inc()]"
        if r < 0.85:
            return (f"var out = []; let j = 0;\nwhile (j < {n}) {{ let k = j * 2; out.push(() => k + j); j++; }}"
                    ), "out.map(f => f())"
        return ("var x = 'outer';\nfunction g() { return typeof x; }\n"
                "function h() { var r = g(); var x = 1; return [r, x, typeof y, (() => x)()]; var y; }"
                ), "h()"

    def i_template(self) -> tuple[str, str]:
        vs = [self.value() for _ in range(self.ri(1, 3))]
        parts = "".join(f"[${{{v}}}]" for v in vs)
        exprs = [f"`{parts}`", f"`a${{`b${{{vs[0]}}}c`}}d`", "`\\u0041\\x42\\n${1 + 1}`",
                 f"String.raw`x\\n${{{vs[0]}}}y`",
                 f"((s, ...v) => [s, s.raw, v])`p${{{vs[-1]}}}q\\t`", "`line1\nline2`"]
        return "", "[" + ", ".join(self.r.sample(exprs, self.ri(1, 3))) + "]"

    def i_optional(self) -> tuple[str, str]:
        o = self.pick(["null", "undefined", "{}", "{a: null}", "{a: {b: 0}}", "{a: {b: {c: 'deep'}}}",
                       "{f() { return this.v }, v: 7}", "{a: []}", "0", "''"])
        exprs = [self.pick(["o?.a", "o?.a?.b", "o?.a.b", "o?.['a']?.b?.c", "o?.f?.()", "o.f?.()",
                            "o?.a?.b?.toFixed?.(2)", "(o?.a)?.b", "o?.a ?? 'dflt'", "o ?? 'dflt'",
                            "o?.a?.[0] ?? o?.a?.length", "typeof o?.a", "delete o?.a",
                            "o?.a.b.c.d", "(o?.a).b", "o?.v ?? o?.f?.()", "o?.['constructor']?.name"])
                 for _ in range(self.ri(1, 4))]
        return f"var o = {o};", "[" + ", ".join(exprs) + "]"

    def i_nullish(self) -> tuple[str, str]:
        a, b, c = self.value(), self.value(), self.value()
        op = self.pick(["??=", "||=", "&&="])
        return (f"var x = {a}; var calls = 0; function side() {{ calls++; return {b}; }}\n"
                f"var r1 = (x {op} side());"), f"[r1, x, calls, ({a}) ?? ({b}) ?? ({c}), (({a}) || ({b})) ?? ({c})]"

    def i_labels(self) -> tuple[str, str]:
        n, m = self.ri(0, 4), self.ri(0, 4)
        c1 = self.pick(["i === j", "i + j > 3", "j === 2", "i === 1", "false"])
        c2 = self.pick(["j === 0", "i === 2", "(i + j) % 2", "true", "false"])
        act1 = self.pick(["break outer;", "continue outer;", "break;", "continue;", "break inner;"])
        act2 = self.pick(["continue inner;", "continue outer;", "break outer;", "continue;"])
        return (f"var out = [];\nouter: for (var i = 0; i < {n}; i++) {{\n  inner: for (var j = 0; j < {m}; j++) {{\n"
                f"    if ({c1}) {act1}\n    if ({c2}) {act2}\n    out.push(i + ':' + j);\n  }}\n  out.push('end' + i);\n}}\n"
                f"blk: {{ out.push('b'); if ({n} > 1) break blk; out.push('not'); }}"), "out"

    def i_switch(self) -> tuple[str, str]:
        v = self.pick([self.value(), "1", "'1'", "2", "'b'", "NaN", "-0"])
        cases = self.r.sample(["1", "'1'", "2", "'b'", "NaN", "0", "undefined", "null", "true"], self.ri(1, 4))
        body = []
        for idx, c in enumerate(cases):
            stop = self.pick(["break;", "", ""])
            body.append(f"case {c}: out.push({idx}); {stop}")
        if self.chance(0.7):
            pos = self.ri(0, len(body))
            body.insert(pos, f"default: out.push('d'); {self.pick(['break;', ''])}")
        return (f"var out = [];\nfor (var rep = 0; rep < 2; rep++) {{\n  switch ({v}) {{ {' '.join(body)} }}\n  out.push('|');\n}}"
                ), "out"

    def i_try(self) -> tuple[str, str]:
        t = self.pick(["log.push('t');", "log.push('t'); throw new TypeError('x');", "log.push('t'); return 'rt';",
                       "log.push('t'); null.x;", "log.push('t'); throw 5;", "undefinedFn();",
                       "log.push('t'); break;", "log.push('t'); continue;"])
        c = self.pick(["log.push('c:' + (e instanceof Error ? e.name : e));", "log.push('c'); return 'rc';",
                       "log.push('c'); throw new RangeError('y');", "log.push('c'); break;"])
        f = self.pick(["", "log.push('f');", "log.push('f'); return 'rf';", "log.push('f'); continue;",
                       "log.push('f'); throw 'ff';"])
        shape = self.pick(["catch", "finally", "both"])
        code = f"try {{ {t} }}"
        if shape != "finally":
            code += f" catch (e) {{ {c} }}"
        if shape != "catch":
            code += f" finally {{ {f} }}"
        return (f"var log = [];\nfunction run() {{\n  for (var k = 0; k < 2; k++) {{\n    log.push('k' + k);\n    {code}\n"
                f"    log.push('after');\n  }}\n  return 'end';\n}}\nvar res;\ntry {{ res = run(); }} catch (e) {{ res = 'out:' + (e instanceof Error ? e.name : e); }}"
                ), "[res, log]"

    def i_accessors(self) -> tuple[str, str]:
        v = self.value()
        return (f"var o = {{ _v: {v}, get v() {{ return this._v; }}, set v(x) {{ this._v = [x]; }},\n"
                f"  get only() {{ return 'ro'; }}, n: 1, ['comp' + 1]: 2, 3: 'three' }};\n"
                f"o.v = {self.value()}; var c = Object.assign({{}}, o);\n"
                "var w; try { o.only = 'w'; w = 'written'; } catch (e) { w = e.name; }"),\
            self.pick(["[o.v, o._v, o.only, Object.keys(o), JSON.stringify(o), c.v, Object.keys(c), w]",
                       "[Object.entries(o), 'v' in o, o.hasOwnProperty('only')]",
                       "[Object.getOwnPropertyDescriptor(o, 'v'), Object.getOwnPropertyDescriptor(o, 'only'), "
                       "Object.getOwnPropertyDescriptor(o, 'n'), Object.getOwnPropertyDescriptor(o, 'nope')]",
                       "(function () { var ks = []; for (var k in o) ks.push(k); return [ks, {...o}.only]; })()"])

    def i_functions(self) -> tuple[str, str]:
        return self.pick([
            ("function f(a, b) { return [this === undefined ? 'u' : typeof this, arguments.length, a, b]; }\n"
             "var g = f.bind(null, 1);", f"[g(2, 3), f.call({{}}, {self.value()}), f.apply(null, [1]).slice(1), g.length, f.name, g.name]"),
            ("var add = (a, b = 10) => a + b; function rest(a, ...r) { return r; }",
             f"[add({self.value()}), add(1, {self.value()}), add.length, rest.length, rest(1, 2, 3)]"),
            ("function fact(n) { return n <= 1 ? 1 : n * fact(n - 1); }", f"[fact({self.ri(0, 25)}), fact(170), fact(171)]"),
            ("var o = { m() { return this.x; }, x: 1, arrow: () => typeof this };\nvar m = o.m;",
             "[o.m(), o['m'](), (0, o.m) === m, o.arrow(), typeof m]"),
            ("function hoisted() { return inner(); function inner() { return typeof later; } var later = 1; }",
             "[hoisted(), typeof hoisted, hoisted.length]"),
        ])

    def i_misc_ops(self) -> tuple[str, str]:
        o = self.object_lit()
        a = self.array_lit()
        exprs = [self.pick([f"{js_str(self.key())} in {o}", f"{self.small_int()} in {a}",
                            f"'length' in {a}", f"{a} instanceof Array", f"{o} instanceof Object",
                            f"delete {o}.a", "(() => { var x = {a: 1}; delete x.a; return [x, 'a' in x]; })()",
                            f"[{a}.length = 2, {a}].length", f"(function () {{ var t = {a}; t.length = 1; return t; }})()",
                            f"(function () {{ var t = {a}; t[5] = 'five'; return [t.length, t[4]]; }})()",
                            "typeof Number('1')",
                            f"({self.value()}) instanceof Object", "void 0 === undefined",
                            f"String([{self.value()}, [{self.value()}]])", f"[{self.value()}] + ''",
                            f"`${{{o}}}`", "null ?? (0 || 'x')", "1 < 2 < 3", "3 > 2 > 1",
                            f"({self.value()}, {self.value()})", f"!{self.value()} === !{self.value()}"])
                 for _ in range(self.ri(1, 4))]
        return "", "[" + ", ".join(exprs) + "]"

    def i_loops(self) -> tuple[str, str]:
        n = self.ri(0, 6)
        return self.pick([
            (f"var out = []; var i = 0; do {{ out.push(i); i += 2; }} while (i < {n});", "out"),
            (f"var out = []; for (var i = {n}; i--;) out.push(i);", "out"),
            (f"var s = 0; for (var i = 0, j = {n}; i < j; i++, j--) s += i * j;", "s"),
            (f"var out = []; for (var ch of {self.str_lit()}) out.push(ch.charCodeAt(0));", "out"),
            (f"var out = []; var o = {self.object_lit()}; for (var k in o) {{ if (k === 'b') delete o.c; out.push(k); }}", "out"),
            (f"var out = []; var o = {{a: 1, b: 2, c: 3, 2: 'x', 1: 'y'}}; for (var k in o) {{ "
             f"{self.pick(['delete o.c;', 'delete o[2];', 'o.d = 4;', 'delete o.a; o.a = 0;', 'delete o[k];', 'o[0] = 1;'])}"
             f" out.push(k); }}", "[out, o]"),
            (f"var out = []; var a = [1, 2, 3, 4]; for (var k in a) {{ {self.pick(['a.length = 2;', 'a.pop();', 'a.push(5);', 'a.shift();'])} out.push(k); }}", "[out, a]"),
            (f"var out = []; var a = [1, 2, 3]; for (var v of a) {{ if (a.length < {n + 3}) a.push(v * 10); out.push(v); }}", "out"),
            (f"var out = []; var k = 0; while (true) {{ if (++k > {n}) break; if (k % 2) continue; out.push(k); }}", "out"),
            (f"var out = []; for (var i in {self.array_lit()}) out.push(typeof i, i);", "out"),
        ])

    def i_mapset(self) -> tuple[str, str]:
        ks = [self.pick(["1", "'1'", "NaN", "-0", "0", "null", "undefined", "true", "'a'", "k1", "k1", "[]"])
              for _ in range(self.ri(0, 6))]
        ops = "\n".join(self.pick([f"m.set({k}, {i});", f"m.delete({k});", f"s.add({k});", f"s.delete({k});"])
                        for i, k in enumerate(ks))
        return (f"var k1 = {{}}; var m = new Map(); var s = new Set();\n{ops}"), \
            "[m, s, m.size, s.size, [...m.keys()], [...s].length, m.get(NaN), m.has(0), s.has(-0)]"

    # -- random expression trees over a few variables (the compiler's fast paths) --------------
    def fast_value(self) -> str:
        """Values around the compiler's fast-path bounds: ints near 2**30 (compiler_expr._SMALL)
        and 2**53, -0, fractions, numeric strings, booleans, null."""
        r = self.r.random()
        if r < 0.35:
            return js_num(self.ri(-12, 12))
        if r < 0.55:
            base = self.pick([2**30 - 1, 2**30, 2**31, 2**52, 2**53, 2**26, 10**15])
            return js_num(self.pick([1, -1]) * (base + self.ri(-2, 2)))
        if r < 0.75:
            return self.num()
        return self.pick(["'7'", "'-3'", "''", "' '", "'0x10'", "'a'", "true", "false", "null",
                          "undefined", "[]", "[4]", "(-0)", "NaN", "Infinity", "'1e3'"])

    def expr(self, depth: int) -> str:
        r = self.r.random()
        if depth <= 0 or r < 0.2:
            return self.pick(["x", "y", "z", "x", "y", self.fast_value(), js_num(self.ri(0, 9)),
                              "s", "a.length", "o.p", "a[0]", "a[i]", "i"])
        d = depth - 1
        if r < 0.5:
            op = self.pick(["+", "-", "*", "/", "%", "**", "===", "!==", "==", "!=", "<", "<=",
                            ">", ">=", "&", "|", "^", "<<", ">>", ">>>", "&&", "||", "??", "+",
                            "-", "*", "%"])
            right = js_num(self.ri(-3, 9)) if self.chance(0.5) else self.expr(d)
            if op == "**" and self.chance(0.8):
                right = js_num(self.ri(0, 4))
            return f"({self.expr(d)} {op} {right})"
        if r < 0.58:
            return f"{self.pick(['-', '+', '!', '~', 'typeof ', 'void '])}{self.expr(d)}"
        if r < 0.64:
            return f"({self.expr(d)} ? {self.expr(d)} : {self.expr(d)})"
        if r < 0.8:
            e = self.expr(d)
            return self.pick([
                f"Math.floor({e})", f"Math.floor({e} / {self.ri(1, 7)})", f"Math.ceil({e})",
                f"Math.round({e})", f"Math.trunc({e})", f"Math.abs({e})",
                f"Math.min({e}, {self.expr(d)})", f"Math.max({e}, {self.ri(-3, 3)})",
                f"String({e})", f"Number({e})", f"Boolean({e})", f"parseInt({e})",
                f"`<${{{e}}}>`", f"[{e}].length", f"({e}).toString()" if self.chance(0.2) else f"String({e})",
                f"isNaN({e})", f"(s + {e}).length", f"a.indexOf({e})", f"a.includes({e})",
            ])
        if r < 0.9:
            var = self.pick(["x", "y", "z"])
            return self.pick([f"({var} {self.pick(['+=', '-=', '*=', '%=', '|=', '<<=', '??=', '||=', '&&='])} {self.expr(d)})",
                              f"({var}++)", f"(--{var})", f"({var} = {self.expr(d)})"])
        return self.pick([f"a.map(v => v {self.pick(['*', '+', '-', '%'])} {self.ri(1, 4)})",
                          f"a.filter(v => v % {self.ri(2, 3)} === {self.ri(0, 1)})",
                          "a.map(v => v * 2).filter(v => v % 3 === 0)",
                          f"a.map(v => v + {self.expr(0)})", f"a.filter(v => v > {self.expr(0)})",
                          f"a.map(v => Math.floor(v / {self.ri(1, 5)}))", "a.map(v => -v)",
                          f"a.map(v => v % {self.ri(1, 5)}).filter(v => v < 2)",
                          "a.map(v => v * v)", "a.filter(v => v === 0)", "a.map(v => v - 1 === 0)"])

    def i_expr_tree(self) -> tuple[str, str]:
        decl = (f"var x = {self.fast_value()}, y = {self.fast_value()}, z = {self.fast_value()};\n"
                f"var s = {self.str_lit('ab1 ', 3)}, i = {self.ri(0, 3)}, o = {{p: {self.fast_value()}}};\n"
                f"var a = [{', '.join(self.fast_value() for _ in range(self.ri(0, 6)))}];")
        exprs = [self.expr(self.ri(1, 4)) for _ in range(self.ri(1, 4))]
        return decl, "[" + ", ".join(exprs) + ", x, y, z]"

    def i_fast_function(self) -> tuple[str, str]:
        """A function of x over many values: the body compiles once, every call takes a path."""
        body = self.expr(self.ri(1, 3))
        vals = ", ".join(self.fast_value() for _ in range(self.ri(1, 8)))
        kind = self.pick(["fn", "arrow", "inline"])
        if kind == "fn":
            return (f"function f(x) {{ var y = 2, z = -1, s = 'q', i = 0, o = {{p: 3}}, a = [1, 2]; "
                    f"return {body}; }}"), f"[{vals}].map(v => f(v))"
        if kind == "arrow":
            return ("var y = 2, z = -1, s = 'q', i = 0, o = {p: 3}, a = [1, 2];\n"
                    f"var f = x => {body};"), f"[{vals}].map(f)"
        e = self.pick(["x * 2", "x + 1", "x - 1", "x % 3", "x * 3 % 5", "-x", "x / 2",
                       "x * x", "x % 2 === 0", "x + 1 > 3", "Math.floor(x / 2)", "x * 0"])
        stage = self.pick([f".map(x => {e})", f".filter(x => {e})", f".map(x => {e}).filter(x => x % 3 === 0)",
                           f".filter(x => x > 0).map(x => {e})", f".map(x => {e}).map(x => x + 1)"])
        return "", f"[{vals}]{stage}"

    # -- evaluation order, control flow, scopes, literals ---------------------------------------
    def i_order(self) -> tuple[str, str]:
        """Evaluation order (§13: left to right; a compound assignment reads its target first)
        seen through a log of side effects."""
        v1, v2 = self.fast_value(), self.fast_value()
        op = self.pick(["+", "-", "*", "<", "==", "===", "&", "**", "in", "instanceof", "??", "||", "&&"])
        cop = self.pick(["+=", "-=", "*=", "||=", "&&=", "??=", "="])
        e = self.pick([
            f"t('a', {v1}) {op} t('b', {'Object' if op == 'instanceof' else '{}' if op == 'in' else v2})",
            f"o[t('k', 'p')] {cop} t('v', {v2})",
            f"(x {cop} (x = t('inner', {v2}), 5))",
            f"a[t('i', 0)] = t('v', {v1})",
            f"a[i++] {cop} i",
            "t('f', (p, q) => [p, q])(t('p', 1), t('q', 2))",
            "[t('e0', 1), ...t('sp', [2, 3]), t('e1', 4)]",
            "({[t('k1', 'a')]: t('v1', 1), [t('k2', 'b')]: t('v2', 2)})",
            f"`${{t('x', {v1})}}${{t('y', {v2})}}`",
            f"t('c', {v1}) ? t('then', 1) : t('else', 2)",
            f"({{valueOf() {{ log.push('vo1'); return {v1}; }}}}) {op} ({{toString() {{ log.push('ts2'); return 'z'; }}, valueOf() {{ log.push('vo2'); return {v2}; }}}})",
            f"o.g {cop} t('v', {v2})",
            "t('obj', o)[t('key', 'p')]++",
            "x++ + x++ * --x",
            "(x = 1, x += x++ + ++x, x)",
            f"o.p = o.q = t('v', {v1})",
        ])
        stmts = (f"var log = []; var t = (tag, v) => (log.push(tag), v);\nvar x = {v1}, i = 0, a = [1, 2];\n"
                 f"var o = {{p: {v1}, q: 0, get g() {{ log.push('get'); return 3; }}, set g(v) {{ log.push('set:' + v); }}}};")
        return stmts, f"[(() => {{ try {{ return {e}; }} catch (err) {{ return 'E:' + err.name; }} }})(), log, x, o.p, a]"

    def i_control(self) -> tuple[str, str]:
        """break/continue in every loop kind, inside switch and try/finally."""
        n = self.ri(0, 5)
        loop = self.pick([
            ("for (let i = 0; i < N; i++) {", "}"), ("var i = 0; while (i < N) { i++;", "}"),
            ("var i = 0; do { i++;", "} while (i < N);"), ("for (const i of R) {", "}"),
            ("for (const i in R) {", "}"), ("for (var i = 0, j = N; i < j; i++, j--) {", "}"),
            ("let i = 0; for (;;) { if (i++ >= N) break;", "}"),
        ])
        head = loop[0].replace("N", str(n)).replace("R", "[" + ", ".join(str(k) for k in range(n)) + "]")
        cond = self.pick(["i == 1", "i % 2 == 0", "i > 2", "true", "false", "i == 3"])
        body = self.pick([
            f"if ({cond}) continue; out.push(i);",
            f"if ({cond}) break; out.push(i);",
            "switch (i % 3) { case 0: out.push('z' + i); continue; case 1: out.push('o' + i); break; default: out.push('d'); } out.push('after' + i);",
            f"try {{ if ({cond}) continue; out.push('t' + i); }} finally {{ out.push('f' + i); }}",
            f"try {{ if ({cond}) break; }} finally {{ out.push('f' + i); }} out.push(i);",
            f"lbl: {{ if ({cond}) break lbl; out.push('in' + i); }} out.push(i);",
            f"for (var k = 0; k < 2; k++) {{ if ({cond}) continue; out.push(i + '.' + k); }}",
            f"try {{ if ({cond}) throw i; out.push(i); }} catch (e) {{ out.push('c' + e); continue; }} finally {{ out.push('f'); }}",
        ])
        tail = loop[1].replace("N", str(n))
        return f"var out = [];\n{head} {body} {tail}", "out"

    def i_scope(self) -> tuple[str, str]:
        """Hoisting, block scopes (strict: block-level functions), shadowing, arguments."""
        v = self.value()
        return self.pick([
            ("var r = []; r.push(typeof h1); function h1() { return 1; } { function h2() { return 2; } r.push(h2()); }",
             "[r, typeof h2]"),
            (f"var x = 1; {{ let x = {v}; var y = x; }} var r = [x, y];", "r"),
            ("function f(a, b = a) { a = 9; return [a, b, arguments[0], arguments.length]; }",
             f"[f({v}), f({v}, 2, 3), f()]"),
            ("function f(...r) { return arguments.length + r.length; } var g = function fact(n) { return n > 1 ? n * fact(n - 1) : 1; };",
             f"[f(), f(1, {v}), g(5), typeof fact]"),
            ("var fs = []; for (let i = 0; i < 3; i++) { let j = i * 2; fs.push(() => i + j); } var r = fs.map(f => f());",
             "r"),
            (f"let q = {v}; function get() {{ return q; }} q = [q]; var r = get();", "r"),
            ("var r; try { r = u1; let u1 = 1; } catch (e) { r = e.name; }", "r"),
            (f"const c = {v}; var r; try {{ c = 2; r = 'assigned'; }} catch (e) {{ r = e.name; }}", "[r, c]"),
            ("var r = (function () { return typeof inner; function inner() {} })();", "r"),
            (f"var o = {{ v: {v}, m() {{ return () => this.v; }} }}; var f = o.m();", "f()"),
            ("var x = 'g'; function f() { var r = x; var x = 'l'; return [r, x]; }", "f()"),
            ("var n = 0; var add = () => n++; [1, 2, 3].forEach(add);", "n"),
        ])

    def i_literals(self) -> tuple[str, str]:
        lits = [self.pick(["0x1F", "0XaB", "0o17", "0O7", "0b101", "0B11", ".5", "5.", "1e3", "1E-3",
                           "0.1e+2", "1e21", "123456789012345678901234567890", "0.000001", "1e-7",
                           "'\\x41\\u0042\\u{43}'", "'\\0'", "'a\\\nb'", "'\\v\\f\\b'",
                           "'\\''", '"\\""', "'\\u00e9'.length", "`a\\`b`", "`\\${1}`",
                           "'\\u2028'.length", "'\\t'.charCodeAt(0)", "0.1 + 0.7", "5e-324 / 2",
                           "2e308", "-0x10", "1/-0", "0.1 * 3", "1.0000000000000002", "4.35 * 100",
                           "1.15 * 100", "0.57 * 100", "9007199254740993", "1e16 + 1", "-1e-7"])
                for _ in range(self.ri(1, 5))]
        return "", "[" + ", ".join(lits) + "]"

    def i_proto(self) -> tuple[str, str]:
        """Object.create chains, constructors, instanceof, getters through the chain."""
        v = self.value()
        return self.pick([
            (f"var base = {{ greet() {{ return 'hi ' + this.n; }}, n: 'base', get up() {{ return String(this.n).toUpperCase(); }} }};\n"
             f"var o = Object.create(base); o.n = {v};",
             "[o.greet(), o.up, Object.keys(o), 'greet' in o, o.hasOwnProperty('greet'), Object.getPrototypeOf(o) === base]"),
            (f"function P(x) {{ this.x = x; }} P.prototype.get = function () {{ return this.x; }};\nvar p = new P({v});",
             "[p.get(), p instanceof P, Object.keys(p), p.constructor === P, typeof P.prototype.get]"),
            ("var o = Object.create(null); o.a = 1;", "[Object.keys(o), 'toString' in o, typeof o.toString, JSON.stringify(o)]"),
            (f"var o = Object.create({{inherited: 1}}, {{own: {{value: {v}, enumerable: true}}}});",
             "[o.own, o.inherited, Object.keys(o), JSON.stringify(o), (function () { var k = []; for (var x in o) k.push(x); return k; })()]"),
            ("var e = new TypeError('m'); var r = [e instanceof TypeError, e instanceof Error, e.name, String(e), Object.prototype.toString.call(e)];",
             "r"),
            (f"var r = [Object.prototype.toString.call({v}), Object.prototype.toString.call([]), Object.prototype.toString.call(null), Object.prototype.toString.call(/x/)];",
             "r"),
        ])

    def i_keys(self) -> tuple[str, str]:
        """Property keys of every type on arrays, strings and objects (ToPropertyKey, §7.1.19)."""
        keys = [self.pick(["[1]", "['1']", "[[0]]", "['length']", "[['length']]", "[1.5]", "[-0]",
                           "[-1]", "['01']", "[true]", "[null]", "[undefined]", "[NaN]", "[1e21]",
                           "[{toString() { return '0'; }}]", "[{valueOf() { return 1; }}]", "[2 ** 32]",
                           "[4294967295]", "['4294967295']", "[-5]", "['x']", "[' 1']", "['+1']", "[[]]", "[{}]", "[0.0]"])
                for _ in range(self.ri(1, 4))]
        target = self.pick(["a", "s", "o"])
        ops = []
        for k in keys:
            ops.append(self.pick([f"r.push({target}{k});", f"r.push({k[1:-1]} in {target if target != 's' else 'o'});",
                                  f"{target if target != 's' else 'a'}{k} = 'w';",
                                  f"r.push(delete o{k});",
                                  f"r.push({target}{k}?.length);"]))
        return ("var a = [10, 20, 30], s = 'xyz', o = {0: 'zero', 1: 'one', length: 'L'}; var r = [];\n"
                + "\n".join(ops)), "[r, a, Object.keys(a), o, Object.keys(o)]"

    def i_date(self) -> tuple[str, str]:
        """Dates through their UTC methods only (nothing depends on the machine's zone)."""
        t = self.pick([str(self.ri(-10**13, 10**13)), "0", "-1", "8.64e15", "8.64e15 + 1", "NaN",
                       f"Date.UTC({self.ri(-300, 3000)}, {self.ri(-13, 25)}, {self.ri(-40, 40)}, "
                       f"{self.ri(-30, 30)}, {self.ri(-70, 70)})", "Date.UTC(2020)", "Date.UTC(99, 1)",
                       js_str(self.pick(["2020-02-29T12:34:56.789Z", "1970-01-01",
                                         "2020-01-01T00:00:00.000+02:00", "+002020-01-01T00:00:00Z",
                                         "2020-13-01T00:00:00Z", "x", "2021-06-15T10:20Z"]))])
        e = self.pick(["d.toISOString()", "d.getTime()", "[d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCDay(), d.getUTCHours(), d.getUTCMilliseconds()]",
                       "JSON.stringify({d})", "d.toUTCString()", "d.valueOf() === +d", "isNaN(d)",
                       "(d.setUTCDate(35), d.getTime())", "(d.setUTCHours(25, 61), d.toISOString())",
                       "Date.parse(d.toISOString())", "typeof d", "d.toJSON()"])
        return f"var d = new Date({t});", f"(() => {{ try {{ return {e}; }} catch (err) {{ return 'E:' + err.name; }} }})()"

    def i_errors(self) -> tuple[str, str]:
        kind = self.pick(["Error", "TypeError", "RangeError", "SyntaxError", "ReferenceError",
                          "EvalError", "URIError"])
        msg = self.pick(["'m'", "", "undefined", "42", "null", "{toString() { return 'ts'; }}"])
        return (f"var e = new {kind}({msg}); var f = {kind}({msg});"), self.pick([
            "[e.name, e.message, String(e), e instanceof Error, f instanceof " + kind + ", Object.keys(e)]",
            "[e.toString(), Object.prototype.hasOwnProperty.call(e, 'message'), typeof e.stack]",
            "(() => { try { throw e; } catch (x) { return [x === e, x.name]; } })()",
            "(() => { e.name = 'Custom'; return [String(e), e instanceof " + kind + "]; })()",
            "(() => { var o = {name: 'N', message: 'M'}; return Error.prototype.toString.call(o); })()",
            "new Error('x', {cause: 'c'}).cause",
            "[JSON.stringify(e), JSON.stringify({e})]",
        ])


ITEM_WEIGHTS = [
    ("i_binary", 10), ("i_numeric_binary", 8), ("i_unary", 4), ("i_compound", 5), ("i_equality", 4),
    ("i_number_format", 10), ("i_parse", 8), ("i_string_methods", 10), ("i_regexp_exec", 8),
    ("i_string_regexp", 9), ("i_array_methods", 10), ("i_array_static", 3), ("i_sort", 4),
    ("i_json", 7), ("i_json_parse", 3), ("i_object_statics", 6), ("i_math", 6),
    ("i_destructuring", 5), ("i_spread", 3), ("i_closures", 4), ("i_template", 3),
    ("i_optional", 4), ("i_nullish", 3), ("i_labels", 3), ("i_switch", 3), ("i_try", 4),
    ("i_accessors", 3), ("i_functions", 3), ("i_misc_ops", 4), ("i_loops", 3), ("i_mapset", 2),
    ("i_expr_tree", 14), ("i_fast_function", 8), ("i_order", 6), ("i_control", 6),
    ("i_scope", 4), ("i_literals", 3), ("i_proto", 3), ("i_keys", 4),
    ("i_date", 3), ("i_errors", 2),
]


# --- comparing ---------------------------------------------------------------------------------

@dataclass
class Mismatch:
    seed: int
    index: int
    program: Program
    pipyd: str
    quickjs: str
    items: list[int]  # the items whose results differ (all of them when the shapes differ)

    def report(self, full: bool = True) -> str:
        """The differing items with their two results; ``full`` adds the whole program and both
        whole results (what reproduces it: prepend differential.PROLOGUE)."""
        out = [f"--- seed {self.seed} program {self.index}: item(s) {self.items} differ"]
        sources = self.program.item_sources()
        la, lb = self.pipyd.split("\n"), self.quickjs.split("\n")
        for i in self.items:
            out.append(f"[item {i}]\n{sources[i]}")
            if len(la) == len(lb) == len(sources):
                out.append(f"  pipyd:   {la[i]}\n  quickjs: {lb[i]}")
        if full:
            out.append(f"--- program (prologue omitted: differential.PROLOGUE)\n{self.program.text}\n"
                       f"--- pipyd:\n{self.pipyd}\n--- quickjs:\n{self.quickjs}")
        return "\n".join(out) + "\n"


ALLOWED_HITS: dict[str, int] = {}  # how often each ALLOWED entry accepted a difference


def allowed(program: Program, i: int, a: str, b: str) -> Allowed | None:
    for entry in ALLOWED:
        if entry.applies(program, i, a, b):
            ALLOWED_HITS[entry.name] = ALLOWED_HITS.get(entry.name, 0) + 1
            return entry
    return None


def differing_items(program: Program, a: str, b: str) -> list[int]:
    """The items whose result lines differ and no ALLOWED entry accepts."""
    if a == b:
        return []
    sources = program.item_sources()
    la, lb = a.split("\n"), b.split("\n")
    if len(la) != len(sources) or len(lb) != len(sources):
        return list(range(len(sources)))  # an engine failed as a whole: nothing to accept
    return [i for i, (x, y) in enumerate(zip(la, lb)) if x != y and not allowed(program, i, x, y)]


def compare(program: Program) -> tuple[str, str, list[int]] | None:
    """Both results and the differing items when they differ, else None."""
    source = program.source
    a = run_pipyd(source)
    b = run_quickjs(source)
    bad = differing_items(program, a, b)
    return (a, b, bad) if bad else None


def programs(seed: int, n: int) -> list[Program]:
    gen = Generator(seed)
    return [gen.program() for _ in range(n)]


def fuzz(seed: int, n: int, stop: bool = False) -> list[Mismatch]:
    out = []
    for i, program in enumerate(programs(seed, n)):
        diff = compare(program)
        if diff is not None:
            out.append(Mismatch(seed, i, program, *diff))
            if stop:
                break
    return out


def main(argv: list[str]) -> int:
    import argparse
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--seeds", type=int, default=1, help="how many seeds from --seed on")
    p.add_argument("--n", type=int, default=1000, help="programs per seed")
    p.add_argument("--stop", action="store_true", help="stop at the first mismatch")
    p.add_argument("--show", type=int, default=-1, help="print program N of --seed and exit")
    p.add_argument("--brief", action="store_true", help="report the differing items only")
    args = p.parse_args(argv)
    if args.show >= 0:
        prog = programs(args.seed, args.show + 1)[args.show]
        print(prog.text)
        print("--- pipyd:", run_pipyd(prog.source), "--- quickjs:", run_quickjs(prog.source), sep="\n")
        return 0
    total = bad = 0
    for seed in range(args.seed, args.seed + args.seeds):
        found = fuzz(seed, args.n, args.stop)
        total += args.n
        bad += len(found)
        for m in found:
            print(m.report(not args.brief), flush=True)
        if found and args.stop:
            break
    print(f"{total} programs, {bad} mismatches; accepted differences: {ALLOWED_HITS or 'none'}",
          file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
