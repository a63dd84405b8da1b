"""Whole messages (``pipeline.deliver_message``): a codec hands a message whose body it holds
in one call, and each ``process_message`` (handleMessageStart, link/branch, muxHTTP,
demuxHTTP's response writer) must give exactly what its three events in a row give. Every
test runs both ways and compares, and checks the one-call path was the one taken."""
from __future__ import annotations

from typing import Any

import pytest

import pipyd.filters  # noqa: F401  (registers the families)
from pipyd.context import Context
from pipyd.events import Data, Message, MessageEnd, MessageStart, StreamEnd
from pipyd.js.values import JSObject, type_error
from pipyd.pipeline import DISCARD, Filter, PipelineLayout, deliver_message
from pipyd.registry import lookup

from tests.unit.flow import load, var
from tests.unit.mux import Upstream, joint, stream

from . import Collect, capture_log, show  # noqa: F401 (fixture)


class Whole(Collect):
    """A Collect that takes whole messages too: recorded as their events, and counted."""

    def __init__(self) -> None:
        super().__init__()
        self.wholes = 0

    def process_message(self, head: Any, body: Any, tail: Any) -> None:
        self.wholes += 1
        self.events.append(MessageStart(head))
        if body is not None and body.size:
            self.events.append(body)
        self.events.append(MessageEnd(tail))


def both_ways(make: Any, head: Any, body: bytes | None, tail: Any = None) -> tuple[list, int]:
    """``make()`` -> (pipeline, Whole output), twice: the message given as its events, then
    whole. Returns the output (the same both ways) and how many messages came out whole."""
    p, out = make()
    p.input(MessageStart(head))
    if body:
        p.input(Data(body))
    p.input(MessageEnd(tail))
    by_events = show(out.events)
    p, out = make()
    deliver_message(p.head, head, Data(body) if body is not None else None, tail)
    assert show(out.events) == by_events
    return by_events, out.wholes


def test_deliver_message_expands_for_a_target_without_process_message() -> None:
    c = Collect()
    deliver_message(c, {"a": 1}, Data(b"x"), {"t": 1})
    deliver_message(c, {"b": 2}, Data(b""), None)  # an empty body is no Data event
    deliver_message(c, None, None, None)
    assert show(c.events) == [("MS", {"a": 1}), ("D", b"x"), ("ME", {"t": 1}),
                              ("MS", {"b": 2}), ("ME", None), ("MS", None), ("ME", None)]
    w = Whole()
    deliver_message(w, {"a": 1}, Data(b"x"), None)
    assert w.wholes == 1 and show(w.events) == [("MS", {"a": 1}), ("D", b"x"), ("ME", None)]
    deliver_message(DISCARD, {"a": 1}, Data(b"x"), None)  # an ended pipeline's head takes it: no error


# -- handleMessageStart --------------------------------------------------------------------

def whole_stream(proto: Filter) -> Any:
    """``make`` for ``both_ways``: a pipeline of one clone of ``proto``, output to a Whole."""
    return lambda: stream(proto, out=Whole())


def _handle(cb: Any) -> Any:
    return whole_stream(lookup("handleMessageStart").configure(None, cb))


def test_handle_message_start_sees_the_start_and_passes_the_message_whole() -> None:
    def mark(evt):
        evt.head["seen"] = True
    out, wholes = both_ways(_handle(mark), JSObject(a=1), b"body", {"t": 1})
    assert out == [("MS", {"a": 1, "seen": True}), ("D", b"body"), ("ME", {"t": 1})]
    assert wholes == 1


def test_handle_message_start_that_throws_drops_the_start_only(capture_log) -> None:
    def boom(evt):
        raise type_error("nope")
    out, wholes = both_ways(_handle(boom), JSObject(a=1), b"x")
    assert out == [("D", b"x"), ("ME", None)] and wholes == 0
    assert capture_log.getvalue().count("nope") == 2


# -- link and branch -----------------------------------------------------------------------

BRANCH = """
pipy({ _ok: %s, _n: 0 })
.pipeline('main')
  .branch(
    () => _ok, $=>$.handleMessageStart(evt => { evt.head.via = 'sub' }),
    $=>$.replaceMessage(new Message('fallback'))
  )
.pipeline('hold')
  .branch(() => _n++ >= 1, $=>$.handleMessageStart(evt => { evt.head.via = 'sub' }))
.pipeline('pass')
  .link('', () => false, 'none')
.pipeline('none')
"""


class Pipes:
    """Instances of a named pipeline of BRANCH, each with a fresh context and a Whole output
    (``make`` for ``both_ways``); ``context`` is the last one's."""

    def __init__(self, tmp_path: Any, ok: str, name: str = "main") -> None:
        self.worker = load(tmp_path, BRANCH % ok)
        self.layout = self.worker.by_path["/main.js"].named[name]
        self.context: Any = None

    def make(self) -> tuple:
        self.context = self.worker.new_context()
        out = Whole()
        return self.layout.instantiate(self.context, out), out


def test_branch_hands_the_message_whole_to_its_chosen_sub_pipeline(tmp_path) -> None:
    out, wholes = both_ways(Pipes(tmp_path, "true").make, JSObject(path="/"), b"hi")
    assert out == [("MS", {"path": "/", "via": "sub"}), ("D", b"hi"), ("ME", None)]
    assert wholes == 1


def test_branch_to_a_sub_pipeline_without_process_message_gets_the_events(tmp_path) -> None:
    out, wholes = both_ways(Pipes(tmp_path, "false").make, JSObject(path="/"), b"hi")
    assert out == [("MS", None), ("D", b"fallback"), ("ME", None)] and wholes == 0


def test_link_to_nothing_passes_the_message_on_whole(tmp_path) -> None:
    out, wholes = both_ways(Pipes(tmp_path, "true", name="pass").make, JSObject(a=1), None)
    assert out == [("MS", {"a": 1}), ("ME", None)] and wholes == 1


@pytest.mark.parametrize("body", [b"hi", None])
def test_branch_asks_its_conditions_once_per_event_while_none_holds(tmp_path, body) -> None:
    # the condition holds from its second asking: given whole or as events, the start is
    # held, the next event is asked about and releases it, and the count of askings agrees
    pipes = Pipes(tmp_path, "true", name="hold")
    out, wholes = both_ways(pipes.make, JSObject(a=1), body)
    assert var(pipes.worker, pipes.context, "_n") == 2
    assert out[0] == ("MS", {"a": 1, "via": "sub"}) and wholes == 0


CHAIN = """
pipy()
.pipeline('main').chain(['a.js', 'b.js'])
.pipeline('use').use('a.js', 'named')
.pipeline('plugins').use(['a.js', 'b.js'], 'named')
"""
PLUGIN = """
pipy()
.pipeline().handleMessageStart(evt => { evt.head.%(name)s = 1 }).chain()
.pipeline('named').handleMessageStart(evt => { evt.head.%(name)s = 2 })
"""


@pytest.mark.parametrize("name, head, wholes", [
    ("main", {"a": 1, "b": 1}, 1),  # through both modules and back out of each chain whole
    ("use", {"a": 2}, 1),
    ("plugins", {"a": 2, "b": 2}, 0),  # the plugin stages take events
])
def test_chain_and_use_hand_the_message_on_whole(tmp_path, name, head, wholes) -> None:
    worker = load(tmp_path, CHAIN, {"a.js": PLUGIN % {"name": "a"}, "b.js": PLUGIN % {"name": "b"}})
    layout_ = worker.by_path["/main.js"].named[name]

    def make() -> tuple:
        out = Whole()
        return layout_.instantiate(worker.new_context(), out), out
    out, n = both_ways(make, JSObject(), b"x")
    assert out == [("MS", head), ("D", b"x"), ("ME", None)] and n == wholes


# -- muxHTTP -------------------------------------------------------------------------------

@pytest.fixture
def upstreams():
    Upstream.INSTANCES.clear()
    Upstream.ENDED.clear()
    yield Upstream.INSTANCES


def test_mux_http_sends_a_whole_request_as_it_sends_its_events(upstreams) -> None:
    f = joint("muxHTTP", lambda: "k")
    head = JSObject(method="POST", path="/x", headers=JSObject(host="h", expect="100-continue"))
    p, out = whole_stream(f)()
    deliver_message(p.head, head, Data(b"abc"), None)
    whole_bytes = upstreams[0].received
    p, out2 = whole_stream(f)()
    p.input(MessageStart(head))
    p.input(Data(b"abc"))
    p.input(MessageEnd())
    assert upstreams[0].received == whole_bytes * 2  # one session: both requests on it
    assert whole_bytes == (b"POST /x HTTP/1.1\r\nhost: h\r\ncontent-length: 3\r\n"
                           b"connection: keep-alive\r\n\r\nabc")
    assert show(out.events) == show(out2.events) == [("MS", {"status": 100, "statusText": "Continue",
                                                             "headers": {}}), ("ME", None)]


def test_mux_http_response_in_one_read_reaches_the_requester_whole(upstreams) -> None:
    f = joint("muxHTTP")
    p, out = whole_stream(f)()
    deliver_message(p.head, JSObject(method="GET", path="/", headers=JSObject()), None, None)
    upstreams[0].reply(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
    # the 100 is swallowed (muxHTTP answered Expect itself); the final answer comes whole
    assert out.wholes == 1
    assert [e for e in show(out.events) if e[0] != "MS"] == [("D", b"ok"), ("ME", None)]
    p2, out2 = whole_stream(f)()
    deliver_message(p2.head, JSObject(method="GET", path="/2", headers=JSObject()), None, None)
    upstreams[0].reply(b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nab")  # the rest comes later
    upstreams[0].reply(b"cde")
    assert out2.wholes == 0 and out2.data() == b"abcde"


def test_mux_http_tunnel_takes_a_later_message_as_events(upstreams) -> None:
    f = joint("muxHTTP")
    p, out = whole_stream(f)()
    deliver_message(p.head, JSObject(method="CONNECT", path="h:443", headers=JSObject()), None, None)
    upstreams[0].reply(b"HTTP/1.1 200 Connection Established\r\n\r\n")
    assert out.wholes == 0  # the answer that opens a tunnel is streamed
    deliver_message(p.head, JSObject(method="GET"), Data(b"raw"), None)
    assert upstreams[0].received.endswith(b"raw")  # in a tunnel only the bytes go through


# -- demuxHTTP's response writer -----------------------------------------------------------

class Answer(Filter):
    """demuxHTTP's sub-pipeline double: answers each request with ``reply(head)`` (a list
    of Messages) whole or as events, or holds the answer (``hold``) to give later."""

    __slots__ = ("reply", "whole", "hold", "head")
    CONFIG = ("reply", "whole", "hold")
    HELD: list = []

    def reset(self) -> None:
        self.head = None

    def process(self, evt: Any) -> None:
        if type(evt) is MessageStart:
            self.head = evt.head
        elif type(evt) is MessageEnd:
            self._answer()

    def process_message(self, head: Any, body: Any, tail: Any) -> None:
        self.head = head
        self._answer()

    def _answer(self) -> None:
        if self.hold:
            Answer.HELD.append(self)
        else:
            self.give()

    def give(self) -> None:
        for m in self.reply(self.head):
            if self.whole:
                deliver_message(self.next, m.head, m.body, m.tail)
            else:
                self.output_value(m)


def serve(raw: bytes, reply: Any, whole: bool, hold: bool = False) -> tuple[list, Any]:
    """demuxHTTP fed ``raw``; its output events and the filter."""
    sub = PipelineLayout("")
    a = Answer.__new__(Answer)
    a.reply, a.whole, a.hold = reply, whole, hold
    sub.append(a)
    top = PipelineLayout("conn")
    f = lookup("demuxHTTP").configure(None)
    f.add_sub_layout(sub)
    top.append(f)
    out = Collect()
    p = top.instantiate(Context([{}]), out)
    p.input(Data(raw))
    return out.events, p.filters[0]


def wire(events: list) -> bytes:
    return b"".join(e.to_bytes() for e in events if type(e) is Data)


def same_both_ways(raw: bytes, reply: Any) -> list:
    """The output events of the whole-message way; the bytes and ends equal the events way's."""
    by_events, _ = serve(raw, reply, False)
    whole, _ = serve(raw, reply, True)
    assert wire(whole) == wire(by_events)
    assert [type(e) for e in whole if type(e) is StreamEnd] == \
        [type(e) for e in by_events if type(e) is StreamEnd]
    return whole


GET = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"


def ok(head: Any) -> list:
    return [Message(JSObject(status=200, headers=JSObject(**{"content-type": "text/plain"})), "ok")]


def test_whole_response_is_one_write() -> None:
    events = same_both_ways(GET * 2, ok)
    assert [type(e) for e in events] == [Data, Data]
    assert wire(events) == (b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n"
                            b"connection: keep-alive\r\n\r\nok") * 2


@pytest.mark.parametrize("raw, reply", [
    (GET, lambda h: [Message(JSObject(), "x" * 20000)]),  # over bufferSize: chunked
    (GET, lambda h: [Message(JSObject(headers=JSObject(**{"Transfer-Encoding": "chunked"})), "sse")]),
    (GET, lambda h: [Message(JSObject(status=103)), Message(JSObject(status=204), "dropped")]),
    (GET, lambda h: [Message(None, "plain")]),
    (b"HEAD / HTTP/1.1\r\n\r\n", ok),
    (b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n" + GET, ok),
    (b"GET / HTTP/1.0\r\n\r\n", lambda h: [Message(JSObject(status=304), "")]),
    (GET, lambda h: [Message(JSObject(status="404", statusText="Nope", protocol="HTTP/1.0"), "no")]),
    (GET, lambda h: [Message(JSObject(headers=JSObject(a="1\r\nx: evil")), "")]),
    (b"CONNECT h:443 HTTP/1.1\r\n\r\nraw", lambda h: [Message(JSObject(status=407), "auth")]),
    (b"CONNECT h:443 HTTP/1.1\r\n\r\n", lambda h: [Message(JSObject(status=200), "")]),  # a tunnel
    (b"GET / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n" + GET,
     lambda h: [Message(JSObject(status=426), "no")]),  # refused: HTTP goes on
])
def test_whole_responses_write_what_their_events_write(raw, reply) -> None:
    same_both_ways(raw, reply)


def test_whole_response_waits_its_turn_behind_an_earlier_request() -> None:
    Answer.HELD.clear()

    def path(head):
        return [Message(JSObject(status=200), head["path"])]
    events, f = serve(b"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n", path, True, hold=True)
    first, second = Answer.HELD
    second.give()  # answered first, written second
    assert wire(events) == b""
    first.give()
    w = wire(events)
    assert w.index(b"/1") < w.index(b"/2") and w.count(b"HTTP/1.1 200 OK") == 2
    assert not f.queue


def test_whole_response_to_the_last_request_before_a_shutdown_closes_the_connection() -> None:
    for whole in (False, True):
        Answer.HELD.clear()
        events, f = serve(GET, ok, whole, hold=True)
        f.shutdown()
        Answer.HELD[0].give()
        assert b"connection: close" in wire(events) and type(events[-1]) is StreamEnd


def test_whole_response_after_the_connection_closed_is_dropped() -> None:
    # the first answer is cut off mid-message, which closes the connection: the answer to the
    # request pipelined behind it is dropped, whole or not
    for whole in (False, True):
        Answer.HELD.clear()
        events, f = serve(GET + GET, ok, whole, hold=True)
        first, second = Answer.HELD
        first.next.process(MessageStart(JSObject(status=200)))
        first.next.process(StreamEnd())
        assert f.closed and type(events[-1]) is StreamEnd
        n = len(events)
        second.give()
        assert len(events) == n
