"""``replay({delay})``: retry a stream from its start (reference §2.2 row 63).

Every input event is recorded and fed to a sub-pipeline sharing the context. When that
sub-pipeline outputs ``StreamEnd('Replay')``, the filter drops it, ends the sub-pipeline and,
after ``delay`` (seconds or a duration string, or a function returning one; default 0), starts
a new sub-pipeline and feeds it copies of everything recorded so far; events arriving in the
meantime are recorded and replayed too. Output of a sub-pipeline that asked for a replay is
dropped. Everything else the sub-pipeline outputs is this filter's output. After
``shutdown()`` a Replay request ends the stream instead (Pipy does the same).
"""
from __future__ import annotations

import asyncio
from typing import Any

from pipyd import log
from pipyd.events import StreamEnd
from pipyd.js.values import JSObject, type_error, undefined
from pipyd.pipeline import FAILED, JointFilter, Pipeline
from pipyd.registry import register
from pipyd.units import parse_duration

from .chain import start_sub
from .fork import clone_event


class _Receiver:
    """The output target of one sub-pipeline: forwards to the filter while it is current."""

    __slots__ = ("replay", "live")

    def __init__(self, replay: "Replay") -> None:
        self.replay = replay
        self.live = True

    def process(self, evt: Any) -> None:
        if self.live:
            self.replay.on_sub_event(self, evt)


@register("replay")
class Replay(JointFilter):
    __slots__ = ("delay", "sub", "receiver", "recorded", "timer", "stopping")
    CONFIG = ("delay",)

    @classmethod
    def configure(cls, config: Any, options: Any = undefined, *rest: Any) -> "Replay":
        delay: Any = 0.0
        if isinstance(options, JSObject):
            d = options.get("delay", undefined)
            if callable(d):
                delay = d
            elif d is not undefined and d is not None:
                delay = parse_duration(d, "replay: delay")
        elif options is not undefined and options is not None:
            raise type_error("replay: argument #1 expects an object")
        f = cls.__new__(cls)
        f.sub_layouts = None
        f.delay = delay
        f.reset()
        return f

    def reset(self) -> None:
        timer = getattr(self, "timer", None)
        if timer is not None:
            timer.cancel()
        self.timer = None
        self._drop_sub()
        self.recorded: list = []
        self.stopping = False

    def _drop_sub(self) -> None:
        sub = getattr(self, "sub", None)
        self.sub: Pipeline | None = None
        receiver = getattr(self, "receiver", None)
        if receiver is not None:
            receiver.live = False
        self.receiver = None
        if sub is not None:
            sub.end()

    def shutdown(self) -> None:
        if self.timer is not None:  # a replay was waiting: end the stream now
            self.timer.cancel()
            self.timer = None
            self.next.process(StreamEnd())
        else:
            self.stopping = True

    def process(self, evt: Any) -> None:
        self.recorded.append(evt)
        if self.timer is not None:
            return  # recorded; the coming replay feeds it
        sub = self.sub
        if sub is None:
            sub = self._start()
        sub.input(evt)

    def _start(self) -> Pipeline:
        self.receiver = _Receiver(self)
        self.sub = start_sub(self, self.sub_layouts[0], output=self.receiver)
        return self.sub

    def on_sub_event(self, receiver: _Receiver, evt: Any) -> None:
        if type(evt) is StreamEnd and evt.error == "Replay" and not self.stopping:
            receiver.live = False
            self._schedule()
            return
        self.next.process(evt)

    def _schedule(self) -> None:
        delay = self.delay
        if callable(delay):
            v = self.callback(delay)
            try:
                delay = 0.0 if v is FAILED else parse_duration(v, "replay: delay")
            except Exception as e:
                log.error(f"[replay] {e}")
                delay = 0.0
        self.timer = asyncio.get_running_loop().call_later(max(0.0, delay), self._replay)

    def _replay(self) -> None:
        # the old sub-pipeline is ended here, not from inside its own output call
        self.timer = None
        self._drop_sub()
        sub = self._start()
        for evt in list(self.recorded):
            if self.sub is not sub:
                return  # it asked for another replay already
            sub.input(clone_event(evt))
