"""The §3 stream URL grammar: tables of URL → parsed fields, and of URL → 400 message."""
from __future__ import annotations

import math

import pytest

from pipyd.streamlog.store import BadRequest, Selector
from pipyd.streamlog.urls import UNDEFINED, Selection, parse_stream_url

OK = [
    # url, expected fields (others default), key
    ("/eric/events", {}, "eric/events"),
    ("/eric/events/", {}, "eric/events"),
    ("/eric/events('x')", {"substream": ("literal", "x")}, 'eric/events("x")'),
    ('/eric/events("x")', {"substream": ("literal", "x")}, 'eric/events("x")'),
    ("/eric/events%28%27x%27%29", {"substream": ("literal", "x")}, 'eric/events("x")'),
    ("/eric/events('a%2Fb')", {"substream": ("literal", "a/b")}, 'eric/events("a/b")'),
    ("/eric/events(')')", {"substream": ("literal", ")")}, 'eric/events(")")'),
    ("/eric/events(1)", {"substream": ("literal", 1)}, "eric/events(1)"),
    ("/eric/events(1.0)", {"substream": ("literal", 1.0)}, "eric/events(1)"),
    ("/eric/events(-2.5)", {"substream": ("literal", -2.5)}, "eric/events(-2.5)"),
    ("/eric/events(true)", {"substream": ("literal", True)}, "eric/events(true)"),
    ("/eric/events(null)", {"substream": ("literal", None)}, "eric/events(null)"),
    ("/eric/events(bob)", {"substream": ("account", "bob")}, "eric/events(bob)"),
    ("/a/s:click", {"event_type": "click"}, "a/s"),
    ("/a/s%3Aclick", {"event_type": "click"}, "a/s"),
    ("/a/s('x'):click[2]", {"substream": ("literal", "x"), "event_type": "click",
                           "selection": Selection("index", index=2)}, 'a/s("x")'),
    ("/a/s[-1]", {"selection": Selection("index", index=-1)}, "a/s"),
    ("/a/s%5B0%3A10%5D", {"selection": Selection("range", start=0, end=10)}, "a/s"),
    ("/a/s[5:]", {"selection": Selection("range", start=5)}, "a/s"),
    ("/a/s[:-2]", {"selection": Selection("range", end=-2)}, "a/s"),
    ("/a/s[:]", {"selection": Selection("range")}, "a/s"),
    ("/a/s.length", {"selection": Selection("length")}, "a/s"),
    ("/a/s:t.length", {"event_type": "t", "selection": Selection("length")}, "a/s"),
    ("/a/s.counter", {"reducer": "counter"}, "a/s"),
    ("/a/s('x').counter", {"substream": ("literal", "x"), "reducer": "counter"}, 'a/s("x")'),
    ("/a/s.counter.Hello+1", {"reducer": "counter", "expr": ".Hello+1"}, "a/s"),
    ("/a/s.my-reducer", {"reducer": "my-reducer"}, "a/s"),
    ("/a/s.lengthy", {"reducer": "lengthy"}, "a/s"),
    ("/a/s:order.json", {"event_type": "order", "type_format": "json"}, "a/s"),
    ("/a/s:order.ts", {"event_type": "order", "type_format": "ts"}, "a/s"),
    ("/a/s.json", {"reducer": "json"}, "a/s"),
    ("/a/s/logs", {"logs": True}, "a/s/logs"),
    ("/a/s('x')/logs[-5:]", {"logs": True, "substream": ("literal", "x"),
                            "selection": Selection("range", start=-5)}, 'a/s("x")/logs'),
    ("/a/s/pipe/b/t", {"resource": "pipe", "pipe_to": ("b/t")}, "a/s"),
    ("/a/s/pipe/b/t('q')", {"resource": "pipe", "pipe_to": 'b/t("q")'}, "a/s"),
    ("/a/s/logs/pipe/b/t", {"resource": "pipe", "logs": True, "pipe_to": "b/t"}, "a/s/logs"),
    ("/a/s/webhooks", {"resource": "webhooks"}, "a/s"),
    ("/a/s/webhooks/hook-1", {"resource": "webhooks", "webhook": "hook-1"}, "a/s"),
    ("/a/s/splice", {"resource": "splice"}, "a/s"),
    ("/a/s/splice/42/approve", {"resource": "splice", "splice_id": "42",
                                "splice_action": "approve"}, "a/s"),
    ("/a/s/splice/7/reject", {"resource": "splice", "splice_id": "7",
                              "splice_action": "reject"}, "a/s"),
    ("/pipet/cron('0%209%20*%20*%201')", {"substream": ("literal", "0 9 * * 1")},
     'pipet/cron("0 9 * * 1")'),
]


@pytest.mark.parametrize("url, fields, key", OK, ids=[u for u, _, _ in OK])
def test_parse(url, fields, key):
    u = parse_stream_url(url)
    got = {}
    for name in fields:
        v = getattr(u, name)
        if name == "substream":
            v = (v.kind, v.value)
        elif name == "expr":
            v = v.source
        elif name == "pipe_to":
            v = v.key
        got[name] = v
    assert got == fields
    assert u.key == key
    defaults = {"substream": None, "event_type": None, "selection": None, "reducer": None,
                "expr": None, "type_format": None, "resource": "stream", "logs": False,
                "pipe_to": None, "webhook": None, "splice_id": None, "splice_action": None}
    for name, value in defaults.items():
        if name not in fields:
            assert getattr(u, name) == value, name


def test_account_only():
    u = parse_stream_url("/eric")
    assert (u.account, u.resource, u.stream) == ("eric", "account", None)


BAD = [
    ("/", "needs /{account}/{stream}"),
    ("/a b/s", "invalid account name"),
    ("/a/" + "s" * 65, "at most 64 characters"),
    ("/a/s.r" + "x" * 64, "at most 64 characters"),
    ("/a/this", "forbidden"),
    ("/a/dispatch", "forbidden"),
    ("/a/request('x')", "forbidden"),
    ("/a/s(foo())", "substream argument is a string, number"),
    ("/a/s([1])", "substream argument"),
    ("/a/s(x.y)", "substream argument"),
    ("/a/s('x'", "unclosed '('"),
    ("/a/s(", "unclosed '('"),
    ("/a/s()", "exactly one expression"),
    ("/a/s(1;2)", "exactly one expression"),
    ("/a/s(-'x')", "substream argument"),
    ("/a/s:", "event type must be 1 to 100"),
    ("/a/s:" + "t" * 101, "unexpected"),
    ("/a/s[", "unclosed '['"),
    ("/a/s[x]", "integer bounds"),
    ("/a/s[1:2:3]", "integer bounds"),
    ("/a/s[]", "integer bounds"),
    ("/a/s.length.x", "'.length' ends"),
    ("/a/s.", "reducer name"),
    ("/a/s.c.", "not a valid expression"),
    ("/a/s.c.x=1", "AssignmentExpression is not allowed"),
    ("/a/s.c(1)", "CallExpression is not allowed"),
    ("/a/s.c[x]", "[key] must be a string or number literal"),
    ("/a/s.c+x", "x is not allowed"),
    ("/a/s.c%3Bx", "exactly one expression"),
    ("/a/s.c%26%26x", "LogicalExpression is not allowed"),
    ("/a/s.c?.x", "not allowed"),
    ("/a/s.c%25x", "BinaryExpression is not allowed"),
    ("/a/s.c+`x`", "TemplateLiteral is not allowed"),
    ("/a/s.c+%2Fr%2F", "Literal is not allowed"),
    ("/a/s.c." + "x" * 600, "at most 512"),
    ("/a/s?x", "unexpected '?'"),
    ("/a/s/bogus", "unknown sub-resource"),
    ("/a/s/pipe/b", "unknown sub-resource"),
    ("/a/s/pipe/b/t:x", "pipe destination"),
    ("/a/s[1]/logs", "suffixes of a log stream go after /logs"),
    ("/a/s/logs('x')", "log stream takes no argument"),
    ("/a/s/logs/webhooks", "only has /pipe/"),
    ("/a/s/splice/1/burn", "unknown splice action"),
    ("/a/s%FF", "not UTF-8"),
]


@pytest.mark.parametrize("url, message", BAD, ids=[u[:40] for u, _ in BAD])
def test_bad_urls_are_400_with_a_precise_message(url, message):
    with pytest.raises(BadRequest) as ei:
        parse_stream_url(url)
    assert ei.value.status == 400
    assert message in str(ei.value)


def test_error_names_the_column():
    with pytest.raises(BadRequest) as ei:
        parse_stream_url("/a/s[x]")
    assert "column 2 in 's[x]'" in str(ei.value)
    assert ei.value.detail == {"segment": "s[x]", "column": 1}


STATE = {"Hello": 2, "a b": {"c": [10, 20]}, "name": "x", "n": None, "t": True}
EXPRS = [
    (".Hello", 2),
    (".Hello+1", 3),
    (".Hello*3-1", 5),
    (".Hello%2F4", 0.5),
    ("['a%20b'].c[1]", 20),
    ("['a%20b'].c.length", 2),
    ("['a%20b'].c['0']", 10),
    (".name+1", "x1"),
    (".name.length", 1),
    ("['a%20b'].c+''", "10,20"),
    (".n+1", 1),
    (".t+1", 2),
    ("*-1", None),      # the whole state times -1: NaN (an object)
    (".missing", UNDEFINED),
    (".missing.deeper", UNDEFINED),
    (".missing+1", None),
    (".Hello%2F0", math.inf),
    (".Hello*-1", -2),
    ("*+'3'", None),
]


@pytest.mark.parametrize("expr, value", EXPRS, ids=[e for e, _ in EXPRS])
def test_reducer_expression_values(expr, value):
    got = parse_stream_url("/a/s.r" + expr).expr.evaluate(STATE)
    if value is None:
        assert got != got       # NaN
    else:
        assert got == value and type(got) is type(value)


def test_selection_to_selector():
    sel = parse_stream_url("/a/s[-3:]").selection.selector(frozenset({"t"}))
    assert sel == Selector(frozenset({"t"}), -3, None)
    assert parse_stream_url("/a/s[-1]").selection.selector() == Selector(None, -1, None)
    assert parse_stream_url("/a/s[4]").selection.selector() == Selector(None, 4, 5)
