"""Side effects of reducers (streamlog.md §7): ``dispatch`` appends to a stream with
``Producer-Id``/``Producer-Seq`` (exactly once across a restart), ``request`` makes one HTTP/1.1
exchange (at least once); a failure is logged to the stream's ``/logs``, never fatal.

A mixin of ``ReducerManager`` (reducers.py), separate because it is the only part that writes to
other streams or the network; which effects are kept, numbered and checkpointed before they run
is decided by the fold (reducer_fold.py).
"""
from __future__ import annotations

import asyncio
import json

from .reducer_fold import _log_event
from .store import AppendRequest, NewEvent, StreamStore


class ReducerEffects:
    """The side-effect methods of ``ReducerManager`` (``factory_logs`` is in reducer_partitions)."""

    store: StreamStore

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
