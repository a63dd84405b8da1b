"""stats metrics rendered in the Prometheus text format, read back by a minimal parser."""
from __future__ import annotations

import re

import pytest

from pipyd.api.stats import Counter, Gauge, Histogram, render_prometheus, reset_registry
from pipyd.js.values import JSArray

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text: str) -> tuple[dict, dict]:
    """(types by family, {(name, frozenset(labels)): value}) from exposition format 0.0.4."""
    types, samples = {}, {}
    assert text.endswith("\n")
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            types[name] = kind
            continue
        m = _SAMPLE.match(line)
        assert m, line
        labels = frozenset(_LABEL.findall(m.group(3) or ""))
        samples[(m.group(1), labels)] = float(m.group(4))
    return types, samples


@pytest.fixture(autouse=True)
def fresh():
    reset_registry()
    yield
    reset_registry()


def test_counter_and_labels():
    c = Counter("requests_total", JSArray(["method", "code"]))
    c.withLabels("GET", 200).increase()
    c.withLabels("GET", 200).increase(2)
    c.withLabels("POST", "500").increase()
    plain = Counter("plain_total")
    plain.increase()
    types, s = parse(render_prometheus())
    assert types == {"requests_total": "counter", "plain_total": "counter"}
    assert s[("requests_total", frozenset({("method", "GET"), ("code", "200")}))] == 3
    assert s[("requests_total", frozenset({("method", "POST"), ("code", "500")}))] == 1
    assert s[("plain_total", frozenset())] == 1
    assert ("requests_total", frozenset()) not in s  # a labelled family has only its children
    c.zero()
    assert parse(render_prometheus())[1][("requests_total", frozenset({("method", "GET"), ("code", "200")}))] == 0
    c.clear()
    assert "requests_total{" not in render_prometheus()


def test_gauge():
    g = Gauge("conns", JSArray(["pool"]))
    g.withLabels("a").set(5)
    g.withLabels("a").decrease()
    g.withLabels("a").increase(0.5)
    _, s = parse(render_prometheus())
    assert s[("conns", frozenset({("pool", "a")}))] == 4.5


def test_histogram_buckets_cumulative():
    h = Histogram("latency", JSArray([1, 5, 10]), JSArray(["route"]))
    for x in (0.5, 1, 3, 7, 50):
        h.withLabels("r").observe(x)
    types, s = parse(render_prometheus())
    assert types["latency"] == "histogram"
    r = ("route", "r")
    got = {le: s[("latency_bucket", frozenset({r, ("le", le)}))] for le in ("1", "5", "10", "+Inf")}
    assert got == {"1": 2, "5": 3, "10": 4, "+Inf": 5}
    assert s[("latency_sum", frozenset({r}))] == 61.5 and s[("latency_count", frozenset({r}))] == 5


def test_histogram_swapped_arguments_and_label_escaping():
    h = Histogram("h2", JSArray(["k"]), JSArray([1, 2]))  # gateway metrics.js order
    h.withLabels('a"b\\c').observe(1)
    _, s = parse(render_prometheus())
    assert s[("h2_count", frozenset({("k", 'a\\"b\\\\c')}))] == 1


def test_redefinition_replaces():
    Counter("x").increase(5)
    Counter("x").increase(1)
    assert parse(render_prometheus())[1][("x", frozenset())] == 1
