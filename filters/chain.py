"""Module chains: ``chain`` and ``use`` (reference §1.5, §2.2 rows 6 and 70), and the lineage
every sub-pipeline inherits from the pipeline that created it.

``chain([files])`` starts a module chain: its input goes to the entry pipeline (``pipeline()``)
of the first module. ``chain()`` in any pipeline running inside a chain (also in sub-pipelines
of it: the position is inherited) continues to the next module's entry pipeline, and is a
pass-through at the end of the chain. ``use(file[, name])`` links to a pipeline of another
module; ``use([files], 'up'[, 'down'][, turnDown])`` runs the plugin pipeline of §1.5 (see
``UseStage``). Every one of them shares the caller's context (reference §0.4) and loads the
modules it names while the calling module is being evaluated, paths relative to the codebase
root (§0.7).

The lineage (``Lineage``) is what a sub-pipeline inherits: the module chain and the position in
it, and the nearest ancestor ``input()``'s Output (for ``output()``). It lives in the
``Pipeline.lineage`` slot, which ``PipelineLayout.instantiate`` sets before onStart runs and
``JointFilter.sub_pipeline`` fills from the parent, so every joint filter passes it on.
"""
from __future__ import annotations

from typing import Any, Iterable

from pipyd.js.coerce import to_boolean
from pipyd.js.values import js_error, type_error, undefined
from pipyd.pipeline import (FAILED, JointFilter, Pipeline, PipelineLayout, SubOutput,
                            deliver_message, expand_message)
from pipyd.registry import register


class Lineage:
    """What sub-pipelines inherit: a module chain (entry layouts), the index of the module
    being run, and the nearest ``input()``'s Output. Immutable: a change makes a new one."""

    __slots__ = ("chain", "index", "output")

    def __init__(self, chain: list | None = None, index: int = 0, output: Any = None) -> None:
        self.chain = chain
        self.index = index
        self.output = output


def lineage_of(p: Pipeline) -> Lineage | None:
    """The lineage of ``p`` (None: a root pipeline)."""
    return p.lineage


def start_sub(joint: JointFilter, layout: PipelineLayout, context: Any = None,
              output: Any = None, args: Iterable[Any] = (),
              lineage: Lineage | None | Any = undefined) -> Pipeline:
    """Start ``layout`` as a sub-pipeline of ``joint``: the parent's context and lineage unless
    given (shared context, reference §0.4)."""
    parent = joint.pipeline
    return layout.instantiate(parent.context if context is None else context,
                              SubOutput(joint) if output is None else output,
                              args, parent.flow,
                              parent.lineage if lineage is undefined else lineage)


def load_module(config: Any, name: str, path: Any) -> Any:
    """The module at ``path`` (codebase-relative), loaded now if it is not yet."""
    if type(path) is not str or not path:
        raise type_error(f"{name}: expected a module file name")
    if path.endswith(".so"):
        raise js_error("Error", f"{name}: native modules (.so) are not supported: {path}")
    if config is None or getattr(config, "module", None) is None:
        raise js_error("Error", f"{name}: no codebase to load {path} from")
    return config.module.worker.load_module(path)


def entry_of(module: Any) -> PipelineLayout:
    if module.entry is None:
        raise js_error("Error", f"entry pipeline not found in module {module.path}")
    return module.entry


class _Linked(JointFilter):
    """Base of chain and use: all events go to one sub-pipeline created on the first event,
    whose output is this filter's output; ``passing`` when there is nothing to link to."""

    __slots__ = ("sub", "passing")
    REQUIRES_TO = False

    def add_sub_layout(self, layout: Any) -> None:
        raise js_error("Error", "calling to() without a joint-filter")

    def reset(self) -> None:
        sub = getattr(self, "sub", None)
        if sub is not None:
            self.sub = None
            sub.end()
        self.sub = None
        self.passing = False

    def shutdown(self) -> None:
        if self.sub is not None:
            self.sub.shutdown()

    def process(self, evt: Any) -> None:
        sub = self.sub
        if sub is not None:
            sub.input(evt)
        elif self.passing:
            self.next.process(evt)
        else:
            self.sub = sub = self.link()
            if sub is None:
                self.passing = True
                self.next.process(evt)
            else:
                sub.input(evt)

    def process_message(self, head: Any, body: Any, tail: Any) -> None:
        """A whole message (``deliver_message``): on to the linked sub-pipeline (or the next
        filter) whole, as ``process`` sends each event."""
        sub = self.sub
        if sub is None and not self.passing:
            self.sub = sub = self.link()
            if sub is None:
                self.passing = True
        deliver_message(self.next if sub is None else sub.head, head, body, tail)

    def link(self) -> Pipeline | None:
        raise NotImplementedError


@register("chain")
class Chain(_Linked):
    """``chain([files])`` (``modules`` set) or ``chain()`` (continue the current chain)."""

    __slots__ = ("modules",)
    CONFIG = ("modules",)

    @classmethod
    def configure(cls, config: Any, files: Any = undefined, *rest: Any) -> "Chain":
        f = cls.__new__(cls)
        f.sub_layouts = None
        if files is undefined or files is None:
            f.modules = None
        elif isinstance(files, list):
            f.modules = [load_module(config, "chain", p) for p in files]
        else:
            raise type_error("chain: argument #1 expects an array of module file names")
        f.reset()
        return f

    def bind(self, resolve: Any) -> None:
        if self.modules is not None:
            self.sub_layouts = [entry_of(m) for m in self.modules]

    def link(self) -> Pipeline | None:
        chain = self.sub_layouts
        if chain:  # a new chain: its first module
            lin = lineage_of(self.pipeline)
            out = lin.output if lin is not None else None
            return start_sub(self, chain[0], lineage=Lineage(chain, 0, out))
        if self.modules is not None:  # chain([]): nothing to run
            return None
        lin = lineage_of(self.pipeline)
        if lin is None or lin.chain is None or lin.index + 1 >= len(lin.chain):
            return None  # the end of the chain: pass through
        i = lin.index + 1
        return start_sub(self, lin.chain[i], lineage=Lineage(lin.chain, i, lin.output))

    def dump(self) -> str:
        if self.modules:
            return "chain --> " + " ".join(f"[{m.path}]" for m in self.modules)
        return "chain"


@register("use")
class Use(_Linked):
    """``use(file[, pipeline])`` or ``use([files], up[, down][, turnDown])``."""

    __slots__ = ("modules", "names", "turn_down", "stages", "run")
    CONFIG = ("modules", "names", "turn_down", "stages")

    @classmethod
    def configure(cls, config: Any, target: Any = undefined, *args: Any) -> "Use":
        f = cls.__new__(cls)
        f.sub_layouts = None
        f.stages = None
        f.turn_down = None
        if isinstance(target, list):
            f.modules = [load_module(config, "use", p) for p in target]
            up, down, f.turn_down = _plugin_args(args)
            f.names = (up, down)
        else:
            f.modules = [load_module(config, "use", target)]
            name = args[0] if args else undefined
            if name is not undefined and name is not None and type(name) is not str:
                raise type_error("use: argument #2 expects a pipeline name")
            f.names = (name if type(name) is str else None,)
        f.reset()
        return f

    def bind(self, resolve: Any) -> None:
        if len(self.names) == 1:
            m, name = self.modules[0], self.names[0]
            self.sub_layouts = [m.layout_named(name) if name else entry_of(m)]
            return
        up, down = self.names
        stages = []
        for m in self.modules:  # modules without either pipeline are skipped (§1.5)
            pair = (m.named.get(up), m.named.get(down) if down else None)
            if pair != (None, None):
                stages.append(pair)
        self.stages = stages

    def reset(self) -> None:
        run = getattr(self, "run", None)
        self.run = None
        if run is not None:
            for stage in run:
                stage.end()
        super().reset()

    def process(self, evt: Any) -> None:
        if self.stages is None:
            super().process(evt)
            return
        run = self.run
        if run is None:
            run = self.run = [UseStage(self, i) for i in range(len(self.stages))]
        if run:
            run[0].input_up(evt)
        else:
            self.next.process(evt)

    def process_message(self, head: Any, body: Any, tail: Any) -> None:
        if self.stages is None:
            super().process_message(head, body, tail)
        else:  # the plugin stages take events
            expand_message(self.process, head, body, tail)

    def link(self) -> Pipeline | None:
        return start_sub(self, self.sub_layouts[0])

    def shutdown(self) -> None:
        for stage in self.run or ():
            for p in (stage.up, stage.down):
                if p is not None:
                    p.shutdown()
        super().shutdown()

    def dump(self) -> str:
        return "use --> " + " ".join(f"[{m.path}]" for m in self.modules)


def _plugin_args(args: tuple) -> tuple[str, str | None, Any]:
    """(up, down, turnDown) from ``'up'[, 'down'][, turnDown]``."""
    if not args or type(args[0]) is not str:
        raise type_error("use: argument #2 expects a pipeline name")
    down = args[1] if len(args) > 1 and type(args[1]) is str else None
    rest = args[2:] if down is not None else args[1:]
    turn = rest[0] if rest else None
    if turn is undefined:
        turn = None
    if turn is not None and not callable(turn):
        raise type_error("use: turnDown expects a function")
    return args[0], down, turn


class _To:
    """An EventTarget forwarding to a bound method (stage wiring)."""

    __slots__ = ("process",)

    def __init__(self, fn: Any) -> None:
        self.process = fn


class UseStage:
    """One module of ``use([files], up, down, turnDown)``.

    Events enter stage 0's ``up`` pipeline; each ``up`` output goes to the next stage, the last
    one's to its own ``down``; each ``down`` output goes to the previous stage's ``down``, the
    first one's out of the filter. ``turnDown()`` is evaluated when the first event reaches a
    stage: if truthy, that stage and all after it are skipped and its events go to the previous
    stage's ``down`` (so the module that turned the stream still runs its ``down``). A module
    lacking one of the two pipelines passes that direction through.
    """

    __slots__ = ("use", "i", "up", "down", "checked", "turned")

    def __init__(self, use: Use, i: int) -> None:
        self.use, self.i = use, i
        self.up: Pipeline | None = None
        self.down: Pipeline | None = None
        self.checked = self.turned = False

    def input_up(self, evt: Any) -> None:
        if not self.checked:
            self.checked = True
            fn = self.use.turn_down
            if fn is not None:
                v = self.use.callback(fn)
                self.turned = v is not FAILED and to_boolean(v)
        if self.turned:
            self._to_prev_down(evt)
            return
        up = self.up
        if up is None:
            layout = self.use.stages[self.i][0]
            if layout is None:
                self._after_up(evt)
                return
            up = self.up = start_sub(self.use, layout, output=_To(self._after_up))
        up.input(evt)

    def _after_up(self, evt: Any) -> None:
        run = self.use.run
        if self.i + 1 < len(run):
            run[self.i + 1].input_up(evt)
        else:
            self.input_down(evt)

    def input_down(self, evt: Any) -> None:
        down = self.down
        if down is None:
            layout = self.use.stages[self.i][1]
            if layout is None:
                self._to_prev_down(evt)
                return
            down = self.down = start_sub(self.use, layout, output=_To(self._to_prev_down))
        down.input(evt)

    def _to_prev_down(self, evt: Any) -> None:
        if self.i > 0:
            self.use.run[self.i - 1].input_down(evt)
        else:
            self.use.next.process(evt)

    def end(self) -> None:
        for p in (self.up, self.down):
            if p is not None:
                p.end()
        self.up = self.down = None
