"""``crypto.Cipher`` and ``crypto.Decipher`` (reference §3.5): symmetric ciphers by OpenSSL
name (``aes-128-cbc``, ``aes-256-gcm``, ``aes-192-ctr``, ``sm4-cbc``, ``chacha20``…).

``new Cipher(alg, {key, iv})``; ``update(Data|string) → Data``; ``final() → Data``. As OpenSSL's
EVP defaults, CBC and ECB use PKCS#7 padding (added by ``final`` when encrypting, checked and
removed when decrypting). For GCM, Pipy 0.70 exposes no tag; pipyd adds Node's
``getAuthTag()`` after ``final`` on a Cipher and ``setAuthTag(tag)`` (or ``{tag}`` in the
options) on a Decipher. Without a tag a GCM Decipher still decrypts in ``update`` and, as
OpenSSL does, fails in ``final``.
"""
from __future__ import annotations

from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import padding as sympadding
from cryptography.hazmat.primitives.ciphers import Cipher as _Cipher
from cryptography.hazmat.primitives.ciphers import algorithms, modes

from pipyd.api.crypto_common import input_bytes, option
from pipyd.events import Data
from pipyd.js.values import HostObject, js_error, type_error, undefined

try:  # cryptography >= 47 keeps the legacy modes and Camellia under "decrepit"
    from cryptography.hazmat.decrepit.ciphers import algorithms as _old_algorithms
    from cryptography.hazmat.decrepit.ciphers import modes as _old_modes
except ImportError:
    _old_algorithms, _old_modes = algorithms, modes  # type: ignore[assignment]

_MODES = {"cbc": modes.CBC, "ecb": modes.ECB, "ctr": modes.CTR, "gcm": modes.GCM,
          "cfb": _old_modes.CFB, "ofb": _old_modes.OFB, "cfb8": _old_modes.CFB8}
_BLOCK_CIPHERS = {"aes": algorithms.AES, "sm4": algorithms.SM4, "camellia": _old_algorithms.Camellia}


def _parse(alg: Any) -> tuple[Any, str, int]:
    """(algorithm class, mode name, key bits or 0) from ``aes-128-cbc``, ``sm4-cbc``…"""
    if type(alg) is not str:
        raise type_error("crypto.Cipher: expected an algorithm name")
    parts = alg.lower().split("-")
    if parts == ["chacha20"]:
        return algorithms.ChaCha20, "", 256
    if parts[0] in _BLOCK_CIPHERS and len(parts) in (2, 3) and parts[-1] in _MODES:
        bits = int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else 0
        return _BLOCK_CIPHERS[parts[0]], parts[-1], bits
    raise type_error(f"crypto.Cipher: unknown algorithm {alg!r}")


class Cipher(HostObject):
    __slots__ = ("_ctx", "_pad", "_mode", "_tag", "_done")
    js_get = frozenset({"update", "final", "getAuthTag"})
    js_new = True
    js_class_name = "Cipher"
    _encrypt = True

    def __init__(self, algorithm: Any = undefined, options: Any = undefined) -> None:
        cls, mode_name, bits = _parse(algorithm)
        key = input_bytes(option(options, "key"), undefined, "crypto.Cipher key")
        if bits and len(key) * 8 != bits:
            raise type_error(f"crypto.Cipher: key must be {bits // 8} bytes")
        iv_arg = option(options, "iv")
        iv = b"" if iv_arg is undefined else input_bytes(iv_arg, undefined, "crypto.Cipher iv")
        tag_arg = option(options, "tag")
        self._tag = None if tag_arg is undefined else input_bytes(tag_arg)
        self._mode = mode_name
        try:
            if cls is algorithms.ChaCha20:
                cipher = _Cipher(cls(key, iv), None)
            else:
                mode = None if mode_name == "ecb" else _MODES[mode_name](iv)
                cipher = _Cipher(cls(key), modes.ECB() if mode is None else mode)
        except ValueError as e:
            raise type_error(f"crypto.Cipher: {e}") from None
        self._ctx = cipher.encryptor() if self._encrypt else cipher.decryptor()
        block = cls.block_size if mode_name in ("cbc", "ecb") else 0
        pad = sympadding.PKCS7(block) if block else None
        self._pad = None if pad is None else (pad.padder() if self._encrypt else pad.unpadder())
        self._done = False

    def update(self, data: Any = undefined, enc: Any = undefined) -> Data:
        if self._done:
            raise js_error("Error", "cipher already finalized")
        b = input_bytes(data, enc, f"{self.js_class_name}.update")
        if self._pad is not None and self._encrypt:
            b = self._pad.update(b)
        out = self._ctx.update(b)
        if self._pad is not None and not self._encrypt:
            out = self._pad.update(out)
        return Data.from_bytes(out)

    def final(self) -> Data:
        if self._done:
            raise js_error("Error", "cipher already finalized")
        self._done = True
        try:
            return Data.from_bytes(self._finish())
        except (ValueError, InvalidTag) as e:
            raise js_error("Error", f"{self.js_class_name}.final: {e or 'bad decrypt'}") from None

    def _finish(self) -> bytes:
        out = b""
        if self._pad is not None:
            out = self._ctx.update(self._pad.finalize())
        out += self._ctx.finalize()
        if self._mode == "gcm":
            self._tag = self._ctx.tag
        return out

    def getAuthTag(self) -> Data:  # noqa: N802 (Node's name)
        if self._tag is None:
            raise js_error("Error", "Cipher.getAuthTag: no tag before final() of a GCM cipher")
        return Data.from_bytes(self._tag)


class Decipher(Cipher):
    __slots__ = ()
    js_get = frozenset({"update", "final", "setAuthTag"})
    js_class_name = "Decipher"
    _encrypt = False

    def setAuthTag(self, tag: Any = undefined) -> None:  # noqa: N802 (Node's name)
        self._tag = input_bytes(tag, undefined, "Decipher.setAuthTag")

    def _finish(self) -> bytes:
        if self._mode == "gcm":
            if self._tag is None:
                raise ValueError("bad decrypt (no authentication tag)")
            return self._ctx.finalize_with_tag(self._tag)
        out = self._ctx.finalize()
        if self._pad is not None:
            out = self._pad.update(out) + self._pad.finalize()
        return out
