"""Stream-log controls in process (streamlog.md §12): accounts and keys, permissions, public
streams, JWTs, signed substream URLs, EventSource tokens, rate limits, blocklists, splice."""
from __future__ import annotations

import asyncio
import base64
import json
import time

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from pipyd.streamlog.http_api import Request, StreamLogAPI
from pipyd.streamlog.registry import open_store

from . import run_fresh

ADMIN = {"authorization": "Bearer root"}


run = run_fresh


async def call(api, method, path, body=b"", headers=None):
    if type(body) is not bytes:
        body = json.dumps(body).encode()
    res = await api.handle(Request(method, path, dict(headers or {}), body))
    try:
        data = json.loads(res.body) if res.body else None
    except ValueError:
        data = res.body.decode()
    return res.status, res.headers, data


def bearer(key):
    return {"authorization": f"Bearer {key}"}


def b64(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def jwt(private, alg, claims, kid=None):
    head = {"alg": alg, "typ": "JWT", **({"kid": kid} if kid else {})}
    signing = (b64(json.dumps(head).encode()) + "." + b64(json.dumps(claims).encode())).encode()
    if alg == "ES256":
        r, s = decode_dss_signature(private.sign(signing, ec.ECDSA(hashes.SHA256())))
        sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    else:
        sig = private.sign(signing, padding.PKCS1v15(), hashes.SHA256())
    return signing.decode() + "." + b64(sig)


def pem(private):
    return private.public_key().public_bytes(serialization.Encoding.PEM,
                                             serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def new_api(tmp_path, **options):
    store = open_store("sqlite", directory=str(tmp_path))
    return StreamLogAPI(store, {"adminKey": "root", **options}), store


async def account_with_key(api, acct, permissions=None):
    assert (await call(api, "PUT", f"/pipet/accounts/{acct}", {}, ADMIN))[0] == 201
    body = {} if permissions is None else {"permissions": permissions}
    st, _, d = await call(api, "POST", f"/pipet/accounts/{acct}/keys", body, ADMIN)
    assert st == 201 and d["key"].startswith("sl_")
    return d["key"], d["id"]


def test_accounts_keys_and_permissions(tmp_path):
    async def main():
        api, store = new_api(tmp_path)
        assert (await call(api, "POST", "/open/s", b"x"))[0] == 201   # unmanaged: open
        assert (await call(api, "PUT", "/pipet/accounts/eric", {}))[0] == 401
        key, kid = await account_with_key(api, "eric")
        st, h, d = await call(api, "POST", "/eric/s", b"x")
        assert st == 401 and d["error"] == "authentication required" and "www-authenticate" in h
        assert (await call(api, "POST", "/eric/s", b"x", bearer("wrong")))[0] == 403
        assert (await call(api, "POST", "/eric/s", b"x", bearer(key)))[0] == 201
        assert (await call(api, "GET", "/eric/s[0]"))[0] == 401          # reads are private
        assert (await call(api, "GET", "/eric/s[0]", headers=bearer(key)))[2] == "x"
        # a read-only key: no write, no execute (reducers, settings)
        st, _, d = await call(api, "POST", "/pipet/accounts/eric/keys", {"permissions": ["read"]},
                              bearer(key))
        ro = d["key"]
        assert (await call(api, "GET", "/eric/s.length", headers=bearer(ro)))[0] == 200
        st, _, d = await call(api, "POST", "/eric/s", b"x", bearer(ro))
        assert st == 403 and d["detail"]["permission"] == "write"
        assert (await call(api, "PUT", "/eric/s.count", b"(s = 0) => s + 1", bearer(ro)))[0] == 403
        assert (await call(api, "PUT", "/eric/s.count", b"(s = 0) => s + 1", bearer(key)))[0] < 300
        # another account's key is no use here; the account view hides key material
        other, _ = await account_with_key(api, "bob")
        assert (await call(api, "POST", "/eric/s", b"x", bearer(other)))[0] == 403
        st, _, d = await call(api, "GET", "/pipet/accounts/eric", headers=bearer(key))
        assert st == 200 and {k["id"] for k in d["keys"]} >= {kid} and "sl_" not in json.dumps(d)
        assert (await call(api, "GET", "/pipet/accounts/eric", headers=bearer(other)))[0] == 403
        # revoking a key takes effect at once
        assert (await call(api, "DELETE", f"/pipet/accounts/eric/keys/{kid}", b"", ADMIN))[0] == 200
        assert (await call(api, "POST", "/eric/s", b"x", bearer(key)))[0] == 403
        # the account's own events stream is private to it
        assert (await call(api, "GET", "/pipet/events(bob)"))[0] == 401
        assert (await call(api, "GET", "/pipet/events(bob)", headers=bearer(other)))[0] == 200
        await store.close()
    run(main())


def test_config_survives_a_new_api(tmp_path):
    async def main():
        api, store = new_api(tmp_path)
        key, _ = await account_with_key(api, "eric")
        api2 = StreamLogAPI(store, {})       # another worker/restart: same meta stream
        assert (await call(api2, "POST", "/eric/s", b"x"))[0] == 401
        assert (await call(api2, "POST", "/eric/s", b"x", bearer(key)))[0] == 201
        await store.close()
    run(main())


def test_public_streams_and_members(tmp_path):
    async def main():
        api, store = new_api(tmp_path)
        key, _ = await account_with_key(api, "eric")
        bob, _ = await account_with_key(api, "bob")
        st, _, d = await call(api, "PUT", "/eric/pub/controls", {"public": "bogus"}, bearer(key))
        assert st == 400 and set(d) == {"error", "detail"}
        assert (await call(api, "PUT", "/eric/pub/controls", {"public": "read"}, bearer(bob)))[0] == 403
        assert (await call(api, "PUT", "/eric/pub/controls",
                           {"public": "read", "members": {"bob": ["write"]}}, bearer(key)))[0] == 200
        assert (await call(api, "POST", "/eric/pub", b"x"))[0] == 401
        assert (await call(api, "POST", "/eric/pub", b"y", bearer(bob)))[0] == 201
        assert (await call(api, "GET", "/eric/pub[0]"))[2] == "y"
        assert (await call(api, "PUT", "/eric/pub.r", b"(s = 0) => s + 1", bearer(bob)))[0] == 403
        st, _, d = await call(api, "GET", "/eric/pub/controls", headers=bearer(key))
        assert d["controls"]["public"] == "read"
        assert (await call(api, "PUT", "/eric/w/controls", {"public": "write"}, bearer(key)))[0] == 200
        assert (await call(api, "POST", "/eric/w", b"anon"))[0] == 201
        assert (await call(api, "GET", "/eric/w[0]"))[0] == 401
        await store.close()
    run(main())


def test_jwt_es256_and_rs256(tmp_path):
    async def main():
        api, store = new_api(tmp_path)
        key, _ = await account_with_key(api, "eric")
        ecp = ec.generate_private_key(ec.SECP256R1())
        rsp = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        assert (await call(api, "PUT", "/pipet/accounts/eric/publicKeys/e1", pem(ecp).encode(),
                           bearer(key)))[0] == 201
        assert (await call(api, "PUT", "/pipet/accounts/eric/publicKeys/r1", {"pem": pem(rsp)},
                           bearer(key)))[0] == 201
        exp = int(time.time()) + 60
        for tok in (jwt(ecp, "ES256", {"sub": "eric", "exp": exp}, "e1"),
                    jwt(rsp, "RS256", {"sub": "eric", "exp": exp})):
            assert (await call(api, "POST", "/eric/j", b"x", bearer(tok)))[0] == 201
        narrow = jwt(ecp, "ES256", {"sub": "eric", "exp": exp, "perms": ["read"]})
        assert (await call(api, "POST", "/eric/j", b"x", bearer(narrow)))[0] == 403
        assert (await call(api, "GET", "/eric/j.length", headers=bearer(narrow)))[2] == 2
        expired = jwt(ecp, "ES256", {"sub": "eric", "exp": int(time.time()) - 5})
        assert (await call(api, "POST", "/eric/j", b"x", bearer(expired)))[0] == 401
        forged = jwt(ec.generate_private_key(ec.SECP256R1()), "ES256", {"sub": "eric", "exp": exp})
        assert (await call(api, "POST", "/eric/j", b"x", bearer(forged)))[0] == 403
        assert (await call(api, "POST", "/eric/j", b"x",
                           bearer(jwt(ecp, "ES256", {"sub": "eric"}))))[0] == 403  # no exp
        st, _, d = await call(api, "PUT", "/pipet/accounts/eric/publicKeys/bad", b"nope", bearer(key))
        assert st == 400
        await store.close()
    run(main())


def test_signed_substream_urls(tmp_path):
    async def main():
        api, store = new_api(tmp_path)
        key, _ = await account_with_key(api, "eric")
        assert (await call(api, "PUT", "/eric/f", {"factory": True}, bearer(key)))[0] == 201
        st, _, d = await call(api, "POST", "/eric/f/controls/sign", {"substream": "'alice'"}, bearer(key))
        assert st == 201 and d["permissions"] == ["write"]
        signed = d["url"]
        assert (await call(api, "POST", signed, b"hello"))[0] == 201
        path, _, query = signed.partition("?")
        assert (await call(api, "POST", "/eric/f('mallory')?" + query, b"x"))[0] == 403
        assert (await call(api, "GET", signed.replace("?", "[0]?", 1)))[0] == 401  # write only
        tampered = signed.replace("perm=write", "perm=read,write")
        assert (await call(api, "POST", tampered, b"x"))[0] == 403
        st, _, d = await call(api, "POST", "/eric/f/controls/sign",
                              {"substream": 7, "ttl": 1}, bearer(key))
        await asyncio.sleep(1.2)
        assert (await call(api, "POST", d["url"], b"late"))[0] == 401
        assert (await call(api, "GET", "/eric/f('alice')[0]", headers=bearer(key)))[2] == "hello"
        await store.close()
    run(main())


def test_eventsource_token_only_for_sse_gets(tmp_path):
    async def main():
        api, store = new_api(tmp_path)
        key, _ = await account_with_key(api, "eric")
        await call(api, "POST", "/eric/t", b"x", bearer(key))
        st, _, d = await call(api, "POST", "/pipet/tokens", {"stream": "/eric/t", "ttl": 60},
                              bearer(key))
        assert st == 201 and d["exp"] > time.time()
        tok = d["token"]
        sse = {"accept": "text/event-stream"}
        st, h, _ = await call(api, "GET", f"/eric/t?token={tok}", headers={"accept": "text/plain"})
        assert st == 401
        assert (await call(api, "POST", f"/eric/t?token={tok}", b"x"))[0] == 401
        res = await api.handle(Request("GET", f"/eric/t?token={tok}", sse))
        assert res.status == 200 and type(res).__name__ == "SSEResponse"
        res = await api.handle(Request("GET", f"/eric/other?token={tok}", sse))
        assert res.status == 403      # bound to its stream
        res = await api.handle(Request("GET", f"/eric/t?token={tok[:-2]}xx", sse))
        assert res.status == 403
        await store.close()
    run(main())


def test_rate_limits_per_stream_and_substream(tmp_path):
    async def main():
        api, store = new_api(tmp_path)
        key, _ = await account_with_key(api, "eric")
        auth = bearer(key)
        await call(api, "PUT", "/eric/r/controls",
                   {"rateLimit": {"rate": 0.01, "burst": 4},
                    "substreamRateLimit": {"rate": 0.01, "burst": 2}}, auth)
        codes = [(await call(api, "POST", "/eric/r('a')", b"x", auth))[0] for _ in range(3)]
        assert codes == [201, 201, 429]
        st, h, d = await call(api, "POST", "/eric/r('a')", b"x", auth)
        assert st == 429 and int(h["retry-after"]) >= 1 and d["error"] == "rate limited"
        codes = [(await call(api, "POST", "/eric/r('b')", b"x", auth))[0] for _ in range(3)]
        assert codes == [201, 201, 429]       # the stream bucket (4) is now empty too
        assert (await call(api, "POST", "/eric/r('c')", b"x", auth))[0] == 429
        assert await store.length('eric/r("a")') == 2
        await store.close()
    run(main())


def test_blocklists_discard_with_202(tmp_path):
    async def main():
        api, store = new_api(tmp_path)
        key, _ = await account_with_key(api, "eric")
        await call(api, "PUT", "/eric/b/controls",
                   {"public": "write", "blocklist": {"referers": ["*.spam.example"],
                                                     "arguments": ["'bad'", 13]}}, bearer(key))
        st, h, d = await call(api, "POST", "/eric/b", b"x",
                              {"referer": "https://www.SPAM.example/page"})
        assert st == 202 and "event-index" not in h and "location" not in h
        assert (await call(api, "POST", "/eric/b('bad')", b"x"))[0] == 202
        assert (await call(api, "POST", "/eric/b(13)", b"x"))[0] == 202
        assert (await call(api, "POST", "/eric/b('good')", b"x"))[0] == 201
        assert (await call(api, "POST", "/eric/b", b"x", {"referer": "https://ok.example/"}))[0] == 201
        assert await store.length("eric/b") == 1 and await store.length('eric/b("bad")') == 0
        await store.close()
    run(main())


def test_static_options_and_legacy_api_keys(tmp_path):
    async def main():
        ecp = ec.generate_private_key(ec.SECP256R1())
        api, store = new_api(tmp_path, apiKeys={"legacy": "lk"}, accounts={
            "st": {"keys": [{"key": "ro", "permissions": ["read"]}, "rw"],
                   "publicKeys": [{"kid": "k", "pem": pem(ecp)}]}},
            streams={"/st/pub": {"public": "read"}})
        assert (await call(api, "POST", "/legacy/s", b"x"))[0] == 401
        assert (await call(api, "POST", "/legacy/s", b"x", bearer("lk")))[0] == 201
        assert (await call(api, "POST", "/st/pub", b"x", bearer("ro")))[0] == 403
        assert (await call(api, "POST", "/st/pub", b"x", bearer("rw")))[0] == 201
        assert (await call(api, "GET", "/st/pub[0]"))[0] == 200
        tok = jwt(ecp, "ES256", {"sub": "st", "exp": int(time.time()) + 60})
        assert (await call(api, "POST", "/st/x", b"x", bearer(tok)))[0] == 201
        await store.close()
    run(main())


def test_splice_needs_a_credential_and_an_existing_stream(tmp_path):
    async def main():
        api, store = new_api(tmp_path)
        key, _ = await account_with_key(api, "eric")
        assert (await call(api, "POST", "/eric/s/splice", [], ))[0] == 401
        st, _, d = await call(api, "POST", "/eric/s/splice", [], bearer(key))
        assert st == 404 and set(d) >= {"error"}
        await store.close()
    run(main())


def test_open_accounts_ignore_credentials_and_deleted_accounts_stay_closed(tmp_path):
    async def main():
        api, store = new_api(tmp_path)
        assert (await call(api, "POST", "/open/s", b"x", bearer("whatever")))[0] == 201
        assert (await call(api, "PUT", "/open/s/controls",
                           {"blocklist": {"arguments": ["'b'"]}}))[0] == 200
        assert (await call(api, "POST", "/open/s('b')", b"x"))[0] == 202
        key, _ = await account_with_key(api, "gone")
        assert (await call(api, "DELETE", "/pipet/accounts/gone", b"", ADMIN))[0] == 200
        assert (await call(api, "POST", "/gone/s", b"x"))[0] == 401
        assert (await call(api, "POST", "/gone/s", b"x", bearer(key)))[0] == 403
        assert (await call(api, "POST", "/gone/s", b"x", ADMIN))[0] == 201
        assert (await call(api, "GET", "/pipet/accounts/gone", headers=ADMIN))[0] == 404
        assert (await call(api, "PUT", "/pipet/accounts/gone", {}, ADMIN))[0] == 201
        await store.close()
    run(main())


def test_pipe_permissions(tmp_path):
    async def main():
        api, store = new_api(tmp_path)
        eric, _ = await account_with_key(api, "eric")
        bob, _ = await account_with_key(api, "bob")
        st, _, d = await call(api, "POST", "/pipet/accounts/bob/keys", {"permissions": ["write"]},
                              bearer(bob))
        bob_w = d["key"]
        await call(api, "POST", "/eric/src", b"x", bearer(eric))
        assert (await call(api, "PUT", "/eric/src/pipe/bob/dst", {}, bearer(bob)))[0] == 403
        await call(api, "PUT", "/eric/src/controls", {"public": "read"}, bearer(eric))
        assert (await call(api, "PUT", "/eric/src/pipe/bob/dst", {}, bearer(bob_w)))[0] == 403
        assert (await call(api, "PUT", "/eric/src/pipe/bob/dst", {}, bearer(bob)))[0] == 201
        assert (await call(api, "PUT", "/eric/src/pipe/eric/x", {}, bearer(bob)))[0] == 403
        await store.close()
    run(main())
