"""The `connect` filter: the proxy's upstream edge (reference §2.2 row 9).

``connect(target, options)`` opens an outbound connection (``pipyd.outbound``) on the first
event that is not a ``StreamEnd``; ``target`` is ``"host:port"``, ``"[ipv6]:port"`` or a
function returning one, called then in the pipeline's context (so ``connect(() => _target)``
sees the variable set by earlier filters). Input ``Data`` is written upstream, input
``StreamEnd`` half-closes the connection after flushing; the upstream's bytes are output as
``Data`` and its end as one ``StreamEnd`` carrying Pipy's error code (§1.1), which the HTTP
decoder maps to 502/504 (§4.6). The pipeline ending closes the connection.
"""
from __future__ import annotations

from typing import Any

from pipyd import log
from pipyd.events import Data, StreamEnd
from pipyd.js.values import type_error, undefined
from pipyd.outbound import Outbound, OutboundOptions, open_outbound, parse_target
from pipyd.pipeline import FAILED, Filter
from pipyd.registry import register


@register("connect")
class Connect(Filter):
    __slots__ = ("target", "options", "outbound", "watching", "ended")
    CONFIG = ("target", "options")

    @classmethod
    def configure(cls, config: Any, target: Any = undefined,
                  options: Any = undefined, *rest: Any) -> "Connect":
        if type(target) is str:
            try:
                parse_target(target)
            except ValueError as e:
                raise type_error(f"connect: {e}") from None
        elif not callable(target):
            raise type_error("connect: argument #1 expects a string or a function")
        f = cls.__new__(cls)
        f.target = target
        f.options = OutboundOptions.from_js(options)
        f.reset()
        return f

    def reset(self) -> None:
        ob = getattr(self, "outbound", None)
        if ob is not None:
            self._unwatch(ob)
            ob.close()
        self.outbound: Outbound | None = None
        self.watching = False
        self.ended = False

    def process(self, evt: Any) -> None:
        ob = self.outbound
        t = type(evt)
        if ob is None:
            if self.ended:
                return
            if t is StreamEnd:
                # nothing was ever sent: no connection; the stream just ends here
                self.ended = True
                self.next.process(evt)
                return
            ob = self._open()
            if ob is None:
                return
        if t is Data:
            ob.send(evt)
        elif t is StreamEnd:
            ob.end()
        else:
            ob.mark(evt)

    def _open(self) -> Outbound | None:
        value = self.eval_arg(self.target)
        try:
            if value is FAILED:
                raise ValueError("target function threw")
            host, port = parse_target(value)
        except ValueError as e:
            log.error(f"[connect] {e}")
            self.ended = True
            self.next.process(StreamEnd("CannotResolve"))
            return None
        p = self.pipeline
        ob = self.outbound = open_outbound(host, port, self.options, self.next, p)
        flow = p.flow
        watch = getattr(flow, "watch_output", None)
        if watch is not None:
            watch(ob.downstream_congested)
            self.watching = True
        return ob

    def _unwatch(self, ob: Outbound) -> None:
        if self.watching:
            self.watching = False
            self.pipeline.flow.unwatch_output(ob.downstream_congested)

    def dump(self) -> str:
        return "connect"
