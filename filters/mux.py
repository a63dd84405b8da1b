"""The mux family's shared sessions, and the mux, merge and muxQueue filters (reference §2.2
rows 49, 50, 52; §2.3; onStart arguments §1.3).

Every filter instance of one prototype (one place of one layout: "merging only happens between
instances of the same filter at the same place") shares a ``SessionMap``. A filter instance
evaluates its key once (``group()`` in its own context, or ``__inbound`` when there is no group
or it returns undefined) and borrows a ``MuxSession`` from the key's ``SessionCluster``:

- a session is one sub-pipeline, created with a context *cloned* from the borrower that made it,
  ``onStart(key, n)`` where n counts the cluster's sessions including the new one (Pipy);
- ``maxQueue`` bounds the borrowers of one session (more open another session under the key);
  ``maxMessages`` bounds the messages one session carries in its life;
- a session nobody borrows is closed once it has been free for ``maxIdle`` (60 s), checked once
  a second. Pipy applies this to primitive keys only and keeps object-keyed sessions until the
  key object is collected; pipyd does both for object keys, because a session's cloned context
  usually references its own key (``__inbound``, a balancer target), so without the idle check
  such a session would only ever end with its upstream;
- when the sub-pipeline outputs ``StreamEnd`` (its upstream died) the session leaves its cluster
  at once: the next message opens a new one.

Sub-pipeline flow control: a session serves many downstream connections, so it gets no
``FlowControl`` of theirs (a slow client must not pause everybody's upstream). A session kind
may give its sub-pipeline a flow of its own (``session_flow()``): muxHTTP's follows the client
whose response is being read (filters/mux_http.py).
"""
from __future__ import annotations

import asyncio
import time
import weakref
from collections import deque
from typing import Any, Callable

from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.js.values import JSObject, type_error, undefined
from pipyd.pipeline import FAILED, JointFilter
from pipyd.registry import register
from pipyd.units import parse_duration

DEFAULT_MAX_IDLE = 60.0


def defer(fn: Callable[[], Any]) -> None:
    """Run ``fn`` after the current event chain (a sub-pipeline cannot be ended from inside its
    own output call); at once when no event loop runs (unit tests)."""
    try:
        asyncio.get_running_loop().call_soon(fn)
    except RuntimeError:
        fn()


class MuxOptions:
    __slots__ = ("max_idle", "max_queue", "max_messages", "extra")

    def __init__(self, opts: Any, name: str) -> None:
        if opts is undefined or opts is None:
            opts = JSObject()
        if not isinstance(opts, dict):
            raise type_error(f"{name}: options expects an object")
        v = opts.get("maxIdle", undefined)
        self.max_idle = DEFAULT_MAX_IDLE if v is undefined or v is None else parse_duration(v, "maxIdle")
        self.max_queue = _int_opt(opts, "maxQueue")
        self.max_messages = _int_opt(opts, "maxMessages")
        self.extra = opts  # filter-specific options (isOneWay, bufferSize, version)


def _int_opt(opts: Any, key: str) -> int:
    v = opts.get(key, undefined)
    if v is undefined or v is None:
        return 0
    if type(v) is bool or not isinstance(v, (int, float)):
        raise type_error(f"{key}: expects a number")
    return int(v)


class MuxSession:
    """One shared sub-pipeline. Subclasses turn borrowers' messages into its input
    (``send``) and its output back into replies (``on_output``)."""

    __slots__ = ("cluster", "pipeline", "shares", "messages", "free_since", "dead")

    def __init__(self) -> None:
        self.cluster: SessionCluster | None = None
        self.pipeline: Any = None
        self.shares = 0
        self.messages = 0
        self.free_since = 0.0
        self.dead = False

    def process(self, evt: Any) -> None:  # the sub-pipeline's output target
        if self.dead:
            return
        if type(evt) is StreamEnd:
            self.drop()  # first: whoever is answered below must not get this session again
            self.on_upstream_end(evt.error)
        else:
            self.on_output(evt)

    def on_output(self, evt: Any) -> None:
        """The sub-pipeline's output (mux/merge: discarded)."""

    def session_flow(self) -> Any:
        """The FlowControl the sub-pipeline runs with (None: no back-pressure)."""
        return None

    def on_upstream_end(self, error: str) -> None:
        """The sub-pipeline ended its output: fail whatever still waits on it."""

    def usable(self, max_messages: int) -> bool:
        return not self.dead and (max_messages <= 0 or self.messages < max_messages)

    def isolate(self) -> None:
        """Leave the cluster: nobody new borrows this session; current borrowers keep it."""
        c = self.cluster
        if c is not None:
            self.cluster = None
            c.discard(self)

    def drop(self) -> None:
        """The session is over: out of its cluster, its sub-pipeline ended soon after."""
        if self.dead:
            return
        self.dead = True
        self.isolate()
        p = self.pipeline
        if p is not None:
            defer(p.end)

    def close(self) -> None:
        """End the session from our side: the sub-pipeline gets StreamEnd, then ends."""
        if self.dead:
            return
        p = self.pipeline
        self.dead = True
        self.isolate()
        self.on_upstream_end("")
        if p is not None:
            p.input(StreamEnd())
            defer(p.end)


class SessionCluster:
    """The sessions of one key, least borrowed first when picking."""

    __slots__ = ("smap", "key", "sessions", "ref")

    def __init__(self, smap: "SessionMap", key: Any) -> None:
        self.smap = smap
        self.key = key
        self.sessions: list[MuxSession] = []
        self.ref: Any = None  # weakref to an object key

    def pick(self, max_queue: int, max_messages: int) -> MuxSession | None:
        best = None
        for s in self.sessions:
            if s.usable(max_messages) and (max_queue <= 0 or s.shares < max_queue):
                if best is None or s.shares < best.shares:
                    best = s
        return best

    def discard(self, s: MuxSession) -> None:
        try:
            self.sessions.remove(s)
        except ValueError:
            return
        if not self.sessions:
            self.smap.forget(self)

    def close_all(self) -> None:
        for s in list(self.sessions):
            s.close()


def _map_key(key: Any) -> Any:
    # JS keys: true and 1 are different keys; Python would merge them in a dict
    return ("\0bool", key) if type(key) is bool else key


class SessionMap:
    """Shared by every clone of one filter prototype: key -> SessionCluster."""

    __slots__ = ("options", "clusters", "timer", "now", "__weakref__")

    def __init__(self, options: MuxOptions) -> None:
        self.options = options
        self.clusters: dict[Any, SessionCluster] = {}
        self.timer: Any = None
        self.now: Callable[[], float] = time.monotonic  # tests inject a clock here

    def borrow(self, key: Any, new_session: Callable[[SessionCluster], MuxSession]) -> MuxSession:
        """A session for ``key`` with one more borrower; ``new_session(cluster)`` makes (and
        starts) a new one when none can take it."""
        cluster = self._cluster(key)
        o = self.options
        sessions = cluster.sessions
        if len(sessions) == 1 and o.max_queue <= 0 and o.max_messages <= 0 and not sessions[0].dead:
            s = sessions[0]  # the usual case: one session per key, no limits (pick() inlined)
        else:
            s = cluster.pick(o.max_queue, o.max_messages)
            if s is None:
                s = new_session(cluster)
        s.shares += 1
        return s

    def give_back(self, s: MuxSession) -> None:
        s.shares -= 1
        if s.shares <= 0:
            s.shares = 0
            s.free_since = self.now()
            if s.dead or s.cluster is None:
                return
            if self.options.max_messages > 0 and s.messages >= self.options.max_messages:
                defer(s.close)  # used up and nobody on it: nothing more will go through it
            elif self.timer is None:
                self._schedule()

    def add(self, cluster: SessionCluster, s: MuxSession) -> int:
        s.cluster = cluster
        cluster.sessions.append(s)
        return len(cluster.sessions)

    def _cluster(self, key: Any) -> SessionCluster:
        t = type(key)
        if t is str or t is int or t is float or t is bool or key is None or key is undefined:
            mk = _map_key(key)
            c = self.clusters.get(mk)
            if c is not None:
                return c
            weak = None
        else:
            # An object key is looked up by identity; its cluster's weakref tells a live key
            # from a collected one whose id() was reused. The weakref is made only when a
            # cluster is (every request of a proxy borrows under the same balancer target).
            mk = ("\0obj", id(key))
            c = self.clusters.get(mk)
            if c is not None and c.ref is not None and c.ref() is key:
                return c
            try:
                weak = weakref.ref(key) if not isinstance(key, (str, int, float)) else None
            except TypeError:
                weak = None
            if weak is None:
                mk = key
                c = self.clusters.get(mk)
                if c is not None and c.ref is None:
                    return c
        c = SessionCluster(self, mk)
        if weak is not None:
            sref = weakref.ref(self)
            c.ref = weakref.ref(key, lambda _r, c=c: _key_collected(sref, c))
        self.clusters[mk] = c
        return c

    def forget(self, c: SessionCluster) -> None:
        if self.clusters.get(c.key) is c:
            del self.clusters[c.key]

    # -- idle sessions --

    def _schedule(self) -> None:
        if self.timer is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop (unit tests): they call recycle() themselves
        self.timer = loop.call_later(1.0, self._tick)

    def _tick(self) -> None:
        self.timer = None
        if self.recycle():
            self._schedule()

    def recycle(self, now: float | None = None) -> bool:
        """Close sessions free for maxIdle; whether free sessions remain to watch."""
        now = self.now() if now is None else now
        max_idle = self.options.max_idle
        waiting = False
        for c in list(self.clusters.values()):
            for s in list(c.sessions):
                if s.shares == 0 and not s.dead:
                    if now - s.free_since >= max_idle:
                        s.close()
                    else:
                        waiting = True
        return waiting

    def close_all(self) -> None:
        for c in list(self.clusters.values()):
            c.close_all()


def _key_collected(sref: Any, c: SessionCluster) -> None:
    """An object key was collected: its sessions end (Pipy's weak keys)."""
    smap = sref()
    if smap is None:
        return
    smap.forget(c)
    defer(c.close_all)


class MuxBase(JointFilter):
    """``(group?, options?)`` or name-first ``(name, group?, options?)``; the prototype owns the
    SessionMap. Per instance: the key (evaluated once) and the borrowed session."""

    __slots__ = ("group", "smap", "key", "session")
    CONFIG = ("group", "smap")

    @classmethod
    def configure(cls, config: Any, *args: Any) -> "MuxBase":
        f = cls.__new__(cls)
        f.sub_layouts = None
        if args and type(args[0]) is str:
            f.add_sub_layout(args[0])
            args = args[1:]
        group = undefined
        if args and callable(args[0]) and not isinstance(args[0], dict):
            group, args = args[0], args[1:]
        elif args and (args[0] is undefined or args[0] is None) and len(args) > 1:
            args = args[1:]
        opts = args[0] if args else undefined
        f.group = group
        f.smap = SessionMap(f.make_options(opts))
        f.init_state()
        return f

    def make_options(self, opts: Any) -> MuxOptions:
        return MuxOptions(opts, self.NAME)

    def init_state(self) -> None:
        self.key: Any = undefined
        self.session: MuxSession | None = None

    def reset(self) -> None:
        s = self.session
        if s is not None:
            self.session = None
            self.smap.give_back(s)
        self.init_state()

    def session_key(self) -> Any:
        key = self.key
        if key is undefined:
            if self.group is not undefined:
                key = self.callback(self.group)
                if key is FAILED:
                    key = undefined
            if key is undefined:
                key = self.pipeline.context.inbound
            self.key = key
        return key

    def acquire(self) -> MuxSession:
        """This instance's session, a new one when it has none or its own has died."""
        s = self.session
        if s is not None and not s.dead:
            return s
        if s is not None:
            self.session = None
            self.smap.give_back(s)
        key = self.key
        if key is undefined:
            key = self.session_key()
        s = self.session = self.smap.borrow(key, self._start_session)
        return s

    def _start_session(self, cluster: SessionCluster) -> MuxSession:
        s = self.new_session()
        n = self.smap.add(cluster, s)
        ctx = self.pipeline.context.clone()
        s.pipeline = self.sub_layouts[0].instantiate(ctx, s, (self.key, n), s.session_flow())
        return s

    def new_session(self) -> MuxSession:
        raise NotImplementedError


class CopySession(MuxSession):
    """mux/merge: each borrower's complete message goes in; the output is dropped."""

    __slots__ = ()

    def send(self, head: Any, body: list[bytes], tail: Any) -> None:
        p = self.pipeline
        self.messages += 1
        p.input(MessageStart(head))
        if body:
            p.input(Data.from_chunks(body))
        p.input(MessageEnd(tail))


@register("mux")
class Mux(MuxBase):
    """Passes its input through and copies each complete message (body buffered, §2.3) into
    the shared session, whose output is discarded."""

    __slots__ = ("head", "body")

    def init_state(self) -> None:
        super().init_state()
        self.head: Any = None
        self.body: list[bytes] = []

    def new_session(self) -> MuxSession:
        return CopySession()

    def process(self, evt: Any) -> None:
        t = type(evt)
        if t is MessageStart:
            if self.head is None:
                self.head = evt.head
                self.body = []
        elif t is Data:
            if self.head is not None:
                self.body.extend(evt.chunks)
        elif t is MessageEnd:
            if self.head is not None:
                self._copy(evt.tail)
        elif t is StreamEnd and self.head is not None:
            self._copy(None)  # a message cut short still counts (Pipy)
        self.next.process(evt)

    def _copy(self, tail: Any) -> None:
        head, body = self.head, self.body
        self.head, self.body = None, []
        s = self.acquire()
        s.send(head, body, tail)


@register("merge")
class Merge(Mux):
    """Pipy's undocumented ``merge``: the same copying as ``mux`` (guide 11)."""

    __slots__ = ()


class Slot:
    """One request waiting for its reply on a queue session; ``owner`` is None once the
    requesting filter has gone (the reply is then read and dropped, keeping FIFO order)."""

    __slots__ = ("owner", "started", "done")

    def __init__(self, owner: Any) -> None:
        self.owner = owner
        self.started = False
        self.done = False


class QueueSession(MuxSession):
    """muxQueue: requests in, replies matched back first-in first-out."""

    __slots__ = ("slots",)

    def __init__(self) -> None:
        super().__init__()
        self.slots: deque[Slot] = deque()

    def send(self, slot: Slot | None, head: Any, body: list[bytes], tail: Any) -> None:
        if slot is not None:
            self.slots.append(slot)
        self.messages += 1
        p = self.pipeline
        p.input(MessageStart(head))
        if body:
            p.input(Data.from_chunks(body))
        p.input(MessageEnd(tail))

    def on_output(self, evt: Any) -> None:
        slots = self.slots
        if not slots:
            return
        slot = slots[0]
        t = type(evt)
        if t is MessageStart:
            if slot.started:
                return
            slot.started = True
        elif t is Data:
            if not slot.started:
                return
        elif t is MessageEnd:
            if not slot.started:
                return
            slots.popleft()
            slot.done = True
        else:
            return
        if slot.owner is not None:
            slot.owner.next.process(evt)

    def on_upstream_end(self, error: str) -> None:
        # Pipy: every waiting request gets an (empty) start if it had none, then the StreamEnd
        slots, self.slots = self.slots, deque()
        for slot in slots:
            slot.done = True
            o = slot.owner
            if o is not None:
                if not slot.started:
                    o.next.process(MessageStart())
                o.next.process(StreamEnd(error))


@register("muxQueue")
class MuxQueue(MuxBase):
    """``muxQueue(group?, {maxIdle, maxQueue, maxMessages, isOneWay})``: each complete message
    goes to the shared session; its replies come back in order to the right filter. A message
    for which ``isOneWay(MessageStart)`` is truthy gets no reply slot."""

    __slots__ = ("one_way", "head", "body", "slots")
    CONFIG = ("one_way",)

    def make_options(self, opts: Any) -> MuxOptions:
        o = MuxOptions(opts, self.NAME)
        v = o.extra.get("isOneWay", undefined)
        if v is not undefined and v is not None and not callable(v):
            raise type_error("muxQueue: isOneWay expects a function")
        self.one_way = None if v is undefined else v
        return o

    def init_state(self) -> None:
        super().init_state()
        self.head: Any = None
        self.body: list[bytes] = []
        self.slots: list[Slot] = []

    def reset(self) -> None:
        for slot in self.slots:
            slot.owner = None
        super().reset()

    def new_session(self) -> MuxSession:
        return QueueSession()

    def process(self, evt: Any) -> None:
        t = type(evt)
        if t is MessageStart:
            if self.head is None:
                self.head = evt
                self.body = []
        elif t is Data:
            if self.head is not None:
                self.body.extend(evt.chunks)
        elif t is MessageEnd or t is StreamEnd:
            if self.head is not None:
                self._send(evt.tail if t is MessageEnd else None)

    def _send(self, tail: Any) -> None:
        start, body = self.head, self.body
        self.head, self.body = None, []
        slot = None
        if self.one_way is None or not _truthy(self.callback(self.one_way, start)):
            slot = Slot(self)
            self.slots = [s for s in self.slots if not s.done]
            self.slots.append(slot)
        s = self.acquire()
        s.send(slot, start.head, body, tail)


def _truthy(v: Any) -> bool:
    return v is not FAILED and bool(v) and (type(v) is not float or v == v)
