"""scope.py: context variables resolve through ACTIVE.current; assignment only to them."""
from __future__ import annotations

import pytest

from pipyd.js.engine import compile_module
from pipyd.js.scope import ACTIVE, ModuleScope
from pipyd.js.values import JSThrow


class Ctx:
    def __init__(self, data: list[dict], inbound: object = None) -> None:
        self.data = data
        self.inbound = inbound


@pytest.fixture(autouse=True)
def _reset() -> None:
    yield
    ACTIVE.current = None


def test_lookup_order() -> None:
    scope = ModuleScope(1, "m.js", {"_imp": (0, "_x")})
    ACTIVE.current = Ctx([{"_x": "imported"}, {"_a": 1}], inbound="conn")
    assert scope["_a"] == 1 and scope["_imp"] == "imported" and scope["__inbound"] == "conn"
    assert scope["__filename"] == "m.js"
    with pytest.raises(KeyError):
        scope["nothing"]


def test_compiled_callback_reads_and_writes_context_variables() -> None:
    mod = compile_module("(x) => { _count += x; return _count + _name.length }", "ctx.js")
    scope = ModuleScope(0, "ctx.js")
    fn = mod.run(scope)
    ACTIVE.current = Ctx([{"_count": 1, "_name": "ab"}])
    assert fn(2) == 5
    assert ACTIVE.current.data[0]["_count"] == 3
    ACTIVE.current = Ctx([{"_count": 10, "_name": ""}])  # another pipeline's context
    assert fn(1) == 11


def test_unknown_free_names_are_reference_errors() -> None:
    fn = compile_module("() => nothingHere", "x.js").run(ModuleScope(0, "x.js"))
    ACTIVE.current = Ctx([{}])
    with pytest.raises(NameError):
        fn()
    set_fn = compile_module("() => { nothingHere = 1 }", "x.js").run(ModuleScope(0, "x.js"))
    with pytest.raises(JSThrow, match="nothingHere is not defined"):
        set_fn()
