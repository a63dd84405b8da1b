"""Task roots (reference §1.2): `task()` once at start, `task('5s')` every interval,
`task('SIGHUP')` on a signal, and pipyd's `task('*/5 * * * *')` on a cron schedule.

A task pipeline gets no input (its ``onStart`` injects events) and its output is discarded,
except that a ``StreamEnd`` coming out of it ends the run: the task is *active* from the
moment a run starts until its pipeline outputs a StreamEnd, and a new run never starts
while one is active (Pipy's Task: ``run()`` does nothing while ``active()``). So a timer
tick, a signal or a cron time that comes during a run is dropped — missed runs are skipped,
never piled up (logged at debug level for cron, where a user may wonder).

Spec strings, as Pipy reads them: empty = one-shot; starting with a digit = an interval
(a Pipy duration, within [0.01 s, 24 h]; the first run is at start); otherwise a signal name.
pipyd adds cron: five whitespace-separated fields (minute hour day month weekday), parsed
by croniter, in local time. A script's signal task replaces the daemon's default handling
of that signal (``SignalTable``).
"""
from __future__ import annotations

import asyncio
import os
import signal
import stat
import sys
import time
import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from croniter import croniter

from pipyd import log
from pipyd.context import touch_group
from pipyd.events import Data, StreamEnd
from pipyd.flow import TransportFlow
from pipyd.js.values import js_error, type_error, undefined
from pipyd.units import parse_duration

# Pipy's accepted signal names (reference §1.2). SIGKILL and SIGSTOP are accepted as names
# but cannot be caught: a task for them never runs (a warning says so at start).
VALID_SIGNALS = (
    "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGFPE", "SIGKILL",
    "SIGBUS", "SIGSEGV", "SIGSYS", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGURG", "SIGSTOP",
    "SIGTSTP", "SIGCONT", "SIGCHLD", "SIGTTIN", "SIGTTOU", "SIGIO", "SIGXCPU", "SIGXFSZ",
    "SIGVTALRM", "SIGPROF", "SIGWINCH",
)
MIN_INTERVAL = 0.01
MAX_INTERVAL = 24 * 60 * 60


@dataclass(frozen=True)
class TaskSpec:
    """What triggers a task: kind is 'once', 'interval', 'signal' or 'cron'."""

    kind: str
    text: str = ""
    interval: float = 0.0
    signum: int = 0

    def describe(self) -> str:
        return {"once": "Task", "interval": f"Task every {self.text}",
                "signal": f"Task on {self.text}", "cron": f"Task at '{self.text}'"}[self.kind]


def parse_task_spec(when: Any = undefined) -> TaskSpec:
    """The argument of `task()` as a TaskSpec; raises a JS error for a bad one (at configure
    time, so the module fails to load as in Pipy)."""
    if when is undefined or when is None:
        return TaskSpec("once")
    if type(when) is not str:
        raise type_error("task: expected a string")  # [src] numbers are rejected
    text = when.strip()
    if not text:
        return TaskSpec("once")
    if len(text.split()) == 5:
        if not croniter.is_valid(text):
            raise js_error("Error", f"invalid cron expression: {when}")
        return TaskSpec("cron", text)
    if text[0].isdigit():
        seconds = parse_duration(text, "task interval")
        if seconds < MIN_INTERVAL or seconds > MAX_INTERVAL:
            raise js_error("Error", f"task interval out of range: {when}")
        return TaskSpec("interval", text, interval=seconds)
    if text in VALID_SIGNALS:
        return TaskSpec("signal", text, signum=int(getattr(signal, text)))
    raise js_error("Error", f"invalid signal name: {when}")


def next_cron_time(expr: str, after: float) -> float:
    """The first time strictly after ``after`` (a Unix time) that ``expr`` names, in local
    time as cron does."""
    it = croniter(expr, datetime.fromtimestamp(after).astimezone())
    return it.get_next(float)


class SignalTable:
    """Who handles each signal in this process: a script's signal tasks when there are any,
    else the daemon's default (SIGINT/SIGTERM/SIGHUP from the CLI), else nobody.

    Reload swaps task sets without a gap: the new worker's tasks are added before the old
    ones are removed, and the default comes back when the last task for a signal goes."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.defaults: dict[int, Callable[[], Any]] = {}
        self.tasks: dict[int, list[Callable[[], Any]]] = {}
        self.installed: set[int] = set()

    def set_default(self, signum: int, fn: Callable[[], Any]) -> None:
        self.defaults[signum] = fn
        self._sync(signum)

    def clear_default(self, signum: int) -> None:
        self.defaults.pop(signum, None)
        self._sync(signum)

    def add_task(self, signum: int, fn: Callable[[], Any]) -> None:
        self.tasks.setdefault(signum, []).append(fn)
        self._sync(signum)

    def remove_task(self, signum: int, fn: Callable[[], Any]) -> None:
        fns = self.tasks.get(signum)
        if fns and fn in fns:
            fns.remove(fn)
            if not fns:
                del self.tasks[signum]
        self._sync(signum)

    def dispatch(self, signum: int) -> None:
        fns = self.tasks.get(signum)
        if fns:
            for fn in list(fns):
                fn()
        else:
            fn = self.defaults.get(signum)
            if fn is not None:
                fn()

    def _sync(self, signum: int) -> None:
        wanted = signum in self.defaults or signum in self.tasks
        if wanted and signum not in self.installed:
            try:
                self.loop.add_signal_handler(signum, self.dispatch, signum)
            except (RuntimeError, ValueError, OSError) as e:
                # SIGKILL/SIGSTOP cannot be caught; nor can anything outside the main thread
                log.warn(f"[task] cannot handle signal {signal.Signals(signum).name}: {e}")
                return
            self.installed.add(signum)
        elif not wanted and signum in self.installed:
            self.installed.discard(signum)
            if not self.loop.is_closed():
                self.loop.remove_signal_handler(signum)


_tables: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SignalTable]" = (
    weakref.WeakKeyDictionary())


def signal_table(loop: asyncio.AbstractEventLoop | None = None) -> SignalTable:
    """The SignalTable of ``loop`` (the running loop by default); one per loop."""
    loop = loop or asyncio.get_running_loop()
    table = _tables.get(loop)
    if table is None:
        table = _tables[loop] = SignalTable(loop)
    return table


class TaskRunner:
    """Starts runs of a task layout when its trigger fires and one is not already active.

    ``new_context(inbound)`` builds a fresh root context (Worker.new_context); task
    pipelines have no inbound."""

    def __init__(self, layout: Any, spec: TaskSpec | str | None, new_context: Callable[..., Any],
                 loop: asyncio.AbstractEventLoop | None = None,
                 signals: SignalTable | None = None) -> None:
        self.layout = layout
        self.spec = spec if isinstance(spec, TaskSpec) else parse_task_spec(
            undefined if spec is None else spec)
        self.new_context = new_context
        self.loop = loop
        self.signals = signals
        self.pipeline: Any = None  # the active run's pipeline
        self.runs = 0  # runs started (tests, stats)
        self.skipped = 0  # triggers dropped because a run was active
        self._timer: asyncio.TimerHandle | None = None
        self._started = False

    @property
    def active(self) -> bool:
        return self.pipeline is not None

    def start(self) -> None:
        if self._started:
            return
        self._started = True
        self.loop = self.loop or asyncio.get_running_loop()
        kind = self.spec.kind
        if kind == "once":
            self.run()
        elif kind == "interval":
            self._tick()  # Pipy schedules the first run at once, then every interval
        elif kind == "cron":
            self._schedule_cron()
        else:
            self.signals = self.signals or signal_table(self.loop)
            self.signals.add_task(self.spec.signum, self.trigger)

    def stop(self) -> None:
        """No more runs (a run in progress carries on; see ``shutdown``)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._started and self.spec.kind == "signal" and self.signals is not None:
            self.signals.remove_task(self.spec.signum, self.trigger)
        self._started = False

    def shutdown(self) -> None:
        """Graceful stop: no more runs; ask the active run's filters to finish."""
        self.stop()
        p = self.pipeline
        if p is not None and hasattr(p, "shutdown"):
            p.shutdown()

    def abort(self) -> None:
        """End the active run now (after a graceful wait ran out)."""
        self.stop()
        p = self.pipeline
        self.pipeline = None
        if p is not None and hasattr(p, "end"):
            p.end()

    @property
    def pipelines(self) -> int:
        return 0 if self.pipeline is None else 1

    def trigger(self) -> bool:
        """Start a run unless one is active; returns whether one started."""
        if self.pipeline is not None:
            self.skipped += 1
            if self.spec.kind == "cron":
                log.debug(f"[task] {self.spec.describe()}: previous run still active, skipped")
            return False
        self.run()
        return True

    def run(self) -> None:
        output = _TaskEnd(self)
        self.runs += 1
        context = self.new_context(None)
        # Mark active before instantiating: onStart may already end the run synchronously.
        self.pipeline = output
        try:
            pipeline = self.layout.instantiate(context, output, ())
        except Exception as e:
            log.error(f"[task] {self.spec.describe()}: {e}")
            self.pipeline = None
            return
        if self.pipeline is output:
            self.pipeline = pipeline
        output.pipeline = pipeline
        if output.ended:
            self._finish(output)

    def _finish(self, output: "_TaskEnd") -> None:
        if self.pipeline is output.pipeline or self.pipeline is output:
            self.pipeline = None
        p = output.pipeline
        if p is not None:
            output.pipeline = None
            # not from inside the pipeline's own process() call: end it on the next turn
            self.loop.call_soon(p.end)

    def _tick(self) -> None:
        self._timer = self.loop.call_later(self.spec.interval, self._tick)
        self.trigger()

    def _schedule_cron(self) -> None:
        now = time.time()
        at = next_cron_time(self.spec.text, now)
        self._timer = self.loop.call_later(max(0.0, at - now), self._cron_fire)

    def _cron_fire(self) -> None:
        # The next time is computed from *now*, so times missed while the loop was busy or
        # the machine slept are skipped, not replayed.
        self._schedule_cron()
        self.trigger()


class _TaskEnd:
    """A task pipeline's output: discards everything, and a StreamEnd ends the run."""

    __slots__ = ("runner", "pipeline", "ended")

    def __init__(self, runner: TaskRunner) -> None:
        self.runner = runner
        self.pipeline: Any = None
        self.ended = False

    def process(self, event: Any) -> None:
        if type(event) is StreamEnd and not self.ended:
            self.ended = True
            if self.pipeline is not None:
                self.runner._finish(self)


# -- file roots -----------------------------------------------------------------------------------

READ_CHUNK = 64 * 1024


class FileReader:
    """`read(path)` (reference §1.2): one pipeline at start whose input is the file's bytes
    then ``StreamEnd``; ``'-'`` reads stdin. Output is discarded; the pipeline is active until
    it outputs StreamEnd. Relative paths are relative to the current directory (the worker
    runs in the codebase root, as Pipy chdirs there).

    A regular file is read one chunk per loop turn, so a big file never blocks the worker;
    pipes and terminals go through an asyncio read-pipe transport. Either way a pipeline
    that pauses its input (``pipeline.pause_input()``) stops the reading."""

    def __init__(self, layout: Any, path: str, new_context: Callable[..., Any],
                 loop: asyncio.AbstractEventLoop | None = None, stdin: Any = None) -> None:
        self.layout = layout
        self.path = path
        self.new_context = new_context
        self.loop = loop
        self.stdin = stdin  # a binary file object for '-' (sys.stdin.buffer by default)
        self.pipeline: Any = None
        self.file: Any = None
        self.transport: Any = None  # for pipes
        self.flow: Any = None
        self.paused = False
        self.scheduled = False
        self.done = False

    @property
    def pipelines(self) -> int:
        return 0 if self.pipeline is None else 1

    def start(self) -> None:
        self.loop = self.loop or asyncio.get_running_loop()
        try:
            self.file = self._open()
        except OSError as e:
            log.error(f"[reader] Cannot open file {self.path}: {e.strerror}")
            return
        self.flow = TransportFlow(self)
        output = _TaskEnd(self)
        self.pipeline = output
        self.pipeline = self.layout.instantiate(self.new_context(None), output, (), self.flow)
        output.pipeline = self.pipeline
        if output.ended:
            self._finish(output)
        if _is_stream(self.file):
            self.loop.create_task(self._connect_pipe())
        else:
            self._schedule()

    def _open(self) -> Any:
        if self.path == "-":
            return self.stdin if self.stdin is not None else sys.stdin.buffer
        return open(self.path, "rb")

    async def _connect_pipe(self) -> None:
        proto = _PipeInput(self)
        self.transport, _ = await self.loop.connect_read_pipe(lambda: proto, self.file)
        if self.paused:
            self.transport.pause_reading()

    # the "transport" side of TransportFlow
    def pause_reading(self) -> None:
        self.paused = True
        if self.transport is not None:
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        self.paused = False
        if self.transport is not None:
            self.transport.resume_reading()
        else:
            self._schedule()

    def _schedule(self) -> None:
        if not self.scheduled and not self.done:
            self.scheduled = True
            self.loop.call_soon(self._pump)

    def _pump(self) -> None:
        self.scheduled = False
        if self.paused or self.done:
            return
        try:
            chunk = self.file.read(READ_CHUNK)
        except OSError as e:
            log.error(f"[reader] Error reading file {self.path}: {e.strerror}")
            return self._end("ReadError")
        if chunk:
            self.feed(chunk)
            self._schedule()
        else:
            self._end("")

    def feed(self, chunk: bytes) -> None:
        p = self.pipeline
        if p is not None and not self.done:
            p.input(Data.from_bytes(chunk))
            touch_group(p.context)

    def _end(self, error: str) -> None:
        if self.done:
            return
        self.done = True
        if self.file is not None and self.path != "-":
            self.file.close()
        if self.pipeline is not None:
            self.pipeline.input(StreamEnd(error))

    def _finish(self, output: "_TaskEnd") -> None:
        if self.pipeline is output.pipeline or self.pipeline is output:
            self.pipeline = None
        p = output.pipeline
        output.pipeline = None
        if p is not None:
            self.loop.call_soon(p.end)

    def stop(self) -> None:
        """Stop reading (the pipeline gets no StreamEnd; see shutdown/abort)."""
        self.done = True
        if self.transport is not None:
            self.transport.close()
            self.transport = None

    def shutdown(self) -> None:
        self.stop()
        if self.pipeline is not None:
            self.pipeline.shutdown()

    def abort(self) -> None:
        self.stop()
        p = self.pipeline
        self.pipeline = None
        if p is not None:
            p.end()


def _is_stream(f: Any) -> bool:
    """Pipes, sockets and terminals need a read-pipe transport; regular files do not."""
    try:
        mode = os.fstat(f.fileno()).st_mode
    except (OSError, AttributeError, ValueError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or stat.S_ISCHR(mode)


class _PipeInput(asyncio.Protocol):
    def __init__(self, reader: FileReader) -> None:
        self.reader = reader

    def data_received(self, data: bytes) -> None:
        self.reader.feed(data)

    def eof_received(self) -> None:
        self.reader._end("")

    def connection_lost(self, exc: Exception | None) -> None:
        self.reader._end("" if exc is None else "ReadError")
