"""link and branch (reference §2.2 rows 5, 48)."""
import pytest

from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.js.values import JSThrow

from . import Run, load, run

PIPES = """
.pipeline('a').replaceData(d => new Data('a:' + d.toString()))
.pipeline('b').replaceData(d => new Data('b:' + d.toString()))
"""


def test_link_single_name_links_unconditionally(tmp_path):
    src = "pipy().pipeline('main').link('a')" + PIPES
    assert run(tmp_path, src, [Data("x"), StreamEnd()]) == [("D", b"a:x"), ("SE", "")]


def test_link_first_true_condition_wins_and_name_without_function_is_fallback(tmp_path):
    src = "pipy({_v: 0}).pipeline('main').link('a', () => _v === 1, 'b')" + PIPES
    assert run(tmp_path, src, [Data("x")]) == [("D", b"b:x")]


def test_link_choice_is_fixed_for_the_stream(tmp_path):
    src = ("pipy({_v: 1}).pipeline('main').handleData(() => _v++)"
           ".link('a', () => _v === 2, 'b')" + PIPES)
    assert run(tmp_path, src, [Data("x"), Data("y")]) == [("D", b"a:x"), ("D", b"a:y")]


def test_link_buffers_until_a_condition_holds_then_flushes_in_order(tmp_path):
    src = ("pipy({_n: 0}).pipeline('main').handleData(() => _n++)"
           ".link('a', () => _n >= 3)" + PIPES)
    r = Run(load(tmp_path, src))
    assert r.feed(Data("1"), Data("2")) == []
    assert r.feed(Data("3"), StreamEnd()) == [("D", b"a:1"), ("D", b"a:2"), ("D", b"a:3"),
                                              ("SE", "")]


def test_link_empty_name_passes_through(tmp_path):
    src = "pipy({_v: 0}).pipeline('main').link('a', () => _v, '')" + PIPES
    assert run(tmp_path, src, [Data("x"), StreamEnd()]) == [("D", b"x"), ("SE", "")]


def test_link_shares_the_context(tmp_path):
    src = ("pipy({_seen: ''}).pipeline('main').link('s').handleData(() => _seen += '!')"
           ".pipeline('s').handleData(d => _seen += d.toString())")
    w = load(tmp_path, src)
    r = Run(w)
    r.feed(Data("x"))
    assert r.context.data[0]["_seen"] == "x!"


def test_link_sub_pipeline_is_created_on_first_event_and_ended_with_the_parent(tmp_path):
    src = ("pipy({_log: []}).pipeline('main').link('s')"
           ".pipeline('s').onStart(() => void _log.push('start')).onEnd(() => _log.push('end'))"
           ".handleData(() => _log.push('data'))")
    w = load(tmp_path, src)
    r = Run(w)
    log = r.context.data[0]["_log"]
    assert log == []
    r.feed(Data("x"))
    assert log == ["start", "data"]
    r.pipeline.end()
    assert log == ["start", "data", "end"]


def test_link_throwing_condition_counts_as_false(tmp_path):
    src = "pipy().pipeline('main').link('a', () => nope.x, 'b')" + PIPES
    assert run(tmp_path, src, [Data("x")]) == [("D", b"b:x")]


def test_link_unknown_name_fails_at_bind(tmp_path):
    with pytest.raises(Exception, match="pipeline not found with name: zz"):
        load(tmp_path, "pipy().pipeline('main').link('zz')")


def test_link_to_is_refused(tmp_path):
    with pytest.raises(Exception, match="to\\(\\) without a joint-filter"):
        load(tmp_path, "pipy().pipeline('main').link('a').to('a')" + PIPES)


@pytest.mark.parametrize("args", ["", "1", "'a', 2, 3"])
def test_link_bad_arguments(tmp_path, args):
    with pytest.raises(Exception, match="TypeError: link"):
        load(tmp_path, f"pipy().pipeline('main').link({args})" + PIPES)


def test_branch_with_builders_and_fallback(tmp_path):
    src = """pipy({_k: ''}).pipeline('main')
      .handleMessageStart(m => _k = m.head.k)
      .branch(
        () => _k === 'a', $ => $.replaceMessage(new Message('A')),
        () => _k === 'b', 'b',
        $ => $.replaceMessage(new Message('other'))
      )""" + PIPES
    w = load(tmp_path, src)

    def one(k):
        r = Run(w)
        r.feed(MessageStart({"k": k}), Data("x"), MessageEnd())
        return r.data()

    assert [one("a"), one("b"), one("c")] == [b"A", b"b:x", b"other"]


def test_branch_without_fallback_buffers_and_rechecks_on_each_event(tmp_path):
    src = ("pipy({_n: 0}).pipeline('main').handleData(() => _n++)"
           ".branch(() => _n === 2, 'a')" + PIPES)
    r = Run(load(tmp_path, src))
    assert r.feed(Data("1")) == []
    assert r.feed(Data("2"), Data("3")) == [("D", b"a:1"), ("D", b"a:2"), ("D", b"a:3")]


def test_branch_nested_builders_bind_their_names(tmp_path):
    src = ("pipy().pipeline('main').branch(() => true, $ => $.branch(() => false, 'a', 'b'))"
           + PIPES)
    assert run(tmp_path, src, [Data("x")]) == [("D", b"b:x")]


def test_branch_graph_draws_inline_layouts(tmp_path):
    w = load(tmp_path, "pipy().pipeline('main').branch(() => true, $ => $.dummy(), 'a')" + PIPES)
    assert "branch --> [a]" in "\n".join(w.graph())


def test_branch_bad_layout_argument(tmp_path):
    with pytest.raises(Exception, match="TypeError: branch: argument #2"):
        load(tmp_path, "pipy().pipeline('main').branch(() => true, 42)")


def test_branch_constant_condition(tmp_path):
    src = "pipy().pipeline('main').branch(false, 'a', true, 'b')" + PIPES
    assert run(tmp_path, src, [Data("x")]) == [("D", b"b:x")]


def test_link_configure_errors_are_js_type_errors():
    from pipyd.registry import lookup
    with pytest.raises(JSThrow):
        lookup("link").configure(None, 5)
