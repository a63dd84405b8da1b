"""Shared vocabulary of the PipyJS conformance tables (tests/conformance/js/cases_*.py).

Each cases file defines ``CASES: list[tuple[str, object]]``: a JS source (a program; its
value is the value of its last expression statement) and the expected result:
- a Python value compared with ``norm()`` of the JS result: numbers (``NaN`` matches NaN,
  ``NEG_ZERO`` matches -0 only, other floats and ints compare by value), strings, bools,
  ``None`` for null, ``UNDEFINED`` for undefined, lists for arrays, dicts for plain objects
  (key order matters: compared as lists of items);
- ``Throws(kind, text)``: evaluation raises a JS error of that kind whose message contains text;
- ``SyntaxErr(line, col, text)``: parsing fails at that position with text in the message.
"""
from __future__ import annotations

import math
from dataclasses import dataclass


class _Undef:
    def __repr__(self) -> str:
        return "UNDEFINED"


UNDEFINED = _Undef()
NaN = float("nan")


class _NegZero:
    def __repr__(self) -> str:
        return "NEG_ZERO"


NEG_ZERO = _NegZero()


@dataclass(frozen=True)
class Throws:
    kind: str
    text: str = ""


@dataclass(frozen=True)
class SyntaxErr:
    line: int
    col: int
    text: str = ""


def same(expected: object, actual: object) -> bool:
    """Compare an expected table value with a normalised JS result (see norm in the runner)."""
    if expected is UNDEFINED or actual is UNDEFINED:
        return expected is actual
    if expected is NEG_ZERO:
        return isinstance(actual, float) and actual == 0 and math.copysign(1, actual) < 0
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        if isinstance(expected, float) and math.isnan(expected):
            return isinstance(actual, float) and math.isnan(actual)
        if expected == 0 and actual == 0:  # plain 0 must not be -0
            return not (isinstance(actual, float) and math.copysign(1, actual) < 0)
        return expected == actual
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(same(e, a) for e, a in zip(expected, actual))
    if isinstance(expected, dict) and isinstance(actual, dict):
        return list(expected) == list(actual) and all(same(expected[k], actual[k]) for k in expected)
    return type(expected) is type(actual) and expected == actual
