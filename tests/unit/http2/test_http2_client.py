"""muxHTTP over HTTP/2 (filters/http2_client.py, reference §4.6 ``version: 2``) against an
in-memory h2 server connection as the session sub-pipeline. The server's bytes are fed to the
client session whole and byte by byte."""
from __future__ import annotations

from typing import Any

import h2.config
import h2.connection
import h2.events as ev
import h2.settings
import pytest
from h2.errors import ErrorCodes

from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.filters import mux_http  # noqa: F401 - registers muxHTTP
from pipyd.filters.http2_client import H2ClientSession, request_fields, response_head
from pipyd.js.values import JSObject, undefined
from pipyd.pipeline import Filter, FlowControl

from tests.unit.mux import joint, stream


class Peer(Filter):
    """An HTTP/2 server (h2) as the session's sub-pipeline; tests answer through it."""

    __slots__ = ("conn", "events", "ended", "acked")
    ALL: list = []
    BYTEWISE = False

    def init_state(self) -> None:
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(
            client_side=False, header_encoding="utf-8"))
        self.conn.initiate_connection()
        self.events: list = []
        self.ended = False
        self.acked = 0
        Peer.ALL.append(self)

    def process(self, evt: Any) -> None:
        if type(evt) is Data and evt.to_bytes().startswith(b"GET / HTTP/1.1"):
            self.events.append(evt.to_bytes())  # an HTTP/1 session (version function)
        elif type(evt) is Data:
            self.events += self.conn.receive_data(evt.to_bytes())
        elif type(evt) is StreamEnd:
            self.ended = True

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if Peer.BYTEWISE:
            for i in range(len(data)):
                self.next.process(Data(data[i:i + 1]))
        elif data:
            self.next.process(Data(data))

    def requests(self) -> dict[int, dict]:
        return {e.stream_id: dict(e.headers) for e in self.events if type(e) is ev.RequestReceived}

    def body(self, sid: int) -> bytes:
        return b"".join(e.data for e in self.events
                        if type(e) is ev.DataReceived and e.stream_id == sid)

    def ack_all(self) -> None:
        """Acknowledge the DATA received since the last call."""
        for e in self.events[self.acked:]:
            if type(e) is ev.DataReceived:
                self.conn.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
        self.acked = len(self.events)

    def respond(self, sid: int, body: bytes = b"", status: int = 200, end: bool = True,
                **headers: str) -> None:
        self.conn.send_headers(sid, [(":status", str(status)), *headers.items()],
                               end_stream=end and not body)
        if body:
            self.conn.send_data(sid, body, end_stream=end)
        self.flush()

    def close(self, error: str = "") -> None:
        self.next.process(StreamEnd(error))


@pytest.fixture(autouse=True, params=[False, True], ids=["whole", "bytewise"])
def feeding(request):
    Peer.ALL.clear()
    Peer.BYTEWISE = request.param
    yield
    Peer.BYTEWISE = False


def mux(*args: Any) -> Filter:
    return joint("muxHTTP", *args, sub=Peer.__new__(Peer))


def request(p: Any, path: str = "/", body: bytes = b"", method: str = "GET", **headers: str) -> None:
    p.input(MessageStart(JSObject(method=method, path=path,
                                  headers=JSObject({"host": "example.com", **headers}))))
    if body:
        p.input(Data(body))
    p.input(MessageEnd())


def session(f: Filter) -> H2ClientSession:
    [c] = f.smap.clusters.values()
    return c.sessions[0]


V2 = {"version": 2}


def test_request_fields_table() -> None:
    cases = [
        (JSObject(method="POST", path="/x?q", headers=JSObject({"Host": "h", "X-A": "1",
                                                                "connection": "keep-alive",
                                                                "transfer-encoding": "chunked",
                                                                "content-length": "9"})), 3,
         [(":method", "POST"), (":scheme", "http"), (":authority", "h"), (":path", "/x?q"),
          ("x-a", "1"), ("content-length", "3")]),
        (JSObject(), 0,
         [(":method", "GET"), (":scheme", "http"), (":authority", "localhost"), (":path", "/")]),
        (JSObject(method="GET", scheme="https", authority="a:1", path="/",
                  headers=JSObject(host="ignored")), 0,
         [(":method", "GET"), (":scheme", "https"), (":authority", "a:1"), (":path", "/")]),
        (JSObject(method="CONNECT", path="h:443", headers=JSObject()), 0,
         [(":method", "CONNECT"), (":authority", "h:443")]),
    ]
    for head, size, want in cases:
        assert request_fields(head, size) == want
    # host has no own field in HTTP/2 whatever its case (RFC 9113 §8.3.1)
    assert all(k != "host" for k, _ in cases[0][2])


def test_response_head() -> None:
    head = response_head([(":status", "404"), ("set-cookie", "a"), ("set-cookie", "b"),
                          ("x", "y")])
    assert head["status"] == 404 and head["protocol"] is undefined
    assert list(head["headers"]["set-cookie"]) == ["a", "b"] and head["headers"]["x"] == "y"


def test_concurrent_requests_share_one_connection_answered_out_of_order() -> None:
    f = mux(lambda: "k", V2)
    pipes = [stream(f) for _ in range(3)]
    for i, (p, _) in enumerate(pipes):
        request(p, f"/{i}", connection="keep-alive", **{"X-Upper": "v"})
    [peer] = Peer.ALL
    reqs = peer.requests()
    assert sorted(reqs) == [1, 3, 5]
    assert reqs[1][":path"] == "/0" and reqs[1][":authority"] == "example.com"
    assert reqs[1]["x-upper"] == "v" and "connection" not in reqs[1] and "host" not in reqs[1]
    for sid in (5, 1, 3):
        peer.respond(sid, b"r%d" % sid, **{"x-id": str(sid)})
    for (_, out), sid in zip(pipes, (1, 3, 5)):
        [(head, body)] = out.messages()
        assert head["status"] == 200 and head["headers"]["x-id"] == str(sid)
        assert body == b"r%d" % sid
    assert session(f).streams == {}


def test_request_body_beyond_the_initial_window_flows_as_window_updates_come() -> None:
    f = mux(V2)
    p, out = stream(f)
    big = bytes(range(256)) * 1000  # 256,000 bytes > 65,535
    request(p, "/up", big, "POST")
    [peer] = Peer.ALL
    assert len(peer.body(1)) == 65535  # the default stream window
    for _ in range(10):
        peer.ack_all()
        peer.flush()
    assert peer.body(1) == big and peer.requests()[1]["content-length"] == str(len(big))
    assert any(type(e) is ev.StreamEnded for e in peer.events)
    peer.respond(1, b"ok")
    assert out.messages()[0][1] == b"ok"


def test_response_held_unacknowledged_while_the_client_is_congested() -> None:
    f = mux({"version": 2, "connectionWindowSize": 65535})
    flow = FlowControl()
    p, out = stream(f, flow=flow)
    request(p)
    [peer] = Peer.ALL
    flow.output_congested(True)
    peer.conn.send_headers(1, [(":status", "200")])
    for i in range(0, 60000, 15000):
        peer.conn.send_data(1, b"a" * 15000, end_stream=i == 45000)
    peer.flush()
    s = session(f)
    assert out.body() == b"" and sum(len(b) for b, _ in s.streams[1].held) == 60000
    assert peer.conn.outbound_flow_control_window == 65535 - 60000  # nothing acknowledged yet
    assert not out.messages()
    flow.output_congested(False)
    assert out.messages()[0][1] == b"a" * 60000
    assert s.streams == {} and flow.watchers == []
    # acknowledged (h2 sends WINDOW_UPDATE once half the window is consumed)
    assert peer.conn.outbound_flow_control_window > 65535 // 2


def test_large_response_is_acknowledged_as_delivered() -> None:
    f = mux(V2)
    p, out = stream(f)
    request(p)
    [peer] = Peer.ALL
    peer.conn.send_headers(1, [(":status", "200")])
    sent = 0
    total = 300_000
    while sent < total:  # the server sends whatever its windows allow, as acks come back
        room = min(peer.conn.local_flow_control_window(1), total - sent, 16384)
        assert room > 0, "the client stopped acknowledging"
        peer.conn.send_data(1, b"z" * room, end_stream=sent + room == total)
        sent += room
        peer.flush()
    assert out.messages()[0][1] == b"z" * total


def test_upstream_reset_fails_only_that_stream() -> None:
    f = mux(lambda: "k", V2)
    (p1, o1), (p2, o2), (p3, o3) = stream(f), stream(f), stream(f)
    for p in (p1, p2, p3):
        request(p)
    [peer] = Peer.ALL
    peer.conn.reset_stream(3, ErrorCodes.INTERNAL_ERROR)
    peer.respond(5, b"hdr", end=False)  # started, then reset: cut off
    peer.conn.reset_stream(5, ErrorCodes.INTERNAL_ERROR)
    peer.respond(1, b"fine")
    assert o1.messages()[0][1] == b"fine"
    assert o2.messages()[0][0]["status"] == 502
    assert o3.types() == ["MessageStart", "Data", "StreamEnd"]
    assert session(f).streams == {}
    p4, o4 = stream(f)  # the connection goes on
    request(p4)
    peer.respond(7, b"again")
    assert o4.messages()[0][1] == b"again" and len(Peer.ALL) == 1


def goaway(peer: Peer, last: int) -> None:
    peer.conn.close_connection(last_stream_id=last)
    # h2 as the oracle would refuse every frame after its own GOAWAY; RFC 9113 §6.8 says the
    # streams up to last_stream_id go on, so the server stays open for them
    peer.conn.state_machine.state = h2.connection.ConnectionState.SERVER_OPEN
    peer.flush()


def test_goaway_retries_streams_above_last_and_new_requests_use_a_new_connection() -> None:
    f = mux(lambda: "k", V2)
    (p1, o1), (p2, o2) = stream(f), stream(f)
    request(p1)
    request(p2, "/two", b"body", "POST")
    [peer] = Peer.ALL
    goaway(peer, 1)
    # stream 3 was not processed (§6.8): sent again, on a new connection
    assert not o2.events and len(Peer.ALL) == 2
    new = Peer.ALL[1]
    assert new.requests()[1][":path"] == "/two" and new.body(1) == b"body"
    p3, o3 = stream(f)
    request(p3, "/three")
    assert len(Peer.ALL) == 2 and new.requests()[3][":path"] == "/three"
    # stream 1 still finishes on the old connection; it closes after it
    peer.respond(1, b"last")
    assert o1.messages()[0][1] == b"last"
    assert peer.ended
    new.respond(1, b"two")
    new.respond(3, b"new")
    assert o2.messages()[0][1] == b"two" and o3.messages()[0][1] == b"new"


def test_goaway_twice_for_the_same_request_answers_502() -> None:
    f = mux(lambda: "k", V2)
    p1, o1 = stream(f)
    request(p1)
    goaway(Peer.ALL[0], 0)
    goaway(Peer.ALL[1], 0)
    assert o1.messages()[0][0]["status"] == 502 and len(Peer.ALL) == 2


def test_refused_stream_is_sent_again_once_on_the_same_connection() -> None:
    f = mux(lambda: "k", V2)
    p1, o1 = stream(f)
    request(p1, "/r", b"payload", "POST")
    [peer] = Peer.ALL
    peer.conn.reset_stream(1, ErrorCodes.REFUSED_STREAM)
    peer.flush()
    assert not o1.events and peer.requests()[3][":path"] == "/r" and peer.body(3) == b"payload"
    peer.respond(3, b"ok")
    assert o1.messages()[0][1] == b"ok" and session(f).streams == {}
    # refused twice: the client gets an answer rather than a loop
    p2, o2 = stream(f)
    request(p2)
    peer.conn.reset_stream(5, ErrorCodes.REFUSED_STREAM)
    peer.flush()
    peer.conn.reset_stream(7, ErrorCodes.REFUSED_STREAM)
    peer.flush()
    assert o2.messages()[0][0]["status"] == 502 and len(Peer.ALL) == 1
    assert session(f).streams == {}


def test_refused_stream_after_goaway_goes_to_a_new_connection() -> None:
    f = mux(lambda: "k", V2)
    (p1, o1), (p2, o2) = stream(f), stream(f)
    request(p1)
    request(p2, "/two")
    [peer] = Peer.ALL
    goaway(peer, 3)
    peer.conn.reset_stream(3, ErrorCodes.REFUSED_STREAM)
    peer.flush()
    assert len(Peer.ALL) == 2 and Peer.ALL[1].requests()[1][":path"] == "/two"
    Peer.ALL[1].respond(1, b"moved")
    assert o2.messages()[0][1] == b"moved" and not o1.events  # stream 1 still open


def test_upstream_refused_is_502_and_mid_response_loss_ends_the_stream() -> None:
    f = mux(lambda: "k", V2)
    (p1, o1), (p2, o2) = stream(f), stream(f)
    request(p1)
    request(p2)
    [peer] = Peer.ALL
    peer.respond(1, b"partial", end=False)
    s = session(f)
    peer.close("ConnectionReset")
    assert o1.types() == ["MessageStart", "Data", "StreamEnd"]
    assert o2.messages()[0][0]["status"] == 502 and s.streams == {}
    p3, o3 = stream(f)
    request(p3)
    Peer.ALL[1].close("ConnectionRefused")
    [(head, _)] = o3.messages()
    assert (head["status"], head["statusText"]) == (502, "Connection Refused")


def test_an_upstream_that_is_not_http2_is_a_read_error() -> None:
    """An HTTP/1 server answers the preface with a 505: a 502 Read Error at once (RFC 9113
    §3.4: the server's first frame is SETTINGS), not a wait for a 4.7 MB 'frame'."""
    f = mux(lambda: "k", V2)
    p1, o1 = stream(f)
    request(p1)
    [peer] = Peer.ALL
    answer = b"HTTP/1.0 505 HTTP Version Not Supported\r\nContent-Length: 0\r\n\r\n"
    chunks = [answer[i:i + 1] for i in range(len(answer))] if Peer.BYTEWISE else [answer]
    for c in chunks:
        peer.next.process(Data(c))
    [(head, _)] = o1.messages()
    assert (head["status"], head["statusText"]) == (502, "Read Error")


def test_client_going_away_cancels_its_stream() -> None:
    f = mux(lambda: "k", V2)
    (p1, o1), (p2, o2) = stream(f), stream(f)
    request(p1)
    request(p2)
    [peer] = Peer.ALL
    p1.end()
    resets = [e for e in peer.events if type(e) is ev.StreamReset]
    assert [(e.stream_id, e.error_code) for e in resets] == [(1, ErrorCodes.CANCEL)]
    s = session(f)
    assert list(s.streams) == [3]
    peer.respond(3, b"b")
    assert o2.messages()[0][1] == b"b" and s.streams == {}


def test_trailers_and_interim_responses() -> None:
    p, out = stream(mux(V2))
    request(p)
    [peer] = Peer.ALL
    peer.conn.send_headers(1, [(":status", "103"), ("link", "</a>")])
    peer.conn.send_headers(1, [(":status", "200")])
    peer.conn.send_data(1, b"x")
    peer.conn.send_headers(1, [("grpc-status", "0")], end_stream=True)
    peer.flush()
    assert [h["status"] for h in out.heads()] == [103, 200]
    assert out.events[-1].tail["headers"]["grpc-status"] == "0"


def _two_requests_one_slot() -> tuple:
    """A session whose upstream allows one stream at a time, with a request on it and a
    second one waiting: (filter, peer, first output, second output)."""
    f = mux(lambda: "k", V2)
    p1, o1 = stream(f)
    request(p1)
    [peer] = Peer.ALL
    peer.conn.update_settings({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 1})
    peer.flush()
    p2, o2 = stream(f)
    request(p2)
    return f, peer, o1, o2


def test_max_concurrent_streams_queues_requests() -> None:
    f, peer, o1, o2 = _two_requests_one_slot()
    assert list(peer.requests()) == [1] and len(session(f).waiting) == 1
    peer.respond(1, b"one")
    assert list(peer.requests()) == [1, 3]
    peer.respond(3, b"two")
    assert o2.messages()[0][1] == b"two" and not session(f).waiting


def test_max_messages_opens_a_new_connection() -> None:
    f = mux(lambda: "k", {"version": 2, "maxMessages": 2})
    outs = []
    for _ in range(3):
        p, out = stream(f)
        request(p)
        outs.append(out)
    assert len(Peer.ALL) == 2 and sorted(Peer.ALL[0].requests()) == [1, 3]
    Peer.ALL[0].respond(1, b"a")
    Peer.ALL[0].respond(3, b"b")
    Peer.ALL[1].respond(1, b"c")
    assert [o.messages()[0][1] for o in outs] == [b"a", b"b", b"c"]


def test_version_function_chooses_per_session() -> None:
    answers = [2, 1]
    f = mux(lambda: answers[0], {"version": lambda: answers.pop(0)})
    p, out = stream(f)
    request(p)
    assert type(session(f)).__name__ == "H2ClientSession"  # (filters/ may be imported twice)
    f2 = mux(lambda: "k", {"version": lambda: 1})
    p2, _ = stream(f2)
    request(p2)
    assert type(session(f2)).__name__ == "HTTPSession"
    assert Peer.ALL[1].events[0].startswith(b"GET / HTTP/1.1\r\n")


def test_idle_close_sends_goaway() -> None:
    f = mux(lambda: "k", {"version": 2, "maxIdle": 1})
    clock = [0.0]
    f.smap.now = lambda: clock[0]
    p, out = stream(f)
    request(p)
    [peer] = Peer.ALL
    peer.respond(1, b"x")
    clock[0] = 5.0
    f.smap.recycle()
    assert peer.ended and any(type(e) is ev.ConnectionTerminated for e in peer.events)


def test_bad_version_refused() -> None:
    from pipyd.js.values import JSThrow
    with pytest.raises(JSThrow):
        mux({"version": 3})


def test_a_reset_stream_frees_its_slot_for_a_waiting_request() -> None:
    f, peer, o1, o2 = _two_requests_one_slot()
    peer.conn.reset_stream(1, ErrorCodes.INTERNAL_ERROR)
    peer.flush()
    assert o1.messages()[0][0]["status"] == 502 and list(peer.requests()) == [1, 3]
    peer.respond(3, b"two")
    assert o2.messages()[0][1] == b"two" and session(f).streams == {}


# -- a version function that does not answer a number yet (reference §1.4, §4.6) --

def pending_mux(answer: list) -> Filter:
    """``version: () => answer[0]``; records the context it was called in."""
    from pipyd.js import scope
    answer.append([])

    def version() -> Any:
        answer[-1].append(scope.ACTIVE.current)
        return answer[0]
    return mux(lambda: "k", {"version": version})


def test_pending_version_queues_requests_and_starts_the_sub_pipeline() -> None:
    answer = [undefined]
    f = pending_mux(answer)
    (p1, o1), (p2, o2) = stream(f), stream(f)
    request(p1, "/a")
    request(p2, "/b", b"xy", "POST")
    [peer] = Peer.ALL  # started (an empty Data went in, so connect() would dial) ...
    assert peer.events == [] and not o1.events  # ... but nothing sent yet
    [sel] = f.smap.clusters["k"].sessions
    [ctx] = set(answer[-1])
    assert ctx is sel.pipeline.context and ctx is not p1.context  # the session's own context
    ctx.get_group().touch()  # still undefined: still waiting
    assert peer.events == []
    answer[0] = "2"  # a string is not a number either
    ctx.get_group().touch()
    assert peer.events == []
    answer[0] = 2
    p1.context.get_group().touch()  # any context of the group (the first requester's) will do
    assert peer.requests()[1][":path"] == "/a" and peer.requests()[3][":path"] == "/b"
    assert type(session(f)).__name__ == "H2ClientSession" and not ctx.get_group().waiters
    peer.respond(3, b"b")
    peer.respond(1, b"a")
    assert o1.messages()[0][1] == b"a" and o2.messages()[0][1] == b"b"
    s = session(f)
    assert s.shares == 0 and s.streams == {}
    p3, o3 = stream(f)  # later requests use the chosen session directly
    request(p3, "/c")
    assert peer.requests()[5][":path"] == "/c" and len(Peer.ALL) == 1


def test_pending_version_choosing_http1_and_an_invalid_number() -> None:
    for chosen in (1, 3.5):
        Peer.ALL.clear()
        answer = [None]
        f = pending_mux(answer)
        p, out = stream(f)
        request(p)
        answer[0] = chosen
        p.context.get_group().touch()
        assert type(session(f)).__name__ == "HTTPSession"
        assert Peer.ALL[0].events[0].startswith(b"GET / HTTP/1.1\r\n")


def test_pending_version_and_the_upstream_ending_answers_the_queue() -> None:
    answer = [undefined]
    f = pending_mux(answer)
    p, out = stream(f)
    request(p)
    Peer.ALL[0].close("ConnectionRefused")
    [(head, _)] = out.messages()
    assert (head["status"], head["statusText"]) == (502, "Connection Refused")
    assert not p.context.get_group().waiters and f.smap.clusters == {}


def test_pending_version_client_gone_before_the_choice() -> None:
    answer = [undefined]
    f = pending_mux(answer)
    (p1, o1), (p2, o2) = stream(f), stream(f)
    request(p1, "/gone")
    request(p2, "/stays")
    p1.end()
    answer[0] = 2
    answer[-1][0].get_group().touch()  # the session's group: its context is p1's clone
    [peer] = Peer.ALL
    assert [h[":path"] for h in peer.requests().values()] == ["/stays"]
    peer.respond(1, b"s")
    assert o2.messages()[0][1] == b"s" and not o1.events


def test_version_function_answering_at_once_is_asked_in_the_session_context() -> None:
    answer = [2]
    f = pending_mux(answer)
    p, out = stream(f)
    request(p)
    [ctx] = answer[-1]
    assert ctx is session(f).pipeline.context and ctx is not p.context
    assert not ctx.get_group().waiters


# -- CONNECT tunnels (RFC 9113 §8.5) -------------------------------------------------------------

def connect(p: Any, target: str = "h:443") -> None:
    request(p, target, method="CONNECT")


def ended(peer: Peer, sid: int) -> bool:
    return any(type(e) is ev.StreamEnded and e.stream_id == sid for e in peer.events)


def resets(peer: Peer) -> list:
    return [(e.stream_id, e.error_code) for e in peer.events if type(e) is ev.StreamReset]


def test_connect_opens_a_stream_without_end_stream_and_2xx_makes_a_tunnel() -> None:
    f = mux(lambda: "k", V2)
    p, out = stream(f)
    connect(p)
    p.input(Data(b"early"))  # sent before the answer: held until the tunnel opens
    [peer] = Peer.ALL
    assert peer.requests()[1] == {":method": "CONNECT", ":authority": "h:443"}
    assert not ended(peer, 1) and peer.body(1) == b""
    peer.respond(1, b"server-hello", end=False)
    assert out.types() == ["MessageStart", "MessageEnd", "Data"]
    assert out.heads()[0]["status"] == 200 and out.body() == b"server-hello"
    assert peer.body(1) == b"early"
    p.input(Data(b" more"))
    assert peer.body(1) == b"early more" and not ended(peer, 1)
    p.input(StreamEnd())  # the client's FIN: our END_STREAM
    assert ended(peer, 1)
    s = session(f)
    assert list(s.streams) == [1]  # half-closed: the upstream may still answer
    peer.conn.send_data(1, b"last", end_stream=True)
    peer.flush()
    assert out.body() == b"server-hellolast" and type(out.events[-1]) is StreamEnd
    assert s.streams == {} and s.shares == 0 and not s.dead
    p2, o2 = stream(f)  # the connection goes on
    request(p2)
    peer.respond(3, b"ok")
    assert o2.messages()[0][1] == b"ok" and len(Peer.ALL) == 1


def test_upstream_end_stream_ends_the_tunnel_and_our_side() -> None:
    f = mux(lambda: "k", V2)
    p, out = stream(f)
    connect(p)
    [peer] = Peer.ALL
    peer.respond(1, end=False)
    p.input(Data(b"ping"))
    peer.conn.send_data(1, b"pong", end_stream=True)
    peer.flush()
    assert out.types() == ["MessageStart", "MessageEnd", "Data", "StreamEnd"]
    assert out.events[-1].error in ("", None) and ended(peer, 1) and resets(peer) == []
    s = session(f)
    assert s.streams == {} and s.shares == 0
    p.input(Data(b"late"))  # after the end: dropped
    p.input(StreamEnd())
    assert peer.body(1) == b"ping" and s.streams == {}
    p.end()
    assert resets(peer) == []


def test_connect_refused_is_a_normal_response_and_frees_the_stream() -> None:
    f = mux(lambda: "k", V2)
    p, out = stream(f)
    connect(p)
    [peer] = Peer.ALL
    peer.respond(1, b"denied", status=403)
    [(head, body)] = out.messages()
    assert head["status"] == 403 and body == b"denied" and type(out.events[-1]) is MessageEnd
    assert ended(peer, 1) and session(f).streams == {} and session(f).shares == 0
    assert session(f).h2.open_outbound_streams == 0


def test_several_tunnels_on_one_connection_and_the_client_going_away() -> None:
    f = mux(lambda: "k", V2)
    tunnels = [stream(f) for _ in range(3)]
    for i, (p, _) in enumerate(tunnels):
        connect(p, f"t{i}:1")
    [peer] = Peer.ALL
    for sid in (1, 3, 5):
        peer.respond(sid, end=False)
    for i, (p, _) in enumerate(tunnels):
        p.input(Data(b"to %d" % i))
    for sid in (5, 3, 1):
        peer.conn.send_data(sid, b"from %d" % sid)
    peer.flush()
    assert [peer.body(sid) for sid in (1, 3, 5)] == [b"to 0", b"to 1", b"to 2"]
    assert [o.body() for _, o in tunnels] == [b"from 1", b"from 3", b"from 5"]
    tunnels[1][0].end()  # its client has gone: CANCEL that stream only
    assert resets(peer) == [(3, ErrorCodes.CANCEL)]
    s = session(f)
    assert sorted(s.streams) == [1, 5] and s.shares == 2
    peer.conn.reset_stream(5, ErrorCodes.INTERNAL_ERROR)  # the upstream resets another
    peer.flush()
    assert type(tunnels[2][1].events[-1]) is StreamEnd and tunnels[2][1].events[-1].error
    assert list(s.streams) == [1] and s.shares == 1
    tunnels[0][0].input(Data(b"!"))
    assert peer.body(1) == b"to 0!"
    tunnels[0][0].input(StreamEnd("ConnectionReset"))  # the client failed: CANCEL
    assert resets(peer)[-1] == (1, ErrorCodes.CANCEL) and s.streams == {}
    assert not s.dead and s.h2.open_outbound_streams == 0


def test_large_transfer_both_ways_beyond_the_window_with_client_back_pressure() -> None:
    f = mux(lambda: "k", V2)
    flow = FlowControl()
    p, out = stream(f, flow=flow)
    connect(p)
    [peer] = Peer.ALL
    peer.respond(1, end=False)
    up = bytes(range(256)) * 2000  # 512,000 bytes
    p.input(Data(up))
    assert len(peer.body(1)) == 65535 and flow.paused == 1  # beyond the high-water mark
    s = session(f)
    for _ in range(40):
        peer.ack_all()
        peer.flush()
    assert peer.body(1) == up and flow.paused == 0 and s.streams[1].out_size == 0
    sent, total = 0, 150_000
    while sent < total:
        room = min(peer.conn.local_flow_control_window(1), total - sent, 16384)
        assert room > 0, "the client stopped acknowledging"
        peer.conn.send_data(1, b"d" * room)
        sent += room
        peer.flush()
    assert out.body() == b"d" * total
    p.input(StreamEnd())
    peer.conn.end_stream(1)
    peer.flush()
    assert s.streams == {} and type(out.events[-1]) is StreamEnd


def test_tunnel_client_ending_while_paused_resumes_it_and_connection_loss_ends_tunnels() -> None:
    f = mux(lambda: "k", V2)
    flow = FlowControl()
    (p1, _), (p2, o2) = stream(f, flow=flow), stream(f)
    connect(p1)
    connect(p2)
    [peer] = Peer.ALL
    peer.respond(1, end=False)
    peer.respond(3, end=False)
    p1.input(Data(b"x" * 400_000))
    assert flow.paused == 1
    p1.end()  # its pause is given back with the stream
    assert flow.paused == 0 and list(session(f).streams) == [3]
    peer.close("ConnectionReset")
    assert o2.types() == ["MessageStart", "MessageEnd", "StreamEnd"]
    assert o2.events[-1].error == "ConnectionReset"


def test_tunnel_data_held_while_the_client_is_congested() -> None:
    f = mux({"version": 2})
    flow = FlowControl()
    p, out = stream(f, flow=flow)
    connect(p)
    [peer] = Peer.ALL
    peer.respond(1, end=False)
    flow.output_congested(True)
    peer.conn.send_data(1, b"a" * 10000)
    peer.conn.send_data(1, b"a" * 10000, end_stream=True)
    peer.flush()
    s = session(f)
    assert out.body() == b"" and list(s.streams) == [1]
    flow.output_congested(False)
    assert out.body() == b"a" * 20000 and type(out.events[-1]) is StreamEnd
    assert s.streams == {} and flow.watchers == []
