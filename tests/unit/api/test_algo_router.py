"""algo.URLRouter: pattern forms, precedence, find() argument handling, invalid patterns."""
from __future__ import annotations

import pytest

from pipyd.api.algo import URLRouter
from pipyd.js.values import JSObject, JSThrow, undefined

RULES = JSObject({
    "/hi/*": "hi-prefix",
    "/hi/exact": "hi-exact",
    "/api/*": "api",
    "/api/v2/*": "api-v2",
    "/echo": "echo",
    "example.com/*": "example-all",
    "example.com/echo": "example-echo",
    "*.example.com/*": "any-sub",
    "*.a.example.com/*": "deeper-sub",
    "static.example.com:8080/img/*": "static-img",
})


@pytest.mark.parametrize("args, expected", [
    (("/hi",), "hi-prefix"),                      # /a/* includes /a itself
    (("/hi/",), "hi-prefix"),
    (("/hi/there/deep",), "hi-prefix"),
    (("/hix",), undefined),                       # but not /ax
    (("/hi/exact",), "hi-exact"),                 # exact beats prefix
    (("/hi/exact/more",), "hi-prefix"),
    (("/api/v2/x",), "api-v2"),                   # longer prefix beats shorter
    (("/api/v2",), "api-v2"),
    (("/api/v3",), "api"),
    (("/echo",), "echo"),
    (("/echo/",), undefined),                     # exact means exact
    (("/echo?x=1",), "echo"),                     # query ignored
    (("/nope",), undefined),
    (("localhost:8000", "/hi/x"), "hi-prefix"),   # host without rules falls to host-less
    (("example.com", "/echo"), "example-echo"),
    (("EXAMPLE.COM:80", "/echo"), "example-echo"),  # case and port ignored
    (("example.com", "/whatever"), "example-all"),
    (("example.com", "/hi/x"), "example-all"),    # the host's own rules come first
    (("b.example.com", "/x"), "any-sub"),
    (("x.y.example.com", "/x"), "any-sub"),
    (("z.a.example.com", "/x"), "deeper-sub"),    # longer wildcard first
    (("static.example.com", "/img/a.png"), "static-img"),
    (("static.example.com", "/other"), "any-sub"),  # host rules miss -> wildcard host
    (("badexample.com", "/x"), undefined),
    ((undefined, "/echo"), "echo"),               # null segments skipped
    ((None, "/hi", None), "hi-prefix"),
    (("example.com/echo",), "example-echo"),      # one joined segment
    ((), undefined),
])
def test_find(args, expected):
    assert URLRouter(RULES).find(*args) == expected


def test_root_prefix_and_add():
    r = URLRouter()
    assert r.find("/x") is undefined
    r.add("/*", "all")
    r.add("/x", "x")
    assert r.find("/x") == "x"
    assert r.find("/") == "all"
    assert r.find("h.com", "/y/z") == "all"
    r.add("/x", "x2")  # re-adding replaces
    assert r.find("/x") == "x2"


def test_values_are_any_js_value():
    v = JSObject(a=1)
    assert URLRouter(JSObject({"/v": v})).find("/v") is v


@pytest.mark.parametrize("pattern", ["", "example.com", "/a*", "/a/*/b", "/*/x", "*", "a.*.com/x",
                                     "*./x", "a..b/x", "*/x"])
def test_invalid_patterns_throw(pattern):
    with pytest.raises(JSThrow) as e:
        URLRouter(JSObject({pattern: 1}))
    assert "invalid URL pattern" in str(e.value)


def test_non_object_rules_throw():
    with pytest.raises(JSThrow):
        URLRouter("nope")


def test_found_answers_follow_a_later_add():
    """find() remembers answers per URL; add() must not leave a stale one behind."""
    from pipyd.api.algo_router import URLRouter
    from pipyd.js.values import JSObject
    r = URLRouter(JSObject({"/api/*": "old"}))
    assert r.find("/api/users") == "old"
    r.add("/api/users", "exact")
    assert r.find("/api/users") == "exact"
    assert r.find("/api/other") == "old"
