"""Splice (streamlog.md §12): propose a replacement history for a stream; its owner approves it.

``POST /{acct}/{strm}/splice`` proposes (write permission): a JSON body ``{"events": [{data,
eventType, contentType, encoding}…]}`` (the event objects a range read returns; index and
timestamp are ignored, so a read can be edited and sent back), a bulk ``multipart/*`` body as
a push takes (§4), or ``{"source": "/acct/other[a:b]"}`` naming a stream to copy (the proposer
needs read on it). Answer ``202 {"id", "status": "pending", "count"}``. Every refusal happens
here, at proposal: bad JSON or parts 400, a typed event that does not match 422 (§9), an
unknown source 404, the stream itself as source 400. An empty list is allowed: approving it
empties the stream.

``GET …/splice`` lists proposals, ``GET …/splice/{id}`` shows one, ``POST
…/splice/{id}/approve`` and ``…/reject`` decide. Those four are the owner's (a credential of
the stream's account with execute, or the admin key; another account's membership is not
enough): a decision that is not the proposer's to make. Approving a proposal that is not
pending is 409; an unknown id 404.

Approval: ``StreamStore.replace`` swaps the whole history in one transaction (readers never see a
mix), indexes restart at 0. Copied source events keep their own timestamps; proposed events get
the approval time (monotonic). Appends acknowledged before the approval are replaced with the rest
(the owner approved a replacement, not a merge); appends after it land after the new events.
Metadata (settings, types, pipes, webhooks, reducer definitions, controls) lives in other streams
and is kept. Then, in this order:

- reducers restart from ``undefined`` over the new history with side effects voided
  (``ReducerManager.rebuild``; effects of a batch in flight at approval are voided as well);
- webhook and pipe cursors on the stream move to the new length: the new history is not news, so
  consumers hear only of events appended after the splice (recorded, so a restart agrees);
- SSE consumers of the stream (in this worker) get ``event: resync`` with ``id:`` the new last
  index and ``data: {"reason": "splice", "length": n}``, and are disconnected; an EventSource
  reconnects with that id and hears new events from there (re-read the range to see the rest).
  A spliced substream's ``?substreams=all`` consumers get it too, ``id:`` their cursor with the
  substream at its new length and ``substream`` in the data (``sse.resync``);
- ``/pipet/events(acct)`` records ``stream.spliced``.

Durability: proposals are events of the meta stream ``{key}/splice`` (``proposed``, ``approved``,
``rejected``); proposed events are stored, type and content type included, in ``{key}/splice/{id}``
before the proposal is recorded; a source proposal records the source key and the index range it
had at proposal (events are immutable, so approval copies exactly what was proposed). A restart
between proposal and approval loses nothing. Approvals are serialized per stream in a worker.
"""
from __future__ import annotations

import asyncio
import base64
import json
import secrets
import time
from typing import Any

from .multipart import MultipartError, boundary_of, is_bulk, parse_multipart
from .store import (DEFAULT_EVENT_TYPE, MAX_EVENT_BYTES, AppendRequest, BadRequest, Conflict,
                    NewEvent, NotFound, RESERVED_ACCOUNT, ReplaceRequest, Selector, StreamStore)

__all__ = ["authorize", "handle", "MAX_SPLICE_EVENTS"]

MAX_SPLICE_EVENTS = 100_000     # a replacement is held in memory at approval: bound it
_LOCKS: dict[str, asyncio.Lock] = {}


def _err(status: int, message: str, detail: Any = None) -> Exception:
    from .http_api import ApiError
    return ApiError(status, message, detail)


# ------------------------------------------------------------------------------ permissions

def authorize(ctl: Any, snap: Any, who: Any, req: Any, url: Any) -> None:
    """Called by ``controls.check``: a proposal needs write; listing, showing and deciding are
    the owner's. Streams of an unmanaged account stay open, as everywhere else (§12)."""
    if req.method == "POST" and url.splice_id is None:
        ctl.require(snap, who, url, "write")
        return
    if not snap.managed(url.account) or (who is not None and who.admin):
        return
    if who is not None and who.account == url.account and "execute" in who.perms \
            and who.scope is None:
        return
    if who is None:
        from .controls import _unauthenticated
        raise _unauthenticated(url.account)
    raise _err(403, "only the stream's owner lists, shows, approves or rejects splices",
               {"stream": f"/{url.account}/{url.stream}", "account": who.account})


# ------------------------------------------------------------------------------ routing

async def handle(api: Any, req: Any, url: Any) -> Any:
    """``/{acct}/{strm}/splice[/{id}[/approve|/reject]]`` after ``authorize`` let it through."""
    from .http_api import ApiError, json_response
    if url.account == RESERVED_ACCOUNT:
        raise _err(403, "built-in streams cannot be spliced", {"stream": url.stream})
    m, key, sid = req.method, url.key, url.splice_id
    if sid is None and m == "POST":
        return await _propose(api, req, url)
    want = ("POST",) if url.splice_action else ("GET", "HEAD")
    if m not in want:
        allow = "GET, HEAD, POST" if sid is None else ", ".join(want)
        raise ApiError(405, f"method {m} not allowed here", {"allow": allow},
                       {"allow": allow + ", OPTIONS"})
    proposals = await _proposals(api.store, key)
    if sid is None:
        return json_response(200, [_public(p) for p in proposals.values()])
    p = proposals.get(sid)
    if p is None:
        raise NotFound(f"no splice proposal {sid!r} on this stream", {"id": sid})
    if url.splice_action is None:
        return json_response(200, _public(p))
    if url.splice_action == "reject":
        return await _reject(api, key, p)
    return await _approve(api, url, sid)


def _public(p: dict) -> dict:
    out = {k: p[k] for k in ("id", "status", "count", "proposedBy", "proposedAt") if k in p}
    if "source" in p:
        out["source"] = p["source"]["path"]
    for k in ("decidedAt", "length"):
        if k in p:
            out[k] = p[k]
    return out


async def _proposals(store: StreamStore, key: str) -> dict[str, dict]:
    """Replay ``{key}/splice``: id → proposal document with its ``status``."""
    out: dict[str, dict] = {}
    start = 0
    while True:
        page = await store.read(key + "/splice", Selector(None, start))
        for ev in page.events:
            d = json.loads(ev.data)
            if ev.eventType == "proposed":
                out[d["id"]] = dict(d, status="pending")
            elif d.get("id") in out:
                out[d["id"]].update(d, status=ev.eventType)     # 'approved' | 'rejected'
        if page.next_index >= page.length or page.next_index <= start:
            return out
        start = page.next_index


async def _record(store: StreamStore, key: str, kind: str, doc: dict) -> None:
    data = json.dumps(doc, separators=(",", ":")).encode()
    await store.append(AppendRequest(key + "/splice", [NewEvent(data, kind, "application/json")]))


# ------------------------------------------------------------------------------ proposing

async def _propose(api: Any, req: Any, url: Any) -> Any:
    from .factories import before_append
    from .http_api import json_response
    store, key = api.store, url.key
    if await store.info(key) is None:
        raise NotFound("no such stream: a splice replaces an existing stream's history",
                       {"stream": req.path.rsplit("/splice", 1)[0]})
    ct = req.header("content-type") or ""
    source = None
    if is_bulk(ct):
        events = _from_multipart(req.body, ct)
    else:
        body = _json_body(req.body)
        if "source" in body:
            source, events = await _from_source(api, req, url, body["source"])
        else:
            events = _from_list(body["events"])
    if len(events) > MAX_SPLICE_EVENTS:
        raise _err(413, f"a replacement holds at most {MAX_SPLICE_EVENTS} events",
                   {"count": len(events), "limit": MAX_SPLICE_EVENTS})
    if events:
        await before_append(api, url, events)        # §9 typed events: 422 now, not at approval
    sid = secrets.token_hex(6)
    doc: dict = {"id": sid, "count": len(events), "proposedAt": int(time.time() * 1000),
                 "proposedBy": await _who(api, req, url)}
    if source is not None:
        doc["source"] = source
    elif events:      # stored before the proposal exists, so an approval always finds them
        await store.append(AppendRequest(f"{key}/splice/{sid}",
                                         [NewEvent(e.data, e.eventType, e.contentType)
                                          for e in events]))
    await _record(store, key, "proposed", doc)
    return json_response(202, {"id": sid, "status": "pending", "count": len(events)},
                         {"location": f"{req.path.rstrip('/')}/{sid}"})


async def _who(api: Any, req: Any, url: Any) -> str | None:
    """The proposer's account, for the owner's review (None on an open account)."""
    from .controls import controls_for
    ctl = controls_for(api)
    snap = await ctl.snapshot()
    if not snap.managed(url.account):
        return None
    who = ctl.identify(snap, req, False)
    return None if who is None else ("admin" if who.admin else who.account)


def _json_body(raw: bytes) -> dict:
    try:
        body = json.loads(raw) if raw.strip() else None
    except ValueError as e:
        raise BadRequest("a splice body is JSON {events} or {source}, or a multipart body",
                         {"reason": str(e)}) from None
    if type(body) is not dict or len(body) != 1 or not ({"events", "source"} & set(body)):
        raise BadRequest('a splice body is {"events": [...]} or {"source": "/acct/strm[a:b]"}',
                         {"keys": sorted(body) if type(body) is dict else None})
    return body


def _from_list(items: Any) -> list[NewEvent]:
    """Event objects as a range read returns them: ``data`` a JSON value for JSON content types
    (the default when data is not a string), text otherwise (default ``text/plain``), base64
    with ``"encoding": "base64"``."""
    if type(items) is not list:
        raise BadRequest("events is an array of {data, eventType, contentType}")
    out = []
    for part, it in enumerate(items):
        if type(it) is not dict or "data" not in it or set(it) - {
                "data", "eventType", "contentType", "encoding", "index", "timestamp"}:
            raise BadRequest(f"event {part}: an object {{data, eventType, contentType,"
                             f" encoding}}", {"part": part})
        data, ctype = it["data"], it.get("contentType")
        if ctype is None:
            ctype = "text/plain" if type(data) is str else "application/json"
        etype = it.get("eventType", DEFAULT_EVENT_TYPE)
        if type(ctype) is not str or type(etype) is not str:
            raise BadRequest(f"event {part}: eventType and contentType are strings",
                             {"part": part})
        out.append(_event(_bytes(data, ctype, it.get("encoding"), part), etype, ctype, part))
    return out


def _bytes(data: Any, ctype: str, encoding: Any, part: int) -> bytes:
    from .http_write import is_json_type
    if encoding == "base64":
        if type(data) is not str:
            raise BadRequest(f"event {part}: base64 data is a string", {"part": part})
        try:
            return base64.b64decode(data, validate=True)
        except ValueError:
            raise BadRequest(f"event {part}: data is not base64", {"part": part}) from None
    if encoding is not None:
        raise BadRequest(f"event {part}: the only encoding is 'base64'", {"part": part})
    if is_json_type(ctype):
        return json.dumps(data, separators=(",", ":")).encode()
    if type(data) is not str:
        raise BadRequest(f"event {part}: data of a {ctype} event is a string", {"part": part})
    return data.encode()


def _event(data: bytes, etype: str, ctype: str, part: int) -> NewEvent:
    """§2 limits and §4's JSON check, naming the part (the same refusals as a push)."""
    from .http_write import is_json_type
    if not 1 <= len(etype) <= 100:
        raise BadRequest(f"event {part}: eventType must be 1 to 100 characters", {"part": part})
    if len(data) > MAX_EVENT_BYTES:
        raise _err(413, f"event {part}: data over {MAX_EVENT_BYTES} bytes",
                   {"part": part, "size": len(data), "limit": MAX_EVENT_BYTES})
    if is_json_type(ctype):
        try:
            json.loads(data)
        except ValueError as e:
            raise _err(415, f"event {part}: data is not valid JSON for its content type",
                       {"part": part, "reason": str(e)}) from None
    return NewEvent(data, etype, ctype)


def _from_multipart(body: bytes, ct: str) -> list[NewEvent]:
    try:
        parts = parse_multipart(body, boundary_of(ct))
    except MultipartError as e:
        raise BadRequest(str(e), {"part": e.part}) from None
    out = []
    for i, p in enumerate(parts):
        if p.headers.get("event-timestamp"):
            raise BadRequest(f"part {i}: proposed events take the approval time",
                             {"part": i})
        out.append(_event(p.body, p.headers.get("event-type") or DEFAULT_EVENT_TYPE,
                          p.headers.get("content-type") or "application/octet-stream", i))
    return out


async def _from_source(api: Any, req: Any, url: Any, path: Any) -> tuple[dict, list[NewEvent]]:
    """``{"source": "/acct/strm[(arg)][:type][a:b]"}``: the source's matching events as of now."""
    from .urls import parse_stream_url
    if type(path) is not str:
        raise BadRequest("source is a stream path like /acct/strm[0:10]", {"source": path})
    src = parse_stream_url(path.split("?", 1)[0])
    sel = src.selection
    if src.resource != "stream" or src.stream is None or src.reducer is not None \
            or (sel is not None and sel.kind == "length"):
        raise BadRequest("source is a stream path like /acct/strm[0:10]", {"source": path})
    if src.account == RESERVED_ACCOUNT:
        raise BadRequest("built-in streams cannot be a splice source", {"source": path})
    if src.key == url.key:
        raise BadRequest("a stream cannot be spliced from itself", {"source": path})
    await _require_read(api, req, src)
    info = await api.store.info(src.key)
    if info is None:
        raise NotFound("no such source stream", {"source": path})
    types = None if src.event_type is None else frozenset((src.event_type,))
    rng = (sel.selector(types) if sel is not None else Selector(types)).resolve(info.length)
    start, end = rng.start or 0, info.length if rng.end is None else min(rng.end, info.length)
    doc = {"path": path, "key": src.key, "types": None if types is None else sorted(types),
           "start": start, "end": max(start, end)}
    return doc, await _read_source(api.store, doc)


async def _require_read(api: Any, req: Any, src: Any) -> None:
    from .controls import controls_for
    ctl = controls_for(api)
    snap = await ctl.snapshot()
    who = ctl.identify(snap, req, False) if snap.managed(src.account) else None
    ctl.require(snap, who, src, "read")


async def _read_source(store: StreamStore, doc: dict) -> list[NewEvent]:
    types = None if doc["types"] is None else frozenset(doc["types"])
    out: list[NewEvent] = []
    start = doc["start"]
    while start < doc["end"]:
        page = await store.read(doc["key"], Selector(types, start, doc["end"]))
        out.extend(NewEvent(e.data, e.eventType, e.contentType, e.timestamp)
                   for e in page.events)
        if len(out) > MAX_SPLICE_EVENTS or page.next_index <= start:
            break
        start = page.next_index
    return out


async def _stored(store: StreamStore, key: str, sid: str) -> list[NewEvent]:
    out: list[NewEvent] = []
    start = 0
    while True:
        page = await store.read(f"{key}/splice/{sid}", Selector(None, start))
        out.extend(NewEvent(e.data, e.eventType, e.contentType) for e in page.events)
        if page.next_index >= page.length or page.next_index <= start:
            return out
        start = page.next_index


# ------------------------------------------------------------------------------ deciding

async def _reject(api: Any, key: str, p: dict) -> Any:
    from .http_api import json_response
    if p["status"] != "pending":
        raise Conflict(f"splice {p['id']} is already {p['status']}",
                       {"id": p["id"], "status": p["status"]})
    await _record(api.store, key, "rejected", {"id": p["id"], "decidedAt": int(time.time() * 1000)})
    return json_response(200, {"id": p["id"], "status": "rejected"})


async def _approve(api: Any, url: Any, sid: str) -> Any:
    from .builtin_streams import record_mutation
    from .factories import before_append
    from .http_api import json_response
    store, key = api.store, url.key
    lock = _LOCKS.setdefault(key, asyncio.Lock())
    async with lock:    # two approvals of one stream never interleave in this worker
        p = (await _proposals(store, key)).get(sid)
        if p["status"] != "pending":
            raise Conflict(f"splice {sid} is {p['status']}, not pending",
                           {"id": sid, "status": p["status"]})
        src = p.get("source")
        events = await (_read_source(store, src) if src else _stored(store, key, sid))
        if len(events) != p["count"]:
            raise Conflict("the proposed events are no longer there (was the source spliced?)",
                           {"id": sid, "expected": p["count"], "found": len(events)})
        if events:
            await before_append(api, url, events)   # the types may have changed meanwhile
        length = await store.replace(ReplaceRequest(key, events))
        await api.reducers.rebuild(key)     # first: voids effects of any batch in flight
        await _record(store, key, "approved", {"id": sid, "length": length,
                                               "decidedAt": int(time.time() * 1000)})
    await _move_cursors(api, key, length)
    from .sse import resync
    resync(store, key, length)      # SSE consumers of the stream, ?substreams=all ones too
    await record_mutation(store, url.account, "stream.spliced", {
        "stream": "/" + key, "id": sid, "length": length})
    return json_response(200, {"id": sid, "status": "approved", "length": length})


async def _move_cursors(api: Any, key: str, length: int) -> None:
    """Webhooks and pipes reading the stream go on from the new length (see the module doc);
    a factory's webhooks and pipes too, for the spliced substream."""
    from .pipes import pipes_for
    hooks = api.webhooks
    await hooks.load()
    for (k, name), (cfg, cursors) in list(hooks.configs.items()):
        if k == key:
            hooks.configs[(k, name)] = (cfg, length)
            d = hooks.running.get((k, name))
            if d is not None:
                d.cursor = length
            await hooks.record(k, "ack", {"name": name, "cursor": length})
        elif type(cursors) is dict and key.startswith(k + "(") and key.endswith(")"):
            cursors[key] = length       # a factory webhook: the substream's own cursor
            child = getattr(hooks.running.get((k, name)), "children", {}).get(key)
            if child is not None:
                child.cursor = length
            await hooks.record(k, "ack", {"name": name, "cursor": length, "source": key})
    pm = pipes_for(api.store)
    await pm.load()
    for (origin, dest, source), (_, batch) in list(pm.cursors.items()):
        pipe = pm.pipes.get((origin, dest))
        if source != key or pipe is None:
            continue
        pm.cursors[(origin, dest, source)] = (length, batch)
        c = pm.running.get((origin, dest, source))
        if c is not None:
            c.cursor = length
            batch = c.batch
        await pm.record(origin, "cursor", {"dest": dest, "gen": pipe.gen, "source": source,
                                           "cursor": length, "batch": batch})
