"""XML: expat-built trees, stringify layout, round trips (reference §3.3)."""
from __future__ import annotations

from pipyd.api.xml import XML, Node
from pipyd.events import Data
from pipyd.js.values import JSArray, JSObject

DOC = '<?xml version="1.0" encoding="UTF-8"?><root a="1"><item>one &amp; two</item><empty/><n><m>x</m></n></root>'


def test_decode_tree_shape():
    doc = XML.decode(Data(DOC.encode()))
    assert doc.name == "" and len(doc.children) == 1
    root = doc.children[0]
    assert root.name == "root" and dict(root.attributes) == {"a": "1"}
    item, empty, n = root.children
    assert list(item.children) == ["one & two"] and item.attributes is None
    assert empty.name == "empty" and len(empty.children) == 0
    assert n.children[0].children[0] == "x"


def test_round_trip_compact():
    doc = XML.parse(DOC)
    assert XML.stringify(doc) == DOC
    assert XML.encode(XML.decode(XML.encode(doc))).to_bytes() == DOC.encode()


def test_indented_and_whitespace_dropped():
    doc = XML.parse("<a>\n  <b>t</b>\n  <c/>\n</a>")
    assert len(doc.children[0].children) == 2
    assert XML.stringify(doc, 2) == ('<?xml version="1.0" encoding="UTF-8"?>\n'
                                     "<a>\n  <b>t</b>\n  <c/>\n</a>\n")


def test_built_nodes_and_errors():
    doc = Node("", None, JSArray([Node("r", JSObject(k='v"'), JSArray(["<x>"]))]))
    s = XML.stringify(doc)
    assert s.endswith('<r k="v&quot;">&lt;x&gt;</r>')
    assert XML.parse(s).children[0].attributes["k"] == 'v"'
    assert XML.parse("<a>") is None
    assert XML.stringify(Node("", None, JSArray())) == ""
    assert XML.encode(None) is None
