"""Pipy's JSON.decode / JSON.encode (reference §3.3), through the engine as scripts call them."""
import pytest

from pipyd.api import host_globals
from pipyd.js.engine import evaluate
from pipyd.js.values import JSThrow

CASES = [
    ("JSON.decode(new Data('{\"a\":[1,2]}')).a[1]", 2),
    ("JSON.decode(new Data('[1, 2,'))", None),  # undefined: Pipy does not throw
    ("typeof JSON.decode(new Data(''))", "undefined"),
    ("JSON.decode(new Data('{\"n\":1}'), (k, v) => k === 'n' ? v + 1 : v).n", 2),
    ("JSON.decode(new Data('\"\\u00e9t\\u00e9\"'))", "été"),
    ("JSON.encode({x: 1, y: [true, null]}).toString()", '{"x":1,"y":[true,null]}'),
    ("JSON.encode('é').size", 4),  # bytes, not code points: "é" quoted is 4 UTF-8 bytes
    ("JSON.encode({a: 1}, null, 2).toString()", '{\n  "a": 1\n}'),
    ("JSON.encode(undefined).size", 0),
    ("JSON.parse('[1]')[0]", 1),
]


@pytest.mark.parametrize("src,expected", CASES)
def test_json_extensions(src, expected):
    value = evaluate(src, "t.js", host_globals())
    assert (None if value.__class__.__name__ == "JSUndefined" else value) == expected


def test_decode_refuses_non_data():
    with pytest.raises(JSThrow, match="expected a Data"):
        evaluate("JSON.decode(42)", "t.js", host_globals())


def test_parse_still_throws_like_ecmascript():
    with pytest.raises(JSThrow, match="SyntaxError"):
        evaluate("JSON.parse('[1,')", "t.js", host_globals())
