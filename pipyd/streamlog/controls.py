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

Layout: this module holds the §12 HTTP endpoints (``route``) and the per-request enforcement
(``check``), both called by http_api.py; the model (controls_model.py), the credentials
(controls_credentials.py) and the configuration state with its decisions (controls_access.py,
``Controls``, ``controls_for``) live beside it, and the names other modules import from here are
re-exported.
"""
from __future__ import annotations

import secrets
import time
from typing import Any

from .controls_access import Controls, controls_for
from .controls_credentials import (MAX_TOKEN_TTL, _digest, _load_public_key, issue_token,
                                   sign_substream)
from .controls_model import (PERMS, Principal, StreamControls, _canonical_arg, _err, _perms,
                             _Snapshot, _unauthenticated)
from .store import BadRequest, NotFound, RESERVED_ACCOUNT

__all__ = ["Controls", "controls_for", "Principal", "PERMS", "sign_substream", "issue_token"]


def _not_found(path: str) -> Exception:
    return NotFound("no such control resource", {"path": path})


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
