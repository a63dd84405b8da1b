"""``crypto.Hash`` and ``crypto.Hmac`` (reference §3.5): OpenSSL digests by name, through
hashlib/hmac (which use the same OpenSSL underneath).

``update(data, enc?)`` takes a Data or a string (decoded with ``enc``); ``digest(enc?)`` returns a
Data, or a string in ``enc`` (hex, base64, base64url). As with OpenSSL, a finished digest cannot
be updated again.
"""
from __future__ import annotations

import hashlib
import hmac
from typing import Any

from pipyd.api.crypto_common import digest_name, input_bytes, output
from pipyd.events import Data
from pipyd.js.values import HostObject, js_error, type_error, undefined


def _new_hash(alg: Any) -> Any:
    try:
        return hashlib.new(digest_name(alg))
    except ValueError:
        raise type_error(f"crypto.Hash: unknown algorithm {alg!r}") from None


class Hash(HostObject):
    __slots__ = ("_h", "_done")
    js_get = frozenset({"update", "digest"})
    js_new = True
    js_class_name = "Hash"

    def __init__(self, algorithm: Any = undefined) -> None:
        self._h = _new_hash(algorithm)
        self._done = False

    def update(self, data: Any = undefined, enc: Any = undefined) -> None:
        if self._done:
            raise js_error("Error", "digest already finalized")
        self._h.update(input_bytes(data, enc, "Hash.update"))

    def digest(self, enc: Any = undefined) -> Data | str:
        if self._done:
            raise js_error("Error", "digest already finalized")
        self._done = True
        return output(self._h.digest(), enc)


class Hmac(Hash):
    __slots__ = ()
    js_class_name = "Hmac"

    def __init__(self, algorithm: Any = undefined, key: Any = undefined) -> None:
        name = digest_name(algorithm)
        _new_hash(name)  # an unknown name gives the same error as Hash
        self._h = hmac.new(input_bytes(key, undefined, "crypto.Hmac key"), digestmod=name)
        self._done = False
