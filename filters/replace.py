"""The replace* filters: put a script's output in place of events (reference §2.2 rows 56–62).

A replacement is either a function of the replaced event (or message, or body) or a constant
"output value": an Event, a Message, an array of those, or nothing (§2.3). A constant that is
not an output value (a plain string, a number) is refused at configure time; a function
returning one logs ``[<filter>] output is not events or messages`` and outputs nothing. A
function that throws is logged and the replaced event is dropped.

Pipy behaviours kept: ``replaceStreamStart()``/``replaceData()`` with no argument delete the
event; ``replaceMessage`` completes a message cut short by a StreamEnd and swallows that
StreamEnd. Choices of ours (Pipy's source does not settle them): when the stream's first event
is a StreamEnd, ``replaceStreamStart`` outputs the replacement and then the StreamEnd (so the
stream still ends); ``replaceMessageBody`` at a StreamEnd mid-message outputs the replaced
body and passes the StreamEnd on.
"""
from __future__ import annotations

from typing import Any

from pipyd.events import (
    Data, Message, MessageEnd, MessageStart, StreamEnd, is_output_value, output_events,
)
from pipyd.js.values import HostObject, type_error
from pipyd.pipeline import FAILED, Filter
from pipyd.registry import register

from .handle import MessageBuffer, size_limit_args


def _is_function(v: Any) -> bool:
    return callable(v) and not isinstance(v, (HostObject, type))


class Replacement:
    """A configured replacement: a function, or a constant's events (precomputed once)."""

    __slots__ = ("fn", "events")

    def __init__(self, name: str, args: tuple) -> None:
        value = args[0] if args else None
        if _is_function(value):
            self.fn = value
            self.events: list = []
            return
        if not is_output_value(value):
            raise type_error(f"{name}: argument #1 expects a function or events/messages")
        self.fn = None
        self.events = output_events(value)


class ReplaceFilter(Filter):
    """Shared emit logic: ``replace(filter, arg)`` outputs the replacement for ``arg``."""

    __slots__ = ("rep",)
    CONFIG = ("rep",)

    def replace(self, arg: Any) -> None:
        fn = self.rep.fn
        if fn is None:
            nxt = self.next
            for e in self.rep.events:
                # a fresh Data per output so a downstream shift() cannot empty the constant
                nxt.process(Data(e) if type(e) is Data else e)
            return
        value = self.callback(fn, arg)
        if value is not FAILED:
            self.output_value(value)


class ReplaceEvent(ReplaceFilter):
    """Replaces every event of one type (``EVENT``); others pass untouched."""

    __slots__ = ()
    EVENT: type = Data

    @classmethod
    def configure(cls, config: Any, *args: Any) -> "ReplaceEvent":
        f = cls.__new__(cls)
        f.rep = Replacement(cls.NAME, args)
        return f

    def process(self, evt: Any) -> None:
        if type(evt) is self.EVENT:
            self.replace(evt)
        else:
            self.next.process(evt)


@register("replaceData")
class ReplaceData(ReplaceEvent):
    __slots__ = ()
    EVENT = Data


@register("replaceMessageStart")
class ReplaceMessageStart(ReplaceEvent):
    __slots__ = ()
    EVENT = MessageStart


@register("replaceMessageEnd")
class ReplaceMessageEnd(ReplaceEvent):
    __slots__ = ()
    EVENT = MessageEnd


@register("replaceStreamEnd")
class ReplaceStreamEnd(ReplaceEvent):
    __slots__ = ()
    EVENT = StreamEnd


@register("replaceStreamStart")
class ReplaceStreamStart(ReplaceFilter):
    """Replaces the first event of the stream; no argument drops it."""

    __slots__ = ("started",)

    @classmethod
    def configure(cls, config: Any, *args: Any) -> "ReplaceStreamStart":
        f = cls.__new__(cls)
        f.rep = Replacement(cls.NAME, args)
        f.reset()
        return f

    def reset(self) -> None:
        self.started = False

    def process(self, evt: Any) -> None:
        if self.started:
            self.next.process(evt)
            return
        self.started = True
        self.replace(evt)
        if type(evt) is StreamEnd:
            self.next.process(evt)


class ReplaceWhole(ReplaceFilter):
    """Buffers each message's body (up to a size limit) and replaces at MessageEnd."""

    __slots__ = ("limit", "start", "buffer")
    CONFIG = ("limit",)

    @classmethod
    def configure(cls, config: Any, *args: Any) -> "ReplaceWhole":
        limit, rest = size_limit_args(cls.NAME, args)
        f = cls.__new__(cls)
        f.rep = Replacement(cls.NAME, rest)
        f.limit = limit
        f.reset()
        return f

    def reset(self) -> None:
        self.start: MessageStart | None = None
        self.buffer: MessageBuffer | None = None

    def begin(self, evt: MessageStart) -> None:
        self.start = evt
        if self.buffer is None:
            self.buffer = MessageBuffer(self.limit)
        else:
            self.buffer.clear()


@register("replaceMessage")
class ReplaceMessage(ReplaceWhole):
    """``replaceMessage([sizeLimit,] replacement | fn(Message))``: a whole message in, the
    replacement out; events outside messages pass through."""

    __slots__ = ()

    def process(self, evt: Any) -> None:
        t = type(evt)
        start = self.start
        if start is None:
            if t is MessageStart:
                self.begin(evt)
            else:
                self.next.process(evt)
            return
        if t is Data:
            self.buffer.add(evt, self.NAME)
        elif t is MessageEnd:
            self.start = None
            self.replace(Message(start.head, self.buffer.take(), evt.tail))
        elif t is StreamEnd:
            # Pipy: the StreamEnd completes the message and is swallowed (§2.2 row 57)
            self.start = None
            self.replace(Message(start.head, self.buffer.take(), None))
        elif t is MessageStart:
            # a new message before the last one ended: the unfinished one is dropped
            self.begin(evt)


@register("replaceMessageBody")
class ReplaceMessageBody(ReplaceWhole):
    """``replaceMessageBody([sizeLimit,] replacement | fn(Data))``: head and tail pass, the
    whole body is replaced."""

    __slots__ = ()

    def process(self, evt: Any) -> None:
        t = type(evt)
        if self.start is None:
            if t is MessageStart:
                self.begin(evt)
            self.next.process(evt)
            return
        if t is Data:
            self.buffer.add(evt, self.NAME)
            return
        if t is MessageEnd or t is StreamEnd:
            self.start = None
            self.replace(self.buffer.take())
        self.next.process(evt)
