"""Built-in streams of the reserved account ``pipet`` (streamlog.md §11).

- ``/pipet/cron('expr')``: one ``tick`` event per tick of a cron expression (croniter syntax,
  UTC; five fields, or six with seconds), data and timestamp the tick's unix ms. Readable by
  anyone, never writable (403). A cron stream starts ticking when first referenced (a read, or a
  pipe from it); the expressions are kept in the meta stream ``pipet/cron/registry`` so ticking
  resumes after a restart, and ticks missed while the daemon was down are appended on start
  (at most ``MAX_BACKFILL`` of them, none older than ``BACKFILL_WINDOW``).
- ``/pipet/events(acct)``: the account's own mutations (stream created, settings, event types,
  pipes, webhooks), one JSON event each, ``eventType`` naming the change (``stream.created``,
  ``stream.settings``, ``type.put``, ``type.deleted``, ``pipe.put``, ``pipe.deleted``,
  ``webhook.put``, ``webhook.deleted``). Readable by the account only: when the account has API
  keys, a read needs one of them. Never writable.

Reads reuse http_read.py through a view of the URL whose key is the built-in stream's, so
selections, ``?from``, long-poll and SSE work exactly as on any stream (a pipe from a cron
stream is the usual consumer).
"""
from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from croniter import croniter

from .. import log
from .store import (AppendRequest, BadRequest, NewEvent, NotFound, RESERVED_ACCOUNT, Selector,
                    StoreError, StreamStore)

__all__ = ["record_mutation", "crons_for", "handle", "cron_key", "MAX_BACKFILL"]

REGISTRY = "pipet/cron/registry"
MAX_BACKFILL = 100
BACKFILL_WINDOW = 3600.0       # seconds of downtime whose ticks are still appended
MAX_CRONS = 1000               # registering is open to anyone: bound the ticking tasks


def cron_key(expr: str) -> str:
    return f"{RESERVED_ACCOUNT}/cron({json.dumps(expr, ensure_ascii=False)})"


async def record_mutation(store: StreamStore, account: str, kind: str, doc: dict) -> None:
    """Append one mutation to ``/pipet/events(account)``; a failure is logged, never raised (the
    mutation itself already committed)."""
    if account == RESERVED_ACCOUNT:
        return
    data = json.dumps(doc, separators=(",", ":")).encode()
    try:
        await store.append(AppendRequest(f"{RESERVED_ACCOUNT}/events({account})",
                                         [NewEvent(data, kind, "application/json")]))
    except StoreError as e:
        log.error(f"streamlog: cannot record {kind} for account {account}: {e}")


class CronStreams:
    """The ticking cron streams of one store in this worker."""

    def __init__(self, store: StreamStore) -> None:
        self.store = store
        self.tasks: dict[str, asyncio.Task] = {}
        self.registered: dict[str, int] = {}       # expr → registration time (unix ms)
        self.loaded = False

    async def load(self) -> None:
        if self.loaded:
            return
        self.loaded = True
        start = 0
        while True:
            page = await self.store.read(REGISTRY, Selector(None, start))
            for ev in page.events:
                d = json.loads(ev.data)
                self.registered.setdefault(d["expr"], ev.timestamp)
            if not page.events or page.next_index >= page.length:
                break
            start = page.next_index
        for expr, since in self.registered.items():
            self._start(expr, since)

    async def ensure(self, expr: str) -> str:
        """Validate ``expr``, register it once, make sure it ticks; its stream key."""
        if not croniter.is_valid(expr):
            raise BadRequest("not a valid cron expression", {"cron": expr})
        await self.load()
        if expr not in self.registered:
            if len(self.registered) >= MAX_CRONS:
                raise BadRequest("too many cron streams", {"limit": MAX_CRONS})
            data = json.dumps({"expr": expr}).encode()
            res = await self.store.append(AppendRequest(REGISTRY, [NewEvent(
                data, "cron", "application/json")]))
            self.registered[expr] = res.timestamps[0]
        self._start(expr, self.registered[expr])
        return cron_key(expr)

    def _start(self, expr: str, since: int) -> None:
        task = self.tasks.get(expr)
        if task is None or task.done():
            self.tasks[expr] = asyncio.get_running_loop().create_task(self._run(expr, since))

    async def _run(self, expr: str, since: int) -> None:
        key = cron_key(expr)
        info = await self.store.info(key)
        last = info.last_timestamp if info is not None and info.length else since
        start = max(last / 1000.0, time.time() - BACKFILL_WINDOW)
        it = croniter(expr, start)
        nxt = it.get_next(float)
        while True:
            now = time.time()
            backlog = []
            while nxt <= now and len(backlog) < 10 * MAX_BACKFILL:
                backlog.append(int(nxt * 1000))
                nxt = it.get_next(float)
            if backlog:
                await self._append(key, backlog[-MAX_BACKFILL:])
                continue
            await asyncio.sleep(min(nxt - now, 60.0))

    async def _append(self, key: str, ticks: list[int]) -> None:
        """Append ticks past the stream's latest. ``Producer-Seq`` = the expected index, so two
        workers ticking the same stream append each tick once."""
        info = await self.store.info(key)
        latest = info.last_timestamp if info is not None and info.length else -1
        length = info.length if info is not None else 0
        ticks = [t for t in ticks if t > latest]
        if not ticks:
            return
        events = [NewEvent(str(t).encode(), "tick", "application/json", t) for t in ticks]
        try:
            await self.store.append(AppendRequest(key, events, "cron", length))
        except StoreError as e:
            log.error(f"streamlog: cron stream {key}: {e}")


_CRONS: dict[int, tuple[StreamStore, CronStreams]] = {}


def crons_for(store: StreamStore) -> CronStreams:
    hit = _CRONS.get(id(store))
    if hit is None or hit[0] is not store:
        hit = _CRONS[id(store)] = (store, CronStreams(store))
    return hit[1]


class _View:
    """The URL as http_read sees it: the built-in stream's key, the request's suffixes."""
    __slots__ = ("account", "stream", "substream", "event_type", "selection", "reducer", "expr",
                 "logs", "key")

    def __init__(self, url: Any, key: str) -> None:
        self.account = ""           # not the reserved account: http_read reads it as a stream
        self.stream, self.substream, self.logs = url.stream, url.substream, False
        self.event_type, self.selection = url.event_type, url.selection
        self.reducer, self.expr = url.reducer, url.expr
        self.key = key


async def handle(api: Any, req: Any, url: Any) -> Any:
    """Any request to ``/pipet/{stream}…``."""
    from . import http_read
    from .http_api import ApiError
    if req.method not in ("GET", "HEAD"):     # refused before a cron stream is registered
        if url.stream not in ("cron", "events"):
            raise NotFound(f"no built-in stream /pipet/{url.stream}", {"stream": url.stream})
        raise ApiError(403, f"/pipet/{url.stream} is not writable", {"stream": url.stream})
    key = await builtin_key(api, req, url)
    if url.reducer is not None:
        raise NotFound("built-in streams carry no reducers", {"reducer": url.reducer})
    return await http_read.get(api, req, _View(url, key))


async def builtin_key(api: Any, req: Any, url: Any) -> str:
    """The store key of a built-in stream URL after its access checks (pipes use it too)."""
    sub = url.substream
    if url.logs:
        raise NotFound("built-in streams have no log stream", {"stream": url.stream})
    if url.stream == "cron":
        if sub is None or sub.kind != "literal" or type(sub.value) is not str:
            raise BadRequest("/pipet/cron takes a cron expression: /pipet/cron('0 9 * * 1')")
        return await crons_for(api.store).ensure(sub.value)
    if url.stream == "events":
        if sub is None or sub.kind != "account":
            raise BadRequest("/pipet/events takes an account name: /pipet/events(acct)")
        # readable by the account only: enforced by controls.check (§12) before we get here
        return f"{RESERVED_ACCOUNT}/events({sub.value})"
    raise NotFound(f"no built-in stream /pipet/{url.stream}", {"stream": url.stream})
