"""Runs every conformance table (cases_*.py in this folder) through engine.evaluate.

Each case is one pytest param named ``<file>:<index>``; the JS result is normalised (arrays to
lists, plain objects to dicts in JS key order, undefined to UNDEFINED) and compared with
``table.same``; ``Throws``/``SyntaxErr`` cases expect the matching failure.
"""
from __future__ import annotations

import importlib.util
import math
import pathlib
from typing import Any

import pytest

from tests.conformance.js.table import UNDEFINED, SyntaxErr, Throws, same

HERE = pathlib.Path(__file__).parent


def _load_cases() -> list[Any]:
    params = []
    for path in sorted(HERE.glob("cases_*.py")):
        spec = importlib.util.spec_from_file_location(f"_conf_{path.stem}", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)  # type: ignore[union-attr]
        for i, (src, expected) in enumerate(mod.CASES):
            params.append(pytest.param(src, expected, id=f"{path.stem}:{i}"))
    return params


def norm(v: Any, depth: int = 0) -> Any:
    from pipyd.js.coerce import own_keys
    from pipyd.js.values import JSArray, JSObject, undefined
    if depth > 50:
        return "<deep>"
    if v is undefined:
        return UNDEFINED
    if isinstance(v, JSArray):
        return [norm(x, depth + 1) for x in v]
    if type(v) is JSObject:
        return {k: norm(v[k], depth + 1) for k in own_keys(v)}
    return v


@pytest.mark.parametrize("source,expected", _load_cases())
def test_case(source: str, expected: Any) -> None:
    from pipyd.js.engine import evaluate
    from pipyd.js.errors import JSSyntaxError
    from pipyd.js.values import JSErrorObject, JSThrow
    if isinstance(expected, Throws):
        with pytest.raises(JSThrow) as info:
            evaluate(source)
        err = info.value.value
        assert isinstance(err, JSErrorObject), f"threw a non-error {err!r}"
        assert err.name == expected.kind, str(err)
        assert expected.text in err.message, str(err)
        return
    if isinstance(expected, SyntaxErr):
        with pytest.raises(JSSyntaxError) as sinfo:
            evaluate(source)
        e = sinfo.value
        assert (e.line, e.col) == (expected.line, expected.col), str(e)
        assert expected.text in e.message
        return
    actual = norm(evaluate(source))
    assert same(expected, actual), f"expected {expected!r}, got {actual!r}"


def test_tables_are_not_empty() -> None:
    assert _load_cases()
    assert not math.isnan(0.0)
