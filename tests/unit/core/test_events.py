import pytest

from pipyd.events import (
    Data, Message, MessageEnd, MessageStart, StreamEnd, expand, output_events,
)
from pipyd.js.values import JSArray, JSObject, JSThrow, undefined


@pytest.mark.parametrize("args, expected", [
    ((), b""),
    ((None,), b""),
    (("héllo",), "héllo".encode()),
    (("héllo", "utf8"), "héllo".encode()),
    (("68690a", "hex"), b"hi\n"),
    (("aGk=", "base64"), b"hi"),
    (("aGk", "base64"), b"hi"),
    (("-_8", "base64url"), b"\xfb\xff"),
    ((JSArray([104, 105, 256 + 33]),), b"hi!"),
    ((b"raw",), b"raw"),
])
def test_data_constructor_forms(args, expected):
    d = Data(*args)
    assert d.to_bytes() == expected and d.size == len(expected)


def test_data_copy_shares_chunks_but_not_list():
    a = Data("ab").push("cd")
    b = Data(a)
    b.push("ef")
    assert a.to_bytes() == b"abcd" and b.to_bytes() == b"abcdef"


@pytest.mark.parametrize("args", [(3,), ("zz", "hex"), ("x", "latin9"), (JSObject(),)])
def test_data_bad_arguments_throw(args):
    with pytest.raises(JSThrow):
        Data(*args)


def test_empty_data_is_truthy():
    assert Data()


def test_data_from_and_to_string():
    d = Data.from_("hi")
    assert d.toString() == "hi"
    assert d.toString("hex") == "6869"
    assert d.toString("base64") == "aGk="
    assert Data(b"\xfb\xff").toString("base64url") == "-_8"
    with pytest.raises(JSThrow):
        Data.from_(3)


def test_push_data_string_and_self():
    d = Data("a")
    assert d.push(Data("b")) is d
    d.push("c").push(d)
    assert d.to_bytes() == b"abcabc" and d.size == 6
    with pytest.raises(JSThrow):
        d.push(3)


def test_to_bytes_caches_join():
    d = Data("a").push("b").push("c")
    assert len(d.chunks) == 3
    assert d.to_bytes() == b"abc" and len(d.chunks) == 1


@pytest.mark.parametrize("n, head, rest", [
    (0, b"", b"abcdef"), (2, b"ab", b"cdef"), (3, b"abc", b"def"), (4, b"abcd", b"ef"),
    (6, b"abcdef", b""), (99, b"abcdef", b""), (-1, b"", b"abcdef"),
])
def test_shift_across_chunks(n, head, rest):
    d = Data("abc").push("def")
    s = d.shift(n)
    assert (s.to_bytes(), d.to_bytes(), s.size, d.size) == (head, rest, len(head), len(rest))


def test_shift_to_and_while():
    d = Data("ab\ncd\n")
    assert d.shiftTo(lambda b: b == 10).to_bytes() == b"ab\n"
    assert d.to_bytes() == b"cd\n"
    assert Data("xyz").shiftTo(lambda b: False).to_bytes() == b"xyz"
    d = Data("   x ")
    assert d.shiftWhile(lambda b: b == 32).to_bytes() == b"   "
    assert d.to_bytes() == b"x "
    assert Data("aa").shiftWhile(lambda b: float("nan")).to_bytes() == b""  # NaN is falsy


def test_stream_end_codes():
    assert StreamEnd().error == "" and StreamEnd(undefined).error == ""
    assert StreamEnd("ConnectionRefused").error == "ConnectionRefused"
    with pytest.raises(JSThrow) as e:
        StreamEnd("Nope")
    assert "unknown error type" in str(e.value)


@pytest.mark.parametrize("args, head, body", [
    ((), None, None),
    (("text",), None, b"text"),
    ((Data("d"),), None, b"d"),
    ((JSObject(a=1),), {"a": 1}, None),
    ((JSObject(a=1), "b"), {"a": 1}, b"b"),
    ((JSObject(a=1), None, JSObject(t=1)), {"a": 1}, None),
])
def test_message_constructor_forms(args, head, body):
    m = Message.js_construct(*args)
    assert m.head == head
    assert (m.body.to_bytes() if m.body is not None else None) == body


def test_message_body_assignment_converts_strings():
    m = Message()
    m.body = "x"
    assert type(m.body) is Data and m.body.to_bytes() == b"x"


def test_expand_and_head_sharing():
    head = JSObject(path="/")
    evts = expand(Message(head, "hi", JSObject(t=1)))
    assert [type(e) for e in evts] == [MessageStart, Data, MessageEnd]
    assert evts[0].head is head and evts[2].tail == {"t": 1}
    assert [type(e) for e in expand(Message(head))] == [MessageStart, MessageEnd]


def test_output_events_shapes():
    s = StreamEnd()
    assert output_events(s) == [s]
    assert output_events(None) == [] and output_events(undefined) == []
    out = output_events(JSArray([Message(None, "a"), None, undefined, s]))
    assert [type(e) for e in out] == [MessageStart, Data, MessageEnd, StreamEnd]
    for bad in ("str", 3, JSObject(), JSArray(["x"])):
        with pytest.raises(JSThrow) as e:
            output_events(bad)
        assert "output is not events or messages" in str(e.value)


def test_host_object_members():
    assert Data.js_get >= {"size", "push", "shift", "shiftTo", "shiftWhile", "toString"}
    assert Data.js_static == {"from"} and Data.js_new
    assert Message.js_set == {"head", "body", "tail"}
    assert MessageStart.js_get == {"head"} and MessageEnd.js_get == {"tail", "payload"}
    assert StreamEnd.js_get == {"error"}
