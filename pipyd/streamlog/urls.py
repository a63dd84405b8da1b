"""The stream URL grammar of specs/streamlog.md §3.

    /{account}                                    an account (listing)
    /{account}/{stream}[(arg)][:type][selection][.reducer[expr]]
    /{account}/{stream}[...]/logs[...]            the stream's log stream (itself readable)
    /{account}/{stream}[...][/logs]/pipe/{account2}/{stream2}[(arg)]
    /{account}/{stream}[...]/webhooks[/{name}]
    /{account}/{stream}[...]/splice[/{id}[/approve|/reject]]

``parse_stream_url(raw_path)`` takes the request path as it arrived (percent-encoded, no query)
and returns a ``StreamURL`` or raises ``BadRequest`` (400) naming the offending column. The path is
split on ``/`` before each segment is percent-decoded, so ``[ ] ( ) ' :`` (and ``/`` inside a
quoted argument) may arrive encoded. The substream argument and the reducer expression are parsed
with pipyd's own JS parser and accepted only if every node is on an allowlist; ``ReducerExpr`` then
evaluates that small tree itself, so no general interpreter ever sees URL text.

A ``/`` inside an argument or a reducer expression (division) must be sent as ``%2F``, since
segments are split first.

Decisions where §3 is silent: reducer names take ``-`` greedily (``.counter-1`` names the reducer
``counter-1``; write ``.counter+-1``); ``.length`` ends a URL; after ``:type`` a final ``.json`` or
``.ts`` asks for the type definition (§9), not a reducer; a property of ``undefined``/``null`` is
``undefined`` rather than a TypeError (a read API answers, it does not throw).
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from urllib.parse import unquote

from ..js import nodes as N
from ..js.parser import parse
from .store import (BadRequest, FORBIDDEN_STREAM_NAMES, MAX_EVENT_TYPE_CHARS, NAME_RE, Selector,
                    stream_key)

_NAME_AT = re.compile(r"[A-Za-z0-9_-]{1,64}")
_TYPE_AT = re.compile(r"[^\[\].()/:]{1,%d}" % MAX_EVENT_TYPE_CHARS)
_INDEX = re.compile(r"-?\d{1,18}\Z")
_RANGE = re.compile(r"(-?\d{1,18})?:(-?\d{1,18})?\Z")
MAX_EXPR_CHARS = 512        # bounds parser work and the evaluator's recursion
_STATE = "$state$"          # the placeholder root the reducer expression is parsed against


def _error(message: str, segment: str, col: int | None = None) -> BadRequest:
    where = f" at column {col + 1}" if col is not None else ""
    return BadRequest(f"{message}{where} in {segment!r}", {"segment": segment, "column": col})


# ------------------------------------------------------------------------------------ values

@dataclass(frozen=True, slots=True)
class Substream:
    """A factory argument (§8): ``kind`` 'literal' (value a str/int/float/bool/None) or 'account'
    (value an account name). ``canonical`` is the text stream keys use: JSON for literals, so
    ``('x')`` and ``("x")`` name one substream."""
    kind: str
    value: object
    canonical: str


@dataclass(frozen=True, slots=True)
class Selection:
    """``[i]`` (kind 'index'), ``[a:b]`` (kind 'range', bounds may be None or negative) or
    ``.length`` (kind 'length')."""
    kind: str
    index: int | None = None
    start: int | None = None
    end: int | None = None

    def selector(self, types: frozenset[str] | None = None) -> Selector:
        """The store selector for a range (or a one-event window for an index)."""
        if self.kind == "range":
            return Selector(types, self.start, self.end)
        if self.kind == "index":
            end = None if self.index == -1 else self.index + 1
            return Selector(types, self.index, end)
        return Selector(types)


class _Undefined:
    __slots__ = ()

    def __repr__(self) -> str:
        return "undefined"


UNDEFINED = _Undefined()


@dataclass(frozen=True, slots=True)
class ReducerExpr:
    """An allowlisted expression over a reducer's state: nested tuples ``('state',)``,
    ``('num', v)``, ``('str', s)``, ``('get', obj, key)``, ``('neg', x)``, ``('bin', op, l, r)``.
    ``source`` is the URL text (after the reducer name)."""
    source: str
    tree: tuple

    def evaluate(self, state: object) -> object:
        """The value for a JSON state (dicts, lists, str, numbers, bool, None), with JS semantics
        for ``+ - * /`` and property access; ``UNDEFINED`` for a missing property."""
        return _eval(self.tree, state)


@dataclass(frozen=True, slots=True)
class StreamURL:
    """A parsed stream URL. ``resource``: 'account', 'stream', 'pipe', 'webhooks' (list or, with
    ``webhook``, one), 'splice'. ``logs``: the addressed stream is the stream's log stream."""
    account: str
    stream: str | None = None
    substream: Substream | None = None
    event_type: str | None = None
    selection: Selection | None = None
    reducer: str | None = None
    expr: ReducerExpr | None = None
    type_format: str | None = None          # 'json' | 'ts' after ':type' (§9)
    resource: str = "stream"
    logs: bool = False
    pipe_to: "StreamURL | None" = None
    webhook: str | None = None
    splice_id: str | None = None
    splice_action: str | None = None        # 'approve' | 'reject'

    @property
    def base_key(self) -> str:
        """Store key of the stream (or substream) itself."""
        return stream_key(self.account, self.stream,
                          None if self.substream is None else self.substream.canonical)

    @property
    def key(self) -> str:
        """Store key of the addressed stream: the log stream's key when ``logs``."""
        return self.base_key + "/logs" if self.logs else self.base_key


# ------------------------------------------------------------------------------------ parsing

def parse_stream_url(raw_path: str) -> StreamURL:
    """Parse a raw request path (see the module doc); BadRequest with a precise message."""
    path = raw_path[1:] if raw_path.startswith("/") else raw_path
    if path.endswith("/"):
        path = path[:-1]
    segs = [_decode(s) for s in path.split("/")] if path else []
    if not segs:
        raise BadRequest("a stream URL needs /{account}/{stream}", {"path": raw_path})
    account = _check_name(segs[0], "account")
    if len(segs) == 1:
        return StreamURL(account, resource="account")
    head = _parse_segment(segs[1])
    url = StreamURL(account, **head)
    rest = segs[2:]
    if rest and _NAME_AT.match(rest[0]) and _NAME_AT.match(rest[0]).group() == "logs":
        url = _logs(url, head, rest[0])
        rest = rest[1:]
    if not rest:
        return url
    return _sub_resource(url, rest, raw_path)


def _sub_resource(url: StreamURL, rest: list[str], raw_path: str) -> StreamURL:
    kind = rest[0]
    if kind == "pipe" and len(rest) == 3:
        dest = _parse_segment(rest[2])
        if set(dest) - {"stream", "substream"}:
            raise _error("a pipe destination is /{account}/{stream}[(arg)]", rest[2])
        return _replace(url, resource="pipe",
                        pipe_to=StreamURL(_check_name(rest[1], "account"), **dest))
    if url.logs:
        raise BadRequest("a log stream only has /pipe/ sub-resources", {"path": raw_path})
    if kind == "webhooks" and len(rest) <= 2:
        name = _check_name(rest[1], "webhook") if len(rest) == 2 else None
        return _replace(url, resource="webhooks", webhook=name)
    if kind == "splice" and len(rest) <= 3:
        sid = _check_name(rest[1], "splice id") if len(rest) >= 2 else None
        action = rest[2] if len(rest) == 3 else None
        if action not in (None, "approve", "reject"):
            raise BadRequest(f"unknown splice action {action!r}", {"path": raw_path})
        return _replace(url, resource="splice", splice_id=sid, splice_action=action)
    raise BadRequest(f"unknown sub-resource /{'/'.join(rest)}", {"path": raw_path})


def _replace(url: StreamURL, **changes: object) -> StreamURL:
    fields = {f: getattr(url, f) for f in StreamURL.__dataclass_fields__}
    fields.update(changes)
    return StreamURL(**fields)


def _logs(url: StreamURL, head: dict, seg: str) -> StreamURL:
    """``/logs`` addresses the stream's log stream; its selection/type/reducer suffixes go on the
    ``logs`` segment (``/a/s/logs[-10:]``), the stream segment keeps only its argument."""
    if set(head) - {"stream", "substream"}:
        raise _error("suffixes of a log stream go after /logs", seg)
    fields = _parse_segment(seg)
    if "substream" in fields:
        raise _error("a log stream takes no argument", seg)
    del fields["stream"]
    return _replace(url, logs=True, **fields)


def _decode(seg: str) -> str:
    try:
        return unquote(seg, errors="strict")
    except UnicodeDecodeError:
        raise BadRequest("percent-encoded bytes are not UTF-8", {"segment": seg}) from None


def _check_name(name: str, what: str) -> str:
    if NAME_RE.match(name) is None:
        raise BadRequest(f"invalid {what} name {name!r}: names match [A-Za-z0-9_-]{{1,64}}",
                         {"name": name})
    return name


def _parse_segment(seg: str) -> dict:
    """``name[(arg)][:type][selection][.reducer expr]`` → StreamURL fields."""
    m = _NAME_AT.match(seg)
    if m is None:
        raise _error("a stream name must match [A-Za-z0-9_-]{1,64}", seg, 0)
    name, p = m.group(), _name_end(seg, m)
    if name in FORBIDDEN_STREAM_NAMES:
        raise BadRequest(f"stream name {name!r} is forbidden", {"name": name})
    out: dict = {"stream": name}
    if p < len(seg) and seg[p] == "(":
        close = _closing_paren(seg, p)
        out["substream"] = _parse_arg(seg, p + 1, close)
        p = close + 1
    if p < len(seg) and seg[p] == ":":
        t = _TYPE_AT.match(seg, p + 1)
        if t is None:
            raise _error("an event type must be 1 to 100 characters", seg, p + 1)
        out["event_type"], p = t.group(), t.end()
    if p < len(seg) and seg[p] == "[":
        close = seg.find("]", p)
        if close < 0:
            raise _error("unclosed '['", seg, p)
        out["selection"] = _parse_selection(seg, p, close)
        p = close + 1
    if p == len(seg):
        return out
    if seg[p] != ".":
        raise _error(f"unexpected {seg[p]!r}", seg, p)
    r = _NAME_AT.match(seg, p + 1)
    if r is None:
        raise _error("a reducer name must match [A-Za-z0-9_-]{1,64}", seg, p + 1)
    word, q = r.group(), _name_end(seg, r)
    if word == "length" and "selection" not in out:
        if q != len(seg):
            raise _error("'.length' ends a stream URL", seg, q)
        out["selection"] = Selection("length")
        return out
    if word in ("json", "ts") and q == len(seg) and "event_type" in out:
        out["type_format"] = word
        return out
    out["reducer"] = word
    if q < len(seg):
        out["expr"] = _parse_expr(seg, q)
    return out


def _name_end(seg: str, m: re.Match) -> int:
    end = m.end()
    if _NAME_AT.match(seg, end):
        raise _error("names are at most 64 characters", seg, m.start())
    return end


def _closing_paren(seg: str, open_at: int) -> int:
    """Index of the ')' closing the argument: nesting counted, quoted strings (with \\ escapes)
    skipped, so ``(')')`` works and ``(f())`` reaches the allowlist to be refused there."""
    i, quote, depth = open_at + 1, None, 0
    while i < len(seg):
        c = seg[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = None
        elif c in "'\"":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    raise _error("unclosed '('", seg, open_at)


def _parse_selection(seg: str, open_at: int, close: int) -> Selection:
    body = seg[open_at + 1:close]
    if _INDEX.match(body):
        return Selection("index", index=int(body))
    m = _RANGE.match(body)
    if m is None:
        raise _error("a selection is [i] or [a:b] with integer bounds", seg, open_at)
    a, b = m.groups()
    return Selection("range", start=None if a is None else int(a), end=None if b is None else int(b))


def _js(source: str, seg: str, col: int) -> N.Node:
    """Parse ``source`` as exactly one JS expression."""
    try:
        program = parse(source, "<url>")
    except Exception as e:      # JSSyntaxError (and RecursionError on absurd nesting)
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise _error(f"not a valid expression ({first})", seg, col) from None
    if len(program.body) != 1 or type(program.body[0]) is not N.ExpressionStatement:
        raise _error("expected exactly one expression", seg, col)
    return program.body[0].expression


def _parse_arg(seg: str, open_at: int, close: int) -> Substream:
    """§3: a JS primitive literal or a bare identifier (an account, §8)."""
    text = seg[open_at:close]
    node = _js(text, seg, open_at)
    t = type(node)
    if t is N.Identifier:
        return Substream("account", _check_name(node.name, "account"), node.name)
    value = _literal_number(node) if t is N.UnaryExpression else _primitive(node)
    if value is _NOT_PRIMITIVE:
        raise _error("a substream argument is a string, number, true, false, null or an account"
                     " name", seg, open_at)
    return Substream("literal", value, _canonical(value))


_NOT_PRIMITIVE = object()


def _primitive(node: N.Node) -> object:
    if type(node) is not N.Literal or node.regex is not None:
        return _NOT_PRIMITIVE
    v = node.value
    return v if v is None or type(v) in (str, int, float, bool) else _NOT_PRIMITIVE


def _literal_number(node: N.Node) -> object:
    """``-1`` parses as a unary minus on a literal; accept it (and ``+1``) for numbers only."""
    if node.operator not in "-+" or type(node.argument) is not N.Literal:
        return _NOT_PRIMITIVE
    v = node.argument.value
    if type(v) not in (int, float):
        return _NOT_PRIMITIVE
    return -v if node.operator == "-" else v


def _canonical(value: object) -> str:
    if type(value) is float and math.isfinite(value) and value == int(value) and abs(value) < 1e21:
        value = int(value)      # JS has one number type: 1.0 and 1 are one substream
    if type(value) is float and not math.isfinite(value):
        return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")
    return json.dumps(value, ensure_ascii=False)


# ---------------------------------------------------------------------------- reducer expressions

def _parse_expr(seg: str, at: int) -> ReducerExpr:
    text = seg[at:]
    if len(text) > MAX_EXPR_CHARS:
        raise _error(f"a reducer expression is at most {MAX_EXPR_CHARS} characters", seg, at)
    node = _js(_STATE + text, seg, at)
    return ReducerExpr(text, _convert(node, seg, at))


def _convert(node: N.Node, seg: str, at: int) -> tuple:
    """The allowlist: the state root, member access by name or literal key, + - * /, unary -/+,
    number literals (and string literals as keys or operands). Anything else is a 400."""
    t = type(node)
    if t is N.Identifier and node.name == _STATE:
        return ("state",)
    if t is N.MemberExpression and not node.optional:
        obj = _convert(node.object, seg, at)
        if not node.computed:
            return ("get", obj, node.property.name)
        key = _primitive(node.property)
        if type(key) not in (str, int, float):
            raise _error("a [key] must be a string or number literal", seg, at)
        return ("get", obj, _js_key(key))
    if t is N.BinaryExpression and node.operator in ("+", "-", "*", "/"):
        return ("bin", node.operator, _convert(node.left, seg, at), _convert(node.right, seg, at))
    if t is N.UnaryExpression and node.operator in ("-", "+"):
        inner = _convert(node.argument, seg, at)
        return ("neg", inner) if node.operator == "-" else ("bin", "*", ("num", 1), inner)
    if t is N.Literal:
        v = _primitive(node)
        if type(v) in (int, float):
            return ("num", v)
        if type(v) is str:
            return ("str", v)
    what = node.name if t is N.Identifier else node.type
    raise _error(f"{what} is not allowed in a reducer expression (property paths, [key],"
                 " + - * / and literals only)", seg, at)


def _js_key(key: object) -> str:
    return key if type(key) is str else _canonical(key)


def _eval(tree: tuple, state: object) -> object:
    op = tree[0]
    if op == "state":
        return state
    if op == "get":
        return _get(_eval(tree[1], state), tree[2])
    if op == "num" or op == "str":
        return tree[1]
    if op == "neg":
        return _tidy(-_to_number(_eval(tree[1], state)))
    a, b = _eval(tree[2], state), _eval(tree[3], state)
    sym = tree[1]
    if sym == "+" and (type(a) is str or type(b) is str or type(a) in (dict, list)
                       or type(b) in (dict, list)):
        return _to_string(a) + _to_string(b)        # ECMA-262 §13.15.3 ApplyStringOrNumericBinaryOperator
    x, y = _to_number(a), _to_number(b)
    if sym == "+":
        return _tidy(x + y)
    if sym == "-":
        return _tidy(x - y)
    if sym == "*":
        return _tidy(x * y)
    if y == 0:
        return math.nan if x == 0 or x != x else math.copysign(math.inf, x) * math.copysign(1, y)
    return _tidy(x / y)


def _get(obj: object, key: str) -> object:
    t = type(obj)
    if t is dict:
        return obj.get(key, UNDEFINED)
    if t is list or t is str:
        if key == "length":
            return len(obj)
        if key.isdigit() and int(key) < len(obj):
            return obj[int(key)]
    return UNDEFINED


def _to_number(v: object) -> float:
    t = type(v)
    if t is int or t is float:
        return v
    if t is bool:
        return int(v)
    if v is None:
        return 0
    if t is str:
        s = v.strip()
        if not s:
            return 0
        try:
            return float(s) if not s.startswith(("0x", "0X")) else int(s, 16)
        except ValueError:
            return math.nan
    return math.nan     # undefined, objects, arrays


def _to_string(v: object) -> str:
    t = type(v)
    if t is str:
        return v
    if t is bool:
        return "true" if v else "false"
    if v is None:
        return "null"
    if v is UNDEFINED:
        return "undefined"
    if t is dict:
        return "[object Object]"
    if t is list:
        return ",".join("" if x is None or x is UNDEFINED else _to_string(x) for x in v)
    return _canonical(v)


def _tidy(x: float) -> object:
    """Integral results print as integers, like JS numbers do."""
    if type(x) is float and math.isfinite(x) and x == int(x) and abs(x) < 2 ** 53:
        return int(x)
    return x
