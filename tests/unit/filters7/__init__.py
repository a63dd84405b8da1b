"""Unit tests of the compression, throttle and small codec/utility filters (issue 7):
pipelines built from Python, fed events, their output compared as tuples."""
from __future__ import annotations

from typing import Any

import pipyd.filters  # noqa: F401  (registers the families)
from pipyd.context import Context
from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.pipeline import FlowControl, Pipeline, PipelineLayout
from pipyd.registry import lookup


class Collect:
    """An EventTarget that keeps what it receives."""

    def __init__(self) -> None:
        self.events: list = []

    def process(self, evt: Any) -> None:
        self.events.append(evt)

    def data(self) -> bytes:
        return b"".join(e.to_bytes() for e in self.events if type(e) is Data)


class RecordingFlow(FlowControl):
    """A FlowControl that records the pause/resume calls reaching the source."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def pause_reading(self) -> None:
        self.calls.append("pause")

    def resume_reading(self) -> None:
        self.calls.append("resume")


def layout(*specs: tuple) -> PipelineLayout:
    """A layout from ``(filterName, *args)`` tuples, configured as a script would."""
    lay = PipelineLayout("test")
    for name, *args in specs:
        lay.append(lookup(name).configure(None, *args))
    return lay


def pipeline(specs: list, flow: FlowControl | None = None) -> tuple[Pipeline, Collect]:
    out = Collect()
    return layout(*specs).instantiate(Context([{}]), out, (), flow), out


def run(specs: list, events: list) -> list:
    """Feed ``events`` through a fresh pipeline of ``specs``; the output, as ``show()``."""
    p, out = pipeline(specs)
    for e in events:
        p.input(e)
    return show(out.events)


def show(events: list) -> list:
    """Events as comparable tuples: ('D', bytes) ('MS', head) ('ME', tail) ('SE', error)."""
    res = []
    for e in events:
        t = type(e)
        if t is Data:
            res.append(("D", e.to_bytes()))
        elif t is MessageStart:
            res.append(("MS", e.head))
        elif t is MessageEnd:
            res.append(("ME", e.tail))
        elif t is StreamEnd:
            res.append(("SE", e.error))
        else:
            res.append(e)
    return res


def msg(head: Any, *body: bytes, tail: Any = None) -> list:
    """The events of one message, with each body chunk a Data event."""
    return [MessageStart(head), *(Data(b) for b in body), MessageEnd(tail)]


def body_of(shown: list) -> bytes:
    return b"".join(d for k, d in shown if k == "D")
