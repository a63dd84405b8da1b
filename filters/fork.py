"""``fork``: copy the stream into sub-pipelines whose output is discarded (reference §2.2 row 38).

``fork([startupValues]).to(layout)`` or the name-first ``fork(name[, startupValues])``. On the
first event ``startupValues`` (a value, or a function called then) is evaluated:

* an array: one sub-pipeline per element, each with a cloned context, ``onStart(element)``;
* anything else: one sub-pipeline sharing the context, ``onStart(value)`` (§1.3, §0.4).

Every input event is copied into each sub-pipeline (the copies are new event objects; a
MessageStart's head object is shared, as Pipy's clone shares it) and then passed on unchanged.
"""
from __future__ import annotations

from typing import Any

from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.js.values import undefined
from pipyd.pipeline import DISCARD, FAILED, JointFilter, Pipeline
from pipyd.registry import register

from .chain import start_sub


def clone_event(evt: Any) -> Any:
    """A new event object equal to ``evt`` (the bytes themselves are immutable and shared)."""
    t = type(evt)
    if t is Data:
        return Data.from_chunks(list(evt.chunks))
    if t is MessageStart:
        return MessageStart(evt.head)
    if t is MessageEnd:
        return MessageEnd(evt.tail, evt.payload)
    if t is StreamEnd:
        e = StreamEnd.__new__(StreamEnd)
        e.error = evt.error
        return e
    return evt


@register("fork")
class Fork(JointFilter):
    __slots__ = ("values", "subs")
    CONFIG = ("values",)

    @classmethod
    def configure(cls, config: Any, *args: Any) -> "Fork":
        f = cls.__new__(cls)
        f.sub_layouts = None
        if args and type(args[0]) is str:  # name-first form: fork(name, values)
            f.add_sub_layout(args[0])
            args = args[1:]
        f.values = args[0] if args else undefined
        f.reset()
        return f

    def reset(self) -> None:
        subs = getattr(self, "subs", None)
        self.subs: list[Pipeline] | None = None
        if subs:
            for p in subs:
                p.end()

    def shutdown(self) -> None:
        for p in self.subs or ():
            p.shutdown()

    def process(self, evt: Any) -> None:
        subs = self.subs
        if subs is None:
            subs = self.subs = self._start()
        for p in subs:
            p.input(clone_event(evt))
        self.next.process(evt)

    def _start(self) -> list[Pipeline]:
        layout = self.sub_layouts[0]
        values = self.values
        if values is undefined:
            return [start_sub(self, layout, output=DISCARD)]
        v = self.eval_arg(values)
        if v is FAILED:
            return []
        if isinstance(v, list):
            ctx = self.pipeline.context
            return [start_sub(self, layout, ctx.clone(), DISCARD, (x,)) for x in v]
        return [start_sub(self, layout, output=DISCARD, args=(v,))]
