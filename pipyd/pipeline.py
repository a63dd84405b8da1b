"""Filters, joint filters, pipeline layouts and pipelines (reference §1.2; docs/internals/pipeline.md).

Events move by direct calls: ``filter.process(evt)`` handles one event and hands each output to
``self.next.process(...)`` — the next filter, or the pipeline's output target. A layout holds
filter *prototypes* built once at module load; ``layout.instantiate()`` clones them (``__slots__``
objects, configuration shared by reference) and wires the chain.

A filter subclass declares which of its slots are configuration in ``CONFIG`` (copied by the
base ``clone()``); every other slot is per-stream state that ``reset()`` (re)initialises.
``reset()`` runs on every clone and when the pipeline ends, so a joint filter ends its
sub-pipelines there. A filter may also define ``init_state()``: the per-stream state of a fresh
clone, which ``clone()`` then calls instead of ``reset()`` (a reset that first cleans up a
previous stream would read unset slots there, each read costing a caught AttributeError, on
every request of a proxy). A subclass that overrides ``reset()`` but not ``init_state()``
is cloned through its ``reset()`` again.
"""
from __future__ import annotations

from operator import methodcaller
from typing import Any, Callable, ClassVar, Iterable, Protocol

from pipyd import log
from pipyd.events import MessageEnd, MessageStart, output_events
from pipyd.js import scope
from pipyd.js.values import HostObject

__all__ = [
    "EventTarget", "Discard", "DISCARD", "FlowControl", "Filter", "JointFilter",
    "SubOutput", "PipelineLayout", "Pipeline", "module_graph", "report_script_error",
    "call_script", "deliver_message", "expand_message",
]


class EventTarget(Protocol):
    def process(self, event: Any) -> None: ...


class Discard:
    """An output that drops everything (task/read roots, fork/mux sub-pipelines)."""

    __slots__ = ()

    def process(self, event: Any) -> None:
        pass

    def process_message(self, head: Any, body: Any, tail: Any) -> None:
        pass


def deliver_message(target: Any, head: Any, body: Any, tail: Any) -> None:
    """Hand ``target`` a whole message (``body`` a Data or None): in one call to its
    ``process_message`` when it has one, else as the events ``MessageStart(head)``,
    ``Data(body)`` (when not empty), ``MessageEnd(tail)``.

    HTTP codecs call this when one read holds a whole message (a small request or response),
    so that the filters on a proxy's path (handleMessageStart, branch, muxHTTP, demuxHTTP's
    response writer) take it in one hop instead of three. A ``process_message`` must do
    exactly what its ``process`` does with those three events in a row; a filter that has
    nothing faster to do simply has none.
    """
    take = getattr(target, "process_message", None)
    if take is not None:
        take(head, body, tail)
    else:
        expand_message(target.process, head, body, tail)


def expand_message(process: Callable[[Any], Any], head: Any, body: Any, tail: Any) -> None:
    """``process`` each event of a whole message in turn: the fallback of a ``process_message``
    for the states it has no fast path for."""
    process(MessageStart(head))
    if body is not None and body.size:
        process(body)
    process(MessageEnd(tail))


DISCARD = Discard()

FAILED: Any = type("FailedType", (), {"__repr__": lambda self: "Filter.FAILED",
                                      "__slots__": ()})()


def report_script_error(exc: BaseException) -> None:
    """Log a script error with its JS location and backtrace (reference §2.3)."""
    try:
        from pipyd.js.backtrace import format_js_error
    except ImportError:  # engine not integrated yet: the bare message
        text = str(exc) or type(exc).__name__
    else:
        text = format_js_error(exc)
    lines = text.splitlines() or [""]
    log.error(f"[pjs] {lines[0]}")
    for line in lines[1:]:
        log.error(line)


def call_script(context: Any, fn: Callable[..., Any], args: Iterable[Any] = ()) -> Any:
    """Call a script function in ``context``; errors are logged and give ``FAILED``."""
    scope.ACTIVE.current = context
    try:
        return fn(*args)
    except Exception as exc:  # any script error: logged, the pipeline goes on (§2.3)
        report_script_error(exc)
        return FAILED


class FlowControl:
    """Back-pressure toward the source feeding a root pipeline.

    The object that feeds a root pipeline (an inbound connection, a file reader) subclasses
    this and implements ``pause_reading()``/``resume_reading()``; it is handed to
    ``layout.instantiate(..., flow=...)`` and inherited by every sub-pipeline. A filter that
    cannot take more input (a throttle, a connect whose peer is slow) calls
    ``self.pipeline.pause_input()`` and later ``resume_input()``. Pauses nest: reading stops on
    the first pause and restarts when every pause has been resumed, so a filter must resume
    exactly as often as it paused (including from ``reset()`` if it is ended while paused).
    """

    __slots__ = ("paused", "watchers", "congested")

    def __init__(self) -> None:
        self.paused = 0
        self.watchers: list[Callable[[bool], Any]] = []
        self.congested = False

    # The other direction: the root's own output (the client) is slow. Filters that produce
    # output from elsewhere (connect reading an upstream) watch this and stop reading while
    # it is congested, so a slow client never makes a fast upstream grow our memory.
    def watch_output(self, fn: Callable[[bool], Any]) -> None:
        self.watchers.append(fn)
        if self.congested:
            fn(True)

    def unwatch_output(self, fn: Callable[[bool], Any]) -> None:
        try:
            self.watchers.remove(fn)
        except ValueError:
            pass

    def output_congested(self, flag: bool) -> None:
        if flag is self.congested:
            return
        self.congested = flag
        for fn in list(self.watchers):
            fn(flag)

    def pause(self) -> None:
        self.paused += 1
        if self.paused == 1:
            self.pause_reading()

    def resume(self) -> None:
        if self.paused > 0:
            self.paused -= 1
            if self.paused == 0:
                self.resume_reading()

    def pause_reading(self) -> None:
        """Stop reading from the source (override)."""

    def resume_reading(self) -> None:
        """Start reading again (override)."""


_config_cache: dict[type, tuple[str, ...]] = {}


def _config_slots(cls: type) -> tuple[str, ...]:
    names = _config_cache.get(cls)
    if names is None:
        seen: list[str] = []
        for k in reversed(cls.__mro__):
            for n in k.__dict__.get("CONFIG", ()):
                if n not in seen:
                    seen.append(n)
        names = _config_cache[cls] = tuple(seen)
    return names


def _owner(cls: type, name: str) -> type | None:
    """The class of ``cls``'s MRO that defines ``name``."""
    for k in cls.__mro__:
        if name in k.__dict__:
            return k
    return None


def _make_cloner(cls: type) -> Callable[[Any], Any]:
    """``clone()`` for ``cls`` as straight-line code (one attribute copy per CONFIG slot): a
    request through a proxy clones several filters, and a getattr/setattr loop over the names
    cost more than the rest of the clone."""
    names = _config_slots(cls)
    body = "".join(f"    f.{n} = self.{n}\n" for n in names)
    init = "init_state" if _owner(cls, "init_state") is not None and issubclass(
        _owner(cls, "init_state"), _owner(cls, "reset") or object) else "reset"
    # the base reset() does nothing: not called at all for the filters that keep it
    call = "" if init == "reset" and _owner(cls, "reset") is Filter else f"    f.{init}()\n"
    src = f"def clone(self):\n    f = new(cls)\n{body}{call}    return f\n"
    ns: dict[str, Any] = {"new": object.__new__, "cls": cls}
    exec(src, ns)  # noqa: S102 -- the names are the class's own slot names
    fn = ns["clone"]
    fn.__qualname__ = f"{cls.__qualname__}.clone"
    fn._generated_for = cls  # type: ignore[attr-defined]
    return fn


class Filter:
    """Base of every filter. See the module docstring for CONFIG/reset()."""

    __slots__ = ("pipeline", "next")
    NAME: ClassVar[str] = ""
    CONFIG: ClassVar[tuple[str, ...]] = ()
    FAILED: ClassVar[Any] = FAILED

    def __init_subclass__(cls, **kw: Any) -> None:
        super().__init_subclass__(**kw)
        # Every class that does not write its own clone() gets a generated one (the inherited
        # generated clone copies the parent's CONFIG only).
        inherited = cls.clone
        if inherited is Filter.clone or getattr(inherited, "_generated_for", None) is not None:
            cls.clone = _make_cloner(cls)  # type: ignore[method-assign]

    @classmethod
    def configure(cls, config: Any, *args: Any) -> "Filter":
        """Build the prototype from a script's arguments (argument errors: JS TypeError)."""
        raise NotImplementedError(f"{cls.__name__}.configure")

    def clone(self) -> "Filter":
        cls = type(self)
        f = cls.__new__(cls)
        for name in _config_slots(cls):
            setattr(f, name, getattr(self, name))
        f.reset()
        return f

    def reset(self) -> None:
        """Forget per-stream state."""

    def process(self, event: Any) -> None:
        self.next.process(event)

    def dump(self) -> str:
        """This filter's text in the startup graph."""
        return self.NAME

    def shutdown(self) -> None:
        """Graceful stop requested: finish the current message, then end."""

    # -- helpers for subclasses ---------------------------------------------------------------

    def output(self, event: Any) -> None:
        self.next.process(event)

    def output_value(self, value: Any) -> None:
        """Emit a script's output value (Event, Message, array, null); log anything else."""
        try:
            events = output_events(value)
        except Exception:
            log.error(f"[{self.NAME}] output is not events or messages")
            return
        nxt = self.next
        for evt in events:
            nxt.process(evt)

    def callback(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Call a script function in this pipeline's context (``scope.ACTIVE.current``); a
        script error is logged with its JS location and ``Filter.FAILED`` is returned so the
        filter drops the event (reference §2.3)."""
        scope.ACTIVE.current = self.pipeline.context
        try:
            return fn(*args)
        except Exception as exc:
            report_script_error(exc)
            return FAILED

    def eval_arg(self, value: Any, *args: Any) -> Any:
        """A configure-time value or, if callable, its run-time result (Pipy's 'dynamic'
        arguments, §0.3). FAILED when the function threw."""
        if callable(value) and not isinstance(value, (HostObject, type)):
            return self.callback(value, *args)
        return value


class SubOutput:
    """The output target of a joint filter's sub-pipeline: events go to ``on_sub_output``."""

    __slots__ = ("process", "joint")

    def __init__(self, joint: "JointFilter") -> None:
        self.process = joint.on_sub_output
        self.joint = joint

    def process_message(self, head: Any, body: Any, tail: Any) -> None:
        j = self.joint
        if type(j).on_sub_output is JointFilter.on_sub_output:  # the default: straight on
            deliver_message(j.next, head, body, tail)
        else:
            expand_message(self.process, head, body, tail)


class JointFilter(Filter):
    """A filter that starts sub-pipelines (reference §1.2).

    ``sub_layouts`` holds PipelineLayouts or, until ``bind()`` runs after every module has
    loaded, layout names. ``REQUIRES_TO``: the Configuration refuses a module whose last joint
    filter lacks ``.to(...)`` ("missing .to(...) for the last filter").
    """

    __slots__ = ("sub_layouts",)
    CONFIG = ("sub_layouts",)
    REQUIRES_TO: ClassVar[bool] = True

    def add_sub_layout(self, layout: "PipelineLayout | str") -> None:
        """``.to(nameOrLayout)`` on the prototype."""
        if not hasattr(self, "sub_layouts") or self.sub_layouts is None:
            self.sub_layouts = []
        self.sub_layouts.append(layout)

    def has_sub_layouts(self) -> bool:
        return bool(getattr(self, "sub_layouts", None))

    def bind(self, resolve: Callable[[str], "PipelineLayout"]) -> None:
        """Replace layout names by layouts (``resolve`` raises "pipeline not found with name")."""
        subs = getattr(self, "sub_layouts", None) or []
        for i, sub in enumerate(subs):
            if type(sub) is str:
                subs[i] = resolve(sub)

    def sub_pipeline(self, index: int = 0, context: Any = None, args: Iterable[Any] = (),
                     output: EventTarget | None = None) -> "Pipeline":
        """Create sub-pipeline ``index`` with a shared (default) or given context; its output
        comes back to ``on_sub_output`` unless another target is given. It inherits the
        parent's flow control and lineage (module-chain position, nearest ``input()``)."""
        parent = self.pipeline
        layout = self.sub_layouts[index]
        return layout.instantiate(
            parent.context if context is None else context,
            SubOutput(self) if output is None else output,
            args,
            parent.flow,
            parent.lineage,
        )

    def on_sub_output(self, event: Any) -> None:
        self.next.process(event)

    def dump(self) -> str:
        names = [s for s in (getattr(self, "sub_layouts", None) or [])
                 if type(s) is str or (isinstance(s, PipelineLayout) and s.name)]
        if not names:
            return self.NAME
        refs = " ".join(f"[{s if type(s) is str else s.name}]" for s in names)
        return f"{self.NAME} --> {refs}"


class Pipeline:
    """One stream's instance of a layout: cloned filters, a context and an output target."""

    # ``lineage``: what sub-pipelines inherit (module-chain position, nearest input());
    # set by filters/chain.py's start_sub, unset on pipelines it did not start.
    __slots__ = ("layout", "context", "head", "filters", "output", "flow", "ended", "lineage")

    def input(self, event: Any) -> None:
        self.head.process(event)

    process = input  # a Pipeline is itself an EventTarget

    def pause_input(self) -> None:
        if self.flow is not None:
            self.flow.pause()

    def resume_input(self) -> None:
        if self.flow is not None:
            self.flow.resume()

    def start(self, args: Iterable[Any] = ()) -> None:
        """Run onStart and feed its return value as the first input (reference §1.3)."""
        on_start = self.layout.on_start
        if on_start is None:
            return
        value = call_script(self.context, on_start, args)
        if value is FAILED:
            return
        try:
            events = output_events(value)
        except Exception:
            log.error("[onStart] output is not events or messages")
            return
        head = self.head
        for evt in events:
            head.process(evt)

    def shutdown(self) -> None:
        for f in self.filters:
            f.shutdown()

    def end(self) -> None:
        """Destroy: filters forget their state (joint filters end their sub-pipelines), then
        onEnd runs (its return value ignored), then the pipeline lets go of its filters (later
        input is dropped). Idempotent."""
        if self.ended:
            return
        self.ended = True
        filters = self.filters
        # only the filters whose class has a reset() of its own (the base one does nothing)
        layout = self.layout
        for i in layout._resets or layout.resets():
            filters[i].reset()
        on_end = self.layout.on_end
        if on_end is not None:
            call_script(self.context, on_end)
        # Let go of the filters and the output: a pipeline and its filters point at each
        # other (``filter.pipeline``), and a joint filter's sub-pipeline output often points
        # back at what holds the pipeline (demuxHTTP's request), so without this every
        # request left cyclic garbage behind, and the collector's passes over it were
        # 10-20 ms pauses every few thousand requests (a proxy's p99). An ended pipeline
        # drops its input.
        self.filters = ()
        self.head = DISCARD
        self.output = DISCARD

    def __repr__(self) -> str:
        return f"<Pipeline {self.layout.label or self.layout.name or '(anonymous)'}>"


_new = object.__new__
_CLONE = methodcaller("clone")


class PipelineLayout:
    """The static description of a pipeline: filter prototypes and the onStart/onEnd hooks.

    ``kind`` is ``'listen' | 'read' | 'task' | 'pipeline'``; ``label`` is the bracketed title in
    the startup graph (``Listen on 8080 at 0.0.0.0``), ``name`` the pipeline name if any.
    """

    __slots__ = ("name", "module", "filters", "on_start", "on_end", "kind", "label", "_resets")

    def __init__(self, name: str = "", module: Any = None, kind: str = "pipeline",
                 label: str = "") -> None:
        self.name = name
        self.module = module
        self.filters: list[Filter] = []
        self.on_start: Callable[..., Any] | None = None
        self.on_end: Callable[..., Any] | None = None
        self.kind = kind
        self.label = label
        self._resets: tuple[int, ...] | None = None

    def append(self, f: Filter) -> Filter:
        self.filters.append(f)
        self._resets = None
        return f

    def resets(self) -> tuple[int, ...]:
        """Indices of the filters whose reset() is not the base class's no-op (what
        ``Pipeline.end`` calls); recomputed after ``append``."""
        r = self._resets
        if r is None:
            base = Filter.reset
            r = self._resets = tuple(i for i, f in enumerate(self.filters)
                                     if type(f).reset is not base)
        return r

    def instantiate(self, context: Any, output: EventTarget | None = None,
                    args: Iterable[Any] = (), flow: FlowControl | None = None,
                    lineage: Any = None) -> Pipeline:
        p = _new(Pipeline)
        p.layout = self
        p.context = context
        p.output = DISCARD if output is None else output
        p.flow = flow
        p.lineage = lineage  # set before onStart: its events may reach chain()/output()
        p.ended = False
        nxt: Any = p.output
        protos = self.filters
        if protos:
            filters = list(map(_CLONE, protos))  # no comprehension frame
            for f in reversed(filters):
                f.pipeline = p
                f.next = nxt
                nxt = f
            p.filters = filters
        else:
            p.filters = ()
        p.head = nxt
        if self.on_start is not None:
            p.start(args)
        return p

    # -- the startup graph -------------------------------------------------------------------

    def dump(self) -> str:
        """This layout as Pipy draws it at startup, e.g.::

             [Listen on 8080 at 0.0.0.0]
             ----->|
                   |
                  serveHTTP -->|
                               |
             <-----------------|

        Inline sub-pipelines of joint filters are drawn the same way under their filter,
        indented four columns; named ones are referred to as ``filter --> [name]``.
        """
        return "\n".join(self._lines())

    def _lines(self) -> list[str]:
        lines = [f" [{self.label or self.name}]", " ----->|", "       |"]
        filters = self.filters
        if not filters:
            lines.append(" <-----|")
            return lines
        last = len(filters) - 1
        col = 0
        for i, f in enumerate(filters):
            text = "      " + f.dump()
            if i == last:
                text += " -->|"
                col = len(text) - 1
            lines.append(text)
            for sub in getattr(f, "sub_layouts", None) or ():
                if isinstance(sub, PipelineLayout) and not sub.name:
                    lines.extend("          " + s for s in sub._lines())
        lines.append(" " * col + "|")
        lines.append(" <" + "-" * (col - 2) + "|")
        return lines


def module_graph(filename: str, layouts: Iterable[PipelineLayout]) -> list[str]:
    """The lines Pipy logs (each after ``[config] ``) when a module loads."""
    title = f"Module {filename}"
    lines = ["", title, "=" * len(title), ""]
    for layout in layouts:
        lines.extend(layout._lines())
        lines.append("")
    return lines
