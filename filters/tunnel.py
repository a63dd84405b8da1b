"""acceptHTTPTunnel and connectHTTPTunnel: the two ends of an HTTP tunnel, CONNECT or Upgrade
(reference §2.2 rows 1 and 10; RFC 9110 §9.3.6, RFC 6455 §4). Both sub-pipelines get a cloned
context (§0.4).

``acceptHTTPTunnel(handler)`` sits in demuxHTTP's request sub-pipeline. It collects the first
request message, calls ``handler(request)`` and outputs the response Message it returns; when
that response's ``status`` is undefined or 100-299 the sub-pipeline is started and every later
event goes into it, its output becoming ours. demuxHTTP turns the connection into a raw tunnel
after such an answer (§4.5), so the sub-pipeline sees the client's bytes and its bytes reach the
client. A handler that returns no Message is logged and nothing is answered (Pipy).

``connectHTTPTunnel(request)`` (a Message, or a function returning one — Pipy 0.70 takes the
handshake message, not a target string) starts its sub-pipeline on the first event and sends the
handshake request into it; the sub-pipeline is normally ``muxHTTP().to(...connect(proxy))``,
which answers with the proxy's response message. Client bytes are held until that response ends
with a 101-299 status; from then on bytes go both ways and the response itself is not output.
Two choices past Pipy's: a StreamEnd from the client before the tunnel opens is held and sent
after the held bytes (Pipy dropped it, so the upstream was never half-closed), and a final
response outside 101-299 ends the stream with ``ConnectionRefused`` (Pipy left the client
waiting until the proxy closed).
"""
from __future__ import annotations

from typing import Any

from pipyd import log
from pipyd.events import Data, Message, MessageEnd, MessageStart, StreamEnd
from pipyd.js.runtime import getters
from pipyd.js.values import type_error, undefined
from pipyd.pipeline import FAILED, JointFilter
from pipyd.registry import register

_status_of = getters("status")


def head_status(head: Any) -> Any:
    """``head.status`` as a script would read it (undefined without a head)."""
    if head is None or head is undefined:
        return undefined
    return _status_of[type(head)](head)


def name_first_form(f: JointFilter, args: tuple) -> tuple:
    """Pipy's ``filter('layout', arg)`` form: the name is the filter's ``.to()``."""
    f.sub_layouts = None
    if len(args) >= 2 and type(args[0]) is str:
        f.add_sub_layout(args[0])
        return args[1:]
    return args


class TunnelFilter(JointFilter):
    """A joint filter that, after a handshake, passes the stream through one sub-pipeline
    (the tunnels here, acceptSOCKS/connectSOCKS, the PROXY protocol filters)."""

    __slots__ = ("sub",)

    def end_sub(self) -> None:
        """Release the sub-pipeline (from ``reset``): cleared first so it is ended once."""
        sub = getattr(self, "sub", None)
        self.sub = None
        if sub is not None:
            sub.end()


class AcceptTunnel(TunnelFilter):
    """The accepting end, written ``filter([layout,] handler)``: ``handler`` decides whether
    the tunnel opens."""

    __slots__ = ("handler",)
    CONFIG = ("handler",)

    @classmethod
    def configure(cls, config: Any, *args: Any) -> "AcceptTunnel":
        f = cls.__new__(cls)
        args = name_first_form(f, args)
        if not args or not callable(args[0]):
            raise type_error(f"{cls.NAME}: argument #1 expects a function")
        f.handler = args[0]
        f.reset()
        return f


@register("acceptHTTPTunnel")
class AcceptHTTPTunnel(AcceptTunnel):
    __slots__ = ("head", "body", "collecting")

    def reset(self) -> None:
        self.end_sub()
        self.head: Any = None
        self.body: list[bytes] = []
        self.collecting = False

    def process(self, evt: Any) -> None:
        sub = self.sub
        if sub is not None:
            sub.input(evt)
            return
        t = type(evt)
        if t is MessageStart:
            if not self.collecting:
                self.collecting = True
                self.head = evt.head
        elif t is Data:
            if self.collecting:
                self.body.extend(evt.chunks)
        elif t is MessageEnd:
            if self.collecting:
                self._answer(evt)
        # a StreamEnd before the tunnel opens is dropped, as Pipy does

    def _answer(self, end: MessageEnd) -> None:
        req = Message(self.head, Data.from_chunks(self.body))
        self.head, self.body, self.collecting = None, [], False
        res = self.callback(self.handler, req)
        if res is FAILED:
            return
        if type(res) is not Message:
            log.error("[acceptHTTPTunnel] handler did not return a valid message")
            return
        status = head_status(res.head)
        if status is undefined or (type(status) in (int, float) and 100 <= status < 300):
            self.sub = self.sub_pipeline(0, self.pipeline.context.clone())
        nxt = self.next
        nxt.process(MessageStart(res.head))
        body = res.body
        if body is not None and body.size:
            nxt.process(Data(body))
        nxt.process(end)


@register("connectHTTPTunnel")
class ConnectHTTPTunnel(TunnelFilter):
    __slots__ = ("handshake", "status", "tunneling", "held", "held_end", "closed")
    CONFIG = ("handshake",)

    @classmethod
    def configure(cls, config: Any, *args: Any) -> "ConnectHTTPTunnel":
        f = cls.__new__(cls)
        args = name_first_form(f, args)
        if not args or not (type(args[0]) is Message or callable(args[0])):
            raise type_error("connectHTTPTunnel: argument #1 expects a Message or a function")
        f.handshake = args[0]
        f.reset()
        return f

    def reset(self) -> None:
        self.end_sub()
        self.status = 0
        self.tunneling = False
        self.held: list[bytes] = []
        self.held_end: StreamEnd | None = None
        self.closed = False

    def process(self, evt: Any) -> None:
        if self.closed:
            return
        sub = self.sub
        if sub is None:
            if type(evt) is StreamEnd:  # nothing to tunnel: no handshake, the stream just ends
                self.closed = True
                self.next.process(evt)
                return
            sub = self._start()
            if sub is None:
                return
        if self.tunneling:
            sub.input(evt)
            return
        t = type(evt)
        if t is Data:
            self.held.extend(evt.chunks)
        elif t is StreamEnd:
            self.held_end = evt

    def _start(self) -> Any:
        msg = self.eval_arg(self.handshake)
        if msg is FAILED:
            self.closed = True
            return None
        if type(msg) is not Message:
            log.error("[connectHTTPTunnel] invalid handshake request")
            self.closed = True
            return None
        sub = self.sub = self.sub_pipeline(0, self.pipeline.context.clone())
        sub.input(MessageStart(msg.head))
        body = msg.body
        if body is not None and body.size:
            sub.input(Data(body))
        sub.input(MessageEnd(msg.tail))
        return sub

    def on_sub_output(self, evt: Any) -> None:
        if self.closed:
            return
        t = type(evt)
        if self.tunneling or t is StreamEnd:
            if t is StreamEnd:
                self.closed = True
            self.next.process(evt)
        elif t is MessageStart:
            s = head_status(evt.head)
            self.status = int(s) if type(s) in (int, float) else 0
        elif t is MessageEnd:
            s = self.status
            if 101 <= s < 300:
                self._open()
            elif s >= 200:  # a final answer that is not a tunnel (1xx are interim)
                self.closed = True
                self.next.process(StreamEnd("ConnectionRefused"))

    def _open(self) -> None:
        self.tunneling = True
        sub = self.sub
        if self.held:
            chunks, self.held = self.held, []
            sub.input(Data.from_chunks(chunks))
        end = self.held_end
        if end is not None:
            self.held_end = None
            sub.input(end)
