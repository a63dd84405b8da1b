"""One worker: loads the codebase, binds it, opens its roots, reloads and stops (reference §1.6).

Load order follows Pipy: evaluate the entry module (which loads others through ``chain``/``use``
while it runs) → bind exports and imports → bind named sub-pipelines → check every module is
complete → print the graphs → open listeners, start readers and tasks. Any failure before the
roots open leaves nothing running, which is what makes reload safe: a new Worker is built and
loaded first, and the old one is retired only when the new one loaded (STYLE.md "build, then
swap").
"""
from __future__ import annotations

import gc
import os
from typing import Any

from pipyd import log
from pipyd.context import Context
from pipyd.js.values import js_error
from pipyd.module import Configuration, Module, codebase_path
from pipyd.pipeline import JointFilter, module_graph
from pipyd.roots import Roots


_LEVELS = {"DBG": log.DEBUG, "INF": log.INFO, "WRN": log.WARN, "ERR": log.ERROR}


def _wire_host() -> None:
    """Connect script-facing builtins to the daemon (idempotent): console lines go through
    the log whatever its threshold (Pipy), and load balancers borrow for the running
    pipeline's ``__inbound`` when a script passes no borrower."""
    from pipyd.api.algo_balancers import LoadBalancer
    from pipyd.js.builtins.console import set_console_sink
    from pipyd.js.scope import ACTIVE

    set_console_sink(lambda level, text: log.LOGGER.write(_LEVELS.get(level, log.INFO), text))

    def current_inbound() -> Any:
        ctx = ACTIVE.current
        return None if ctx is None else ctx.inbound

    LoadBalancer.default_borrower = current_inbound


def _wire_codebase(root: str) -> None:
    """http.File paths are relative to the codebase root (reference §0.7)."""
    from pipyd.api import http_file
    http_file.File.root = root


def settle_heap() -> None:
    """Move everything loaded so far out of the collector's sight.

    A loaded codebase is tens of thousands of long-lived objects (compiled code, layouts,
    builtins); request handling allocates short-lived ones that are freed by reference
    counting. Without this, every older-generation collection walks the whole codebase again:
    measured on the hello benchmark, freezing plus a larger first generation took pipyd from
    16k to 28k requests/s on one core. Called after each (re)load; unfreeze first so a
    retired codebase can still be collected once its last pipeline ends.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


class LoadError(Exception):
    """The codebase could not be loaded; the message says where and why."""


class Worker:
    def __init__(self, entry: str | None, options: Any = None, eval_source: str | None = None) -> None:
        self.options = options
        self.control = getattr(options, "control", None)
        if eval_source is None and options is not None and entry is None:
            eval_source = getattr(options, "eval_source", None)
        self.entry = entry
        self.eval_source = eval_source
        self.root = os.path.dirname(os.path.abspath(entry)) if entry else os.getcwd()
        self.modules: list[Module] = []
        self.by_path: dict[str, Module] = {}
        self.exports: dict[str, dict[str, tuple[int, str]]] = {}
        self.solved: dict[str, Any] = {}
        self.solving: set[str] = set()
        self.roots: Roots | None = None
        self.loaded = False
        # `pipyd -e`: what the expression evaluated to when it was not a Configuration
        self.eval_value: Any = None
        self.eval_is_value = False

    # -- loading -------------------------------------------------------------------------------

    def disk_path(self, path: str) -> str:
        return codebase_path(self.root, path)[1]

    def load(self) -> None:
        """Load and bind the whole codebase; raises LoadError with a readable message.
        Loading twice is a no-op (`pipyd -e` loads before deciding whether to run)."""
        if self.loaded:
            return
        import pipyd.filters  # noqa: F401  every filter family registers itself
        Configuration.refresh_members()
        _wire_host()
        _wire_codebase(self.root)
        try:
            if self.eval_source is not None:
                self._evaluate(self._new_module("/<eval>", "<eval>"), self.eval_source)
            else:
                self.load_module("/" + os.path.basename(self.entry or ""))
            self._bind()
        except LoadError:
            raise
        except Exception as exc:
            raise LoadError(_describe(exc)) from exc
        self.loaded = True

    def load_module(self, path: str) -> Module:
        """The module at ``path`` (relative to the codebase root), loading it on first use."""
        shown, disk = codebase_path(self.root, path)
        module = self.by_path.get(shown)
        if module is not None:
            return module
        try:
            with open(disk, encoding="utf-8") as f:
                source = f.read()
        except OSError as e:
            raise LoadError(f"[pjs] Cannot open script at {shown}: {e.strerror}") from None
        module = self._new_module(shown, disk)
        self._evaluate(module, source)
        return module

    def _new_module(self, shown: str, disk: str) -> Module:
        module = Module(self, len(self.modules), shown, disk)
        self.modules.append(module)
        self.by_path[shown] = module
        return module

    def _evaluate(self, module: Module, source: str) -> None:
        from pipyd.js import engine
        compiled = engine.compile_module(source, module.path)
        value = compiled.run(module.scope, self._globals(module))
        if module.filename == "<eval>" and not isinstance(value, Configuration):
            self.eval_value, self.eval_is_value = value, True  # printed by `pipyd -e`
            return
        if not isinstance(value, Configuration):
            raise LoadError(f"[pjs] Script did not result in a Configuration: {module.path}")
        log.info(f"[config] Module loaded: {module.path}")

    def _globals(self, module: Module) -> dict[str, Any]:
        from pipyd.api import host_globals
        from pipyd.api.pipy import PipyFunction
        g = host_globals()
        g["pipy"] = PipyFunction(module)
        return g

    def solve(self, path: str) -> Any:
        """``pipy.solve``: evaluate a codebase file once and return its value."""
        from pipyd.js import engine
        shown, disk = codebase_path(self.root, path)
        if shown in self.solved:
            return self.solved[shown]
        if shown in self.solving:
            raise js_error("Error", f"recursive pipy.solve() of {shown}")
        try:
            with open(disk, encoding="utf-8") as f:
                source = f.read()
        except OSError as e:
            raise js_error("Error", f"pipy.solve(): cannot open {shown}: {e.strerror}") from None
        self.solving.add(shown)
        try:
            module = self._new_module(shown, disk)
            value = engine.compile_module(source, shown).run(module.scope, self._globals(module))
        finally:
            self.solving.discard(shown)
        self.solved[shown] = value
        return value

    def add_exports(self, module: Module, ns: str, names: list[str]) -> None:
        table = self.exports.setdefault(ns, {})
        for name in names:
            if name in table:
                raise js_error("Error", f"duplicated variable exporting name {name} in namespace {ns}")
            table[name] = (module.index, name)

    def _bind(self) -> None:
        for module in self.modules:
            for config in module.configs:
                config.finish()
            for name, ns in module.imports.items():
                slot = self.exports.get(ns, {}).get(name)
                if slot is None:
                    raise LoadError(f"cannot import variable {name} in {module.path}")
                module.scope.imports[name] = slot
            module.scope.plain_inbound = ("__inbound" not in module.initial and not module.initial_fns
                                          and "__inbound" not in module.scope.imports)
            for layout in module.layouts:
                for f in layout.filters:
                    if isinstance(f, JointFilter):
                        f.bind(module.layout_named)

    def graph(self) -> list[str]:
        lines: list[str] = []
        for module in self.modules:
            if module.layouts:
                lines.extend(module_graph(module.path, module.layouts))
        return lines

    def new_context(self, inbound: Any = None) -> Context:
        """A root pipeline's context: every module's initial values, shallow-copied."""
        return Context([m.new_data() for m in self.modules], inbound)

    # -- running -------------------------------------------------------------------------------

    async def start(self) -> bool:
        self.load()
        if self.eval_is_value:
            return True
        if not getattr(self.options, "no_graph", False):
            for line in self.graph():
                log.info(f"[config] {line}" if line else "[config]")
        if getattr(self.options, "verify", False):
            return True
        self.roots = Roots(self, reuse_port=bool(getattr(self.options, "reuse_port", False)))
        await self.roots.open()
        if getattr(self.options, "settle_heap", False):
            settle_heap()
        return True

    async def reload(self) -> "Worker | None":
        """Load the codebase afresh into a new Worker; on success it takes over the ports (new
        connections get its layouts, connections in flight finish on the old ones) and is
        returned: the caller serves with it from now on. None when loading failed (this one
        keeps serving)."""
        new = Worker(self.entry, self.options, self.eval_source if self.entry is None else None)
        try:
            new.load()
        except LoadError as e:
            for line in str(e).splitlines():
                log.error(line)
            return None
        if self.roots is None:
            raise RuntimeError("reload of a worker that is not running")
        new.roots = await self.roots.handover(new)
        self.roots = None
        if getattr(self.options, "settle_heap", False):
            settle_heap()
        return new

    async def shutdown(self, timeout: float = 10.0) -> None:
        if self.roots is not None:
            await self.roots.close(timeout)
            self.roots = None


def _describe(exc: BaseException) -> str:
    """A load failure as the user should read it: syntax errors with their caret, script
    errors with their JS backtrace, never a Python traceback."""
    from pipyd.js.errors import JSSyntaxError
    if isinstance(exc, JSSyntaxError):
        return f"[pjs] {exc}"
    try:
        from pipyd.js.backtrace import format_js_error
        return f"[pjs] {format_js_error(exc)}"
    except ImportError:
        return f"[pjs] {exc}"

