"""The HTTP filters fed Data events through pipelines built in Python (reference §4.4-§4.6)."""
from __future__ import annotations

from typing import Any

from pipyd.context import Context
from pipyd.events import Data, Message, MessageEnd, MessageStart, StreamEnd
from pipyd.filters import http  # noqa: F401 - registers the HTTP filters
from pipyd.js.values import JSObject
from pipyd.pipeline import Filter, PipelineLayout
from pipyd.registry import lookup


class Out:
    def __init__(self) -> None:
        self.events: list = []

    def process(self, evt: Any) -> None:
        self.events.append(evt)

    def wire(self) -> bytes:
        return b"".join(e.to_bytes() for e in self.events if type(e) is Data)

    def ended(self) -> bool:
        return any(type(e) is StreamEnd for e in self.events)


class Responder(Filter):
    """Sub-pipeline test double: answers each request with ``reply(head, body)`` at MessageEnd,
    or holds the answer in ``HELD`` when ``hold`` is set (to answer out of order later)."""

    __slots__ = ("reply", "hold", "head", "body")
    CONFIG = ("reply", "hold")
    HELD: list = []

    def reset(self) -> None:
        self.head = None
        self.body = b""

    def process(self, evt: Any) -> None:
        t = type(evt)
        if t is MessageStart:
            self.head = evt.head
        elif t is Data:
            self.body += evt.to_bytes()
        elif t is MessageEnd:
            msg = self.reply(self.head, self.body)
            if self.hold:
                Responder.HELD.append((self, msg))
            else:
                self.emit(msg)

    def emit(self, msg: Any) -> None:
        self.output_value(msg)


def responder(reply, hold=False) -> Responder:
    f = Responder.__new__(Responder)
    f.reply = reply
    f.hold = hold
    return f


def server(name: str, *args: Any, sub: Filter | None = None) -> tuple:
    layout = PipelineLayout("conn")
    f = lookup(name).configure(None, *args)
    if sub is not None:
        s = PipelineLayout("")
        s.append(sub)
        f.add_sub_layout(s)
    layout.append(f)
    out = Out()
    return layout.instantiate(Context([{}]), out), out


def echo_path(head, body):
    return Message(JSObject(status=200, headers=JSObject()), head["path"] + ":" + body.decode())


HI = Message.js_construct("Hi, there!\n")
HI_RESPONSE = b"HTTP/1.1 200 OK\r\ncontent-length: 11\r\nconnection: keep-alive\r\n\r\nHi, there!\n"


def test_serve_http_tutorial_bytes_whole_and_bytewise() -> None:
    raw = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n"
    p, out = server("serveHTTP", HI)
    p.input(Data(raw))
    assert out.wire() == HI_RESPONSE and not out.ended()
    p, out = server("serveHTTP", HI)
    for i in range(len(raw)):
        p.input(Data(raw[i:i + 1]))
    assert out.wire() == HI_RESPONSE


def test_serve_http_handler_gets_request_message() -> None:
    seen = []

    def handler(msg):
        seen.append((msg.head["method"], msg.body.to_bytes()))
        return Message(JSObject(status=201, headers=JSObject(**{"x-y": "z"})), "ok")

    p, out = server("serveHTTP", handler)
    p.input(Data(b"POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"))
    assert seen == [("POST", b"abc")]
    assert out.wire() == b"HTTP/1.1 201 Created\r\nx-y: z\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok"


def test_keep_alive_and_close() -> None:
    for raw, closes in [(b"GET / HTTP/1.0\r\n\r\n", True),
                        (b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", False),
                        (b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", True)]:
        p, out = server("serveHTTP", HI)
        p.input(Data(raw))
        assert (b"connection: close" in out.wire()) is closes and out.ended() is closes


def test_pipelined_requests_after_close_are_not_served() -> None:
    p, out = server("serveHTTP", HI)
    p.input(Data(b"GET / HTTP/1.1\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\n\r\n"))
    assert out.wire().count(b"HTTP/1.1 200") == 1 and out.ended()


def test_head_response_is_bodiless() -> None:
    p, out = server("serveHTTP", HI)
    p.input(Data(b"HEAD / HTTP/1.1\r\n\r\n"))
    assert out.wire() == b"HTTP/1.1 200 OK\r\nconnection: keep-alive\r\n\r\n"


def test_malformed_and_smuggling_get_400_and_close() -> None:
    for raw in [b"GARBAGE\r\n\r\n",
                b"POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"]:
        p, out = server("serveHTTP", HI)
        p.input(Data(raw))
        assert out.wire() == b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
        assert out.ended()


def test_oversized_head_431_and_bad_version_505() -> None:
    p, out = server("serveHTTP", HI)
    p.input(Data(b"GET / HTTP/1.1\r\nX: " + b"a" * 40000 + b"\r\n\r\n"))
    assert out.wire().startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n") and out.ended()
    p, out = server("serveHTTP", HI)
    p.input(Data(b"GET / HTTP/0.9\r\n\r\n"))
    assert out.wire().startswith(b"HTTP/1.1 505 HTTP Version Not Supported\r\n") and out.ended()


def test_serve_http_413_for_large_body() -> None:
    p, out = server("serveHTTP", HI)
    p.filters[0].max_body_size = 10
    p.input(Data(b"POST / HTTP/1.1\r\nContent-Length: 20\r\n\r\n" + b"x" * 20))
    assert out.wire().startswith(b"HTTP/1.1 413 Payload Too Large\r\n") and out.ended()


def test_serve_http_bad_handler_result_is_empty_200() -> None:
    p, out = server("serveHTTP", lambda msg: 42)
    p.input(Data(b"GET / HTTP/1.1\r\n\r\n"))
    assert out.wire() == b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: keep-alive\r\n\r\n"


def test_demux_http_pipelining_keeps_response_order() -> None:
    Responder.HELD.clear()
    p, out = server("demuxHTTP", sub=responder(echo_path, hold=True))
    p.input(Data(b"GET /1 HTTP/1.1\r\n\r\nPOST /2 HTTP/1.1\r\nContent-Length: 1\r\n\r\nxGET /3 HTTP/1.1\r\n\r\n"))
    assert len(Responder.HELD) == 3 and out.wire() == b""
    for i in (2, 1, 0):  # answer in reverse order
        f, msg = Responder.HELD[i]
        f.emit(msg)
    wire = out.wire()
    assert wire.index(b"/1:") < wire.index(b"/2:x") < wire.index(b"/3:")


def test_demux_http_sub_pipeline_ending_without_response_gives_empty_200() -> None:
    p, out = server("demuxHTTP", sub=responder(lambda h, b: StreamEnd()))
    p.input(Data(b"GET / HTTP/1.1\r\n\r\n"))
    assert out.wire() == b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: keep-alive\r\n\r\n"


def test_demux_http_streams_large_bodies_chunked() -> None:
    big = "x" * 20000
    p, out = server("demuxHTTP", sub=responder(lambda h, b: Message(JSObject(), big)))
    p.input(Data(b"GET / HTTP/1.1\r\n\r\n"))
    assert out.wire() == (b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: keep-alive\r\n\r\n"
                          b"4E20\r\n" + big.encode() + b"\r\n0\r\n\r\n")


def test_demux_http_interim_100_then_final() -> None:
    def reply(h, b):
        return [Message(JSObject(status=100)), Message(JSObject(status=200), "ok")]
    p, out = server("demuxHTTP", sub=responder(reply))
    p.input(Data(b"GET / HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n"))
    assert out.wire() == (b"HTTP/1.1 100 Continue\r\n\r\n"
                          b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nok") * 2


def test_demux_http_connect_becomes_tunnel() -> None:
    class Tunnel(Responder):
        __slots__ = ()

        def process(self, evt):
            if type(evt) is MessageEnd:
                self.output(MessageStart(JSObject(status=200)))
                self.output(MessageEnd())
            elif type(evt) is Data:
                self.output(Data(b"echo:" + evt.to_bytes()))
    t = Tunnel.__new__(Tunnel)
    t.reply, t.hold = None, False
    p, out = server("demuxHTTP", sub=t)
    p.input(Data(b"CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\nhello"))
    p.input(Data(b"GET / HTTP/1.1\r\n\r\n"))
    assert out.wire() == (b"HTTP/1.1 200 OK\r\nconnection: keep-alive\r\n\r\n"
                          b"echo:helloecho:GET / HTTP/1.1\r\n\r\n")


def test_demux_http_refused_connect_resumes_http() -> None:
    p, out = server("demuxHTTP", sub=responder(lambda h, b: Message(JSObject(status=403), "no")))
    p.input(Data(b"CONNECT h:443 HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n"))
    # a refusal keeps its content (RFC 9110 §9.3.6: only a 2xx to CONNECT has none)
    refusal = b"HTTP/1.1 403 Forbidden\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\nno"
    assert out.wire() == refusal * 2


def test_demux_http_refused_upgrade_keeps_its_body_streamed() -> None:
    def reply(h, b):
        return Message(JSObject(status=400), "bad upgrade") if h["method"] == "GET" else None
    p, out = server("demuxHTTP", sub=responder(reply))
    p.input(Data(b"GET /ws HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n"))
    assert out.wire() == (b"HTTP/1.1 400 Bad Request\r\ncontent-length: 11\r\n"
                          b"connection: keep-alive\r\n\r\nbad upgrade")


def test_client_eof_closes_after_pending_responses() -> None:
    p, out = server("serveHTTP", HI)
    p.input(Data(b"GET / HTTP/1.1\r\n\r\n"))
    p.input(StreamEnd())
    assert out.wire() == HI_RESPONSE and out.ended()


def test_encode_decode_request_round_trip() -> None:
    layout = PipelineLayout("rt")
    layout.append(lookup("encodeHTTPRequest").configure(None))
    layout.append(lookup("decodeHTTPRequest").configure(None))
    out = Out()
    p = layout.instantiate(Context([{}]), out)
    for e in [MessageStart(JSObject(method="PUT", path="/k", headers=JSObject(host="h"))), Data(b"v"), MessageEnd()]:
        p.input(e)
    assert [type(e) for e in out.events] == [MessageStart, Data, MessageEnd]
    head = out.events[0].head
    assert (head["method"], head["path"], head["headers"]["content-length"]) == ("PUT", "/k", "1")


def test_encode_http_response_final_ends_stream() -> None:
    layout = PipelineLayout("r")
    layout.append(lookup("encodeHTTPResponse").configure(None, JSObject(final=True)))
    out = Out()
    p = layout.instantiate(Context([{}]), out)
    for e in [MessageStart(JSObject(status=404)), MessageEnd()]:
        p.input(e)
    assert out.wire() == b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n" and out.ended()


def _decode_response(*events: Any, opts: Any = None) -> Out:
    layout = PipelineLayout("d")
    layout.append(lookup("decodeHTTPResponse").configure(None, *([opts] if opts else [])))
    out = Out()
    p = layout.instantiate(Context([{}]), out)
    for e in events:
        p.input(e)
    return out


def test_decode_http_response_error_table() -> None:
    for err, status, text in [("ConnectionRefused", 502, "Connection Refused"), ("ReadTimeout", 504, "Gateway Timeout"),
                              ("Unauthorized", 401, "Unauthorized"), ("ConnectionReset", 502, "Bad Gateway")]:
        out = _decode_response(StreamEnd(err))
        head = out.events[0].head
        assert (head["status"], head["statusText"]) == (status, text)
        assert [type(e) for e in out.events] == [MessageStart, MessageEnd, StreamEnd]


def test_decode_http_response_bodiless_option() -> None:
    out = _decode_response(Data(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"), opts=JSObject(bodiless=True))
    assert [type(e) for e in out.events] == [MessageStart, MessageEnd]


def test_serve_http_whole_requests_and_their_steps_answer_alike() -> None:
    # a request without a body reaches serveHTTP in one call (the decoder's on_message); one
    # with an Expect header still takes the two steps, so its 100 Continue comes first
    raw = (b"GET /a HTTP/1.1\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 0\r\nExpect: 100-continue\r\n\r\n"
           b"POST /c HTTP/1.1\r\nContent-Length: 1\r\n\r\nx")
    p, out = server("serveHTTP", lambda msg: echo_path(msg.head, msg.body.to_bytes()))
    p.input(Data(raw))
    ok = b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\nconnection: keep-alive\r\n\r\n%s"
    assert out.wire() == (ok % (3, b"/a:") + b"HTTP/1.1 100 Continue\r\n\r\n" + ok % (3, b"/b:")
                          + ok % (4, b"/c:x"))
