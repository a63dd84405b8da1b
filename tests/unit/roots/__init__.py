"""Tests of the daemon's roots: listeners, tasks, file roots, CLI and supervisor.

Shared helpers live here (the test files import them): a loop runner on uvloop, as `pipyd`
runs, and small pipeline layouts built from pipyd.pipeline classes.
"""
from __future__ import annotations

import asyncio
from typing import Any, Callable

import uvloop

from pipyd.context import Context
from pipyd.events import Data, StreamEnd
from pipyd.pipeline import Filter, PipelineLayout  # noqa: F401  (Filter re-exported for tests)


def run(coro_fn: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Run ``coro_fn()`` on a fresh uvloop loop with a time limit."""
    async def bounded() -> Any:
        return await asyncio.wait_for(coro_fn(), timeout)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(bounded())


def new_context(inbound: Any = None) -> Context:
    return Context([{}], inbound)


class Echo(Filter):
    """Test-only: passes every event through (the pipeline's output is the connection)."""

    __slots__ = ()
    NAME = "echo"


class Record(Filter):
    """Test-only: records the events it sees in a shared list, then passes them on."""

    __slots__ = ("seen",)
    CONFIG = ("seen",)
    NAME = "record"

    def process(self, event: Any) -> None:
        self.seen.append((self.pipeline, event))
        self.next.process(event)


class Hold(Filter):
    """Test-only: swallows StreamEnd so the output never ends (for timeouts/shutdown)."""

    __slots__ = ()
    NAME = "hold"

    def process(self, event: Any) -> None:
        if type(event) is not StreamEnd:
            self.next.process(event)


def layout(*filters: Filter, kind: str = "listen", on_start: Any = None,
           on_end: Any = None) -> PipelineLayout:
    lay = PipelineLayout("", None, kind, "test")
    for f in filters:
        lay.append(f)
    lay.on_start = on_start
    lay.on_end = on_end
    return lay


def record(seen: list) -> Record:
    r = Record.__new__(Record)
    r.seen = seen
    return r


def data_of(events: list) -> bytes:
    return b"".join(e.to_bytes() for _, e in events if type(e) is Data)
