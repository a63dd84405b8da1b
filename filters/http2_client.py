"""HTTP/2 on the client side of muxHTTP (reference §4.6, ``version: 2``), on the sans-I/O ``h2``.

One ``H2ClientSession`` is one upstream HTTP/2 connection with prior knowledge (RFC 9113 §3.3):
the session sub-pipeline (normally ``connect()``, or ``connectTLS()`` with ALPN ``h2``) gets the
client preface and frames as ``Data`` and gives back the server's bytes. Requests of every
borrower are streams on it, answered concurrently (no FIFO as in HTTP/1):

- a request (its body buffered whole by muxHTTP, §2.3) becomes HEADERS — ``:method``,
  ``:scheme`` (``head.scheme`` or ``http``), ``:authority`` (``head.authority`` or the ``host``
  header, which is then not sent), ``:path``; CONNECT has only ``:method`` and ``:authority``
  (§8.5) — then DATA as the peer's windows allow, END_STREAM on the last frame. Header names go
  lower-case and connection-specific fields are dropped (§8.2.2: connection, keep-alive,
  proxy-connection, transfer-encoding, upgrade, te); ``content-length`` is the buffered size.
- the response: ``MessageStart({status, headers})`` (``protocol`` and ``statusText`` undefined,
  as Pipy's HTTP/2 heads: an HTTP/1 encoder downstream writes ``HTTP/1.1`` and the standard
  reason), then its DATA, then ``MessageEnd`` whose tail holds the trailers, if any. ``1xx``
  other than 100 are relayed as interim messages (as HTTP/1).
- flow control both ways: received DATA is acknowledged (WINDOW_UPDATE) only when it is
  handed downstream; while the client of a stream cannot take output (its ``FlowControl`` is
  congested) that stream's DATA is held unacknowledged, which the stream window bounds, and
  other streams go on. Request DATA waits in the stream's buffer until the windows open.
- ends: an upstream RST_STREAM fails that stream only (an error response before the response
  head, ``StreamEnd`` after it) -- except REFUSED_STREAM, which says the request was not
  processed (RFC 9113 §8.7), so it is sent again, once, on this connection (on a new one if
  this one is going away); GOAWAY lets the streams up to its last stream id finish, sends the
  ones above it (also unprocessed, §6.8) once more and the queued ones for the first time on a
  new connection, and takes the session out of its cluster so new requests open one too; the connection failing or closing answers every stream as HTTP/1 does (§4.6 error
  responses; a clean close before the head: the empty 200); a client that goes away (its
  muxHTTP is reset) cancels its stream (RST_STREAM CANCEL). Every path removes the stream from
  ``streams`` and acknowledges what it held, so neither the table nor the windows leak.
- the peer's SETTINGS_MAX_CONCURRENT_STREAMS is respected: requests beyond it wait in
  ``waiting`` for a stream to close.
- CONNECT (RFC 9113 §8.5): the HEADERS go without END_STREAM; a 2xx answer is passed on as a
  complete message (start, end) and makes the stream a tunnel, as a 101-299 answer does on
  HTTP/1: muxHTTP then hands the client's later ``Data`` to ``tunnel_input`` (DATA frames as
  the windows allow; the client's input is paused while more than ``TUNNEL_HIGH_WATER`` waits
  for them) and the upstream's DATA goes back raw. Either side ending ends the stream only:
  the client's ``StreamEnd`` is our END_STREAM (sent after its buffered bytes; the stream
  closes when the upstream's comes), the upstream's END_STREAM is the client's ``StreamEnd``
  and ends our side too (END_STREAM, or RST_STREAM CANCEL if bytes were still waiting); a
  client that fails or goes away resets it (CANCEL). A non-2xx answer is a normal response.
"""
from __future__ import annotations

import gc
from collections import deque
from typing import Any

import h2.config
import h2.connection
import h2.events as ev
import h2.exceptions
import h2.settings
from h2.errors import ErrorCodes

from pipyd import log
from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.js.coerce import to_string
from pipyd.js.values import JSObject, undefined

from .http2_server import header_fields, request_head
from .mux import MuxSession
from .mux_http import Exchange, HTTPSession

_H2Error = h2.exceptions.H2Error
_new = object.__new__
_answer = HTTPSession._answer  # §4.6: the same error responses as HTTP/1
_CS = h2.connection.ConnectionState
_CI = h2.connection.ConnectionInputs

# Client bytes buffered for one tunnel stream beyond which its client stops being read (the
# order of an inbound write buffer's high-water mark, pipyd/flow.py), and below which it
# resumes. The stream window already bounds what is in flight; this bounds what waits for it.
TUNNEL_HIGH_WATER = 256 * 1024
TUNNEL_LOW_WATER = 64 * 1024


class _GracefulGoaway(h2.connection.H2ConnectionStateMachine):
    """h2 closes the whole connection when a GOAWAY arrives (and then refuses every later
    frame); RFC 9113 §6.8 lets the streams up to its last stream id finish. We keep the
    connection open for them and open no new stream ourselves (``H2ClientSession.goaway``)."""

    _transitions = {**h2.connection.H2ConnectionStateMachine._transitions,
                    (_CS.CLIENT_OPEN, _CI.RECV_GOAWAY): (None, _CS.CLIENT_OPEN)}


def request_fields(head: Any, size: int) -> list:
    """The HTTP/2 header list of a §4.1 request head whose body is ``size`` bytes."""
    h = head.get("headers")
    rest = header_fields(h, []) if isinstance(h, dict) else []
    host = None
    for i, (k, v) in enumerate(rest):
        if k == "host":  # §8.3.1: :authority carries it; the field is not sent
            host = v
            del rest[i]
            break
    method = head.get("method")
    method = "GET" if method is undefined or method is None or method == "" else to_string(method)
    authority = head.get("authority")
    authority = to_string(authority) if authority else host
    path = head.get("path")
    if method == "CONNECT":  # RFC 9113 §8.5: the target is the authority
        fields = [(":method", method), (":authority", to_string(path) if path else authority)]
    else:
        scheme = head.get("scheme")
        fields = [(":method", method),
                  (":scheme", to_string(scheme) if scheme else "http"),
                  (":authority", authority or "localhost"),
                  (":path", to_string(path) if path else "/")]
    fields += rest
    if size:
        fields.append(("content-length", str(size)))
    return fields


def response_head(headers: list) -> JSObject:
    """A §4.2 response head from an HTTP/2 response's fields (names lower-case, h2-validated)."""
    head = request_head(headers)  # the same header storage (set-cookie arrays, cookie joins)
    status = 200
    for k, v in headers:
        if k == ":status":
            status = int(v)
            break
    return JSObject(protocol=undefined, headers=head["headers"], status=status,
                    statusText=undefined)


class ClientStream:
    """One request on the connection: what is still to send and what is held for its client."""

    __slots__ = ("ex", "id", "fields", "out", "out_size", "started", "held", "end_held", "tail",
                 "watched", "resume_fn", "request", "retried", "connect", "tunnel", "end_out",
                 "local_done", "paused")

    def __init__(self, ex: Exchange, fields: list, request: tuple) -> None:
        self.ex = ex
        self.id = 0
        self.fields = fields
        self.request = request  # (head, body, size, is_head): to send it again (§8.7)
        self.retried = False
        body, size = request[1], request[2]
        self.out: deque = deque(body)
        self.out_size = size
        self.started = False  # the final response head was passed on
        self.held: deque = deque()  # (bytes, flow-controlled length) while the client is slow
        self.end_held = False  # END_STREAM came while DATA was held
        self.tail: Any = None
        self.watched: Any = None  # the client FlowControl we wait on
        self.resume_fn: Any = None
        self.connect = fields[0][1] == "CONNECT"  # RFC 9113 §8.5: may become a tunnel
        self.tunnel = False  # a 2xx answer to CONNECT: DATA is raw both ways
        self.end_out = not self.connect  # END_STREAM goes with the last of ``out``
        self.local_done = False  # our END_STREAM was sent
        self.paused: Any = None  # the client pipeline whose input we paused (tunnels)


class H2ClientSession(MuxSession):
    """An HTTP/2 client connection through the session sub-pipeline (see the module doc)."""

    __slots__ = ("h2", "streams", "waiting", "goaway", "batching", "preface")

    def __init__(self, windows: tuple[int, int]) -> None:
        super().__init__()
        # bytes of the server's first frame header still to check (RFC 9113 §3.4), then None
        self.preface: bytes | None = b""
        conn = self.h2 = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        conn.state_machine = _GracefulGoaway()
        conn_window, stream_window = windows
        conn.local_settings = h2.settings.Settings(client=True, initial_values={
            h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: stream_window,
            h2.settings.SettingCodes.ENABLE_PUSH: 0,
        })
        conn.initiate_connection()
        if conn_window > 65535:  # the connection window only grows by WINDOW_UPDATE (§6.9.2)
            conn.increment_flow_control_window(conn_window - 65535)
        self.streams: dict[int, ClientStream] = {}
        self.waiting: deque[ClientStream] = deque()
        self.goaway = False
        self.batching = False

    # -- requests (muxHTTP calls send() as for HTTPSession) --

    def send(self, ex: Exchange, head: Any, body: list[bytes], size: int, is_head: bool) -> None:
        try:
            fields = request_fields(head, size)
        except Exception as e:  # a script value that cannot be a header
            log.error(f"[muxHTTP] bad request head: {e}")
            ex.session = self
            return _answer(ex, "WriteError")
        self.admit(ClientStream(ex, fields, (head, body, size, is_head)))

    def admit(self, st: ClientStream) -> None:
        """Open a stream for ``st`` now, or queue it until a stream slot is free."""
        if self.goaway or self.dead:
            return self._reroute(st)
        st.ex.session = self
        self.messages += 1
        if self.h2.open_outbound_streams < self.h2.remote_settings.max_concurrent_streams:
            self._open(st)
        elif st.retried:
            self.waiting.appendleft(st)  # it was first in line before
        else:
            self.waiting.append(st)
        self._write()

    def _reroute(self, st: ClientStream) -> None:
        """A request for a connection that got GOAWAY goes to a new one (RFC 9113 §6.8)."""
        ex = st.ex
        o = ex.owner if ex is not None else None
        if o is None:
            return
        if o.session is self:
            o.session = None
            o.smap.give_back(self)
        s = o.acquire()
        admit = getattr(s, "admit", None)  # another HTTP/2 session keeps the retry count
        if admit is not None:
            admit(st)
        else:  # a version function chose HTTP/1 this time
            s.send(ex, *st.request)

    def _retry(self, st: ClientStream) -> bool:
        """Send again a request the server did not process (RFC 9113 §8.7): REFUSED_STREAM, or
        a stream above a GOAWAY's last stream id. Once only, so that a server refusing
        everything still gets its client an answer (502)."""
        ex = st.ex
        if st.retried or st.started or ex is None or ex.done or ex.owner is None:
            return False
        self._free(st)
        st.retried = True
        st.id = 0
        st.tail = None
        st.out = deque(st.request[1])
        st.out_size = st.request[2]
        st.local_done = False
        self.admit(st)
        return True

    def _open(self, st: ClientStream) -> None:
        conn = self.h2
        try:
            sid = conn.get_next_available_stream_id()
            st.id = sid
            end = st.end_out and not st.out
            conn.send_headers(sid, st.fields, end_stream=end)
            st.local_done = end
        except _H2Error as e:
            log.debug(f"[muxHTTP] cannot open an HTTP/2 stream: {e}")
            self.isolate()  # e.g. stream ids used up: new requests need a new connection
            return self._fail(st, "WriteError")
        self.streams[sid] = st
        if st.out:
            self._flush(st)

    def _flush(self, st: ClientStream) -> None:
        """Send buffered request DATA as far as the windows allow (RFC 9113 §5.2)."""
        out = st.out
        conn = self.h2
        sid = st.id
        try:
            while out:
                room = min(conn.local_flow_control_window(sid), conn.max_outbound_frame_size)
                if room <= 0:
                    break
                chunk = out[0]
                if len(chunk) <= room:
                    out.popleft()
                else:
                    out[0] = chunk[room:]
                    chunk = chunk[:room]
                st.out_size -= len(chunk)
                end = st.end_out and not out
                conn.send_data(sid, chunk, end_stream=end)
                st.local_done = end
            if not out and st.end_out and not st.local_done:  # a tunnel's client ended
                st.local_done = True
                conn.end_stream(sid)
        except _H2Error as e:  # the peer closed the stream meanwhile
            log.debug(f"[muxHTTP] stream {sid}: {e}")
            out.clear()
            st.out_size = 0
        if st.paused is not None and st.out_size < TUNNEL_LOW_WATER:
            self._resume_client(st)

    def _open_waiting(self) -> None:
        conn = self.h2
        while self.waiting and not self.goaway and \
                conn.open_outbound_streams < conn.remote_settings.max_concurrent_streams:
            self._open(self.waiting.popleft())

    def forget(self, ex: Exchange) -> None:
        """``ex``'s client has gone: cancel its stream (RFC 9113 §8.7 CANCEL)."""
        for st in self.waiting:
            if st.ex is ex:
                self.waiting.remove(st)
                return
        for st in self.streams.values():
            if st.ex is ex:
                st.ex = None
                self._reset(st.id, ErrorCodes.CANCEL)
                self._free(st)
                self._open_waiting()
                break
        self._write()
        self._maybe_done()

    # -- the upstream's bytes --

    def on_output(self, evt: Any) -> None:
        if type(evt) is not Data:
            return
        self.batching = True
        try:
            for chunk in evt.chunks:
                if self.preface is not None and not self._preface_ok(chunk):
                    return self._broken("ReadError")
                try:
                    events = self.h2.receive_data(chunk)
                except _H2Error as e:  # the peer broke HTTP/2: h2 queued our GOAWAY
                    log.debug(f"[muxHTTP] HTTP/2 protocol error: {e}")
                    return self._broken("ReadError")
                for e in events:
                    self._event(e)
                    if self.dead:
                        return
        finally:
            self.batching = False
            self._write()
        self._maybe_done()

    def _preface_ok(self, chunk: bytes) -> bool:
        """RFC 9113 §3.4: the server's preface is a SETTINGS frame, first. An upstream that is
        not HTTP/2 (an HTTP/1 server answering ``PRI *`` with a 505, say) is caught here, on its
        first bytes: h2 would read them as the header of a multi-megabyte frame and wait."""
        head = self.preface + chunk[:9 - len(self.preface)]
        if len(head) < 9:
            self.preface = head
            return True
        self.preface = None
        length = int.from_bytes(head[:3], "big")
        if head[3] != 0x4 or length % 6 or length > 16384:   # SETTINGS: 6-byte entries
            log.debug(f"[muxHTTP] not an HTTP/2 server preface: {head!r}")
            return False
        return True

    def _event(self, e: Any) -> None:
        t = type(e)
        if t is ev.DataReceived:
            st = self.streams.get(e.stream_id)
            if st is None:
                self._ack(e.flow_controlled_length, e.stream_id)
            else:
                self._data(st, e.data, e.flow_controlled_length)
        elif t is ev.ResponseReceived:
            st = self.streams.get(e.stream_id)
            if st is not None:
                st.started = True
                head = response_head(e.headers)
                self._emit(st, MessageStart(head))
                if st.connect and 200 <= head["status"] < 300:
                    self._open_tunnel(st)
        elif t is ev.StreamEnded:
            st = self.streams.get(e.stream_id)
            if st is not None:
                if st.held:
                    st.end_held = True
                else:
                    self._finish(st)
        elif t is ev.TrailersReceived:
            st = self.streams.get(e.stream_id)
            if st is not None:
                st.tail = JSObject(headers=request_head(e.headers)["headers"])
        elif t is ev.WindowUpdated or t is ev.RemoteSettingsChanged:
            sid = getattr(e, "stream_id", 0)  # 0: the connection's window, or new settings
            if sid:
                st = self.streams.get(sid)
                if st is not None and st.out:
                    self._flush(st)
            else:
                for st in list(self.streams.values()):
                    if st.out:
                        self._flush(st)
                self._open_waiting()
        elif t is ev.InformationalResponseReceived:
            st = self.streams.get(e.stream_id)
            if st is not None:
                head = response_head(e.headers)
                if head["status"] != 100:  # muxHTTP answered 100-continue itself
                    self._emit(st, MessageStart(head))
                    self._emit(st, MessageEnd())
        elif t is ev.StreamReset:
            st = self.streams.get(e.stream_id)
            if st is not None and not (e.error_code == ErrorCodes.REFUSED_STREAM
                                       and self._retry(st)):
                self._fail(st, "ConnectionReset")
        elif t is ev.ConnectionTerminated:
            self._goaway(e.last_stream_id)

    # -- responses --

    def _emit(self, st: ClientStream, evt: Any) -> None:
        ex = st.ex
        if ex is not None:
            o = ex.owner
            if o is not None:
                o.next.process(evt)

    def _data(self, st: ClientStream, b: bytes, length: int) -> None:
        if not st.started or not b:  # (no DATA before a head: h2 refuses it; be safe anyway)
            self._ack(length, st.id)  # padding, or the empty frame carrying END_STREAM
            return
        if st.held or self._congested(st):
            st.held.append((b, length))
            return
        d = _new(Data)
        d.chunks = [b]
        d.size = len(b)
        self._emit(st, d)
        self._ack(length, st.id)

    def _congested(self, st: ClientStream) -> bool:
        """Whether the stream's client cannot take output now; if so, wait for it."""
        ex = st.ex
        o = ex.owner if ex is not None else None
        flow = o.pipeline.flow if o is not None and o.pipeline is not None else None
        if flow is None or not flow.congested:
            return False
        if st.watched is None:
            st.watched = flow
            st.resume_fn = lambda flag, st=st: self._client_drained(st, flag)
            flow.watch_output(st.resume_fn)
        return True

    def _client_drained(self, st: ClientStream, congested: bool) -> None:
        if congested or self.dead:
            return
        self._unwatch(st)
        held = st.held
        while held and st.ex is not None and not self._congested(st):
            b, length = held.popleft()
            self._emit(st, Data.from_bytes(b))
            self._ack(length, st.id)
        if not held and st.end_held and self.streams.get(st.id) is st:
            self._finish(st)
        self._write()
        self._maybe_done()

    def _unwatch(self, st: ClientStream) -> None:
        flow = st.watched
        if flow is not None:
            st.watched = None
            flow.unwatch_output(st.resume_fn)
            st.resume_fn = None

    def _finish(self, st: ClientStream) -> None:
        """The response is complete (for a tunnel: the upstream's side has ended)."""
        ex = st.ex
        if not st.local_done:  # answered before our side ended (CONNECT, an early answer)
            self._end_local(st)
        self._free(st)
        if ex is not None and not ex.done:
            ex.done = True
            o = ex.owner
            if o is not None:
                if st.tunnel:  # RFC 9113 §8.5: END_STREAM is the tunnel's FIN
                    o.next.process(StreamEnd())
                    o.tunnel_closed()
                else:
                    o.next.process(MessageEnd(st.tail))
                    o.exchange_done()
        self._open_waiting()

    def _end_local(self, st: ClientStream) -> None:
        """Close our side of a stream the upstream has finished: END_STREAM, or CANCEL when
        bytes were still waiting for its window (they can no longer matter)."""
        st.local_done = True
        if st.out:
            self._reset(st.id, ErrorCodes.CANCEL)
        else:
            try:
                self.h2.end_stream(st.id)
            except _H2Error:
                pass

    # -- CONNECT tunnels (RFC 9113 §8.5) --

    def _open_tunnel(self, st: ClientStream) -> None:
        """A 2xx answer to CONNECT: the message is complete, the stream carries raw bytes."""
        st.tunnel = True
        self._emit(st, MessageEnd())
        ex = st.ex
        o = ex.owner if ex is not None else None
        if o is not None:
            o.tunnel_opened(lambda evt, st=st: self.tunnel_input(st, evt))

    def tunnel_input(self, st: ClientStream, evt: Any) -> None:
        """The tunnel client's ``Data`` or ``StreamEnd`` (muxHTTP's tunnel sink)."""
        if self.dead or self.streams.get(st.id) is not st:
            return  # the stream is over: what the client still sends goes nowhere
        if type(evt) is Data:
            if st.end_out or not evt.size:
                return
            st.out.extend(evt.chunks)
            st.out_size += evt.size
            self._flush(st)
            if st.out_size > TUNNEL_HIGH_WATER and st.paused is None:
                ex = st.ex
                o = ex.owner if ex is not None else None
                if o is not None and o.pipeline is not None:
                    st.paused = o.pipeline
                    st.paused.pause_input()
        elif evt.error:  # the client failed: nothing more will come or be read
            st.ex = None
            self._reset(st.id, ErrorCodes.CANCEL)
            self._free(st)
            self._open_waiting()
        else:  # the client's FIN: our END_STREAM after what it sent
            st.end_out = True
            self._flush(st)
        self._write()
        self._maybe_done()

    def _resume_client(self, st: ClientStream) -> None:
        p = st.paused
        st.paused = None
        p.resume_input()

    def _fail(self, st: ClientStream, error: str) -> None:
        """The stream is over without a complete response (or a tunnel was reset)."""
        ex = st.ex
        self._free(st)
        if ex is not None and not ex.done:
            if st.started:  # cut off mid-response: its client connection cannot be kept
                ex.done = True
                ex.emit(StreamEnd(error or "ConnectionReset"))
                o = ex.owner
                if o is not None:
                    if st.tunnel:
                        o.tunnel_closed()
                    else:
                        o.exchange_done()
            else:
                _answer(ex, error)
        if not self.dead:
            self._open_waiting()  # a stream slot is free

    def _free(self, st: ClientStream) -> None:
        """Drop every piece of the stream's state; give back the window its held DATA used."""
        if self.streams.get(st.id) is st:
            del self.streams[st.id]
        self._unwatch(st)
        st.out.clear()
        st.out_size = 0
        if st.paused is not None:
            self._resume_client(st)
        held = st.held
        while held:
            self._ack(held.popleft()[1], st.id)
        st.end_held = False

    def _ack(self, length: int, sid: int) -> None:
        if length and not self.dead:
            try:
                self.h2.acknowledge_received_data(length, sid)
            except (_H2Error, ValueError):
                pass

    def _reset(self, sid: int, code: int) -> None:
        try:
            self.h2.reset_stream(sid, code)
        except _H2Error:
            pass  # already closed on the wire

    # -- connection ends --

    def _goaway(self, last_stream_id: int | None) -> None:
        """GOAWAY (RFC 9113 §6.8): streams above ``last_stream_id`` were not processed."""
        self.goaway = True
        self.isolate()  # new requests open a new connection
        last = last_stream_id if last_stream_id is not None else (1 << 31)
        for st in [s for s in self.streams.values() if s.id > last]:
            if not self._retry(st):  # (goaway is set: on a new connection)
                self._fail(st, "ConnectionReset")
        waiting, self.waiting = self.waiting, deque()
        for st in waiting:  # never sent: they go to the new connection as they are
            self._reroute(st)

    def _maybe_done(self) -> None:
        """After GOAWAY, the connection closes when its last stream is done."""
        if self.goaway and not self.streams and not self.dead:
            self.close()

    def _broken(self, error: str) -> None:
        """The connection cannot go on: fail everything, close it."""
        self.batching = False
        self._write()  # our GOAWAY
        self.isolate()
        self._fail_all(error)
        if not self.dead:
            MuxSession.close(self)

    def _fail_all(self, error: str) -> None:
        streams = list(self.streams.values()) + list(self.waiting)
        self.waiting.clear()
        for st in streams:
            self._fail(st, error)

    def on_upstream_end(self, error: str) -> None:
        self._fail_all(error)

    def close(self) -> None:
        """Our end (idle, used up, shut down): GOAWAY, then the sub-pipeline's end."""
        if self.dead:
            return
        try:
            self.h2.close_connection()
        except _H2Error:
            pass
        self._write()
        MuxSession.close(self)

    def _write(self) -> None:
        if self.batching or self.dead:
            return
        data = self.h2.data_to_send()
        p = self.pipeline
        if data and p is not None:
            d = _new(Data)
            d.chunks = [data]
            d.size = len(data)
            p.input(d)


def dump_sessions() -> list[str]:
    """The admin's ``/dump/http2`` client part: every live session and its stream table.
    Found by one walk of the collector's objects, on request only (no registry to keep on
    the connection path)."""
    live = [o for o in gc.get_objects() if type(o) is H2ClientSession and not o.dead]
    lines = [f"{len(live)} sessions, {sum(len(s.streams) for s in live)} open streams, "
             f"{sum(len(s.waiting) for s in live)} waiting for a stream slot"]
    for s in live:
        lines.append(f"  session: {s.messages} messages, {s.shares} borrowers, "
                     f"{len(s.streams)} streams, {len(s.waiting)} waiting"
                     + ("  (going away)" if s.goaway else ""))
        for sid, st in list(s.streams.items()):
            state = "tunnel" if st.tunnel else \
                "responding" if st.started else "waiting for the response"
            lines.append(f"    stream {sid}: {state}  {st.out_size}B to send  "
                         f"{len(st.held)} frames held")
    return lines


__all__ = ["H2ClientSession", "ClientStream", "dump_sessions", "request_fields", "response_head"]
