"""Stream settings, stream factories and substreams (streamlog.md §8), and the routing of §8–§11.

``PUT /{acct}/{strm}`` with JSON ``{"factory": true, "accountSubstreams": "write",
"importTypes": ["/acct/other"]}`` sets a stream's settings. A factory has no log of its own:
``/{acct}/{strm}('x')`` creates substream ``x`` on its first write, and what is defined on the
factory (types, pipes of the factory URL) applies to every substream. Writing a factory without
an argument is 400. Decision: a plain stream accepts substream writes too (its substreams are
separate logs sharing its types); ``factory`` adds the refusal of argument-less writes, pipes over
all substreams, account-substream grants, and ``?substreams=all`` reads work on any stream.
``GET /{acct}/{strm}?substreams=all`` reads across substreams: events of every substream merged by
(timestamp, argument, index), each with a ``substream`` field (its argument as in stream keys),
paged with ``Stream-Next-Cursor``/``?cursor=``, or as SSE (http_read.py, sse.py).

Reducers PUT on a factory apply to every substream, each with its own partition of state
(reducer_partitions.py); ``GET`` of the factory's reducer without an argument answers
``{argument: state}``. Webhooks on a factory deliver every substream's events, each its own
cursor, with ``Event-Substream`` (webhooks.py). A new substream reaches them all through
``substream_created``, whichever writer created it (HTTP, ``streamlog.append``, a pipe, a reducer's
``dispatch``: each reports its appends to ``appended``); ``GET /{acct}/{strm}/logs?substreams=all``
merges the substreams' logs. Reducer errors of a partition are in its substream's ``/logs`` and,
naming the substream, in the factory's own ``/logs`` (the factory defined the reducer).

Account substreams: ``/eric/events(bob)`` names account ``bob``. When the factory's
``accountSubstreams`` is ``"write"`` (or ``"readwrite"``) a request bearing one of ``bob``'s API
keys may write it without any grant of ``eric``'s (reads are public in this server, so ``"read"``
only matters once read auth exists).

Settings and type definitions are events of a meta stream ``{stream key}/config`` (kinds
``settings``, ``type``, ``type-deleted``), replayed on use and cached per meta-stream length, so
every worker sees one truth and a restart loses nothing (the webhooks.py model).
"""
from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

from .store import (AppendRequest, AppendResult, BadRequest, Conflict, NewEvent,
                    RESERVED_ACCOUNT, Selector, StreamStore, stream_key)

__all__ = ["StreamSettings", "StreamConfigs", "configs_for", "route", "before_append",
           "after_append", "appended", "appended_soon", "stream_created", "watch",
           "may_write_account_substream", "bearer", "read_json"]

_ACCESS = {"none": frozenset(), "read": frozenset({"read"}), "write": frozenset({"write"}),
           "readwrite": frozenset({"read", "write"})}


@dataclass(frozen=True)
class StreamSettings:
    factory: bool = False
    account_access: frozenset = frozenset()
    import_types: tuple = ()            # base keys of streams whose types are in scope (§9)
    types: dict = field(default_factory=dict)     # event type → JTD schema
    defined: bool = False               # a settings document was ever PUT

    def public(self, path: str) -> dict:
        access = next((k for k, v in _ACCESS.items() if v == self.account_access), "none")
        return {"stream": path, "factory": self.factory, "accountSubstreams": access,
                "importTypes": ["/" + k for k in self.import_types]}


class StreamConfigs:
    """The settings of every stream of one store (see the module doc)."""

    def __init__(self, store: StreamStore) -> None:
        self.store = store
        self._cache: dict[str, tuple[int, StreamSettings]] = {}

    async def get(self, base: str) -> StreamSettings:
        meta = base + "/config"
        n = await self.store.length(meta)
        hit = self._cache.get(base)
        if hit is not None and hit[0] == n:
            return hit[1]
        s = await self._replay(meta, n)
        self._cache[base] = (n, s)
        return s

    async def _replay(self, meta: str, length: int) -> StreamSettings:
        doc: dict = {}
        types: dict = {}
        start = 0
        while start < length:
            page = await self.store.read(meta, Selector(None, start, length))
            for ev in page.events:
                d = json.loads(ev.data)
                if ev.eventType == "settings":
                    doc = d
                elif ev.eventType == "type":
                    types[d["name"]] = d["schema"]
                elif ev.eventType == "type-deleted":
                    types.pop(d["name"], None)
            if page.next_index <= start:
                break
            start = page.next_index
        return StreamSettings(bool(doc.get("factory")), _ACCESS[doc.get("accountSubstreams", "none")],
                              tuple(doc.get("importTypes", ())), types, bool(doc))

    async def record(self, base: str, kind: str, doc: dict) -> None:
        data = json.dumps(doc, separators=(",", ":")).encode()
        await self.store.append(AppendRequest(base + "/config",
                                              [NewEvent(data, kind, "application/json")]))


_CONFIGS: dict[int, tuple[StreamStore, StreamConfigs]] = {}


def configs_for(store: StreamStore) -> StreamConfigs:
    """One settings cache per store object (shared by every API over it)."""
    hit = _CONFIGS.get(id(store))
    if hit is None or hit[0] is not store:
        hit = _CONFIGS[id(store)] = (store, StreamConfigs(store))
    return hit[1]


def bearer(req: Any) -> str | None:
    scheme, _, token = (req.header("authorization") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def read_json(req: Any, default: Any = None) -> Any:
    if not req.body.strip():
        return default
    try:
        return json.loads(req.body)
    except ValueError:
        raise BadRequest("the body must be JSON") from None


def base_path(url: Any) -> str:
    return f"/{url.account}/{url.stream}"


# ------------------------------------------------------------------------------------ writing

async def before_append(api: Any, url: Any, events: list) -> None:
    """§8 and §9 checks of a push before the store sees it: a factory needs an argument, typed
    events must match their definition (422)."""
    if url.logs:
        return
    base = stream_key(url.account, url.stream)
    s = await configs_for(api.store).get(base)
    if url.substream is None and s.factory:
        raise BadRequest(f"{base_path(url)} is a stream factory: write to a substream"
                         f" {base_path(url)}('arg')", {"stream": base_path(url)})
    from .types import check_events
    await check_events(api, base, s, events)


async def after_append(api: Any, url: Any, indexes: tuple, duplicate: bool) -> None:
    """After a committed HTTP push: what every writer reports (``appended``)."""
    watch(api)
    if not duplicate and indexes and indexes[0] == 0 and not url.logs:
        await stream_created(api.store, url.key)


# ------------------------------------------------------------------------------ new streams
# Every writer reports a committed append here: HTTP pushes (after_append), ``streamlog.append``
# (jsapi.py), pipe copies (pipes.py) and reducer ``dispatch`` (reducer_effects.run_effects). The append
# that got index 0 created its stream, and only one append can (indexes are never reused, a
# producer repeat is ``duplicate``), so each creation is signalled exactly once per store.
# Webhook managers belong to APIs, not to the store: each API that serves a request or a
# script registers its own (``watch``), so writes made without an API reach them too.

_HOOKS: dict[int, tuple[StreamStore, list]] = {}


def watch(api: Any) -> None:
    """Remember ``api``'s webhook manager as one to tell of its store's new substreams."""
    store, hooks = api.store, api.webhooks
    hit = _HOOKS.get(id(store))
    if hit is None or hit[0] is not store:
        hit = _HOOKS[id(store)] = (store, [])
    for known in hit[1]:
        if known is hooks:
            return
    hit[1].append(hooks)


async def appended(store: StreamStore, key: str, result: AppendResult) -> None:
    """A writer's report of a committed append of ``result`` to stream ``key``."""
    if _created(result):
        await stream_created(store, key)


def _created(result: AppendResult) -> bool:
    """The append that got index 0 (not a producer's repeat) is the one that made the stream."""
    return not result.duplicate and bool(result.indexes) and result.indexes[0] == 0


_ANNOUNCING: set = set()    # tasks of appended_soon (a strong reference until they finish)


def appended_soon(store: StreamStore, key: str, result: AppendResult) -> None:
    """``appended`` in a task of its own, for a writer that must not wait for the consumers:
    reducer ``dispatch`` runs inside the reducer manager, whose ``substream_created`` waits for
    the manager's load (effects pending at a restart run during that load)."""
    if _created(result):
        task = asyncio.get_running_loop().create_task(stream_created(store, key))
        _ANNOUNCING.add(task)
        task.add_done_callback(_ANNOUNCING.discard)


async def stream_created(store: StreamStore, key: str) -> None:
    """A user stream got its first event: an account mutation (§11) and, for a substream, what
    its factory defines starts on it (§8). Meta and log streams (``…/config``, ``…(x)/logs``)
    are the server's own and skipped. Errors are logged, not raised: the write committed."""
    head, paren, _ = key.partition("(")
    if head.count("/") != 1 or (paren and not key.endswith(")")):
        return
    from .builtin_streams import record_mutation
    try:
        await record_mutation(store, head[:head.index("/")], "stream.created",
                              {"stream": "/" + key})
        if paren:
            await substream_created(store, head, key)
    except Exception as e:      # a consumer's failure must not fail the writer
        from .. import log
        log.error(f"[streamlog] announcing the new stream {key}: {e!r}")


async def substream_created(store: StreamStore, base: str, key: str) -> None:
    """What a factory defines reaches a new substream: pipes copy it, reducers get a partition,
    webhooks a delivery, ``?substreams=all`` SSE consumers and long-polls a cursor (each from
    its index 0)."""
    from .pipes import pipes_for
    from .reducers import ReducerManager
    from .sse import substream_created as sse_created
    await pipes_for(store).substream_created(base, key)
    await ReducerManager.of(store).substream_created(base, key)
    hit = _HOOKS.get(id(store))
    for hooks in (hit[1] if hit is not None and hit[0] is store else ()):
        await hooks.substream_created(base, key)
    sse_created(store, base, key)


def may_write_account_substream(api: Any, req: Any, url: Any, s: StreamSettings) -> bool:
    """§8: the factory lets account ``bob`` write ``(bob)`` with bob's own key."""
    sub = url.substream
    if sub is None or sub.kind != "account" or "write" not in s.account_access:
        return False
    token = bearer(req)
    return token is not None and token in api.api_keys.get(sub.value, ())


# ------------------------------------------------------------------------------------ routing

async def route(api: Any, req: Any, url: Any) -> Any:
    """The §8–§11 part of the API; None when the request is not one of ours."""
    from . import builtin_streams, pipes, types
    watch(api)                                       # its webhooks hear of new substreams
    await pipes.pipes_for(api.store).load()          # resume copying after a restart
    await builtin_streams.crons_for(api.store).load()  # and ticking
    m = req.method
    if url.account == RESERVED_ACCOUNT and url.resource == "stream":
        return await builtin_streams.handle(api, req, url)
    if url.resource == "pipe":
        return await pipes.pipes_for(api.store).handle(api, req, url)
    if url.resource == "webhooks" and m in ("PUT", "DELETE"):
        return await _webhook_mutation(api, req, url)
    if url.resource != "stream":
        return None
    if url.type_format is not None:
        return await types.get_definition(api, req, url)
    plain = url.selection is None and url.reducer is None and not url.logs
    if url.event_type is not None and m in ("PUT", "DELETE") and plain:
        return await types.put_or_delete(api, req, url)
    if m == "PUT" and plain and url.event_type is None:
        return await _put_settings(api, req, url)
    if m == "POST" and url.substream is not None and not url.logs:
        s = await configs_for(api.store).get(stream_key(url.account, url.stream))
        if may_write_account_substream(api, req, url, s):
            from . import http_write
            return await http_write.push(api, req, url)
        return None
    if m in ("GET", "HEAD") and req.param("substreams") == "all" and url.substream is None:
        return await _read_all(api, req, url)
    return None


async def _webhook_mutation(api: Any, req: Any, url: Any) -> Any:
    from .builtin_streams import record_mutation
    api._authorize(req, url)
    res = await api.webhooks.handle(req, url)
    if res.status < 300:
        kind = "webhook.deleted" if req.method == "DELETE" else "webhook.put"
        await record_mutation(api.store, url.account, kind,
                              {"stream": url.key, "webhook": url.webhook})
    return res


def _import_key(path: Any) -> str:
    from .urls import parse_stream_url
    if type(path) is not str:
        raise BadRequest("importTypes holds stream paths like '/acct/stream'", {"value": path})
    u = parse_stream_url(path)
    if u.resource != "stream" or u.substream is not None or u.logs or u.event_type is not None \
            or u.selection is not None or u.reducer is not None:
        raise BadRequest("importTypes holds stream paths like '/acct/stream'", {"value": path})
    return u.base_key


async def _put_settings(api: Any, req: Any, url: Any) -> Any:
    from .builtin_streams import record_mutation
    from .http_api import json_response
    if url.substream is not None:
        raise BadRequest("settings belong to the factory, not to one substream",
                         {"stream": base_path(url)})
    api._authorize(req, url)
    doc = read_json(req, {})
    if type(doc) is not dict or set(doc) - {"factory", "accountSubstreams", "importTypes"}:
        raise BadRequest('stream settings are {"factory", "accountSubstreams", "importTypes"}')
    factory = doc.get("factory", False)
    access = doc.get("accountSubstreams", "none")
    if type(factory) is not bool or access not in _ACCESS:
        raise BadRequest("factory is true or false; accountSubstreams is none, read, write or"
                         " readwrite", {"factory": factory, "accountSubstreams": access})
    imports = doc.get("importTypes", [])
    if type(imports) is not list:
        raise BadRequest("importTypes is an array of stream paths")
    base = url.base_key
    keys = [_import_key(p) for p in imports]
    if base in keys:
        raise BadRequest("a stream cannot import its own types")
    await _check_factory_change(api.store, base, factory)
    cfgs = configs_for(api.store)
    old = await cfgs.get(base)
    settings = {"factory": factory, "accountSubstreams": access, "importTypes": keys}
    await cfgs.record(base, "settings", settings)
    await record_mutation(api.store, url.account, "stream.settings",
                          {"stream": base_path(url), **settings})
    new = await cfgs.get(base)
    return json_response(200 if old.defined else 201, new.public(base_path(url)))


async def _check_factory_change(store: StreamStore, base: str, factory: bool) -> None:
    if factory and await store.length(base) > 0:
        raise Conflict("a stream with events of its own cannot become a factory",
                       {"stream": "/" + base})
    if not factory and await _substreams(store, base):
        raise Conflict("a factory with substreams cannot become a plain stream",
                       {"stream": "/" + base})


async def _substreams(store: StreamStore, base: str) -> list:
    """StreamInfo of each substream of ``base`` (meta streams of substreams end otherwise)."""
    return [i for i in await store.list_streams(base + "(") if i.key.endswith(")")]


async def substream_keys(store: StreamStore, base: str) -> list[str]:
    return [i.key for i in await _substreams(store, base)]


async def _read_all(api: Any, req: Any, url: Any) -> Any:
    """§8 ``?substreams=all``: pages and SSE across substreams (http_read.py)."""
    from .http_read import get_all_substreams
    return await get_all_substreams(api, req, url)
