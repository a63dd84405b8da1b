"""muxHTTP (reference §4.6) against the Upstream double: pooling, FIFO matching, HEAD, 100,
tunnels, the error responses, dead sessions and the idle limit."""
from __future__ import annotations

import gc

import pytest

from pipyd.context import Context
from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.js.values import JSObject, JSThrow

from . import Out, Upstream, joint, send_message, stream

OK = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"


def req(method: str = "GET", path: str = "/", **headers: str) -> JSObject:
    return JSObject(method=method, path=path, headers=JSObject(headers))


@pytest.fixture(autouse=True)
def fresh():
    Upstream.INSTANCES.clear()
    Upstream.ENDED.clear()
    yield


def test_request_is_encoded_with_its_whole_body_and_response_decoded() -> None:
    f = joint("muxHTTP")
    p, out = stream(f)
    p.input(MessageStart(req("POST", "/x", host="h")))
    p.input(Data(b"ab"))
    assert Upstream.INSTANCES == []  # body buffered until MessageEnd (§2.3)
    p.input(Data(b"c"))
    p.input(MessageEnd())
    up = Upstream.INSTANCES[0]
    assert up.received == (b"POST /x HTTP/1.1\r\nhost: h\r\ncontent-length: 3\r\n"
                           b"connection: keep-alive\r\n\r\nabc")
    up.reply(OK)
    [(head, body)] = out.messages()
    assert head["status"] == 200 and body == b"ok"


def test_sequential_streams_share_one_session_per_key() -> None:
    f = joint("muxHTTP", lambda: "k")
    for i in range(3):
        p, out = stream(f)
        send_message(p, req(path="/%d" % i))
        Upstream.INSTANCES[0].reply(OK)
        assert out.messages()[0][1] == b"ok"
        p.end()
    assert len(Upstream.INSTANCES) == 1
    assert Upstream.INSTANCES[0].received.count(b"GET /") == 3


def test_different_keys_and_places_do_not_merge() -> None:
    f = joint("muxHTTP", lambda: "a")
    g = joint("muxHTTP", lambda: "a")  # another place of a layout: its own sessions
    for proto, key in ((f, "a"), (g, "a")):
        p, _ = stream(proto)
        send_message(p, req())
    assert len(Upstream.INSTANCES) == 2
    h = joint("muxHTTP", lambda: _key.pop(0))
    _key = ["x", "y"]
    for _ in range(2):
        p, _ = stream(h)
        send_message(p, req())
    assert len(Upstream.INSTANCES) == 4


def test_pipelined_responses_are_matched_fifo_and_head_is_bodiless() -> None:
    f = joint("muxHTTP", lambda: "k")
    (p1, o1), (p2, o2), (p3, o3) = stream(f), stream(f), stream(f)
    send_message(p1, req("GET", "/1"))
    send_message(p2, req("HEAD", "/2"))
    send_message(p3, req("GET", "/3"))
    up = Upstream.INSTANCES[0]
    # the HEAD answer carries a content-length but no body: framing depends on the request
    up.reply(OK + b"HTTP/1.1 200 OK\r\ncontent-length: 9\r\n\r\n"
             + b"HTTP/1.1 201 Created\r\ncontent-length: 1\r\n\r\nZ")
    assert o1.messages()[0][1] == b"ok"
    assert o2.messages()[0] [1] == b"" and o2.messages()[0][0]["status"] == 200
    assert o3.messages()[0][0]["status"] == 201 and o3.messages()[0][1] == b"Z"


def test_onstart_gets_key_and_count_and_context_is_cloned() -> None:
    seen = []
    f = joint("muxHTTP", lambda: "key1", {"maxQueue": 1},
              on_start=lambda key, n: seen.append((key, n)))
    ctx = Context([{"_v": 1}])
    p, _ = stream(f, ctx)
    send_message(p, req())
    p2, _ = stream(f)
    send_message(p2, req())  # maxQueue 1: the first session is busy, a second opens
    assert seen == [("key1", 1), ("key1", 2)]
    up = Upstream.INSTANCES[0]
    assert up.ctx is not ctx and up.ctx.data[0] == {"_v": 1}


def test_default_key_is_inbound() -> None:
    class Inb:  # any weakly referenceable object
        pass
    a, b = Inb(), Inb()
    f = joint("muxHTTP")
    for inbound in (a, a, b):
        p, _ = stream(f, Context([{}], inbound))
        send_message(p, req())
        p.end()
    assert len(Upstream.INSTANCES) == 2


def test_upstream_errors_become_responses_and_session_is_replaced() -> None:
    f = joint("muxHTTP", lambda: "k")
    (p1, o1), (p2, o2) = stream(f), stream(f)
    send_message(p1, req())
    send_message(p2, req())
    Upstream.INSTANCES[0].close("ConnectionRefused")
    for o in (o1, o2):  # every request queued on the dead session gets the error response
        [(head, body)] = o.messages()
        assert (head["status"], head["statusText"], body) == (502, "Connection Refused", b"")
    p3, o3 = stream(f)
    send_message(p3, req())
    assert len(Upstream.INSTANCES) == 2  # a new session for the next request
    Upstream.INSTANCES[1].close("ConnectionTimeout")
    assert o3.messages()[0][0]["status"] == 504


def test_clean_close_before_answer_is_empty_200_and_cut_response_ends_stream() -> None:
    f = joint("muxHTTP", lambda: "k")
    (p1, o1), (p2, o2) = stream(f), stream(f)
    send_message(p1, req())
    send_message(p2, req())
    Upstream.INSTANCES[0].reply(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc")
    Upstream.INSTANCES[0].close()
    assert o1.types() == ["MessageStart", "Data", "StreamEnd"]
    assert o2.messages()[0][0]["status"] == 200 and o2.messages()[0][1] == b""


def test_close_delimited_response_ends_with_upstream() -> None:
    p, out = stream(joint("muxHTTP"))
    send_message(p, req())
    Upstream.INSTANCES[0].reply(b"HTTP/1.1 200 OK\r\n\r\nall of it")
    Upstream.INSTANCES[0].close()
    assert out.messages()[0][1] == b"all of it" and "StreamEnd" not in out.types()


def test_malformed_response_is_502() -> None:
    p, out = stream(joint("muxHTTP"))
    send_message(p, req())
    Upstream.INSTANCES[0].reply(b"garbage\r\n\r\n")
    assert out.messages()[0][0]["status"] == 502
    assert Upstream.INSTANCES[0].ended


def test_expect_100_continue_answered_here_and_not_sent_upstream() -> None:
    p, out = stream(joint("muxHTTP"))
    p.input(MessageStart(req("POST", expect="100-continue")))
    assert out.heads()[0]["status"] == 100
    p.input(Data(b"x"))
    p.input(MessageEnd())
    up = Upstream.INSTANCES[0]
    assert b"expect" not in up.received
    up.reply(b"HTTP/1.1 100 Continue\r\n\r\n" + OK)  # the upstream's own 100 is dropped
    assert [h["status"] for h in out.heads()] == [100, 200]


def test_connect_tunnel() -> None:
    p, out = stream(joint("muxHTTP"))
    send_message(p, req("CONNECT", "h:443"))
    up = Upstream.INSTANCES[0]
    up.reply(b"HTTP/1.1 200 Connection Established\r\n\r\nserver-hello")
    assert out.messages()[0][0]["status"] == 200
    assert out.events[-1].to_bytes() == b"server-hello"
    p.input(Data(b"client-bytes"))
    assert up.received.endswith(b"client-bytes")
    up.close()
    assert type(out.events[-1]) is StreamEnd


def test_client_end_before_the_connect_answer_reaches_the_tunnel() -> None:
    # connectHTTPTunnel holds a client's StreamEnd until the CONNECT is answered and sends it
    # right then, with no bytes before it: it must not be lost on the way into the tunnel
    p, out = stream(joint("muxHTTP"))
    send_message(p, req("CONNECT", "h:443"))
    p.input(StreamEnd())
    up = Upstream.INSTANCES[0]
    assert not up.ended
    up.reply(b"HTTP/1.1 200 Connection Established\r\n\r\n")
    assert out.messages()[0][0]["status"] == 200
    assert up.ended


def test_upgrade_101_tunnel_and_session_not_shared() -> None:
    f = joint("muxHTTP", lambda: "k")
    p, out = stream(f)
    send_message(p, req("GET", "/ws", connection="Upgrade", upgrade="websocket"))
    Upstream.INSTANCES[0].reply(b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n\r\n\x81\x00")
    assert out.messages()[0][0]["status"] == 101 and out.events[-1].to_bytes() == b"\x81\x00"
    p2, _ = stream(f)
    send_message(p2, req())
    assert len(Upstream.INSTANCES) == 2
    p.end()  # ending the tunnel's stream ends the session
    assert Upstream.INSTANCES[0].ended


def test_max_idle_closes_free_sessions() -> None:
    f = joint("muxHTTP", lambda: "k", {"maxIdle": 5})
    clock = [100.0]
    f.smap.now = lambda: clock[0]
    p, _ = stream(f)
    send_message(p, req())
    up = Upstream.INSTANCES[0]
    assert f.smap.recycle() is False  # borrowed: nothing to watch
    up.reply(OK)  # response done: the stream no longer holds the session
    clock[0] = 104.0
    assert f.smap.recycle() is True and not up.ended
    clock[0] = 105.0
    f.smap.recycle()
    assert up.ended
    p2, _ = stream(f)
    send_message(p2, req())
    assert len(Upstream.INSTANCES) == 2


def test_max_messages_per_session() -> None:
    f = joint("muxHTTP", lambda: "k", {"maxMessages": 2})
    for _ in range(3):
        p, _ = stream(f)
        send_message(p, req())
        Upstream.INSTANCES[-1].reply(OK)
    assert len(Upstream.INSTANCES) == 2
    assert Upstream.INSTANCES[0].ended  # used up and free: closed


def test_weak_object_key_ends_session_when_collected() -> None:
    key = JSObject(name="target")
    f = joint("muxHTTP", lambda: _holder[0])
    _holder = [key]
    p, _ = stream(f)
    send_message(p, req())
    Upstream.INSTANCES[0].reply(OK)
    p.end()
    up = Upstream.INSTANCES[0]
    del key
    _holder.clear()
    gc.collect()
    assert up.ended


def test_unknown_version_refused_and_bad_options() -> None:
    with pytest.raises(JSThrow, match="version"):
        joint("muxHTTP", lambda: 1, {"version": 3})
    with pytest.raises(JSThrow):
        joint("muxHTTP", lambda: 1, {"maxQueue": "x"})


def test_name_first_form() -> None:
    from pipyd.registry import lookup
    f = lookup("muxHTTP").configure(None, "upstream", lambda: "k", {"maxIdle": "2m"})
    assert f.sub_layouts == ["upstream"] and f.smap.options.max_idle == 120.0
    assert f.dump() == "muxHTTP --> [upstream]"


def test_stream_ending_with_request_in_flight_drops_its_response() -> None:
    f = joint("muxHTTP", lambda: "k")
    (p1, o1), (p2, o2) = stream(f), stream(f)
    send_message(p1, req())
    send_message(p2, req())
    p1.end()
    Upstream.INSTANCES[0].reply(OK + OK)
    assert o1.messages() == [] and o2.messages()[0][1] == b"ok"
