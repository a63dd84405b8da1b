"""Unit tests of the joint and flow filters (link, branch, chain, use, fork, input, output,
replay, wait): codebases written to a temporary directory, loaded by a real Worker (no
listeners), and named pipelines fed events from Python."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from pipyd.worker import Worker

from tests.unit.core import Collect, show  # noqa: F401 (shared helpers)


def load(tmp_path: Path, main: str, files: dict[str, str] | None = None) -> Worker:
    """Write ``main`` as main.js (and ``files``) and load the codebase."""
    for name, text in (files or {}).items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    (tmp_path / "main.js").write_text(main)
    w = Worker(str(tmp_path / "main.js"))
    w.load()
    return w


class Run:
    """One instance of the named pipeline ``name`` of main.js, with its output collected."""

    def __init__(self, worker: Worker, name: str = "main", context: Any = None) -> None:
        self.out = Collect()
        self.context = context or worker.new_context()
        layout = worker.by_path["/main.js"].named[name]
        self.pipeline = layout.instantiate(self.context, self.out)

    def feed(self, *events: Any) -> list:
        for e in events:
            self.pipeline.input(e)
        return show(self.out.events)

    def data(self) -> bytes:
        return self.out.data()


def run(tmp_path: Path, main: str, events: list, files: dict | None = None,
        name: str = "main") -> list:
    return Run(load(tmp_path, main, files), name).feed(*events)


def var(worker: Worker, context: Any, name: str, module: str = "/main.js") -> Any:
    return context.data[worker.by_path[module].index][name]
