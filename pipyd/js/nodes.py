"""AST nodes of PipyJS, shaped as ESTree (ES2020) nodes.

Each ESTree ``type`` is a class of the same name with the ESTree fields as attributes (camelCase,
lists for arrays, None for absent children). Every node also carries its source span: ``line``
(1-based), ``col`` (0-based, code points), ``end_line``, ``end_col``. Classes are generated from
the table below so the field lists are the one place that defines the shapes.
"""
from __future__ import annotations

from typing import Any, Iterator

# type -> fields (in ESTree order; children are visited in this order)
NODE_FIELDS: dict[str, tuple[str, ...]] = {
    "Program": ("body", "sourceType"),
    # expressions
    "Identifier": ("name",),
    "Literal": ("value", "raw", "regex"),
    "TemplateLiteral": ("quasis", "expressions"),
    "TemplateElement": ("value", "tail"),  # value = {'cooked': str | None, 'raw': str}
    "TaggedTemplateExpression": ("tag", "quasi"),
    "ThisExpression": (),
    "ArrayExpression": ("elements",),  # None elements are holes
    "ObjectExpression": ("properties",),
    "Property": ("key", "value", "kind", "method", "shorthand", "computed"),
    "SpreadElement": ("argument",),
    "FunctionExpression": ("id", "params", "body", "generator", "async"),
    "ArrowFunctionExpression": ("id", "params", "body", "expression", "generator", "async"),
    "UnaryExpression": ("operator", "prefix", "argument"),
    "UpdateExpression": ("operator", "prefix", "argument"),
    "BinaryExpression": ("operator", "left", "right"),
    "LogicalExpression": ("operator", "left", "right"),
    "AssignmentExpression": ("operator", "left", "right"),
    "ConditionalExpression": ("test", "consequent", "alternate"),
    "CallExpression": ("callee", "arguments", "optional"),
    "NewExpression": ("callee", "arguments"),
    "MemberExpression": ("object", "property", "computed", "optional"),
    "ChainExpression": ("expression",),
    "SequenceExpression": ("expressions",),
    # patterns
    "ObjectPattern": ("properties",),  # Property (value is a pattern) or RestElement
    "ArrayPattern": ("elements",),  # None elements are elisions
    "RestElement": ("argument",),
    "AssignmentPattern": ("left", "right"),
    # declarations and statements
    "VariableDeclaration": ("declarations", "kind"),
    "VariableDeclarator": ("id", "init"),
    "FunctionDeclaration": ("id", "params", "body", "generator", "async"),
    "BlockStatement": ("body",),
    "ExpressionStatement": ("expression",),
    "EmptyStatement": (),
    "IfStatement": ("test", "consequent", "alternate"),
    "ForStatement": ("init", "test", "update", "body"),
    "ForInStatement": ("left", "right", "body"),
    "ForOfStatement": ("left", "right", "body"),
    "WhileStatement": ("test", "body"),
    "DoWhileStatement": ("body", "test"),
    "SwitchStatement": ("discriminant", "cases"),
    "SwitchCase": ("test", "consequent"),
    "BreakStatement": ("label",),
    "ContinueStatement": ("label",),
    "ReturnStatement": ("argument",),
    "ThrowStatement": ("argument",),
    "TryStatement": ("block", "handler", "finalizer"),
    "CatchClause": ("param", "body"),
    "LabeledStatement": ("label", "body"),
}

_DEFAULTS: dict[str, Any] = {
    "optional": False, "computed": False, "method": False, "shorthand": False,
    "generator": False, "async": False, "expression": False, "prefix": True, "tail": False,
    "kind": None, "regex": None, "sourceType": "script",
}


class Node:
    """Base of all AST nodes: a source span plus the ESTree fields of the subclass."""

    __slots__ = ("line", "col", "end_line", "end_col")
    type: str = "Node"
    fields: tuple[str, ...] = ()

    def __init__(self, *args: Any, line: int = 0, col: int = 0,
                 end_line: int = 0, end_col: int = 0, **kw: Any) -> None:
        if len(args) > len(self.fields):
            raise TypeError(f"{self.type} takes at most {len(self.fields)} fields")
        for name, value in zip(self.fields, args):
            setattr(self, name, value)
        for name in self.fields[len(args):]:
            setattr(self, name, kw.pop(name) if name in kw else _DEFAULTS.get(name))
        if kw:
            raise TypeError(f"{self.type} has no field(s) {', '.join(kw)}")
        self.line, self.col, self.end_line, self.end_col = line, col, end_line, end_col

    def children(self) -> Iterator["Node"]:
        """Child nodes in field order (lists flattened, None skipped)."""
        for name in self.fields:
            v = getattr(self, name)
            if isinstance(v, Node):
                yield v
            elif isinstance(v, list):
                for item in v:
                    if isinstance(item, Node):
                        yield item

    def copy_with(self, **changes: Any) -> "Node":
        """A shallow copy with the given fields replaced (same span)."""
        new = object.__new__(type(self))
        for name in self.fields:
            setattr(new, name, changes.pop(name) if name in changes else getattr(self, name))
        if changes:
            raise TypeError(f"{self.type} has no field(s) {', '.join(changes)}")
        new.line, new.col, new.end_line, new.end_col = self.line, self.col, self.end_line, self.end_col
        return new

    def __repr__(self) -> str:
        parts = ", ".join(f"{f}={getattr(self, f)!r}" for f in self.fields)
        return f"{self.type}({parts})"


def walk(node: Node) -> Iterator[Node]:
    """Every node of a tree, depth first, parents before children."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(list(n.children())))


def _make(type_name: str, fields: tuple[str, ...]) -> type:
    # "async" is a Python keyword but a fine attribute name via setattr/getattr.
    return type(type_name, (Node,), {"__slots__": fields, "type": type_name, "fields": fields})


for _name, _fields in NODE_FIELDS.items():
    globals()[_name] = _make(_name, _fields)

__all__ = ["Node", "walk", "NODE_FIELDS", *NODE_FIELDS]
