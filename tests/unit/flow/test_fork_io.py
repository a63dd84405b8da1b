"""fork, input and output (reference §2.2 rows 38, 47, 53)."""
import pytest

from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.inbound import Output

from . import Collect, Run, load, run, show


def test_fork_passes_input_through_and_discards_sub_output(tmp_path):
    src = ("pipy({_got: ''}).pipeline('main').fork().to($ => $"
           ".handleData(d => _got += d.toString()).replaceData(new Data('lost')))")
    w = load(tmp_path, src)
    r = Run(w)
    assert r.feed(Data("x"), Data("y"), StreamEnd()) == [("D", b"x"), ("D", b"y"), ("SE", "")]
    assert r.context.data[0]["_got"] == "xy"  # shared context without an array


def test_fork_gives_the_sub_pipeline_copies(tmp_path):
    src = ("pipy().pipeline('main').fork().to($ => $.handleData(d => d.shift(1)))")
    assert run(tmp_path, src, [Data("abc")]) == [("D", b"abc")]


def test_fork_value_goes_to_on_start(tmp_path):
    src = ("pipy({_v: null}).pipeline('main').fork(() => 42).to($ => $"
           ".onStart(v => void (_v = v)).dummy())")
    r = Run(load(tmp_path, src))
    r.feed(Data("x"))
    assert r.context.data[0]["_v"] == 42


def test_fork_array_clones_the_context_per_element(tmp_path):
    src = ("pipy({_seen: [], _mine: null}).pipeline('main')"
           ".fork(['a', 'b']).to($ => $.onStart(v => void (_mine = v))"
           ".handleData(() => _seen.push(_mine)))")
    r = Run(load(tmp_path, src))
    r.feed(Data("1"), Data("2"))
    data = r.context.data[0]
    assert data["_seen"] == ["a", "b", "a", "b"]  # the object value is shared by clones
    assert data["_mine"] is None  # each clone set its own copy


def test_fork_name_first_form_and_sub_pipelines_created_on_first_event(tmp_path):
    src = ("pipy({_g: {n: 0}}).pipeline('main').fork('f', [1, 2, 3])"
           ".pipeline('f').onStart(v => void (_g.n += v)).dummy()")
    r = Run(load(tmp_path, src))
    assert r.context.data[0]["_g"]["n"] == 0
    r.feed(Data("x"), Data("y"))
    assert r.context.data[0]["_g"]["n"] == 6  # one sub-pipeline per element, once


def test_fork_requires_to(tmp_path):
    with pytest.raises(Exception, match="missing .to"):
        load(tmp_path, "pipy().pipeline('main').fork().dummy()")


def test_input_outputs_what_output_sends_back(tmp_path):
    src = ("pipy().pipeline('main').input().to($ => $"
           ".replaceData(d => new Data('<' + d.toString() + '>')).output())")
    assert run(tmp_path, src, [Data("x"), StreamEnd()]) == [("D", b"<x>"), ("SE", "")]


def test_input_discards_the_sub_pipelines_own_output(tmp_path):
    src = "pipy().pipeline('main').input().to($ => $.replaceData(new Data('no')))"
    assert run(tmp_path, src, [Data("x")]) == []


def test_output_reaches_the_nearest_input_through_nested_sub_pipelines(tmp_path):
    src = ("pipy().pipeline('main').input().to($ => $.link('deep'))"
           ".pipeline('deep').branch(() => true, $ => $.fork().to($ => $.output()))")
    assert run(tmp_path, src, [Data("x")]) == [("D", b"x")]


def test_input_callback_gets_a_handle_usable_anywhere(tmp_path):
    src = ("pipy({_h: null}).pipeline('main').input(h => void (_h = h)).to('sub')"
           ".pipeline('sub').fork(['a']).to($ => $.replaceData(new Data('via handle'))"
           ".output(() => _h))")
    assert run(tmp_path, src, [Data("x")]) == [("D", b"via handle")]


def test_output_without_input_drops(tmp_path):
    assert run(tmp_path, "pipy().pipeline('main').output()", [Data("x")]) == []


def test_output_to_a_given_output_object(tmp_path):
    w = load(tmp_path, "pipy({_o: null}).pipeline('main').output(() => _o)")
    sink = Collect()
    r = Run(w)
    r.context.data[0]["_o"] = Output(sink)
    assert r.feed(Data("x")) == []
    assert show(sink.events) == [("D", b"x")]


def test_output_function_returning_something_else_logs(tmp_path, capsys):
    assert run(tmp_path, "pipy().pipeline('main').output(() => 1)", [Data("x")]) == []
    assert "did not return an Output" in capsys.readouterr().err


def test_input_name_first_form(tmp_path):
    src = "pipy().pipeline('main').input('s').pipeline('s').output()"
    assert run(tmp_path, src, [MessageStart(), MessageEnd()]) == [("MS", None), ("ME", None)]
