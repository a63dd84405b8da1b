"""``exec(command)``: run a program per stream, stdin ← input Data, stdout → output Data
(reference §2.2 row 37).

``command`` is a string split on spaces (no shell, as Pipy's execvp), an array of arguments, or
a function returning either, evaluated on the stream's first event, when the process starts.
Input Data is written to the child's stdin and the input's StreamEnd closes it; the child's
stdout comes out as Data, and once the child has exited and its stdout is drained a
``StreamEnd`` follows. stderr is inherited (the daemon's log). When the pipeline ends first,
the child is sent SIGTERM.

Flow control both ways: a full stdin pipe pauses the pipeline's input, a congested output
(the root's client is slow) pauses reading the child's stdout.
"""
from __future__ import annotations

import asyncio
import subprocess
from typing import Any

from pipyd import log
from pipyd.events import Data, StreamEnd
from pipyd.js.coerce import to_string
from pipyd.js.values import JSArray, type_error, undefined
from pipyd.pipeline import FAILED, Filter
from pipyd.registry import register


def argv_of(value: Any) -> list[str]:
    """The argument vector of a command value: an array, or a string split on spaces."""
    if type(value) is JSArray or type(value) is list:
        return [to_string(v) for v in value]
    return [a for a in to_string(value).split(" ") if a]


class ChildProtocol(asyncio.SubprocessProtocol):
    """The child's pipes, reporting to its filter (``filter`` is None once it let go)."""

    def __init__(self, f: "Exec") -> None:
        self.filter: Exec | None = f
        self.stdout_open = True
        self.exited = False
        self.paused_input = False

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        f = self.filter
        if f is not None and fd == 1 and data:
            f.next.process(Data.from_bytes(data))

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        if fd == 1:
            self.stdout_open = False
            self._maybe_end()

    def process_exited(self) -> None:
        self.exited = True
        self._maybe_end()

    def _maybe_end(self) -> None:
        f = self.filter
        if f is not None and self.exited and not self.stdout_open:
            f.on_child_end()

    # the stdin pipe's write buffer crossed its high/low water mark
    def pause_writing(self) -> None:
        f = self.filter
        if f is not None and not self.paused_input:
            self.paused_input = True
            f.pipeline.pause_input()

    def resume_writing(self) -> None:
        f = self.filter
        if f is not None and self.paused_input:
            self.paused_input = False
            f.pipeline.resume_input()


@register("exec")
class Exec(Filter):
    __slots__ = ("command", "started", "transport", "protocol", "pending", "task",
                 "stdin_closed", "watcher")
    CONFIG = ("command",)

    @classmethod
    def configure(cls, config: Any, command: Any = undefined, *rest: Any) -> "Exec":
        if not (type(command) is str or type(command) is JSArray or callable(command)):
            raise type_error("exec: argument #1 expects a string, an array or a function")
        f = cls.__new__(cls)
        f.command = command
        f.reset()
        return f

    def reset(self) -> None:
        task = getattr(self, "task", None)
        if task is not None:
            task.cancel()
        self._release()
        self.started = False
        self.transport: asyncio.SubprocessTransport | None = None
        self.protocol: ChildProtocol | None = None
        self.pending: list | None = []
        self.task: asyncio.Task | None = None
        self.stdin_closed = False

    def _release(self) -> None:
        """Let go of the child: terminate it if still running, balance any pause."""
        proto = getattr(self, "protocol", None)
        if proto is not None:
            if proto.paused_input:
                self.pipeline.resume_input()
            proto.filter = None
        if getattr(self, "watcher", None) is not None:
            flow = self.pipeline.flow
            if flow is not None:
                flow.unwatch_output(self.watcher)
        self.watcher = None
        tr = getattr(self, "transport", None)
        if tr is not None:
            if tr.get_returncode() is None:
                try:
                    tr.terminate()  # SIGTERM, as Pipy
                except ProcessLookupError:
                    pass
            tr.close()

    def process(self, evt: Any) -> None:
        if not self.started:
            self.started = True
            if not self._start():
                return
        pending = self.pending
        if pending is not None:
            pending.append(evt)  # the child is still being spawned
            return
        self._feed(evt)

    def _start(self) -> bool:
        value = self.eval_arg(self.command)
        if value is FAILED:
            return False
        argv = argv_of(value)
        if not argv:
            log.error("[exec] command is empty")
            self.pending = None
            return False
        self.task = asyncio.get_running_loop().create_task(self._spawn(argv))
        return True

    async def _spawn(self, argv: list[str]) -> None:
        loop = asyncio.get_running_loop()
        proto = ChildProtocol(self)
        try:
            tr, _ = await loop.subprocess_exec(lambda: proto, *argv, stdin=subprocess.PIPE,
                                               stdout=subprocess.PIPE, stderr=None)
        except OSError as exc:
            log.error(f"[exec] unable to exec: {' '.join(argv)} ({exc.strerror or exc})")
            self.task = None
            self.pending = None
            self.next.process(StreamEnd())
            return
        self.task = None
        self.transport = tr
        self.protocol = proto
        flow = self.pipeline.flow
        if flow is not None:
            self.watcher = self._on_congestion
            flow.watch_output(self.watcher)
        pending, self.pending = self.pending, None
        for evt in pending or ():
            self._feed(evt)

    def _feed(self, evt: Any) -> None:
        tr = self.transport
        if tr is None or self.stdin_closed:
            return
        t = type(evt)
        stdin = tr.get_pipe_transport(0)
        if t is Data:
            if stdin is not None and not stdin.is_closing():
                for chunk in evt.chunks:
                    stdin.write(chunk)
        elif t is StreamEnd:
            self.stdin_closed = True
            if stdin is not None:
                stdin.close()  # EOF for the child; flushes what is buffered first

    def _on_congestion(self, congested: bool) -> None:
        tr = self.transport
        stdout = tr.get_pipe_transport(1) if tr is not None else None
        if stdout is None or stdout.is_closing():
            return
        if congested:
            stdout.pause_reading()
        else:
            stdout.resume_reading()

    def on_child_end(self) -> None:
        """The child exited and its stdout is drained."""
        proto = self.protocol
        if proto is not None:
            if proto.paused_input:
                proto.paused_input = False
                self.pipeline.resume_input()
            proto.filter = None
        self.protocol = None
        self.next.process(StreamEnd())
