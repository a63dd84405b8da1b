"""Modules and the Configuration builder (Pipy reference §1.3–§1.5).

A ``Module`` is one loaded PipyJS file. Evaluating it runs ``pipy(...)`` and the chained
Configuration methods, which fill the module's layouts: root layouts (listen/read/task), named
sub-pipeline layouts and at most one entry layout. Nothing runs yet: the Worker binds names,
exports and imports once every module has loaded, then opens ports and starts tasks.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Callable

from pipyd import registry
from pipyd.js.values import HostObject, js_error, type_error, undefined
from pipyd.pipeline import JointFilter, PipelineLayout

if TYPE_CHECKING:
    from pipyd.worker import Worker

CONFIG_METHODS = frozenset({
    "export", "import", "listen", "read", "task", "pipeline", "onStart", "onEnd", "to",
})
# What a `$ => $...` builder may call: filters and these (reference §1.3, `to()`).
BUILDER_METHODS = frozenset({"onStart", "onEnd", "to"})


def error(message: str) -> Exception:
    return js_error("Error", message)


class RootSpec:
    """A root layout and what starts it: ('listen', (ip, port), options) and so on."""

    __slots__ = ("kind", "target", "options", "layout")

    def __init__(self, kind: str, target: Any, options: Any, layout: PipelineLayout) -> None:
        self.kind, self.target, self.options, self.layout = kind, target, options, layout


class Configuration(HostObject):
    """What ``pipy()`` returns. Every method appends to or starts a layout and returns ``this``.

    Filter methods are looked up in the filter registry on attribute access, so a filter family
    only has to register itself to become a method here.
    """

    __slots__ = ("module", "layout", "last", "builder")
    js_class_name = "Configuration"
    js_get: frozenset[str] = CONFIG_METHODS

    def __init__(self, module: "Module", layout: PipelineLayout | None = None,
                 builder: bool = False) -> None:
        self.module = module
        self.layout = layout
        self.last: Any = None  # the last filter appended (the target of `.to()`)
        self.builder = builder

    @classmethod
    def refresh_members(cls) -> None:
        """Make every registered filter name visible to scripts (after filters are imported)."""
        cls.js_get = CONFIG_METHODS | frozenset(registry.names())

    def __getattr__(self, name: str) -> Callable[..., "Configuration"]:
        cls = registry.lookup(name)
        if cls is None or name.startswith("_"):
            raise AttributeError(name)
        return lambda *args: self._append(cls, args)

    # -- filters ---------------------------------------------------------------------------

    def _append(self, cls: type, args: tuple) -> "Configuration":
        if self.layout is None:
            raise error("no pipeline found")
        self._check_to()
        proto = cls.configure(self, *args)
        self.layout.append(proto)
        self.last = proto
        return self

    def _check_to(self) -> None:
        """A joint filter must get its sub-pipeline before anything else follows it."""
        last = self.last
        if isinstance(last, JointFilter) and last.REQUIRES_TO and not last.has_sub_layouts():
            raise error(f"missing .to(...) for the last filter {last.NAME}")

    def to(self, target: Any = undefined) -> "Configuration":
        last = self.last
        if not isinstance(last, JointFilter):
            raise error("calling to() without a joint-filter")
        if type(target) is str:
            last.add_sub_layout(target)
        elif callable(target):
            last.add_sub_layout(self.build_layout(target))
        else:
            raise type_error("to(): expected a pipeline name or a builder function")
        return self

    def build_layout(self, builder: Callable[["Configuration"], Any]) -> PipelineLayout:
        """An anonymous layout from a ``$ => $.filter()...`` builder (for ``.to()`` and filters
        such as ``branch`` that take builders); it joins the module's layouts so the worker
        binds and checks it."""
        layout = PipelineLayout("", self.module, "pipeline")
        config = Configuration(self.module, layout, builder=True)
        builder(config)
        config._check_to()
        if self.module is not None:
            self.module.layouts.append(layout)
        return layout

    def onStart(self, fn: Any) -> "Configuration":  # noqa: N802 (Pipy's name)
        return self._hook("on_start", "onStart", fn)

    def onEnd(self, fn: Any) -> "Configuration":  # noqa: N802
        return self._hook("on_end", "onEnd", fn)

    def _hook(self, slot: str, name: str, fn: Any) -> "Configuration":
        layout = self.layout
        if layout is None:
            raise error("no pipeline found")
        if layout.filters:
            raise error(f"{name}() is only allowed prior to filters")
        if getattr(layout, slot) is not None:
            raise error(f"duplicated {name}()")
        if not callable(fn):
            raise type_error(f"{name}(): expected a function")
        setattr(layout, slot, fn)
        return self

    # -- layouts -----------------------------------------------------------------------------

    def _new_layout(self, name: str, kind: str, label: str) -> PipelineLayout:
        if self.builder:
            raise error(f"{kind}() is not allowed inside a sub-pipeline builder")
        self._check_to()
        layout = PipelineLayout(name, self.module, kind, label)
        self.module.layouts.append(layout)
        self.layout, self.last = layout, None
        return layout

    def listen(self, port: Any = undefined, options: Any = undefined) -> "Configuration":
        from pipyd.inbound import ListenOptions, parse_address
        ip, num = parse_address(port)
        opts = ListenOptions.from_js(options)
        udp = opts.protocol == "udp"
        label = f"Listen on {'UDP ' if udp else ''}{num} at {ip}"
        layout = self._new_layout("", "listen", label)
        if num != 0:  # Pipy: port 0 defines the layout but opens nothing
            self.module.roots.append(RootSpec("listen", (ip, num), opts, layout))
        return self

    def read(self, path: Any = undefined) -> "Configuration":
        if type(path) is not str or not path:
            raise type_error("read(): expected a file name")
        layout = self._new_layout("", "read", f"Read from {path}")
        self.module.roots.append(RootSpec("read", path, None, layout))
        return self

    def task(self, when: Any = undefined) -> "Configuration":
        from pipyd.tasks import parse_task_spec  # tasks needs the event loop; import late
        spec = parse_task_spec(when)
        layout = self._new_layout("", "task", f"Task {spec.describe()}")
        self.module.roots.append(RootSpec("task", spec, None, layout))
        return self

    def pipeline(self, name: Any = undefined) -> "Configuration":
        module = self.module
        if name is undefined or name is None:
            if module.entry is not None:
                raise error("more than one entrance pipelines")
            module.entry = self._new_layout("", "pipeline", "Module entry")
            return self
        if type(name) is not str:
            raise type_error("pipeline(): expected a name")
        if name in module.named:
            raise error(f"duplicated pipeline name: {name}")
        module.named[name] = self._new_layout(name, "pipeline", name)
        return self

    # -- variables ---------------------------------------------------------------------------

    def export(self, ns: Any = undefined, variables: Any = undefined) -> "Configuration":
        if type(ns) is not str or not isinstance(variables, dict):
            raise type_error("export(): expected a namespace and an object of variables")
        self.module.declare(variables)
        self.module.worker.add_exports(self.module, ns, list(variables))
        return self

    def import_(self, mapping: Any = undefined) -> "Configuration":
        if not isinstance(mapping, dict):
            raise type_error("import(): expected an object {variable: namespace}")
        for name, ns in mapping.items():
            if type(ns) is not str:
                raise type_error(f"import(): namespace of {name} must be a string")
            self.module.imports[name] = ns
        return self

    def finish(self) -> None:
        """Called after the module's script ran: refuse a dangling joint filter."""
        self._check_to()


class Module:
    """One PipyJS file of the codebase, its layouts and its context variables."""

    def __init__(self, worker: "Worker", index: int, path: str, filename: str) -> None:
        from pipyd.js.scope import ModuleScope
        self.worker = worker
        self.index = index
        self.path = path  # as Pipy shows it: '/proxy.js', relative to the codebase root
        self.filename = filename  # on disk
        self.scope = ModuleScope(index, path)
        self.initial: dict[str, Any] = {}
        self.initial_fns: list[Callable[[], Any]] = []
        self.imports: dict[str, str] = {}
        self.layouts: list[PipelineLayout] = []
        self.named: dict[str, PipelineLayout] = {}
        self.entry: PipelineLayout | None = None
        self.roots: list[RootSpec] = []
        self.configs: list[Configuration] = []

    def declare(self, variables: Any) -> None:
        """``pipy({...})`` / ``export(ns, {...})``: the module's context variables."""
        if callable(variables):
            self.initial_fns.append(variables)
        elif isinstance(variables, dict):
            self.initial.update(variables)
        elif variables is not undefined and variables is not None:
            raise type_error("pipy(): expected an object of context variables")

    def new_data(self) -> dict[str, Any]:
        """A fresh context's variables: shallow copies of the initial values (reference §0.5)."""
        data = dict(self.initial)
        for fn in self.initial_fns:
            value = fn()
            if isinstance(value, dict):
                data.update(value)
        return data

    def new_configuration(self, variables: Any) -> Configuration:
        self.declare(variables)
        config = Configuration(self)
        self.configs.append(config)
        return config

    def layout_named(self, name: str) -> PipelineLayout:
        layout = self.named.get(name)
        if layout is None:
            raise error(f"pipeline not found with name: {name}")
        return layout

    def __repr__(self) -> str:
        return f"<Module {self.path}>"


def codebase_path(root: str, path: str) -> tuple[str, str]:
    """(module path as shown, file name on disk) for a path relative to the codebase root.
    Paths may not climb out of the root (Pipy normalises them the same way)."""
    norm = os.path.normpath("/" + path.lstrip("/")).replace("\\", "/")
    if norm.startswith("//"):
        norm = norm[1:]
    return norm, os.path.join(root, norm.lstrip("/"))
