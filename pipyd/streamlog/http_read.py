"""Reading over HTTP (streamlog.md §5) and the SSE entry point (§6).

- ``GET …[i]``: the event's data with its own ``Content-Type`` and ``Event-*`` headers.
- ``GET …[a:b]`` / ``GET …?from=a&limit=n``: a page of event objects as a JSON array, or NDJSON
  for ``Accept: application/x-ndjson``; ``Stream-Next-Index`` says where the next page starts.
  ``:type``, ``?type=`` (repeatable, comma-separated), ``?since=``/``?until=`` narrow it.
- ``GET ….length``: the count; ``HEAD`` of the stream: ``Stream-Length`` only.
- ``?wait=s``: long-poll until an event at or past ``from`` exists (bounded by ``maxWait``).
- ``Accept: text/event-stream``: an SSE consumer (sse.py).
- ``?substreams=all`` on a stream (or its ``/logs``) without an argument (§8): every
  substream, merged by (timestamp, argument, index), each event object with ``substream``;
  ``Stream-Next-Cursor`` is passed back as ``?cursor=`` for the next page, and SSE ids are the
  same cursors (sse.py says how they are made). ``?wait=s`` long-polls there too: when the page
  past the cursor would be empty, the answer waits until any substream (one created meanwhile
  included) has a matching event past it, or the wait ends (an empty page, the same cursor).

Event objects carry ``data`` as the JSON value for JSON content types (a reader of a JSON event
log wants objects, not strings holding JSON), as text otherwise, and as base64 with
``"encoding": "base64"`` when the bytes are not UTF-8 (the rule reducers see, §2).
"""
from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

from .http_api import Request, Response, SSEResponse, json_response, stream_key_of
from .http_write import is_json_type
from .sse import (SSEConsumer, SubstreamsConsumer, decode_cursor, encode_cursor,
                  follow_substreams, merged_read, substream_sources)
from .store import (MAX_PAGE_EVENTS, RESERVED_ACCOUNT, BadRequest, Event, NotFound, Selector)

__all__ = ["get", "event_object", "get_all_substreams"]


def event_object(ev: Event) -> dict[str, Any]:
    d: dict[str, Any] = {"index": ev.index, "timestamp": ev.timestamp, "eventType": ev.eventType,
                         "contentType": ev.contentType}
    try:
        text = ev.data.decode("utf-8")
    except UnicodeDecodeError:
        d["data"] = base64.b64encode(ev.data).decode("ascii")
        d["encoding"] = "base64"
        return d
    if is_json_type(ev.contentType):
        try:
            d["data"] = json.loads(text)
            return d
        except ValueError:
            pass
    d["data"] = text
    return d


def _int(req: Request, name: str, low: int | None = None) -> int | None:
    v = req.param(name)
    if v is None or v == "":
        return None
    s = v.strip()
    try:
        n = int(s, 10)
    except ValueError:
        raise BadRequest(f"query parameter {name!r} must be an integer", {name: v}) from None
    if low is not None and n < low:
        raise BadRequest(f"query parameter {name!r} must be at least {low}", {name: v})
    return n


def _types(req: Request, url: Any) -> frozenset[str] | None:
    names = [t for v in req.params("type") for t in v.split(",") if t]
    if url.event_type is not None:
        if names and url.event_type not in names:
            return frozenset()  # the suffix and the query exclude each other: nothing matches
        names = [url.event_type]
    return frozenset(names) if names else None


def _selector(req: Request, url: Any, length: int) -> Selector:
    """The read's selector, index bounds resolved against ``length``."""
    start = end = None
    sel = url.selection
    if sel is not None and sel.kind == "range":
        start, end = sel.start, sel.end
    frm = _int(req, "from")
    sel_ = Selector(_types(req, url), start, end, _int(req, "since"), _int(req, "until"))
    sel_ = sel_.resolve(length)
    if frm is not None:
        frm = max(0, length + frm) if frm < 0 else frm
        if sel_.start is None or frm > sel_.start:
            sel_ = Selector(sel_.types, frm, sel_.end, sel_.since, sel_.until)
    return sel_


async def get(api: Any, req: Request, url: Any) -> Response | SSEResponse:
    if url.account == RESERVED_ACCOUNT:
        raise NotFound(f"no built-in stream /pipet/{url.stream}", {"stream": url.stream})
    if url.reducer is not None:
        raise NotFound(f"no reducer {url.reducer!r} on this stream", {"reducer": url.reducer})
    key = stream_key_of(url)
    sel = url.selection
    kind = None if sel is None else sel.kind
    if kind == "index":
        return await _one(api, key, sel.index)
    length = await api.store.length(key)
    if kind == "length":
        return Response(200, {"content-type": "application/json", "stream-length": str(length)},
                        str(length).encode())
    if req.method == "HEAD" and kind is None:
        return Response(200, {"stream-length": str(length)})
    if req.accepts("text/event-stream"):
        return _sse(api, req, url, key, length)
    return await _page(api, req, url, key, length)


async def _one(api: Any, key: str, index: int) -> Response:
    ev = await api.store.get(key, index)  # NotFound past the end
    return Response(200, {"content-type": ev.contentType, "event-index": str(ev.index),
                          "event-timestamp": str(ev.timestamp), "event-type": ev.eventType},
                    ev.data)


def _wait_seconds(api: Any, req: Request) -> float | None:
    """``?wait=s`` bounded by the ``maxWait`` option; None without it."""
    wait = req.param("wait")
    if wait is None:
        return None
    try:
        secs = min(float(wait), api.max_wait)
    except ValueError:
        secs = -1.0
    if not secs >= 0:       # negative, or NaN
        raise BadRequest("query parameter 'wait' must be a number of seconds", {"wait": wait})
    return secs


async def _page(api: Any, req: Request, url: Any, key: str, length: int) -> Response:
    sel = _selector(req, url, length)
    limit = _int(req, "limit", 1)
    limit = MAX_PAGE_EVENTS if limit is None else min(limit, MAX_PAGE_EVENTS)
    secs = _wait_seconds(api, req)
    if secs is not None:
        at = sel.start if sel.start is not None else length
        if sel.start is None:
            sel = Selector(sel.types, at, sel.end, sel.since, sel.until)
        if secs > 0 and (sel.end is None or at < sel.end):
            await api.store.wait_for(key, at, secs)
    page = await api.store.read(key, sel, limit=limit)
    headers = {"stream-next-index": str(page.next_index), "stream-length": str(page.length)}
    objs = [event_object(ev) for ev in page.events]
    if req.accepts("application/x-ndjson"):
        headers["content-type"] = "application/x-ndjson"
        body = "".join(json.dumps(o, separators=(",", ":")) + "\n" for o in objs)
        return Response(200, headers, body.encode())
    return json_response(200, objs, headers)


def _sse(api: Any, req: Request, url: Any, key: str, length: int) -> Response | SSEResponse:
    sel = _selector(req, url, length)
    cursor: int | None = sel.start
    last = req.header("last-event-id")
    if last is not None and last.strip():
        try:
            cursor = int(last.strip(), 10) + 1  # resume after the last id the client saw
        except ValueError:
            raise BadRequest("Last-Event-ID must be an event index", {"lastEventId": last}) from None
        if cursor < 0:
            cursor = 0
    if sel.end is not None and cursor is not None and cursor >= sel.end:
        # §9.2.3 of the HTML standard: a 204 tells EventSource not to reconnect; the range is done
        return Response(204)
    data_mode = "data" in (req.param("include") or "").split(",")
    headers = {"content-type": "text/event-stream", "cache-control": "no-cache",
               "x-accel-buffering": "no"}

    def make(sink: Any) -> SSEConsumer:
        return SSEConsumer(api.store, key, sel, data_mode, cursor, sink, api.heartbeat, api.max_lag)
    return SSEResponse(headers, make)




# ---------------------------------------------------------------------- §8 ?substreams=all

def _all_selector(req: Request, url: Any) -> Selector:
    """One selector for every substream: types, times, an index range; ``from`` (when given)
    replaces the range's start. Negative bounds count from each substream's own end."""
    start = end = None
    sel = url.selection
    if sel is not None and sel.kind == "range":
        start, end = sel.start, sel.end
    frm = _int(req, "from")
    return Selector(_types(req, url), start if frm is None else frm, end, _int(req, "since"),
                    _int(req, "until"))


async def get_all_substreams(api: Any, req: Request, url: Any) -> Response | SSEResponse:
    """``GET /{acct}/{strm}[/logs]?substreams=all``: a page across substreams, or SSE."""
    base = url.base_key
    sel = _all_selector(req, url)
    token = req.param("cursor")
    last = req.header("last-event-id")
    if req.accepts("text/event-stream"):
        resume = last if last is not None and last.strip() else token
        positions = decode_cursor(resume) if resume else None
        if positions is None and sel.start is not None:
            positions = {}      # ?from=n: every substream (as selected) from n
        data_mode = "data" in (req.param("include") or "").split(",")
        headers = {"content-type": "text/event-stream", "cache-control": "no-cache",
                   "x-accel-buffering": "no"}

        def make(sink: Any) -> SubstreamsConsumer:
            return SubstreamsConsumer(api.store, base, sel, data_mode, positions, sink,
                                      api.heartbeat, url.logs)
        return SSEResponse(headers, make)
    limit = _int(req, "limit", 1)
    limit = MAX_PAGE_EVENTS if limit is None else min(limit, MAX_PAGE_EVENTS)
    positions = decode_cursor(token) if token else {}
    secs = _wait_seconds(api, req)
    if secs and req.method != "HEAD":
        sources, events, after = await _long_poll(api.store, base, url.logs, positions, sel,
                                                  limit, secs)
    else:
        sources = await substream_sources(api.store, base, url.logs)
        events, after = await merged_read(api.store, sources, positions, sel, limit)
    headers = {"stream-substreams": str(len(sources)), "stream-next-cursor": encode_cursor(after)}
    if req.method == "HEAD":
        return Response(200, headers)
    objs = []
    for arg, ev in events:
        o = event_object(ev)
        o["substream"] = arg
        objs.append(o)
    if req.accepts("application/x-ndjson"):
        headers["content-type"] = "application/x-ndjson"
        body = "".join(json.dumps(o, separators=(",", ":")) + "\n" for o in objs)
        return Response(200, headers, body.encode())
    return json_response(200, objs, headers)


class _Wake:
    """A long-poll's wake-up: set by a commit to any substream it follows, or by a new one."""

    def __init__(self, store: Any, logs: bool) -> None:
        self.store, self.logs = store, logs
        self.event = asyncio.Event()
        self.subs: dict[str, Any] = {}

    def add(self, key: str) -> None:        # sse.substream_created: a new substream
        self.follow(key + "/logs" if self.logs else key)

    def follow(self, key: str) -> None:
        if key not in self.subs:
            self.subs[key] = self.store.subscribe(key, lambda notice: self.event.set())
            self.event.set()

    def close(self) -> None:
        for sub in self.subs.values():
            sub.close()


async def _long_poll(store: Any, base: str, logs: bool, positions: dict, sel: Selector,
                     limit: int, secs: float) -> tuple[list, list, dict]:
    """§5 long-poll across substreams: hold until the page past ``positions`` (the cursor) has
    an event of any substream, new ones included, or ``secs`` pass; then answer it (maybe
    empty). Each read follows every source first, so no commit falls between read and wait;
    events the selector skips move the cursor on and the wait goes on."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + secs
    wake = _Wake(store, logs)
    unfollow = follow_substreams(store, base, wake)
    try:
        while True:
            sources = await substream_sources(store, base, logs)
            for key, _, _ in sources:
                wake.follow(key)
            wake.event.clear()
            events, positions = await merged_read(store, sources, positions, sel, limit)
            left = deadline - loop.time()
            if events or left <= 0:
                return sources, events, positions
            try:
                await asyncio.wait_for(wake.event.wait(), left)
            except asyncio.TimeoutError:
                pass
    finally:
        unfollow()
        wake.close()
