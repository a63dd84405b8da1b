"""Reducers: JavaScript folds of a stream into state (streamlog.md §7).

``PUT /{acct}/{strm}.{name}`` defines one (the source evaluates to ``(state, event, index, current)
=> newState`` or ``{reduce, selector, replacer, reviver}``), ``GET`` answers its state as JSON once
it caught up with the stream as of the request (``?stale=ok``: at once), with an optional
``urls.ReducerExpr`` after the name (``.counter.Hello+1``), ``DELETE`` removes it.

Durability: definitions and checkpoints are events of the meta stream ``{key}/reducers`` (``put``,
``delete``, ``checkpoint`` {name, gen, position, state, shadows, seqs, pending}, ``done``), the
pattern of webhooks.py; ``gen`` is the index of the ``put`` a checkpoint belongs to. A restart
replays that stream and resumes every reducer at its last checkpoint.

Processing: one task per stream folds batches of up to ``BATCH`` events in the sandbox
(sandbox.py). Reducers at the same position run together in one call, dependencies first, so
``current.#a`` is ``a``'s state after the same event; a dependency that is ahead (a new reducer
catching up) runs as a *shadow* copy from the dependent's position, its output discarded.

Side effects (``dispatch``, ``request``) are kept only for events at or past the reducer's
``live_from`` (the stream length when it was PUT): catch-up over history voids them. Kept effects
are written into the checkpoint first, then run, then a ``done`` event is appended; a restart in
between runs them again, and ``dispatch`` carries ``Producer-Id``/``Producer-Seq`` so the store drops
the repeat (exactly once); ``request`` is at-least-once across a crash.

Errors (a throw, the CPU or memory limit, state over 100 KiB) stop the reducer: its state stays at
the last good event, the error goes to ``{key}/logs`` as ``reducer-error``; console output goes
there as ``reducer-log``. A PUT of the same name starts it over.

Layout: this module holds ``ReducerManager``, the lifecycle of definitions for one store (load and
replay at start, the meta stream, splice rebuild); the per-stream fold and checkpoints are in
reducer_fold.py, and the manager's other faces are mixins beside it: HTTP (reducer_http.py), §8
factory partitions (reducer_partitions.py), side effects (reducer_effects.py).
"""
from __future__ import annotations

import asyncio
import json
import math

from .reducer_effects import ReducerEffects
from .reducer_fold import _log_event, _Reducer, _StreamReducers
from .reducer_http import ReducerRoutes
from .reducer_partitions import FactoryPartitions
from .sandbox import ReducerSandbox
from .store import AppendRequest, Selector, StreamStore

__all__ = ["ReducerManager"]

_MANAGERS: dict[int, "ReducerManager"] = {}


class ReducerManager(ReducerRoutes, FactoryPartitions, ReducerEffects):
    """The reducers of one store in this worker: ``ReducerManager.of(store)``."""

    def __init__(self, store: StreamStore, sandbox: ReducerSandbox | None = None) -> None:
        self.store = store
        self.sandbox = sandbox or ReducerSandbox()
        self.streams: dict[str, _StreamReducers] = {}
        self.loaded: asyncio.Future | None = None
        # §8 factory partitions: substream key → {reducer name → gen of the factory's put}
        self.inherited: dict[str, dict[str, int]] = {}
        self.partition_lock = asyncio.Lock()

    @classmethod
    def of(cls, store: StreamStore) -> "ReducerManager":
        """The store's manager; loading (resuming every reducer) starts when a loop runs."""
        mgr = _MANAGERS.get(id(store))
        if mgr is None or mgr.store is not store:
            mgr = _MANAGERS[id(store)] = cls(store)
        try:
            asyncio.get_running_loop()
            mgr.ensure_loaded()
        except RuntimeError:
            pass
        return mgr

    def ensure_loaded(self) -> asyncio.Future:
        if self.loaded is None:
            self.loaded = asyncio.ensure_future(self._load())
        return self.loaded

    async def _load(self) -> None:
        for info in await self.store.list_streams():
            if info.key.endswith("/reducers"):
                await self._replay(info.key[:-len("/reducers")])
        # §8: a substream created (or a factory reducer put) while no worker ran, or a crash
        # between a factory's put and its partitions' puts, is reconciled here.
        for base in [k for k, sr in self.streams.items() if sr.reducers and k.count("/") == 1
                     and not k.endswith(")")]:
            if await self._is_factory(base):
                await self._spread(base, 0)

    async def _replay(self, key: str) -> None:
        defs: dict[str, _Reducer] = {}
        pending: list = []
        inherited: dict[str, int] = {}
        start = 0
        while True:
            page = await self.store.read(key + "/reducers", Selector(None, start))
            for ev in page.events:
                doc = json.loads(ev.data)
                if ev.eventType == "put":
                    defs[doc["name"]] = self._from_put(doc, ev.index)
                    inherited.pop(doc["name"], None)
                    if "factory" in doc:
                        inherited[doc["name"]] = doc["factory"]
                elif ev.eventType == "delete":
                    defs.pop(doc["name"], None)
                    inherited.pop(doc["name"], None)
                elif ev.eventType == "checkpoint" and doc["name"] in defs \
                        and defs[doc["name"]].gen == doc["gen"]:
                    r = defs[doc["name"]]
                    r.state, r.position, r.error = doc["state"], doc["position"], doc["error"]
                    r.shadows, r.seqs = doc["shadows"], doc["seqs"]
                    pending = [p for p in pending if p[1] != r.name] + doc["pending"]
                elif ev.eventType == "done":
                    pending = [p for p in pending if p[1] not in doc["names"]]
            if page.next_index >= page.length or page.next_index <= start:
                break
            start = page.next_index
        if inherited:
            self.inherited[key] = inherited
        if defs:
            sr = self.streams.setdefault(key, _StreamReducers(self, key))
            sr.reducers.update(defs)
        if pending:     # effects of a checkpoint whose 'done' never came: run them again
            await self.run_effects(key, pending)

    @staticmethod
    def _from_put(doc: dict, gen: int) -> _Reducer:
        """A definition from its ``put`` document (the factory's or a partition's copy)."""
        return _Reducer(doc["name"], doc["source"], gen, doc["liveFrom"])

    async def meta(self, key: str, kind: str, doc: dict) -> int:
        res = await self.store.append(AppendRequest(key + "/reducers", [_log_event(kind, doc)]))
        return res.indexes[0]

    async def rebuild(self, key: str) -> None:
        """Splice (§12): the history of ``key`` was replaced. Each reducer of the stream starts
        over as a re-PUT does: a new ``put`` with the same document (a factory partition keeps
        its ``factory``) and ``liveFrom`` the new length, so its catch-up over the new history
        voids side effects. First, before anything awaits, the old objects' ``live_from`` is set
        past every index: a batch already in the sandbox when the splice committed (it may hold
        new events) runs no effects either. Dispatch sequences carry over, recorded in a
        checkpoint of the new gen, so targets' producer dedupe keeps accepting them."""
        sr = self.streams.get(key)
        for r in (sr.reducers.values() if sr is not None else ()):
            r.live_from = math.inf
        await self.ensure_loaded()
        sr = self.streams.get(key)
        if sr is None or not sr.reducers:
            return
        old = list(sr.reducers.values())
        for r in old:
            r.live_from = math.inf
        sr.drop_ahead()     # a batch read ahead of the splice holds old events
        length = await self.store.length(key)
        fresh: dict[str, _Reducer] = {}
        for r in old:
            doc = json.loads((await self.store.get(key + "/reducers", r.gen)).data)
            doc = {**doc, "liveFrom": length}
            n = self._from_put(doc, await self.meta(key, "put", doc))
            n.seqs = dict(r.seqs)
            fresh[r.name] = n
        sr.reducers.update(fresh)
        await sr._checkpoint([n for n in fresh.values() if n.seqs])
        sr._notify()        # GETs waiting on the old objects answer; new ones wait on these
        sr.wake.set()
