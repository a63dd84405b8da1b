"""Unit tests of the mux/demux families, pack/split and detectProtocol, on Python-built
pipelines. ``Upstream`` is the session sub-pipeline double: it records what it is sent and
answers only when a test tells it to."""
from __future__ import annotations

from typing import Any

from pipyd.context import Context
from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.filters import demux, detect, mux, mux_http, pack  # noqa: F401 - registers them
from pipyd.pipeline import Filter, PipelineLayout
from pipyd.registry import lookup


class Out:
    def __init__(self) -> None:
        self.events: list = []

    def process(self, evt: Any) -> None:
        self.events.append(evt)

    def types(self) -> list[str]:
        return [type(e).__name__ for e in self.events]

    def heads(self) -> list:
        return [e.head for e in self.events if type(e) is MessageStart]

    def body(self) -> bytes:
        return b"".join(e.to_bytes() for e in self.events if type(e) is Data)

    def messages(self) -> list[tuple[Any, bytes]]:
        """(head, body) of each complete message output."""
        out, head, body = [], None, b""
        for e in self.events:
            if type(e) is MessageStart:
                head, body = e.head, b""
            elif type(e) is Data:
                body += e.to_bytes()
            elif type(e) is MessageEnd:
                out.append((head, body))
        return out


class Upstream(Filter):
    """Session double: ``INSTANCES`` lists every one made (one per session/"connection")."""

    __slots__ = ("received", "args", "ctx")
    INSTANCES: list = []
    ENDED: list = []  # survives reset(): a session's pipeline is ended right after

    @property
    def ended(self) -> bool:
        return any(u is self for u in Upstream.ENDED)

    def reset(self) -> None:
        if getattr(self, "ctx", None) is None:
            self.received = b""

    def process(self, evt: Any) -> None:
        if not any(u is self for u in Upstream.INSTANCES):
            Upstream.INSTANCES.append(self)
            self.ctx = self.pipeline.context
        t = type(evt)
        if t is Data:
            self.received += evt.to_bytes()
        elif t is StreamEnd:
            Upstream.ENDED.append(self)
        elif t is MessageStart:
            self.received += b"<start>"
        elif t is MessageEnd:
            self.received += b"<end>"

    def reply(self, b: bytes) -> None:
        self.next.process(Data(b))

    def close(self, error: str = "") -> None:
        self.next.process(StreamEnd(error))


def joint(name: str, *args: Any, sub: Filter | None = None, on_start: Any = None) -> Filter:
    f = lookup(name).configure(None, *args)
    s = PipelineLayout("")
    s.on_start = on_start
    s.append(sub if sub is not None else Upstream.__new__(Upstream))
    f.add_sub_layout(s)
    return f


def stream(proto: Filter, ctx: Context | None = None, flow: Any = None, out: Any = None) -> tuple:
    """A pipeline holding one clone of ``proto`` (one place of one layout), with its output
    (an ``Out`` unless given) and, if given, the FlowControl it runs with."""
    layout = PipelineLayout("s")
    layout.append(proto)
    out = Out() if out is None else out
    return layout.instantiate(ctx or Context([{}]), out, (), flow), out


def send_message(p: Any, head: Any, body: bytes = b"") -> None:
    p.input(MessageStart(head))
    if body:
        p.input(Data(body))
    p.input(MessageEnd())
