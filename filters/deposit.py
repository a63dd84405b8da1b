"""``depositMessage(filename | fn, {threshold, keep})``: spool large bodies to a file
(reference §2.2 row 27).

The first ``threshold`` bytes of a body (default 0; a size such as ``'1m'``) pass through at
once. Once that much has passed, the rest of the body is written to the file (named by
``filename``, or the function's result, evaluated when the file is first needed; parent
directories are created) instead of being held in memory. At the end of the message the
spooled part is read back and output in chunks from the event loop, then the MessageEnd;
the file (which holds the whole body) is removed unless ``keep`` is true.

While a body is being read back, the pipeline's input is paused and events that still
arrive are held, then processed in order. Each message of a stream is deposited on its own
(Pipy 0.70 handled only the first), and a StreamEnd is always passed on.
"""
from __future__ import annotations

import asyncio
import os
from typing import Any, BinaryIO

from pipyd import log
from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.js.coerce import to_boolean, to_string
from pipyd.js.values import type_error, undefined
from pipyd.pipeline import FAILED, Filter
from pipyd.registry import register
from pipyd.units import parse_size

READ_CHUNK = 65536


@register("depositMessage")
class DepositMessage(Filter):
    __slots__ = ("filename", "threshold", "keep", "started", "passed", "prefix", "path",
                 "writer", "failed", "held", "task", "paused")
    CONFIG = ("filename", "threshold", "keep")

    @classmethod
    def configure(cls, config: Any, filename: Any = undefined, options: Any = undefined,
                  *rest: Any) -> "DepositMessage":
        if type(filename) is not str and not callable(filename):
            raise type_error("depositMessage: argument #1 expects a string or a function")
        threshold, keep = 0, False
        if isinstance(options, dict):
            t = options.get("threshold", undefined)
            if t is not undefined and t is not None:
                threshold = parse_size(t, "depositMessage: threshold")
            keep = to_boolean(options.get("keep", False))
        elif options is not undefined and options is not None:
            raise type_error("depositMessage: argument #2 expects an object")
        f = cls.__new__(cls)
        f.filename = filename
        f.threshold = threshold
        f.keep = keep
        f.reset()
        return f

    def reset(self) -> None:
        task = getattr(self, "task", None)
        if task is not None:
            task.cancel()
        self._close_writer()
        if getattr(self, "paused", False):
            self.pipeline.resume_input()
        path = getattr(self, "path", None)
        if path is not None and not self.keep:
            _unlink(path)
        self._new_message(False)
        self.held: list | None = None  # not None while a body is read back
        self.task: asyncio.Task | None = None
        self.paused = False

    def _new_message(self, started: bool) -> None:
        self.started = started
        self.passed = 0
        self.prefix: list[bytes] = []
        self.path: str | None = None
        self.writer: BinaryIO | None = None
        self.failed = False

    def _close_writer(self) -> None:
        w = getattr(self, "writer", None)
        if w is not None:
            w.close()
            self.writer = None

    def process(self, evt: Any) -> None:
        if self.held is not None:
            self.held.append(evt)
            return
        t = type(evt)
        if t is Data:
            if self.started and evt.size:
                self._body(evt)
                return
        elif t is MessageStart:
            if not self.started:
                self._new_message(True)
        elif t is MessageEnd or t is StreamEnd:
            if self.writer is not None:
                self._read_back(evt)
                return
            self._new_message(False)
        self.next.process(evt)

    def _body(self, evt: Data) -> None:
        if self.writer is None:
            if self.passed < self.threshold:
                self.passed += evt.size
                self.prefix.extend(evt.chunks)
                self.next.process(evt)
                return
            if self.failed or not self._open():
                return  # no file to spool to: the rest of the body is dropped (logged)
        self.writer.writelines(evt.chunks)

    def _open(self) -> bool:
        name = self.eval_arg(self.filename)
        if name is FAILED:
            self.failed = True
            return False
        path = to_string(name)
        try:
            parent = os.path.dirname(path)
            if parent:
                os.makedirs(parent, exist_ok=True)
            self.writer = open(path, "wb")
        except OSError as exc:
            log.error(f"[depositMessage] cannot open {path}: {exc.strerror or exc}")
            self.failed = True
            return False
        self.path = path
        self.writer.writelines(self.prefix)  # the file holds the whole body
        self.prefix = []
        return True

    def _read_back(self, end: Any) -> None:
        self._close_writer()
        self.held = []
        self.paused = True
        self.pipeline.pause_input()
        self.task = asyncio.get_running_loop().create_task(self._stream(end))

    async def _stream(self, end: Any) -> None:
        path = self.path
        try:
            with open(path, "rb") as r:
                r.seek(self.passed)
                while True:
                    chunk = r.read(READ_CHUNK)
                    if not chunk:
                        break
                    self.next.process(Data.from_bytes(chunk))
                    if self.held is None:
                        return  # the pipeline ended meanwhile (reset() cleaned up)
                    await asyncio.sleep(0)  # one chunk per loop turn
        except OSError as exc:
            log.error(f"[depositMessage] cannot read {path}: {exc.strerror or exc}")
        self.task = None
        if not self.keep:
            _unlink(path)
        self._new_message(False)
        held, self.held = self.held, None
        self.paused = False
        self.pipeline.resume_input()  # reading restarts from a later loop turn
        self.next.process(end)
        for evt in held or ():
            if self.pipeline.ended:
                return
            self.process(evt)  # may start another read-back: process() holds the rest


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass
