"""Writing over HTTP (streamlog.md §2, §4): single and bulk pushes, idempotent producers.

A push becomes one ``AppendRequest`` (all-or-nothing, durable before the answer). Request-level
checks happen here, before the store sees anything, so a refused request leaves the stream as it
was: event type rules (header, then ``:type`` suffix, then ``event-type`` query; a header and a
suffix that disagree is 400), client timestamps, the bulk body's parts, and JSON bodies that do
not parse (415: readers and reducers rely on ``application/json`` data being JSON).
"""
from __future__ import annotations

import json
from typing import Any

from .multipart import MultipartError, boundary_of, is_bulk, parse_multipart
from .store import (DEFAULT_CONTENT_TYPE, DEFAULT_EVENT_TYPE, AppendRequest, BadRequest,
                    NewEvent, NotFound, RESERVED_ACCOUNT)
from .http_api import ApiError, Request, Response, json_response, location_of, stream_key_of

__all__ = ["push", "is_json_type"]


def is_json_type(content_type: str) -> bool:
    mt = content_type.split(";", 1)[0].strip().lower()
    return mt == "application/json" or mt.endswith("+json")


def _timestamp(value: str | None, part: int | None = None) -> int | None:
    if value is None or value == "":
        return None
    v = value.strip()
    if not v.isdigit():
        raise BadRequest("Event-Timestamp must be unix milliseconds (a non-negative integer)",
                         {"value": value, "part": part})
    return int(v)


def _event_type(req: Request, url: Any) -> str | None:
    header = req.header("event-type")
    suffix = url.event_type
    if header is not None and suffix is not None and header != suffix:
        raise BadRequest("Event-Type header and :type suffix disagree",
                         {"header": header, "suffix": suffix})
    for t in (header, suffix, req.param("event-type")):
        if t is not None:
            return t
    return None


def _check_type(t: str, part: int | None) -> str:
    if not 1 <= len(t) <= 100:
        raise BadRequest("eventType must be 1 to 100 characters", {"eventType": t, "part": part})
    return t


def _check_body(data: bytes, content_type: str, part: int | None) -> None:
    if is_json_type(content_type):
        try:
            json.loads(data)
        except ValueError as e:
            raise ApiError(415, "body is not valid JSON for its content type",
                           {"contentType": content_type, "part": part, "reason": str(e)}) from None


def _producer(req: Request) -> tuple[str | None, int | None]:
    pid = req.header("producer-id")
    seq = req.header("producer-seq")
    if pid is None and seq is None:
        return None, None
    if pid is None or seq is None:
        raise BadRequest("Producer-Id and Producer-Seq go together")
    if not seq.strip().isdigit():
        raise BadRequest("Producer-Seq must be a non-negative integer", {"value": seq})
    return pid, int(seq)


def _single(req: Request, url: Any) -> list[NewEvent]:
    ct = req.header("content-type") or DEFAULT_CONTENT_TYPE
    etype = _event_type(req, url)
    etype = _check_type(DEFAULT_EVENT_TYPE if etype is None else etype, None)
    _check_body(req.body, ct, None)
    ts = _timestamp(req.header("event-timestamp") or req.param("timestamp"))
    return [NewEvent(req.body, etype, ct, ts)]


def _bulk(req: Request, url: Any, ct: str) -> list[NewEvent]:
    try:
        parts = parse_multipart(req.body, boundary_of(ct))
    except MultipartError as e:
        raise BadRequest(str(e), {"part": e.part}) from None
    if not parts:
        raise BadRequest("multipart body without parts", {"part": None})
    default_type = _event_type(req, url)
    default_ts = req.header("event-timestamp") or req.param("timestamp")
    events = []
    for i, p in enumerate(parts):
        h = p.headers
        pct = h.get("content-type") or DEFAULT_CONTENT_TYPE
        ptype = h.get("event-type")
        if ptype is not None and url.event_type is not None and ptype != url.event_type:
            raise BadRequest(f"part {i}: Event-Type disagrees with the :type suffix",
                             {"part": i, "eventType": ptype, "suffix": url.event_type})
        etype = ptype if ptype is not None else default_type
        etype = _check_type(DEFAULT_EVENT_TYPE if etype is None else etype, i)
        if len(p.body) > 100 * 1024:
            raise ApiError(413, f"part {i}: event data over 102400 bytes",
                           {"part": i, "size": len(p.body), "limit": 100 * 1024})
        _check_body(p.body, pct, i)
        ts = _timestamp(h.get("event-timestamp", default_ts), i)
        events.append(NewEvent(p.body, etype, pct, ts))
    return events


async def push(api: Any, req: Request, url: Any) -> Response:
    """``POST /{acct}/{strm}[...]``: 201 with the index (or the JSON array of a bulk write)."""
    if url.account == RESERVED_ACCOUNT:
        if url.stream in ("cron", "events"):
            raise ApiError(403, f"/pipet/{url.stream} is not writable", {"stream": url.stream})
        raise NotFound(f"no built-in stream /pipet/{url.stream}", {"stream": url.stream})
    if url.logs:
        raise ApiError(403, "a log stream is written by the server only", {"path": req.path})
    if url.selection is not None or url.reducer is not None:
        raise ApiError(405, "POST goes to the stream URL, not to a selection or a reducer",
                       {"path": req.path}, {"allow": "GET, HEAD"})
    ct = req.header("content-type") or ""
    bulk = is_bulk(ct)
    events = _bulk(req, url, ct) if bulk else _single(req, url)
    key = stream_key_of(url)
    api.rate_limit(key, len(events))
    pid, seq = _producer(req)
    from .factories import after_append, before_append   # §8 substreams, §9 types (422)
    await before_append(api, url, events)
    result = await api.store.append(AppendRequest(key, events, pid, seq))
    await after_append(api, url, result.indexes, result.duplicate)   # §10 pipes, §11 events
    status = 200 if result.duplicate else 201
    if bulk:
        return json_response(status, list(result.indexes))
    index, ts = result.indexes[0], result.timestamps[0]
    headers = {"location": location_of(url, index), "event-index": str(index),
               "event-timestamp": str(ts)}
    if req.accepts("application/json"):
        return json_response(status, index, headers)
    headers["content-type"] = "text/plain"
    return Response(status, headers, str(index).encode())
