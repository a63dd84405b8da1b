"""The §12 state of one stream API and the decisions taken with it (streamlog.md §12): the
configuration replayed from options and the ``pipet/controls`` meta stream (``Controls``), who
may do what on a stream, per-stream and per-substream rate limits, and blocklists.

Separate from the credentials (controls_credentials.py, a mixin of ``Controls``) and from the
HTTP endpoints and per-request enforcement (controls.py), which call ``controls_for(api)``.
"""
from __future__ import annotations

import fnmatch
import json
import secrets
from typing import Any

from .controls_credentials import CredentialChecks, _b64, _digest, _load_public_key, _unb64
from .controls_model import (_ALL, Principal, StreamControls, _err, _perms, _Snapshot,
                             _unauthenticated)
from .store import AppendRequest, NewEvent, RESERVED_ACCOUNT, Selector

META = f"{RESERVED_ACCOUNT}/controls"


class Controls(CredentialChecks):
    """The §12 state of one API (its options) over one store."""

    def __init__(self, api: Any, options: dict) -> None:
        self.api = api
        self.store = api.store
        self.admin_key = options.get("adminKey")
        self.static_secret = options.get("secret")
        self.static = _Snapshot()
        for acct, keys in api.api_keys.items():          # the historical option: full rights
            self.static.accounts.setdefault(acct, {})
            for i, k in enumerate(sorted(keys)):
                self.static.keys[_digest(k)] = (acct, f"option-{i}", _ALL)
        for acct, doc in dict(options.get("accounts") or {}).items():
            self.static.accounts[acct] = {}
            for i, k in enumerate((doc or {}).get("keys") or []):
                key, perms = (k, _ALL) if type(k) is str else (k["key"], _perms(k.get("permissions")))
                self.static.keys[_digest(str(key))] = (acct, f"static-{i}", perms)
            pks = (doc or {}).get("publicKeys") or []
            self.static.public_keys[acct] = {
                (p.get("kid") if type(p) is dict else None) or f"static-{i}":
                    _load_public_key(p["pem"] if type(p) is dict else p)
                for i, p in enumerate(pks)}
        for path, doc in dict(options.get("streams") or {}).items():
            self.static.streams[path.strip("/")] = StreamControls.parse(doc)
        self._snap = self.static
        self._length = -1
        self.buckets: dict[str, Any] = {}

    # ------------------------------------------------------------------ configuration state

    async def snapshot(self) -> _Snapshot:
        n = await self.store.length(META)
        if n != self._length:
            self._snap = await self._replay(n)
            self._length = n
        return self._snap

    async def _replay(self, length: int) -> _Snapshot:
        s = _Snapshot()
        s.keys = dict(self.static.keys)
        s.accounts = dict(self.static.accounts)
        s.public_keys = {a: dict(k) for a, k in self.static.public_keys.items()}
        s.streams = dict(self.static.streams)
        start = 0
        while start < length:
            page = await self.store.read(META, Selector(None, start, length))
            for ev in page.events:
                self._apply(s, ev.eventType, json.loads(ev.data))
            if page.next_index <= start:
                break
            start = page.next_index
        if self.static_secret:
            s.secret = str(self.static_secret).encode()
        return s

    @staticmethod
    def _apply(s: _Snapshot, kind: str, d: dict) -> None:
        if kind == "account":
            acct = d["account"]
            s.keys = {h: v for h, v in s.keys.items() if v[0] != acct or v[1].startswith(
                ("option-", "static-"))}
            for k in d.get("keys", []):
                s.keys[k["hash"]] = (acct, k["id"], frozenset(k["permissions"]))
            s.accounts[acct] = d
            pks = {kid: _load_public_key(pem) for kid, pem in d.get("publicKeys", {}).items()}
            s.public_keys[acct] = pks
        elif kind == "account-deleted":    # a tombstone: the streams stay closed (admin only)
            acct = d["account"]
            s.keys = {h: v for h, v in s.keys.items() if v[0] != acct}
            s.accounts[acct] = {"account": acct, "deleted": True}
            s.public_keys.pop(acct, None)
        elif kind == "stream":
            if d.get("controls") is None:
                s.streams.pop(d["stream"], None)
                s.stream_docs.pop(d["stream"], None)
            else:
                s.streams[d["stream"]] = StreamControls.parse(d["controls"])
                s.stream_docs[d["stream"]] = d["controls"]
        elif kind == "secret" and s.secret is None:
            s.secret = _unb64(d["secret"])

    async def record(self, kind: str, doc: dict) -> None:
        data = json.dumps(doc, separators=(",", ":")).encode()
        await self.store.append(AppendRequest(META, [NewEvent(data, kind, "application/json")]))

    async def secret(self) -> bytes:
        s = await self.snapshot()
        if s.secret is None:
            await self.record("secret", {"secret": _b64(secrets.token_bytes(32))})
            s = await self.snapshot()
        return s.secret

    # ------------------------------------------------------------------ may they?

    def allowed(self, snap: _Snapshot, who: Principal | None, account: str, base: str, key: str,
                perm: str) -> bool:
        if not snap.managed(account):
            return True
        if who is not None and who.admin:
            return True
        sc = snap.streams.get(base)
        if sc is not None and perm in sc.public:
            return True
        if who is None or perm not in who.perms:
            return False
        if who.scope is not None and who.scope not in (base, key):
            return False
        if who.account == account:
            return True
        return sc is not None and sc.members is not None and perm in sc.members.get(who.account, ())

    def require(self, snap: _Snapshot, who: Principal | None, url: Any, perm: str) -> None:
        base = f"{url.account}/{url.stream}"
        if self.allowed(snap, who, url.account, base, url.key, perm):
            return
        if who is None:
            raise _unauthenticated(url.account)
        raise _err(403, f"no {perm} permission on this stream", {
            "stream": "/" + base, "permission": perm, "account": who.account})

    # ------------------------------------------------------------------ rate limits

    def rate_limit(self, key: str, n: int) -> None:
        """§12: the stream's bucket (shared by its substreams), then the substream's own."""
        sc = self._snap.streams.get(key.split("(", 1)[0])
        if sc is None:
            return
        sub = None
        if sc.sub_rate is not None and "(" in key:
            sub = self._take("u:" + key, sc.sub_rate, n, None)
        if sc.rate is not None:
            self._take("s:" + key.split("(", 1)[0], sc.rate, n, sub)

    def _take(self, name: str, rate: tuple, n: int, refund: Any) -> Any:
        """Take ``n`` tokens or raise 429; a refused request gives back what ``refund`` (the
        substream's bucket) took, so a refusal never costs the client tokens."""
        from .http_api import TokenBucket
        b = self.buckets.get(name)
        if b is None or (b.rate, b.burst) != rate:
            b = self.buckets[name] = TokenBucket(*rate)
        wait = b.take(n)
        if wait > 0:
            if refund is not None:
                refund.tokens += n
            secs = max(1, int(wait + 0.999))
            raise _err(429, "rate limited", {"retryAfter": secs}, {"retry-after": str(secs)})
        return b

    # ------------------------------------------------------------------ blocklists

    @staticmethod
    def blocked(sc: StreamControls | None, req: Any, url: Any) -> bool:
        if sc is None:
            return False
        if url.substream is not None and url.substream.canonical in sc.arguments:
            return True
        ref = (req.header("referer") or "").lower()
        if ref and sc.referers:
            from urllib.parse import urlsplit
            host = urlsplit(ref).hostname or ""
            return any(fnmatch.fnmatchcase(ref, p) or fnmatch.fnmatchcase(host, p)
                       for p in sc.referers)
        return False


_BY_API: dict[int, tuple[Any, Controls]] = {}


def controls_for(api: Any) -> Controls:
    """One Controls per API object (its options), over the API's store."""
    hit = _BY_API.get(id(api))
    if hit is None or hit[0] is not api:
        hit = _BY_API[id(api)] = (api, Controls(api, getattr(api, "options", None) or {}))
    return hit[1]
