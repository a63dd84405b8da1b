"""TransportFlow: reading pauses while the write side is full or the pipeline holds it."""
from __future__ import annotations

from pipyd.flow import TransportFlow


class FakeTransport:
    def __init__(self, closing: bool = False) -> None:
        self.calls: list[str] = []
        self.closing = closing

    def pause_reading(self) -> None:
        if self.closing:
            raise RuntimeError("closing")
        self.calls.append("pause")

    def resume_reading(self) -> None:
        self.calls.append("resume")


def test_write_side_pauses_and_resumes():
    t = FakeTransport()
    f = TransportFlow(t)
    f.pause_writing()
    f.pause_writing()
    assert f.read_paused and t.calls == ["pause"]
    f.resume_writing()
    assert not f.read_paused and t.calls == ["pause", "resume"]


def test_pipeline_holds_nest():
    t = FakeTransport()
    f = TransportFlow(t)
    f.pause()
    f.pause()
    f.resume()
    assert t.calls == ["pause"]
    f.resume()
    f.resume()  # an extra resume is ignored
    assert t.calls == ["pause", "resume"] and f.paused == 0


def test_both_reasons_must_clear():
    t = FakeTransport()
    f = TransportFlow(t)
    f.pause_writing()
    f.pause()
    f.resume_writing()
    assert f.read_paused and t.calls == ["pause"]
    f.resume()
    assert not f.read_paused and t.calls == ["pause", "resume"]


def test_closed_or_closing_transport_is_left_alone():
    t = FakeTransport(closing=True)
    f = TransportFlow(t)
    f.pause_writing()  # RuntimeError from a closing transport is swallowed
    f.close()
    f.resume_writing()
    assert t.calls == []
