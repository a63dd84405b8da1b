"""Fused pure-arithmetic map/filter chains (compiler_pure; docs/internals/engine.md "Pure array
chains"): the compiled shape, exact Python representations (int vs float, -0), patched
prototypes, and a differential test against the same chains compiled without fusion."""
from __future__ import annotations

import ast
import math
import random
from typing import Any

import pytest

from pipyd.js.compiler import Compiler
from pipyd.js.compiler_pure import PureChainMixin
from pipyd.js.engine import evaluate
from pipyd.js.parser import parse
from pipyd.js.runtime import ARRAY_PROTO, invokers
from pipyd.js.values import JSArray, undefined


def _py(src: str) -> str:
    return ast.unparse(Compiler("t.js", frozenset()).compile_program(parse(src, "t.js")))


def _fast_part(src: str) -> str:
    """The text of the fused attempt: everything before the general path's ``else``."""
    code = _py(src)
    return code[code.index("return "):code.index(" else ")]


def test_bench_chain_is_one_comprehension_without_islice() -> None:
    fast = _fast_part("var f = a => a.map(x => x * 2).filter(x => x % 3 === 0)")
    assert fast.count(" for ") == 1 and "islice" not in fast and "mul" not in fast and "mod" not in fast
    assert "0 <= " in fast  # x % 3 needs a non-negative dividend: the domain is [0, B)


def test_map_only_chain_has_no_flag() -> None:
    fast = _fast_part("var f = a => a.map(x => x + 1).map(y => y * 3)")
    assert "bad" not in fast and "-1073741823 < " in fast and fast.count(" for ") == 1


def test_unprovable_bodies_are_not_fused() -> None:
    for src in ("var f = a => a.map(x => x * x)", "var f = a => a.map(x => x / 2)",
                "var f = a => a.map(x => -x)", "var f = a => a.map(x => x.y + 1)",
                "var f = a => a.map(x => x * 2 ** 40)", "var f = (a, k) => a.map(x => x * k)",
                "var f = a => a?.map(x => x + 1)", "var f = a => a.map(x => x + 0.5)"):
        assert "bad" not in _py(src) and "ǂislice" in _py(src), src


def test_a_non_pure_inner_stage_is_the_base() -> None:
    code = _py("var f = a => a.map(x => x.v).map(y => y + 1)")
    assert code.count("ǂislice") == 2  # the member-read map on its own, and in the general path


def test_results_keep_the_number_representation() -> None:
    r = evaluate("[1, 2, 3].map(x => x * 2 + 1)")
    assert type(r) is JSArray and [type(v) for v in r] == [int, int, int]
    (z,) = evaluate("[-3].map(x => x % 3)")
    assert type(z) is float and z == 0 and math.copysign(1, z) < 0
    big = evaluate("[2 ** 53 - 1, 1].map(x => x + 2)")
    assert type(big[0]) is float and type(big[1]) is int
    assert [type(v) for v in evaluate("[1, 2].map(x => x > 1)")] == [bool, bool]


def test_patched_prototype_methods_are_honoured() -> None:
    for name in ("map", "filter"):
        saved = ARRAY_PROTO[name]
        try:
            ARRAY_PROTO[name] = lambda this, f, *_: JSArray(["patched"])
            invokers(name).pop(JSArray, None)
            assert list(evaluate("[1, 2].map(x => x * 2).filter(y => y > 2)")) == (
                ["patched"] if name == "filter" else [])
        finally:
            ARRAY_PROTO[name] = saved
            invokers(name).pop(JSArray, None)


# ------------------------------------------------------------------ differential

_OPS = ("+", "-", "*", "%", "<", ">=", "===", "!==", "==")
_VALUES = (0, 1, -1, 2, -3, 7, 1073741822, 1073741823, -1073741823, 2**31, 2**53, -(2**53),
           2.5, -0.0, "4", "x", True, False, None, undefined)


def _body(rng: random.Random, param: str, depth: int) -> str:
    if depth == 0 or rng.random() < 0.3:
        return param if rng.random() < 0.6 else str(rng.choice((0, 1, 2, 3, 5, 100)))
    op = rng.choice(_OPS)
    right = str(rng.choice((1, 2, 3, 7))) if op == "%" else _body(rng, param, depth - 1)
    return f"({_body(rng, param, depth - 1)} {op} {right})"


def _js_literal(v: Any) -> str:
    if v is None:
        return "null"
    if v is undefined:
        return "undefined"
    if type(v) is bool:
        return "true" if v else "false"
    if type(v) is float and v == 0:
        return "-0"
    return repr(v) if type(v) is str else str(v)


def _strict(a: Any, b: Any) -> bool:
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_strict(x, y) for x, y in zip(a, b))
    if type(a) is not type(b):
        return False
    if type(a) is float:
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    return a == b


def test_fused_chains_match_the_general_path(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(1234)
    cases = []
    for _ in range(150):
        stages = [(rng.choice(("map", "filter")), _body(rng, p, 3)) for p in "xyz"[:rng.randint(1, 3)]]
        chain = "".join(f".{m}({p} => {b})" for (m, b), p in zip(stages, "xyz"))
        arrays = [[rng.randint(-8, 40) for _ in range(rng.randint(0, 6))],
                  [rng.choice(_VALUES) for _ in range(rng.randint(1, 5))]]
        cases.append(f"[{', '.join('[' + ', '.join(map(_js_literal, a)) + ']' + chain for a in arrays)}]")
    fused = [evaluate(src) for src in cases]
    assert any("bad" in _py(src) for src in cases)  # some chains are fused
    monkeypatch.setattr(PureChainMixin, "pure_chain", lambda self, callee, args: None)
    for src, got in zip(cases, fused):
        want = evaluate(src)
        assert _strict(got, want), src
