"""PipyJS parser, binding patterns and the cover grammars that become them (§13.15.5, §14.3.3):
a mixin of ``parser.Parser`` (see parser.py for the design)."""
from __future__ import annotations

from typing import Any

from . import nodes as N
from .lexer import Token
from .parser_statements import _NAME_ERRORS

_PATTERNS = frozenset((N.ObjectPattern, N.ArrayPattern, N.AssignmentPattern))


class PatternMixin:
    """Pattern parsing and expression-to-pattern conversion; relies on ``Parser``'s helpers."""

    tok: Token
    lx: Any

    # -- patterns ------------------------------------------------------------------------
    def binding_target(self) -> N.Node:
        """BindingIdentifier or BindingPattern (§14.3.3)."""
        t = self.tok.type
        if t == "[":
            return self._array_pattern()
        if t == "{":
            return self._object_pattern()
        return self.identifier()

    def binding_element(self) -> N.Node:
        start = self.tok
        target = self.binding_target()
        if self.tok.type == "=":
            self.advance()
            return self.fin(N.AssignmentPattern(target, self.assign()), start)
        return target

    def _array_pattern(self) -> N.Node:
        start = self.advance()
        elements: list[N.Node | None] = []
        while self.tok.type != "]":
            if self.tok.type == ",":
                self.advance()
                elements.append(None)
                continue
            if self.tok.type == "...":
                dots = self.advance()
                elements.append(self.fin(N.RestElement(self.binding_target()), dots))
                if self.tok.type != "]":
                    raise self.error("Rest element must be last element")
                break
            elements.append(self.binding_element())
            if self.tok.type != "]":
                self.expect(",")
        self.advance()
        return self.fin(N.ArrayPattern(elements), start)

    def _object_pattern(self) -> N.Node:
        start = self.advance()
        props = []
        while self.tok.type != "}":
            ps = self.tok
            if ps.type == "...":
                self.advance()
                props.append(self.fin(N.RestElement(self.identifier()), ps))
                if self.tok.type != "}":
                    raise self.error("Rest element must be last element")
                break
            key, computed = self.property_key()
            if self.tok.type == ":":
                self.advance()
                value = self.binding_element()
                props.append(self.fin(N.Property(key, value, "init", False, False, computed), ps))
            else:
                if ps.type != "name" or computed:
                    self.unexpected()
                if ps.value in _NAME_ERRORS:
                    self._reserved_name(ps)
                value = self._copy(N.Identifier(key.name), key)
                if self.tok.type == "=":
                    self.advance()
                    value = self.fin(N.AssignmentPattern(value, self.assign()), ps)
                props.append(self.fin(N.Property(key, value, "init", False, True, False), ps))
            if self.tok.type != "}":
                self.expect(",")
        self.advance()
        return self.fin(N.ObjectPattern(props), start)

    def to_pattern(self, node: N.Node, binding: bool) -> N.Node:
        """Reinterpret an expression as an assignment target (§13.15.5) or, with ``binding``,
        as arrow parameters (§15.3)."""
        kind = type(node)
        if node in self.parens and (binding or (kind is not N.Identifier and
                                                kind is not N.MemberExpression)):
            raise self.error("Invalid destructuring assignment target", node)
        if kind is N.Identifier or kind in _PATTERNS or (kind is N.MemberExpression and
                                                         not binding):
            return node
        if kind is N.ObjectExpression:
            props = node.properties
            for i, p in enumerate(props):
                if type(p) is N.SpreadElement:
                    props[i] = self._rest(p, i == len(props) - 1, binding)
                elif p.kind != "init" or p.method:
                    raise self.error("Invalid destructuring assignment target", p.value)
                else:
                    p.value = self.to_pattern(p.value, binding)
            return self._copy(N.ObjectPattern(props), node)
        if kind is N.ArrayExpression:
            elements = node.elements
            for i, e in enumerate(elements):
                if type(e) is N.SpreadElement:
                    elements[i] = self._rest(e, i == len(elements) - 1, binding)
                elif e is not None:
                    elements[i] = self.to_pattern(e, binding)
            return self._copy(N.ArrayPattern(elements), node)
        if kind is N.AssignmentExpression and node.operator == "=":
            left = self.to_pattern(node.left, binding)
            return self._copy(N.AssignmentPattern(left, node.right), node)
        raise self.error("Invalid destructuring assignment target", node)

    def _rest(self, spread: N.Node, last: bool, binding: bool) -> N.Node:
        if not last:
            raise self.error("Rest element must be last element", spread)
        arg = self.to_pattern(spread.argument, binding)
        if type(arg) is N.AssignmentPattern:
            raise self.error("Invalid destructuring assignment target", arg)
        return self._copy(N.RestElement(arg), spread)

    @staticmethod
    def _copy(node: N.Node, like: N.Node) -> N.Node:
        node.line, node.col, node.end_line, node.end_col = \
            like.line, like.col, like.end_line, like.end_col
        return node
