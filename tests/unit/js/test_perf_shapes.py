"""The fast paths of compiled code keep JS semantics: per-name member tables (runtime.getters /
runtime.invokers), inline plain-object reads, literal arithmetic, f-string templates, accessors
and the "f is not a function" mapping. Shapes of the generated code are checked too, so that a
change that silently drops a fast path is noticed (tests/bench/engine.py gives the figures)."""
from __future__ import annotations

import ast
from typing import Any

import pytest

from pipyd.js import runtime as rt
from pipyd.js.builtins.classes import BuiltinNamespace
from pipyd.js.compiler import Compiler
from pipyd.js.engine import evaluate
from pipyd.js.parser import parse
from pipyd.js.values import HostObject, JSObject, JSThrow, undefined


class Gadget(HostObject):
    """A host class with a slot, a property, a method, a keyword-named member and a hidden one."""

    __slots__ = ("size", "_secret")
    js_get = frozenset({"size", "doubled", "grow", "from"})
    js_set = frozenset({"size"})
    js_class_name = "Gadget"

    def __init__(self, size: int = 1) -> None:
        self.size = size
        self._secret = "hidden"

    @property
    def doubled(self) -> int:
        return self.size * 2

    def grow(self, by: Any = 1) -> "Gadget":
        self.size += by
        return self

    def from_(self) -> str:
        return "kw"

    def hidden(self) -> str:
        return "never"


class Loose(HostObject):
    """Instances with a __dict__: an instance attribute may shadow a method of the class."""

    js_get = frozenset({"run"})

    def run(self) -> str:
        return "class"


def run(src: str, **globals_: Any) -> Any:
    return evaluate(src, "shapes.js", globals_)


def python_of(src: str) -> str:
    return ast.unparse(Compiler("shapes.js").compile_program(parse(src, "shapes.js")))


def test_host_members_through_the_tables() -> None:
    g = Gadget(3)
    assert run("[g.size, g.doubled, g.grow(2).size, g.from(), g.hidden, g._secret, g.__class__]", g=g) == [
        3, 6, 5, "kw", undefined, undefined, undefined]
    assert rt.getters("size")[Gadget] is rt.getters("size")[Gadget]  # filled once per type
    with pytest.raises(JSThrow, match="hidden is not a function"):
        run("g.hidden()", g=g)


def test_host_method_shadowed_by_an_instance_attribute_is_honoured() -> None:
    obj = Loose()
    obj.run = lambda: "instance"  # type: ignore[method-assign]
    assert run("o.run()", o=obj) == "instance"


def test_the_same_name_on_different_types() -> None:
    src = "[o.length, s.length, a.length, g.size, o.toString(), s.toUpperCase(), a.join('-'), (5).toFixed(1)]"
    out = run(src, o=JSObject(length=7), s="abc", a=rt.JSArray([1, 2]), g=Gadget(4))
    assert out == [7, 3, 2, 4, "[object Object]", "ABC", "1-2", "5.0"]


def test_namespace_members_are_read_at_call_time() -> None:
    ns = BuiltinNamespace({"f": lambda x=undefined, *_: x})
    assert run("[N.f(1), (N.f = () => 'new', N.f(1)), N.g]", N=ns) == [1, "new", undefined]
    assert run("JSON.stringify(Math.max(1, 2))") == "2"


def test_plain_object_misses_and_later_keys() -> None:
    assert run("let o = {}; let r = [o.x, typeof o.hasOwnProperty]; o.x = 1; r.push(o.x); r") == [
        undefined, "function", 1]
    assert run("let o = {hasOwnProperty: 5}; o.hasOwnProperty") == 5


def test_reading_properties_of_nothing_still_throws() -> None:
    with pytest.raises(JSThrow, match=r"Cannot read properties of undefined \(reading 'x'\)"):
        run("let u; u.x")
    with pytest.raises(JSThrow, match=r"Cannot read properties of null \(reading 'm'\)"):
        run("let n = null; n.m()")


def test_generated_code_uses_the_fast_shapes() -> None:
    member = python_of("let f = o => o.a.b")
    assert "getp" not in member and "ǂgetters('a')" in member
    assert "ǂinvokers('m')" in python_of("let f = o => o.m(1)")
    template = ast.parse(python_of("let f = (a, b) => `${a}-${b}`"))
    assert any(isinstance(n, ast.JoinedStr) for n in ast.walk(template))
    arith = python_of("let f = x => x * 2 + 1")
    assert "* 2" in arith and "+ 1" in arith
    assert "ǂtruthy" not in python_of("let f = s => s || 'd'").split("else", 1)[0]


def test_callee_name_for_a_non_callable_direct_call() -> None:
    assert run("let r; try { let f = 1; f() } catch (e) { r = e.message } r") == "f is not a function"
    assert run("let r; try { let f = () => { throw new TypeError('x is not callable') }; f() }"
               " catch (e) { r = e.message } r") == "x is not callable"
    assert run("let r; try { let g = () => 1; g()() } catch (e) { r = e.message } r") == "number is not a function"


def test_accessor_objects_stay_off_the_plain_object_path() -> None:
    o = run("({a: 1, get b() { return this.a + 1 }})")
    assert type(o) is rt.AccessorObject and run("o.b + o['b']", o=o) == 4
    assert type(run("({a: 1, b() { return 2 }})")) is JSObject
