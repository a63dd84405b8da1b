"""Credentials of stream-log controls (streamlog.md §12): API key digests, JWTs (ES256/RS256
against an account's registered public keys), short-lived EventSource tokens and signed
substream URLs: making them and checking them into a ``Principal``.

Separate from the decisions taken with a principal (controls_access.py) because this is the
cryptographic half: HMAC, key loading and JWT verification, each with its own 401/403 answers.
``CredentialChecks`` is a mixin of ``Controls`` (it reads the admin key and the snapshot's secret).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

from .controls_model import _ADMIN, _ALL, PERMS, Principal, _err, _Snapshot
from .store import BadRequest

MAX_TOKEN_TTL = 3600          # "short-lived": an EventSource token lives at most an hour
JWT_ALGS = ("ES256", "RS256")  # §12


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _b64(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def _unb64(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


class CredentialChecks:
    """Who is asking: the credential methods of ``Controls`` (``admin_key`` set by its init)."""

    admin_key: Any

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
