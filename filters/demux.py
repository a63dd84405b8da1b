"""demux and demuxQueue: one sub-pipeline per input message, with a cloned context (reference
§2.2 rows 24, 25; §0.4).

- ``demux()``: each message (then a StreamEnd) goes into its own sub-pipeline whose output is
  discarded; the sub-pipeline ends when it outputs StreamEnd or when this stream ends. The
  filter itself outputs only the input's StreamEnd, so a root pipeline can still close.
- ``demuxQueue({isOneWay})``: each message's sub-pipeline should answer one message; answers
  are output in request order (a later answer waits, buffered, for the earlier ones). A message
  for which ``isOneWay(MessageStart)`` is truthy gets no slot: its output is discarded. The
  input's StreamEnd is output once every answer has been.
"""
from __future__ import annotations

from collections import deque
from typing import Any

from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.js.values import type_error, undefined
from pipyd.pipeline import FAILED, JointFilter
from pipyd.registry import register

from .http import options_arg
from .mux import defer


class _Sub:
    """A demux sub-pipeline's output target: notes its end so it can be released."""

    __slots__ = ("owner", "pipeline")

    def __init__(self, owner: "Demux") -> None:
        self.owner = owner
        self.pipeline: Any = None

    def process(self, evt: Any) -> None:
        if type(evt) is StreamEnd and self.pipeline is not None:
            self.owner.release(self)


class _Named(JointFilter):
    __slots__ = ()

    @classmethod
    def _new(cls, args: tuple) -> tuple:
        f = cls.__new__(cls)
        f.sub_layouts = None
        if args and type(args[0]) is str:
            f.add_sub_layout(args[0])
            args = args[1:]
        return f, args


@register("demux")
class Demux(_Named):
    __slots__ = ("subs", "current")

    @classmethod
    def configure(cls, config: Any, *args: Any) -> "Demux":
        f, _ = cls._new(args)
        f.reset()
        return f

    def reset(self) -> None:
        for sub in list(getattr(self, "subs", ())):
            sub.pipeline.end()
        self.subs: list[_Sub] = []
        self.current: _Sub | None = None

    def process(self, evt: Any) -> None:
        t = type(evt)
        if t is MessageStart:
            if self.current is None:
                sub = self.current = _Sub(self)
                self.subs.append(sub)
                sub.pipeline = self.sub_pipeline(0, self.pipeline.context.clone(), output=sub)
                sub.pipeline.input(evt)
        elif t is Data:
            if self.current is not None:
                self.current.pipeline.input(evt)
        elif t is MessageEnd:
            sub = self.current
            if sub is not None:
                self.current = None
                sub.pipeline.input(evt)
                sub.pipeline.input(StreamEnd())
        elif t is StreamEnd:
            sub = self.current
            if sub is not None:
                self.current = None
                sub.pipeline.input(evt)
            self.next.process(evt)

    def release(self, sub: _Sub) -> None:
        try:
            self.subs.remove(sub)
        except ValueError:
            return
        defer(sub.pipeline.end)


class _Answer:
    """One demuxQueue request: its sub-pipeline and the answer events not yet output."""

    __slots__ = ("owner", "pipeline", "events", "done", "one_way", "opened")

    def __init__(self, owner: "DemuxQueue", one_way: bool) -> None:
        self.owner = owner
        self.pipeline: Any = None
        self.events: list = []
        self.done = False
        self.one_way = one_way
        self.opened = False

    def process(self, evt: Any) -> None:
        if self.done or self.one_way:
            if type(evt) is StreamEnd and self.one_way and self.pipeline is not None:
                defer(self.pipeline.end)
            return
        self.owner.on_answer(self, evt)


@register("demuxQueue")
class DemuxQueue(_Named):
    __slots__ = ("one_way", "queue", "current", "ended", "oneways")
    CONFIG = ("one_way",)

    @classmethod
    def configure(cls, config: Any, *args: Any) -> "DemuxQueue":
        f, args = cls._new(args)
        opts = options_arg("demuxQueue", args)
        v = opts.get("isOneWay", undefined)
        if v is not undefined and v is not None and not callable(v):
            raise type_error("demuxQueue: isOneWay expects a function")
        f.one_way = None if v is undefined else v
        f.reset()
        return f

    def reset(self) -> None:
        for a in getattr(self, "queue", ()):
            a.pipeline.end()
        for a in getattr(self, "oneways", ()):
            a.pipeline.end()
        self.queue: deque[_Answer] = deque()
        self.oneways: list[_Answer] = []
        self.current: _Answer | None = None
        self.ended = False

    def process(self, evt: Any) -> None:
        t = type(evt)
        if t is MessageStart:
            if self.current is None:
                ow = self.one_way is not None and self._truthy(self.callback(self.one_way, evt))
                a = self.current = _Answer(self, ow)
                (self.oneways if ow else self.queue).append(a)
                a.pipeline = self.sub_pipeline(0, self.pipeline.context.clone(), output=a)
                a.pipeline.input(evt)
        elif t is Data:
            if self.current is not None:
                self.current.pipeline.input(evt)
        elif t is MessageEnd:
            a = self.current
            if a is not None:
                self.current = None
                a.pipeline.input(evt)
        elif t is StreamEnd:
            self.ended = True
            a = self.current
            if a is not None:
                self.current = None
                a.pipeline.input(evt)
            if not self.queue:
                self.next.process(evt)

    @staticmethod
    def _truthy(v: Any) -> bool:
        return v is not FAILED and bool(v)

    def on_answer(self, a: _Answer, evt: Any) -> None:
        t = type(evt)
        if t is StreamEnd:  # ended without (finishing) an answer: its slot is given up
            if a.opened:
                a.events.append(MessageEnd())
            return self._finish(a)
        if t is MessageStart:
            if a.opened:
                return  # one answer per request
            a.opened = True
        elif not a.opened:
            return
        a.events.append(evt)
        if t is MessageEnd:
            a.opened = False
            self._finish(a)
        elif self.queue and self.queue[0] is a:
            self._flush()

    def _finish(self, a: _Answer) -> None:
        a.done = True
        self._flush()

    def _flush(self) -> None:
        q = self.queue
        nxt = self.next
        while q:
            a = q[0]
            events, a.events = a.events, []
            for e in events:
                nxt.process(e)
            if not a.done:
                return
            q.popleft()
            defer(a.pipeline.end)
        if self.ended:
            self.ended = False
            nxt.process(StreamEnd())

