"""The script-visible builtins of issue 7 (reference §3.3, §3.5, §3.6): ``crypto``, ``http``
(``http.File``), ``stats``, ``logging`` and the classes ``URL``, ``URLSearchParams``,
``Netmask``, ``XML``, ``Hessian``, ``DNS``. ``HOST_GLOBALS_7`` is merged into
``pipyd.api.host_globals()``.

``crypto`` needs the ``cryptography`` package (a project dependency); Hash and Hmac do not, so
without it ``crypto`` still offers those two rather than taking the whole daemon down.
"""
from __future__ import annotations

from pipyd.api.crypto_hash import Hash, Hmac
from pipyd.api.dns import DNS
from pipyd.api.hessian import Hessian
from pipyd.api.http_file import File
from pipyd.api.logging_api import BinaryLogger, JSONLogger, TextLogger
from pipyd.api.netmask import Netmask
from pipyd.api.stats import Counter, Gauge, Histogram
from pipyd.api.url import URL, URLSearchParams
from pipyd.api.xml import XML
from pipyd.js.values import JSObject


def _crypto() -> JSObject:
    ns = JSObject({"Hash": Hash, "Hmac": Hmac})
    try:
        from pipyd.api.crypto_cipher import Cipher, Decipher
        from pipyd.api.crypto_jwt import JWK, JWT
        from pipyd.api.crypto_keys import Certificate, CertificateChain, PrivateKey, PublicKey
        from pipyd.api.crypto_sign import Sign, Verify
    except ImportError:  # `cryptography` missing: see the module docstring
        return ns
    ns.update({
        "Sign": Sign, "Verify": Verify, "Cipher": Cipher, "Decipher": Decipher,
        "PrivateKey": PrivateKey, "PublicKey": PublicKey, "Certificate": Certificate,
        "CertificateChain": CertificateChain, "JWK": JWK, "JWT": JWT,
    })
    return ns


CRYPTO = _crypto()
HTTP = JSObject({"File": File})
STATS = JSObject({"Counter": Counter, "Gauge": Gauge, "Histogram": Histogram})
LOGGING = JSObject({"JSONLogger": JSONLogger, "TextLogger": TextLogger, "BinaryLogger": BinaryLogger})

HOST_GLOBALS_7: dict[str, object] = {
    "crypto": CRYPTO,
    "http": HTTP,
    "stats": STATS,
    "logging": LOGGING,
    "URL": URL,
    "URLSearchParams": URLSearchParams,
    "Netmask": Netmask,
    "XML": XML,
    "Hessian": Hessian,
    "DNS": DNS,
}
