"""Unit tests of the pipeline core and the first filter families, and their small helpers
(shared by the other filter test packages: tests.unit.filters7, tests.unit.flow)."""
from __future__ import annotations

import io
from typing import Any

import pytest

from pipyd import log
import pipyd.filters  # noqa: F401  (registers the families)
from pipyd.context import Context
from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.pipeline import PipelineLayout
from pipyd.registry import lookup


class Collect:
    """An EventTarget that keeps what it receives."""

    def __init__(self) -> None:
        self.events: list = []

    def process(self, evt: Any) -> None:
        self.events.append(evt)

    def data(self) -> bytes:
        """The bytes of every Data event received, joined."""
        return b"".join(e.to_bytes() for e in self.events if type(e) is Data)

    def take(self) -> bytes:
        """``data()``, and the Data events forgotten (what a peer reads off the wire)."""
        b = self.data()
        self.events = [e for e in self.events if type(e) is not Data]
        return b

    def ends(self) -> list[str]:
        """The error strings of the StreamEnds received."""
        return [e.error for e in self.events if type(e) is StreamEnd]

    def ended(self) -> bool:
        return any(type(e) is StreamEnd for e in self.events)


def layout(*specs: tuple) -> PipelineLayout:
    """A layout from ``(filterName, *args)`` tuples, configured as a script would."""
    lay = PipelineLayout("test")
    for name, *args in specs:
        lay.append(lookup(name).configure(None, *args))
    return lay


def run(specs: list, events: list, context: Context | None = None) -> list:
    """Feed ``events`` through a fresh pipeline of ``specs``; the output, as ``show()``."""
    out = Collect()
    p = layout(*specs).instantiate(context or Context([{}]), out)
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


@pytest.fixture
def capture_log():
    """The log's output (import this fixture into a test module to use it)."""
    buf = io.StringIO()
    log.set_stream(buf)
    yield buf
    log.set_stream(None)
