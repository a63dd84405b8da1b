"""The engine's fast paths give the same answers as the general ones: context variables read and
written inline, host attributes read inline, namespace calls, array callbacks by arity."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from pipyd.js.backtrace import to_js_error
from pipyd.js.engine import compile_module
from pipyd.js.scope import ACTIVE, ModuleScope
from pipyd.js.values import HostObject, JSArray, undefined


@pytest.fixture(autouse=True)
def _no_context():
    yield
    ACTIVE.current = None


def _module(src: str, index: int = 0, extra: dict | None = None, imports: dict | None = None) -> dict:
    m = compile_module(src, "fast.js")
    g = m.new_globals(ModuleScope(index, "fast.js", imports), extra)
    m.run(module_globals=g)
    return g


def test_context_variable_read_and_write_inline() -> None:
    g = _module("var inc = () => { _n = _n + 1; return _n }")
    ctx = SimpleNamespace(data=[{"x": 1}, {"_n": 41}], inbound=None)
    ACTIVE.current = ctx
    g2 = _module("var inc = () => { _n = _n + 1; return _n }\nvar set = v => (_n = v)", index=1)
    assert g2["inc"]() == 42 and ctx.data[1]["_n"] == 42
    assert g2["set"](7) == 7 and ctx.data[1]["_n"] == 7
    for ctx in (SimpleNamespace(data=[{}], inbound=None), None):  # not declared; no pipeline
        ACTIVE.current = ctx
        with pytest.raises(NameError) as info:  # what the callback boundary turns into:
            g["inc"]()
        assert str(to_js_error(info.value).value) == "ReferenceError: _n is not defined"


def test_imported_variable_and_inbound_fall_back_to_module_scope() -> None:
    inbound = object()
    ctx = SimpleNamespace(data=[{"_shared": 5}, {}], inbound=inbound)
    ACTIVE.current = ctx
    g = _module("var r = () => [_shared, __inbound]", index=1, imports={"_shared": (0, "_shared")})
    assert g["r"]() == [5, inbound]
    ctx.inbound = None
    assert g["r"]()[1] is undefined
    ctx.data[1]["__inbound"] = "own"  # a context variable of that name comes first
    assert g["r"]()[1] == "own"


def test_inbound_read_at_once_where_the_loader_found_no_variable_of_that_name() -> None:
    inbound = object()
    ctx = SimpleNamespace(data=[{}], inbound=inbound)
    ACTIVE.current = ctx
    g = _module("var r = () => __inbound")
    scope = g["__builtins__"]
    scope.plain_inbound = True  # what Worker._bind sets for such a module
    assert g["r"]() is inbound
    ctx.inbound = None
    assert g["r"]() is undefined  # no inbound (a task pipeline): the full order answers
    ACTIVE.current = None
    with pytest.raises(NameError):
        g["r"]()


@pytest.mark.parametrize("src, plain", [
    ("pipy({_a: 1}).pipeline('p').handleMessageStart(() => __inbound)", True),
    ("pipy({__inbound: 'mine'}).pipeline('p')", False),
    ("pipy(() => ({_a: 1})).pipeline('p')", False),  # names only known per context
])
def test_worker_tells_the_scope_whether_inbound_is_plain(tmp_path, src, plain) -> None:
    from pipyd.worker import Worker
    (tmp_path / "main.js").write_text(src)
    w = Worker(str(tmp_path / "main.js"))
    w.load()
    assert w.modules[0].scope.plain_inbound is plain


def test_imported_inbound_is_not_plain(tmp_path) -> None:
    from pipyd.events import MessageEnd, MessageStart
    from tests.unit.flow import Run, load
    w = load(tmp_path, "pipy().import({__inbound: 'ns'})"
                       ".pipeline('p').replaceMessage(() => new Message(String(__inbound))).use('a.js', 'x')",
             {"a.js": "pipy().export('ns', {__inbound: 'shared'}).pipeline('x')"})
    assert w.by_path["/main.js"].scope.plain_inbound is False
    r = Run(w, "p", w.new_context(inbound=object()))
    r.feed(MessageStart(), MessageEnd())
    assert r.data() == b"shared"  # the import comes before the connection's inbound


def test_guess_that_clashes_with_a_global_is_recompiled() -> None:
    ACTIVE.current = SimpleNamespace(data=[{"_x": "context"}], inbound=None)
    g = _module("var r = () => _x", extra={"_x": "global"})
    assert g["r"]() == "global"  # module globals come before context variables


class _Host(HostObject):
    __slots__ = ("head", "secret")
    js_get = frozenset(("head",))

    def __init__(self) -> None:
        self.head = "h"
        self.secret = "s"


def test_host_attribute_inline_read_keeps_the_allowlist() -> None:
    g = _module("var f = o => [o.head, o.secret]")
    for _ in range(3):
        assert g["f"](_Host()) == ["h", undefined]


def test_namespace_call_and_replaced_member() -> None:
    g = _module("var f = () => Math.floor(2.5)\nvar h = () => { Math.fastTest = function () { return this === Math }; return Math.fastTest(1) }")
    assert g["f"]() == 2
    try:
        assert g["h"]() is True  # a script's function member is called with this = Math
    finally:
        dict.pop(g["Math"], "fastTest", None)  # Math is shared by every module
        from pipyd.js.builtins.classes import PristineNamespace
        g["Math"].__class__ = PristineNamespace  # untouched again (builtins/classes.py)


def test_array_callbacks_by_arity() -> None:
    g = _module("var f = a => [a.map(x => x + 1), a.map((x, i) => i), a.map((...r) => r.length), a.filter(x => x > 1)]")
    assert g["f"](JSArray([1, 2])) == [[2, 3], [0, 1], [3, 3], [2]]
