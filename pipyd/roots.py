"""A worker's running roots: listeners, file readers and tasks (reference §1.2, §1.6).

``open()`` starts everything a loaded codebase declares. ``handover(new_worker)`` is the reload
step: ports the new codebase keeps are re-pointed to its layouts (new connections get the new
configuration, open ones finish on the old), new ports open, vanished ports stop accepting and
their connections are asked to finish; old tasks stop and the new ones start. ``close()`` is
graceful shutdown: stop accepting, ask every pipeline to finish, wait (logging Pipy's
"[shutdown] Waiting for remaining N pipelines..." each second) and abort what is left at the
deadline.
"""
from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from pipyd import log
from pipyd.inbound import TCPListener, UDPListener
from pipyd.tasks import TaskRunner

if TYPE_CHECKING:
    from pipyd.worker import Worker


class Roots:
    def __init__(self, worker: "Worker", reuse_port: bool = False) -> None:
        self.worker = worker
        self.reuse_port = reuse_port
        self.listeners: dict[tuple[str, str, int], Any] = {}
        self.runners: list[Any] = []  # tasks and file readers
        self.retired: list[Any] = []  # listeners/tasks of a previous codebase still finishing

    def _listen_specs(self) -> dict[tuple[str, str, int], Any]:
        """Every listen() of the codebase by address; the same address twice: last wins."""
        specs = {}
        for module in self.worker.modules:
            for spec in module.roots:
                if spec.kind == "listen":
                    ip, port = spec.target
                    specs[(spec.options.protocol, ip, port)] = spec
        return specs

    async def _start_listener(self, key: tuple[str, str, int], spec: Any) -> Any:
        cls = UDPListener if key[0] == "udp" else TCPListener
        ip, port = spec.target
        listener = cls(spec.layout, ip, port, spec.options, self.worker.new_context,
                       reuse_port=self.reuse_port)
        await listener.start()
        return listener

    def _start_runners(self) -> None:
        from pipyd.tasks import FileReader
        for module in self.worker.modules:
            for spec in module.roots:
                if spec.kind == "task":
                    runner = TaskRunner(spec.layout, spec.target, self.worker.new_context)
                elif spec.kind == "read":
                    runner = FileReader(spec.layout, spec.target, self.worker.new_context)
                else:
                    continue
                self.runners.append(runner)
                runner.start()

    async def open(self) -> None:
        try:
            for key, spec in self._listen_specs().items():
                self.listeners[key] = await self._start_listener(key, spec)
        except BaseException:
            for listener in self.listeners.values():
                listener.stop()
            raise
        self._start_runners()

    async def handover(self, worker: "Worker") -> "Roots":
        new = Roots(worker, self.reuse_port)
        specs = new._listen_specs()
        for key, spec in specs.items():  # open new ports first: a failure changes nothing
            if key not in self.listeners:
                new.listeners[key] = await new._start_listener(key, spec)
        for key, listener in self.listeners.items():
            spec = specs.get(key)
            if spec is None:
                listener.shutdown()
                new.retired.append(listener)
            else:
                listener.repoint(spec.layout, worker.new_context, spec.options)
                new.listeners[key] = listener
        for runner in self.runners:
            runner.stop()  # an active run carries on to its end
            new.retired.append(runner)
        new.retired.extend(self.retired)
        new._start_runners()
        return new

    def pipelines(self) -> int:
        return sum(x.pipelines for x in (*self.listeners.values(), *self.runners, *self.retired))

    async def close(self, timeout: float) -> None:
        everything = [*self.listeners.values(), *self.runners, *self.retired]
        for x in everything:
            x.shutdown()
        deadline = time.monotonic() + timeout
        next_note = time.monotonic() + 1.0
        while (n := self.pipelines()) > 0 and time.monotonic() < deadline:
            if time.monotonic() >= next_note:
                log.info(f"[shutdown] Waiting for remaining {n} pipelines...")
                next_note += 1.0
            await asyncio.sleep(0.05)
        for x in everything:
            x.abort()
