"""Scripts cannot reach Python internals: every escape route gives undefined or a JS error."""
from __future__ import annotations

import pytest

from pipyd.js.engine import evaluate
from pipyd.js.values import HostObject, JSThrow, undefined

PYTHON_TYPES = (type, type(evaluate), type(len))


class Probe(HostObject):
    js_get = frozenset({"name", "hello"})

    def __init__(self) -> None:
        self.name = "probe"
        self.secret = "hidden"

    def hello(self) -> str:
        return "hi"


ESCAPES = [
    "(() => {}).constructor", "(function () {}).constructor", "''.constructor.constructor",
    "(x => x.__class__)({})", "({}).__class__", "[].__class__", "''.__class__", "(1).__class__",
    "(() => 1).__code__", "(() => 1).__globals__", "(function () {}).fn", "(function () {}).__dict__",
    "(() => 1).call.__self__", "(() => 1).call.func", "(() => 1).bind(null).func", "(() => 1).bind(null).args",
    "Math.max.__self__", "Math.__dict__", "globalThis.__builtins__", "globalThis['ǂG']",
    "[].push.__self__", "[].push.func", "'x'.toUpperCase.func", "Array.__init__", "Array.call_fn",
    "Array.statics", "Array.__class__", "new Error('x').__class__", "new Error('x').__traceback__",
    "p.secret", "p.__class__", "p.__init__", "p.hello.__self__", "p.hello.__func__",
    "(() => 1)['__globals__']", "({})['__proto__']", "typeof __import__", "typeof __builtins__",
    "typeof globals", "typeof exec", "typeof open", "typeof eval",
]


@pytest.mark.parametrize("src", ESCAPES)
def test_no_python_object_escapes(src: str) -> None:
    try:
        v = evaluate(f"let p = probe; {src}", globals={"probe": Probe()})
    except JSThrow:
        return
    assert v is undefined or isinstance(v, str) and v in ("undefined", "function") and "typeof" in src or (
        not isinstance(v, PYTHON_TYPES) and not hasattr(v, "f_globals")), repr(v)
    assert not isinstance(v, (dict,)) or type(v).__module__.startswith("pipyd"), repr(v)


@pytest.mark.parametrize("src", ["__import__('os')", "__builtins__", "exec('1')", "open('/etc/passwd')",
                                 "eval('1')", "globals()", "ǂG", "ǂget"])
def test_python_builtins_are_not_names(src: str) -> None:
    with pytest.raises(JSThrow) as info:
        evaluate(src)
    assert info.value.value.name in ("ReferenceError", "TypeError")


def test_typeof_of_python_names_is_undefined() -> None:
    assert evaluate("[typeof __import__, typeof open, typeof __builtins__, typeof ǂG]") == ["undefined"] * 4


def test_host_object_allowlist() -> None:
    assert evaluate("p.name + p.hello()", globals={"p": Probe()}) == "probehi"
    assert evaluate("p.secret", globals={"p": Probe()}) is undefined
    with pytest.raises(JSThrow):
        evaluate("p.name = 'x'", globals={"p": Probe()})


def test_writes_to_dunder_names_are_refused() -> None:
    with pytest.raises(JSThrow):
        evaluate("(() => 1).__code__ = null")
    assert evaluate("let o = {}; o.__class__ = 1; o.__class__") == 1  # a plain own property
