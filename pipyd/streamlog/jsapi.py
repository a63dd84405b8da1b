"""The ``streamlog`` builtin: scripts append to and read from streams (specs/streamlog.md §1, §13).

    streamlog.append(stream, data[, options][, callback])   → undefined
        callback(index) when durable; callback(undefined, message, {status, error, detail})
    streamlog.read(stream[, from[, limit]])                 → [{index, timestamp, eventType, …}]
    streamlog.length(stream)                                → number

PipyJS has no Promises, so ``append`` queues a durable append (the store's group commit, §4) and
returns at once; when the commit is acknowledged ``callback(index)`` runs, or on failure
``callback(undefined, message)``, in the context of the pipeline that called ``append`` (captured
from ``ACTIVE.current`` at call time, as every Pipy callback runs in its pipeline's context).
Without a callback a failure is logged, never silently dropped. After the callback the context
group is touched so a ``wait()`` on a variable the callback set re-checks at once.

``stream`` is the path of a stream URL without its leading slash: ``'acct/strm'``,
``'acct/strm("x")'`` (a substream), ``'acct/strm:type'`` (the default event type for appends, a
type selector for reads), ``'acct/strm[a:b]'`` (an index range for reads) or ``'acct/strm/logs'``
(reads only). It is parsed with the HTTP API's own grammar (urls.py), so the two agree.

``data``: a string is stored as ``text/plain``, a ``Data`` as ``application/octet-stream``, any
other value as its JSON text with ``application/json``; ``options.contentType`` overrides
(JSON content types must hold valid JSON, as over HTTP: 415 there, a callback error here).
``options.type`` sets the event type, ``options.timestamp`` a client timestamp (unix ms; lower
than the stream's latest fails like HTTP's 409).

Argument errors a programmer makes (a stream path that does not parse, wrong argument types)
throw at once; everything the HTTP API would refuse with a 4xx reaches the callback, checked by
the same code before the store sees the event (``factories.before_append``: a write to a
factory without an argument, §8; typed events against their JTD schema, §9's 422) and by the
store (sizes, timestamps). The callback's third argument is the HTTP error body as a JS object
plus the status the HTTP API answers: ``{status: 422, error: "event does not match type …",
detail: {part, eventType, errors}}``.

Reads are synchronous, on the event loop: the SQLite store answers its read coroutines without
ever suspending (WAL readers never wait for the writer), so ``_run_now`` drives them to their
result in place. A store whose reads suspend (a network store) cannot serve them and the call
throws. ``read`` returns one page (at most 1000 events or 4 MiB); continue at the last index + 1.

An append that creates a factory's substream reaches the factory's reducers, webhooks, pipes
and ``?substreams=all`` consumers before its callback runs, as an HTTP push does
(``factories.appended``).

Store: the ``store`` of the worker's first ``serveStreamLog`` (module order, then layout order),
else the default location (``$STREAMLOG_STORE``, ``$PIPYD_DATA_DIR``, ``./data``). It goes through
``filters/streamlog.py``'s ``api_for``, so a module that both serves and appends uses one store
object, one group-commit writer and one webhook manager.
"""
from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

from .. import log
from ..events import Data
from ..js import scope
from ..js.builtins.json import parse as js_json_parse, stringify as js_json_stringify
from ..js.values import (HostObject, JSArray, JSObject, JSThrow, js_error, type_error,
                         undefined)
from .http_api import ApiError
from .http_write import is_json_type
from .store import (DEFAULT_EVENT_TYPE, MAX_PAGE_EVENTS, AppendRequest, NewEvent, Selector,
                    StoreError)

__all__ = ["StreamLogJS"]

_TEXT = "text/plain"
_BINARY = "application/octet-stream"
_JSON = "application/json"
_DEFAULT_OPTIONS: dict[str, Any] = {}   # the API options when no serveStreamLog names a store
_PATHS: dict[str, Any] = {}             # stream path → parsed URL (scripts reuse a few paths)
_PATHS_MAX = 4096


def _url(stream: Any, who: str) -> Any:
    """The parsed stream URL of a script's stream path (cached: a proxy appends to one path per
    request, and parsing is the costliest step of a call)."""
    if type(stream) is not str:
        raise type_error(f"streamlog.{who}(): argument #1 expects a stream path 'account/stream'")
    url = _PATHS.get(stream)
    if url is None:
        from .urls import parse_stream_url
        try:
            url = parse_stream_url("/" + stream.lstrip("/"))
        except StoreError as e:
            raise js_error("Error", f"streamlog.{who}(): {e.message}") from None
        if url.resource != "stream" or url.reducer is not None or url.type_format is not None:
            raise js_error("Error", f"streamlog.{who}(): {stream!r} does not name a stream")
        if len(_PATHS) >= _PATHS_MAX:
            _PATHS.clear()
        _PATHS[stream] = url
    return url


def _payload(data: Any) -> tuple[bytes, str]:
    """The bytes and default content type of ``append``'s ``data``."""
    t = type(data)
    if t is str:
        return data.encode("utf-8", "surrogatepass"), _TEXT
    if t is Data:
        return data.to_bytes(), _BINARY
    text = js_json_stringify(data)
    if text is undefined:
        raise type_error("streamlog.append(): data must be a string, Data or a JSON value")
    return text.encode("utf-8", "surrogatepass"), _JSON


def _new_event(url: Any, data: Any, options: Any) -> NewEvent:
    body, ctype = _payload(data)
    etype = url.event_type or DEFAULT_EVENT_TYPE
    ts = None
    if isinstance(options, dict):
        v = options.get("contentType", undefined)
        if v is not undefined and v is not None:
            ctype = str(v)
        v = options.get("type", undefined)
        if v is not undefined and v is not None:
            etype = str(v)
        v = options.get("timestamp", undefined)
        if v is not undefined and v is not None:
            if type(v) not in (int, float) or v != v or v < 0 or v != int(v):
                raise type_error("streamlog.append(): options.timestamp expects unix milliseconds")
            ts = int(v)
    elif options is not undefined and options is not None:
        raise type_error("streamlog.append(): argument #3 expects an options object")
    return NewEvent(body, etype, ctype, ts)


def _check_json(ev: NewEvent) -> None:
    """JSON content types must carry JSON: the HTTP API's 415 rule and message (http_write.py),
    because readers and reducers rely on ``application/json`` data being JSON."""
    if is_json_type(ev.contentType):
        try:
            json.loads(ev.data)
        except ValueError as e:
            raise ApiError(415, "body is not valid JSON for its content type",
                           {"contentType": ev.contentType, "part": None, "reason": str(e)}) from None


def _run_now(coro: Any, who: str) -> Any:
    """The result of a store coroutine that completes without suspending (see the module doc)."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    except StoreError as e:
        raise js_error("Error", f"streamlog.{who}(): {e.message}") from None
    coro.close()
    raise js_error("Error", f"streamlog.{who}(): this store cannot be read synchronously")


def _js_event(ev: Any) -> JSObject:
    """An event as the HTTP API shows it (http_read.event_object), built from JS values: JSON
    data parsed by the engine's JSON.parse (JS numbers), text as a string, other bytes base64."""
    obj = JSObject(index=ev.index, timestamp=ev.timestamp, eventType=ev.eventType,
                   contentType=ev.contentType)
    try:
        text = ev.data.decode("utf-8")
    except UnicodeDecodeError:
        obj["data"] = base64.b64encode(ev.data).decode("ascii")
        obj["encoding"] = "base64"
        return obj
    if is_json_type(ev.contentType):
        try:
            text = js_json_parse(text)
        except JSThrow:     # stored by a writer that skipped the 415 rule: keep the text
            pass
    obj["data"] = text
    return obj


def _settled(ctx: Any, callback: Any, stream: str, task: asyncio.Task) -> None:
    """Loop callback when an append finished: hand the outcome to the script."""
    status, detail = 500, None
    if task.cancelled():
        index, error = undefined, "append cancelled (the worker is stopping)"
    else:
        exc = task.exception()
        if exc is None:
            index, error = task.result().indexes[0], None
        elif isinstance(exc, StoreError):
            index, error, status, detail = undefined, exc.message, exc.status, exc.detail
        else:
            index, error = undefined, f"{type(exc).__name__}: {exc}"
            log.error(f"streamlog.append({stream}): {error}")
    if callback is None:
        if error is not None:
            log.error(f"[streamlog] append to {stream} failed: {error}")
        return
    from ..context import touch_group
    from ..pipeline import call_script
    active = scope.ACTIVE
    prev = active.current
    call_script(ctx, callback, (index,) if error is None
                else (undefined, error, _error_object(status, error, detail)))
    active.current = prev
    touch_group(ctx)


def _error_object(status: int, message: str, detail: Any) -> Any:
    """The HTTP API's JSON error body (store.StoreError.body) with its status, as JS values."""
    return js_json_parse(json.dumps({"status": status, "error": message, "detail": detail},
                                    default=str))


class StreamLogJS(HostObject):
    """The ``streamlog`` namespace of one module. ``module_globals`` is the dict the Worker
    completes with that module's ``pipy`` (how the store finds the worker's serveStreamLog)."""

    __slots__ = ("module_globals", "_api")
    js_get = frozenset({"append", "read", "length"})
    js_class_name = "streamlog"

    def __init__(self, module_globals: dict[str, Any] | None = None) -> None:
        self.module_globals = module_globals
        self._api: Any = None

    # ------------------------------------------------------------------------- the store

    def _serve_options(self) -> dict[str, Any] | None:
        """The options of the worker's first serveStreamLog, None when there is none."""
        pipy = (self.module_globals or {}).get("pipy")
        module = getattr(pipy, "module", None)
        worker = getattr(module, "worker", None)
        if worker is None:
            return None
        for m in worker.modules:
            for layout in m.layouts:
                for f in layout.filters:
                    if getattr(f, "NAME", "") == "serveStreamLog":
                        return f.options
        return None

    def store(self) -> Any:
        return self.api().store

    def api(self) -> Any:
        """The stream-log API object (store, webhooks…) the HTTP side of this worker uses."""
        api = self._api
        if api is None:
            from pipyd.filters.streamlog import api_for
            opts = self._serve_options()
            try:
                api = self._api = api_for(_DEFAULT_OPTIONS if opts is None else opts)
            except StoreError as e:     # e.g. a store option naming an unknown backend
                raise js_error("Error", f"streamlog: cannot open the store: {e.message}") from None
            # Webhooks registered before a restart resume once the manager is loaded; appends
            # made from scripts must reach them even if no webhook request came in yet.
            task = asyncio.get_running_loop().create_task(api.webhooks.load())
            task.add_done_callback(_log_failure)
            from .factories import watch
            watch(api)      # and so must the substreams scripts create (factories.appended)
        return api

    # ------------------------------------------------------------------------- the methods

    def append(self, stream: Any = undefined, data: Any = undefined, options: Any = undefined,
               callback: Any = undefined) -> Any:
        if callback is undefined and callable(options) and not isinstance(options, dict):
            options, callback = undefined, options
        if callback is undefined or callback is None:
            callback = None
        elif not callable(callback):
            raise type_error("streamlog.append(): the callback must be a function")
        url = _url(stream, "append")
        if url.logs or url.selection is not None:
            raise js_error("Error", f"streamlog.append(): cannot append to {stream!r}")
        ev = _new_event(url, data, options)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            raise js_error("Error", "streamlog.append(): needs a running daemon") from None
        task = loop.create_task(self._append(self.api(), url, AppendRequest(url.key, (ev,))))
        task.add_done_callback(
            lambda t, c=scope.ACTIVE.current, s=url.key: _settled(c, callback, s, t))
        return undefined

    @staticmethod
    async def _append(api: Any, url: Any, request: AppendRequest) -> Any:
        from .factories import before_append    # §8 factory argument, §9 types: as HTTP does
        _check_json(request.events[0])
        await before_append(api, url, list(request.events))
        store = api.store
        result = await store.append(request)
        from .factories import appended     # a new substream reaches its factory's consumers
        await appended(store, request.stream, result)
        return result

    def read(self, stream: Any = undefined, from_: Any = undefined,
             limit: Any = undefined) -> JSArray:
        url = _url(stream, "read")
        store = self.store()
        length = _run_now(store.length(url.key), "read")
        sel = url.selection
        if sel is not None and sel.kind == "length":
            raise js_error("Error", "streamlog.read(): use streamlog.length() for .length")
        types = None if url.event_type is None else frozenset((url.event_type,))
        selector = (Selector(types) if sel is None else sel.selector(types)).resolve(length)
        if from_ is not undefined and from_ is not None:
            if type(from_) not in (int, float) or from_ != from_:
                raise type_error("streamlog.read(): argument #2 expects an index")
            start = int(from_)
            start = max(0, length + start) if start < 0 else start
            if selector.start is None or start > selector.start:
                selector = Selector(selector.types, start, selector.end)
        n = MAX_PAGE_EVENTS
        if limit is not undefined and limit is not None:
            if type(limit) not in (int, float) or not limit >= 1:
                raise type_error("streamlog.read(): argument #3 expects a limit of at least 1")
            n = min(int(limit), MAX_PAGE_EVENTS)
        page = _run_now(store.read(url.key, selector, limit=n), "read")
        return JSArray([_js_event(ev) for ev in page.events])

    def length(self, stream: Any = undefined) -> int:
        url = _url(stream, "length")
        return _run_now(self.store().length(url.key), "length")


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error(f"[streamlog] loading webhooks failed: {task.exception()!r}")
