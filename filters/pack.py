"""pack and split: message batching and splitting (reference §2.2 rows 54, 65).

``pack(batchSize = 1, {vacancy, interval, timeout, prefix, postfix, separator})`` joins the
bodies of up to ``batchSize`` messages into one message with the head of the first; the batch
is output when it is full, on a MessageEnd at least ``interval`` after the last output, when no
message has ended for ``timeout`` (checked at least once a second), or at StreamEnd. Bodies are
joined as ``prefix + body1 + separator + body2 … + postfix``. ``vacancy`` tunes how Pipy
compacts its memory chunks; a joined Python ``bytes`` has nothing to compact, so it is accepted
and ignored. Pipy measures ``interval`` from the epoch, which makes its first message always
flush at once; pipyd measures it from the stream's start.

``split(separator)`` (a string, Data or a function giving one, at most 1024 bytes) cuts each
message body at every separator; each piece becomes a message with the original head (the last
one also gets the tail). Empty pieces between separators are kept; an empty remainder is not.
"""
from __future__ import annotations

import asyncio
import time
from typing import Any

from pipyd import log
from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.js.values import type_error, undefined
from pipyd.pipeline import FAILED, Filter
from pipyd.registry import register
from pipyd.units import parse_duration

from .http import options_arg


def _to_bytes(v: Any, what: str) -> bytes:
    if v is undefined or v is None:
        return b""
    if type(v) is str:
        return v.encode("utf-8", "surrogatepass")
    if type(v) is Data:
        return v.to_bytes()
    raise type_error(f"{what}: expects a string or a Data")


@register("pack")
class Pack(Filter):
    __slots__ = ("batch", "interval", "timeout", "prefix", "postfix", "separator",
                 "head", "bodies", "starts", "ends", "last_input", "last_flush", "timer")
    CONFIG = ("batch", "interval", "timeout", "prefix", "postfix", "separator")

    @classmethod
    def configure(cls, config: Any, batch: Any = undefined, *args: Any) -> "Pack":
        f = cls.__new__(cls)
        if batch is undefined or batch is None:
            batch = 1
        if type(batch) is bool or not isinstance(batch, (int, float)):
            raise type_error("pack: argument #1 expects a number")
        f.batch = int(batch)
        opts = options_arg("pack", args)
        v = opts.get("vacancy", undefined)
        if v is not undefined and v is not None and not isinstance(v, (int, float)):
            raise type_error("pack: vacancy expects a number")
        f.interval = _duration(opts, "interval")
        f.timeout = _duration(opts, "timeout")
        f.prefix = _to_bytes(opts.get("prefix"), "pack: prefix")
        f.postfix = _to_bytes(opts.get("postfix"), "pack: postfix")
        f.separator = _to_bytes(opts.get("separator"), "pack: separator")
        f.reset()
        return f

    def reset(self) -> None:
        t = getattr(self, "timer", None)
        if t is not None:
            t.cancel()
        self.timer: Any = None
        self.head: Any = None
        self.bodies: list[list[bytes]] = []
        self.starts = 0
        self.ends = 0
        self.last_input = self.last_flush = time.monotonic()

    def process(self, evt: Any) -> None:
        t = type(evt)
        if t is MessageStart:
            if self.starts == 0:
                self.head = evt.head
                self.bodies = []
            self.starts += 1
            self.bodies.append([])
        elif t is Data:
            if self.starts and self.bodies:
                self.bodies[-1].extend(evt.chunks)
        elif t is MessageEnd:
            if not self.starts:
                return
            self.ends += 1
            now = self.last_input = time.monotonic()
            if (self.starts == self.ends and self.ends >= self.batch) or \
                    (self.interval > 0 and now - self.last_flush >= self.interval):
                self.flush(evt)
            else:
                self._arm()
        elif t is StreamEnd:
            if self.ends and self.starts == self.ends:
                self.flush(MessageEnd())
            self.next.process(evt)

    def flush(self, end: MessageEnd) -> None:
        parts = [self.prefix] if self.prefix else []
        sep = self.separator
        for i, body in enumerate(self.bodies):
            if i and sep:
                parts.append(sep)
            parts.extend(body)
        if self.postfix:
            parts.append(self.postfix)
        head = self.head
        self.head, self.bodies, self.starts, self.ends = None, [], 0, 0
        self.last_flush = time.monotonic()
        nxt = self.next
        nxt.process(MessageStart(head))
        nxt.process(Data.from_bytes(b"".join(parts)))
        nxt.process(end)

    def _arm(self) -> None:
        if self.timeout <= 0 or self.timer is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self.timer = loop.call_later(min(self.timeout, 1.0), self._check)

    def _check(self) -> None:
        self.timer = None
        if self.ends and self.ends == self.starts:
            if time.monotonic() - self.last_input >= self.timeout:
                self.flush(MessageEnd())
                return
            self._arm()

    def dump(self) -> str:
        return "pack"


def _duration(opts: Any, key: str) -> float:
    v = opts.get(key, undefined)
    return 0.0 if v is undefined or v is None else parse_duration(v, key)


@register("split")
class Split(Filter):
    __slots__ = ("separator", "sep", "head", "buf", "inside")
    CONFIG = ("separator",)

    @classmethod
    def configure(cls, config: Any, separator: Any = undefined, *rest: Any) -> "Split":
        f = cls.__new__(cls)
        if not callable(separator) or type(separator) is Data:
            b = _to_bytes(separator, "split: argument #1")
            _check_separator(b)
            separator = b
        f.separator = separator
        f.reset()
        return f

    def reset(self) -> None:
        self.sep = b""
        self.head: Any = None
        self.buf = b""
        self.inside = False

    def process(self, evt: Any) -> None:
        t = type(evt)
        if t is MessageStart:
            if self.inside:
                return
            sep = self.separator
            if type(sep) is not bytes:
                v = self.callback(sep)
                try:
                    sep = b"" if v is FAILED else _to_bytes(v, "split: separator")
                    _check_separator(sep)
                except Exception as e:
                    log.error(f"[split] {e}")
                    sep = b""
            self.sep = sep
            self.head = evt.head
            self.buf = b""
            self.inside = True
        elif t is Data:
            if not self.inside:
                self.next.process(evt)
                return
            buf = self.buf + evt.to_bytes() if self.buf else evt.to_bytes()
            sep = self.sep
            if sep:
                pieces = buf.split(sep)
                for piece in pieces[:-1]:
                    self._emit(piece, None)
                buf = pieces[-1]
            self.buf = buf
        elif t is MessageEnd:
            if self.inside:
                self.inside = False
                buf, self.buf = self.buf, b""
                if buf:
                    self._emit(buf, evt.tail)
        elif t is StreamEnd:
            if self.inside:
                self.inside = False
                if self.buf:
                    self._emit(self.buf, None)
                self.buf = b""
            self.next.process(evt)

    def _emit(self, piece: bytes, tail: Any) -> None:
        nxt = self.next
        nxt.process(MessageStart(self.head))
        if piece:
            nxt.process(Data.from_bytes(piece))
        nxt.process(MessageEnd(tail))

    def dump(self) -> str:
        return "split"


def _check_separator(b: bytes) -> None:
    if not b:
        raise type_error("split: separator is empty")
    if len(b) > 1024:
        raise type_error("split: separator is longer than 1024 bytes")
