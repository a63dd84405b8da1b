"""muxHTTP: the HTTP/1 client multiplexer (reference §2.2 row 51, §4.6).

Input: request messages; output: the matching responses. Requests of every instance at this
place of the layout that share a key go to one session sub-pipeline (``filters/mux.py``) as
encoded HTTP/1 bytes — normally ``.connect(target)`` — and its bytes are decoded back into
responses matched first-in first-out (pipelining).

- Each request body is buffered until its MessageEnd (§2.3) and sent with ``content-length``.
- HEAD answers are bodiless; CONNECT or Upgrade requests answered 101-299 turn the session
  into a tunnel owned by that request's filter, whose later Data goes through raw.
- ``Expect: 100-continue``: the body is buffered here anyway, so the client gets its
  ``100 Continue`` from us at once and the header is not sent upstream (whose own interim 100
  would be meaningless, so it is dropped). Other 1xx are passed on as interim responses.
- The upstream ending before a response head: every waiting request gets the §4.6 error
  response (``502 Connection Refused``, ``504 Gateway Timeout``…) or, for a clean close, an
  empty ``200`` (Pipy's quirk); one cut off mid-response gets ``StreamEnd`` (its client's
  connection must close). The session is dropped; the next request opens a new one.
- A filter instance borrows its session while it has requests in flight (or a tunnel), so an
  idle keep-alive client does not keep an upstream connection from its ``maxIdle``.
- Back-pressure from the client: the session's sub-pipeline runs with a ``FlowControl`` of its
  own whose output follows the client of the response being read — when that client's
  connection stops taking bytes, ``connect`` stops reading the upstream until it drains (as
  Pipy pauses the input that is producing the output). HTTP/1 responses on one connection are
  serial, so no other sharer could be served meanwhile anyway. Without this a slow reader of
  a big response made the worker hold the whole body (test_proxy_e2e's slow-reader test).
- ``version: 2`` makes the session an HTTP/2 connection with prior knowledge
  (``filters/http2_client.py``): the same buffered requests and ``Exchange`` bookkeeping, but
  concurrent streams instead of FIFO pipelining. ``connectionWindowSize``/``streamWindowSize``
  size its receive windows (as demuxHTTP's). A ``version`` function is asked per session, in
  the session's context, and may leave the choice pending (``mux_http_version.VersionSelector``).
  A CONNECT answered 2xx there makes only its stream a tunnel (RFC 9113 §8.5): the session
  gives ``tunnel_opened`` a sink for the client's later Data, and the connection stays shared.
"""
from __future__ import annotations

from collections import deque
from typing import Any

from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.js.values import JSObject, type_error, undefined
from pipyd.pipeline import FlowControl, deliver_message, expand_message
from pipyd.registry import register
from pipyd.units import parse_size

from .http import error_response_head
from .http2_server import window_options
from .http_codec import DEFAULT_BUFFER_SIZE, ResponseDecoder, request_head
from .mux import MuxBase, MuxOptions, MuxSession, defer

_new = object.__new__


def _header(head: Any, name: str) -> str:
    h = head.get("headers") if isinstance(head, dict) else None
    v = h.get(name) if isinstance(h, dict) else None
    return v.lower() if type(v) is str else ""


class Exchange:
    """One request in flight on a session, and where its response goes."""

    __slots__ = ("owner", "tunnel_ok", "started", "interim", "done", "session")

    def __init__(self, owner: "MuxHTTP", tunnel_ok: bool) -> None:
        self.owner: MuxHTTP | None = owner
        self.session: HTTPSession | None = None
        self.tunnel_ok = tunnel_ok  # CONNECT or Upgrade: a 101-299 answer makes a tunnel
        self.started = False
        self.interim = 0  # status of the 1xx being relayed (or swallowed, for 100)
        self.done = False

    def emit(self, evt: Any) -> None:
        o = self.owner
        if o is not None:
            o.next.process(evt)


class HTTPSession(MuxSession):
    """A pipelined HTTP/1 client connection through the session sub-pipeline."""

    __slots__ = ("decoder", "queue", "tunnel", "flow", "followed", "live", "follow_fn")

    def __init__(self) -> None:
        super().__init__()
        self.decoder = ResponseDecoder(self)
        self.queue: deque[Exchange] = deque()
        self.tunnel: Exchange | None = None
        self.flow = FlowControl()
        self.followed: Any = None  # the client FlowControl we watch
        self.live = False  # whether its congestion applies now (its response is streaming)
        self.follow_fn = self._client_congested

    def session_flow(self) -> FlowControl:
        return self.flow

    # -- back-pressure: follow the client whose response is streaming --
    #
    # A session usually answers one client after another of the same connection (its key is
    # that connection's, or a balancer resource held per connection), so the watch on the
    # client's FlowControl stays registered between responses and is only switched off
    # (``live``) when a response ends; it is moved when another client is answered, and
    # removed when the session ends or the client goes.

    def _client_congested(self, flag: bool) -> None:
        if self.live:
            self.flow.output_congested(flag)

    def follow(self, ex: Exchange) -> None:
        o = ex.owner
        flow = o.pipeline.flow if o is not None else None
        if flow is not self.followed:
            self.detach()
            if flow is not None:
                self.followed = flow
                self.live = True
                flow.watch_output(self.follow_fn)  # calls it at once if already congested
            return
        if flow is not None:
            self.live = True
            if flow.congested:
                self.flow.output_congested(True)

    def unfollow(self) -> None:
        """The followed client's response is over: its congestion no longer applies."""
        if self.live:
            self.live = False
            if self.flow.congested:
                self.flow.output_congested(False)

    def detach(self) -> None:
        """Stop watching the client's FlowControl altogether."""
        self.unfollow()
        flow = self.followed
        if flow is not None:
            self.followed = None
            flow.unwatch_output(self.follow_fn)

    def forget(self, ex: Exchange) -> None:
        """``ex``'s client has gone: its response is read and dropped, at full speed."""
        if self.followed is not None and (self.tunnel is ex or (self.queue and self.queue[0] is ex)):
            self.detach()

    def send(self, ex: Exchange, head: Any, body: list[bytes], size: int, is_head: bool) -> None:
        ex.session = self
        self.queue.append(ex)
        self.decoder.expect(is_head, ex.tunnel_ok)
        self.messages += 1
        d = _new(Data)  # Data.from_chunks inlined
        d.chunks = [request_head(head, size), *body] if body else [request_head(head, size)]
        d.size = len(d.chunks[0]) + size
        self.pipeline.head.process(d)

    # -- the upstream's bytes --

    def process(self, evt: Any) -> None:
        # MuxSession.process with on_output inlined for the upstream's Data (every response)
        if type(evt) is Data:
            if not self.dead:
                feed = self.decoder.feed
                for chunk in evt.chunks:
                    feed(chunk)
        else:
            MuxSession.process(self, evt)

    def on_output(self, evt: Any) -> None:
        if type(evt) is Data:
            feed = self.decoder.feed
            for chunk in evt.chunks:
                feed(chunk)

    def on_message_start(self, head: JSObject) -> None:
        q = self.queue
        if not q:
            return  # an answer nobody asked for: dropped
        ex = q[0]
        status = head.get("status", 200)
        if status < 200 and status != 101:
            ex.interim = status
            if status != 100:
                ex.emit(MessageStart(head))
            return
        ex.started = True
        if status == 101 or (ex.tunnel_ok and status < 300):
            ex.interim = -1  # the tunnel opens with this message's end
        self.follow(ex)
        o = ex.owner
        if o is not None:
            evt = _new(MessageStart)  # MessageStart(head) inlined: head is a JSObject here
            evt.head = head
            o.next.process(evt)

    def on_body(self, b: bytes) -> None:
        q = self.queue
        if q:
            ex = q[0]
            if ex.started:
                o = ex.owner
                if o is not None:
                    d = _new(Data)  # Data.from_bytes inlined; the decoder never gives b""
                    d.chunks = [b]
                    d.size = len(b)
                    o.next.process(d)

    def on_message_end(self, tail: Any) -> None:
        q = self.queue
        if not q:
            return
        ex = q[0]
        interim = ex.interim
        if interim > 0:
            if interim != 100:
                ex.emit(MessageEnd(tail))
            ex.interim = 0
            return
        q.popleft()
        ex.done = True
        if interim != -1 and self.live:  # a tunnel keeps following its client
            self.unfollow()
        o = ex.owner
        if o is not None:
            o.next.process(MessageEnd(tail))
        if interim == -1:
            self._open_tunnel(ex)
        elif ex.owner is not None:
            ex.owner.exchange_done()

    def on_message(self, head: JSObject, body: bytes | None) -> None:
        """A whole final response from the decoder: ``on_message_start``, ``on_body`` and
        ``on_message_end`` in one, handed to its requester in one piece. Nothing is streamed,
        so the requester's client is not followed for back-pressure (``follow`` would only be
        undone by ``unfollow`` before returning)."""
        q = self.queue
        if not q:
            return  # an answer nobody asked for: dropped
        ex = q[0]
        if ex.interim or (ex.tunnel_ok and head["status"] < 300):
            # relaying a 1xx, or the answer that opens a tunnel: the streaming steps
            self.on_message_start(head)
            if body:
                self.on_body(body)
            self.on_message_end(None)
            return
        q.popleft()
        ex.started = ex.done = True
        if self.live:
            self.unfollow()
        o = ex.owner
        if o is not None:
            if body:
                d = _new(Data)  # Data.from_bytes inlined
                d.chunks = [body]
                d.size = len(body)
            else:
                d = None
            deliver_message(o.next, head, d, None)
            if ex.owner is not None:
                ex.owner.exchange_done()

    def on_tunnel(self, b: bytes) -> None:
        if self.tunnel is not None:
            self.tunnel.emit(Data.from_bytes(b))

    def on_error(self, status: int, reason: str) -> None:
        """A malformed response: this connection cannot be trusted any more."""
        self.detach()
        if self.queue:
            ex = self.queue.popleft()
            if ex.started:  # cut off: its client connection cannot be kept
                ex.done = True
                ex.emit(StreamEnd("ReadError"))
                if ex.owner is not None:
                    ex.owner.exchange_done()
            else:
                self._answer(ex, "ReadError")
        if not self.dead:
            self.close_with("ReadError")

    def _open_tunnel(self, ex: Exchange) -> None:
        self.tunnel = ex
        self.isolate()  # nobody else may send requests into a tunnel
        self._fail_queue("")
        if ex.owner is not None:
            ex.owner.tunnel_opened()

    # -- the upstream's end --

    def on_upstream_end(self, error: str) -> None:
        self.detach()
        if self.tunnel is not None:
            self.tunnel.emit(StreamEnd(error))
            return
        if self.queue and self.queue[0].started:
            self.decoder.feed_eof()  # a close-delimited body ends here; others were cut off
            if self.queue and self.queue[0].started:
                ex = self.queue.popleft()
                ex.done = True
                ex.emit(StreamEnd(error or "ConnectionReset"))
                if ex.owner is not None:
                    ex.owner.exchange_done()
        self._fail_queue(error)

    def close_with(self, error: str) -> None:
        self.detach()
        p = self.pipeline
        # drop() with the sub-pipeline's end after its StreamEnd (an ended pipeline drops
        # its input), as close() does
        self.dead = True
        self.isolate()
        self._fail_queue(error)
        if p is not None:
            p.input(StreamEnd())
            defer(p.end)

    def _fail_queue(self, error: str) -> None:
        q, self.queue = self.queue, deque()
        for ex in q:
            self._answer(ex, error)

    @staticmethod
    def _answer(ex: Exchange, error: str) -> None:
        """§4.6: the error response for ``error``; a clean close gives an empty 200."""
        ex.done = True
        if error:
            head = error_response_head(error)
        else:
            head = JSObject(protocol="HTTP/1.1", headers=JSObject(), status=200, statusText="OK")
        ex.emit(MessageStart(head))
        ex.emit(MessageEnd())
        if ex.owner is not None:
            ex.owner.exchange_done()


def _h2_session(options: "MuxHTTPOptions") -> MuxSession:
    from .http2_client import H2ClientSession  # imports this module: a late import
    return H2ClientSession(options.windows)


class MuxHTTPOptions(MuxOptions):
    __slots__ = ("buffer_size", "version", "windows")

    def __init__(self, opts: Any, name: str) -> None:
        super().__init__(opts, name)
        v = self.extra.get("bufferSize", undefined)
        self.buffer_size = DEFAULT_BUFFER_SIZE if v is undefined or v is None else parse_size(v, "bufferSize")
        v = self.extra.get("version", undefined)
        if v is undefined or v is None:
            v = 1
        if not callable(v) and v != 1 and v != 2:
            raise type_error("muxHTTP: version must be 1, 2 or a function")
        self.version = v
        self.windows = window_options(self.extra)  # HTTP/2 receive windows


_CONTINUE = JSObject(status=100, statusText="Continue", headers=JSObject())


@register("muxHTTP")
class MuxHTTP(MuxBase):
    __slots__ = ("head", "body", "size", "inflight", "tunneling", "early", "exchanges")

    def make_options(self, opts: Any) -> MuxOptions:
        return MuxHTTPOptions(opts, self.NAME)

    def init_state(self) -> None:
        self.key = undefined  # MuxBase.init_state inlined (a clone per proxied request)
        self.session = None
        self.head: Any = None
        self.body: list[bytes] = []
        self.size = 0
        self.inflight = 0
        # False; True: the HTTP/1 session is our tunnel; a callable: the sink of an HTTP/2
        # tunnel stream (one slot for both keeps the per-request clone as cheap as before)
        self.tunneling: Any = False
        self.early: list[Any] = []  # client bytes after a CONNECT, before its answer
        self.exchanges: list[Exchange] = []

    def reset(self) -> None:
        for ex in self.exchanges:
            if ex.session is not None and not ex.done:
                ex.session.forget(ex)
            ex.owner = None
        s = self.session
        if s is not None:
            if self.tunneling is True:  # (an HTTP/2 tunnel was cancelled by forget())
                if s.tunnel is not None:
                    s.tunnel.owner = None
                s.close()
            self.session = None  # MuxBase.reset inlined
            self.smap.give_back(s)
        self.init_state()

    def new_session(self) -> MuxSession:
        o = self.smap.options
        v = o.version
        if v == 1:
            return HTTPSession()
        if v == 2:
            return _h2_session(o)
        from .mux_http_version import VersionSelector  # imports this module: a late import
        return VersionSelector(o)  # a function: asked once the session's pipeline exists

    def process(self, evt: Any) -> None:
        t = type(evt)
        if self.tunneling:
            if t is Data or t is StreamEnd:
                sink = self.tunneling
                if sink is True:
                    s = self.session
                    if s is not None and not s.dead:
                        s.pipeline.input(evt)
                else:
                    sink(evt)
            return
        if t is MessageStart:
            if self.head is None:
                self.head = self._start(evt.head)
                if self.body:
                    self.body = []
                self.size = 0
        elif t is Data:
            if self.head is not None:
                self.body.extend(evt.chunks)
                self.size += evt.size
            elif self.inflight and self.exchanges and self.exchanges[-1].tunnel_ok:
                self.early.append(evt)  # tunnel bytes sent before the answer came back
        elif t is MessageEnd:
            head = self.head
            if head is not None:
                body, size = self.body, self.size
                self.head = None
                if body:
                    self.body = []
                self.size = 0
                self._send(head, body, size)
        elif t is StreamEnd and (self.early or (
                self.inflight and self.exchanges and self.exchanges[-1].tunnel_ok)):
            # held like tunnel bytes: the end of a client's input that came before (or while)
            # the CONNECT answer opened the tunnel must reach the upstream after it opens
            self.early.append(evt)
        # a StreamEnd in the middle of a request drops it: a partial body cannot be framed

    def process_message(self, head: Any, body: Any, tail: Any) -> None:
        """A whole request (``deliver_message``): ``process`` of its MessageStart and
        MessageEnd (and Data) with nothing to buffer in between."""
        if self.tunneling or self.head is not None:
            return expand_message(self.process, head, body, tail)
        head = self._start(head)
        if body is not None and body.size:
            self._send(head, body.chunks, body.size)
        else:
            self._send(head, self.body, 0)  # (the empty list)

    def _start(self, head: Any) -> Any:
        """A request's head as it will be sent (an object); ``Expect: 100-continue`` is
        answered here at once, since the body is buffered anyway."""
        if not isinstance(head, dict):
            head = JSObject()
        h = head.get("headers")
        # (no truth test on h: a JSObject's __bool__ is a Python call)
        if (type(h) is JSObject or isinstance(h, dict)) and "expect" in h \
                and _header(head, "expect") == "100-continue":
            self.next.process(MessageStart(_CONTINUE))
            self.next.process(MessageEnd())
        return head

    def _send(self, head: Any, body: list[bytes], size: int) -> None:
        h = head.get("headers")
        if type(h) is not JSObject and not isinstance(h, dict):
            h = None
        if h is not None and "expect" in h:
            head = JSObject(head)
            head["headers"] = JSObject((k, v) for k, v in h.items() if k != "expect")
        method = head.get("method")
        tunnel_ok = method == "CONNECT" or (
            h is not None and "upgrade" in h and "upgrade" in _header(head, "connection")
            and bool(_header(head, "upgrade")))
        ex = _new(Exchange)  # Exchange(self, tunnel_ok) without the __init__ call
        ex.owner = self
        ex.session = None
        ex.tunnel_ok = tunnel_ok
        ex.started = ex.done = False
        ex.interim = 0
        exchanges = self.exchanges
        if exchanges:
            exchanges = self.exchanges = [e for e in exchanges if not e.done]
        exchanges.append(ex)
        self.inflight += 1
        s = self.session
        if s is None or s.dead:
            s = self.acquire()
        s.send(ex, head, body, size, method == "HEAD")

    # -- called by the session --

    def exchange_done(self) -> None:
        self.inflight -= 1
        if self.inflight <= 0 and not self.tunneling:
            self.inflight = 0
            s = self.session
            if s is not None:
                self.session = None
                self.smap.give_back(s)

    def tunnel_opened(self, sink: Any = None) -> None:
        """The answer to our CONNECT/Upgrade opened a tunnel: the client's Data goes raw to
        the HTTP/1 session's connection, or to ``sink`` (an HTTP/2 stream)."""
        self.tunneling = True if sink is None else sink
        self.inflight = 0
        early, self.early = self.early, []
        for evt in early:
            self.process(evt)

    def tunnel_closed(self) -> None:
        """An HTTP/2 tunnel stream is over: the session is given back (others go on using it);
        what the client still sends is dropped."""
        self.tunneling = False
        self.early = []
        s = self.session
        if s is not None:
            self.session = None
            self.smap.give_back(s)
