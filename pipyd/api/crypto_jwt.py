"""``crypto.JWK`` and ``crypto.JWT`` (reference §3.5).

``new JWT(token)`` splits a compact JWS (RFC 7515 §7.1); ``isValid`` says whether it had three
base64url parts whose first two are JSON objects; ``header``/``payload`` are those objects.
``verify(key)`` checks the signature for the header's ``alg`` — HS256/384/512 with a secret
(Data or string), RS256/384/512 and PS256/384/512 with an RSA key, ES256/384/512 with an EC key
(the raw r||s form of RFC 7518 §3.4) — where the key is a ``crypto.PublicKey`` or a
``crypto.JWK``. As Pipy's source (not its guide 12), a ``crypto.PrivateKey`` is refused.

``new JWK(object)`` builds a public key from RSA (``n``, ``e``) or EC (``crv``, ``x``, ``y``)
parameters, or a secret from ``oct`` (``k``); ``isValid`` says whether that worked.
"""
from __future__ import annotations

import base64
import hmac
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from pipyd.api.crypto_common import hash_algorithm, input_bytes
from pipyd.api.crypto_keys import PrivateKey, PublicKey
from pipyd.js.builtins.json import parse as json_parse
from pipyd.js.values import HostObject, JSThrow, type_error, undefined

_CURVES = {"P-256": ec.SECP256R1, "P-384": ec.SECP384R1, "P-521": ec.SECP521R1,
           "secp256k1": ec.SECP256K1}


def b64url(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _b64int(s: Any) -> int:
    if type(s) is not str:
        raise ValueError("missing key parameter")
    return int.from_bytes(b64url(s), "big")


class JWK(HostObject):
    __slots__ = ("key", "secret")
    js_get = frozenset({"isValid"})
    js_new = True
    js_class_name = "JWK"

    def __init__(self, jwk: Any = undefined) -> None:
        self.key: Any = None
        self.secret: bytes | None = None
        if not isinstance(jwk, dict):
            raise type_error("crypto.JWK: expected an object")
        try:
            kty = jwk.get("kty")
            if kty == "RSA":
                self.key = rsa.RSAPublicNumbers(_b64int(jwk.get("e")), _b64int(jwk.get("n"))).public_key()
            elif kty == "EC":
                curve = _CURVES[jwk.get("crv")]()
                nums = ec.EllipticCurvePublicNumbers(_b64int(jwk.get("x")), _b64int(jwk.get("y")), curve)
                self.key = nums.public_key()
            elif kty == "oct" and type(jwk.get("k")) is str:
                self.secret = b64url(jwk["k"])
        except (KeyError, ValueError, TypeError):
            self.key = self.secret = None

    @property
    def isValid(self) -> bool:  # noqa: N802 (Pipy's name)
        return self.key is not None or self.secret is not None


def _verify_rsa(key: Any, alg: str, msg: bytes, sig: bytes) -> bool:
    h = hash_algorithm("sha" + alg[2:])
    pad = (padding.PKCS1v15() if alg[0] == "R"
           else padding.PSS(mgf=padding.MGF1(h), salt_length=padding.PSS.DIGEST_LENGTH))
    if not isinstance(key, rsa.RSAPublicKey):
        return False
    try:
        key.verify(sig, msg, pad, h)
    except InvalidSignature:
        return False
    return True


def _verify_ec(key: Any, alg: str, msg: bytes, sig: bytes) -> bool:
    if not isinstance(key, ec.EllipticCurvePublicKey) or len(sig) % 2:
        return False
    half = len(sig) // 2  # RFC 7518 §3.4: r and s as fixed-size big-endian halves
    der = encode_dss_signature(int.from_bytes(sig[:half], "big"), int.from_bytes(sig[half:], "big"))
    try:
        key.verify(der, msg, ec.ECDSA(hash_algorithm("sha" + alg[2:])))
    except InvalidSignature:
        return False
    return True


class JWT(HostObject):
    __slots__ = ("header", "payload", "_signed", "_sig", "_valid")
    js_get = frozenset({"isValid", "header", "payload", "verify"})
    js_new = True
    js_class_name = "JWT"

    def __init__(self, token: Any = undefined) -> None:
        self.header: Any = undefined
        self.payload: Any = undefined
        self._valid = False
        if type(token) is not str:
            raise type_error("crypto.JWT: expected a string")
        parts = token.split(".")
        if len(parts) != 3:
            return
        self._signed = (parts[0] + "." + parts[1]).encode("ascii", "replace")
        try:
            self._sig = b64url(parts[2])
            self.header = json_parse(b64url(parts[0]).decode("utf-8"))
            self.payload = json_parse(b64url(parts[1]).decode("utf-8"))
        except (ValueError, JSThrow):
            return
        self._valid = isinstance(self.header, dict) and isinstance(self.payload, dict)

    @property
    def isValid(self) -> bool:  # noqa: N802 (Pipy's name)
        return self._valid

    def verify(self, key: Any = undefined) -> bool:
        if type(key) is PrivateKey:
            raise type_error("JWT.verify: expected a secret, a crypto.JWK or a crypto.PublicKey")
        if not self._valid:
            return False
        alg = self.header.get("alg")
        if type(alg) is not str or len(alg) != 5 or alg[2:] not in ("256", "384", "512"):
            return False
        if alg[:2] == "HS":
            secret = key.secret if type(key) is JWK else input_bytes(key, undefined, "JWT.verify")
            if secret is None:
                return False
            mac = hmac.new(secret, self._signed, "sha" + alg[2:]).digest()
            return hmac.compare_digest(mac, self._sig)
        if type(key) in (JWK, PublicKey):
            pub = key.key
        else:
            raise type_error("JWT.verify: expected a crypto.JWK or a crypto.PublicKey")
        if alg[:2] in ("RS", "PS"):
            return _verify_rsa(pub, alg, self._signed, self._sig)
        if alg[:2] == "ES":
            return _verify_ec(pub, alg, self._signed, self._sig)
        return False
