"""URL and URLSearchParams: Pipy's lenient parser (reference §3.3)."""
from __future__ import annotations

import pytest

from pipyd.api.url import URL, URLSearchParams
from pipyd.js.values import JSObject


@pytest.mark.parametrize("url,base,expect", [
    ("http://a.com/p?x=1#h", None, dict(protocol="http:", host="a.com", hostname="a.com", port="80",
                                         pathname="/p", path="/p?x=1", search="?x=1", query="x=1",
                                         hash="#h", origin="http://a.com", href="http://a.com/p?x=1#h")),
    ("/a?b", None, dict(protocol="http:", host="", pathname="/a", search="?b", query="b", port="80")),
    ("https://h:8443", None, dict(port="8443", hostname="h", path="/", pathname="/")),
    ("https://h", None, dict(port="443")),
    ("ftp://h/f", None, dict(port="21")),
    ("gopher://h/", None, dict(port="70")),
    ("wss://h/", None, dict(port="443")),
    ("foo://h/", None, dict(port="", protocol="foo:")),
    ("http://u:pw@h.com:81/x", None, dict(auth="u:pw", username="u", password="pw", host="h.com:81",
                                          port="81", href="http://u:pw@h.com:81/x", origin="http://h.com:81")),
    ("http://[::1]:8080/x", None, dict(hostname="[::1]", port="8080")),
    ("c?d=1", "http://b.com/dir/page", dict(host="b.com", pathname="/dir/c", query="d=1")),
    ("/root", "https://b.com/dir/page", dict(host="b.com", pathname="/root", port="443")),
])
def test_url_fields(url, base, expect):
    u = URL(url) if base is None else URL(url, base)
    for k, v in expect.items():
        assert getattr(u, k) == v, k


def test_search_params_from_url_and_string():
    u = URL("/p?a=1&b=x+y&a=2&c=%2F")
    sp = u.searchParams
    assert sp.get("a") == "1" and list(sp.getAll("a")) == ["1", "2"]
    assert sp.get("b") == "x y" and sp.get("c") == "/" and sp.get("zz") is None
    assert dict(sp.toObject()) == {"a": ["1", "2"], "b": "x y", "c": "/"}
    sp.set("a", "9")
    assert list(sp.getAll("a")) == ["9"]
    assert sp.toString() == "a=9&b=x%20y&c=%2F"


def test_search_params_from_object():
    sp = URLSearchParams(JSObject(x="1", y=2))
    assert sp.get("y") == "2"
    assert URLSearchParams("?q=1").get("q") == "1"
