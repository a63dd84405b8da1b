"""§12 controls over a real pipyd: accounts managed with the bootstrap admin key, keys, public
streams, JWT, signed substream URLs, EventSource ``?token=``, rate limits, blocklists."""
from __future__ import annotations

import base64
import http.client
import json
import time

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from ..daemon import Daemon, free_port
from .conftest import SSEClient

SERVER = """
pipy()
  .listen({port}).demuxHTTP().to($=>$.serveStreamLog({{
    store: '{store}', heartbeat: 0.3, adminKey: 'root',
    streams: {{ '/st/news': {{ public: 'read' }} }},
    accounts: {{ st: {{ keys: ['stkey'] }} }} }}))
"""


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    base = tmp_path_factory.mktemp("controls")
    port = free_port()
    (base / "main.js").write_text(SERVER.format(port=port, store=str(base / "data")))
    d = Daemon(base, "main.js").start([port])
    yield port
    d.stop()


def req(port, method, path, body=b"", headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        if type(body) is not bytes:
            body = json.dumps(body).encode()
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        data = r.read()
        try:
            data = json.loads(data) if data else None
        except ValueError:
            data = data.decode()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        conn.close()


def auth(key):
    return {"Authorization": f"Bearer {key}"}


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def eric(srv):
    assert req(srv, "PUT", "/pipet/accounts/eric", {}, auth("root"))[0] == 201
    st, _, d = req(srv, "POST", "/pipet/accounts/eric/keys", {}, auth("root"))
    assert st == 201
    return d["key"]


def test_admin_bootstrap_and_keys(srv, eric):
    st, h, d = req(srv, "PUT", "/pipet/accounts/bob", {})
    assert st == 401 and set(d) == {"error", "detail"} and h["content-type"] == "application/json"
    assert req(srv, "PUT", "/pipet/accounts/bob", {}, auth(eric))[0] == 403
    st, h, d = req(srv, "POST", "/eric/a", b"x")
    assert st == 401 and "bearer" in h["www-authenticate"].lower()
    assert req(srv, "POST", "/eric/a", b"x", auth("nope"))[0] == 403
    assert req(srv, "POST", "/eric/a", b"x", auth(eric))[0] == 201
    assert req(srv, "GET", "/eric/a[0]")[0] == 401
    assert req(srv, "GET", "/eric/a[0]", headers=auth(eric))[2] == "x"


def test_static_account_and_public_stream(srv):
    assert req(srv, "POST", "/st/news", b"hi")[0] == 401
    assert req(srv, "POST", "/st/news", b"hi", auth("stkey"))[0] == 201
    assert req(srv, "GET", "/st/news[0]")[2] == "hi"          # public read
    assert req(srv, "GET", "/st/other")[0] == 401


def test_jwt_es256(srv, eric):
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    assert req(srv, "PUT", "/pipet/accounts/eric/publicKeys/k1", pem, auth(eric))[0] == 201
    signing = (b64(json.dumps({"alg": "ES256", "kid": "k1"}).encode()) + "."
               + b64(json.dumps({"sub": "eric", "exp": int(time.time()) + 60}).encode()))
    r, s = decode_dss_signature(key.sign(signing.encode(), ec.ECDSA(hashes.SHA256())))
    token = signing + "." + b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
    assert req(srv, "POST", "/eric/jwt", b"x", auth(token))[0] == 201
    assert req(srv, "POST", "/eric/jwt", b"x", auth(token[:-4] + "AAAA"))[0] == 403


def test_signed_substream_url(srv, eric):
    assert req(srv, "PUT", "/eric/inbox", {"factory": True}, auth(eric))[0] == 201
    st, _, d = req(srv, "POST", "/eric/inbox/controls/sign", {"substream": "'u1'"}, auth(eric))
    assert st == 201
    st, h, _ = req(srv, "POST", d["url"], b"from u1")
    assert st == 201 and h["event-index"] == "0"
    assert req(srv, "POST", "/eric/inbox('u2')?" + d["url"].split("?")[1], b"x")[0] == 403


def test_eventsource_token(srv, eric):
    req(srv, "POST", "/eric/live", b"0", auth(eric))
    st, _, d = req(srv, "POST", "/pipet/tokens", {"stream": "/eric/live", "ttl": 30}, auth(eric))
    assert st == 201
    assert req(srv, "GET", f"/eric/live?token={d['token']}")[0] == 401   # not an SSE GET
    c = SSEClient(srv, f"/eric/live?token={d['token']}", {})
    try:
        assert c.status == 200
        req(srv, "POST", "/eric/live", b"1", auth(eric))
        frames = c.frames(1)
        assert frames and frames[0]["id"] == "1"
    finally:
        c.close()
    c = SSEClient(srv, "/eric/live", {})
    try:
        assert c.status == 401
    finally:
        c.close()


def test_rate_limit_and_blocklist(srv, eric):
    assert req(srv, "PUT", "/eric/rl/controls", {
        "public": "write", "rateLimit": {"rate": 0.01, "burst": 2},
        "blocklist": {"referers": ["*.spam.test"], "arguments": ["'x'"]}}, auth(eric))[0] == 200
    codes = [req(srv, "POST", "/eric/rl", b"x")[0] for _ in range(3)]
    assert codes == [201, 201, 429]
    st, h, d = req(srv, "POST", "/eric/rl", b"x")
    assert st == 429 and int(h["retry-after"]) >= 1 and d["error"] == "rate limited"
    st, h, _ = req(srv, "POST", "/eric/rl", b"x", {"Referer": "http://a.spam.test/"})
    assert st == 202 and "event-index" not in h
    assert req(srv, "HEAD", "/eric/rl", headers=auth(eric))[1]["stream-length"] == "2"
