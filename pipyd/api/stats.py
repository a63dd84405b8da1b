"""``stats.Counter``, ``stats.Gauge``, ``stats.Histogram`` (reference §3.6) and the registry the
admin port renders in the Prometheus text format (exposition format 0.0.4).

A metric with label names holds one child per distinct label-value tuple, made by
``withLabels(...values)`` and kept until ``clear()``; the family is rendered from its children
(the unlabelled parent is rendered only when the metric has no labels, so a scrape never mixes
label sets). Defining a metric under a name already registered replaces the old one, so a
codebase reload does not leave duplicates behind. ``Histogram`` buckets are upper bounds;
rendering adds the ``+Inf`` bucket, ``_sum`` and ``_count``. Gateway scripts that pass
``(name, labelNames, buckets)`` instead of ``(name, buckets, labelNames)`` work too.
"""
from __future__ import annotations

import math
from bisect import bisect_left
from typing import Any, ClassVar

from pipyd.js.coerce import to_number, to_string
from pipyd.js.numfmt import number_to_string
from pipyd.js.values import HostObject, type_error, undefined

_REGISTRY: dict[str, "Metric"] = {}


def _fmt(v: int | float) -> str:
    if type(v) is int:
        return str(v)
    if v != v:
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return number_to_string(v)


def _escape(v: str) -> str:
    return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Metric(HostObject):
    """Common part: name, label names, children by label values."""

    __slots__ = ("_name", "_labels", "_values", "_children", "_root")
    js_class_name = "Metric"
    type_name: ClassVar[str] = ""

    def _init(self, name: Any, labels: Any, root: "Metric | None" = None,
              values: tuple[str, ...] = ()) -> None:
        if type(name) is not str or not name:
            raise type_error(f"stats.{type(self).__name__}: expected a metric name")
        self._name = name
        self._labels = tuple(to_string(x) for x in labels) if isinstance(labels, list) else ()
        self._values = values
        self._children: dict[tuple[str, ...], Metric] = {}
        self._root = root
        if root is None:
            _REGISTRY[name] = self

    @property
    def name(self) -> str:
        return self._name

    def withLabels(self, *values: Any) -> "Metric":  # noqa: N802 (Pipy's name)
        key = tuple(to_string(v) for v in values[:len(self._labels)])
        key += ("",) * (len(self._labels) - len(key))
        child = self._children.get(key)
        if child is None:
            child = self._child(key)
            self._children[key] = child
        return child

    def clear(self) -> None:
        self._children.clear()

    def _child(self, values: tuple[str, ...]) -> "Metric":
        raise NotImplementedError

    def _label_text(self, extra: str = "") -> str:
        root = self._root or self
        parts = [f'{k}="{_escape(v)}"' for k, v in zip(root._labels, self._values)]
        if extra:
            parts.append(extra)
        return "{" + ",".join(parts) + "}" if parts else ""

    def _samples(self, out: list[str]) -> None:
        raise NotImplementedError

    def render(self, out: list[str]) -> None:
        out.append(f"# TYPE {self._name} {self.type_name}")
        if not self._labels:
            self._samples(out)
        for child in self._children.values():
            child._samples(out)


class Counter(Metric):
    __slots__ = ("value",)
    js_get = frozenset({"name", "increase", "zero", "withLabels", "clear"})
    js_new = True
    js_class_name = "Counter"
    type_name = "counter"

    def __init__(self, name: Any = undefined, labels: Any = undefined) -> None:
        self._init(name, labels)
        self.value: int | float = 0

    def _child(self, values: tuple[str, ...]) -> "Counter":
        c = Counter.__new__(Counter)
        c._init(self._name, (), self, values)
        c.value = 0
        return c

    def increase(self, n: Any = 1) -> None:
        self.value += n if type(n) is int or type(n) is float else (1 if n is undefined else to_number(n))

    def zero(self) -> None:
        self.value = 0
        for c in self._children.values():
            c.zero()

    def _samples(self, out: list[str]) -> None:
        out.append(f"{self._name}{self._label_text()} {_fmt(self.value)}")


class Gauge(Counter):
    __slots__ = ()
    js_get = frozenset({"name", "set", "increase", "decrease", "zero", "withLabels", "clear"})
    js_class_name = "Gauge"
    type_name = "gauge"

    def _child(self, values: tuple[str, ...]) -> "Gauge":
        g = Gauge.__new__(Gauge)
        g._init(self._name, (), self, values)
        g.value = 0
        return g

    def set(self, n: Any = undefined) -> None:
        self.value = n if type(n) is int or type(n) is float else to_number(n)

    def decrease(self, n: Any = 1) -> None:
        self.value -= n if type(n) is int or type(n) is float else (1 if n is undefined else to_number(n))


class Histogram(Metric):
    __slots__ = ("_bounds", "_counts", "_sum", "_count")
    js_get = frozenset({"name", "observe", "zero", "withLabels", "clear"})
    js_new = True
    js_class_name = "Histogram"
    type_name = "histogram"

    def __init__(self, name: Any = undefined, buckets: Any = undefined, labels: Any = undefined) -> None:
        if _all_strings(buckets) and isinstance(labels, list) and not _all_strings(labels):
            buckets, labels = labels, buckets  # gateway metrics.js order
        if not isinstance(buckets, list):
            raise type_error("stats.Histogram: expected an array of bucket bounds")
        self._init(name, labels)
        self._bounds = sorted(to_number(b) for b in buckets)
        self.zero()

    def _child(self, values: tuple[str, ...]) -> "Histogram":
        h = Histogram.__new__(Histogram)
        h._init(self._name, (), self, values)
        h._bounds = self._bounds
        h.zero()
        return h

    def observe(self, x: Any = undefined) -> None:
        v = x if type(x) is int or type(x) is float else to_number(x)
        i = bisect_left(self._bounds, v)  # first bound >= v: `le` is inclusive
        if i < len(self._counts):
            self._counts[i] += 1
        self._sum += v
        self._count += 1

    def zero(self) -> None:
        self._counts = [0] * len(self._bounds)
        self._sum: int | float = 0
        self._count = 0
        for c in self._children.values():
            c.zero()

    def _samples(self, out: list[str]) -> None:
        total = 0
        for bound, n in zip(self._bounds, self._counts):
            total += n
            le = 'le="' + _fmt(bound) + '"'
            out.append(f"{self._name}_bucket{self._label_text(le)} {total}")
        le = 'le="+Inf"'
        out.append(f"{self._name}_bucket{self._label_text(le)} {self._count}")
        out.append(f"{self._name}_sum{self._label_text()} {_fmt(self._sum)}")
        out.append(f"{self._name}_count{self._label_text()} {self._count}")


def _all_strings(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(type(x) is str for x in v)


def render_prometheus() -> str:
    """Every registered metric in the Prometheus text exposition format."""
    out: list[str] = []
    for m in list(_REGISTRY.values()):
        m.render(out)
    return "\n".join(out) + "\n" if out else ""


def reset_registry() -> None:
    """Forget every metric (tests, and a worker that starts over)."""
    _REGISTRY.clear()
