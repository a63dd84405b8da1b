"""The admin port's pieces without sockets: /dump section names, the per-worker metric merge,
and the sections over hand-made pipelines (pipyd/admin_dump.py, pipyd/admin.py)."""
import pytest

from pipyd.admin import _number, merge_metrics
from pipyd.admin_dump import SECTIONS, layout_titles, parse_sections, render_dump
from pipyd.pipeline import PipelineLayout


@pytest.mark.parametrize("text,names,unknown", [
    ("inbound", ["inbound"], []),
    ("inbound+outbound", ["inbound", "outbound"], []),
    ("pools+pools+http2", ["pools", "http2"], []),
    ("inbound+nope", ["inbound"], ["nope"]),
    ("", [], [""]),
    ("+".join(SECTIONS), list(SECTIONS), []),
])
def test_parse_sections(text, names, unknown):
    assert parse_sections(text) == (names, unknown)


W0 = """# TYPE req_total counter
req_total{method="GET",note="a \\"b\\" c"} 3
req_total{method="POST",note="x y"} 1
# TYPE lat histogram
lat_bucket{le="1"} 1
lat_bucket{le="+Inf"} 2
lat_sum 2.5
lat_count 2
# TYPE pipyd_pipelines gauge
pipyd_pipelines 4
"""
W1 = """# TYPE req_total counter
req_total{method="GET",note="a \\"b\\" c"} 2
req_total{method="PUT",note=""} 7
# TYPE lat histogram
lat_bucket{le="1"} 0
lat_bucket{le="+Inf"} 1
lat_sum 0.25
lat_count 1
# TYPE only_w1 gauge
only_w1 -1.5
# TYPE pipyd_pipelines gauge
pipyd_pipelines 1
"""


def test_merge_metrics_adds_samples_with_the_same_labels():
    merged = merge_metrics([W0, W1])
    assert merged.splitlines() == [
        "# TYPE req_total counter",
        'req_total{method="GET",note="a \\"b\\" c"} 5',
        'req_total{method="POST",note="x y"} 1',
        'req_total{method="PUT",note=""} 7',
        "# TYPE lat histogram",
        'lat_bucket{le="1"} 1',
        'lat_bucket{le="+Inf"} 3',
        "lat_sum 2.75",
        "lat_count 3",
        "# TYPE pipyd_pipelines gauge",
        "pipyd_pipelines 5",
        "# TYPE only_w1 gauge",
        "only_w1 -1.5",
    ]


def test_merged_metrics_parse_with_prometheus_client():
    from prometheus_client.parser import text_string_to_metric_families
    fams = {f.name: f for f in text_string_to_metric_families(merge_metrics([W0, W1]))}
    assert fams["req"].type == "counter" and fams["lat"].type == "histogram"
    get = {(s.name, s.labels.get("method")): s.value for s in fams["req"].samples}
    assert get[("req_total", "GET")] == 5
    assert fams["req"].samples[0].labels["note"] == 'a "b" c'


@pytest.mark.parametrize("v,text", [(3, "3"), (2.0, "2"), (2.5, "2.5"), (float("nan"), "NaN"),
                                    (float("inf"), "+Inf"), (-float("inf"), "-Inf")])
def test_number_text(v, text):
    assert _number(v) == text


class _Module:
    path = "/main.js"

    def __init__(self, layouts):
        self.layouts = layouts


class _Worker:
    roots = None

    def __init__(self, layouts):
        self.modules = [_Module(layouts)]


def test_pipelines_counts_active_and_ended_instances_per_layout():
    root = PipelineLayout("", None, "listen", "Listen on 8080 at 0.0.0.0")
    named = PipelineLayout("upstream", None)
    worker = _Worker([root, named])
    assert layout_titles(worker) == {id(root): "/main.js [Listen on 8080 at 0.0.0.0]",
                                     id(named): "/main.js [upstream]"}
    live = [root.instantiate(None) for _ in range(3)] + [named.instantiate(None)]
    live[0].end()  # ended but still referenced (by this list): what a leak looks like
    text = render_dump(worker, ["pipelines"])
    assert "       2        1  /main.js [Listen on 8080 at 0.0.0.0]" in text
    assert "       1        0  /main.js [upstream]" in text
    del live


def test_objects_and_chunks_count_live_values():
    from pipyd.events import Data
    from pipyd.js.values import JSArray, JSObject
    keep = [Data.from_bytes(b"x" * 1000), Data.from_bytes(b"yy"), JSObject(a=1), JSArray([1])]
    text = render_dump(None, ["objects", "chunks"])
    objects = text.split("[objects]\n")[1].split("\n\n")[0]
    assert any(line.split()[-1] == "Data" and int(line.split()[0]) >= 2
               for line in objects.splitlines())
    assert "Object" in objects and "Array" in objects
    chunks = text.split("[chunks]\n")[1]
    assert "  1000 bytes in 1 chunks" in chunks
    del keep


def test_every_section_renders_without_a_worker():
    text = render_dump(None, SECTIONS)
    for name in SECTIONS:
        assert f"[{name}]\n" in text
    assert "(no listeners)" in text and "(no mux session pools" in text
