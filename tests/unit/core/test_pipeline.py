from pipyd.context import Context
from pipyd.events import Data, Message, StreamEnd
from pipyd.js import scope
from pipyd.js.values import JSArray, type_error
from pipyd.pipeline import (
    DISCARD, FAILED, Filter, FlowControl, JointFilter, PipelineLayout, module_graph,
)
from pipyd.registry import lookup, names, register

from . import Collect, capture_log, layout, show  # noqa: F401 (fixture)


class Upper(Filter):
    """Test filter: upper-cases Data, counts events per stream."""

    __slots__ = ("suffix", "seen")
    CONFIG = ("suffix",)
    NAME = "upper"

    def reset(self):
        self.seen = 0

    def process(self, evt):
        self.seen += 1
        if type(evt) is Data:
            evt = Data(evt.to_bytes().upper() + self.suffix)
        self.next.process(evt)


def upper(suffix=b""):
    f = Upper.__new__(Upper)
    f.suffix = suffix
    return f


class Link(JointFilter):
    """Test-only `link`: every event goes to one sub-pipeline created on the first event."""

    __slots__ = ("sub",)
    NAME = "link"

    def reset(self):
        sub = getattr(self, "sub", None)
        if sub is not None:
            sub.end()
        self.sub = None

    def process(self, evt):
        if self.sub is None:
            self.sub = self.sub_pipeline()
        self.sub.input(evt)


def link(*subs):
    f = Link.__new__(Link)
    f.sub_layouts = None
    for s in subs:
        f.add_sub_layout(s)
    return f


def make(*filters, name="t", on_start=None, on_end=None):
    lay = PipelineLayout(name)
    for f in filters:
        lay.append(f)
    lay.on_start, lay.on_end = on_start, on_end
    return lay


def test_filters_are_cloned_per_pipeline_with_shared_config():
    proto = upper(b"!")
    lay = make(proto)
    out1, out2 = Collect(), Collect()
    p1 = lay.instantiate(Context([{}]), out1)
    p2 = lay.instantiate(Context([{}]), out2)
    p1.input(Data("a"))
    p1.input(Data("b"))
    p2.input(Data("c"))
    assert show(out1.events) == [("D", b"A!"), ("D", b"B!")]
    assert show(out2.events) == [("D", b"C!")]
    assert p1.filters[0] is not proto and p1.filters[0].seen == 2 and p2.filters[0].seen == 1
    assert p1.filters[0].pipeline is p1


def test_empty_layout_passes_through_and_default_output_discards():
    out = Collect()
    p = make().instantiate(Context([{}]), out)
    p.input(StreamEnd())
    assert show(out.events) == [("SE", "")]
    assert make(upper()).instantiate(Context([{}])).output is DISCARD


def test_on_start_value_is_first_input_and_gets_args():
    seen = []

    def on_start(*args):
        seen.append((args, scope.ACTIVE.current))
        return JSArray([Message(None, "hi"), StreamEnd()])

    ctx = Context([{}])
    out = Collect()
    make(upper(), on_start=on_start).instantiate(ctx, out, args=(1, 2))
    assert seen == [((1, 2), ctx)]
    assert show(out.events) == [("MS", None), ("D", b"HI"), ("ME", None), ("SE", "")]


def test_on_start_error_and_bad_value_are_logged(capture_log):
    def boom():
        raise type_error("nope")

    out = Collect()
    make(on_start=boom).instantiate(Context([{}]), out)
    make(on_start=lambda: "str").instantiate(Context([{}]), out)
    assert out.events == []
    text = capture_log.getvalue()
    assert "TypeError: nope" in text and "output is not events or messages" in text


def test_end_runs_on_end_once_and_ends_sub_pipelines():
    ended = []
    sub = make(upper(), name="sub", on_end=lambda: ended.append("sub"))
    p = make(link(sub), on_end=lambda: ended.append("root")).instantiate(Context([{}]), Collect())
    p.input(Data("x"))
    p.end()
    p.end()
    assert ended == ["sub", "root"]


def test_joint_filter_creates_sub_pipeline_lazily_and_shares_context():
    starts = []
    sub = make(upper(b"?"), name="sub", on_start=lambda: starts.append(scope.ACTIVE.current))
    ctx = Context([{}])
    out = Collect()
    p = make(link(sub), upper(b"!")).instantiate(ctx, out)
    assert starts == []  # created on the first event, not at pipeline start
    p.input(Data("a"))
    p.input(Data("b"))
    assert starts == [ctx]
    assert show(out.events) == [("D", b"A?!"), ("D", b"B?!")]


def test_joint_filter_named_binding_and_cloned_context():
    lay = make(upper(), name="named")
    f = link("named")
    f.bind({"named": lay}.__getitem__)
    assert f.sub_layouts == [lay]
    ctx = Context([{"x": 1}])
    out = Collect()
    p = make(f).instantiate(ctx, out)
    clone = ctx.clone()
    sub = p.filters[0].sub_pipeline(context=clone)
    sub.input(Data("q"))
    assert show(out.events) == [("D", b"Q")] and sub.context is clone


class Flow(FlowControl):
    __slots__ = ("log",)

    def __init__(self):
        super().__init__()
        self.log = []

    def pause_reading(self):
        self.log.append("pause")

    def resume_reading(self):
        self.log.append("resume")


def test_flow_control_nests_and_is_inherited_by_sub_pipelines():
    flow = Flow()
    p = make(link(make(upper(), name="s"))).instantiate(Context([{}]), Collect(), flow=flow)
    p.input(Data("a"))
    sub = p.filters[0].sub
    assert sub.flow is flow
    p.pause_input()
    sub.pause_input()
    sub.resume_input()
    assert flow.log == ["pause"]
    p.resume_input()
    p.resume_input()  # extra resumes are ignored
    assert flow.log == ["pause", "resume"]


def test_callback_sets_context_and_reports_errors(capture_log):
    ctx = Context([{}])
    p = make(upper()).instantiate(ctx, Collect())
    f = p.filters[0]
    assert f.callback(lambda a: (a, scope.ACTIVE.current), 7) == (7, ctx)

    def bad():
        raise type_error("bad thing")

    assert f.callback(bad) is FAILED and Filter.FAILED is FAILED
    assert "bad thing" in capture_log.getvalue()
    assert f.eval_arg(5) == 5 and f.eval_arg(lambda x: x * 2, 4) == 8
    assert f.eval_arg(Data) is Data  # host classes are values, not functions


def test_context_ids_and_clone():
    shared = {"n": 0}
    a = Context([{"x": 1, "g": shared}], inbound="in")
    b = a.clone()
    assert b.id > a.id and b.inbound == "in" and b.group is a.group is not None
    b.data[0]["x"] = 2
    assert a.data[0]["x"] == 1 and b.data[0]["g"] is shared


def test_context_group_touch_runs_waiters_once():
    g = Context([{}]).get_group()
    calls = []

    def w():
        calls.append(1)
        g.touch()  # re-entrant touch is ignored

    g.add_waiter(w)
    g.touch()
    g.remove_waiter(w)
    g.remove_waiter(w)
    g.touch()
    assert calls == [1]


def test_registry():
    @register("testOnlyFilter")
    class T(Filter):
        __slots__ = ()

    assert lookup("testOnlyFilter") is T and T.NAME == "testOnlyFilter"
    assert "testOnlyFilter" in names() and lookup("nope") is None
    assert lookup("handleMessageStart").__name__ == "HandleMessageStart"


def test_graph_matches_pipy_format():
    lay = PipelineLayout("", kind="listen", label="Listen on 8080 at 0.0.0.0")
    lay.append(layout(("handleMessageStart", lambda e: None)).filters[0])
    lay.append(layout(("dummy",)).filters[0])
    assert lay.dump().split("\n") == [
        " [Listen on 8080 at 0.0.0.0]",
        " ----->|",
        "       |",
        "      handleMessageStart",
        "      dummy -->|",
        "               |",
        " <-------------|",
    ]
    assert PipelineLayout("empty").dump().split("\n") == [
        " [empty]", " ----->|", "       |", " <-----|"]


def test_graph_of_joint_filters():
    inline = make(upper())
    inline.name = ""
    lay = make(link(inline), link("other"), name="main")
    lines = lay.dump().split("\n")
    assert lines[3] == "      link"
    assert lines[4:8] == ["           []", "           ----->|", "                 |",
                          "                upper -->|"]
    assert "      link --> [other] -->|" in lines
    g = module_graph("/hello.js", [lay])
    assert g[:4] == ["", "Module /hello.js", "================", ""] and g[-1] == ""


def test_ended_pipeline_drops_input_and_leaves_no_cycles():
    """After end() a pipeline lets go of its filters (no pipeline <-> filter cycle is left for
    the collector), and input that still arrives is dropped, not fed to reset filters."""
    import gc
    import weakref

    from pipyd.events import Data
    from pipyd.pipeline import Filter, PipelineLayout

    seen = []

    class Spy(Filter):
        __slots__ = ("__weakref__",)  # only so the test can watch it go

        def process(self, evt):
            seen.append(evt)

    layout = PipelineLayout("t")
    layout.append(Spy())
    p = layout.instantiate(None)
    p.input(Data(b"a"))
    filt = weakref.ref(p.filters[0])
    p.end()
    p.input(Data(b"b"))
    assert [e.to_bytes() for e in seen] == [b"a"]
    gc.disable()
    try:
        assert filt() is None  # freed by reference counting alone, with the collector off
    finally:
        gc.enable()
