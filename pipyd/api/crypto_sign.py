"""``crypto.Sign`` and ``crypto.Verify`` (reference §3.5): a digest over ``update()``d bytes,
signed or checked with a key, as OpenSSL's EVP_DigestSign does for the key's type:
RSA with PKCS#1 v1.5 padding, ECDSA with a DER signature, Ed25519/Ed448 over the raw message.

``sign(privateKey, enc?, options?)`` returns a Data, or a string in ``enc``;
``verify(publicKey, signature, enc?, options?)`` takes the signature as a Data or an encoded
string and returns a boolean. ``options.id`` is the SM2 signer id, which only OpenSSL's SM2 uses.
"""
from __future__ import annotations

from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa

from pipyd.api.crypto_common import hash_algorithm, input_bytes, output
from pipyd.api.crypto_keys import PrivateKey, PublicKey
from pipyd.events import Data
from pipyd.js.values import HostObject, js_error, type_error, undefined


def sign_bytes(key: Any, alg: Any, message: bytes) -> bytes:
    """Sign ``message`` with a ``cryptography`` private key and a digest (an instance)."""
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(message, padding.PKCS1v15(), alg)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(message, ec.ECDSA(alg))
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed448.Ed448PrivateKey)):
        return key.sign(message)
    raise type_error("crypto.Sign: unsupported key type")


def verify_bytes(key: Any, alg: Any, message: bytes, sig: bytes) -> bool:
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(sig, message, padding.PKCS1v15(), alg)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(sig, message, ec.ECDSA(alg))
        elif isinstance(key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
            key.verify(sig, message)
        else:
            raise type_error("crypto.Verify: unsupported key type")
    except InvalidSignature:
        return False
    return True


class Sign(HostObject):
    __slots__ = ("_alg", "_chunks")
    js_get = frozenset({"update", "sign"})
    js_new = True
    js_class_name = "Sign"

    def __init__(self, algorithm: Any = undefined) -> None:
        self._alg = hash_algorithm(algorithm)
        self._chunks: list[bytes] | None = []

    def update(self, data: Any = undefined, enc: Any = undefined) -> None:
        if self._chunks is None:
            raise js_error("Error", "signature already finalized")
        self._chunks.append(input_bytes(data, enc, f"{self.js_class_name}.update"))

    def _message(self) -> bytes:
        if self._chunks is None:
            raise js_error("Error", "signature already finalized")
        msg = b"".join(self._chunks)
        self._chunks = None
        return msg

    def sign(self, key: Any = undefined, enc: Any = undefined, options: Any = undefined) -> Data | str:
        if type(key) is not PrivateKey:
            raise type_error("Sign.sign: expected a crypto.PrivateKey")
        if type(enc) is not str:
            enc = undefined  # sign(key, options): the options object in enc's place
        return output(sign_bytes(key.key, self._alg, self._message()), enc)


class Verify(Sign):
    __slots__ = ()
    js_get = frozenset({"update", "verify"})
    js_class_name = "Verify"

    def verify(self, key: Any = undefined, signature: Any = undefined, enc: Any = undefined,
               options: Any = undefined) -> bool:
        if type(key) is not PublicKey:
            raise type_error("Verify.verify: expected a crypto.PublicKey")
        if type(enc) is not str:
            enc = undefined
        sig = input_bytes(signature, enc, "Verify.verify signature")
        return verify_bytes(key.key, self._alg, self._message(), sig)
