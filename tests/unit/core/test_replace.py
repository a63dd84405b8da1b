import pytest

from pipyd.events import Data, Message, MessageEnd, MessageStart, StreamEnd
from pipyd.js.values import JSArray, JSObject, JSThrow, type_error
from pipyd.registry import lookup

from . import capture_log, msg, run  # noqa: F401 (fixture)

STREAM = [*msg({"a": 1}, b"he", b"llo", tail={"t": 1}), Data("x"), StreamEnd()]


def boom(*a):
    raise type_error("boom")


@pytest.mark.parametrize("specs, expected", [
    # replaceData: function, constant, no argument (delete)
    ([("replaceData", lambda d: Data(d.to_bytes().upper()))],
     [("MS", {"a": 1}), ("D", b"HE"), ("D", b"LLO"), ("ME", {"t": 1}), ("D", b"X"), ("SE", "")]),
    ([("replaceData", Data("-"))],
     [("MS", {"a": 1}), ("D", b"-"), ("D", b"-"), ("ME", {"t": 1}), ("D", b"-"), ("SE", "")]),
    ([("replaceData",)], [("MS", {"a": 1}), ("ME", {"t": 1}), ("SE", "")]),
    ([("replaceData", lambda d: None)], [("MS", {"a": 1}), ("ME", {"t": 1}), ("SE", "")]),
    # replaceMessageStart / End / StreamEnd
    ([("replaceMessageStart", lambda e: MessageStart({"b": 2}))],
     [("MS", {"b": 2}), ("D", b"he"), ("D", b"llo"), ("ME", {"t": 1}), ("D", b"x"), ("SE", "")]),
    ([("replaceMessageEnd", lambda e: JSArray([Data("!"), MessageEnd()]))],
     [("MS", {"a": 1}), ("D", b"he"), ("D", b"llo"), ("D", b"!"), ("ME", None), ("D", b"x"),
      ("SE", "")]),
    ([("replaceStreamEnd", StreamEnd("ReadError"))],
     [("MS", {"a": 1}), ("D", b"he"), ("D", b"llo"), ("ME", {"t": 1}), ("D", b"x"),
      ("SE", "ReadError")]),
    ([("replaceStreamEnd", lambda e: JSArray([Data("bye"), e]))],
     [("MS", {"a": 1}), ("D", b"he"), ("D", b"llo"), ("ME", {"t": 1}), ("D", b"x"),
      ("D", b"bye"), ("SE", "")]),
    # replaceStreamStart: replace or drop the first event only
    ([("replaceStreamStart", lambda e: JSArray([Data("first"), e]))],
     [("D", b"first"), ("MS", {"a": 1}), ("D", b"he"), ("D", b"llo"), ("ME", {"t": 1}),
      ("D", b"x"), ("SE", "")]),
    ([("replaceStreamStart",)],
     [("D", b"he"), ("D", b"llo"), ("ME", {"t": 1}), ("D", b"x"), ("SE", "")]),
    # replaceMessage: whole message in, replacement out
    ([("replaceMessage", lambda m: Message({"len": m.body.size}, m.body.toString().upper()))],
     [("MS", {"len": 5}), ("D", b"HELLO"), ("ME", None), ("D", b"x"), ("SE", "")]),
    ([("replaceMessage", Message({"s": 1}, "const"))],
     [("MS", {"s": 1}), ("D", b"const"), ("ME", None), ("D", b"x"), ("SE", "")]),
    ([("replaceMessage",)], [("D", b"x"), ("SE", "")]),
    ([("replaceMessage", 3, lambda m: Message(None, m.body))],
     [("MS", None), ("D", b"hel"), ("ME", None), ("D", b"x"), ("SE", "")]),
    # replaceMessageBody: head and tail pass, body replaced
    ([("replaceMessageBody", lambda b: Data(b.toString()[::-1]))],
     [("MS", {"a": 1}), ("D", b"olleh"), ("ME", {"t": 1}), ("D", b"x"), ("SE", "")]),
    ([("replaceMessageBody", "2", lambda b: b)],
     [("MS", {"a": 1}), ("D", b"he"), ("ME", {"t": 1}), ("D", b"x"), ("SE", "")]),
])
def test_replace_tables(specs, expected):
    assert run(specs, STREAM) == expected


def test_replace_stream_start_with_stream_end_first_still_ends():
    assert run([("replaceStreamStart", Data("hi"))], [StreamEnd()]) == [("D", b"hi"), ("SE", "")]


def test_replace_message_stream_end_mid_message_completes_and_is_swallowed():
    seen = []

    def cb(m):
        seen.append((m.head, m.body.to_bytes(), m.tail))
        return m

    out = run([("replaceMessage", cb)], [MessageStart({"h": 1}), Data("part"), StreamEnd()])
    assert seen == [({"h": 1}, b"part", None)]
    assert out == [("MS", {"h": 1}), ("D", b"part"), ("ME", None)]


def test_replace_message_body_stream_end_mid_message():
    out = run([("replaceMessageBody", lambda b: Data("R"))], [MessageStart({}), Data("p"),
                                                              StreamEnd()])
    assert out == [("MS", {}), ("D", b"R"), ("SE", "")]


def test_constant_data_is_not_shared_between_outputs():
    out = []
    from pipyd.pipeline import PipelineLayout
    from pipyd.context import Context
    from . import Collect
    lay = PipelineLayout()
    lay.append(lookup("replaceData").configure(None, Data("ab")))
    sink = Collect()
    p = lay.instantiate(Context([{}]), sink)
    p.input(Data("1"))
    sink.events[0].shift(2)
    p.input(Data("2"))
    assert sink.events[1].to_bytes() == b"ab"


@pytest.mark.parametrize("name", ["replaceData", "replaceMessageStart", "replaceMessageEnd",
                                  "replaceStreamEnd", "replaceStreamStart", "replaceMessage",
                                  "replaceMessageBody"])
def test_callback_errors_drop_and_continue(name, capture_log):
    out = run([(name, boom)], STREAM)
    assert "boom" in capture_log.getvalue()
    assert len(out) < len(STREAM) or name == "replaceMessage"


def test_function_returning_non_events_is_logged(capture_log):
    out = run([("replaceData", lambda d: "a string")], [Data("a"), StreamEnd()])
    assert out == [("SE", "")]
    assert "[replaceData] output is not events or messages" in capture_log.getvalue()


@pytest.mark.parametrize("name", ["replaceData", "replaceMessageStart", "replaceMessageEnd",
                                  "replaceStreamEnd", "replaceStreamStart", "replaceMessage",
                                  "replaceMessageBody"])
@pytest.mark.parametrize("bad", ["plain string", 42, JSObject(a=1), JSArray(["x"])])
def test_constant_replacements_must_be_events(name, bad):
    args = (bad,) if name not in ("replaceMessage", "replaceMessageBody") or type(bad) is not int \
        else (JSObject(),)
    with pytest.raises(JSThrow) as e:
        lookup(name).configure(None, *args)
    assert str(e.value).startswith("TypeError: " + name)


def test_bad_size_limit():
    with pytest.raises(JSThrow):
        lookup("replaceMessage").configure(None, JSObject(), lambda m: m)
    with pytest.raises(JSThrow):
        lookup("replaceMessageBody").configure(None, "12q", lambda m: m)
