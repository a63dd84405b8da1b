"""Unit tests of the tunnel and framing filters (acceptHTTPTunnel, connectHTTPTunnel,
acceptSOCKS, connectSOCKS, acceptProxyProtocol, connectProxyProtocol, decodeWebSocket,
encodeWebSocket): pipelines built from Python; a joint filter's sub-pipeline is a ``Peer`` the
test reads from and answers through."""
from __future__ import annotations

from typing import Any, ClassVar

import pipyd.filters  # noqa: F401  (registers the families)
from pipyd.context import Context
from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.pipeline import Filter, Pipeline, PipelineLayout
from pipyd.registry import lookup


class Collect:
    """An EventTarget that keeps what it receives."""

    def __init__(self) -> None:
        self.events: list = []

    def process(self, evt: Any) -> None:
        self.events.append(evt)

    def data(self) -> bytes:
        return b"".join(e.to_bytes() for e in self.events if type(e) is Data)


class Peer(Filter):
    """The only filter of a sub-pipeline: records its input (``got``), and ``send()`` outputs
    events from it (what the far end answers). Every instance is listed in ``instances``."""

    __slots__ = ("got",)
    instances: ClassVar[list["Peer"]] = []

    def reset(self) -> None:
        self.got: list = []
        Peer.instances.append(self)

    def process(self, evt: Any) -> None:
        self.got.append(evt)

    def send(self, *events: Any) -> None:
        for e in events:
            self.next.process(e)

    def data(self) -> bytes:
        return b"".join(e.to_bytes() for e in self.got if type(e) is Data)


def peer_layout() -> PipelineLayout:
    lay = PipelineLayout("peer")
    lay.append(Peer.__new__(Peer))
    return lay


def joint(name: str, *args: Any, context: Context | None = None) -> tuple[Pipeline, Collect]:
    """A pipeline of the one joint filter ``name(*args)`` whose sub-pipeline is a Peer."""
    Peer.instances.clear()
    f = lookup(name).configure(None, *args)
    f.add_sub_layout(peer_layout())
    lay = PipelineLayout("test")
    lay.append(f)
    out = Collect()
    return lay.instantiate(context or Context([{}]), out), out


def peer() -> Peer:
    """The Peer of the sub-pipeline started last (clone() also lists the prototype's copy)."""
    return Peer.instances[-1]


def codec(name: str, *args: Any) -> tuple[Pipeline, Collect]:
    lay = PipelineLayout("test")
    lay.append(lookup(name).configure(None, *args))
    out = Collect()
    return lay.instantiate(Context([{}]), out), out


def show(events: list) -> list:
    """Events as comparable tuples: ('D', bytes) ('MS', head as dict) ('ME',) ('SE', error)."""
    res = []
    for e in events:
        t = type(e)
        if t is Data:
            res.append(("D", e.to_bytes()))
        elif t is MessageStart:
            res.append(("MS", dict(e.head) if isinstance(e.head, dict) else e.head))
        elif t is MessageEnd:
            res.append(("ME",))
        elif t is StreamEnd:
            res.append(("SE", e.error))
        else:
            res.append(e)
    return res


def merged(shown: list) -> list:
    """``show()`` output with adjacent Data joined (chunking is not part of the contract)."""
    res: list = []
    for item in shown:
        if item[0] == "D" and res and res[-1][0] == "D":
            res[-1] = ("D", res[-1][1] + item[1])
        else:
            res.append(item)
    return res
