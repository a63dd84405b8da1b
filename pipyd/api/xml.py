"""``XML`` and ``XML.Node`` (Pipy reference §3.3), parsed with expat as Pipy does.

The tree Pipy builds: ``decode``/``parse`` return a document node named ``''`` (attributes ``{}``)
whose only child is the root element. An element's ``attributes`` is null when it has none;
``children`` is an array of Nodes and strings. Character data made only of whitespace is dropped
(so indentation does not become text); other text is kept as is.

``encode``/``stringify`` write ``<?xml version="1.0" encoding="UTF-8"?>`` and the document's
single root element (anything else gives ``''``/null); ``space`` (0-10) indents one element per
line, an element whose only child is text stays on one line, and an element without children
is written ``<a/>``. Unlike Pipy, text and attribute values are escaped: Pipy writes them raw,
which produces broken XML for ``<`` or ``&`` and would not round-trip.
"""
from __future__ import annotations

from typing import Any
from xml.parsers import expat
from xml.sax.saxutils import escape

from pipyd.events import Data
from pipyd.js.coerce import to_integer, to_string
from pipyd.js.values import HostObject, JSArray, JSObject, type_error, undefined

_ATTR = {'"': "&quot;", "\n": "&#10;", "\t": "&#9;"}
_HEAD = '<?xml version="1.0" encoding="UTF-8"?>'


class Node(HostObject):
    __slots__ = ("name", "attributes", "children")
    js_get = frozenset({"name", "attributes", "children"})
    js_new = True
    js_class_name = "Node"

    def __init__(self, name: Any = undefined, attributes: Any = None, children: Any = None) -> None:
        if name is undefined:
            raise type_error("XML.Node: expected a name")
        self.name = to_string(name)
        self.attributes = None if attributes is undefined else attributes
        self.children = JSArray() if children is undefined or children is None else children

    def __repr__(self) -> str:
        return f"XML.Node({self.name!r})"


class _TreeBuilder:
    """Expat callbacks building Nodes on a stack (the document node at the bottom)."""

    __slots__ = ("stack", "parser")

    def __init__(self) -> None:
        self.stack = [Node("", JSObject(), JSArray())]
        p = expat.ParserCreate()
        p.buffer_text = True  # one text callback per run of character data
        p.ordered_attributes = True
        p.StartElementHandler = self.start
        p.EndElementHandler = self.end
        p.CharacterDataHandler = self.text
        self.parser = p

    def start(self, name: str, attrs: list[str]) -> None:
        a = JSObject(zip(attrs[0::2], attrs[1::2])) if attrs else None
        node = Node(name, a, JSArray())
        self.stack[-1].children.append(node)
        self.stack.append(node)

    def end(self, _name: str) -> None:
        self.stack.pop()

    def text(self, s: str) -> None:
        if not s.isspace():
            self.stack[-1].children.append(s)

    def feed(self, chunks: list[bytes] | list[str]) -> Node | None:
        try:
            for c in chunks:
                self.parser.Parse(c, False)
            self.parser.Parse(b"", True)
        except expat.ExpatError:
            return None
        return self.stack[0]


def _write(node: Node, space: int, level: int, out: list[str]) -> None:
    pad = " " * (space * level)
    nl = "\n" if space else ""
    out.append(pad + "<" + node.name)
    attrs = node.attributes
    if isinstance(attrs, dict):
        for k, v in attrs.items():
            out.append(" " + k + '="' + escape(to_string(v), _ATTR) + '"')
    kids = node.children if isinstance(node.children, list) else ()
    if len(kids) == 1 and type(kids[0]) is not Node:
        out.append(">" + escape(to_string(kids[0])) + "</" + node.name + ">" + nl)
        return
    if len(kids) == 0:  # (a JSArray is always truthy)
        out.append("/>" + nl)
        return
    out.append(">" + nl)
    inner = " " * (space * (level + 1))
    for k in kids:
        if type(k) is Node:
            _write(k, space, level + 1, out)
        else:
            out.append((inner if space else "") + escape(to_string(k)) + nl)
    out.append(pad + "</" + node.name + ">" + nl)


def _stringify(doc: Any, space: Any) -> str | None:
    if type(doc) is not Node:
        raise type_error("XML: expected an XML.Node")
    kids = doc.children
    if not isinstance(kids, list) or len(kids) != 1 or type(kids[0]) is not Node:
        return None
    n = 0 if space is undefined or space is None else int(to_integer(space))
    n = min(max(n, 0), 10)
    out = [_HEAD, "\n" if n else ""]
    _write(kids[0], n, 0, out)
    return "".join(out)


class XML(HostObject):
    """The ``XML`` global: a namespace of functions plus the ``XML.Node`` class."""

    __slots__ = ()
    js_static = frozenset({"parse", "stringify", "decode", "encode", "Node"})
    js_class_name = "XML"
    Node = Node

    @staticmethod
    def parse(text: Any = undefined) -> Node | None:
        if type(text) is not str:
            raise type_error("XML.parse: expected a string")
        return _TreeBuilder().feed([text.encode("utf-8", "surrogatepass")])

    @staticmethod
    def decode(data: Any = undefined) -> Node | None:
        if type(data) is not Data:
            raise type_error("XML.decode: expected a Data")
        return _TreeBuilder().feed(data.chunks)

    @staticmethod
    def stringify(doc: Any = undefined, space: Any = undefined) -> str:
        s = _stringify(doc, space)
        return "" if s is None else s

    @staticmethod
    def encode(doc: Any = undefined, space: Any = undefined) -> Data | None:
        if doc is None or doc is undefined:
            return None
        s = _stringify(doc, space)
        return Data.from_bytes(b"" if s is None else s.encode("utf-8", "surrogatepass"))
