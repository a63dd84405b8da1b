import pytest

from pipyd.context import Context
from pipyd.events import Data, Message, MessageEnd, MessageStart, StreamEnd
from pipyd.js import scope
from pipyd.js.values import JSObject, JSThrow, type_error

from . import capture_log, msg, run  # noqa: F401 (fixture)

STREAM = [*msg({"a": 1}, b"he", b"llo", tail={"t": 1}), Data("x"), StreamEnd()]
PASSED = [("MS", {"a": 1}), ("D", b"he"), ("D", b"llo"), ("ME", {"t": 1}), ("D", b"x"),
          ("SE", "")]


def recorder():
    seen = []
    return seen, lambda *a: seen.append(a[0] if len(a) == 1 else a)


@pytest.mark.parametrize("name, picked", [
    ("handleData", [b"he", b"llo", b"x"]),
    ("handleMessageStart", [{"a": 1}]),
    ("handleMessageEnd", [{"t": 1}]),
    ("handleStreamEnd", [""]),
    ("handleStreamStart", [{"a": 1}]),
])
def test_handle_event_filters_call_back_and_pass_through(name, picked):
    seen, cb = recorder()
    assert run([(name, cb)], STREAM) == PASSED
    values = []
    for e in seen:
        t = type(e)
        values.append(e.to_bytes() if t is Data else e.head if t is MessageStart
                      else e.tail if t is MessageEnd else e.error)
    assert values == picked


def test_handle_stream_start_once_per_stream_even_for_stream_end():
    seen, cb = recorder()
    assert run([("handleStreamStart", cb)], [StreamEnd(), StreamEnd()]) == [("SE", ""), ("SE", "")]
    assert len(seen) == 1


def test_head_mutation_is_seen_downstream():
    def rewrite(evt):
        evt.head["path"] = "/new"

    out = run([("handleMessageStart", rewrite)], msg(JSObject(path="/old")))
    assert out[0] == ("MS", {"path": "/new"})


def test_callback_runs_in_the_pipeline_context():
    ctx = Context([{"v": 1}])
    seen = []
    run([("handleData", lambda d: seen.append(scope.ACTIVE.current))], [Data("a")], ctx)
    assert seen == [ctx]


def test_throwing_callback_drops_event_logs_and_continues(capture_log):
    def cb(d):
        if d.to_bytes() == b"bad":
            raise type_error("cannot handle")

    out = run([("handleData", cb)], [Data("ok"), Data("bad"), Data("ok2"), StreamEnd()])
    assert out == [("D", b"ok"), ("D", b"ok2"), ("SE", "")]
    assert "[ERR]" in capture_log.getvalue() and "cannot handle" in capture_log.getvalue()


@pytest.mark.parametrize("name", ["handleData", "handleMessageStart", "handleMessageEnd",
                                  "handleStreamEnd", "handleStreamStart", "handleMessage",
                                  "handleMessageBody"])
@pytest.mark.parametrize("args", [(), ("x",), (1,), (JSObject(),)])
def test_bad_arguments_name_the_filter(name, args):
    from pipyd.registry import lookup
    with pytest.raises(JSThrow) as e:
        lookup(name).configure(None, *args)
    assert str(e.value).startswith("TypeError: " + name)


def test_handle_message_gets_whole_messages():
    seen, cb = recorder()
    events = [*msg({"n": 1}, b"ab", b"cd", tail={"t": 1}), *msg({"n": 2}), StreamEnd()]
    out = run([("handleMessage", cb)], events)
    assert len(out) == 7
    assert [(type(m), m.head, m.body.to_bytes(), m.tail) for m in seen] == [
        (Message, {"n": 1}, b"abcd", {"t": 1}), (Message, {"n": 2}, b"", None)]


def test_handle_message_callback_before_message_end():
    order = []
    from pipyd.pipeline import PipelineLayout
    from pipyd.registry import lookup
    lay = PipelineLayout()
    lay.append(lookup("handleMessage").configure(None, lambda m: order.append("cb")))
    lay.append(lookup("handleMessageEnd").configure(None, lambda e: order.append("end")))
    from . import Collect
    p = lay.instantiate(Context([{}]), Collect())
    for e in msg({}, b"x"):
        p.input(e)
    assert order == ["cb", "end"]


@pytest.mark.parametrize("limit", [4, "4", 4.0])
def test_handle_message_size_limit_truncates_with_one_error(limit, capture_log):
    seen, cb = recorder()
    out = run([("handleMessage", limit, cb)], msg({}, b"abc", b"def", b"ghi"))
    assert [d for k, d in out if k == "D"] == [b"abc", b"def", b"ghi"]  # events untouched
    assert seen[0].body.to_bytes() == b"abcd"
    assert capture_log.getvalue().count("[ERR]") == 1


def test_handle_message_size_limit_string_suffix():
    seen, cb = recorder()
    run([("handleMessage", "1k", cb)], msg({}, b"x" * 2000))
    assert seen[0].body.size == 1024


def test_handle_message_stream_end_mid_message_discards_it():
    seen, cb = recorder()
    out = run([("handleMessage", cb)], [MessageStart({}), Data("a"), StreamEnd()])
    assert out == [("MS", {}), ("D", b"a"), ("SE", "")] and seen == []


def test_handle_message_ignores_data_outside_messages_and_drops_on_error(capture_log):
    def cb(m):
        raise type_error("no")

    out = run([("handleMessage", cb)], [Data("z"), *msg({}, b"a"), StreamEnd()])
    assert out == [("D", b"z"), ("MS", {}), ("D", b"a"), ("SE", "")]  # MessageEnd dropped


def test_handle_message_body():
    seen, cb = recorder()
    run([("handleMessageBody", cb)], [*msg({}, b"ab", b"c"), *msg({}, b"d")])
    assert [d.to_bytes() for d in seen] == [b"abc", b"d"]
    seen.clear()
    run([("handleMessageBody", 2, cb)], msg({}, b"abc"))
    assert seen[0].to_bytes() == b"ab"


def test_clone_resets_per_stream_state():
    from pipyd.registry import lookup
    from pipyd.pipeline import PipelineLayout
    from . import Collect
    seen, cb = recorder()
    lay = PipelineLayout()
    lay.append(lookup("handleStreamStart").configure(None, cb))
    for _ in range(2):
        lay.instantiate(Context([{}]), Collect()).input(Data("a"))
    assert len(seen) == 2
