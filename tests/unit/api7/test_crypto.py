"""crypto (needs `cryptography`): Sign/Verify, Cipher/Decipher and JWT against tokens
and keys made independently with the ``cryptography`` library."""
from __future__ import annotations

import base64
import hmac
import json
import os

import pytest

from pipyd.events import Data
from pipyd.js.values import JSObject, JSThrow


from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature  # noqa: E402
from cryptography.hazmat.primitives.ciphers import Cipher as PyCipher  # noqa: E402
from cryptography.hazmat.primitives.ciphers import algorithms, modes  # noqa: E402

from pipyd.api.crypto_cipher import Cipher, Decipher  # noqa: E402
from pipyd.api.crypto_jwt import JWK, JWT  # noqa: E402
from pipyd.api.crypto_keys import Certificate, PrivateKey, PublicKey  # noqa: E402
from pipyd.api.crypto_sign import Sign, Verify  # noqa: E402


def _pem_private(key):
    return serialization.private_bytes if False else key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()


def _pem_public(key):
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key():
    return ec.generate_private_key(ec.SECP256R1())


def test_sign_verifies_with_cryptography(rsa_key):
    s = Sign("sha256")
    s.update("payload")
    sig = s.sign(PrivateKey(_pem_private(rsa_key)))
    rsa_key.public_key().verify(sig.to_bytes(), b"payload", padding.PKCS1v15(), hashes.SHA256())


def test_verify_accepts_cryptography_signature(ec_key):
    sig = ec_key.sign(b"payload", ec.ECDSA(hashes.SHA256()))
    v = Verify("sha256")
    v.update("pay")
    v.update("load")
    assert v.verify(PublicKey(_pem_public(ec_key)), Data(sig)) is True
    v = Verify("sha256")
    v.update("other")
    assert v.verify(PublicKey(_pem_public(ec_key)), base64.b64encode(sig).decode(), "base64") is False


def test_sign_verify_round_trip_hex(ec_key):
    s = Sign("sha384")
    s.update("abc")
    sig = s.sign(PrivateKey(Data(_pem_private(ec_key).encode())), "hex")
    v = Verify("sha384")
    v.update("abc")
    assert v.verify(PublicKey(_pem_public(ec_key)), sig, "hex")


def test_bad_pem_throws():
    with pytest.raises(JSThrow):
        PrivateKey("not a key")


def test_cipher_cbc_matches_cryptography_and_round_trips():
    key, iv = os.urandom(16), os.urandom(16)
    plain = b"x" * 37
    c = Cipher("aes-128-cbc", JSObject(key=Data(key), iv=Data(iv)))
    out = c.update(Data(plain)).to_bytes() + c.final().to_bytes()
    # independent peer: PKCS#7 padded plaintext through cryptography's AES-CBC
    pad = 16 - len(plain) % 16
    enc = PyCipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    assert out == enc.update(plain + bytes([pad]) * pad) + enc.finalize()
    d = Decipher("aes-128-cbc", JSObject(key=Data(key), iv=Data(iv)))
    assert d.update(Data(out[:20])).to_bytes() + d.update(Data(out[20:])).to_bytes() + d.final().to_bytes() == plain


def test_cipher_gcm_round_trip_with_tag():
    key, iv = os.urandom(32), os.urandom(12)
    c = Cipher("aes-256-gcm", JSObject(key=Data(key), iv=Data(iv)))
    ct = c.update("secret message").to_bytes() + c.final().to_bytes()
    tag = c.getAuthTag()
    enc = PyCipher(algorithms.AES(key), modes.GCM(iv)).encryptor()
    assert ct == enc.update(b"secret message") + enc.finalize() and tag.to_bytes() == enc.tag
    d = Decipher("aes-256-gcm", JSObject(key=Data(key), iv=Data(iv)))
    d.setAuthTag(tag)
    assert (d.update(Data(ct)).to_bytes() + d.final().to_bytes()) == b"secret message"
    bad = Decipher("aes-256-gcm", JSObject(key=Data(key), iv=Data(iv), tag=Data(b"\0" * 16)))
    bad.update(Data(ct))
    with pytest.raises(JSThrow):
        bad.final()


def test_cipher_wrong_key_size():
    with pytest.raises(JSThrow):
        Cipher("aes-128-cbc", JSObject(key="short", iv="x" * 16))


# -- JWT ---------------------------------------------------------------------------------------

def b64u(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def make_jwt(alg: str, sign, payload=None) -> str:
    head = b64u(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    body = b64u(json.dumps(payload or {"sub": "alice", "n": 1}).encode())
    signing = f"{head}.{body}".encode()
    return f"{head}.{body}.{b64u(sign(signing))}"


def test_jwt_hs256():
    tok = make_jwt("HS256", lambda m: hmac.new(b"s3cret", m, "sha256").digest())
    jwt = JWT(tok)
    assert jwt.isValid and jwt.header["alg"] == "HS256" and jwt.payload["sub"] == "alice"
    assert jwt.verify("s3cret") is True
    assert jwt.verify(Data(b"s3cret")) is True
    assert jwt.verify("wrong") is False


def test_jwt_rs256(rsa_key):
    tok = make_jwt("RS256", lambda m: rsa_key.sign(m, padding.PKCS1v15(), hashes.SHA256()))
    jwt = JWT(tok)
    assert jwt.verify(PublicKey(_pem_public(rsa_key))) is True
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert jwt.verify(PublicKey(_pem_public(other))) is False
    with pytest.raises(JSThrow):  # [src] a PrivateKey is refused
        jwt.verify(PrivateKey(_pem_private(rsa_key)))


def test_jwt_es256_with_jwk(ec_key):
    def sign(m):
        r, s = decode_dss_signature(ec_key.sign(m, ec.ECDSA(hashes.SHA256())))
        return r.to_bytes(32, "big") + s.to_bytes(32, "big")
    jwt = JWT(make_jwt("ES256", sign))
    nums = ec_key.public_key().public_numbers()
    jwk = JWK(JSObject(kty="EC", crv="P-256", x=b64u(nums.x.to_bytes(32, "big")),
                       y=b64u(nums.y.to_bytes(32, "big"))))
    assert jwk.isValid
    assert jwt.verify(jwk) is True
    assert jwt.verify(PublicKey(_pem_public(ec_key))) is True


def test_jwt_rsa_jwk(rsa_key):
    jwt = JWT(make_jwt("RS256", lambda m: rsa_key.sign(m, padding.PKCS1v15(), hashes.SHA256())))
    n = rsa_key.public_key().public_numbers()
    jwk = JWK(JSObject(kty="RSA", n=b64u(n.n.to_bytes(256, "big")), e=b64u(n.e.to_bytes(3, "big"))))
    assert jwk.isValid and jwt.verify(jwk)


def test_jwt_invalid_forms():
    assert not JWT("abc").isValid
    assert not JWT("a.b.c").isValid
    assert JWT("a.b.c").verify("x") is False
    assert not JWK(JSObject(kty="EC", crv="nope")).isValid


def test_certificate_fields(rsa_key):
    import datetime
    from cryptography import x509
    from cryptography.x509.oid import NameOID
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "example.com"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Acme")])
    now = datetime.datetime(2024, 1, 1)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(rsa_key.public_key()).serial_number(1)
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("a.example.com")]), False)
            .sign(rsa_key, hashes.SHA256()))
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    c = Certificate(pem)
    assert c.subject["CN"] == "example.com" and c.issuer["O"] == "Acme"
    assert list(c.subjectAltNames) == ["a.example.com"]
    assert isinstance(PublicKey(pem).key, rsa.RSAPublicKey)
