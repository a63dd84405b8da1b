"""The stream-log HTTP API: one decoded request in, one response (or a stream) out (§4–§6, §12 CORS).

Sans-I/O apart from the store: ``StreamLogAPI.handle(request)`` is a coroutine returning a
``Response`` (status, headers, body) or an ``SSEResponse`` whose ``start(sink)`` then writes
frames over time. The filter ``serveStreamLog`` (filters/streamlog.py) turns request events into
a ``Request`` and the result back into events; the JS API and tests can call the same code.

Writing lives in http_write.py, reading and SSE in http_read.py, webhooks in webhooks.py; this
module routes, maps every failure to the §4 JSON error body ``{"error", "detail"}``, and adds CORS
headers to every answer (§12: browsers call stream URLs directly, EventSource included).
"""
from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qs, quote

from .store import BadRequest, StoreError, StreamStore, stream_key

__all__ = ["Request", "Response", "SSEResponse", "StreamLogAPI", "ApiError", "error_response",
           "json_response", "stream_key_of", "location_of"]

# Headers a browser script may read from a cross-origin response (Fetch §3.2.4: only the
# CORS-safelisted ones are visible otherwise).
_EXPOSE = ("Location, Event-Index, Event-Timestamp, Event-Type, Stream-Length, "
           "Stream-Next-Index, Retry-After")
_METHODS = "GET, HEAD, POST, PUT, DELETE, OPTIONS"
_ALLOW_HEADERS = ("Content-Type, Event-Type, Event-Timestamp, Producer-Id, Producer-Seq, "
                  "Last-Event-ID, Authorization, Accept")


class ApiError(StoreError):
    """An HTTP-level refusal that is not the store's: carries its own status."""

    def __init__(self, status: int, message: str, detail: Any = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message, detail)
        self.status = status
        self.headers = headers or {}


def stream_key_of(url: Any) -> str:
    """The store key of a parsed stream URL (its substream, or its log stream, included)."""
    return url.key


def location_of(url: Any, index: int) -> str:
    """§4 ``Location`` of a new event: the stream URL with its ``[index]`` selection."""
    sub = "" if url.substream is None else "(" + quote(url.substream.canonical, safe="") + ")"
    return f"/{url.account}/{url.stream}{sub}[{index}]"


class Request:
    """A decoded request: method, raw target, path (percent-decoding left to the URL parser),
    query (name → list of values), lower-cased headers, body bytes."""

    __slots__ = ("method", "target", "path", "query", "headers", "body")

    def __init__(self, method: str, target: str, headers: dict[str, str], body: bytes = b"") -> None:
        self.method = method.upper()
        self.target = target
        path, _, qs = target.partition("?")
        self.path = path
        self.query = parse_qs(qs, keep_blank_values=True) if qs else {}
        self.headers = headers
        self.body = body

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def param(self, name: str) -> str | None:
        v = self.query.get(name)
        return v[-1] if v else None

    def params(self, name: str) -> list[str]:
        return self.query.get(name, [])

    def accepts(self, media: str) -> bool:
        acc = self.headers.get("accept") or ""
        return media in acc.lower()


class Response:
    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, headers: dict[str, str] | None = None, body: bytes = b"") -> None:
        self.status = status
        self.headers = headers if headers is not None else {}
        self.body = body


class SSEResponse:
    """A response that streams: the head now, frames later (``consumer.start()`` after the head
    is out). ``consumer`` is an ``sse.SSEConsumer`` whose sink the filter fills in."""

    __slots__ = ("status", "headers", "make_consumer")

    def __init__(self, headers: dict[str, str], make_consumer: Any) -> None:
        self.status = 200
        self.headers = headers
        self.make_consumer = make_consumer


def json_response(status: int, value: Any, headers: dict[str, str] | None = None) -> Response:
    h = {"content-type": "application/json"}
    if headers:
        h.update(headers)
    return Response(status, h, json.dumps(value, separators=(",", ":")).encode())


def error_response(err: StoreError) -> Response:
    """§4: every error is ``{"error": "...", "detail": ...}``."""
    headers = dict(getattr(err, "headers", None) or {})
    return json_response(err.status, err.body(), headers)


class TokenBucket:
    """§12 rate limits: ``rate`` events per second with ``burst`` capacity, per stream."""

    __slots__ = ("rate", "burst", "tokens", "stamp")

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.stamp = time.monotonic()

    def take(self, n: int) -> float:
        """0 when ``n`` tokens were taken, else the seconds until they would be available."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= n:
            self.tokens -= n
            return 0.0
        return (n - self.tokens) / self.rate if self.rate > 0 else 3600.0


class StreamLogAPI:
    """The API over one store. ``options`` (from ``serveStreamLog``): ``cors`` (true, false or an
    origin), ``heartbeat`` seconds, ``maxLag`` events, ``maxWait`` seconds for long-poll,
    ``rateLimit`` ``{rate, burst}`` per stream, ``apiKeys`` ``{account: [key…]}`` (writes to an
    account listed there need ``Authorization: Bearer <key>``), ``webhookRetry`` seconds."""

    def __init__(self, store: StreamStore, options: dict[str, Any] | None = None,
                 webhooks: Any = None) -> None:
        o = options or {}
        self.options = o        # §12 controls.py reads adminKey, accounts, streams, secret
        self.store = store
        self.cors = o.get("cors", True)
        self.heartbeat = float(o.get("heartbeat", 15.0))
        self.max_lag = int(o.get("maxLag", 10000))
        self.max_wait = float(o.get("maxWait", 60.0))
        rl = o.get("rateLimit") or None
        self.rate = (float(rl.get("rate", 0)), float(rl.get("burst", rl.get("rate", 1)))) if rl else None
        self.buckets: dict[str, TokenBucket] = {}
        keys = o.get("apiKeys") or {}
        self.api_keys = {str(a): set(map(str, v if isinstance(v, list) else [v]))
                         for a, v in dict(keys).items()}
        if webhooks is None:  # one manager per store: APIs sharing a store share deliveries
            from .webhooks import WebhookManager
            webhooks = WebhookManager(store, retry=float(o.get("webhookRetry", 0.5)))
        self.webhooks = webhooks
        # --- reducers (§7): one manager per store; resumes checkpointed reducers when a loop runs
        from .reducers import ReducerManager
        self.reducers = ReducerManager.of(store)
        # --- end reducers
        from .factories import watch    # §8: new substreams made by any writer reach our webhooks
        watch(self)

    async def handle(self, req: Request) -> Response | SSEResponse:
        try:
            if req.method == "OPTIONS":
                res: Response | SSEResponse = Response(204, {
                    "access-control-allow-methods": _METHODS,
                    "access-control-allow-headers": req.header("access-control-request-headers")
                    or _ALLOW_HEADERS,
                    "access-control-max-age": "86400"})
            else:
                res = await self._route(req)
        except StoreError as err:
            res = error_response(err)
        except (ValueError, UnicodeDecodeError) as err:
            res = error_response(BadRequest(str(err)))
        self._cors(req, res)
        return res

    def _cors(self, req: Request, res: Response | SSEResponse) -> None:
        cors = self.cors
        if cors is False or cors is None:
            return
        origin = req.header("origin")
        if type(cors) is str and cors != "*":
            allow = cors
        else:
            allow = origin or "*"
        res.headers["access-control-allow-origin"] = allow
        if allow != "*":
            res.headers["vary"] = "Origin"
            res.headers["access-control-allow-credentials"] = "true"
        res.headers["access-control-expose-headers"] = _EXPOSE

    async def _route(self, req: Request) -> Response | SSEResponse:
        from . import http_read, http_write
        from .urls import parse_stream_url
        # -- §12 controls (controls.py): management endpoints, then permissions, blocklists --
        from . import controls
        answer = await controls.route(self, req)
        if answer is not None:
            return answer
        url = parse_stream_url(req.path)
        answer = await controls.check(self, req, url)
        if answer is not None:
            return answer
        # -- end §12 --
        # -- §8–§11 (factories.py routes): settings, types, pipes, substreams, built-in streams --
        from .factories import route as extension_route
        answer = await extension_route(self, req, url)
        if answer is not None:
            return answer
        # -- end §8–§11 --
        res = url.resource
        if res == "webhooks":
            return await self.webhooks.handle(req, url)
        if res == "splice":     # §12 splice (splice.py); permissions checked in controls.check
            from . import splice
            return await splice.handle(self, req, url)
        if res != "stream":
            raise ApiError(404, f"no {res} resource is served here", {"path": req.path})
        if url.reducer is not None and url.type_format is None:  # --- reducers (§7)
            if req.method in ("PUT", "DELETE"):
                self._authorize(req, url)
            return await self.reducers.handle(req, url)
        if url.type_format is not None or url.expr is not None:
            raise ApiError(404, "event type definitions and reducer expressions are not served"
                           " here", {"path": req.path})
        m = req.method
        if m == "POST":
            self._authorize(req, url)
            return await http_write.push(self, req, url)
        if m == "GET" or m == "HEAD":
            return await http_read.get(self, req, url)
        raise ApiError(405, f"method {m} not allowed on a stream", {"allow": "GET, HEAD, POST"},
                       {"allow": "GET, HEAD, POST, OPTIONS"})

    def _authorize(self, req: Request, url: Any) -> None:
        """§12: permissions (API keys of the ``apiKeys`` option included) are enforced by
        ``controls.check`` in ``_route`` before any handler runs; handlers still call this hook
        where a mutation needs write or execute, which that check has already granted."""
        return None

    def rate_limit(self, key: str, n: int) -> None:
        from .controls import controls_for   # §12 per-stream and per-substream limits
        controls_for(self).rate_limit(key, n)
        if self.rate is None:
            return
        b = self.buckets.get(key)
        if b is None:
            b = self.buckets[key] = TokenBucket(*self.rate)
        wait = b.take(n)
        if wait > 0:
            secs = max(1, int(wait + 0.999))
            raise ApiError(429, "rate limited", {"retryAfter": secs}, {"retry-after": str(secs)})
