"""Debugging filters: dump, print, dummy, tee (reference §2.2 rows 29, 30, 55, 66).

``dump`` and ``print`` write through the logger but bypass its threshold, as Pipy's do (§6).
dump's lines: ``[dump] [context=<id>] [<tag>] <EventType> <JSON>`` (the ``[<tag>]`` part only
when a tag is given); a Data event prints ``Data [size = <n>]`` followed, on the same log
entry, by a ``hexdump -C`` style table.
"""
from __future__ import annotations

import math
import os
import sys
from typing import Any, BinaryIO

from pipyd import log
from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.js.values import HostObject, JSArray, type_error, undefined
from pipyd.pipeline import FAILED, Filter
from pipyd.registry import register


def _is_function(v: Any) -> bool:
    return callable(v) and not isinstance(v, (HostObject, type))


def _json_str(s: str) -> str:
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif o < 0x20:
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b",
                        "\f": "\\f"}.get(ch, f"\\u{o:04x}"))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def to_json(v: Any) -> str:
    """JSON.stringify for the values a head or tail holds (undefined members omitted)."""
    t = type(v)
    if v is None or v is undefined:
        return "null"
    if t is bool:
        return "true" if v else "false"
    if t is int:
        return str(v)
    if t is float:
        if not math.isfinite(v):
            return "null"
        return str(int(v)) if v.is_integer() and abs(v) < 1e21 else repr(v)
    if t is str:
        return _json_str(v)
    if t is JSArray or t is list or t is tuple:
        return "[" + ",".join("null" if x is undefined or callable(x) else to_json(x)
                              for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ",".join(f"{_json_str(str(k))}:{to_json(x)}" for k, x in v.items()
                              if x is not undefined and not _is_function(x)) + "}"
    if isinstance(v, HostObject):
        members = [(k, getattr(v, k, undefined)) for k in sorted(type(v).js_get)]
        return "{" + ",".join(f"{_json_str(k)}:{to_json(x)}" for k, x in members
                              if x is not undefined and not callable(x)) + "}"
    return "null"


def hex_table(b: bytes) -> list[str]:
    """``hexdump -C`` lines: offset, 16 hex bytes in two groups, printable ASCII."""
    lines = []
    for off in range(0, len(b), 16):
        row = b[off:off + 16]
        hexes = " ".join(f"{x:02x}" for x in row[:8])
        if len(row) > 8:
            hexes += "  " + " ".join(f"{x:02x}" for x in row[8:])
        text = "".join(chr(x) if 32 <= x < 127 else "." for x in row)
        lines.append(f"{off:08x}  {hexes:<48}  |{text}|")
    return lines


@register("dump")
class Dump(Filter):
    """``dump(tag? | fn)``: logs every event and passes it on."""

    __slots__ = ("tag",)
    CONFIG = ("tag",)

    @classmethod
    def configure(cls, config: Any, *args: Any) -> "Dump":
        tag = args[0] if args else undefined
        if tag is not undefined and tag is not None and not _is_function(tag) \
                and type(tag) not in (str, int, float):
            raise type_error("dump: argument #1 expects a string or a function")
        f = cls.__new__(cls)
        f.tag = tag
        return f

    def process(self, evt: Any) -> None:
        tag = self.tag
        if _is_function(tag):
            tag = self.callback(tag)
            if tag is FAILED:
                tag = undefined
        prefix = f"[dump] [context={self.pipeline.context.id}] "
        if tag is not undefined and tag is not None:
            prefix += f"[{tag}] "
        log.always(prefix + describe(evt))
        self.next.process(evt)


def describe(evt: Any) -> str:
    t = type(evt)
    if t is Data:
        return "\n".join([f"Data [size = {evt.size}]"] + hex_table(evt.to_bytes()))
    if t is MessageStart:
        return f"MessageStart {to_json(evt.head)}"
    if t is MessageEnd:
        return f"MessageEnd {to_json(evt.tail)}"
    if t is StreamEnd:
        return f"StreamEnd {evt.error}" if evt.error else "StreamEnd"
    return type(evt).__name__


@register("print")
class Print(Filter):
    """``print()``: logs the text of passing Data, one log line per text line (a partial
    line is flushed at the end of a message or stream)."""

    __slots__ = ("pending",)

    @classmethod
    def configure(cls, config: Any, *args: Any) -> "Print":
        f = cls.__new__(cls)
        f.reset()
        return f

    def reset(self) -> None:
        self.pending = b""

    def process(self, evt: Any) -> None:
        t = type(evt)
        if t is Data:
            b = self.pending + evt.to_bytes()
            *lines, self.pending = b.split(b"\n")
            for line in lines:
                log.always(line.decode("utf-8", "replace"))
        elif (t is MessageEnd or t is StreamEnd) and self.pending:
            log.always(self.pending.decode("utf-8", "replace"))
            self.pending = b""
        self.next.process(evt)


@register("dummy")
class Dummy(Filter):
    """``dummy()``: swallows every event."""

    __slots__ = ()

    @classmethod
    def configure(cls, config: Any, *args: Any) -> "Dummy":
        return cls.__new__(cls)

    def process(self, evt: Any) -> None:
        pass


@register("tee")
class Tee(Filter):
    """``tee(filename | fn)``: writes passing Data to a file, ``'-'`` = stdout. The file is
    opened (created with its directories, truncated) at the stream's first event and closed
    at its StreamEnd; the events pass on unchanged."""

    __slots__ = ("target", "file", "opened")
    CONFIG = ("target",)

    @classmethod
    def configure(cls, config: Any, *args: Any) -> "Tee":
        target = args[0] if args else undefined
        if type(target) is not str and not _is_function(target):
            raise type_error("tee: argument #1 expects a string or a function")
        f = cls.__new__(cls)
        f.target = target
        f.reset()
        return f

    def reset(self) -> None:
        f = getattr(self, "file", None)
        if f is not None and f is not _stdout():
            f.close()
        self.file: BinaryIO | None = None
        self.opened = False

    def open(self) -> None:
        self.opened = True
        name = self.target
        if _is_function(name):
            name = self.callback(name)
            if name is FAILED:
                return
        name = str(name)
        if name == "-":
            self.file = _stdout()
            return
        try:
            d = os.path.dirname(name)
            if d:
                os.makedirs(d, exist_ok=True)
            self.file = open(name, "wb")
        except OSError as e:
            log.error(f"[tee] cannot open file {name}: {e.strerror}")

    def process(self, evt: Any) -> None:
        if not self.opened:
            self.open()
        f = self.file
        t = type(evt)
        if f is not None:
            if t is Data:
                for c in evt.chunks:
                    f.write(c)
                if f is _stdout():
                    f.flush()
            elif t is StreamEnd:
                self.reset()
                self.opened = True  # one file per stream
        self.next.process(evt)


def _stdout() -> BinaryIO:
    return sys.stdout.buffer
