"""Unit tests of the protocol codecs (decodeMQTT/encodeMQTT, decodeThrift/encodeThrift,
decodeDubbo/encodeDubbo): one-filter pipelines built from Python, wire fixtures written byte by
byte from the protocol specifications, each fed whole, byte by byte and split at every position."""
from __future__ import annotations

from typing import Any, Iterator

import pipyd.filters  # noqa: F401  (registers the families)
from pipyd.context import Context
from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.pipeline import Pipeline, PipelineLayout
from pipyd.registry import lookup


class Collect:
    """An EventTarget that keeps what it receives."""

    def __init__(self) -> None:
        self.events: list = []

    def process(self, evt: Any) -> None:
        self.events.append(evt)

    def data(self) -> bytes:
        return b"".join(e.to_bytes() for e in self.events if type(e) is Data)


def codec(name: str, *args: Any) -> tuple[Pipeline, Collect]:
    lay = PipelineLayout("test")
    lay.append(lookup(name).configure(None, *args))
    out = Collect()
    return lay.instantiate(Context([{}]), out), out


def plain(v: Any) -> Any:
    """Heads and payloads as plain Python values (Data as bytes) for comparison."""
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    if type(v) is Data:
        return v.to_bytes()
    return v


def show(events: list) -> list:
    """Events as tuples: ('MS', head) ('D', bytes) ('ME',) / ('ME', payload) ('SE', error),
    adjacent Data joined (chunking is not part of the contract)."""
    res: list = []
    for e in events:
        t = type(e)
        if t is Data:
            if res and res[-1][0] == "D":
                res[-1] = ("D", res[-1][1] + e.to_bytes())
            else:
                res.append(("D", e.to_bytes()))
        elif t is MessageStart:
            res.append(("MS", plain(e.head)))
        elif t is MessageEnd:
            res.append(("ME",) if e.payload is None else ("ME", plain(e.payload)))
        elif t is StreamEnd:
            res.append(("SE", e.error))
    return res


def splits(wire: bytes) -> Iterator[list[bytes]]:
    """The wire whole, byte by byte, and cut in two at every position."""
    yield [wire]
    yield [wire[i:i + 1] for i in range(len(wire))]
    for i in range(1, len(wire)):
        yield [wire[:i], wire[i:]]


def decode(name: str, pieces: list[bytes], *args: Any) -> list:
    p, out = codec(name, *args)
    for b in pieces:
        p.input(Data(b))
    return show(out.events)


def encode(name: str, events: list, *args: Any) -> list:
    p, out = codec(name, *args)
    for e in events:
        p.input(e)
    return show(out.events)
