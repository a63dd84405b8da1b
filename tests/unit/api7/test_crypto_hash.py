"""crypto.Hash and crypto.Hmac against hashlib/hmac (no `cryptography` needed)."""
from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from pipyd.api.crypto_hash import Hash, Hmac
from pipyd.events import Data
from pipyd.js.values import JSThrow


@pytest.mark.parametrize("alg", ["sha1", "sha256", "SHA512", "md5"])
def test_hash_matches_hashlib(alg):
    h = Hash(alg)
    h.update("hello ")
    h.update(Data(b"world"))
    h.update("21", "hex")
    want = hashlib.new(alg.lower(), b"hello world!")
    assert h.digest("hex") == want.hexdigest()
    h2 = Hash(alg)
    h2.update("x")
    assert h2.digest().to_bytes() == hashlib.new(alg.lower(), b"x").digest()


def test_hash_digest_twice_throws_and_unknown_alg():
    h = Hash("sha256")
    h.digest()
    with pytest.raises(JSThrow):
        h.digest()
    with pytest.raises(JSThrow):
        Hash("nope")


def test_hmac_matches_hmac():
    h = Hmac("sha256", "key")
    h.update("message")
    assert h.digest("base64") == base64.b64encode(hmac.new(b"key", b"message", "sha256").digest()).decode()
