"""Unit tests of acceptTLS, connectTLS and handleTLSClientHello (issue 7), and the test PKI
they share with tests/integration/test_tls.py: a CA, server leaves and a client certificate,
made with ``cryptography`` and written as PEM files."""
from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PEM = serialization.Encoding.PEM


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _cert(subject: str, key, issuer: str, issuer_key, ca: bool = False,
          sans: list[str] = (), client: bool = False) -> x509.Certificate:
    now = datetime.datetime.now(datetime.timezone.utc)
    b = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(_name(issuer))
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now - datetime.timedelta(days=1))
         .not_valid_after(now + datetime.timedelta(days=30))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if ca:
        b = b.add_extension(x509.KeyUsage(True, False, False, False, False, True, True,
                                          False, False), critical=True)
    else:
        usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
        b = b.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if sans:
        names = []
        for s in sans:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(s)))
            except ValueError:
                names.append(x509.DNSName(s))
        b = b.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def _key_pem(key) -> bytes:
    return key.private_bytes(PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


_CACHE: dict[str, dict[str, bytes]] = {}


def make_pki() -> dict[str, bytes]:
    """PEM bytes by file name: ca.pem, other-ca.pem; server leaves a.pem/a-key.pem
    (CN a.example, also localhost and 127.0.0.1), b.pem/b-key.pem (CN b.example);
    client.pem/client-key.pem (signed by the CA) and rogue.pem/rogue-key.pem (by other-ca).
    Made once per test process (key generation is the slow part)."""
    if "pki" in _CACHE:
        return _CACHE["pki"]
    ca_key, other_key = _key(), _key()
    ca = _cert("Test CA", ca_key, "Test CA", ca_key, ca=True)
    other = _cert("Other CA", other_key, "Other CA", other_key, ca=True)
    out = {"ca.pem": ca.public_bytes(PEM), "other-ca.pem": other.public_bytes(PEM)}
    leaves = [("a", "a.example", ["a.example", "localhost", "127.0.0.1"], "Test CA", ca_key, False),
              ("b", "b.example", ["b.example"], "Test CA", ca_key, False),
              ("client", "client", [], "Test CA", ca_key, True),
              ("rogue", "rogue", [], "Other CA", other_key, True)]
    for name, cn, sans, issuer, issuer_key, client in leaves:
        k = _key()
        c = _cert(cn, k, issuer, issuer_key, sans=sans, client=client)
        out[f"{name}.pem"] = c.public_bytes(PEM)
        out[f"{name}-key.pem"] = _key_pem(k)
    _CACHE["pki"] = out
    return out


def write_pki(directory: Path) -> dict[str, Path]:
    paths = {}
    for name, pem in make_pki().items():
        p = Path(directory) / name
        p.write_bytes(pem)
        paths[name] = p
    return paths
