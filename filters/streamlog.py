"""``serveStreamLog(options)``: the stream-log HTTP API as a filter (streamlog.md §4–§6, §13).

Placed after ``demuxHTTP`` (one sub-pipeline per request), it buffers the request, hands it to
``StreamLogAPI.handle`` on the event loop, and outputs the response when the store answers —
writes are acknowledged only after the commit is durable, so the answer is asynchronous by
nature (pipeline.md: an asynchronous filter calls ``self.output`` from a loop callback).
SSE answers stay open: the head goes out at once, frames follow as the stream grows; the
connection's output congestion (``FlowControl.watch_output``) paces them.

Options: ``store`` (a directory, ``'sqlite'``, or a ``nats://`` URL; default: ``dataDir``, then
``$STREAMLOG_STORE``, then ``$PIPYD_DATA_DIR``, then ``./data``), ``dataDir``, ``cors`` (true,
false or an origin), ``heartbeat`` (s), ``maxLag`` (events), ``maxWait`` (s), ``rateLimit``
``{rate, burst}``, ``apiKeys`` ``{account: key | [keys]}``, ``webhookRetry`` (s). One store (and
one API object) per store location and worker process, shared by every request.
"""
from __future__ import annotations

import asyncio
import os
from typing import Any

from pipyd import log
from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.js.values import JSArray, JSObject, type_error, undefined
from pipyd.pipeline import Filter
from pipyd.registry import register

from .http import options_arg

_APIS: dict[int, Any] = {}
_STORES: dict[str, tuple[Any, Any]] = {}
_KEEP: list = []


def _plain(value: Any) -> Any:
    """Script values (JSObject/JSArray) as plain Python data for the API options."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items() if v is not undefined}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return None if value is undefined else value


def store_location(opts: dict) -> str:
    store = opts.get("store")
    if store in (None, "sqlite", "embedded"):
        store = (opts.get("dataDir") or os.environ.get("STREAMLOG_STORE")
                 or os.environ.get("PIPYD_DATA_DIR") or "./data")
    return str(store)


def api_for(opts: dict) -> Any:
    """The API object of this filter's options over the shared store of their location (one
    store and one webhook manager per location and worker; one API per options object)."""
    api = _APIS.get(id(opts))
    if api is not None:
        return api
    from pipyd.streamlog.http_api import StreamLogAPI
    loc = store_location(opts)
    shared = _STORES.get(loc)
    if shared is None:
        from pipyd.streamlog.registry import store_from_option
        if not loc.startswith(("nats://", "tls://")):
            os.makedirs(loc, exist_ok=True)
        first = StreamLogAPI(store_from_option(loc), opts)
        _STORES[loc] = (first.store, first.webhooks)
        api = first
    else:
        api = StreamLogAPI(shared[0], opts, shared[1])
    _APIS[id(opts)] = api
    _KEEP.append(opts)  # the id stays valid: the options object lives as long as the worker
    return api


def _header_text(v: Any) -> str:
    if type(v) is JSArray or type(v) is list:
        return ", ".join(str(x) for x in v)
    return str(v)


def _resume_webhooks(opts: dict) -> None:
    """Start the store's background work as the worker starts: webhook deliveries, pipes and
    cron streams pending before a restart go on without waiting for a request (each manager
    loads once per store)."""
    task = asyncio.ensure_future(_resume(api_for(opts)))
    task.add_done_callback(_log_failure)


async def _resume(api: Any) -> None:
    from pipyd.streamlog.builtin_streams import crons_for
    from pipyd.streamlog.pipes import pipes_for
    await api.webhooks.load()
    await pipes_for(api.store).load()
    await crons_for(api.store).load()


def _log_failure(task: "asyncio.Future") -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error(f"[serveStreamLog] cannot resume webhooks: {task.exception()}")


class _Sink:
    """Where an SSE consumer writes: the filter's output, paced by the connection."""

    __slots__ = ("filter", "flow")

    def __init__(self, f: "ServeStreamLog") -> None:
        self.filter = f
        self.flow = f.pipeline.flow

    def write(self, b: bytes) -> None:
        if self.filter.live:
            self.filter.output(Data.from_bytes(b))

    def end(self) -> None:
        f = self.filter
        if f.live:
            f.live = False
            f.output(MessageEnd())

    def congested(self) -> bool:
        return self.flow is not None and self.flow.congested

    def watch(self, fn: Any) -> Any:
        flow = self.flow
        if flow is None:
            return lambda: None
        flow.watch_output(fn)
        return lambda: flow.unwatch_output(fn)


@register("serveStreamLog")
class ServeStreamLog(Filter):
    __slots__ = ("options", "head", "body", "task", "consumer", "live")
    CONFIG = ("options",)

    @classmethod
    def configure(cls, config: Any, *args: Any) -> "ServeStreamLog":
        opts = options_arg("serveStreamLog", args)
        f = cls.__new__(cls)
        f.options = _plain(opts)
        for k in ("heartbeat", "maxWait", "webhookRetry"):
            v = f.options.get(k)
            if v is not None and type(v) not in (int, float):
                raise type_error(f"serveStreamLog: option {k} expects a number of seconds")
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # configured outside the daemon (tests, tools): nothing to resume
            loop = None
        if loop is not None:
            loop.call_soon(_resume_webhooks, f.options)
        return f

    def reset(self) -> None:
        task = getattr(self, "task", None)
        if task is not None and not task.done():
            task.cancel()
        consumer = getattr(self, "consumer", None)
        if consumer is not None:
            consumer.close()
        self.head = None
        self.body: list[bytes] = []
        self.task = None
        self.consumer = None
        self.live = False

    def process(self, evt: Any) -> None:
        t = type(evt)
        if t is Data:
            if self.head is not None:
                self.body.extend(evt.chunks)
        elif t is MessageStart:
            self.head = evt.head
            self.body = []
        elif t is MessageEnd:
            if self.head is not None and self.task is None:
                self.live = True
                self.task = asyncio.get_event_loop().create_task(self._answer(self.head))
        elif t is StreamEnd:
            if self.task is None:  # no request to answer: pass the end on
                self.output(evt)

    async def _answer(self, head: Any) -> None:
        from pipyd.streamlog.http_api import ApiError, Request, SSEResponse, error_response
        headers = {str(k).lower(): _header_text(v) for k, v in (head.get("headers") or {}).items()}
        req = Request(str(head.get("method") or "GET"), str(head.get("path") or "/"), headers,
                      b"".join(self.body))
        self.body = []
        try:
            api = api_for(self.options)
            res = await api.handle(req)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug or a broken store: 500, this request only
            log.error(f"[serveStreamLog] {req.method} {req.target}: {type(exc).__name__}: {exc}")
            res = error_response(ApiError(500, "internal error", type(exc).__name__))
        if not self.live:
            return
        if type(res) is SSEResponse:
            return await self._stream(res)
        self.output(MessageStart(JSObject(status=res.status, headers=JSObject(res.headers))))
        if res.body:
            self.output(Data.from_bytes(res.body))
        self.live = False
        self.output(MessageEnd())

    async def _stream(self, res: Any) -> None:
        # Naming chunked framing makes the HTTP encoder send the head at once instead of
        # holding it for a content-length: an SSE client must see the head before any event.
        headers = JSObject(res.headers)
        headers["transfer-encoding"] = "chunked"
        self.output(MessageStart(JSObject(status=res.status, headers=headers)))
        sink = _Sink(self)
        self.consumer = res.make_consumer(sink)
        await self.consumer.start()

    def shutdown(self) -> None:
        """Graceful stop: an endless SSE response ends now, so the daemon need not wait out its
        grace period; EventSource reconnects with Last-Event-ID to whoever serves next.
        Ordinary answers finish on their own."""
        consumer = self.consumer
        if consumer is not None:
            self.consumer = None
            consumer.close()
            _Sink(self).end()

    def dump(self) -> str:
        return self.NAME
