"""``crypto.PrivateKey``, ``crypto.PublicKey``, ``crypto.Certificate`` and
``crypto.CertificateChain`` (reference §3.5), loaded with the ``cryptography`` library.

Keys are PEM (a string or a Data). A PublicKey also loads from a certificate's PEM (its subject
key), which is how scripts often get one. ``{aliasType: 'sm2'}`` is accepted for Pipy's SM2
keys: ``cryptography`` loads SM2 keys as EC keys on the SM2 curve where OpenSSL allows it.
A Certificate's ``issuer``/``subject`` are objects keyed by the OpenSSL short attribute names
(``CN``, ``O``, ``C``…); ``subjectAltNames`` lists DNS names, IP addresses, URIs and e-mails.
"""
from __future__ import annotations

from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtensionOID

from pipyd.api.crypto_common import input_bytes
from pipyd.js.values import HostObject, JSArray, JSObject, js_error, undefined


def _pem(value: Any, what: str) -> bytes:
    return input_bytes(value, undefined, what)


class PrivateKey(HostObject):
    __slots__ = ("key",)
    js_new = True
    js_class_name = "PrivateKey"

    def __init__(self, pem: Any = undefined, options: Any = undefined) -> None:
        try:
            self.key = serialization.load_pem_private_key(_pem(pem, "crypto.PrivateKey"), None)
        except (ValueError, TypeError) as e:
            raise js_error("Error", f"crypto.PrivateKey: cannot read the key: {e}") from None


class PublicKey(HostObject):
    __slots__ = ("key",)
    js_new = True
    js_class_name = "PublicKey"

    def __init__(self, pem: Any = undefined, options: Any = undefined) -> None:
        raw = _pem(pem, "crypto.PublicKey")
        try:
            if b"-----BEGIN CERTIFICATE-----" in raw:
                self.key = x509.load_pem_x509_certificate(raw).public_key()
            else:
                self.key = serialization.load_pem_public_key(raw)
        except (ValueError, TypeError) as e:
            raise js_error("Error", f"crypto.PublicKey: cannot read the key: {e}") from None

    @classmethod
    def of(cls, key: Any) -> "PublicKey":
        """A PublicKey around a ``cryptography`` public key (for JWK)."""
        pk = cls.__new__(cls)
        pk.key = key
        return pk


def _name(name: x509.Name) -> JSObject:
    obj = JSObject()
    for attr in name:
        short = attr.rfc4514_attribute_name  # CN, O, OU, C, L, ST… or a dotted OID
        obj[short] = attr.value if isinstance(attr.value, str) else attr.value.hex()
    return obj


class Certificate(HostObject):
    __slots__ = ("cert",)
    js_get = frozenset({"issuer", "subject", "subjectAltNames"})
    js_new = True
    js_class_name = "Certificate"

    def __init__(self, pem: Any = undefined) -> None:
        try:
            self.cert = x509.load_pem_x509_certificate(_pem(pem, "crypto.Certificate"))
        except ValueError as e:
            raise js_error("Error", f"crypto.Certificate: cannot read the certificate: {e}") from None

    @classmethod
    def of(cls, cert: x509.Certificate) -> "Certificate":
        c = cls.__new__(cls)
        c.cert = cert
        return c

    @property
    def issuer(self) -> JSObject:
        return _name(self.cert.issuer)

    @property
    def subject(self) -> JSObject:
        return _name(self.cert.subject)

    @property
    def subjectAltNames(self) -> JSArray:  # noqa: N802 (Pipy's name)
        try:
            ext = self.cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
        except x509.ExtensionNotFound:
            return JSArray()
        return JSArray(str(g.value) for g in ext.value
                       if isinstance(g, (x509.DNSName, x509.IPAddress, x509.RFC822Name,
                                         x509.UniformResourceIdentifier)))


class CertificateChain(HostObject):
    """Several PEM certificates in one text (leaf first), as TLS options take them."""

    __slots__ = ("certs",)
    js_new = True
    js_class_name = "CertificateChain"

    def __init__(self, pem: Any = undefined) -> None:
        try:
            self.certs = x509.load_pem_x509_certificates(_pem(pem, "crypto.CertificateChain"))
        except ValueError as e:
            raise js_error("Error", f"crypto.CertificateChain: cannot read: {e}") from None

    def pem(self) -> bytes:
        """The chain as PEM, for an ssl.SSLContext."""
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.certs)
