"""The handle* filters: call a script function on events, pass the events through
(reference §2.2 rows 39–45).

Each callback runs before its event is passed on, so a change to ``evt.head`` is seen
downstream (the tutorial's path rewriting). A callback that throws is logged and its event is
dropped; the stream goes on (§2.3).
"""
from __future__ import annotations

from typing import Any

from pipyd import log
from pipyd.events import Data, Message, MessageEnd, MessageStart, StreamEnd
from pipyd.js.values import type_error
from pipyd.pipeline import FAILED, Filter, deliver_message
from pipyd.registry import register
from pipyd.units import is_size, parse_size


def _callback_arg(name: str, args: tuple) -> Any:
    if len(args) < 1 or not callable(args[0]):
        raise type_error(f"{name}: argument #1 expects a function")
    return args[0]


class HandleEvent(Filter):
    """Calls ``cb(evt)`` for every event of one type (``EVENT``); others pass untouched."""

    __slots__ = ("cb",)
    CONFIG = ("cb",)
    EVENT: type = Data

    @classmethod
    def configure(cls, config: Any, *args: Any) -> "HandleEvent":
        f = cls.__new__(cls)
        f.cb = _callback_arg(cls.NAME, args)
        return f

    def process(self, evt: Any) -> None:
        if type(evt) is self.EVENT and self.callback(self.cb, evt) is FAILED:
            return
        self.next.process(evt)


@register("handleData")
class HandleData(HandleEvent):
    __slots__ = ()
    EVENT = Data


@register("handleMessageStart")
class HandleMessageStart(HandleEvent):
    __slots__ = ()
    EVENT = MessageStart

    def process_message(self, head: Any, body: Any, tail: Any) -> None:
        """A whole message (``deliver_message``): the callback sees its start, then it goes
        on whole; a callback that throws drops the start only, as ``process`` does."""
        if self.callback(self.cb, MessageStart(head)) is FAILED:
            nxt = self.next
            if body is not None and body.size:
                nxt.process(body)
            nxt.process(MessageEnd(tail))
            return
        deliver_message(self.next, head, body, tail)


@register("handleMessageEnd")
class HandleMessageEnd(HandleEvent):
    __slots__ = ()
    EVENT = MessageEnd


@register("handleStreamEnd")
class HandleStreamEnd(HandleEvent):
    __slots__ = ()
    EVENT = StreamEnd


@register("handleStreamStart")
class HandleStreamStart(Filter):
    """Calls ``cb(firstEvent)`` once, on the first event of the stream whatever its type."""

    __slots__ = ("cb", "started")
    CONFIG = ("cb",)

    @classmethod
    def configure(cls, config: Any, *args: Any) -> "HandleStreamStart":
        f = cls.__new__(cls)
        f.cb = _callback_arg(cls.NAME, args)
        f.reset()
        return f

    def reset(self) -> None:
        self.started = False

    def process(self, evt: Any) -> None:
        if not self.started:
            self.started = True
            if self.callback(self.cb, evt) is FAILED:
                return
        self.next.process(evt)


def size_limit_args(name: str, args: tuple) -> tuple[int, tuple]:
    """Split an optional leading ``sizeLimit`` (number or ``'256k'``) off the arguments;
    -1 means no limit."""
    if len(args) >= 2 and is_size(args[0]):
        return parse_size(args[0], f"{name}: size limit"), args[1:]
    if len(args) >= 2 and args[0] is not None:
        raise type_error(f"{name}: argument #1 expects a number or a string")
    return -1, args[1:] if len(args) >= 2 else args


class MessageBuffer:
    """Collects one message's body up to a size limit (shared by handleMessage,
    replaceMessage and their Body variants). Over the limit the body is truncated and one
    error is logged per message, as Pipy does."""

    __slots__ = ("limit", "chunks", "size", "overflow")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.chunks: list[bytes] = []
        self.size = 0
        self.overflow = False

    def clear(self) -> None:
        self.chunks = []
        self.size = 0
        self.overflow = False

    def add(self, data: Data, name: str) -> None:
        limit = self.limit
        if limit < 0:
            self.chunks.extend(data.chunks)
            self.size += data.size
            return
        room = limit - self.size
        if data.size <= room:
            self.chunks.extend(data.chunks)
            self.size += data.size
            return
        if room > 0:
            self.chunks.append(data.to_bytes()[:room])
            self.size = limit
        if not self.overflow:
            self.overflow = True
            log.error(f"[{name}] message body exceeds the size limit of {limit} bytes, truncated")

    def take(self) -> Data:
        d = Data.from_chunks(self.chunks)
        self.chunks = []
        self.size = 0
        self.overflow = False
        return d


class HandleWholeMessage(Filter):
    """Passes every event through and, at each MessageEnd, calls the callback with the
    buffered message before passing the MessageEnd on. A StreamEnd in the middle of a message
    discards it (the message never completed)."""

    __slots__ = ("cb", "limit", "head", "buffer")
    CONFIG = ("cb", "limit")

    @classmethod
    def configure(cls, config: Any, *args: Any) -> "HandleWholeMessage":
        limit, rest = size_limit_args(cls.NAME, args)
        f = cls.__new__(cls)
        f.cb = _callback_arg(cls.NAME, rest)
        f.limit = limit
        f.reset()
        return f

    def reset(self) -> None:
        self.head = None
        self.buffer: MessageBuffer | None = None

    def process(self, evt: Any) -> None:
        t = type(evt)
        if t is Data:
            if self.buffer is not None:
                self.buffer.add(evt, self.NAME)
        elif t is MessageStart:
            self.head = evt
            if self.buffer is None:
                self.buffer = MessageBuffer(self.limit)
            else:
                self.buffer.clear()
        elif t is MessageEnd:
            start = self.head
            if start is not None:
                self.head = None
                body = self.buffer.take()
                if self.callback(self.cb, self.argument(start, body, evt)) is FAILED:
                    return
        elif t is StreamEnd:
            self.head = None
        self.next.process(evt)

    def argument(self, start: MessageStart, body: Data, end: MessageEnd) -> Any:
        return Message(start.head, body, end.tail)


@register("handleMessage")
class HandleMessage(HandleWholeMessage):
    """``handleMessage([sizeLimit,] cb(Message))``."""

    __slots__ = ()


@register("handleMessageBody")
class HandleMessageBody(HandleWholeMessage):
    """``handleMessageBody([sizeLimit,] cb(Data))``: the callback gets the whole body."""

    __slots__ = ()

    def argument(self, start: MessageStart, body: Data, end: MessageEnd) -> Any:
        return body
