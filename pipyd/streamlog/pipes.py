"""Pipes (streamlog.md §10): copy matching events of an origin stream into a destination stream.

``PUT /{acct}/{strm}[(arg)][/logs]/pipe/{acct2}/{strm2}[(arg)]`` with an optional JSON selector
``{types, from, since, until, substreams}`` creates or replaces the pipe of that (origin,
destination); ``DELETE`` removes it; ``GET`` shows it with its cursors. ``from`` is an origin
index (history from there is copied; default: only events appended after the PUT); ``since`` and
``until`` bound timestamps (``since <= ts < until``); ``types`` lists event types. A pipe on a
factory URL (no argument) copies from every substream, present and future, each with its own
cursor; ``substreams`` (argument texts as in URLs: ``["'a'", "bob", "1"]``) narrows that set.

Copies keep ``eventType``, ``contentType`` and data; the destination assigns its own index and
the timestamp ``max(origin timestamp, destination's latest)`` (never lower than its latest, §2).
Piped events are not validated against the destination's types: they keep their original type
(§9).

Exactly once, in order: each batch is one append to the destination carrying ``Producer-Id``
``pipe:{origin}:{generation}`` and ``Producer-Seq`` = the pipe's batch number, and the cursor
``(origin index, batch)`` is recorded afterwards in the meta stream ``{origin}/pipes`` (with the
pipe's ``put``/``delete`` events). After a crash between the two, the batch is sent again with
the same seq: the store answers it as a duplicate with the original event count, and the copier
steps over exactly those events (an idempotent producer, §4, is the transaction).

Loops are refused at PUT: a pipe whose origin is reachable from its destination through existing
pipes (a factory's pipes count for each of its substreams). Permissions (§12 as implemented):
the caller needs a key of the origin's account (when it has keys) and of the destination's.
Failures to append are written to the origin's ``/logs`` and retried with backoff. A copy
that creates a factory's substream reports it like any writer (``factories.appended``).
"""
from __future__ import annotations

import asyncio
import json
import secrets
from dataclasses import dataclass
from typing import Any

from .. import log
from .store import (AppendRequest, BadRequest, NewEvent, NotFound, RESERVED_ACCOUNT, Selector,
                    StoreError, StreamStore, TimestampConflict, stream_key)
from .webhooks import StreamFollower, append_json, meta_events

__all__ = ["PipeManager", "pipes_for", "Pipe"]

BATCH = 100
MAX_BACKOFF = 30.0


@dataclass(frozen=True)
class Pipe:
    origin: str            # origin key; a factory's base key when ``factory``
    dest: str
    origin_path: str
    dest_path: str
    selector: dict
    gen: str
    factory: bool

    def public(self, cursors: dict) -> dict:
        return {"origin": self.origin_path, "destination": self.dest_path,
                "selector": self.selector, "cursors": cursors}


class _Copier(StreamFollower):
    """One copying loop: one pipe, one source stream (the origin or one of its substreams)."""

    def __init__(self, mgr: "PipeManager", pipe: Pipe, source: str, cursor: int, batch: int) -> None:
        self.mgr, self.pipe, self.source = mgr, pipe, source
        self.cursor, self.batch = cursor, batch
        sel = pipe.selector
        types = sel.get("types")
        self.types = frozenset(types) if types else None
        self.since, self.until = sel.get("since"), sel.get("until")
        self.producer = f"pipe:{source}:{pipe.gen}"
        self.follow(mgr.store, source)

    async def catch_up(self) -> None:
        store = self.mgr.store
        while True:
            sel = Selector(self.types, self.cursor, None, self.since, self.until)
            page = await store.read(self.source, sel, limit=BATCH)
            if not page.events:
                self.cursor = max(self.cursor, page.next_index)
                return
            n = await self._copy(page.events)
            self.cursor = page.events[n - 1].index + 1
            self.batch += 1
            await self.mgr.record(self.pipe.origin, "cursor", {
                "dest": self.pipe.dest, "gen": self.pipe.gen, "source": self.source,
                "cursor": self.cursor, "batch": self.batch})

    async def _copy(self, events: tuple) -> int:
        """Append ``events`` as batch ``self.batch``; how many origin events it covered."""
        store, dest = self.mgr.store, self.pipe.dest
        attempt = 0
        while True:
            info = await store.info(dest)
            latest = info.last_timestamp if info is not None else 0
            news = [NewEvent(ev.data, ev.eventType, ev.contentType, max(ev.timestamp, latest))
                    for ev in events]
            try:
                res = await store.append(AppendRequest(dest, news, self.producer, self.batch))
            except TimestampConflict:
                continue        # another writer moved the destination on: restamp
            except StoreError as e:
                attempt += 1
                await self.mgr.log_failure(self.pipe, {"error": e.message, "detail": e.detail,
                                                       "index": events[0].index,
                                                       "attempt": attempt})
                await asyncio.sleep(min(MAX_BACKOFF, self.mgr.retry * 2 ** (attempt - 1)))
                continue
            from .factories import appended     # a pipe may create a factory's substream
            await appended(store, dest, res)
            return min(len(res.indexes), len(events)) if res.duplicate else len(events)


class PipeManager:
    """Every pipe of one store in this worker."""

    def __init__(self, store: StreamStore, retry: float = 0.2) -> None:
        self.store = store
        self.retry = retry
        self.pipes: dict[tuple[str, str], Pipe] = {}
        self.cursors: dict[tuple[str, str, str], tuple[int, int]] = {}   # (origin, dest, source)
        self.running: dict[tuple[str, str, str], _Copier] = {}
        self.loaded = False

    # ---------------------------------------------------------------- persistence and start

    async def load(self) -> None:
        """Replay every ``…/pipes`` meta stream once and start copying."""
        if self.loaded:
            return
        self.loaded = True
        for info in await self.store.list_streams():
            k = info.key
            if k.endswith("/pipes") and "/" in k[:-6]:
                await self._replay(k[:-6])
        for pipe in list(self.pipes.values()):
            await self._start(pipe, None)

    async def _replay(self, origin: str) -> None:
        pipes = self.pipes
        async for kind, d in meta_events(self.store, origin + "/pipes"):
            k = (origin, d["dest"])
            if kind == "put":
                pipes[k] = Pipe(origin, d["dest"], d["originPath"], d["destPath"],
                                d["selector"], d["gen"], d["factory"])
            elif kind == "delete":
                pipes.pop(k, None)
            elif kind == "cursor" and k in pipes and pipes[k].gen == d["gen"]:
                self.cursors[(origin, d["dest"], d["source"])] = (d["cursor"], d["batch"])

    async def record(self, origin: str, kind: str, doc: dict) -> None:
        await append_json(self.store, origin + "/pipes", kind, doc)

    async def log_failure(self, pipe: Pipe, doc: dict) -> None:
        data = json.dumps({"pipe": pipe.dest_path, **doc}, separators=(",", ":"),
                          default=str).encode()
        try:
            await self.store.append(AppendRequest(pipe.origin + "/logs", [NewEvent(
                data, "pipe-error", "application/json")]))
        except StoreError as e:
            log.error(f"streamlog: pipe {pipe.origin_path} → {pipe.dest_path}: {e}")

    async def _sources(self, pipe: Pipe) -> list[str]:
        if not pipe.factory:
            return [pipe.origin]
        from .factories import substream_keys
        wanted = pipe.selector.get("substreams")
        keys = await substream_keys(self.store, pipe.origin)
        if wanted is None:
            return keys
        return [k for k in keys if k[len(pipe.origin) + 1:-1] in wanted]

    async def _start(self, pipe: Pipe, start_at: int | None) -> None:
        """Start a copier per source; a source without a cursor starts at ``start_at`` (PUT:
        ``from`` or the current length) or, found later, at ``from`` or 0 (a new substream)."""
        for source in await self._sources(pipe):
            await self._start_source(pipe, source, start_at)

    async def _start_source(self, pipe: Pipe, source: str, start_at: int | None) -> None:
        k = (pipe.origin, pipe.dest, source)
        if k in self.running:
            return
        cur = self.cursors.get(k)
        if cur is None:
            frm = pipe.selector.get("from")
            if start_at is not None:
                cursor = frm if frm is not None else await self.store.length(source)
            else:
                cursor = frm if frm is not None else 0
            cur = self.cursors[k] = (cursor, 0)
            await self.record(pipe.origin, "cursor", {"dest": pipe.dest, "gen": pipe.gen,
                                                      "source": source, "cursor": cursor,
                                                      "batch": 0})
        self.running[k] = _Copier(self, pipe, source, cur[0], cur[1])

    async def substream_created(self, base: str, key: str) -> None:
        """A factory's new substream: every pipe of the factory starts copying it from 0."""
        if not self.loaded:
            return await self.load()
        for pipe in list(self.pipes.values()):
            if pipe.factory and pipe.origin == base:
                wanted = pipe.selector.get("substreams")
                if wanted is None or key[len(base) + 1:-1] in wanted:
                    await self._start_source(pipe, key, None)

    def _stop(self, origin: str, dest: str) -> None:
        for k in [k for k in self.running if k[0] == origin and k[1] == dest]:
            self.running.pop(k).stop()

    # ----------------------------------------------------------------------------- loops

    def _successors(self, key: str) -> list[str]:
        out = [d for (o, d) in self.pipes if o == key]
        if key.endswith(")") and "(" in key:
            base = key[:key.index("(")]
            out += [d for (o, d), p in self.pipes.items() if o == base and p.factory]
        return out

    def _creates_loop(self, origin: str, factory: bool, dest: str) -> bool:
        seen, todo = set(), [dest]
        while todo:
            k = todo.pop()
            if k == origin or (factory and k.startswith(origin + "(") and k.endswith(")")):
                return True
            if k not in seen:
                seen.add(k)
                todo.extend(self._successors(k))
        return False

    # ------------------------------------------------------------------------------- HTTP

    async def handle(self, api: Any, req: Any, url: Any) -> Any:
        from .builtin_streams import record_mutation
        from .http_api import ApiError, Response, json_response
        await self.load()
        origin, origin_path, factory = await self._origin(api, req, url)
        dest, dest_path = await self._destination(api, req, url)
        k = (origin, dest)
        owner = url.pipe_to.account if url.account == RESERVED_ACCOUNT else url.account
        m = req.method
        if m in ("GET", "HEAD"):
            pipe = self.pipes.get(k)
            if pipe is None:
                raise NotFound("no such pipe", {"origin": origin_path, "destination": dest_path})
            cursors = {s: c[0] for (o, d, s), c in self.cursors.items() if (o, d) == k}
            return json_response(200, pipe.public(cursors))
        if m == "DELETE":
            if k not in self.pipes:
                raise NotFound("no such pipe", {"origin": origin_path, "destination": dest_path})
            await self.record(origin, "delete", {"dest": dest})
            self._stop(origin, dest)
            del self.pipes[k]
            await record_mutation(self.store, owner, "pipe.deleted",
                                  {"origin": origin_path, "destination": dest_path})
            return Response(204)
        if m != "PUT":
            raise ApiError(405, f"method {m} not allowed on a pipe", {"allow": "GET, PUT, DELETE"},
                           {"allow": "GET, HEAD, PUT, DELETE, OPTIONS"})
        from .factories import read_json
        selector = _check_selector(read_json(req, {}), factory)
        if dest == origin or self._creates_loop(origin, factory, dest):
            raise BadRequest("this pipe would make a loop", {"origin": origin_path,
                                                             "destination": dest_path})
        old = self.pipes.get(k)
        pipe = Pipe(origin, dest, origin_path, dest_path, selector, secrets.token_hex(6), factory)
        await self.record(origin, "put", {"dest": dest, "originPath": origin_path,
                                          "destPath": dest_path, "selector": selector,
                                          "gen": pipe.gen, "factory": factory})
        self._stop(origin, dest)
        kept = {} if old is None or "from" in selector else \
            {kk: c for kk, c in self.cursors.items() if kk[:2] == k}
        for kk in [kk for kk in self.cursors if kk[:2] == k]:
            del self.cursors[kk]
        for kk, (cursor, _) in kept.items():      # a replaced pipe goes on where it was
            self.cursors[kk] = (cursor, 0)
            await self.record(origin, "cursor", {"dest": dest, "gen": pipe.gen, "source": kk[2],
                                                 "cursor": cursor, "batch": 0})
        self.pipes[k] = pipe
        await self._start(pipe, 0)
        await record_mutation(self.store, owner, "pipe.put",
                              {"origin": origin_path, "destination": dest_path,
                               "selector": selector})
        cursors = {s: c[0] for (o, d, s), c in self.cursors.items() if (o, d) == k}
        return json_response(201 if old is None else 200, pipe.public(cursors))

    async def _origin(self, api: Any, req: Any, url: Any) -> tuple[str, str, bool]:
        """(key, path, is-factory) of the origin, after its access checks."""
        from .factories import configs_for
        if url.event_type is not None or url.selection is not None or url.reducer is not None:
            raise BadRequest("a pipe's origin is /acct/strm[(arg)][/logs]; narrow it with a"
                             " selector body {types, from, since, until, substreams}")
        sub = "" if url.substream is None else f"({url.substream.canonical})"
        path = f"/{url.account}/{url.stream}{sub}" + ("/logs" if url.logs else "")
        if url.account == RESERVED_ACCOUNT:
            from .builtin_streams import builtin_key
            return await builtin_key(api, req, url), path, False
        if req.method not in ("GET", "HEAD"):
            api._authorize(req, url)
        s = await configs_for(api.store).get(stream_key(url.account, url.stream))
        return url.key, path, s.factory and url.substream is None and not url.logs

    async def _destination(self, api: Any, req: Any, url: Any) -> tuple[str, str]:
        from .factories import configs_for
        from .http_api import ApiError
        d = url.pipe_to
        if d.account == RESERVED_ACCOUNT:
            raise ApiError(403, "built-in streams are not writable", {"account": d.account})
        sub = "" if d.substream is None else f"({d.substream.canonical})"
        path = f"/{d.account}/{d.stream}{sub}"
        # write and execute on the destination are checked by controls.check (§12)
        s = await configs_for(api.store).get(stream_key(d.account, d.stream))
        if s.factory and d.substream is None:
            raise BadRequest("a pipe's destination is a stream or a substream, not a factory",
                             {"destination": path})
        return d.key, path


def _check_selector(doc: Any, factory: bool) -> dict:
    if type(doc) is not dict or set(doc) - {"types", "from", "since", "until", "substreams"}:
        raise BadRequest("a pipe selector is {types, from, since, until, substreams}")
    types = doc.get("types")
    if types is not None and (type(types) is not list or not all(type(t) is str for t in types)):
        raise BadRequest("selector.types must be an array of event types")
    for k in ("from", "since", "until"):
        v = doc.get(k)
        if v is not None and (type(v) is not int or v < 0):
            raise BadRequest(f"selector.{k} must be a non-negative integer", {k: v})
    subs = doc.get("substreams")
    if subs is not None:
        if not factory:
            raise BadRequest("selector.substreams needs a factory origin")
        if type(subs) is not list or not all(type(s) is str for s in subs):
            raise BadRequest("selector.substreams is an array of arguments like \"'a'\" or \"bob\"")
        from .urls import parse_stream_url
        doc = {**doc, "substreams": [parse_stream_url(f"/x/y({s})").substream.canonical
                                     for s in subs]}
    return {k: v for k, v in doc.items() if v is not None}


_PIPES: dict[int, tuple[StreamStore, PipeManager]] = {}


def pipes_for(store: StreamStore) -> PipeManager:
    """One pipe manager per store object (shared by every API over it)."""
    hit = _PIPES.get(id(store))
    if hit is None or hit[0] is not store:
        hit = _PIPES[id(store)] = (store, PipeManager(store))
    return hit[1]
