"""Webhook consumers of a stream (streamlog.md §6): at-least-once, in order, retried with backoff.

``PUT /{acct}/{strm}/webhooks/{name}`` with ``{url, include, selector, secret}`` registers one;
``GET`` shows it (never the secret), ``DELETE`` removes it, ``GET …/webhooks`` lists them.

Durability: configurations and delivery cursors are events of a meta stream
``{stream key}/webhooks`` in the same store (``put``/``delete``/``ack`` events), so a restart
replays them and resumes at the last acknowledged index — hence at-least-once: a delivery whose
ack was not yet committed is sent again. A receiver answering 2xx acknowledges.

Delivery mirrors SSE: by default a notification ``{"index", "eventType"}`` naming the newest
matching event (coalesced), with ``include: "data"`` every matching event's data with its own
``Content-Type``. Each request carries ``Event-Index``, ``Event-Type`` and, when a secret is set,
``Webhook-Signature: sha256=<hex HMAC-SHA256 of the body>``. Failures (status or network) are
appended to the stream's ``/logs`` and retried with exponential backoff (``retry`` × 2ⁿ, at
most 60 s). With several workers each runs the deliveries; use one worker for webhooks.

A webhook on a stream factory (§8) delivers the events of every substream, present and future:
one delivery loop per substream with its own cursor (in order within a substream; substreams
do not wait for each other). ``put`` records ``"factory": true`` and a cursor per substream
key; each ``ack`` names its ``source`` substream; a substream missing from the cursors (created
after the PUT) starts at ``from`` or 0. Requests add ``Event-Substream`` (the argument as in
stream keys: ``"a"`` for ('a'), ``bob`` for (bob)); notifications add ``"substream"``.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from typing import Any, AsyncIterator
from urllib.parse import urlsplit

from .store import AppendRequest, BadRequest, NewEvent, NotFound, Selector, StreamStore

__all__ = ["WebhookManager", "signature", "meta_events", "append_json", "StreamFollower"]

MAX_BACKOFF = 60.0
REQUEST_TIMEOUT = 10.0


async def meta_events(store: StreamStore, stream: str) -> AsyncIterator[tuple[str, dict]]:
    """Every event of a meta stream (``…/webhooks``, ``…/pipes``) oldest first, as
    (eventType, JSON document): how a manager rebuilds its configuration on load."""
    start = 0
    while True:
        page = await store.read(stream, Selector(None, start))
        for ev in page.events:
            yield ev.eventType, json.loads(ev.data)
        if page.next_index >= page.length or page.next_index <= start:
            return
        start = page.next_index


async def append_json(store: StreamStore, stream: str, kind: str, doc: dict) -> None:
    """Append ``doc`` as one compact JSON event of type ``kind`` (a meta or /logs record)."""
    data = json.dumps(doc, separators=(",", ":")).encode()
    await store.append(AppendRequest(stream, [NewEvent(data, kind, "application/json")]))


class StreamFollower:
    """A loop that runs ``catch_up()`` once at start and again whenever its stream gets new
    events (a store notice): a webhook's deliveries, a pipe's copier."""

    def follow(self, store: StreamStore, stream: str) -> None:
        self.wake = asyncio.Event()
        self.wake.set()
        self.sub = store.subscribe(stream, lambda notice: self.wake.set())
        self.task = asyncio.get_running_loop().create_task(self._run())

    def stop(self) -> None:
        self.sub.close()
        self.task.cancel()

    async def _run(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            await self.catch_up()

    async def catch_up(self) -> None:
        """Handle every event not handled yet (subclasses)."""
        raise NotImplementedError


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _check_config(doc: Any) -> dict:
    if not isinstance(doc, dict):
        raise BadRequest("a webhook is a JSON object {url, include, selector, secret}")
    url = doc.get("url")
    if type(url) is not str or urlsplit(url).scheme not in ("http", "https") \
            or not urlsplit(url).hostname:
        raise BadRequest("webhook url must be an http(s) URL", {"url": url})
    include = doc.get("include", "notification")
    if include not in ("data", "notification"):
        raise BadRequest("webhook include must be 'data' or 'notification'", {"include": include})
    sel = doc.get("selector") or {}
    if not isinstance(sel, dict):
        raise BadRequest("webhook selector must be an object {types, from, since, until}")
    types = sel.get("types")
    if types is not None and (not isinstance(types, list) or not all(type(t) is str for t in types)):
        raise BadRequest("selector.types must be an array of event types")
    for k in ("from", "since", "until"):
        if sel.get(k) is not None and type(sel.get(k)) is not int:
            raise BadRequest(f"selector.{k} must be an integer")
    secret = doc.get("secret")
    if secret is not None and type(secret) is not str:
        raise BadRequest("webhook secret must be a string")
    return {"url": url, "include": include, "selector": sel, "secret": secret}


def _public(name: str, cfg: dict, cursor: int) -> dict:
    return {"name": name, "url": cfg["url"], "include": cfg["include"],
            "selector": cfg["selector"], "signed": cfg["secret"] is not None, "cursor": cursor}


class _Delivery(StreamFollower):
    """One webhook's delivery loop."""

    def __init__(self, mgr: "WebhookManager", key: str, name: str, cfg: dict, cursor: int,
                 source: str | None = None) -> None:
        self.mgr, self.key, self.name, self.cfg, self.cursor = mgr, key, name, cfg, cursor
        self.source = source or key         # a factory webhook reads one substream of ``key``
        self.arg = None if source is None else source[len(key) + 1:-1]
        sel = cfg["selector"]
        types = sel.get("types")
        self.selector = Selector(frozenset(types) if types else None, None, None,
                                 sel.get("since"), sel.get("until"))
        self.follow(mgr.store, self.source)

    async def catch_up(self) -> None:
        store = self.mgr.store
        while True:
            sel = Selector(self.selector.types, self.cursor, None, self.selector.since,
                           self.selector.until)
            page = await store.read(self.source, sel,
                                    limit=100 if self.cfg["include"] == "data" else 1000)
            if not page.events:
                if page.next_index > self.cursor:
                    self.cursor = page.next_index
                    continue
                return
            if self.cfg["include"] == "data":
                for ev in page.events:
                    await self._send(ev.index, ev.eventType, ev.contentType, ev.data)
                    await self._ack(ev.index + 1)
            else:
                ev = page.events[-1]
                if page.next_index < page.length:  # more to scan: coalesce to the newest
                    self.cursor = page.next_index
                    continue
                note = {"index": ev.index, "eventType": ev.eventType}
                if self.arg is not None:
                    note["substream"] = self.arg
                body = json.dumps(note, separators=(",", ":")).encode()
                await self._send(ev.index, ev.eventType, "application/json", body)
                await self._ack(page.next_index)

    async def _ack(self, cursor: int) -> None:
        self.cursor = cursor
        doc: dict = {"name": self.name, "cursor": cursor}
        if self.arg is not None:
            doc["source"] = self.source
            hit = self.mgr.configs.get((self.key, self.name))
            if hit is not None and type(hit[1]) is dict:
                hit[1][self.source] = cursor
        await self.mgr.record(self.key, "ack", doc)

    async def _send(self, index: int, etype: str, ctype: str, body: bytes) -> None:
        """Until a 2xx: every failure is logged to the stream's /logs, then retried later."""
        attempt = 0
        headers = {"content-type": ctype, "event-index": str(index), "event-type": etype}
        if self.arg is not None:
            headers["event-substream"] = self.arg
        if self.cfg["secret"] is not None:
            headers["webhook-signature"] = signature(self.cfg["secret"], body)
        while True:
            try:
                status = await asyncio.wait_for(post(self.cfg["url"], headers, body),
                                                REQUEST_TIMEOUT)
                if 200 <= status < 300:
                    return
                problem: dict = {"status": status}
            except (OSError, asyncio.TimeoutError, ValueError) as e:
                problem = {"error": type(e).__name__ + (f": {e}" if str(e) else "")}
            attempt += 1
            where = {} if self.arg is None else {"substream": self.arg}
            await self.mgr.log_failure(self.key, {"webhook": self.name, "index": index,
                                                  "attempt": attempt, **where, **problem})
            await asyncio.sleep(min(MAX_BACKOFF, self.mgr.retry * 2 ** (attempt - 1)))


class _FactoryDelivery:
    """A factory webhook: one ``_Delivery`` per substream (see the module doc)."""

    def __init__(self, mgr: "WebhookManager", key: str, name: str, cfg: dict,
                 cursors: dict) -> None:
        self.mgr, self.key, self.name, self.cfg, self.cursors = mgr, key, name, cfg, cursors
        self.children: dict[str, _Delivery] = {}
        self.task = asyncio.get_running_loop().create_task(self._start_all())

    async def _start_all(self) -> None:
        from .factories import substream_keys
        for sub in await substream_keys(self.mgr.store, self.key):
            self.add(sub)

    def add(self, sub: str) -> None:
        if sub in self.children:
            return
        if sub not in self.cursors:     # created after the PUT: all of it, or from ``from``
            self.cursors[sub] = self.cfg["selector"].get("from") or 0
        self.children[sub] = _Delivery(self.mgr, self.key, self.name, self.cfg,
                                       self.cursors[sub], sub)

    def stop(self) -> None:
        self.task.cancel()
        for d in self.children.values():
            d.stop()


async def post(url: str, headers: dict[str, str], body: bytes) -> int:
    """A minimal HTTP/1.1 POST (one request per connection); returns the status code."""
    u = urlsplit(url)
    tls = u.scheme == "https"
    port = u.port or (443 if tls else 80)
    reader, writer = await asyncio.open_connection(u.hostname, port, ssl=True if tls else None)
    try:
        target = (u.path or "/") + (f"?{u.query}" if u.query else "")
        lines = [f"POST {target} HTTP/1.1", f"host: {u.netloc}", f"content-length: {len(body)}",
                 "connection: close", "user-agent: pipyd-streamlog"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        await writer.drain()
        status_line = await reader.readline()
        parts = status_line.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
            raise ValueError("malformed response")
        return int(parts[1])
    finally:
        writer.close()


class WebhookManager:
    """All webhooks of one store in this worker."""

    def __init__(self, store: StreamStore, retry: float = 0.5) -> None:
        self.store = store
        self.retry = retry
        self.configs: dict[tuple[str, str], tuple[dict, int]] = {}
        self.running: dict[tuple[str, str], _Delivery | _FactoryDelivery] = {}
        self.loaded = False

    async def load(self) -> None:
        """Replay every meta stream once per worker and start the deliveries."""
        if self.loaded:
            return
        self.loaded = True
        for info in await self.store.list_streams():
            if info.key.endswith("/webhooks"):
                await self._replay(info.key[:-len("/webhooks")])
        for (key, name), (cfg, cursor) in self.configs.items():
            self.running[(key, name)] = self._delivery(key, name, cfg, cursor)

    def _delivery(self, key: str, name: str, cfg: dict,
                  cursor: int | dict) -> "_Delivery | _FactoryDelivery":
        if type(cursor) is dict:        # a factory's webhook: a cursor per substream
            return _FactoryDelivery(self, key, name, cfg, cursor)
        return _Delivery(self, key, name, cfg, cursor)

    async def substream_created(self, base: str, sub: str) -> None:
        """§8: a factory's webhooks start delivering a new substream."""
        await self.load()
        for (key, _), d in list(self.running.items()):
            if key == base and type(d) is _FactoryDelivery:
                d.add(sub)

    async def _replay(self, key: str) -> None:
        configs = self.configs
        async for kind, doc in meta_events(self.store, key + "/webhooks"):
            k = (key, doc["name"])
            if kind == "put":
                configs[k] = (doc["config"], doc["cursor"])
            elif kind == "delete":
                configs.pop(k, None)
            elif kind == "ack" and k in configs:
                if "source" in doc:
                    configs[k][1][doc["source"]] = doc["cursor"]
                else:
                    configs[k] = (configs[k][0], doc["cursor"])

    async def record(self, key: str, kind: str, doc: dict) -> None:
        await append_json(self.store, key + "/webhooks", kind, doc)

    async def log_failure(self, key: str, doc: dict) -> None:
        await append_json(self.store, key + "/logs", "webhook-error", doc)

    async def handle(self, req: Any, url: Any) -> Any:
        from .http_api import Response, json_response
        await self.load()
        key, name = url.key, url.webhook
        if name is None:
            if req.method not in ("GET", "HEAD"):
                raise BadRequest("webhooks are created at /webhooks/{name}")
            return json_response(200, [_public(n, c, cur) for (k, n), (c, cur)
                                       in sorted(self.configs.items()) if k == key])
        k = (key, name)
        if req.method in ("GET", "HEAD"):
            if k not in self.configs:
                raise NotFound(f"no webhook {name!r}", {"webhook": name})
            cfg, cursor = self.configs[k]
            return json_response(200, _public(name, cfg, cursor))
        if req.method == "DELETE":
            if k not in self.configs:
                raise NotFound(f"no webhook {name!r}", {"webhook": name})
            await self.record(key, "delete", {"name": name})
            self._stop(k)
            self.configs.pop(k, None)
            return Response(204)
        if req.method != "PUT":
            raise BadRequest(f"method {req.method} not allowed on a webhook")
        try:
            doc = json.loads(req.body or b"null")
        except ValueError:
            raise BadRequest("webhook body must be JSON") from None
        cfg = _check_config(doc)
        frm = cfg["selector"].get("from")
        cursor: int | dict
        if await self._on_factory(url):     # §8: every substream, each its own cursor
            from .factories import substream_keys
            cursor = {sub: frm if frm is not None else await self.store.length(sub)
                      for sub in await substream_keys(self.store, key)}
        else:
            cursor = frm if frm is not None else await self.store.length(key)
        existed = k in self.configs
        await self.record(key, "put", {"name": name, "config": cfg, "cursor": cursor})
        self._stop(k)
        self.configs[k] = (cfg, cursor)
        self.running[k] = self._delivery(key, name, cfg, cursor)
        return json_response(200 if existed else 201, _public(name, cfg, cursor))

    async def _on_factory(self, url: Any) -> bool:
        if url.substream is not None or url.logs:
            return False
        from .factories import configs_for
        return (await configs_for(self.store).get(url.key)).factory

    def _stop(self, k: tuple[str, str]) -> None:
        d = self.running.pop(k, None)
        if d is not None:
            d.stop()
