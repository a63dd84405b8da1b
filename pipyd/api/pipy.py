"""The ``pipy`` builtin of one module: ``pipy(vars)``, ``pipy.load``, ``pipy.solve``,
``pipy.restart``, ``pipy.exit`` (Pipy reference §3.1).

Each module gets its own instance because ``pipy()`` must know which module is declaring
its context variables.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipyd.events import Data
from pipyd.js.values import HostObject, js_error, type_error, undefined

if TYPE_CHECKING:
    from pipyd.module import Configuration, Module


class PipyFunction(HostObject):
    __slots__ = ("module",)
    js_get = frozenset({"load", "solve", "restart", "exit"})
    js_class_name = "pipy"

    def __init__(self, module: "Module") -> None:
        self.module = module

    def __call__(self, variables: Any = undefined, *_: Any) -> "Configuration":
        return self.module.new_configuration(variables)

    def load(self, path: Any = undefined) -> Data | None:
        """The bytes of a codebase file, or null when it cannot be read."""
        if type(path) is not str:
            raise type_error("pipy.load(): expected a file name")
        try:
            with open(self.module.worker.disk_path(path), "rb") as f:
                return Data(f.read())
        except OSError:
            return None

    def solve(self, path: Any = undefined) -> Any:
        """Evaluate a codebase file once per worker and return its value."""
        if type(path) is not str:
            raise type_error("pipy.solve(): expected a file name")
        return self.module.worker.solve(path)

    def restart(self) -> None:
        control = self.module.worker.control
        if control is None:
            raise js_error("Error", "pipy.restart(): no running daemon")
        control.restart()

    def exit(self, code: Any = 0) -> None:
        control = self.module.worker.control
        if control is None:
            raise js_error("Error", "pipy.exit(): no running daemon")
        control.exit(int(code) if type(code) in (int, float) else 0)
