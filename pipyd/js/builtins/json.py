"""JSON.parse and JSON.stringify (ECMA-262 §25.5).

parse uses Python's C scanner (hooks build JSObject/JSArray and JS numbers; NaN/Infinity, which
Python accepts, are refused) and throws SyntaxError like ECMAScript — not Pipy's undefined.
stringify follows SerializeJSONProperty: toJSON, replacer function or key list, space, undefined
and functions skipped in objects and null in arrays, non-finite numbers as null, TypeError on
cycles, well-formed output for lone surrogates. Host objects without toJSON serialize as {}.
"""
from __future__ import annotations

import json as _pyjson
import re
from json.encoder import encode_basestring
from typing import Any, Callable

from pipyd.js.builtins.classes import BuiltinNamespace
from pipyd.js.coerce import call_with_this, own_keys, to_integer, to_string
from pipyd.js.numfmt import number_to_string
from pipyd.js.values import JSArray, JSObject, JSObjectP, syntax_error, type_error, typeof, undefined

_SURROGATES = re.compile("[\ud800-\udbff][\udc00-\udfff]|[\ud800-\udfff]")


# --- parse ------------------------------------------------------------------------------------

def _arrays(v: Any) -> Any:
    """Python's decoder builds lists; JS needs JSArray (objects come from the pairs hook)."""
    if type(v) is list:
        return JSArray([_arrays(x) if type(x) is list else x for x in v])
    return v


def _pairs(pairs: list[tuple[str, Any]]) -> JSObject:
    obj = JSObject(pairs)
    for k, v in pairs:
        if type(v) is list:
            obj[k] = _arrays(v)
    return obj


def _parse_int(s: str) -> int | float:
    if len(s) < 16:
        i = int(s)
        return -0.0 if i == 0 and s[0] == "-" else i
    return float(s)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"Unexpected token {name[0]}")


_DECODER = _pyjson.JSONDecoder(object_pairs_hook=_pairs, parse_int=_parse_int,
                               parse_constant=_refuse_constant, strict=True)


def _internalize(holder: Any, key: Any, reviver: Callable[..., Any]) -> Any:
    """InternalizeJSONProperty (§25.5.1.1): children first, then the reviver with this = holder."""
    val = holder[key]
    if type(val) is JSArray:
        for i in range(len(val)):
            val[i] = _internalize(val, i, reviver)  # dense arrays: a deleted element reads undefined
    elif type(val) is JSObject:
        for k in own_keys(val):
            new = _internalize(val, k, reviver)
            if new is undefined:
                del val[k]
            else:
                val[k] = new
    return call_with_this(reviver, holder, key if type(key) is str else str(key), val)


def parse(text: Any = undefined, reviver: Any = undefined, *_: Any) -> Any:
    s = text if type(text) is str else to_string(text)
    try:
        result = _arrays(_DECODER.decode(s))
    except _pyjson.JSONDecodeError as e:
        if e.pos >= len(s):
            raise syntax_error("Unexpected end of JSON input") from None
        raise syntax_error(f"Unexpected token {s[e.pos]!r} in JSON at position {e.pos}") from None
    except ValueError as e:  # NaN / Infinity
        raise syntax_error(f"{e} in JSON") from None
    if callable(reviver):
        return _internalize(JSObject({"": result}), "", reviver)
    return result


# --- stringify --------------------------------------------------------------------------------

def quote(s: str) -> str:
    """QuoteJSONString (§25.5.2.3): Python's encoder escapes the same set except lone surrogates."""
    out = encode_basestring(s)
    if _SURROGATES.search(out):
        out = _SURROGATES.sub(lambda m: _surrogate(m.group()), out)
    return out


def _surrogate(m: str) -> str:
    if len(m) == 2:  # a pair kept as two code points is one well-formed character
        return m.encode("utf-16-le", "surrogatepass").decode("utf-16-le")
    return f"\\u{ord(m):04x}"


def _to_json_method(value: Any) -> Any:
    t = type(value)
    if t is JSObject:
        return value.get("toJSON", undefined)
    if t is JSArray:
        return undefined
    if isinstance(value, JSObjectP):
        o: Any = value
        while isinstance(o, dict):
            if "toJSON" in o:
                return o["toJSON"]
            o = getattr(o, "proto", None)
        return undefined
    from pipyd.js import runtime
    return runtime.get(value, "toJSON")


class _Serializer:
    __slots__ = ("replacer", "keys", "gap", "stack")

    def __init__(self, replacer: Any, keys: list[str] | None, gap: str) -> None:
        self.replacer = replacer
        self.keys = keys
        self.gap = gap
        self.stack: list[int] = []

    def property(self, holder: Any, key: str, value: Any, indent: str) -> Any:
        """SerializeJSONProperty: the text for value, or undefined to leave the property out."""
        t = type(value)
        if not (t is str or t is int or t is bool or value is None or value is undefined or t is float):
            to_json = _to_json_method(value)
            if callable(to_json):
                value = call_with_this(to_json, value, key)
        if self.replacer is not None:
            value = call_with_this(self.replacer, holder, key, value)
        t = type(value)
        if t is str:
            return quote(value)
        if t is int:
            return str(value)
        if t is float:
            return number_to_string(value) if value - value == 0 else "null"
        if t is bool:
            return "true" if value else "false"
        if value is None:
            return "null"
        if value is undefined or typeof(value) == "function":
            return undefined
        if isinstance(value, list):
            return self.array(value, indent)
        return self.object(value, indent)

    def _enter(self, value: Any) -> None:
        if id(value) in self.stack:
            raise type_error("Converting circular structure to JSON")
        self.stack.append(id(value))

    def object(self, value: Any, indent: str) -> str:
        self._enter(value)
        inner = indent + self.gap
        keys = self.keys if self.keys is not None else own_keys(value)
        parts = []
        colon = ": " if self.gap else ":"
        for k in keys:
            t = type(value)  # a plain dict read only for plain objects: accessors run their getter
            v = value.get(k, undefined) if t is JSObject or t is JSObjectP else _get(value, k)
            s = self.property(value, k, v, inner)
            if s is not undefined:
                parts.append(quote(k) + colon + s)
        self.stack.pop()
        if not parts:
            return "{}"
        if not self.gap:
            return "{" + ",".join(parts) + "}"
        sep = ",\n" + inner
        return "{\n" + inner + sep.join(parts) + "\n" + indent + "}"

    def array(self, value: list, indent: str) -> str:
        self._enter(value)
        inner = indent + self.gap
        parts = []
        for i, v in enumerate(value):
            s = self.property(value, str(i), v, inner)
            parts.append("null" if s is undefined else s)
        self.stack.pop()
        if not parts:
            return "[]"
        if not self.gap:
            return "[" + ",".join(parts) + "]"
        sep = ",\n" + inner
        return "[\n" + inner + sep.join(parts) + "\n" + indent + "]"


def _get(obj: Any, key: str) -> Any:
    from pipyd.js import runtime
    return runtime.get(obj, key)


def _gap(space: Any) -> str:
    t = type(space)
    if t is int or t is float:
        n = min(10, to_integer(space))
        return " " * int(n) if n >= 1 else ""
    if t is str:
        return space[:10]
    return ""


def _key_list(replacer: list) -> list[str]:
    keys: list[str] = []
    for item in replacer:
        t = type(item)
        if t is str or t is int or t is float:
            k = item if t is str else to_string(item)
            if k not in keys:
                keys.append(k)
    return keys


def stringify(value: Any = undefined, replacer: Any = undefined, space: Any = undefined, *_: Any) -> Any:
    fn = replacer if callable(replacer) else None
    keys = _key_list(replacer) if isinstance(replacer, JSArray) else None
    s = _Serializer(fn, keys, _gap(space))
    holder = JSObject({"": value}) if fn is not None else None  # only a replacer sees the holder
    return s.property(holder, "", value, "")


JSON = BuiltinNamespace({"parse": parse, "stringify": stringify})

EXPORTS: dict[str, object] = {"JSON": JSON}
