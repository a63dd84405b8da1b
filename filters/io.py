"""``input`` and ``output``: a side channel back up the pipeline tree (reference §2.2 rows 47,
53).

``input([cb]).to(layout)`` (or name-first ``input(name[, cb])``) sends its input to a sub-
pipeline sharing the context; what this filter outputs is only what ``output()`` filters send
it: every ``output()`` without an argument in that sub-pipeline or any pipeline it starts
(the nearest ``input()`` is inherited through ``Lineage.output``), or any ``output(() => h)``
given the handle ``h`` that ``cb(h)`` received. The sub-pipeline's own output is discarded.

``output([fn])`` consumes its input and sends it to the nearest ancestor ``input()``, or to the
Output ``fn()`` returns on the first event (``__inbound.output`` writes to the connection).
With neither, the events are dropped.
"""
from __future__ import annotations

from typing import Any

from pipyd import log
from pipyd.inbound import Output
from pipyd.js.values import type_error, undefined
from pipyd.pipeline import DISCARD, FAILED, Filter, JointFilter, Pipeline, SubOutput
from pipyd.registry import register

from .chain import Lineage, lineage_of, start_sub


@register("input")
class Input(JointFilter):
    __slots__ = ("cb", "sub", "handle")
    CONFIG = ("cb",)

    @classmethod
    def configure(cls, config: Any, *args: Any) -> "Input":
        f = cls.__new__(cls)
        f.sub_layouts = None
        if args and type(args[0]) is str:  # name-first form: input(name, cb)
            f.add_sub_layout(args[0])
            args = args[1:]
        cb = args[0] if args else undefined
        if cb is undefined or cb is None:
            cb = None
        elif not callable(cb):
            raise type_error("input: argument #1 expects a function")
        f.cb = cb
        f.reset()
        return f

    def reset(self) -> None:
        sub = getattr(self, "sub", None)
        self.sub: Pipeline | None = None
        self.handle: Output | None = None
        if sub is not None:
            sub.end()

    def shutdown(self) -> None:
        if self.sub is not None:
            self.sub.shutdown()

    def process(self, evt: Any) -> None:
        sub = self.sub
        if sub is None:
            sub = self.sub = self._start()
        sub.input(evt)

    def _start(self) -> Pipeline:
        handle = self.handle = Output(SubOutput(self))
        if self.cb is not None:
            self.callback(self.cb, handle)
        lin = lineage_of(self.pipeline)
        inherited = Lineage(lin.chain, lin.index, handle) if lin else Lineage(None, 0, handle)
        return start_sub(self, self.sub_layouts[0], output=DISCARD, lineage=inherited)


@register("output")
class OutputFilter(Filter):
    __slots__ = ("target_fn", "target")
    CONFIG = ("target_fn",)

    @classmethod
    def configure(cls, config: Any, fn: Any = undefined, *rest: Any) -> "OutputFilter":
        if fn is not undefined and fn is not None and not callable(fn) \
                and not isinstance(fn, Output):
            raise type_error("output: argument #1 expects a function")
        f = cls.__new__(cls)
        f.target_fn = None if fn is undefined else fn
        f.reset()
        return f

    def reset(self) -> None:
        self.target: Any = None

    def process(self, evt: Any) -> None:
        target = self.target
        if target is None:
            target = self.target = self._resolve()
        target.process(evt)

    def _resolve(self) -> Any:
        fn = self.target_fn
        if fn is None:
            lin = lineage_of(self.pipeline)
            return lin.output if lin is not None and lin.output is not None else DISCARD
        v = self.eval_arg(fn)
        if isinstance(v, Output):
            return v
        if v is not FAILED:
            log.error("[output] the function did not return an Output object")
        return DISCARD
