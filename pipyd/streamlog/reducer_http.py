"""The HTTP face of reducers (streamlog.md §7, §8): ``PUT``/``GET``/``HEAD``/``DELETE`` of
``/{acct}/{strm}.{name}[expr]``, on a stream, a substream or a factory (``{argument: state}``).

A mixin of ``ReducerManager`` (reducers.py), separate because it is request handling: parsing
and validating a definition, waiting for catch-up, shaping responses; the state it reads and the
definitions it records belong to the manager and the fold (reducer_fold.py).
"""
from __future__ import annotations

import json
import math
from typing import Any

from . import reducer_deps
from .reducer_fold import _deps_closure, _Reducer, _StreamReducers
from .sandbox import ReducerCompileError, ReducerSandbox
from .store import BadRequest, Conflict, NotFound, StreamStore


class ReducerRoutes:
    """The HTTP methods of ``ReducerManager`` (whose ``__init__`` sets the attributes below)."""

    store: StreamStore
    sandbox: ReducerSandbox
    streams: dict[str, _StreamReducers]
    inherited: dict[str, dict[str, int]]

    async def handle(self, req: Any, url: Any) -> Any:
        """``PUT``/``GET``/``DELETE`` of ``/{acct}/{strm}.{name}[expr]``; on a factory (§8) the
        definition applies to every substream, each with its own partition of state."""
        await self.ensure_loaded()
        key, name, m = url.key, url.reducer, req.method
        sr = self.streams.get(key)
        r = sr.reducers.get(name) if sr else None
        if url.substream is not None and not url.logs:
            base = f"{url.account}/{url.stream}"
            if m in ("PUT", "DELETE") and name in self.inherited.get(key, ()):
                raise Conflict(f"reducer {name!r} is defined on the factory /{base}: change it"
                               " there", {"reducer": name, "factory": "/" + base})
            if r is None and m in ("GET", "HEAD"):
                return await self._get_substream(req, url, base, name)
        if m == "PUT":
            if url.expr is not None or url.selection is not None:
                raise BadRequest("a reducer is defined at /{acct}/{strm}.{name}")
            res = await self._put(req, key, name)
            if res.status < 300 and url.substream is None and not url.logs \
                    and await self._is_factory(key):
                await self._spread(key, None)
            return res
        if r is None:
            raise NotFound(f"no reducer {name!r} on this stream", {"reducer": name})
        factory = url.substream is None and not url.logs and await self._is_factory(key)
        if m in ("GET", "HEAD"):
            if factory:
                return await self._get_partitions(req, url, name)
            return await self._get(req, url, sr, r)
        if m == "DELETE":
            users = sorted(o.name for o in sr.reducers.values() if name in o.deps)
            if factory:     # a substream's own reducer may read the factory's
                users += sorted(f"{k[len(key):]}.{o.name}" for k, names in self.inherited.items()
                                if k.startswith(key + "(") for o in self.streams[k].reducers
                                .values() if name in o.deps and o.name not in names)
            if users:
                raise Conflict(f"reducers {users} read {name!r}", {"dependents": users})
            await self.meta(key, "delete", {"name": name})
            del sr.reducers[name]
            sr._notify()
            if factory:
                await self._spread(key, None)
            from .http_api import Response
            return Response(204)
        from .http_api import ApiError
        raise ApiError(405, f"method {m} not allowed on a reducer", None,
                       {"allow": "GET, HEAD, PUT, DELETE, OPTIONS"})

    async def _get_substream(self, req: Any, url: Any, base: str, name: str) -> Any:
        """A substream's partition of a factory reducer that this worker has not made yet: made
        now (the substream was written by the JS API or another worker); a substream with no
        events answers the initial state, ``undefined`` (null), without creating anything."""
        from .http_api import Response
        fsr = self.streams.get(base)
        if fsr is None or name not in fsr.reducers or not await self._is_factory(base):
            raise NotFound(f"no reducer {name!r} on this stream", {"reducer": name})
        if await self.store.length(url.key) > 0:
            await self._partition(base, url.key, 0)
            sr = self.streams[url.key]
            return await self._get(req, url, sr, sr.reducers[name])
        from .urls import UNDEFINED
        body = b"null" if url.expr is None else _json_value(url.expr.evaluate(UNDEFINED))
        return Response(200, {"content-type": "application/json", "reducer-position": "0",
                              "reducer-status": "running"},
                        b"" if req.method == "HEAD" else body)

    async def _put(self, req: Any, key: str, name: str) -> Any:
        from .http_api import json_response
        ctype = (req.header("content-type") or "").split(";", 1)[0].strip().lower()
        source = req.body.decode("utf-8")
        typescript = None
        if ctype in ("application/typescript", "application/x-typescript", "text/typescript"):
            from . import reducer_ts    # §7: transpiled once, here; the JavaScript is stored
            typescript, source = source, await reducer_ts.transpile(self.sandbox, self.store,
                                                                     key, source)
        r = _Reducer(name, source, -1, 0)
        sr = self.streams.get(key)
        others = {n: o.deps for n, o in (sr.reducers.items() if sr else ()) if n != name}
        missing = [d for d in r.deps if d not in others]
        if missing:
            raise BadRequest(f"unknown reducers referenced: {missing}", {"missing": missing})
        cycle = reducer_deps.find_cycle({**others, name: r.deps})
        if cycle:
            raise BadRequest("reducer dependency cycle: " + " -> ".join(cycle), {"cycle": cycle})
        try:
            await self.sandbox.compile(key, r.hash, r.compiled)
        except ReducerCompileError as e:
            raise BadRequest(f"reducer does not compile: {e}", {"error": str(e)}) from None
        r.live_from = await self.store.length(key)
        put = {"name": name, "source": source, "liveFrom": r.live_from}
        if typescript is not None:
            put["typescript"] = typescript
        r.gen = await self.meta(key, "put", put)
        r.shadows = {d: None for d in _deps_closure(others, r.deps)}
        if sr is None:
            sr = self.streams[key] = _StreamReducers(self, key)
        prior = sr.reducers.get(name)
        sr.reducers[name] = r
        if prior is not None and prior.seqs:
            # dispatch sequence numbers carry over (as in rebuild): the targets' producer dedupe
            # would drop the new definition's dispatches numbered from 0 again
            r.seqs = dict(prior.seqs)
            await sr._checkpoint([r])
        sr.wake.set()
        existed = prior is not None
        return json_response(200 if existed else 201, {"name": name, "dependencies": r.deps,
                                                       "liveFrom": r.live_from})

    async def _get(self, req: Any, url: Any, sr: _StreamReducers, r: _Reducer) -> Any:
        from .http_api import Response
        if req.param("stale") != "ok":
            await sr.wait(r, await self.store.length(url.key))
        headers = {"content-type": "application/json", "reducer-position": str(r.position),
                   "reducer-status": "stopped" if r.error else "running"}
        if r.error:
            headers["reducer-error"] = r.error["message"].splitlines()[0][:200]
        if url.expr is None:
            body = (r.state or "null").encode()
        else:
            from .urls import UNDEFINED
            body = _json_value(url.expr.evaluate(UNDEFINED if r.state is None
                                                 else json.loads(r.state)))
        return Response(200, headers, b"" if req.method == "HEAD" else body)

    async def _get_partitions(self, req: Any, url: Any, name: str) -> Any:
        """``GET`` of a factory reducer without an argument: ``{argument: state}`` over every
        substream (arguments as in stream keys: ``"a"`` for ('a'), ``bob`` for (bob))."""
        from .factories import substream_keys
        from .http_api import Response
        from .urls import UNDEFINED
        base = url.key
        out: dict[str, Any] = {}
        stopped = 0
        for sub in await substream_keys(self.store, base):
            await self._partition(base, sub, 0)
            sr = self.streams[sub]
            r = sr.reducers[name]
            if req.param("stale") != "ok":
                await sr.wait(r, await self.store.length(sub))
            stopped += r.error is not None
            state = UNDEFINED if r.state is None else json.loads(r.state)
            value = state if url.expr is None else url.expr.evaluate(state)
            out[sub[len(base) + 1:-1]] = json.loads(_json_value(value))
        body = json.dumps(out, separators=(",", ":")).encode()
        return Response(200, {"content-type": "application/json",
                              "reducer-partitions": str(len(out)),
                              "reducer-status": "stopped" if stopped else "running"},
                        b"" if req.method == "HEAD" else body)


def _json_value(v: Any) -> bytes:
    """A ReducerExpr result as JSON (undefined and non-finite numbers: null, as JSON.stringify)."""
    from .urls import UNDEFINED
    if v is UNDEFINED or (type(v) is float and not math.isfinite(v)):
        return b"null"
    return json.dumps(v, separators=(",", ":")).encode()
