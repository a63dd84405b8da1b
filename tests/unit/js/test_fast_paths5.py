"""Round five of the engine fast paths: pristine Math, inline ``.length``, lambda slow paths of
inline array callbacks, ``=== n`` on arithmetic (docs/internals/engine.md "Fast paths")."""
from __future__ import annotations

from typing import Any, Callable

import pytest

from pipyd.js.builtins.classes import BuiltinNamespace, PristineNamespace
from pipyd.js.builtins.math import MATH
from pipyd.js.engine import evaluate
from pipyd.js.parser import parse
from pipyd.js.compiler import Compiler
from pipyd.js.values import JSThrow

import ast


def _py(src: str) -> str:
    return ast.unparse(Compiler("t.js", frozenset()).compile_program(parse(src, "t.js")))


@pytest.mark.parametrize("mutate", [
    lambda ns: ns.__setitem__("a", 2), lambda ns: ns.__delitem__("a"), lambda ns: ns.pop("a"),
    lambda ns: ns.pop("zz", None), lambda ns: ns.popitem(), lambda ns: ns.clear(),
    lambda ns: ns.update(a=3), lambda ns: ns.setdefault("b", 1), lambda ns: ns.__ior__({"c": 1}),
])
def test_every_mutator_spoils_a_pristine_namespace(mutate: Callable[[Any], Any]) -> None:
    ns = PristineNamespace({"a": 1})
    mutate(ns)
    assert type(ns) is BuiltinNamespace


@pytest.fixture
def math_restored():
    """Math as it was, and pristine again, after a test whose script writes to it."""
    saved = dict(MATH)
    yield
    dict.clear(MATH)
    dict.update(MATH, saved)
    MATH.__class__ = PristineNamespace


def test_math_starts_pristine() -> None:
    assert type(MATH) is PristineNamespace
    assert evaluate("typeof Math.min + Object.keys(Math).length") == "function0"


@pytest.mark.parametrize("src, want", [
    ("Math.min = (a, b) => 'mine'; Math.min(1, 2)", "mine"),
    ("Object.defineProperty(Math, 'max', {value: () => 'defined'}); Math.max(1, 2)", "defined"),
    ("Object.assign(Math, {abs: x => 'assigned'}); Math.abs(-1)", "assigned"),
    ("Math.extra = 1; [Math.floor(2.5), Math.extra]", [2, 1]),
    ("Math['floor'] = x => 'computed'; Math.floor(1.5)", "computed"),
])
def test_math_written_by_a_script_is_no_longer_pristine(src: str, want: Any, math_restored) -> None:
    got = evaluate(src)
    assert (list(got) if isinstance(got, list) else got) == want
    assert type(MATH) is BuiltinNamespace


def test_deleted_math_member_is_not_a_function(math_restored) -> None:
    with pytest.raises(JSThrow) as e:
        evaluate("delete Math.floor; Math.floor(1)")
    assert "is not a function" in str(e.value.value.message)
    assert type(MATH) is BuiltinNamespace


def test_math_inline_tests_only_the_namespace_class() -> None:
    code = _py("var f = p => Math.min(Math.floor(p / 2), 10)")
    assert "ǂdget(ǂt" not in code.split("is ǂPNS else")[0]  # no member read on the fast path
    assert "<= 10 else 10" in code  # the literal is used as itself


def test_length_is_inline_for_strings_and_arrays() -> None:
    code = _py("var f = s => s.length")
    assert "ǂlen(s) if (" in code and "is ǂstr or" in code and "is ǂJSArray else" in code


def test_inline_callback_slow_path_is_a_lambda_made_only_there() -> None:
    code = _py("var f = a => a.map(x => x * 2)")
    assert "def ǂf" not in code.split("def ", 2)[-1]  # no nested def inside f
    assert "lambda x=ǂu, *ǂ_:" in code


def test_lambda_callback_errors_have_a_js_backtrace() -> None:
    with pytest.raises(JSThrow) as e:
        evaluate("var o = {map(cb) { return cb(null) }}; o.map(x => x.y)")
    assert "TypeError" in str(e.value.value.stack) or e.value.value.name == "TypeError"


def test_strict_equals_number_on_arithmetic_has_no_bool_test() -> None:
    code = _py("var f = x => x % 3 === 0")
    assert "is not ǂbool" not in code
    code = _py("var f = x => x === 0")
    assert "is not ǂbool" in code


def test_member_read_tests_plain_objects_first_unless_a_host_class_reads_the_name() -> None:
    import pipyd.events  # noqa: F401  (MessageStart & co. read ``head``)
    code = _py("var f = m => m.head.zzNoHostReadsThis")
    assert "m.head if (" in code and "is ǂk" in code.split("m.head if (")[1][:40]
    assert "['zzNoHostReadsThis'] if (" in code


@pytest.mark.parametrize("src, want", [
    ("var o = {head: 1, zz: 2}; [o.head, o.zz]", [1, 2]),
    ("var o = {}; [o.head, o.zz, typeof o.toString]", [None, None, "function"]),
])
def test_member_read_order_gives_the_same_values(src: str, want: list) -> None:
    from pipyd.js.values import undefined
    got = [None if v is undefined else v for v in evaluate(src)]
    assert got == want
