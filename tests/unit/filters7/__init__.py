"""Unit tests of the compression, throttle and small codec/utility filters (issue 7):
pipelines built from Python, fed events, their output compared as tuples."""
from __future__ import annotations

from pipyd.context import Context
from pipyd.pipeline import FlowControl, Pipeline

from tests.unit.core import Collect, layout, msg, run, show  # noqa: F401 (shared helpers)


class RecordingFlow(FlowControl):
    """A FlowControl that records the pause/resume calls reaching the source."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def pause_reading(self) -> None:
        self.calls.append("pause")

    def resume_reading(self) -> None:
        self.calls.append("resume")


def pipeline(specs: list, flow: FlowControl | None = None) -> tuple[Pipeline, Collect]:
    out = Collect()
    return layout(*specs).instantiate(Context([{}]), out, (), flow), out


def body_of(shown: list) -> bytes:
    return b"".join(d for k, d in shown if k == "D")
