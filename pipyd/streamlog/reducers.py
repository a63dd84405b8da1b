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
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import math
from typing import Any

from . import reducer_deps
from .sandbox import (EncodedEvents, ReducerCompileError, ReducerSandbox, SandboxDied,
                      encode_events, safe_events)
from .store import AppendRequest, BadRequest, Conflict, NewEvent, NotFound, Selector, StreamStore

__all__ = ["ReducerManager"]

# Catch-up folds up to BATCH events per sandbox call (one store read_range), and reads the next
# batch while the sandbox folds this one: the daemon's read+encode and the worker's fold overlap
# when they have two cores (bench "reducers" pins both to one: ~3.5 + ~4 µs an event).
BATCH = 5000
BATCH_BYTES = 4 << 20           # of event data per call, whatever the count
CHECKPOINT_EVENTS = 20000       # events folded between checkpoints while catching up
_MANAGERS: dict[int, "ReducerManager"] = {}


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
        for (name, *_), state, err in zip(slots, doc["states"], doc["errors"]):
            r = byname.get(name)
            if r is None:               # a shadow: remember its state at the group's position
                for g in group:
                    if name in g.shadows or name in _all_deps(self.reducers, g):
                        g.shadows[name] = state
                continue
            if self.reducers.get(name) is not r:
                continue                # deleted or replaced meanwhile
            r.state, r.position = state, end
            if err is not None:         # r.error is set once the log is written: GETs wait for it
                r.position = err[0]
                stopped.append((r, {"index": err[0], "message": err[1]}))
                logs.append(_log_event("reducer-error", {"reducer": name, "index": err[0],
                                                         "error": err[1]}))
            for dep in list(r.shadows):     # caught up with the real dependency: drop the copy
                d = self.reducers.get(dep)
                if d is None or d.position == r.position or d.error is not None:
                    del r.shadows[dep]
        for index, name, level, text in doc["logs"]:
            if name not in shadow:
                logs.append(_log_event("reducer-log", {"reducer": name, "index": index,
                                                       "level": level, "message": text}))
        if logs:
            await self.mgr.store.append(AppendRequest(self.key + "/logs", logs))
            await self.mgr.factory_logs(self.key, logs)
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


def _json_value(v: Any) -> bytes:
    """A ReducerExpr result as JSON (undefined and non-finite numbers: null, as JSON.stringify)."""
    from .urls import UNDEFINED
    if v is UNDEFINED or (type(v) is float and not math.isfinite(v)):
        return b"null"
    return json.dumps(v, separators=(",", ":")).encode()


class ReducerManager:
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

    async def _get_partitions(self, req: Any, url: Any, name: str) -> Any:
        """``GET`` of a factory reducer without an argument: ``{argument: state}`` over every
        substream (arguments as in stream keys: ``"a"`` for ('a'), ``bob`` for (bob))."""
        from .factories import substream_keys
        from .http_api import Response
        from .urls import UNDEFINED
        base = url.key
        out: dict[str, Any] = {}
        stopped = 0
        for sub in await substream_keys(self.store, base):
            await self._partition(base, sub, 0)
            sr = self.streams[sub]
            r = sr.reducers[name]
            if req.param("stale") != "ok":
                await sr.wait(r, await self.store.length(sub))
            stopped += r.error is not None
            state = UNDEFINED if r.state is None else json.loads(r.state)
            value = state if url.expr is None else url.expr.evaluate(state)
            out[sub[len(base) + 1:-1]] = json.loads(_json_value(value))
        body = json.dumps(out, separators=(",", ":")).encode()
        return Response(200, {"content-type": "application/json",
                              "reducer-partitions": str(len(out)),
                              "reducer-status": "stopped" if stopped else "running"},
                        b"" if req.method == "HEAD" else body)

    async def meta(self, key: str, kind: str, doc: dict) -> int:
        res = await self.store.append(AppendRequest(key + "/reducers", [_log_event(kind, doc)]))
        return res.indexes[0]

    # ------------------------------------------------------------------------ side effects

    async def run_effects(self, key: str, effects: list) -> None:
        from .urls import parse_stream_url
        problems = []
        for index, name, kind, target, value, options, seq in effects:
            try:
                if kind == "dispatch":
                    opts = options if isinstance(options, dict) else {}
                    url = parse_stream_url(target if target.startswith("/") else "/" + target)
                    ev = NewEvent(value.encode(), str(opts.get("eventType") or "message"),
                                  "application/json")
                    res = await self.store.append(AppendRequest(url.key, [ev],
                                                                f"reducer:{key}.{name}", seq))
                    from .factories import appended_soon    # maybe a factory's new substream
                    appended_soon(self.store, url.key, res)
                else:
                    await _request(target, options if isinstance(options, dict) else {})
            except Exception as e:      # an effect's failure is the tenant's, logged, not fatal
                problems.append(_log_event("reducer-effect-error", {
                    "reducer": name, "index": index, "effect": kind, "target": target,
                    "error": getattr(e, "message", None) or repr(e)}))
        if problems:
            await self.store.append(AppendRequest(key + "/logs", problems))
            await self.factory_logs(key, problems)

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

    # ------------------------------------------------------------------------ HTTP

    async def handle(self, req: Any, url: Any) -> Any:
        """``PUT``/``GET``/``DELETE`` of ``/{acct}/{strm}.{name}[expr]``; on a factory (§8) the
        definition applies to every substream, each with its own partition of state."""
        await self.ensure_loaded()
        key, name, m = url.key, url.reducer, req.method
        sr = self.streams.get(key)
        r = sr.reducers.get(name) if sr else None
        if url.substream is not None and not url.logs:
            base = f"{url.account}/{url.stream}"
            if m in ("PUT", "DELETE") and name in self.inherited.get(key, ()):
                raise Conflict(f"reducer {name!r} is defined on the factory /{base}: change it"
                               " there", {"reducer": name, "factory": "/" + base})
            if r is None and m in ("GET", "HEAD"):
                return await self._get_substream(req, url, base, name)
        if m == "PUT":
            if url.expr is not None or url.selection is not None:
                raise BadRequest("a reducer is defined at /{acct}/{strm}.{name}")
            res = await self._put(req, key, name)
            if res.status < 300 and url.substream is None and not url.logs \
                    and await self._is_factory(key):
                await self._spread(key, None)
            return res
        if r is None:
            raise NotFound(f"no reducer {name!r} on this stream", {"reducer": name})
        factory = url.substream is None and not url.logs and await self._is_factory(key)
        if m in ("GET", "HEAD"):
            if factory:
                return await self._get_partitions(req, url, name)
            return await self._get(req, url, sr, r)
        if m == "DELETE":
            users = sorted(o.name for o in sr.reducers.values() if name in o.deps)
            if factory:     # a substream's own reducer may read the factory's
                users += sorted(f"{k[len(key):]}.{o.name}" for k, names in self.inherited.items()
                                if k.startswith(key + "(") for o in self.streams[k].reducers
                                .values() if name in o.deps and o.name not in names)
            if users:
                raise Conflict(f"reducers {users} read {name!r}", {"dependents": users})
            await self.meta(key, "delete", {"name": name})
            del sr.reducers[name]
            sr._notify()
            if factory:
                await self._spread(key, None)
            from .http_api import Response
            return Response(204)
        from .http_api import ApiError
        raise ApiError(405, f"method {m} not allowed on a reducer", None,
                       {"allow": "GET, HEAD, PUT, DELETE, OPTIONS"})

    async def _get_substream(self, req: Any, url: Any, base: str, name: str) -> Any:
        """A substream's partition of a factory reducer that this worker has not made yet: made
        now (the substream was written by the JS API or another worker); a substream with no
        events answers the initial state, ``undefined`` (null), without creating anything."""
        from .http_api import Response
        fsr = self.streams.get(base)
        if fsr is None or name not in fsr.reducers or not await self._is_factory(base):
            raise NotFound(f"no reducer {name!r} on this stream", {"reducer": name})
        if await self.store.length(url.key) > 0:
            await self._partition(base, url.key, 0)
            sr = self.streams[url.key]
            return await self._get(req, url, sr, sr.reducers[name])
        from .urls import UNDEFINED
        body = b"null" if url.expr is None else _json_value(url.expr.evaluate(UNDEFINED))
        return Response(200, {"content-type": "application/json", "reducer-position": "0",
                              "reducer-status": "running"},
                        b"" if req.method == "HEAD" else body)

    async def _put(self, req: Any, key: str, name: str) -> Any:
        from .http_api import json_response
        ctype = (req.header("content-type") or "").split(";", 1)[0].strip().lower()
        source = req.body.decode("utf-8")
        typescript = None
        if ctype in ("application/typescript", "application/x-typescript", "text/typescript"):
            from . import reducer_ts    # §7: transpiled once, here; the JavaScript is stored
            typescript, source = source, await reducer_ts.transpile(self.sandbox, self.store,
                                                                     key, source)
        r = _Reducer(name, source, -1, 0)
        sr = self.streams.get(key)
        others = {n: o.deps for n, o in (sr.reducers.items() if sr else ()) if n != name}
        missing = [d for d in r.deps if d not in others]
        if missing:
            raise BadRequest(f"unknown reducers referenced: {missing}", {"missing": missing})
        cycle = reducer_deps.find_cycle({**others, name: r.deps})
        if cycle:
            raise BadRequest("reducer dependency cycle: " + " -> ".join(cycle), {"cycle": cycle})
        try:
            await self.sandbox.compile(key, r.hash, r.compiled)
        except ReducerCompileError as e:
            raise BadRequest(f"reducer does not compile: {e}", {"error": str(e)}) from None
        r.live_from = await self.store.length(key)
        put = {"name": name, "source": source, "liveFrom": r.live_from}
        if typescript is not None:
            put["typescript"] = typescript
        r.gen = await self.meta(key, "put", put)
        r.shadows = {d: None for d in _deps_closure(others, r.deps)}
        if sr is None:
            sr = self.streams[key] = _StreamReducers(self, key)
        prior = sr.reducers.get(name)
        sr.reducers[name] = r
        if prior is not None and prior.seqs:
            # dispatch sequence numbers carry over (as in rebuild): the targets' producer dedupe
            # would drop the new definition's dispatches numbered from 0 again
            r.seqs = dict(prior.seqs)
            await sr._checkpoint([r])
        sr.wake.set()
        existed = prior is not None
        return json_response(200 if existed else 201, {"name": name, "dependencies": r.deps,
                                                       "liveFrom": r.live_from})

    async def _get(self, req: Any, url: Any, sr: _StreamReducers, r: _Reducer) -> Any:
        from .http_api import Response
        if req.param("stale") != "ok":
            await sr.wait(r, await self.store.length(url.key))
        headers = {"content-type": "application/json", "reducer-position": str(r.position),
                   "reducer-status": "stopped" if r.error else "running"}
        if r.error:
            headers["reducer-error"] = r.error["message"].splitlines()[0][:200]
        if url.expr is None:
            body = (r.state or "null").encode()
        else:
            from .urls import UNDEFINED
            body = _json_value(url.expr.evaluate(UNDEFINED if r.state is None
                                                 else json.loads(r.state)))
        return Response(200, headers, b"" if req.method == "HEAD" else body)

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


def _deps_closure(graph: dict, deps: list) -> set:
    seen: set = set()
    stack = list(deps)
    while stack:
        d = stack.pop()
        if d not in seen:
            seen.add(d)
            stack.extend(graph.get(d, ()))
    return seen


async def _request(url: str, options: dict) -> int:
    """``request(url, {method, headers, body})`` from a reducer: one HTTP/1.1 exchange."""
    from urllib.parse import urlsplit
    u = urlsplit(url)
    if u.scheme not in ("http", "https") or not u.hostname:
        raise ValueError(f"request(): not an http(s) URL: {url!r}")
    body = options.get("body")
    data = b"" if body is None else (body if type(body) is str
                                     else json.dumps(body)).encode()
    method = str(options.get("method") or ("POST" if body is not None else "GET")).upper()
    tls = u.scheme == "https"
    reader, writer = await asyncio.wait_for(asyncio.open_connection(
        u.hostname, u.port or (443 if tls else 80), ssl=True if tls else None), 10)
    try:
        lines = [f"{method} {(u.path or '/') + ('?' + u.query if u.query else '')} HTTP/1.1",
                 f"host: {u.netloc}", f"content-length: {len(data)}", "connection: close"]
        headers = options.get("headers") if isinstance(options.get("headers"), dict) else {}
        lines += [f"{k}: {v}" for k, v in headers.items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data)
        await writer.drain()
        status = (await asyncio.wait_for(reader.readline(), 10)).split(b" ", 2)
        return int(status[1])
    finally:
        writer.close()
