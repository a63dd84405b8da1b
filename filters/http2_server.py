"""HTTP/2 on the server side of demuxHTTP and serveHTTP (reference §4.5), on the sans-I/O ``h2``.

How a connection becomes HTTP/2 (filters/http_server.py hands it over):

- prior knowledge: the connection's first bytes are the preface ``PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n``
  (RFC 9113 §3.3; also TLS with ALPN ``h2``, where the client starts with the preface);
- ``Upgrade: h2c`` (RFC 7540 §3.2) on the first request of an idle connection with ``Connection:
  upgrade`` and an ``HTTP2-Settings`` header: answered ``101`` with ``connection: upgrade`` and
  ``upgrade: h2c`` (as Pipy), then the request is stream 1; its HTTP/1 body still arrives as
  HTTP/1 bytes before the client's preface.

Per stream (``H2Stream``): demuxHTTP starts one sub-pipeline with a cloned context; serveHTTP
buffers the request and calls its handler. No head-of-line blocking: each stream's sub-pipeline
has its own ``FlowControl`` (``_StreamFlow``), so a sub-pipeline that pauses its input holds only
its stream: received DATA is kept (bounded by the stream window, since it is not acknowledged)
and acknowledged when it is delivered. Response DATA is sent as the peer's windows allow; the
rest waits in the stream's buffer, and a buffer above ``bufferSize`` (or a congested client
socket) reports output congestion to that stream's sub-pipeline (``watch_output``: connect stops
reading its upstream). A response that fits ``bufferSize`` gets a ``content-length``.

Request heads (§4.1): ``method``, ``path``, ``scheme``, ``authority`` from the pseudo-headers,
``protocol`` undefined, ``:authority`` copied to ``headers.host`` when absent, ``cookie`` fields
joined with ``; `` (RFC 9113 §8.2.3). Request trailers are ``MessageEnd.tail = {headers}``;
a response tail with ``headers`` is sent as trailers.

Ends: a client RST_STREAM ends that stream's sub-pipeline; the connection closing ends all of
them; a sub-pipeline ending before answering gets the empty ``200`` (as HTTP/1); one ending in
the middle of its response resets its stream (INTERNAL_ERROR) where HTTP/1 must close the
connection. A response finished before its request resets the stream with NO_ERROR (RFC 9113
§8.1). A peer GOAWAY or a graceful shutdown lets open streams finish, refuses new ones
(REFUSED_STREAM), then sends GOAWAY and closes.

Differences from Pipy 0.70: window defaults are 64 KiB - 1 per stream (RFC 9113) and 1 MiB for
the connection (sizes accept Pipy's ``'1m'`` strings); at most 256 concurrent streams per
connection (SETTINGS_MAX_CONCURRENT_STREAMS); server push is never used; a request body over
serveHTTP's buffering limit gets ``413`` and its stream is reset; ``content-length`` is recomputed (as HTTP/1 does);
a ``101`` response on an HTTP/2 stream (meaningless there) is dropped.
"""
from __future__ import annotations

from collections import deque
from typing import Any

import h2.config
import h2.connection
import h2.events as ev
import h2.exceptions
import h2.settings
from h2.errors import ErrorCodes

from pipyd import log
from pipyd.events import Data, Message, MessageEnd, MessageStart, StreamEnd, output_events
from pipyd.js.coerce import to_string
from pipyd.js.values import JSArray, JSObject, undefined
from pipyd.pipeline import FAILED, FlowControl
from pipyd.units import parse_size

from .http_decode import store_header
from .http_encode import _status_of

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
UPGRADE_101 = b"HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: h2c\r\n\r\n"
DEFAULT_STREAM_WINDOW = 65535
DEFAULT_CONNECTION_WINDOW = 1 << 20
_MAX_WINDOW = (1 << 31) - 1
# connection-specific fields never sent in HTTP/2 (RFC 9113 §8.2.2); content-length is ours
_DROP = frozenset(("connection", "keep-alive", "proxy-connection", "transfer-encoding",
                   "upgrade", "content-length", "te"))
_H2Error = h2.exceptions.H2Error


def window_options(opts: Any) -> tuple[int, int]:
    """``(connectionWindowSize, streamWindowSize)`` from a demuxHTTP/serveHTTP options object."""
    def get(key: str, default: int, least: int) -> int:
        v = opts.get(key, undefined) if isinstance(opts, dict) else undefined
        if v is undefined or v is None:
            return default
        return max(least, min(_MAX_WINDOW, parse_size(v, key)))
    # the connection window only grows from the RFC's 65535 (WINDOW_UPDATE on stream 0)
    return get("connectionWindowSize", DEFAULT_CONNECTION_WINDOW, 65535), \
        get("streamWindowSize", DEFAULT_STREAM_WINDOW, 1)


def request_head(headers: list) -> JSObject:
    """The §4.1 request head of an HTTP/2 request (names arrive lower-case, validated by h2)."""
    h = JSObject()
    method = path = scheme = authority = undefined
    for k, v in headers:
        if k[0] == ":":
            if k == ":method":
                method = v
            elif k == ":path":
                path = v
            elif k == ":scheme":
                scheme = v
            elif k == ":authority":
                authority = v
        elif k == "cookie" and "cookie" in h:
            h["cookie"] += "; " + v
        else:
            store_header(h, k, v)
    if authority is not undefined and "host" not in h:
        h["host"] = authority
    return JSObject(protocol=undefined, headers=h, method=method, scheme=scheme,
                    authority=authority, path=path)


def header_fields(headers: Any, out: list) -> list:
    """Script headers as HTTP/2 fields: lower-case names, connection-specific ones dropped,
    ``set-cookie`` arrays one field each, CR/LF-bearing fields dropped (as HTTP/1 encoding)."""
    if isinstance(headers, dict):
        for k, v in headers.items():
            name = k.lower()
            if name in _DROP or not name or name[0] == ":":
                continue
            for value in (v if type(v) is JSArray else (v,)):
                s = to_string(value).strip(" \t")
                if "\r" in s or "\n" in s or "\r" in name or "\n" in name:
                    continue
                out.append((name, s))
    return out


class _StreamFlow(FlowControl):
    """One stream's back-pressure: pausing it stops delivering (and acknowledging) its DATA."""

    __slots__ = ("stream",)

    def __init__(self, stream: "H2Stream") -> None:
        super().__init__()
        self.stream = stream

    def resume_reading(self) -> None:
        s = self.stream
        s.conn.deliver(s)


class H2Stream:
    """One request/response exchange; also the output target of its sub-pipeline."""

    __slots__ = ("conn", "id", "pipeline", "flow", "head", "body", "tail", "held", "rx_done",
                 "rx_end_pending", "bodiless", "response", "headers_sent", "out", "out_size",
                 "ending", "trailers", "closed", "too_large")

    def __init__(self, conn: "Http2Connection", sid: int, head: JSObject) -> None:
        self.conn = conn
        self.id = sid
        self.pipeline: Any = None
        self.flow = _StreamFlow(self)
        self.head = head
        self.body: Data | None = None
        self.tail: Any = None
        self.held: deque = deque()  # (bytes, flow-controlled length) kept while paused
        self.rx_done = False  # the whole request was received
        self.rx_end_pending = False  # END_STREAM arrived while DATA was held
        self.bodiless = head["method"] == "HEAD"
        self.response: Any = None  # the response head until its HEADERS are sent
        self.headers_sent = False
        self.out: deque = deque()
        self.out_size = 0
        self.ending = False
        self.trailers: Any = None
        self.closed = False
        self.too_large = False

    def process(self, evt: Any) -> None:
        self.conn.on_response(self, evt)


class Http2Connection:
    """The HTTP/2 side of one demuxHTTP/serveHTTP connection (``server`` is that filter)."""

    __slots__ = ("server", "h2", "streams", "finished", "batching", "closed", "stopping",
                 "root_flow", "root_congested", "serve", "buffer_size", "upgrade_stream",
                 "upgrade_left")

    def __init__(self, server: Any, windows: tuple[int, int], settings_header: str | None = None,
                 upgrade_head: JSObject | None = None, upgrade_length: int = 0) -> None:
        self.server = server
        cfg = h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
        conn = self.h2 = h2.connection.H2Connection(cfg)
        conn_window, stream_window = windows
        conn.local_settings = h2.settings.Settings(client=False, initial_values={
            h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: stream_window,
            h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 256,
        })
        self.streams: dict[int, H2Stream] = {}
        self.finished: list = []
        self.batching = False
        self.closed = False
        self.stopping = False  # GOAWAY received or graceful shutdown: no new streams
        self.serve = getattr(server, "handler", None) is not None
        self.buffer_size = server.buffer_size
        self.upgrade_stream: H2Stream | None = None
        self.upgrade_left = upgrade_length  # HTTP/1 body bytes of the h2c request still to come
        if upgrade_head is None:
            conn.initiate_connection()
        else:
            conn.initiate_upgrade_connection(settings_header)
        if conn_window > 65535:
            conn.increment_flow_control_window(conn_window - 65535)
        self.root_congested = False
        self.root_flow = server.pipeline.flow
        if self.root_flow is not None:
            self.root_flow.watch_output(self._root_output_congested)
        if upgrade_head is not None:
            server.next.process(Data.from_bytes(UPGRADE_101 + conn.data_to_send()))
            s = self.upgrade_stream = self._open(1, upgrade_head)
            if s is not None and s.pipeline is not None:
                s.pipeline.input(MessageStart(upgrade_head))

    # -- input from the connection --

    def feed(self, data: bytes) -> None:
        if self.closed:
            return
        if self.upgrade_left:
            # llhttp hands over right after the upgrade request's head: its body comes first
            n = self.upgrade_left
            self.upgrade_left = max(0, n - len(data))
            self._upgrade_body(data[:n])
            data = data[n:]
            if not data:
                return
        self.batching = True
        try:
            try:
                events = self.h2.receive_data(data)
            except _H2Error as e:  # the peer broke HTTP/2: h2 queued the GOAWAY
                log.debug(f"[http2] protocol error: {e}")
                return self.close()
            for e in events:
                self._event(e)
                if self.closed:
                    return
        finally:
            self.batching = False
            self._send()
            self._end_finished()

    def _upgrade_body(self, b: bytes) -> None:
        """The HTTP/1 body of the h2c upgrade request (stream 1), then its end."""
        s = self.upgrade_stream
        if s is not None and not s.closed and b:
            self._request_data(s, b, 0)
        if not self.upgrade_left:
            self.upgrade_end()

    def upgrade_end(self) -> None:
        """The h2c upgrade request is complete (once its body, if any, has come)."""
        s = self.upgrade_stream
        if s is None or self.upgrade_left:
            return
        self.upgrade_stream = None
        if not s.closed:
            self._request_end(s)
        self._send()

    def peer_closed(self) -> None:
        self.close()

    def shutdown(self) -> None:
        """Graceful stop (§1.6): in-flight streams finish, then GOAWAY and close."""
        self.stopping = True
        for s in list(self.streams.values()):
            if s.pipeline is not None:
                s.pipeline.shutdown()
        self._maybe_done()

    def _event(self, e: Any) -> None:
        t = type(e)
        if t is ev.DataReceived:
            s = self.streams.get(e.stream_id)
            if s is None or s.closed:
                self._ack(e.flow_controlled_length, None)
            else:
                self._request_data(s, e.data, e.flow_controlled_length)
        elif t is ev.RequestReceived:
            if self.stopping:
                self._reset(e.stream_id, ErrorCodes.REFUSED_STREAM)
                return
            head = request_head(e.headers)
            s = self._open(e.stream_id, head)
            if s is not None and s.pipeline is not None:
                s.pipeline.input(MessageStart(head))
        elif t is ev.StreamEnded:
            s = self.streams.get(e.stream_id)
            if s is not None and not s.closed:
                if s.held:
                    s.rx_end_pending = True
                else:
                    self._request_end(s)
        elif t is ev.WindowUpdated or t is ev.RemoteSettingsChanged:
            sid = getattr(e, "stream_id", 0)
            if sid:
                s = self.streams.get(sid)
                if s is not None:
                    self._flush(s)
            else:
                for s in list(self.streams.values()):
                    if s.out:
                        self._flush(s)
        elif t is ev.TrailersReceived:
            s = self.streams.get(e.stream_id)
            if s is not None:
                s.tail = JSObject(headers=request_head(e.headers)["headers"])
        elif t is ev.StreamReset:
            s = self.streams.get(e.stream_id)
            if s is not None:
                self._drop(s)
        elif t is ev.ConnectionTerminated:
            self.stopping = True
            self._maybe_done()

    # -- requests --

    def _open(self, sid: int, head: JSObject) -> H2Stream:
        s = H2Stream(self, sid, head)
        self.streams[sid] = s
        if not self.serve:
            srv = self.server
            p = srv.pipeline
            s.pipeline = srv.sub_layouts[0].instantiate(p.context.clone(), s, (), s.flow,
                                                        p.lineage)
            if self.root_congested:
                s.flow.output_congested(True)
        return s

    def _request_data(self, s: H2Stream, b: bytes, length: int) -> None:
        if self.serve:
            self._ack(length, s)
            if s.too_large:
                return
            if s.body is None:
                s.body = Data.from_bytes(b)
            else:
                s.body.append_bytes(b)
            if s.body.size > self.server.max_body_size:
                s.too_large = True
                s.body = None
                self._respond(s, JSObject(status=413, headers=JSObject()), None)
            return
        if s.flow.paused or s.held:
            s.held.append((b, length))
            return
        s.pipeline.input(Data.from_bytes(b))
        self._ack(length, s)

    def deliver(self, s: H2Stream) -> None:
        """The stream's sub-pipeline can take input again: held DATA, then a held end."""
        held = s.held
        while held and not s.flow.paused and not s.closed:
            b, length = held.popleft()
            s.pipeline.input(Data.from_bytes(b))
            self._ack(length, s)
        if not held and s.rx_end_pending and not s.closed:
            s.rx_end_pending = False
            self._request_end(s)
        self._send()

    def _request_end(self, s: H2Stream) -> None:
        s.rx_done = True
        if not self.serve:
            s.pipeline.input(MessageEnd(s.tail))
            return
        if s.too_large:
            return
        srv = self.server
        h = srv.handler
        if type(h) is Message:
            msg: Any = h
        else:
            body = s.body
            msg = srv.callback(h, Message(s.head, Data.from_chunks([]) if body is None else body,
                                          s.tail))
            if msg is FAILED:
                return self._respond(s, JSObject(status=500, headers=JSObject()), None)
            if type(msg) is not Message:
                log.error("[serveHTTP] handler did not return a valid message")
                return self._respond(s, JSObject(), None)
        for evt in output_events(msg):
            self.on_response(s, evt)

    def _respond(self, s: H2Stream, head: Any, body: Any) -> None:
        self.on_response(s, MessageStart(head))
        if body is not None:
            self.on_response(s, body)
        self.on_response(s, MessageEnd())

    def _ack(self, length: int, s: H2Stream | None) -> None:
        """Give window back once the data was consumed (RFC 9113 §5.2)."""
        if length:
            try:
                self.h2.acknowledge_received_data(length, s.id if s is not None else 1)
            except (_H2Error, KeyError):
                pass  # the stream is gone: h2 still credits the connection window

    # -- responses --

    def on_response(self, s: H2Stream, evt: Any) -> None:
        if s.closed or self.closed:
            return
        t = type(evt)
        if t is Data:
            if s.response is None and not s.headers_sent or s.bodiless or s.ending:
                return
            size = evt.size
            if size:
                s.out.extend(evt.chunks)
                s.out_size += size
                if not s.headers_sent and s.out_size > self.buffer_size:
                    self._send_headers(s, None)
                if s.headers_sent:
                    self._flush(s)
        elif t is MessageStart:
            if s.headers_sent or s.response is not None:
                return
            head = evt.head if isinstance(evt.head, dict) else JSObject()
            status = _status_of(head)
            if status < 200:
                if status != 101:  # interim (1xx) responses go out at once
                    self._call(s, self.h2.send_headers, s.id,
                               header_fields(head.get("headers"), [(":status", str(status))]))
            else:
                s.response = head
        elif t is MessageEnd:
            if s.response is None and not s.headers_sent:
                return
            tail = evt.tail
            if isinstance(tail, dict) and isinstance(tail.get("headers"), dict):
                s.trailers = header_fields(tail["headers"], [])
            s.ending = True
            if not s.headers_sent:
                self._send_headers(s, s.out_size)
            self._flush(s)
        elif t is StreamEnd:
            if s.headers_sent or s.response is not None:
                if not s.ending:  # cut off mid-response: only this stream is lost
                    self._reset(s.id, ErrorCodes.INTERNAL_ERROR)
                    self._drop(s)
            else:
                self._respond(s, JSObject(), None)  # §4.5: the empty 200
        self._send()

    def _send_headers(self, s: H2Stream, length: int | None) -> None:
        head = s.response
        s.response = None
        s.headers_sent = True
        status = _status_of(head)
        fields = [(":status", str(status))]
        headers = head.get("headers")
        nobody = s.bodiless or status == 204 or status == 304
        if nobody:
            s.out.clear()
            s.out_size = 0
            cl = headers.get("content-length") if isinstance(headers, dict) else None
            if cl is not None and s.bodiless:  # HEAD keeps the script's length (as HTTP/1)
                fields.append(("content-length", to_string(cl)))
        elif length is not None:
            fields.append(("content-length", str(length)))
        header_fields(headers, fields)
        end = s.ending and not s.out and s.trailers is None
        self._call(s, self.h2.send_headers, s.id, fields, end)
        if end:
            self._complete(s)

    def _flush(self, s: H2Stream) -> None:
        """Send buffered DATA as far as the windows allow; finish the stream when all is out."""
        if s.closed or not s.headers_sent:
            return
        out = s.out
        conn = self.h2
        while out:
            try:
                room = min(conn.local_flow_control_window(s.id), conn.max_outbound_frame_size)
            except _H2Error:
                return self._drop(s)
            if room <= 0:
                break
            chunk = out[0]
            n = len(chunk)
            if n <= room:
                out.popleft()
            else:
                out[0] = chunk[room:]
                chunk = chunk[:room]
                n = room
            s.out_size -= n
            last = not out and s.ending and s.trailers is None
            if not self._call(s, conn.send_data, s.id, chunk, last):
                return
            if last:
                return self._complete(s)
        self._congestion(s)
        if not out and s.ending:
            if s.trailers is not None:
                if self._call(s, conn.send_headers, s.id, s.trailers, True):
                    self._complete(s)
            elif self._call(s, conn.end_stream, s.id):
                self._complete(s)

    def _call(self, s: H2Stream, fn: Any, *args: Any) -> bool:
        try:
            fn(*args)
            return True
        except _H2Error as e:  # e.g. the peer reset the stream meanwhile
            log.debug(f"[http2] stream {s.id}: {e}")
            self._drop(s)
            return False

    def _congestion(self, s: H2Stream) -> None:
        """Report this stream's output congestion to its sub-pipeline (connect pauses)."""
        flow = s.flow
        if flow.congested:
            if s.out_size <= self.buffer_size // 2 and not self.root_congested:
                flow.output_congested(False)
        elif s.out_size > self.buffer_size or self.root_congested:
            flow.output_congested(True)

    def _root_output_congested(self, flag: bool) -> None:
        self.root_congested = flag
        for s in list(self.streams.values()):
            self._congestion(s)

    # -- stream and connection ends --

    def _complete(self, s: H2Stream) -> None:
        """The response is fully sent."""
        if not s.rx_done:  # RFC 9113 §8.1: the rest of the request is not needed
            self._reset(s.id, ErrorCodes.NO_ERROR)
        if s.flow.congested:
            s.flow.output_congested(False)
        self._drop(s)

    def _drop(self, s: H2Stream) -> None:
        if s.closed:
            return
        s.closed = True
        s.out.clear()
        s.held.clear()
        self.streams.pop(s.id, None)
        if s.pipeline is not None:
            self.finished.append(s.pipeline)  # ended outside its own output call
            s.pipeline = None
        if not self.batching:
            self._end_finished()
        self._maybe_done()

    def _reset(self, sid: int, code: int) -> None:
        try:
            self.h2.reset_stream(sid, code)
        except _H2Error:
            pass

    def _maybe_done(self) -> None:
        if self.stopping and not self.streams and not self.closed:
            try:
                self.h2.close_connection()
            except _H2Error:
                pass
            self.close()

    def _send(self) -> None:
        if not self.batching and not self.closed:
            data = self.h2.data_to_send()
            if data:
                self.server.next.process(Data.from_bytes(data))

    def _end_finished(self) -> None:
        while self.finished:
            done = self.finished
            self.finished = []
            for p in done:
                p.end()

    def close(self) -> None:
        """Write what is queued, end every stream's sub-pipeline, close the connection."""
        if self.closed:
            return
        data = self.h2.data_to_send()
        if data:
            self.server.next.process(Data.from_bytes(data))
        self.abort()
        self.server._close()

    def abort(self) -> None:
        """End every sub-pipeline (the filter is reset, or the connection is gone)."""
        self.closed = True
        if self.root_flow is not None:
            self.root_flow.unwatch_output(self._root_output_congested)
            self.root_flow = None
        streams = list(self.streams.values())
        self.streams.clear()
        for s in streams:
            s.closed = True
            if s.pipeline is not None:
                self.finished.append(s.pipeline)
                s.pipeline = None
        self._end_finished()


__all__ = ["Http2Connection", "H2Stream", "PREFACE", "header_fields", "request_head", "window_options"]
