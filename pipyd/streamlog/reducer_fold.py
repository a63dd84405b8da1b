"""The fold of one stream through its reducers (streamlog.md §7): definitions and progress
(``_Reducer``) and the task that catches them up batch by batch in the sandbox
(``_StreamReducers``), with checkpoints and the dependency order inside a batch.

Separate from reducers.py, which owns the definitions' lifecycle (PUT, replay at start, splice
rebuild) for a whole store: this is the per-stream loop, the hot path of catch-up (bench
"reducers"), and needs nothing of HTTP, factories or side effects beyond calling back into the
manager (``mgr.run_effects``, ``mgr.meta``, ``mgr.factory_logs``).
"""
from __future__ import annotations

import asyncio
import hashlib
import json
from typing import TYPE_CHECKING, Any

from . import reducer_deps
from .sandbox import EncodedEvents, SandboxDied, encode_events, safe_events
from .store import AppendRequest, NewEvent

if TYPE_CHECKING:
    from .reducers import ReducerManager

# Catch-up folds up to BATCH events per sandbox call (one store read_range), and reads the next
# batch while the sandbox folds this one: the daemon's read+encode and the worker's fold overlap
# when they have two cores (bench "reducers" pins both to one: ~3.5 + ~4 µs an event).
BATCH = 5000
BATCH_BYTES = 4 << 20           # of event data per call, whatever the count
CHECKPOINT_EVENTS = 20000       # events folded between checkpoints while catching up


class _Reducer:
    """One definition and its progress."""

    def __init__(self, name: str, source: str, gen: int, live_from: int) -> None:
        self.name, self.source, self.gen, self.live_from = name, source, gen, live_from
        self.compiled, self.deps = reducer_deps.scan(source)
        self.hash = hashlib.sha256(self.compiled.encode()).hexdigest()[:16]
        self.state: str | None = None           # JSON text; None = undefined
        self.position = 0
        self.error: dict | None = None
        self.shadows: dict[str, str | None] = {}   # dependency name → its state at our position
        self.seqs: dict[str, int] = {}          # dispatch target → next Producer-Seq


class _StreamReducers:
    """The reducers of one stream and the task folding the stream through them."""

    def __init__(self, mgr: "ReducerManager", key: str) -> None:
        self.mgr, self.key = mgr, key
        self.reducers: dict[str, _Reducer] = {}
        self.wake = asyncio.Event()
        self.progress = asyncio.Event()
        self.ahead: tuple[int, asyncio.Task] | None = None  # (start, the batch read from there)
        self.sub = mgr.store.subscribe(key, lambda notice: self.wake.set())
        self.task = asyncio.get_running_loop().create_task(self._loop())
        self.wake.set()

    def stop(self) -> None:
        self.sub.close()
        self.task.cancel()
        self.drop_ahead()

    def drop_ahead(self) -> None:
        """Forget the batch read ahead (the stream's history changed: a splice)."""
        if self.ahead is not None:
            self.ahead[1].cancel()
            self.ahead = None

    async def wait(self, r: _Reducer, target: int) -> None:
        while r.position < target and r.error is None and self.reducers.get(r.name) is r:
            ev = self.progress
            self.wake.set()
            await ev.wait()

    def _notify(self) -> None:
        self.progress.set()
        self.progress = asyncio.Event()

    async def _loop(self) -> None:
        from .. import log
        while True:
            await self.wake.wait()
            self.wake.clear()
            try:
                folded = since = 0
                while n := await self._step():
                    folded += n
                    since += n
                    if since >= CHECKPOINT_EVENTS:
                        await self._checkpoint(list(self.reducers.values()))
                        since = 0
                if folded:
                    await self._checkpoint(list(self.reducers.values()))
            except asyncio.CancelledError:
                raise
            except Exception as e:      # a store failure: retry on the next notice
                log.error(f"[streamlog] reducers of {self.key}: {e!r}")
            self._notify()

    async def _step(self) -> int:
        """Fold one batch for the reducers furthest behind; the number of events (0: caught up)."""
        running = [r for r in self.reducers.values() if r.error is None]
        length = await self.mgr.store.length(self.key)
        behind = [r for r in running if r.position < length]
        if not behind:
            self.drop_ahead()
            return 0
        pos = min(r.position for r in behind)
        group = [r for r in behind if r.position == pos]
        events, encoded = await self._batch(pos, length)
        if not events:
            return 0
        end = events[-1].index + 1
        if end < length:        # read the next batch while the sandbox folds this one
            self.ahead = (end, asyncio.get_running_loop().create_task(self._read(end, length)))
        await self._fold(group, events, encoded)
        self._notify()
        return len(events)

    async def _batch(self, pos: int, length: int) -> tuple[tuple, EncodedEvents | None]:
        ahead, self.ahead = self.ahead, None
        if ahead is not None:
            if ahead[0] == pos:
                return await ahead[1]
            ahead[1].cancel()
        return await self._read(pos, length)

    async def _read(self, pos: int, length: int) -> tuple[tuple, EncodedEvents | None]:
        """Up to BATCH events (BATCH_BYTES of data) from ``pos``, and their sandbox encoding. One
        ``read_range`` (the SQLite store steps the rows in a thread), then columnar encoding:
        about 3 µs an event of daemon CPU in all (bench "reducers")."""
        page = await self.mgr.store.read_range(self.key, pos, length, limit=BATCH,
                                               max_bytes=BATCH_BYTES)
        events = page.events
        return events, encode_events(events) if events else None

    # ------------------------------------------------------------------------ one batch

    def _slots(self, group: list[_Reducer]) -> tuple[list, dict, dict, set]:
        """(slots in dependency order, sources, current states of stopped deps, shadow names)."""
        names = {r.name for r in group}
        shadows: dict[str, str | None] = {}
        cur: dict[str, str | None] = {}
        pending = [d for r in group for d in r.deps]
        while pending:
            d = pending.pop()
            dep = self.reducers.get(d)
            if d in names or d in shadows or d in cur or dep is None:
                continue
            if dep.error is not None:
                cur["#" + d] = dep.state
                continue
            owner = next((r for r in group if d in r.shadows), None)
            shadows[d] = owner.shadows[d] if owner else None
            pending.extend(dep.deps)
        graph = {n: self.reducers[n].deps for n in list(names) + list(shadows)}
        slots, sources = [], {}
        exported = {d for n in graph for d in graph[n]}
        for n in reducer_deps.order(graph):
            r = self.reducers[n]
            state = shadows[n] if n in shadows else r.state
            slots.append([n, r.hash, state, n in exported])
            sources[r.hash] = r.compiled
        return slots, sources, cur, set(shadows)

    async def _call(self, slots: list, sources: dict, events: tuple, cur: dict,
                    encoded: EncodedEvents | None = None) -> dict:
        sb = self.mgr.sandbox
        doc = await sb.run(self.key, sources, slots, encoded or encode_events(events),
                           stream=self.key, current=cur or None)
        if "fatal" in doc:  # a spliced JSON body that did not parse: let the sandbox parse each
            doc = await sb.run(self.key, sources, slots, safe_events(events), stream=self.key,
                               current=cur or None)
        if "fatal" in doc:
            doc = {"states": [s[2] for s in slots], "logs": [], "effects": [],
                   "errors": [[events[0].index, doc["fatal"]]] * len(slots)}
        return doc

    async def _fold(self, group: list[_Reducer], events: tuple,
                    encoded: EncodedEvents | None = None) -> None:
        slots, sources, cur, shadow = self._slots(group)
        try:
            doc = await self._call(slots, sources, events, cur, encoded)
        except SandboxDied as died:
            if len(events) > 1:         # find the event: halve the batch (state is deterministic)
                half = len(events) // 2
                await self._fold(group, events[:half])
                await self._fold([r for r in group if r.error is None], events[half:])
                return
            doc = await self._isolate(slots, sources, events[0], cur, died)
        await self._apply(group, slots, shadow, doc, events)

    async def _isolate(self, slots: list, sources: dict, ev: Any, cur: dict,
                       died: SandboxDied) -> dict:
        """One event killed the worker: run each reducer alone to find which one did."""
        out: dict = {"states": [], "errors": [], "logs": [], "effects": []}
        cur = dict(cur)
        for slot in slots:
            try:
                doc = await self._call([slot], {slot[1]: sources[slot[1]]}, (ev,), cur)
                for k in ("logs", "effects"):
                    out[k] += doc[k]
                state, err = doc["states"][0], doc["errors"][0]
            except SandboxDied as e:
                state, err = slot[2], [ev.index, str(e)]
            out["states"].append(state)
            out["errors"].append(err)
            cur["#" + slot[0]] = state
        return out

    async def _apply(self, group: list[_Reducer], slots: list, shadow: set, doc: dict,
                     events: tuple) -> None:
        end = events[-1].index + 1
        byname = {r.name: r for r in group}
        logs: list[NewEvent] = []
        stopped: list = []
        moved: dict[_Reducer, tuple] = {}   # reducer -> (state, position) after this batch
        for (name, *_), state, err in zip(slots, doc["states"], doc["errors"]):
            r = byname.get(name)
            if r is None:               # a shadow: remember its state at the group's position
                for g in group:
                    if name in g.shadows or name in _all_deps(self.reducers, g):
                        g.shadows[name] = state
                continue
            if self.reducers.get(name) is not r:
                continue                # deleted or replaced meanwhile
            moved[r] = (state, end)
            if err is not None:         # r.error is set once the log is written: GETs wait for it
                moved[r] = (state, err[0])
                stopped.append((r, {"index": err[0], "message": err[1]}))
                logs.append(_log_event("reducer-error", {"reducer": name, "index": err[0],
                                                         "error": err[1]}))
        for r, (_, at) in moved.items():
            for dep in list(r.shadows):     # caught up with the real dependency: drop the copy
                d = self.reducers.get(dep)
                if d is None or (moved[d][1] if d in moved else d.position) == at \
                        or d.error is not None:
                    del r.shadows[dep]
        for index, name, level, text in doc["logs"]:
            if name not in shadow:
                logs.append(_log_event("reducer-log", {"reducer": name, "index": index,
                                                       "level": level, "message": text}))
        if logs:
            await self.mgr.store.append(AppendRequest(self.key + "/logs", logs))
            await self.mgr.factory_logs(self.key, logs)
        # positions move only now: a GET that waited for this batch finds its console lines
        # and errors in /logs already
        for r, (state, at) in moved.items():
            r.state, r.position = state, at
        for r, error in stopped:
            r.error = error
        effects = [e for e in doc["effects"] if e[1] in byname and e[0] >= byname[e[1]].live_from
                   and (byname[e[1]].error is None or e[0] < byname[e[1]].error["index"])]
        if effects:
            pending = self._number(effects)
            await self._checkpoint(group, pending)
            await self.mgr.run_effects(self.key, pending)
            await self.mgr.meta(self.key, "done", {"names": sorted(byname)})

    def _number(self, effects: list) -> list:
        """Assign each dispatch its Producer-Seq (per reducer and target stream)."""
        out = []
        for index, name, kind, target, value, options in effects:
            r = self.reducers[name]
            seq = None
            if kind == "dispatch":
                seq = r.seqs.get(target, 0)
                r.seqs[target] = seq + 1
            out.append([index, name, kind, target, value, options, seq])
        return out

    async def _checkpoint(self, rs: list[_Reducer], pending: list | None = None) -> None:
        events = []
        for r in rs:
            if self.reducers.get(r.name) is not r:
                continue
            mine = [p for p in pending or () if p[1] == r.name]
            events.append(NewEvent(json.dumps(
                {"name": r.name, "gen": r.gen, "position": r.position, "state": r.state,
                 "error": r.error, "shadows": r.shadows, "seqs": r.seqs, "pending": mine},
                separators=(",", ":")).encode(), "checkpoint", "application/json"))
        if events:
            await self.mgr.store.append(AppendRequest(self.key + "/reducers", events))


def _all_deps(reducers: dict, r: _Reducer) -> set:
    seen: set = set()
    stack = list(r.deps)
    while stack:
        d = stack.pop()
        if d not in seen:
            seen.add(d)
            stack.extend(reducers[d].deps if d in reducers else ())
    return seen


def _log_event(kind: str, doc: dict) -> NewEvent:
    return NewEvent(json.dumps(doc, separators=(",", ":")).encode(), kind, "application/json")


def _deps_closure(graph: dict, deps: list) -> set:
    seen: set = set()
    stack = list(deps)
    while stack:
        d = stack.pop()
        if d not in seen:
            seen.add(d)
            stack.extend(graph.get(d, ()))
    return seen
