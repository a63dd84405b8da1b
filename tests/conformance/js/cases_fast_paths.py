"""Conformance cases for the compiled fast paths (docs/internals/engine.md "Fast paths"): each
inline form must give the general path's answer on the values it does not handle itself.
Cases here never write to shared builtins (Math, Array.prototype); tests/unit/js does that,
restoring them."""
from __future__ import annotations

from tests.conformance.js.table import NEG_ZERO, UNDEFINED, NaN

# ``.length`` read inline for strings and arrays; everything else takes the member tables.
LENGTH = [
    ("let o = {length: 5}; o.length", 5),
    ("let a = [1, , 3]; [a.length, 'h\u00e9llo'.length, ''.length]", [3, 5, 0]),
    ("let a = [1, 2]; a.x = 7; a.length = 1; [a.length, a.x]", [1, 7]),
    ("function f(a, b) {}; [f.length, (x => x).length, ((x, ...r) => x).length]", [2, 1, 1]),
    ("let o = {get length() { return 9 }}; o.length", 9),
    ("let n = 5; [n.length, true.length]", [UNDEFINED, UNDEFINED]),
    ("let a = []; a.push(1, 2); let s = 'ab'; s += 'c'; [a.length, s.length]", [2, 3]),
    ("let o = null; try { o.length } catch (e) { e instanceof TypeError }", True),
]

# ``e === n`` with an arithmetic ``e`` compiles to Python ``==`` (the result is never a boolean).
STRICT_EQUALS_NUMBER = [
    ("let x = 4; [x % 2 === 0, x - 4 === 0, -x === -4, (x > 3) === 1, x + '' === 4, x / 8 === 0.5]",
     [True, True, True, False, False, True]),
    ("let t = true; [t + 0 === 1, t * 1 === 1, t === 1, (t & 1) !== 1, ~t === -2]", [True, True, False, False, True]),
    ("let x = NaN; [x * 1 === NaN, x % 2 !== NaN, -0 * 1 === 0]", [False, True, True]),
    ("[0, 1, 2, 3, '4', 4.0].filter(x => x % 2 === 0)", [0, 2, "4", 4]),
    ("let s = '6'; [s - 0 === 6, s * 1 !== 6, s + 0 === 60]", [True, False, False]),
]

# Inline int arithmetic tests |x| < 2**30 - 1 (one CPython digit); beyond, the runtime helper.
INT_RANGE = [
    ("let a = [1073741822, 1073741823, 1073741824, -1073741824, 2 ** 40]; a.map(x => x * 2)",
     [2147483644, 2147483646, 2147483648, -2147483648, 2199023255552]),
    ("let a = [1073741823, 2 ** 52, -(2 ** 52), 2 ** 53]; a.map(x => x + 1)",
     [1073741824, 4503599627370497, -4503599627370495, 9007199254740992]),
    ("let x = 2 ** 53; [x - 1, x * 3, x % 7, x / 2]", [9007199254740991, 2.7021597764222976e16, 4, 4503599627370496]),
    ("let i = 1073741823; i++; let j = -1073741823; j--; [i, j, i * 1073741823]",
     [1073741824, -1073741824, 1.1529215035331052e18]),
    ("let a = [4611686018427387904, 2 ** 31]; a.map(x => Math.floor(x / 3))", [1.5372286728091292e18, 715827882]),
]

# Math calls computed inline (int literal arguments are used as themselves).
MATH = [
    ("let p = '/users/42'; Math.min(Math.floor(p.length / 2), 10)", 4),
    ("[Math.max(2.5, 1), Math.min(3, '2'), Math.floor(5), Math.abs(-3), Math.min(NaN, 1), Math.max(1, 2)]",
     [2.5, 2, 5, 3, NaN, 2]),
    ("[Math.min(10, 3), Math.max(-1, 0), Math.min(2 ** 60, 1), Math.floor(-7), Math.round(-3), Math.ceil(4)]",
     [3, 0, 1, -7, -3, 4]),
    ("let M = Math; [M.max(1, 3), M.max === Math.max, Math.min(1, {valueOf() { return -1 }})]", [3, True, -1]),
    ("let Math = {min: (a, b) => 'local'}; Math.min(1, 2)", "local"),
    ("let log = []; let v = n => (log.push(n), n); Math.min(v(3), v(1)); log", [3, 1]),
    # Math.floor(x / n) is x // n for an int x
    ("let a = [7, -7, 0, -1, 9007199254740991, 2.5, '9', null]; a.map(x => Math.floor(x / 2))",
     [3, -4, 0, -1, 4503599627370495, 1, 4, 0]),
    ("let x = -0; [1 / Math.floor(x / 2), Math.floor(undefined / 2), Math.floor(7 / 1), Math.floor(-6 / 3)]",
     [float("-inf"), NaN, 7, -2]),
    ("let log = []; let o = {valueOf() { log.push('v'); return 9 }}; [Math.floor(o / 4), log]", [2, ["v"]]),
    ("let big = 2 ** 60; Math.floor(big / 3) === big / 3", True),
]

# ``a || b`` / ``a && b`` test the left side inline for strings and booleans.
TRUTHINESS = [
    ("[0 || 'a', '' || 'b', NaN || 'c', null || 'd', undefined || 'e', 'x' || 'h', false || 'i', true || 'j']",
     ["a", "b", "c", "d", "e", "x", "i", True]),
    ("[({}) || 'f', [] || 'g', 0.0 || 'k', -0 || 'l', 0.5 || 'm', -1 || 'n']", [{}, [], "k", "l", 0.5, -1]),
    ("['' && 1, 'a' && 1, [] && 2, NaN && 3, 0 && 4, {} && 5, null && 6]", ["", 1, 2, NaN, 0, 5, None]),
    ("let h = {'content-type': ''}; [h['content-type'] || 'text/plain', h.other || 'none']", ["text/plain", "none"]),
    ("let n = 0; let c = () => (n++, ''); [c() || 'd', n]", ["d", 1]),
    # objects of every kind are true without asking the runtime; numbers still ask it
    ("[Math, JSON, new Date(0), /x/, new Error('e'), function () {}, 2**53, 1e-300, -1e-300, -0.0]"
     ".map(v => v ? 1 : 0)", [1, 1, 1, 1, 1, 1, 1, 1, 1, 0]),
    ("let f = v => !v; [f(1/0), f(-1/0), f(0/0), f(-0), f([]), f({})]",
     [False, False, True, True, False, False]),
]

# Inline map/filter/forEach: the comprehension, and the lambda made only on the slow path.
ARRAY_CALLBACKS = [
    ("let a = [1, 2, 3]; let r = a.map(x => (a.length < 5 ? a.push(x) : 0, x * 10)); [r, a.length]",
     [[10, 20, 30], 5]),
    ("let a = [1, 2]; a.tag = 'x'; [a.map(x => x * 2), a.filter(x => x > 1), a.tag]", [[2, 4], [2], "x"]),
    ("let o = {map(cb) { return [cb.length, cb.name, cb(4)] }}; o.map(x => x + 1)", [1, "", 5]),
    ("let s = 'ab'; try { s.map(x => x) } catch (e) { e.message }", "s.map is not a function"),
    ("let k = 3; let f = a => a.map(x => x * k); [f([1, 2]), f({map: cb => cb(5)})]", [[3, 6], 15]),
    ("let out = []; [1, 2].forEach(x => out.push(x * 2)); out", [2, 4]),
    ("let o = {filter(cb) { return cb(0) }}; o.filter(x => x === 0)", True),
    ("var o = {k: 5, m(cb) { return cb(1) }}; function f(a) { return [this.m(x => x + this.k), "
     "this.m(x => arguments[0] + x), [1, 2].map(x => x + this.k)] }; f.call(o, 10)", [6, 11, [6, 7]]),
    ("let s = {map(cb) { return cb(2) }}; s.map(x => `${x}!` + (x?.y ?? 'n'))", "2!n"),
]

# Pure-arithmetic map/filter chains fused into one comprehension (compiler_pure): any element that
# is not an int in the proved domain sends the whole chain to the general path.
PURE_CHAINS = [
    ("[[].map(x => x * 2), [].filter(x => x > 1), [].map(x => x + 1).filter(y => y % 2 === 0)]", [[], [], []]),
    ("[1, 2.5, '3', true, null, undefined, 6, -0].map(x => x * 2)", [2, 5, 6, 2, 0, NaN, 12, NEG_ZERO]),
    ("[1, 2.5, '3', true, null, 6, 'x'].map(x => x * 2).filter(x => x % 3 === 0)", [6, 0, 12]),
    ("[true, false, 1, '1'].filter(x => x % 2 === 1)", [True, 1, "1"]),
    ("[1, '1', 2, true].filter(x => x == 1)", [1, "1", True]),
    ("[[-3].map(x => x % 3), [-3, -4, 3, 4, 0].map(x => x % 3), [-3].map(x => x % 3 + 1)]",
     [[NEG_ZERO], [NEG_ZERO, -1, 0, 1, 0], [1]]),
    ("[[-6, -5, 5, 6].map(x => x - 1).filter(y => y % 3 === 0), [-3, 3].map(x => x - 3).map(y => y % 3)]",
     [[-6], [NEG_ZERO, 0]]),
    ("[-3, 3, 1].map(x => x % 3).filter(y => y === 0)", [NEG_ZERO, 0]),
    ("[[0, -2].map(x => x * 0), [0, 2].map(x => x * 0), [0, -1].map(x => x - x), [3, -0, 2 ** 30].map(x => x * x)]",
     [[0, NEG_ZERO], [0, 0], [0, 0], [9, 0, 1152921504606846976]]),
    ("[1073741822, 1073741823, -1073741823, -1073741822, 2 ** 40].map(x => x * 2 + 1)",
     [2147483645, 2147483647, -2147483645, -2147483643, 2199023255553]),
    ("[2 ** 53, 2 ** 53 - 1, -(2 ** 53), 1].map(x => x + 2)", [9007199254740994, 9007199254740992, -9007199254740990, 3]),
    ("[1073741822, 5].map(x => x * 3 - x * 2).filter(y => y > 4 === true)", [1073741822, 5]),
    ("let a = [1, 2, 3]; a.p = 5; [a.map(x => x * 2), a.filter(x => x > 1), a.p, [1, undefined].map(x => x + 1)]",
     [[2, 4, 6], [2, 3], 5, [2, NaN]]),
    ("[1, 2, 3].map(x => x > 1).filter(b => b).map(c => c)", [True, True]),
    ("[5, 6].map(x => x + 1).filter(y => y > 6).map(z => z * 3).filter(w => 1)", [21]),
    ("const f = a => a.map(x => x + 1).filter(y => y > 1); [f([0, 1, 2]), f([1, 'a']), f([5])]", [[2, 3], [2], [6]]),
    # impure bodies keep the general path: every map call before the first filter call
    ("let log = []; [1, 2].map(x => (log.push('m' + x), x)).filter(x => (log.push('f' + x), true)); log",
     ["m1", "m2", "f1", "f2"]),
    ("let log = []; let o = n => ({valueOf() { log.push(n); return n }});"
     " let r = [o(1), 2, o(3)].map(x => x * 2).filter(y => y % 3 === 0); [r, log]", [[6], [1, 3]]),
    ("let n = 0; let r = [1, 2, 3].map(x => x * 2).filter(x => (n++, x > 2)); [r, n]", [[4, 6], 3]),
    ("[[{v: 1}].map(x => x.v * 2), [[1, 2], [3]].map(r => r.map(x => x * 2).length)]", [[2], [2, 1]]),
    ("let o = {map(cb) { return {filter: g => [cb(2), g(3)]} }}; o.map(x => x * 2).filter(y => y > 2)", [4, True]),
    ("let s = 'ab'; try { s.map(x => x * 2).filter(y => y > 1) } catch (e) { e.message }", "s.map is not a function"),
    ("let o = {m(a) { return a.map(x => x * 2).filter(y => y > 2) }}; function f(a) { for (let i = 0; i < 2; i++)"
     " a = o.m(a); return a }; f([1, 2])", [8]),
    ("let o = {map(cb) { return cb([1, 2, 3]) }}; o.map(a => a.map(x => x * 2).filter(y => y > 2))", [4, 6]),
]

# ``Boolean(x)`` is ToBoolean inline while the global is the builtin; a script's own binding
# of the name, spread arguments and other argument counts call whatever the name holds.
BOOLEAN_CALL = [
    ("['', 'a', 0, -0, NaN, 1.5, null, undefined, {}, [], () => 0, true, false].map(v => Boolean(v))",
     [False, True, False, False, False, True, False, False, True, True, True, True, False]),
    ("let _t; const c = () => Boolean(_t); let r = [c()]; _t = {id: 1}; r.push(c()); _t = ''; r.push(c()); r",
     [False, True, False]),
    ("let n = 0; let r = Boolean((n++, 'x')); [r, n]", [True, 1]),
    ("function f() { const Boolean = x => 'own'; return Boolean(0) }; f()", "own"),
    ("let Boolean = (x, y) => [x, y]; Boolean(1)", [1, UNDEFINED]),
    ("[Boolean(), Boolean(0, 1), Boolean(...[1]), Boolean(...[]), typeof Boolean(1)]",
     [False, False, True, False, "boolean"]),
    ("let log = []; let b = Boolean(log.push('a') && log.push('b')); [b, log]", [True, ["a", "b"]]),
]

CASES = (LENGTH + STRICT_EQUALS_NUMBER + INT_RANGE + MATH + TRUTHINESS + ARRAY_CALLBACKS + PURE_CHAINS
         + BOOLEAN_CALL)
