"""Stream-log controls (streamlog.md §12): accounts, keys, JWTs, public streams, signed substream
URLs, EventSource tokens, per-stream rate limits and blocklists.

Model. An account is *managed* once it has a credential: a key in the ``apiKeys`` option, an
``accounts`` option entry, or an account document PUT through ``/pipet/accounts/{acct}``. Streams
of an unmanaged account stay open (the server's historical default, so a quick start needs no
setup); every request on a managed account's stream needs a permission — ``read`` (GET/HEAD,
reducer state, types, logs), ``write`` (POST) or ``execute`` (PUT/DELETE of settings, reducers,
types, webhooks, controls; reading webhooks, whose secrets are the owner's; pipes need read on
the origin, write and execute on the destination) — granted by:

- a credential of the account itself: an API key (``Authorization: Bearer <key>``; keys carry a
  permission set, all three by default) or a JWT ES256/RS256 whose ``sub`` names the account and
  whose signature checks against a public key the account registered (``exp`` required, optional
  ``perms`` claim narrows);
- the stream's controls: ``public`` (``read``, ``write`` or ``readwrite``) and ``members``
  (``{account: [perms]}``, for another account's credentials);
- a factory's account substream grant (``accountSubstreams``, §8) for ``(acct)`` substreams;
- a signed substream URL ``?perm=write&exp=…&sig=…`` handed out by the factory's owner;
- a short-lived ``?token=`` — only on ``GET`` with ``Accept: text/event-stream`` (EventSource
  cannot send headers), read only.
The bootstrap ``adminKey`` option may do anything, notably manage accounts.

Configuration made over HTTP is a sequence of events of the hidden meta stream ``pipet/controls``
(kinds ``account``, ``account-deleted``, ``stream``, ``secret``), replayed and cached per length as
factories.py does, so every worker sees one truth and a restart loses nothing. Key material is
stored as SHA-256 digests only. HMAC secret for signed URLs and tokens: the ``secret`` option, else
the first ``secret`` event (created on first use).
"""
from __future__ import annotations

import base64
import fnmatch
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from .store import AppendRequest, BadRequest, NewEvent, NotFound, RESERVED_ACCOUNT, Selector

__all__ = ["Controls", "controls_for", "Principal", "PERMS", "sign_substream", "issue_token"]

PERMS = ("read", "write", "execute")
_ALL = frozenset(PERMS)
_PUBLIC = {"none": frozenset(), "read": frozenset({"read"}), "write": frozenset({"write"}),
           "readwrite": frozenset({"read", "write"})}
META = f"{RESERVED_ACCOUNT}/controls"
MAX_TOKEN_TTL = 3600          # "short-lived": an EventSource token lives at most an hour
JWT_ALGS = ("ES256", "RS256")  # §12


def _err(status: int, message: str, detail: Any = None, headers: dict | None = None) -> Exception:
    from .http_api import ApiError
    return ApiError(status, message, detail, headers)


def _unauthenticated(account: str) -> Exception:
    return _err(401, "authentication required", {"account": account},
                {"www-authenticate": 'Bearer realm="streamlog"'})


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _b64(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def _unb64(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _perms(value: Any, default: frozenset = _ALL) -> frozenset:
    if value is None:
        return default
    if type(value) is not list or not all(p in PERMS for p in value):
        raise BadRequest("permissions are a subset of ['read', 'write', 'execute']",
                         {"permissions": value})
    return frozenset(value)


@dataclass(frozen=True)
class Principal:
    """Who a request speaks for and what it may do. ``scope``: a store key the credential is
    limited to (a signed substream URL, a stream-bound token), or None."""
    account: str | None
    perms: frozenset
    admin: bool = False
    scope: str | None = None


_ADMIN = Principal(None, _ALL, True)


@dataclass
class StreamControls:
    public: frozenset = frozenset()
    members: dict | None = None          # account → frozenset of perms
    rate: tuple | None = None            # (rate, burst) for the stream and its substreams together
    sub_rate: tuple | None = None        # (rate, burst) per substream
    referers: tuple = ()                 # fnmatch patterns (case-insensitive)
    arguments: frozenset = frozenset()   # canonical substream arguments

    @classmethod
    def parse(cls, doc: Any) -> "StreamControls":
        known = {"public", "members", "rateLimit", "substreamRateLimit", "blocklist"}
        if type(doc) is not dict or set(doc) - known:
            raise BadRequest("stream controls are {public, members, rateLimit,"
                             " substreamRateLimit, blocklist}", {"keys": sorted(known)})
        pub = doc.get("public", "none")
        if pub not in _PUBLIC:
            raise BadRequest("public is none, read, write or readwrite", {"public": pub})
        members = doc.get("members") or {}
        if type(members) is not dict:
            raise BadRequest("members is {account: [permissions]}")
        bl = doc.get("blocklist") or {}
        if type(bl) is not dict or set(bl) - {"referers", "arguments"}:
            raise BadRequest("blocklist is {referers: [patterns], arguments: [args]}")
        refs, args = bl.get("referers") or [], bl.get("arguments") or []
        if type(refs) is not list or not all(type(r) is str for r in refs) or type(args) is not list:
            raise BadRequest("blocklist.referers holds patterns, blocklist.arguments substream"
                             " arguments")
        return cls(_PUBLIC[pub], {str(a): _perms(p) for a, p in members.items()},
                   _rate(doc.get("rateLimit")), _rate(doc.get("substreamRateLimit")),
                   tuple(r.lower() for r in refs), frozenset(_canonical_arg(a) for a in args))


def _rate(doc: Any) -> tuple | None:
    if doc is None:
        return None
    if type(doc) is not dict or type(doc.get("rate")) not in (int, float) or doc["rate"] < 0:
        raise BadRequest("a rate limit is {rate: events per second, burst}", {"rateLimit": doc})
    burst = doc.get("burst", max(1, doc["rate"]))
    if type(burst) not in (int, float) or burst < 1:
        raise BadRequest("rateLimit.burst is a number >= 1", {"burst": burst})
    return float(doc["rate"]), float(burst)


def _canonical_arg(arg: Any) -> str:
    """A substream argument as its canonical URL text: a string is a JS string literal unless
    it already reads as a literal or identifier; numbers, booleans and null as JSON."""
    from .urls import parse_stream_url
    if type(arg) is str:
        try:
            sub = parse_stream_url(f"/a/s({arg})").substream
        except BadRequest:
            sub = None
        if sub is not None:
            return sub.canonical
        arg = json.dumps(arg)
    elif arg is None or type(arg) in (bool, int, float):
        arg = json.dumps(arg)
    else:
        raise BadRequest("a substream argument is a string, number, boolean or null", {"arg": arg})
    return parse_stream_url(f"/a/s({arg})").substream.canonical


class _Snapshot:
    """Static options merged with the replayed meta stream."""

    def __init__(self) -> None:
        self.keys: dict[str, tuple[str, str, frozenset]] = {}   # digest → (account, id, perms)
        self.accounts: dict[str, dict] = {}                     # account → document
        self.public_keys: dict[str, dict[str, Any]] = {}        # account → kid → key object
        self.streams: dict[str, StreamControls] = {}            # base key → controls
        self.stream_docs: dict[str, dict] = {}
        self.secret: bytes | None = None

    def managed(self, account: str) -> bool:
        return account in self.accounts


class Controls:
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

    # ------------------------------------------------------------------ who is asking

    def identify(self, snap: _Snapshot, req: Any, sse_ok: bool) -> Principal | None:
        """The request's principal; None when it bears no credential. A credential that does
        not check raises 401 (expired) or 403 (unknown, bad signature)."""
        auth = req.header("authorization")
        if auth:
            scheme, _, token = auth.partition(" ")
            token = token.strip()
            if scheme.lower() != "bearer" or not token:
                raise _err(401, "expected Authorization: Bearer <key or JWT>", None,
                           {"www-authenticate": 'Bearer realm="streamlog"'})
            if self.admin_key and hmac.compare_digest(token, str(self.admin_key)):
                return _ADMIN
            if token.count(".") == 2:
                return self._jwt(snap, token)
            hit = snap.keys.get(_digest(token))
            if hit is None:
                raise _err(403, "unknown API key", None)
            return Principal(hit[0], hit[2])
        token = req.param("token")
        if token is not None:
            if not sse_ok:
                raise _err(401, "?token= is accepted only for GET with Accept: text/event-stream",
                           None, {"www-authenticate": 'Bearer realm="streamlog"'})
            if token.count(".") == 2:
                p = self._jwt(snap, token)
                return Principal(p.account, p.perms & {"read"})
            return self._token(snap, token)
        return None

    def _jwt(self, snap: _Snapshot, token: str) -> Principal:
        from pipyd.api.crypto_jwt import JWT
        from pipyd.api.crypto_keys import PublicKey
        jwt = JWT(token)
        if not jwt.isValid or jwt.header.get("alg") not in JWT_ALGS:
            raise _err(403, "a JWT must be a compact JWS signed with ES256 or RS256", None)
        claims = jwt.payload
        acct = claims.get("sub")
        keys = snap.public_keys.get(acct) if type(acct) is str else None
        if not keys:
            raise _err(403, "the JWT's sub names no account with a registered public key",
                       {"sub": acct if type(acct) is str else None})
        kid = jwt.header.get("kid")
        cands = [keys[kid]] if type(kid) is str and kid in keys else list(keys.values())
        if not any(jwt.verify(PublicKey.of(k)) for k in cands):
            raise _err(403, "JWT signature does not verify", {"sub": acct})
        now = time.time()
        exp, nbf = claims.get("exp"), claims.get("nbf")
        if type(exp) not in (int, float):
            raise _err(403, "a JWT needs an exp claim", {"sub": acct})
        if exp <= now:
            raise _err(401, "JWT expired", {"exp": exp}, {"www-authenticate": 'Bearer error='
                                                                            '"invalid_token"'})
        if type(nbf) in (int, float) and nbf > now + 5:
            raise _err(401, "JWT not yet valid", {"nbf": nbf})
        perms = claims.get("perms")
        if perms is not None and not isinstance(perms, list):
            raise _err(403, "the JWT's perms claim is an array of permissions", {"perms": perms})
        granted = _ALL if perms is None else frozenset(p for p in perms if p in PERMS)
        return Principal(acct, granted)

    def _token(self, snap: _Snapshot, token: str) -> Principal:
        body, _, mac = token.partition(".")
        secret = snap.secret
        if secret is None or not mac or not hmac.compare_digest(
                _b64(hmac.new(secret, body.encode(), "sha256").digest()), mac):
            raise _err(403, "invalid token", None)
        try:
            d = json.loads(_unb64(body))
        except ValueError:
            raise _err(403, "invalid token", None) from None
        if d["e"] <= time.time():
            raise _err(401, "token expired", {"exp": d["e"]})
        return Principal(d["a"], frozenset(d["p"]) & {"read"}, scope=d.get("s"))

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

    def signed(self, snap: _Snapshot, req: Any, url: Any, perm: str) -> bool:
        """A valid ``?perm&exp&sig`` for exactly this substream and permission."""
        sig, exp, perms = req.param("sig"), req.param("exp"), req.param("perm") or "write"
        if sig is None or url.substream is None or snap.secret is None:
            return False
        if not (exp or "").isdigit() or int(exp) < time.time():
            raise _err(401, "signed URL expired or without a valid exp", {"exp": exp})
        want = sign_substream(snap.secret, url.base_key, perms, int(exp))
        if not hmac.compare_digest(want, sig):
            raise _err(403, "bad URL signature", None)
        return perm in perms.split(",")

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


def _load_public_key(pem: Any) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    try:
        key = serialization.load_pem_public_key(str(pem).encode())
    except (ValueError, TypeError) as e:
        raise BadRequest("publicKey must be a PEM public key", {"reason": str(e)}) from None
    if not isinstance(key, (ec.EllipticCurvePublicKey, rsa.RSAPublicKey)):
        raise BadRequest("publicKey must be an EC P-256 or RSA key (ES256/RS256)")
    return key


def sign_substream(secret: bytes, base_key: str, perms: str, exp: int) -> str:
    """The ``sig`` of a signed substream URL (HMAC-SHA256 over key, permissions, expiry)."""
    return _b64(hmac.new(secret, f"{base_key}\n{perms}\n{exp}".encode(), "sha256").digest())


def issue_token(secret: bytes, account: str, scope: str | None, exp: int) -> str:
    body = _b64(json.dumps({"a": account, "p": ["read"], "s": scope, "e": exp},
                           separators=(",", ":")).encode())
    return body + "." + _b64(hmac.new(secret, body.encode(), "sha256").digest())


def _not_found(path: str) -> Exception:
    return NotFound("no such control resource", {"path": path})


_BY_API: dict[int, tuple[Any, Controls]] = {}


def controls_for(api: Any) -> Controls:
    """One Controls per API object (its options), over the API's store."""
    hit = _BY_API.get(id(api))
    if hit is None or hit[0] is not api:
        hit = _BY_API[id(api)] = (api, Controls(api, getattr(api, "options", None) or {}))
    return hit[1]


# ====================================================================== per-request enforcement

async def check(api: Any, req: Any, url: Any) -> Any:
    """Enforce §12 on a parsed stream-API request before any handler runs: 401/403 without the
    needed permission (splice: ``splice.authorize``), and a ``202`` Response (nothing stored)
    for a blocklisted write; None to go on."""
    ctl = controls_for(api)
    snap = await ctl.snapshot()
    m = req.method
    # Credentials are examined only where a managed account is involved: open accounts keep
    # ignoring whatever Authorization a client sends (the behaviour before controls existed).
    involved = url.substream.value if url.account == RESERVED_ACCOUNT and url.substream is not \
        None and url.substream.kind == "account" else url.account
    if snap.managed(involved) or (url.resource == "pipe" and url.pipe_to is not None
                                  and snap.managed(url.pipe_to.account)):
        who = ctl.identify(snap, req, m == "GET" and req.accepts("text/event-stream"))
    else:
        who = None
    if url.account == RESERVED_ACCOUNT:
        sub = url.substream
        if url.stream == "events" and sub is not None and sub.kind == "account" \
                and snap.managed(sub.value) and not (who is not None and (who.admin or (
                    who.account == sub.value and "read" in who.perms and who.scope is None))):
            if who is None:
                raise _unauthenticated(sub.value)
            raise _err(403, "an account's events are readable by the account only",
                       {"account": sub.value})
        return None
    res = url.resource
    if res == "account":
        return None
    if res == "pipe":
        # §10: read on the origin, write on the destination; attaching or removing one is also
        # execute (§12) — on the destination, so anyone may pipe a readable stream into theirs
        ctl.require(snap, who, url, "read")
        if m not in ("GET", "HEAD") and url.pipe_to.account != RESERVED_ACCOUNT:
            ctl.require(snap, who, url.pipe_to, "write")
            ctl.require(snap, who, url.pipe_to, "execute")
        return None
    if res == "webhooks":   # attaching consumers is execute; their secrets are the owner's
        ctl.require(snap, who, url, "execute")
        return None
    if res == "splice":     # proposals need write; the rest is the owner's (splice.py)
        from .splice import authorize
        authorize(ctl, snap, who, req, url)
        return None
    perm = "read" if m in ("GET", "HEAD") else "write" if m == "POST" else "execute"
    base = f"{url.account}/{url.stream}"
    if not ctl.allowed(snap, who, url.account, base, url.key, perm):
        if not (ctl.signed(snap, req, url, perm) or await _account_grant(api, who, url, perm)):
            ctl.require(snap, who, url, perm)
    if m == "POST" and Controls.blocked(snap.streams.get(base), req, url):
        from .http_api import json_response
        return json_response(202, {"discarded": True})
    return None


async def _account_grant(api: Any, who: Principal | None, url: Any, perm: str) -> bool:
    """§8: ``/eric/events(bob)`` with bob's own credential when the factory grants it."""
    sub = url.substream
    if who is None or sub is None or sub.kind != "account" or who.account != sub.value \
            or perm not in who.perms or who.scope is not None:
        return False
    from .factories import configs_for
    s = await configs_for(api.store).get(f"{url.account}/{url.stream}")
    return perm in s.account_access


# ====================================================================== management endpoints

async def route(api: Any, req: Any) -> Any:
    """The §12 management endpoints (matched on the raw path, before stream-URL parsing);
    None when the request is not one of them."""
    p = req.path.rstrip("/").split("/")[1:]
    if len(p) >= 3 and p[2] == "controls" and p[0] != RESERVED_ACCOUNT and len(p) <= 4:
        return await _stream_controls(api, req, p)
    if not p or p[0] != RESERVED_ACCOUNT or len(p) < 2 or p[1] not in ("accounts", "tokens"):
        return None
    ctl = controls_for(api)
    snap = await ctl.snapshot()
    who = ctl.identify(snap, req, False)
    if p[1] == "tokens" and len(p) == 2:
        return await _issue_token(api, req, ctl, who)
    if p[1] != "accounts" or len(p) < 3:
        raise _not_found(req.path)
    from .store import check_name
    acct = check_name(p[2], "account")
    if acct == RESERVED_ACCOUNT:
        raise _err(403, "the reserved account has no credentials", {"account": acct})
    return await _account(api, req, ctl, snap, who, acct, p[3:])


async def _account(api: Any, req: Any, ctl: Controls, snap: _Snapshot, who: Principal | None,
                   acct: str, rest: list) -> Any:
    from .builtin_streams import record_mutation
    from .http_api import json_response
    from .factories import read_json
    m = req.method
    owner = who is not None and (who.admin or (who.account == acct and "execute" in who.perms
                                               and who.scope is None))
    if who is None:
        raise _unauthenticated(acct)
    if not rest and m in ("PUT", "DELETE") and not who.admin:
        raise _err(403, "creating and deleting accounts needs the admin key", {"account": acct})
    if not owner:
        raise _err(403, "managing an account needs its execute permission or the admin key",
                   {"account": acct})
    doc = dict(snap.accounts.get(acct) or {})
    existed = acct in snap.accounts and not doc.pop("deleted", False)
    if not existed:
        doc = {}
    doc.setdefault("keys", [])
    doc.setdefault("publicKeys", {})
    doc["account"] = acct
    status, answer = 200, None
    if not rest:
        if m == "GET":
            if not existed:
                raise NotFound("no such account", {"account": acct})
            return json_response(200, _public(doc))
        if m == "DELETE":
            if not existed:
                raise NotFound("no such account", {"account": acct})
            await ctl.record("account-deleted", {"account": acct})
            return json_response(200, {"account": acct, "deleted": True})
        if m != "PUT":
            raise _err(405, f"method {m} not allowed here", {"allow": "GET, PUT, DELETE"})
        body = read_json(req, {})
        if type(body) is not dict or set(body) - {"publicKeys"}:
            raise BadRequest('an account document is {"publicKeys": {kid: pem}}')
        pks = body.get("publicKeys", doc["publicKeys"])
        if type(pks) is not dict:
            raise BadRequest("publicKeys is {kid: PEM}")
        for pem in pks.values():
            _load_public_key(pem)
        doc["publicKeys"] = pks
        status = 200 if existed else 201
    elif rest[0] == "keys" and len(rest) == 1 and m == "POST":
        body = read_json(req, {})
        perms = _perms(body.get("permissions") if type(body) is dict else None)
        kid, key = secrets.token_hex(4), "sl_" + secrets.token_urlsafe(24)
        doc["keys"] = doc["keys"] + [{"id": kid, "hash": _digest(key),
                                      "permissions": sorted(perms)}]
        status, answer = 201, {"account": acct, "id": kid, "key": key,
                               "permissions": sorted(perms)}
    elif rest[0] == "keys" and len(rest) == 2 and m == "DELETE":
        keep = [k for k in doc["keys"] if k["id"] != rest[1]]
        if len(keep) == len(doc["keys"]):
            raise NotFound("no such key", {"account": acct, "id": rest[1]})
        doc["keys"] = keep
    elif rest[0] == "publicKeys" and len(rest) == 2 and m in ("PUT", "DELETE"):
        pks = dict(doc["publicKeys"])
        if m == "PUT":
            body = req.body.decode()
            if body.lstrip().startswith("{"):
                body = (read_json(req) or {}).get("pem", "")
            _load_public_key(body)
            status = 200 if rest[1] in pks else 201
            pks[rest[1]] = body
        elif pks.pop(rest[1], None) is None:
            raise NotFound("no such public key", {"account": acct, "kid": rest[1]})
        doc["publicKeys"] = pks
    else:
        raise _not_found(req.path)
    await ctl.record("account", doc)
    await record_mutation(api.store, acct, "account.changed", _public(doc))
    return json_response(status, answer if answer is not None else _public(doc))


def _public(doc: dict) -> dict:
    return {"account": doc["account"],
            "keys": [{"id": k["id"], "permissions": k["permissions"]} for k in doc["keys"]],
            "publicKeys": sorted(doc["publicKeys"])}


async def _issue_token(api: Any, req: Any, ctl: Controls, who: Principal | None) -> Any:
    """``POST /pipet/tokens`` ``{stream, ttl}`` → ``{token, exp}``: an EventSource read token."""
    from .factories import read_json
    from .http_api import json_response
    from .urls import parse_stream_url
    if req.method != "POST":
        raise _err(405, "tokens are issued with POST", {"allow": "POST"})
    if who is None:
        raise _unauthenticated(RESERVED_ACCOUNT)
    body = read_json(req, {})
    if type(body) is not dict:
        raise BadRequest('a token request is {"stream": "/acct/strm", "ttl": seconds}')
    ttl = body.get("ttl", 300)
    if type(ttl) is not int or not 1 <= ttl <= MAX_TOKEN_TTL:
        raise BadRequest(f"ttl is 1 to {MAX_TOKEN_TTL} seconds", {"ttl": ttl})
    scope, acct = None, who.account
    if body.get("stream") is not None:
        u = parse_stream_url(str(body["stream"]))
        if u.resource != "stream" or u.stream is None:
            raise BadRequest("stream is a stream path like /acct/strm", {"stream": body["stream"]})
        scope = u.key
        if who.admin:
            acct = u.account
    if acct is None or "read" not in who.perms:
        raise _err(403, "an admin token needs a stream; a token needs read permission", None)
    exp = int(time.time()) + ttl
    return json_response(201, {"token": issue_token(await ctl.secret(), acct, scope, exp),
                               "exp": exp})


async def _stream_controls(api: Any, req: Any, p: list) -> Any:
    """``GET|PUT|DELETE /{acct}/{strm}/controls`` and ``POST …/controls/sign``."""
    from urllib.parse import quote

    from .builtin_streams import record_mutation
    from .factories import read_json
    from .http_api import json_response
    from .urls import parse_stream_url
    url = parse_stream_url("/" + "/".join(p[:2]))
    if url.substream is not None or url.resource != "stream" or url.event_type is not None \
            or url.selection is not None or url.reducer is not None:
        raise BadRequest("controls belong to /{acct}/{strm}", {"path": req.path})
    ctl = controls_for(api)
    snap = await ctl.snapshot()
    who = ctl.identify(snap, req, False)
    ctl.require(snap, who, url, "execute")
    base, m = url.base_key, req.method
    if len(p) == 4:
        if p[3] != "sign" or m != "POST":
            raise _not_found(req.path)
        body = read_json(req, {})
        if type(body) is not dict or "substream" not in body:
            raise BadRequest('a signing request is {"substream": arg, "ttl": s, "permissions"}')
        perms = sorted(_perms(body.get("permissions"), frozenset({"write"})) - {"execute"})
        ttl = body.get("ttl", 3600)
        if type(ttl) is not int or ttl < 1:
            raise BadRequest("ttl is a positive number of seconds", {"ttl": ttl})
        canonical = _canonical_arg(body["substream"])
        sub_key = f"{base}({canonical})"
        exp = int(time.time()) + ttl
        perm = ",".join(perms)
        sig = sign_substream(await ctl.secret(), sub_key, perm, exp)
        path = f"/{base}({quote(canonical, safe='')})"
        return json_response(201, {"url": f"{path}?perm={perm}&exp={exp}&sig={sig}",
                                   "exp": exp, "permissions": perms})
    if m == "GET":
        return json_response(200, {"stream": "/" + base, "controls": snap.stream_docs.get(base)})
    if m == "PUT":
        doc = read_json(req, {})
        StreamControls.parse(doc)   # 400 before anything is recorded
    elif m == "DELETE":
        doc = None
    else:
        raise _err(405, f"method {m} not allowed here", {"allow": "GET, PUT, DELETE"})
    await ctl.record("stream", {"stream": base, "controls": doc})
    await record_mutation(api.store, url.account, "stream.controls",
                          {"stream": "/" + base, "controls": doc})
    return json_response(200, {"stream": "/" + base, "controls": doc})
