"""Shared pieces of the ``crypto`` namespace (reference §3.5): turning script arguments into
bytes and results into Data or encoded strings, and OpenSSL digest names as ``cryptography``
hash objects.

Pipy takes the OpenSSL names scripts know (``sha256``, ``SHA1``, ``sm3``…); case does not matter.
"""
from __future__ import annotations

from typing import Any

from pipyd.events import Data, _encode_text
from pipyd.js.values import JSArray, type_error, undefined


def input_bytes(value: Any, enc: Any = undefined, what: str = "crypto") -> bytes:
    """A Data's bytes, or a string decoded with ``enc`` (utf8 by default; hex, base64…)."""
    t = type(value)
    if t is Data:
        return value.to_bytes()
    if t is str:
        return _encode_text(value, enc)
    if t is bytes:
        return value
    if t is JSArray:
        return Data(value).to_bytes()
    raise type_error(f"{what}: expected a Data or a string")


def output(b: bytes, enc: Any = undefined) -> Data | str:
    """A result as a Data, or as a string when an encoding (hex, base64, base64url…) is given."""
    d = Data.from_bytes(b)
    if enc is undefined or enc is None:
        return d
    return d.toString(enc)


def option(options: Any, key: str) -> Any:
    if isinstance(options, dict):
        return options.get(key, undefined)
    return undefined


def digest_name(alg: Any) -> str:
    if type(alg) is not str or not alg:
        raise type_error("crypto: expected an algorithm name")
    return alg.lower().replace("_", "-")


def hash_algorithm(alg: Any) -> Any:
    """``cryptography`` HashAlgorithm instance for an OpenSSL digest name."""
    from cryptography.hazmat.primitives import hashes
    name = digest_name(alg)
    table = {
        "md5": hashes.MD5, "sha1": hashes.SHA1, "sha224": hashes.SHA224, "sha256": hashes.SHA256,
        "sha384": hashes.SHA384, "sha512": hashes.SHA512, "sha512-224": hashes.SHA512_224,
        "sha512-256": hashes.SHA512_256, "sha3-224": hashes.SHA3_224, "sha3-256": hashes.SHA3_256,
        "sha3-384": hashes.SHA3_384, "sha3-512": hashes.SHA3_512, "sm3": hashes.SM3,
    }
    cls = table.get(name)
    if cls is None:
        raise type_error(f"crypto: unknown digest algorithm {alg!r}")
    return cls()
