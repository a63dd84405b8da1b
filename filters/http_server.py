"""The HTTP/1 server filters demuxHTTP and serveHTTP (reference §4.5); HTTP/2 in http2_server.py.

Both decode requests from the connection's bytes and encode the responses back, in request
order (pipelining: requests are dispatched at once, a response waits until every earlier one
was written). demuxHTTP gives each request a sub-pipeline with a cloned context; serveHTTP
buffers each request and calls its handler (``serveHTTP(f)`` ≈ ``demuxHTTP().to($ =>
$.replaceMessage(f))``).

Per request (``_Request``): ``final`` — the response closes the connection (RFC 9112 §9.3 via
llhttp; a protocol error; graceful shutdown); ``bodiless`` — HEAD (and, for CONNECT or
Upgrade, the 101-299 answer that opens the tunnel: other answers keep their content, RFC 9110
§9.3.6);
``upgrade`` — a 101-299 answer turns the connection into a tunnel to that request's
sub-pipeline, any other answer resumes HTTP. A sub-pipeline that ends before answering gets an
empty ``200``; one that ends in the middle of its response closes the connection (the message
cannot be completed). A protocol error is answered with its status and ``connection: close``.

HTTP/2 hand-over (the ``h2`` slot): a fresh connection is sniffed (``_SNIFF``) until its first
bytes show the HTTP/2 preface or not; an ``Upgrade: h2c`` first request switches at its head.
Then ``h2`` holds the ``Http2Connection`` that takes every later byte; else it is None.
"""
from __future__ import annotations

from collections import deque
from typing import Any

from pipyd import log
from pipyd.events import Data, Message, MessageEnd, MessageStart, StreamEnd, output_events
from pipyd.js.values import JSObject, type_error
from pipyd.pipeline import FAILED, JointFilter, deliver_message, expand_message
from pipyd.registry import register

from .http import buffer_size_option, options_arg
from .http2_server import PREFACE, Http2Connection, window_options
from .http_codec import DEFAULT_MAX_BODY_SIZE, NO_BODY, MessageEncoder, RequestDecoder
from .http_encode import (PLAIN_HEADS_CLOSE, PLAIN_HEADS_KEEP_ALIVE, REASONS, _asks_for_chunked,
                          _status_of, encode_response_head, plain_response_head)

_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
_JOIN_LIMIT = 16384  # a whole response up to this size is written as one joined bytes object
_new = object.__new__
_SNIFF: Any = object()  # ``h2`` before the first bytes told HTTP/1 from HTTP/2


class _Request:
    """One request in flight; also the output target of its sub-pipeline."""

    __slots__ = ("server", "pipeline", "final", "bodiless", "upgrade", "http10", "pending",
                 "status", "started", "done", "tunnel", "head", "body", "too_large")

    def __init__(self, server: "_HTTPServer", final: bool, bodiless: bool, upgrade: bool,
                 http10: bool) -> None:
        self.server = server
        self.pipeline: Any = None
        self.final = final
        self.bodiless = bodiless
        self.upgrade = upgrade
        self.http10 = http10
        self.pending: list | None = None  # response events waiting for earlier responses
        self.status = 0
        self.started = False
        self.done = False
        self.tunnel = False
        self.head: Any = None
        self.body: Any = None
        self.too_large = False

    def process(self, evt: Any) -> None:
        self.server.on_response(self, evt)

    def process_message(self, head: Any, body: Any, tail: Any) -> None:
        self.server.on_response_message(self, head, body, tail)


class _HTTPServer(JointFilter):
    __slots__ = ("buffer_size", "decoder", "encoder", "queue", "current", "closed",
                 "input_ended", "shutting", "flushing", "finished", "h2_windows", "h2", "sniffed")
    CONFIG = ("buffer_size", "h2_windows")

    def reset(self) -> None:
        h2 = getattr(self, "h2", None)
        if h2 is not None and h2 is not _SNIFF:
            h2.abort()
        self.h2: Any = _SNIFF
        self.sniffed = b""
        for r in getattr(self, "queue", ()):
            if r.pipeline is not None:
                r.pipeline.end()
        for p in getattr(self, "finished", ()):
            p.end()
        self.decoder = RequestDecoder(self)
        self.encoder = MessageEncoder(True, self.buffer_size)
        self.queue: deque[_Request] = deque()
        self.current: _Request | None = None
        self.closed = False
        self.input_ended = False
        self.shutting = False
        self.flushing = False
        self.finished: list = []

    # -- connection input --

    def process(self, evt: Any) -> None:
        if self.finished:
            self._end_finished()
        if self.closed:
            return
        if self.h2 is not None:  # -- HTTP/2 hand-over (http2_server.py) --
            if self.h2 is not _SNIFF:
                return self._h2_input(evt)
            evt = self._sniff(evt)
            if evt is None:
                return
        t = type(evt)
        if t is Data:
            feed = self.decoder.feed
            for chunk in evt.chunks:
                feed(chunk)
                if self.closed:
                    return
        elif t is StreamEnd:
            self.input_ended = True
            tunnel = self.queue[0] if self.queue and self.queue[0].tunnel else None
            if tunnel is not None:
                tunnel.pipeline.input(evt)
                return
            self.decoder.feed_eof()
            if not self.queue:
                self._close()

    def shutdown(self) -> None:
        """Graceful stop: the last queued response closes the connection; idle ones close now.
        Requests in flight are told too, so an endless response (an SSE stream) can end
        instead of holding the stop for its whole grace period."""
        self.shutting = True
        if self.h2 is not None and self.h2 is not _SNIFF:
            return self.h2.shutdown()
        if not self.queue:
            self._close()
            return
        self.queue[-1].final = True
        for r in list(self.queue):
            if r.pipeline is not None:
                r.pipeline.shutdown()

    # -- decoder sink --

    def on_message_start(self, head: JSObject) -> None:
        if "http2-settings" in head["headers"] and self._h2c_upgrade(head):
            return
        r = self.current = self._enqueue(head)
        self.request_start(r, head)

    def _enqueue(self, head: JSObject) -> _Request:
        """A new request in line, as the decoder has just read its head."""
        d = self.decoder
        r = _Request(self, not d.keep_alive or self.shutting, head["method"] == "HEAD", d.upgrade,
                     d.protocol == "HTTP/1.0")
        self.queue.append(r)
        return r

    def on_body(self, b: bytes) -> None:
        r = self.current
        if r is not None:
            self.request_body(r, b)

    def on_message_end(self, tail: Any) -> None:
        r = self.current
        self.current = None
        if r is not None:
            self.request_end(r, tail)
        elif self.h2 is not None and self.h2 is not _SNIFF:
            self.h2.upgrade_end()  # the h2c upgrade request is stream 1

    def on_tunnel(self, b: bytes) -> None:
        r = self.queue[0] if self.queue else None
        if r is not None and r.tunnel:
            r.pipeline.input(Data.from_bytes(b))
        elif self.h2 is not None and self.h2 is not _SNIFF:
            self.h2.feed(b)  # bytes after the h2c upgrade request: HTTP/2 frames

    # -- HTTP/2 hand-over (reference §4.5; the protocol is in http2_server.py) --

    def _sniff(self, evt: Any) -> Any:
        """The connection's first input: hand over to HTTP/2 on the preface (RFC 9113 §3.4),
        else return the event to decode as HTTP/1 (None while the first bytes still could be
        the preface)."""
        if type(evt) is not Data:
            self.h2 = None
            if self.sniffed:
                self.decoder.feed(self.sniffed)
            return evt
        b = self.sniffed + evt.to_bytes() if self.sniffed else evt.to_bytes()
        n = min(len(b), 24)
        if b[:n] != PREFACE[:n]:
            whole = not self.sniffed
            self.h2 = None
            self.sniffed = b""
            return evt if whole else Data.from_bytes(b)
        if n < 24:
            self.sniffed = b
            return None
        self.sniffed = b""
        self.h2 = Http2Connection(self, self.h2_windows)
        self.h2.feed(b)
        return None

    def _h2_input(self, evt: Any) -> None:
        t = type(evt)
        if t is Data:
            feed = self.h2.feed
            for chunk in evt.chunks:
                feed(chunk)
        elif t is StreamEnd:
            self.input_ended = True
            self.h2.peer_closed()

    def _h2c_upgrade(self, head: JSObject) -> bool:
        """``Upgrade: h2c`` (RFC 7540 §3.2) on an idle connection: switch at the head; the
        request becomes stream 1 (llhttp hands over before its body: a content-length body
        is read by the HTTP/2 side; a chunked one keeps the request HTTP/1). Otherwise
        served as HTTP/1."""
        h = head["headers"]
        up, conn, settings = h.get("upgrade"), h.get("connection"), h.get("http2-settings")
        length = h.get("content-length", "0")
        if type(up) is not str or up.strip().lower() != "h2c" or type(conn) is not str \
                or "upgrade" not in [c.strip().lower() for c in conn.split(",")] \
                or type(settings) is not str or self.queue or self.shutting \
                or "transfer-encoding" in h or not length.isdigit():
            return False
        h.pop("http2-settings", None)
        try:
            self.h2 = Http2Connection(self, self.h2_windows, settings.strip(), head, int(length))
        except Exception as e:  # a malformed HTTP2-Settings value: stay HTTP/1
            log.debug(f"[demuxHTTP] h2c upgrade refused: {e}")
            self.h2 = None
            return False
        self.current = None
        self.decoder.upgrade = True  # llhttp paused on the upgrade: later bytes are ours
        self.decoder.tunnel()
        return True

    def on_error(self, status: int, reason: str) -> None:
        r = self.current
        self.current = None
        if r is not None:
            self.request_abort(r)
        e = _Request(self, True, False, False, False)
        self.queue.append(e)
        self.respond(e, JSObject(status=status, statusText=reason, headers=JSObject()), None)

    # -- request hooks (demuxHTTP and serveHTTP differ here) --

    def request_start(self, r: _Request, head: JSObject) -> None:
        raise NotImplementedError

    def request_body(self, r: _Request, b: bytes) -> None:
        raise NotImplementedError

    def request_end(self, r: _Request, tail: Any) -> None:
        raise NotImplementedError

    def request_abort(self, r: _Request) -> None:
        if r.pipeline is not None:
            r.pipeline.input(StreamEnd("ReadError"))

    # -- responses --

    def respond(self, r: _Request, head: Any, body: Any) -> None:
        """Answer ``r`` with a whole message (serveHTTP, errors)."""
        out = self.on_response
        out(r, MessageStart(head))
        if body is not None and body.size:
            out(r, body)
        out(r, MessageEnd())

    def on_response(self, r: _Request, evt: Any) -> None:
        if r.done:
            if r.tunnel and not self.closed:
                self._tunnel_output(evt)
            return
        q = self.queue
        if r.pending or not q or q[0] is not r:
            if r.pending is None:
                r.pending = [evt]  # allocated on first use: most responses never wait
            else:
                r.pending.append(evt)
            if q and q[0] is r:
                self._flush()
            return
        self._write_event(r, evt)
        if r.done and not self.flushing:
            self._flush()

    def on_response_message(self, r: _Request, head: Any, body: Any, tail: Any) -> None:
        """A whole response (``_Request.process_message``): next in line, not streamed and
        small, it is encoded and written in one piece (``_write_whole``) without passing
        through the encoder's states; otherwise it goes the way of its three events."""
        q = self.queue
        size = body.size if body is not None else 0
        if r.started or r.done or r.pending or self.closed or not q or q[0] is not r \
                or size > self.buffer_size or (isinstance(head, dict) and _asks_for_chunked(head)):
            return expand_message(r.process, head, body, tail)
        self._write_whole(r, head, body, size)
        if q and q[0].pending and not self.flushing:
            self._flush()

    def _write_event(self, r: _Request, evt: Any) -> None:
        t = type(evt)
        # the encoder holds a small body and its head until the end: most starts and data
        # write nothing, so the empty case skips the _write call
        if t is Data:
            if r.started:
                pieces = self.encoder.data(evt.chunks, evt.size)
                if pieces:
                    self._write(pieces)
        elif t is MessageStart:
            if not r.started:
                r.started = True
                bodiless = r.bodiless or (r.upgrade and 100 < _status_of(evt.head) < 300)
                pieces = self.encoder.start(evt.head, r.final, bodiless, r.http10)
                r.status = self.encoder.status  # _status_of(head), worked out once by start()
                if pieces:
                    self._write(pieces)
        elif t is MessageEnd:
            if r.started:
                r.started = False
                self._write(self.encoder.end())
                if r.status >= 200 or r.status == 101:
                    self._complete(r, self.encoder.final_sent)
        elif t is StreamEnd:
            if r.started:  # cut off in the middle of its response: the framing is lost
                self._close()
            else:
                r.status = 200  # §4.5: the empty 200
                bodiless = r.bodiless or r.upgrade  # the empty 200 opens a tunnel
                self._write(self.encoder.start(None, r.final, bodiless, r.http10) + self.encoder.end())
                self._complete(r, self.encoder.final_sent)

    def _complete(self, r: _Request, final_sent: bool) -> None:
        r.done = True
        if r.upgrade and 100 < r.status < 300:
            r.tunnel = True  # stays at the head of the queue for the life of the connection
            if final_sent:
                self._close()
            else:
                self.decoder.tunnel()
            return
        self.queue.popleft()
        if r.pipeline is not None:
            self.finished.append(r.pipeline)  # ended on the next input: we are inside it now
        if final_sent:
            return self._close()
        if r.upgrade:
            self.decoder.resume()
        if not self.queue and (self.input_ended or self.shutting):
            # Stopping: a response whose head went out before the stop (it said keep-alive)
            # leaves the connection idle, and idle connections close (Pipy §1.6).
            self._close()

    def _flush(self) -> None:
        """Write the buffered responses that have become the head of the line."""
        if self.flushing:
            return
        self.flushing = True
        try:
            q = self.queue
            while q and not self.closed:
                r = q[0]
                if not r.pending:
                    break
                events = r.pending
                r.pending = None
                for evt in events:
                    if r.done:
                        if r.tunnel:
                            self._tunnel_output(evt)
                        continue
                    self._write_event(r, evt)
                if q and q[0] is r and not r.pending:
                    break
        finally:
            self.flushing = False

    def _write_whole(self, r: _Request, head: Any, body: Any, size: int) -> None:
        """Hot path (serveHTTP's hello benchmark, demuxHTTP's proxied responses): a whole small
        response at the head of the line is one bytes object (head and body joined) in one
        Data, with no events or encoder state in between, and the request is complete. A head
        object is encoded afresh every time (scripts may change a constant Message's head
        between requests); only the head of a head-less Message is cached."""
        final = r.final
        out = b""  # the whole response as one bytes object, or
        chunks = None  # its pieces (a large body is not copied)
        if head is None and not (r.bodiless or r.upgrade):  # new Message(body): a cached 200 head
            r.status = 200
            out = (PLAIN_HEADS_CLOSE if final else PLAIN_HEADS_KEEP_ALIVE).get(size) \
                or plain_response_head(size, final)
            if size:
                body_chunks = body.chunks
                if len(body_chunks) == 1 and size <= _JOIN_LIMIT:
                    out += body_chunks[0]
                else:
                    out, chunks = self._joined(out, body_chunks, size)
        else:
            if not isinstance(head, dict):
                head = None
            status = _status_of(head)
            if status < 200:
                for evt in output_events(Message(head, body)):
                    self.on_response(r, evt)
                return
            r.status = status
            bodiless = r.bodiless or (r.upgrade and 100 < status < 300)
            if bodiless or status == 204 or status == 304:
                out = encode_response_head(head, status, NO_BODY, final, bodiless)
            elif size:
                out, chunks = self._joined(encode_response_head(head, status, size, final),
                                           body.chunks, size)
            else:
                out = encode_response_head(head, status, 0, final)
        if not self.closed:
            d = _new(Data)
            if chunks is None:
                d.chunks = [out]
                d.size = len(out)
            else:
                d.chunks = chunks
                d.size = sum(map(len, chunks))
            self.next.process(d)
        if r.upgrade or r.pipeline is not None:
            return self._complete(r, final)
        # _complete() for a plain request with no sub-pipeline (serveHTTP's)
        r.done = True
        q = self.queue
        q.popleft()
        if final:
            self._close()
        elif not q and self.input_ended:
            self._close()

    @staticmethod
    def _joined(head: bytes, body_chunks: list[bytes], size: int) -> tuple[bytes, Any]:
        """``(whole, None)`` for a small response (one write); ``(b"", pieces)`` for a large
        one, whose body is not copied."""
        if size <= _JOIN_LIMIT:
            return b"".join([head, *body_chunks]), None
        return b"", [head, *body_chunks]

    def _tunnel_output(self, evt: Any) -> None:
        t = type(evt)
        if t is Data:
            self.next.process(evt)
        elif t is StreamEnd:
            self._close()

    def _write(self, pieces: list[bytes]) -> None:
        if pieces and not self.closed:
            self.next.process(Data.from_chunks(pieces))

    def _close(self) -> None:
        if not self.closed:
            self.closed = True
            self.next.process(StreamEnd())

    def _end_finished(self) -> None:
        done = self.finished
        self.finished = []
        for p in done:
            p.end()


@register("demuxHTTP")
class DemuxHTTP(_HTTPServer):
    """One sub-pipeline (cloned context) per request; its output message is the response."""

    __slots__ = ()

    @classmethod
    def configure(cls, config: Any, *args: Any) -> "DemuxHTTP":
        f = cls.__new__(cls)
        f.sub_layouts = None
        if args and type(args[0]) is str:  # the name-first form demuxHTTP('name', {...})
            f.add_sub_layout(args[0])
            args = args[1:]
        opts = options_arg("demuxHTTP", args)
        f.buffer_size = buffer_size_option(opts)
        f.h2_windows = window_options(opts)
        return f

    # ``pipeline.head.process`` rather than ``pipeline.input``: one Python frame less per event
    # (``input`` only forwards to the head, which an ended pipeline sets to DISCARD).
    def request_start(self, r: _Request, head: JSObject) -> None:
        p = r.pipeline = self.sub_pipeline(0, self.pipeline.context.clone(), output=r)
        p.head.process(MessageStart(head))

    def request_body(self, r: _Request, b: bytes) -> None:
        r.pipeline.head.process(Data.from_bytes(b))

    def request_end(self, r: _Request, tail: Any) -> None:
        r.pipeline.head.process(MessageEnd(tail))

    def on_message(self, head: JSObject) -> None:
        """The decoder's whole request (no body, no upgrade): ``on_message_start`` and
        ``on_message_end`` in one, handed to the sub-pipeline in one piece."""
        r = self._enqueue(head)
        p = r.pipeline = self.sub_pipeline(0, self.pipeline.context.clone(), output=r)
        deliver_message(p.head, head, None, None)


@register("serveHTTP")
class ServeHTTP(_HTTPServer):
    """``serveHTTP(handler)``: ``handler(request Message)`` returns the response Message (or
    the handler is a constant Message). A request body over ``max_body_size`` gets ``413``."""

    __slots__ = ("handler", "max_body_size")
    CONFIG = ("handler", "max_body_size")
    REQUIRES_TO = False

    @classmethod
    def configure(cls, config: Any, *args: Any) -> "ServeHTTP":
        if not args or not (callable(args[0]) or type(args[0]) is Message):
            raise type_error("serveHTTP: argument #1 expects a function or a Message")
        f = cls.__new__(cls)
        f.sub_layouts = None
        f.handler = args[0]
        opts = options_arg("serveHTTP", args, 1)
        f.buffer_size = buffer_size_option(opts)
        f.h2_windows = window_options(opts)
        f.max_body_size = DEFAULT_MAX_BODY_SIZE
        return f

    # -- decoder sink: the base class's on_message_start/on_message_end with serveHTTP's
    # request_start/request_end folded in (one call fewer each way on the daemon's hottest
    # path); the steps are the base class's.

    def on_message_start(self, head: JSObject) -> None:
        if "http2-settings" in head["headers"] and self._h2c_upgrade(head):
            return
        r = self.current = self._enqueue(head)
        r.head = head
        expect = head["headers"].get("expect")
        if expect is not None and type(expect) is str and expect.lower() == "100-continue" \
                and self.queue[0] is r:
            self.next.process(Data.from_bytes(_CONTINUE))  # we buffer: ask for the body now

    def request_body(self, r: _Request, b: bytes) -> None:
        if r.too_large:
            return
        body = r.body
        if body is None:
            body = r.body = Data.from_bytes(b)
        else:
            body.append_bytes(b)
        if body.size > self.max_body_size:
            r.too_large = True
            r.final = True
            r.body = None
            self.respond(r, JSObject(status=413, headers=JSObject()), None)

    def on_message_end(self, tail: Any) -> None:
        r = self.current
        if r is None:
            if self.h2 is not None and self.h2 is not _SNIFF:
                self.h2.upgrade_end()  # the h2c upgrade request is stream 1
            return
        self.current = None
        if not r.too_large:
            self._serve(r, tail)

    def on_message(self, head: JSObject) -> None:
        """The decoder's whole request (no body, no upgrade): ``on_message_start`` and
        ``on_message_end`` in one (an ``Expect`` header takes the two steps: its 100)."""
        if "expect" in head["headers"]:
            self.on_message_start(head)
            return self.on_message_end(None)
        r = self._enqueue(head)
        r.head = head
        self._serve(r, None)

    def _serve(self, r: _Request, tail: Any) -> None:
        """The handler's answer to the complete request ``r``, written."""
        h = self.handler
        if type(h) is Message:
            msg: Any = h
        else:
            body = r.body
            msg = self.callback(h, Message(r.head, Data.from_chunks([]) if body is None else body, tail))
            if msg is FAILED:  # the script threw (logged): a server error, not a silent 200
                return self.respond(r, JSObject(status=500, headers=JSObject()), None)
            if type(msg) is not Message:
                log.error("[serveHTTP] handler did not return a valid message")
                return self.respond(r, JSObject(), None)
        body = msg._body  # the slot behind Message.body (a property): always a Data or None
        size = body.size if body is not None else 0
        if self.queue[0] is r and not r.pending and size <= self.buffer_size:
            return self._write_whole(r, msg.head, body, size)
        for evt in output_events(msg):
            self.on_response(r, evt)

    def dump(self) -> str:
        return self.NAME


__all__ = ["DemuxHTTP", "ServeHTTP", "REASONS"]
