"""demuxHTTP/serveHTTP over HTTP/2 (reference §4.5), driven by an in-memory h2 client connection."""
from __future__ import annotations

from typing import Any

import h2.config
import h2.connection
import h2.events as ev
import h2.settings

from pipyd.context import Context
from pipyd.events import Data, Message, MessageEnd, MessageStart, StreamEnd
from pipyd.filters import http  # noqa: F401 - registers the HTTP filters
from pipyd.js.values import JSObject, undefined
from pipyd.pipeline import Filter, FlowControl, PipelineLayout
from pipyd.registry import lookup
from tests.unit.core import Collect


class Recorder(Filter):
    """Sub-pipeline double: records its input; answers at MessageEnd unless ``hold``."""

    __slots__ = ("reply", "hold", "seen")
    CONFIG = ("reply", "hold")
    ALL: list = []

    def init_state(self) -> None:  # a fresh clone (kept when the pipeline ends)
        self.seen = []
        Recorder.ALL.append(self)

    def process(self, evt: Any) -> None:
        self.seen.append(evt)
        if type(evt) is MessageEnd and not self.hold:
            self.output_value(self.reply(self))

    def head(self) -> Any:
        return self.seen[0].head

    def body(self) -> bytes:
        return b"".join(e.to_bytes() for e in self.seen if type(e) is Data)


def recorder(reply=None, hold=False) -> Recorder:
    f = Recorder.__new__(Recorder)
    f.reply = reply or (lambda r: Message(JSObject(status=200, headers=JSObject(
        {"x-path": r.head()["path"]})), "echo:" + r.body().decode()))
    f.hold = hold
    return f


def server(name: str, *args: Any, sub: Filter | None = None, flow: Any = None):
    Recorder.ALL = []
    layout = PipelineLayout("conn")
    f = lookup(name).configure(None, *args)
    if sub is not None:
        s = PipelineLayout("")
        s.append(sub)
        f.add_sub_layout(s)
    layout.append(f)
    out = Collect()
    return layout.instantiate(Context([{}]), out, (), flow), out


class Client:
    """An h2 client wired to a server pipeline: responses collected per stream."""

    def __init__(self, pipeline, out: Collect, window: int | None = None, ack: bool = True) -> None:
        self.p, self.out, self.ack = pipeline, out, ack
        self.c = h2.connection.H2Connection(h2.config.H2Configuration(
            client_side=True, header_encoding="utf-8"))
        if window is not None:
            self.c.local_settings = h2.settings.Settings(client=True, initial_values={
                h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: window})
        self.c.initiate_connection()
        self.responses: dict[int, dict] = {}
        self.events: list = []

    def send(self, split: int = 0) -> None:
        b = self.c.data_to_send()
        if split:
            for i in range(0, len(b), split):
                self.p.input(Data.from_bytes(b[i:i + split]))
        elif b:
            self.p.input(Data.from_bytes(b))
        self.pump()

    def pump(self) -> None:
        b = self.out.take()
        if not b:
            return
        for e in self.c.receive_data(b):
            self.events.append(e)
            r = self.responses.setdefault(getattr(e, "stream_id", 0), {
                "headers": None, "body": b"", "ended": False, "reset": None, "trailers": None})
            if type(e) is ev.ResponseReceived:
                r["headers"] = dict(e.headers)
            elif type(e) is ev.DataReceived:
                r["body"] += e.data
                if self.ack:
                    self.c.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
            elif type(e) is ev.TrailersReceived:
                r["trailers"] = dict(e.headers)
            elif type(e) is ev.StreamEnded:
                r["ended"] = True
            elif type(e) is ev.StreamReset:
                r["reset"] = e.error_code
        if self.c.data_to_send():
            self.send()

    def request(self, path: str = "/", body: bytes = b"", method: str = "GET",
                extra: list = (), end: bool = True) -> int:
        sid = self.c.get_next_available_stream_id()
        self.c.send_headers(sid, [(":method", method), (":path", path), (":scheme", "http"),
                                  (":authority", "example.com"), *extra],
                            end_stream=not body and end)
        for i in range(0, len(body), 16384):
            self.c.send_data(sid, body[i:i + 16384], end_stream=end and i + 16384 >= len(body))
        return sid


def test_prior_knowledge_demux_request_head_and_body():
    p, out = server("demuxHTTP", sub=recorder())
    c = Client(p, out)
    sid = c.request("/a?b=1", b"hello", "POST", [("cookie", "a=1"), ("cookie", "b=2"),
                                                   ("x-y", "z")])
    c.send()
    r = c.responses[sid]
    assert r["headers"][":status"] == "200" and r["headers"]["x-path"] == "/a?b=1"
    assert r["headers"]["content-length"] == "10"
    assert r["body"] == b"echo:hello" and r["ended"]
    head = Recorder.ALL[0].head()
    assert head["method"] == "POST" and head["scheme"] == "http"
    assert head["authority"] == "example.com" and head["protocol"] is undefined
    assert head["headers"]["host"] == "example.com"
    assert head["headers"]["cookie"] == "a=1; b=2" and head["headers"]["x-y"] == "z"
    assert not out.ended()


def test_preface_split_byte_by_byte():
    p, out = server("serveHTTP", Message.js_construct("hi"))
    c = Client(p, out)
    sids = [c.request("/%d" % i) for i in range(3)]
    c.send(split=1)
    for sid in sids:
        assert c.responses[sid]["body"] == b"hi"
        assert c.responses[sid]["headers"][":status"] == "200"


def test_http1_still_served_after_sniffing():
    p, out = server("serveHTTP", Message.js_construct("hi"))
    p.input(Data.from_bytes(b"GE"))
    p.input(Data.from_bytes(b"T / HTTP/1.1\r\nhost: a\r\n\r\n"))
    assert out.take().startswith(b"HTTP/1.1 200 OK\r\n")


def test_serve_handler_gets_body_and_trailers_go_out():
    def handler(req):
        return Message(JSObject(status=201, headers=JSObject({"Content-Type": "text/plain",
                                                              "Connection": "keep-alive"})),
                       req.body.to_bytes().decode().upper(),
                       JSObject(headers=JSObject({"x-t": "1"})))
    p, out = server("serveHTTP", handler)
    c = Client(p, out)
    sid = c.request("/", b"abc", "PUT")
    c.send()
    r = c.responses[sid]
    assert r["headers"][":status"] == "201" and r["headers"]["content-type"] == "text/plain"
    assert "connection" not in r["headers"]
    assert r["body"] == b"ABC" and r["trailers"] == {"x-t": "1"} and r["ended"]


def test_concurrent_streams_answer_out_of_order():
    p, out = server("demuxHTTP", sub=recorder(hold=True))
    c = Client(p, out)
    a, b = c.request("/a"), c.request("/b")
    c.send()
    ra, rb = Recorder.ALL
    rb.output_value(Message(JSObject(status=200), "B"))
    c.pump()
    assert c.responses[b]["body"] == b"B" and a not in c.responses  # no head-of-line blocking
    ra.output_value(Message(JSObject(status=404), "A"))
    c.pump()
    assert c.responses[a]["headers"][":status"] == "404"


def test_streaming_response_respects_window_and_backpressure():
    p, out = server("demuxHTTP", {"bufferSize": 1000}, sub=recorder(hold=True))
    c = Client(p, out, window=10000, ack=False)
    sid = c.request("/")
    c.send()
    rec = Recorder.ALL[0]
    flow = rec.pipeline.flow
    seen = []
    flow.watch_output(seen.append)
    rec.output(MessageStart(JSObject(status=200)))
    rec.output(Data.from_bytes(b"x" * 30000))
    c.pump()
    assert len(c.responses[sid]["body"]) == 10000  # the client's window
    assert seen == [True]  # more than bufferSize waits: the sub-pipeline is told
    rec.output(MessageEnd())
    c.c.increment_flow_control_window(60000, sid)
    c.c.increment_flow_control_window(60000)
    c.send()
    assert seen == [True, False]
    assert c.responses[sid]["ended"] and len(c.responses[sid]["body"]) == 30000


def test_request_body_flow_control_per_stream():
    p, out = server("demuxHTTP", {"streamWindowSize": 65535}, sub=recorder(hold=True))
    c = Client(p, out)
    a = c.request("/a", b"x" * 60000, "POST", end=False)
    c.send()
    rec = Recorder.ALL[0]
    assert len(rec.body()) == 60000  # delivered and acknowledged: the window is back
    w0 = c.c.local_flow_control_window(a)
    assert w0 > 65535 - 60000
    rec.pipeline.pause_input()  # the sub-pipeline cannot take more: held, not acknowledged
    c.c.send_data(a, b"y" * 5000, end_stream=True)
    c.send()
    assert len(rec.body()) == 60000 and c.c.local_flow_control_window(a) == w0 - 5000
    c.request("/b")
    c.send()
    assert len(Recorder.ALL) == 2  # another stream still flows
    rec.pipeline.resume_input()
    c.pump()
    assert len(rec.body()) == 65000 and type(rec.seen[-1]) is MessageEnd


def test_client_reset_ends_the_sub_pipeline():
    p, out = server("demuxHTTP", sub=recorder(hold=True))
    c = Client(p, out)
    sid = c.request("/", end=False)
    c.send()
    rec = Recorder.ALL[0]
    assert not rec.pipeline.ended
    c.c.reset_stream(sid)
    c.send()
    assert rec.pipeline.ended


def test_sub_pipeline_end_without_answer_is_empty_200_and_cut_off_resets():
    p, out = server("demuxHTTP", sub=recorder(hold=True))
    c = Client(p, out)
    a, b = c.request("/a"), c.request("/b")
    c.send()
    ra, rb = Recorder.ALL
    ra.output(StreamEnd())
    rb.output(MessageStart(JSObject(status=200)))
    rb.output(Data.from_bytes(b"partial" * 5000))
    rb.output(StreamEnd())
    c.pump()
    assert c.responses[a]["headers"][":status"] == "200" and c.responses[a]["ended"]
    assert c.responses[b]["reset"] == 2  # INTERNAL_ERROR
    assert not out.ended()


def test_connection_close_ends_all_streams():
    p, out = server("demuxHTTP", sub=recorder(hold=True))
    c = Client(p, out)
    c.request("/a"), c.request("/b")
    c.send()
    p.input(StreamEnd())
    assert out.ended()
    assert all(r.pipeline.filters == () for r in Recorder.ALL)


def test_bad_frames_close_with_goaway():
    p, out = server("serveHTTP", Message.js_construct("hi"))
    p.input(Data.from_bytes(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x04\x09\x00\x00\x00\x00\x00garb"))
    assert out.ended()


def test_graceful_shutdown_finishes_streams_then_goaway():
    p, out = server("demuxHTTP", sub=recorder(hold=True))
    c = Client(p, out)
    a = c.request("/a")
    c.send()
    p.shutdown()
    assert not out.ended()
    Recorder.ALL[0].output_value(Message.js_construct("done"))
    c.pump()
    assert c.responses[a]["body"] == b"done"
    assert out.ended() and any(type(e) is ev.ConnectionTerminated for e in c.events)


def test_h2c_upgrade_with_body():
    p, out = server("demuxHTTP", sub=recorder())
    c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True,
                                                             header_encoding="utf-8"))
    settings = c.initiate_upgrade_connection()
    req = (b"POST /up HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\n"
           b"Upgrade: h2c\r\nHTTP2-Settings: " + settings + b"\r\ncontent-length: 3\r\n\r\nabc")
    p.input(Data.from_bytes(req + c.data_to_send()))  # the body, then the client preface
    wire = out.take()
    assert wire.startswith(b"HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\n"
                           b"upgrade: h2c\r\n\r\n")
    events = c.receive_data(wire.split(b"\r\n\r\n", 1)[1])
    got = {type(e): e for e in events}
    assert got[ev.ResponseReceived].stream_id == 1
    assert got[ev.DataReceived].data == b"echo:abc"
    head = Recorder.ALL[0].head()
    assert head["path"] == "/up" and "http2-settings" not in head["headers"]
    # a second request on the same connection, as HTTP/2
    sid = c.get_next_available_stream_id()
    c.send_headers(sid, [(":method", "GET"), (":path", "/two"), (":scheme", "http"),
                         (":authority", "h")], end_stream=True)
    p.input(Data.from_bytes(c.data_to_send()))
    events = c.receive_data(out.take())
    assert any(type(e) is ev.DataReceived and e.data == b"echo:" for e in events)


def test_h2c_without_connection_upgrade_stays_http1():
    p, out = server("serveHTTP", Message.js_construct("hi"))
    p.input(Data.from_bytes(b"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\n"
                            b"HTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n"))
    assert out.take().startswith(b"HTTP/1.1 200 OK")


def test_root_output_congestion_reaches_streams():
    flow = FlowControl()
    p, out = server("demuxHTTP", sub=recorder(hold=True), flow=flow)
    c = Client(p, out)
    c.request("/")
    c.send()
    sub_flow = Recorder.ALL[0].pipeline.flow
    assert sub_flow is not flow
    flow.output_congested(True)
    assert sub_flow.congested
    flow.output_congested(False)
    assert not sub_flow.congested


def test_window_options_and_settings():
    from pipyd.filters.http2_server import window_options
    assert window_options(JSObject()) == (1 << 20, 65535)
    assert window_options(JSObject(connectionWindowSize="2m", streamWindowSize=1000)) == \
        (2 << 20, 1000)
    p, out = server("demuxHTTP", {"streamWindowSize": 200000, "connectionWindowSize": 300000},
                    sub=recorder())
    c = Client(p, out)
    c.send()
    assert c.c.remote_settings.initial_window_size == 200000
    assert c.c.outbound_flow_control_window == 300000


def test_head_is_bodiless_and_oversized_serve_body_gets_413():
    p, out = server("demuxHTTP", sub=recorder())
    c = Client(p, out)
    sid = c.request("/h", method="HEAD")
    c.send()
    r = c.responses[sid]
    assert r["headers"][":status"] == "200" and r["body"] == b"" and r["ended"]
    p, out = server("serveHTTP", Message.js_construct("hi"))
    p.filters[0].max_body_size = 10
    c = Client(p, out)
    sid = c.request("/", b"x" * 100, "POST", end=False)
    c.send()
    assert c.responses[sid]["headers"][":status"] == "413"
    assert c.responses[sid]["reset"] == 0  # NO_ERROR: the rest of the request is not wanted
