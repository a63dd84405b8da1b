"""§8 factory partitions of reducers (streamlog.md §8): a reducer PUT on a factory becomes a
copy in each substream, made when the substream appears or the definition changes, and the
factory's ``/logs`` receives its partitions' errors.

A mixin of ``ReducerManager`` (reducers.py), separate because it is the one part of reducer
management that knows about factories (factories.py); the fold itself (reducer_fold.py) treats a
partition as an ordinary reducer of the substream.
"""
from __future__ import annotations

import asyncio
import json
from . import reducer_deps
from .reducer_fold import _deps_closure, _log_event, _StreamReducers
from .store import AppendRequest, NewEvent, StreamStore


class FactoryPartitions:
    """The §8 methods of ``ReducerManager`` (whose ``__init__`` sets the attributes below)."""

    store: StreamStore
    streams: dict[str, _StreamReducers]
    inherited: dict[str, dict[str, int]]
    partition_lock: asyncio.Lock

    # ------------------------------------------------------------------------ §8 partitions
    # A reducer PUT on a factory is copied into every substream as a ``put`` event of that
    # substream's ``{sub}/reducers`` meta stream carrying ``factory``: the gen of the factory's
    # put. The copy is an ordinary reducer of the substream (own state, checkpoints, /logs,
    # ``current.#other`` among the substream's reducers), so restart and catch-up need nothing
    # new; ``inherited`` says which copies the factory owns.

    async def _is_factory(self, base: str) -> bool:
        from .factories import configs_for
        return (await configs_for(self.store).get(base)).factory

    async def _spread(self, base: str, live_from: int | None) -> None:
        from .factories import substream_keys
        for sub in await substream_keys(self.store, base):
            await self._partition(base, sub, live_from)

    async def substream_created(self, base: str, sub: str) -> None:
        """A factory's new substream: its partitions start at its index 0, side effects live."""
        await self.ensure_loaded()
        fsr = self.streams.get(base)
        if fsr is not None and fsr.reducers and await self._is_factory(base):
            await self._partition(base, sub, 0)

    async def _partition(self, base: str, sub: str, live_from: int | None) -> None:
        """Make ``sub`` hold a copy of each reducer of factory ``base`` at its current gen.
        ``live_from`` None: the substream's length (a new factory reducer catches up over
        history with side effects voided, as a PUT does); 0: every event is live."""
        async with self.partition_lock:
            fsr = self.streams.get(base)
            defs = fsr.reducers if fsr is not None else {}
            mine = self.inherited.setdefault(sub, {})
            sr = self.streams.get(sub)
            for name in [n for n in mine if n not in defs]:     # deleted on the factory
                await self.meta(sub, "delete", {"name": name})
                del mine[name]
                if sr is not None:
                    sr.reducers.pop(name, None)
            stale = {n for n, r in defs.items() if mine.get(n) != r.gen}
            if not stale:
                return
            graph = {n: r.deps for n, r in defs.items()}
            start = await self.store.length(sub) if live_from is None else live_from
            for name in [n for n in reducer_deps.order(graph) if n in stale]:
                fr = defs[name]
                doc = json.loads((await self.store.get(base + "/reducers", fr.gen)).data)
                doc = {**doc, "liveFrom": start, "factory": fr.gen}
                r = self._from_put(doc, await self.meta(sub, "put", doc))
                if sr is None:
                    sr = self.streams[sub] = _StreamReducers(self, sub)
                others = {n: o.deps for n, o in sr.reducers.items() if n != name}
                r.shadows = {d: None for d in _deps_closure(others, r.deps)}
                sr.reducers[name] = r
                mine[name] = fr.gen
            sr.wake.set()

    async def factory_logs(self, key: str, logs: list[NewEvent]) -> None:
        """§8: a factory's reducers apply to every substream, so their errors (not their console
        output) in substream ``key`` are also the factory's: copied to its ``/logs`` with
        ``substream`` (the argument as in stream keys) added."""
        names = self.inherited.get(key)
        if not names:
            return
        base = key[:key.index("(")]
        arg = key[len(base) + 1:-1]
        copies = []
        for ev in logs:
            if ev.eventType != "reducer-log":
                doc = json.loads(ev.data)
                if doc.get("reducer") in names:
                    copies.append(_log_event(ev.eventType, {"substream": arg, **doc}))
        if copies:
            await self.store.append(AppendRequest(base + "/logs", copies))
