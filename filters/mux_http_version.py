"""muxHTTP's session for a ``version`` function (reference §4.6, §1.4): it decides between
HTTP/1 (``mux_http.HTTPSession``) and HTTP/2 (``http2_client.H2ClientSession``) the way Pipy
does, then hands its place over to the session it chose."""
from __future__ import annotations

import math
from typing import Any

from pipyd import log
from pipyd.events import Data
from pipyd.pipeline import FlowControl, call_script

from .mux import MuxSession
from .mux_http import Exchange, HTTPSession, _h2_session


class VersionSelector(MuxSession):
    """A session whose ``version`` is a function (reference §4.6, §1.4), as Pipy decides it.

    The function is called in the session's own (cloned) context once its sub-pipeline exists,
    on the first request. A number chooses: 2 is HTTP/2, any other number HTTP/1 (with
    ``[muxHTTP] invalid HTTP version`` logged unless it is 1). Anything else (undefined, a
    string, a throw) leaves the session *pending*: requests queue here, an empty ``Data`` goes
    into the sub-pipeline so that ``connect()`` dials and ``connectTLS()`` shakes hands (its
    ``handshake`` callback can record the ALPN answer the function then reads), and the function
    is asked again each time the context group is touched (an event processed anywhere in the
    root context or its clones). Pipy gives up on a throwing function for good; we keep asking.

    Once chosen, the real session takes this one's place in its cluster and with the borrowers
    of the queued requests, which it is then sent; this object ends as a plain forwarder of the
    sub-pipeline's output to it (one more call per upstream event, for such sessions only).
    """

    __slots__ = ("options", "real", "queue", "group", "waiter", "flow")

    def __init__(self, options: Any) -> None:
        super().__init__()
        self.options = options
        self.real: MuxSession | None = None
        self.queue: list[tuple] = []
        self.group: Any = None
        self.waiter: Any = None
        self.flow = FlowControl()  # the sub-pipeline's; an HTTP/1 session follows clients with it

    def session_flow(self) -> FlowControl:
        return self.flow

    def process(self, evt: Any) -> None:
        real = self.real
        if real is not None:
            real.process(evt)
        else:
            MuxSession.process(self, evt)  # before a choice: bytes are dropped, as in Pipy

    def send(self, ex: Exchange, head: Any, body: list[bytes], size: int, is_head: bool) -> None:
        if self.real is not None:  # a borrower that still held this object
            return self.real.send(ex, head, body, size, is_head)
        ex.session = self
        self.queue.append((ex, head, body, size, is_head))
        if self.waiter is None:
            self._select()

    def forget(self, ex: Exchange) -> None:
        self.queue = [q for q in self.queue if q[0] is not ex]

    def _select(self) -> None:
        if self.dead or self.real is not None:
            return
        p = self.pipeline
        v = call_script(p.context, self.options.version)
        t = type(v)
        if t is int or t is float:  # a JS number (FAILED, a throw, is neither)
            return self._become(v)
        if self.waiter is None:  # pending: wait on the group, and start the sub-pipeline
            self.waiter = self._select
            self.group = p.context.get_group()
            self.group.add_waiter(self.waiter)
            p.input(Data())

    def _unwait(self) -> None:
        if self.waiter is not None:
            self.group.remove_waiter(self.waiter)
            self.waiter = self.group = None

    def _become(self, v: float) -> None:
        self._unwait()
        n = int(v) if math.isfinite(v) else 0
        if n == 2:
            real = _h2_session(self.options)
        else:
            if n != 1:
                log.error(f"[muxHTTP] invalid HTTP version: {n}")
            real = HTTPSession()
            real.flow = self.flow
        real.pipeline = self.pipeline
        real.free_since = self.free_since
        c = self.cluster
        if c is not None:
            c.sessions[c.sessions.index(self)] = real
            real.cluster = c
            self.cluster = None
        self.dead = True  # whoever still holds this one borrows again
        self.real = real
        queue, self.queue = self.queue, []
        for q in queue:
            o = q[0].owner
            if o is not None and o.session is self:  # its share moves with it
                o.session = real
                self.shares -= 1
                real.shares += 1
        for q in queue:
            if q[0].owner is not None:
                real.send(*q)

    def on_upstream_end(self, error: str) -> None:
        """The sub-pipeline ended (or we closed it) before a version was chosen."""
        self._unwait()
        queue, self.queue = self.queue, []
        for q in queue:
            HTTPSession._answer(q[0], error)
