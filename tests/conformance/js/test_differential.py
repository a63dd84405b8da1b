"""Differential tests: generated programs give the same result on PipyJS and on QuickJS.

The generator, the canonical serializer and the accepted differences are in differential.py.
A fixed set of seeds runs a bounded number of programs (well under 20 seconds); set
``PIPYD_DIFF_N`` to run more programs per seed (a fuzz session), e.g.
``PIPYD_DIFF_N=2000 python -m pytest tests/conformance/js/test_differential.py``, or run the
module itself for a report: ``python -m tests.conformance.js.differential --seed 7 --n 5000``.
"""
from __future__ import annotations

import os

import pytest

from tests.conformance.js import differential as diff

pytest.importorskip("dukpy")

SEEDS = (1, 2, 3, 4, 5, 6)
PER_SEED = int(os.environ.get("PIPYD_DIFF_N", "80"))


@pytest.mark.parametrize("seed", SEEDS)
def test_generated_programs_agree(seed: int) -> None:
    found = diff.fuzz(seed, PER_SEED)
    assert not found, (f"{len(found)} of {PER_SEED} programs differ; reproduce one with "
                       f"`python -m tests.conformance.js.differential --seed {seed} --show N`\n"
                       + "\n".join(m.report() for m in found[:3]))


def test_serializer_is_canonical() -> None:
    """The serializer tells apart what the comparison must see, identically on both engines."""
    source = diff.Program([("var o = {b: 1, a: [undefined, null, -0, 0, NaN, '1', 1]};\n"
                            "var m = /x(?<n>y)?/g.exec('ax');",
                            "[o, m, new Map([[1, 2]]), new Set(['s']), new TypeError('t'), /r/gi, "
                            "function f(p, q) {}, 1e21, 0.1 + 0.2, -Infinity, true]")]).source
    expected = ('[{"b":n:1,"a":[u,null,-0,n:0,NaN,s:"1",n:1]},'
                '[s:"x",u,"groups":{"n":u},"index":n:1,"input":s:"ax"],Map{n:1=>n:2},'
                'Set{s:"s"=>s:"s"},err:TypeError,re:r/gi@n:0,fn:"f"/2,n:1e+21,'
                'n:0.30000000000000004,n:-Infinity,true]')
    assert diff.run_pipyd(source) == expected
    assert diff.run_quickjs(source) == expected


def test_thrown_errors_compare_by_name() -> None:
    source = diff.Program([("", "null.x"), ("throw new RangeError('a message')", "1"),
                           ("", "(() => { throw 5 })()")]).source
    expected = "throw:TypeError\nthrow:RangeError\nthrow-value:n:5"
    assert diff.run_pipyd(source) == expected
    assert diff.run_quickjs(source) == expected


def test_generator_is_deterministic() -> None:
    assert [p.source for p in diff.programs(3, 5)] == [p.source for p in diff.programs(3, 5)]


def test_allowed_entries_have_reasons() -> None:
    assert diff.ALLOWED and all(a.name and len(a.reason) > 40 for a in diff.ALLOWED)
    assert all(len(reason) > 20 for reason in diff.NOT_GENERATED.values())
