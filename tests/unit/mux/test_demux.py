"""demux and demuxQueue (reference §2.2 rows 24, 25)."""
from __future__ import annotations

from typing import Any

from pipyd.context import Context
from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.js.values import JSObject
from pipyd.pipeline import Filter

from . import joint, send_message, stream


class Echo(Filter):
    """Answers each message with its body upper-cased; ``HELD`` keeps answers for later."""

    __slots__ = ("body", "head")
    HELD: list = []
    SEEN: list = []

    def reset(self) -> None:
        self.body = b""
        self.head = None

    def process(self, evt: Any) -> None:
        t = type(evt)
        Echo.SEEN.append((id(self), type(evt).__name__, self.pipeline.context))
        if t is MessageStart:
            self.head = evt.head
        elif t is Data:
            self.body += evt.to_bytes()
        elif t is MessageEnd:
            events = [MessageStart(self.head), Data(self.body.upper()), MessageEnd()]
            if self.head.get("hold"):
                Echo.HELD.append((self, events))
            else:
                for e in events:
                    self.next.process(e)


def echo() -> Echo:
    return Echo.__new__(Echo)


def test_demux_one_cloned_sub_pipeline_per_message_output_discarded() -> None:
    Echo.SEEN.clear()
    ctx = Context([{"v": 1}])
    p, out = stream(joint("demux", sub=echo()), ctx)
    send_message(p, JSObject(), b"a")
    send_message(p, JSObject(), b"b")
    p.input(StreamEnd())
    assert out.types() == ["StreamEnd"]
    subs = {s[0] for s in Echo.SEEN}
    assert len(subs) == 2
    assert all(c is not ctx and c.data[0] == {"v": 1} for _, _, c in Echo.SEEN)
    assert [s[1] for s in Echo.SEEN][:3] == ["MessageStart", "Data", "MessageEnd"]


def test_demux_queue_answers_in_request_order() -> None:
    Echo.HELD.clear()
    p, out = stream(joint("demuxQueue", sub=echo()))
    send_message(p, JSObject(n=1, hold=True), b"first")
    send_message(p, JSObject(n=2), b"second")
    assert out.events == []  # the second answer waits for the first
    f, events = Echo.HELD.pop()
    for e in events:
        f.next.process(e)
    assert [b for _, b in out.messages()] == [b"FIRST", b"SECOND"]
    p.input(StreamEnd())
    assert type(out.events[-1]) is StreamEnd


def test_demux_queue_one_way_gets_no_slot_and_stream_end_waits() -> None:
    f = joint("demuxQueue", {"isOneWay": lambda start: start.head.get("oneway")}, sub=echo())
    p, out = stream(f)
    send_message(p, JSObject(oneway=True), b"x")
    send_message(p, JSObject(hold=True), b"y")
    p.input(StreamEnd())
    assert out.events == []
    sub, events = Echo.HELD.pop()
    for e in events:
        sub.next.process(e)
    assert [b for _, b in out.messages()] == [b"Y"] and type(out.events[-1]) is StreamEnd


def test_demux_queue_sub_ending_without_answer_gives_up_its_slot() -> None:
    class Quiet(Filter):
        __slots__ = ()

        def process(self, evt: Any) -> None:
            if type(evt) is MessageEnd:
                self.next.process(StreamEnd())

    p, out = stream(joint("demuxQueue", sub=Quiet.__new__(Quiet)))
    send_message(p, JSObject(), b"x")
    p.input(StreamEnd())
    assert out.types() == ["StreamEnd"]
