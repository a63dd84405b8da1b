"""The issue-7 builtins as scripts see them, through the PipyJS engine."""
from __future__ import annotations

import pytest

from pipyd.api import host_globals
from pipyd.api.namespaces import HOST_GLOBALS_7
from pipyd.api.stats import reset_registry
from pipyd.js.engine import evaluate


@pytest.fixture(scope="module")
def g():
    out = dict(host_globals())
    out.update(HOST_GLOBALS_7)
    return out


@pytest.mark.parametrize("src,want", [
    ("new URL('/a/b?x=1').pathname", "/a/b"),
    ("new URL('http://h/p?a=1&a=2').searchParams.getAll('a').join()", "1,2"),
    ("new URLSearchParams('a=1').get('a')", "1"),
    ("new Netmask('10.0.0.0/8').contains('10.1.1.1')", True),
    ("XML.decode(XML.encode(new XML.Node('', null, [new XML.Node('r', {a: 1}, ['t'])])))"
     ".children[0].attributes.a", "1"),
    ("DNS.decode(DNS.encode({id: 5, question: [{name: 'a.b', type: 'A'}]})).question[0].name", "a.b"),
    ("Hessian.decode(Hessian.encode([1, 'x']))[1]", "x"),
    ("(h => (h.update('abc'), h.digest('hex')))(new crypto.Hash('md5'))",
     "900150983cd24fb0d6963f7d28e17f72"),
    ("typeof http.File.from", "function"),
    ("new logging.JSONLogger('x').log(1)", None),
])
def test_script_access(g, src, want):
    got = evaluate(src, globals=g)
    assert (got if want is not None else None) == want


def test_stats_from_script(g):
    from pipyd.api.stats import render_prometheus
    reset_registry()
    evaluate("new stats.Counter('hits', ['path']).withLabels('/a').increase(2)", globals=g)
    assert 'hits{path="/a"} 2' in render_prometheus()
    reset_registry()
