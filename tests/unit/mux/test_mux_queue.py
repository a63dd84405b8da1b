"""mux, merge and muxQueue (reference §2.2 rows 49, 50, 52): copies into a shared session, and
FIFO replies with one-way messages."""
from __future__ import annotations

import pytest

from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.js.values import JSObject

from . import Upstream, joint, send_message, stream


@pytest.fixture(autouse=True)
def fresh():
    Upstream.INSTANCES.clear()
    Upstream.ENDED.clear()
    yield


@pytest.mark.parametrize("name", ["mux", "merge"])
def test_mux_passes_through_and_copies_whole_messages(name) -> None:
    f = joint(name, lambda: "k")
    (p1, o1), (p2, o2) = stream(f), stream(f)
    p1.input(MessageStart(JSObject(n=1)))
    p1.input(Data(b"a"))
    assert Upstream.INSTANCES == []  # copied only once complete
    p1.input(Data(b"b"))
    p1.input(MessageEnd())
    send_message(p2, JSObject(n=2), b"c")
    assert o1.types() == ["MessageStart", "Data", "Data", "MessageEnd"]
    assert o2.messages()[0][1] == b"c"
    [up] = Upstream.INSTANCES
    assert up.received == b"<start>ab<end><start>c<end>"


def test_mux_session_dies_with_its_output_end() -> None:
    f = joint("mux", lambda: "k")
    p, _ = stream(f)
    send_message(p, JSObject())
    Upstream.INSTANCES[0].close("ConnectionReset")
    send_message(p, JSObject())
    assert len(Upstream.INSTANCES) == 2


def test_mux_queue_replies_in_order_to_the_right_stream() -> None:
    f = joint("muxQueue", lambda: "k")
    (p1, o1), (p2, o2) = stream(f), stream(f)
    send_message(p1, JSObject(id=1), b"q1")
    send_message(p2, JSObject(id=2), b"q2")
    up = Upstream.INSTANCES[0]
    for i in (1, 2):
        up.next.process(MessageStart(JSObject(re=i)))
        up.next.process(Data(b"r%d" % i))
        up.next.process(MessageEnd())
    assert o1.messages()[0][1] == b"r1" and o1.messages()[0][0]["re"] == 1
    assert o2.messages()[0][1] == b"r2"


def test_mux_queue_one_way_messages_get_no_slot() -> None:
    f = joint("muxQueue", lambda: "k", {"isOneWay": lambda start: start.head.get("oneway")})
    (p1, o1), (p2, o2) = stream(f), stream(f)
    send_message(p1, JSObject(oneway=True), b"fire")
    send_message(p2, JSObject(), b"ask")
    up = Upstream.INSTANCES[0]
    up.next.process(MessageStart(JSObject()))
    up.next.process(Data(b"answer"))
    up.next.process(MessageEnd())
    assert o1.messages() == [] and o2.messages()[0][1] == b"answer"


def test_mux_queue_session_end_ends_waiting_streams() -> None:
    f = joint("muxQueue", lambda: "k")
    p, out = stream(f)
    send_message(p, JSObject())
    Upstream.INSTANCES[0].close("ReadError")
    assert out.types() == ["MessageStart", "StreamEnd"] and out.events[-1].error == "ReadError"
