"""Event types (streamlog.md §9): JSON Type Definition schemas (RFC 8927), their validation with
error paths, and the TypeScript interfaces generated from them.

- ``check_schema(doc)`` enforces the RFC 8927 §2 rules for a root schema (one form per schema,
  ``definitions`` only at the root, every ``ref`` resolvable, enums non-empty and unique,
  ``properties``/``optionalProperties`` disjoint, discriminator mappings of properties form
  without the tag) and raises ``BadRequest`` naming the offending schema path.
- ``validate(schema, instance)`` returns RFC 8927 §3.3 error indicators, each
  ``{"instancePath": "/a/0", "schemaPath": "/properties/a/elements/type"}`` (JSON Pointers, RFC
  6901), in the RFC's order, at most ``MAX_ERRORS`` of them.
- ``typescript(name, schema)`` renders ``export interface``/``export type`` declarations.

Our own validator: the RFC is small, and the PyPI ``jtd`` package is a thin binding without
releases since 2021. One extension, because the seed's own example uses it: ``"int64"`` and
``"uint64"`` are accepted as integer types (range-checked, ``number`` in TypeScript).
"""
from __future__ import annotations

import math
import re
from typing import Any

from .store import BadRequest

__all__ = ["check_schema", "validate", "typescript", "ts_name", "MAX_ERRORS"]

MAX_ERRORS = 100

# RFC 8927 §2.2.3 type names; int64/uint64 are our extension (see the module doc).
_INT_RANGES = {
    "int8": (-128, 127), "uint8": (0, 255), "int16": (-32768, 32767), "uint16": (0, 65535),
    "int32": (-2 ** 31, 2 ** 31 - 1), "uint32": (0, 2 ** 32 - 1),
    "int64": (-2 ** 63, 2 ** 63 - 1), "uint64": (0, 2 ** 64 - 1),
}
_TYPES = frozenset({"boolean", "string", "timestamp", "float32", "float64", *_INT_RANGES})
_FORM_KEYS = {
    "ref": {"ref"}, "type": {"type"}, "enum": {"enum"}, "elements": {"elements"},
    "properties": {"properties", "optionalProperties", "additionalProperties"},
    "values": {"values"}, "discriminator": {"discriminator", "mapping"},
}
_SHARED = {"nullable", "metadata", "definitions"}
# RFC 3339 §5.6 date-time; the seconds field may be 60 (leap second, RFC 8927 §3.3.3).
_RFC3339 = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?"
                      r"([Zz]|[+-]\d{2}:\d{2})\Z")


def _ptr(tokens: tuple) -> str:
    """RFC 6901 JSON Pointer of a token path."""
    return "".join("/" + str(t).replace("~", "~0").replace("/", "~1") for t in tokens)


def _bad(message: str, path: tuple) -> BadRequest:
    return BadRequest(f"invalid JSON Type Definition: {message}", {"schemaPath": _ptr(path)})


# ---------------------------------------------------------------------------- well-formedness

def check_schema(doc: Any) -> dict:
    """RFC 8927 §2: ``doc`` is a correct root schema, or BadRequest (400)."""
    if type(doc) is not dict:
        raise _bad("a schema is a JSON object", ())
    defs = doc.get("definitions", {})
    if type(defs) is not dict:
        raise _bad("definitions must be an object", ("definitions",))
    for name, sub in defs.items():
        _check(sub, defs, ("definitions", name), False)
    _check(doc, defs, (), True)
    return doc


def _form(schema: dict, path: tuple) -> str:
    forms = [f for f, keys in _FORM_KEYS.items() if keys & schema.keys()]
    if len(forms) > 1:
        raise _bad(f"a schema has one form, this one mixes {' and '.join(forms)}", path)
    unknown = schema.keys() - _SHARED - (_FORM_KEYS[forms[0]] if forms else set())
    if unknown:
        raise _bad(f"unknown keyword {sorted(unknown)[0]!r}", path)
    return forms[0] if forms else "empty"


def _check(schema: Any, defs: dict, path: tuple, root: bool) -> None:
    if type(schema) is not dict:
        raise _bad("a schema is a JSON object", path)
    if "definitions" in schema and not root:
        raise _bad("definitions may appear only at the root", path)
    if "nullable" in schema and type(schema["nullable"]) is not bool:
        raise _bad("nullable must be true or false", path + ("nullable",))
    if "metadata" in schema and type(schema["metadata"]) is not dict:
        raise _bad("metadata must be an object", path + ("metadata",))
    form = _form(schema, path)
    if form == "ref":
        if type(schema["ref"]) is not str or schema["ref"] not in defs:
            raise _bad(f"ref {schema['ref']!r} names no definition", path + ("ref",))
    elif form == "type":
        if schema["type"] not in _TYPES:
            raise _bad(f"unknown type {schema['type']!r}", path + ("type",))
    elif form == "enum":
        e = schema["enum"]
        if type(e) is not list or not e or any(type(x) is not str for x in e) or len(set(e)) < len(e):
            raise _bad("enum must be a non-empty array of distinct strings", path + ("enum",))
    elif form == "elements" or form == "values":
        _check(schema[form], defs, path + (form,), False)
    elif form == "properties":
        _check_properties(schema, defs, path)
    elif form == "discriminator":
        _check_discriminator(schema, defs, path)


def _check_properties(schema: dict, defs: dict, path: tuple) -> None:
    if "properties" not in schema and "optionalProperties" not in schema:
        raise _bad("additionalProperties needs properties or optionalProperties", path)
    seen: set = set()
    for kw in ("properties", "optionalProperties"):
        props = schema.get(kw, {})
        if type(props) is not dict:
            raise _bad(f"{kw} must be an object", path + (kw,))
        for k, sub in props.items():
            if k in seen:
                raise _bad(f"property {k!r} is both required and optional", path + (kw, k))
            seen.add(k)
            _check(sub, defs, path + (kw, k), False)
    if type(schema.get("additionalProperties", False)) is not bool:
        raise _bad("additionalProperties must be true or false", path + ("additionalProperties",))


def _check_discriminator(schema: dict, defs: dict, path: tuple) -> None:
    tag, mapping = schema.get("discriminator"), schema.get("mapping")
    if type(tag) is not str:
        raise _bad("discriminator must be a string", path + ("discriminator",))
    if type(mapping) is not dict:
        raise _bad("a discriminator schema needs a mapping object", path + ("mapping",))
    for k, sub in mapping.items():
        p = path + ("mapping", k)
        _check(sub, defs, p, False)
        if _form(sub, p) != "properties" or sub.get("nullable"):
            raise _bad("mapping values are non-nullable schemas of the properties form", p)
        if tag in sub.get("properties", {}) or tag in sub.get("optionalProperties", {}):
            raise _bad(f"mapping values must not define the tag {tag!r}", p)


# ---------------------------------------------------------------------------------- validation

class _Out:
    __slots__ = ("errors", "defs")

    def __init__(self, defs: dict) -> None:
        self.errors: list[dict] = []
        self.defs = defs

    def add(self, ipath: tuple, spath: tuple) -> None:
        if len(self.errors) >= MAX_ERRORS:
            raise _Full
        self.errors.append({"instancePath": _ptr(ipath), "schemaPath": _ptr(spath)})


class _Full(Exception):
    pass


def validate(schema: dict, instance: Any) -> list[dict]:
    """RFC 8927 §3.3 error indicators of ``instance`` against a checked root ``schema``."""
    out = _Out(schema.get("definitions", {}))
    try:
        _v(schema, instance, (), (), out)
    except _Full:
        pass
    except RecursionError:      # a pathological instance nested past Python's stack
        out.errors.append({"instancePath": "", "schemaPath": "", "tooDeep": True})
    return out.errors


def _v(s: dict, x: Any, ip: tuple, sp: tuple, out: _Out) -> None:
    if x is None and s.get("nullable"):
        return
    if "ref" in s:
        name = s["ref"]
        return _v(out.defs[name], x, ip, ("definitions", name), out)
    if "type" in s:
        if not _type_ok(s["type"], x):
            out.add(ip, sp + ("type",))
    elif "enum" in s:
        if type(x) is not str or x not in s["enum"]:
            out.add(ip, sp + ("enum",))
    elif "elements" in s:
        if type(x) is not list:
            return out.add(ip, sp + ("elements",))
        for i, item in enumerate(x):
            _v(s["elements"], item, ip + (i,), sp + ("elements",), out)
    elif "values" in s:
        if type(x) is not dict:
            return out.add(ip, sp + ("values",))
        for k, item in x.items():
            _v(s["values"], item, ip + (k,), sp + ("values",), out)
    elif "discriminator" in s:
        _v_discriminator(s, x, ip, sp, out)
    elif "properties" in s or "optionalProperties" in s:
        _v_properties(s, x, ip, sp, out, None)


def _type_ok(t: str, x: Any) -> bool:
    tx = type(x)
    if t == "boolean":
        return tx is bool
    if t == "string":
        return tx is str
    if t == "timestamp":
        return tx is str and _timestamp_ok(x)
    if tx is not int and tx is not float:
        return False
    if t == "float32" or t == "float64":
        return True
    if tx is float and (not math.isfinite(x) or x != int(x)):
        return False      # §3.3.3: an integer type accepts numbers with a zero fractional part
    lo, hi = _INT_RANGES[t]
    return lo <= x <= hi


def _timestamp_ok(s: str) -> bool:
    m = _RFC3339.match(s)
    if m is None:
        return False
    y, mo, d, h, mi, sec = (int(g) for g in m.groups()[:6])
    if not (1 <= mo <= 12 and 0 <= h <= 23 and 0 <= mi <= 59 and 0 <= sec <= 60):
        return False
    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    days = (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[mo - 1]
    return 1 <= d <= days


def _v_properties(s: dict, x: Any, ip: tuple, sp: tuple, out: _Out, tag: str | None) -> None:
    if type(x) is not dict:
        kw = "properties" if "properties" in s else "optionalProperties"
        return out.add(ip, sp + (kw,))
    req = s.get("properties", {})
    opt = s.get("optionalProperties", {})
    for k, sub in req.items():
        if k in x:
            _v(sub, x[k], ip + (k,), sp + ("properties", k), out)
        else:
            out.add(ip, sp + ("properties", k))
    for k, sub in opt.items():
        if k in x:
            _v(sub, x[k], ip + (k,), sp + ("optionalProperties", k), out)
    if not s.get("additionalProperties"):
        for k in x:
            if k not in req and k not in opt and k != tag:
                out.add(ip + (k,), sp)


def _v_discriminator(s: dict, x: Any, ip: tuple, sp: tuple, out: _Out) -> None:
    tag = s["discriminator"]
    if type(x) is not dict:
        return out.add(ip, sp + ("discriminator",))
    if tag not in x:
        return out.add(ip, sp + ("discriminator",))
    value = x[tag]
    if type(value) is not str:
        return out.add(ip + (tag,), sp + ("discriminator",))
    sub = s["mapping"].get(value)
    if sub is None:
        return out.add(ip + (tag,), sp + ("mapping",))
    _v_properties(sub, x, ip, sp + ("mapping", value), out, tag)


# ---------------------------------------------------------------------------------- TypeScript

def ts_name(name: str) -> str:
    """An event type name as a TypeScript identifier: ``user-created`` → ``UserCreated``."""
    parts = [p for p in re.split(r"[^A-Za-z0-9_$]+", name) if p]
    ident = "".join(p[:1].upper() + p[1:] for p in parts) or "Event"
    return "_" + ident if ident[0].isdigit() else ident


def _key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z_$][A-Za-z0-9_$]*", k) else _js_string(k)


def _js_string(s: str) -> str:
    import json
    return json.dumps(s, ensure_ascii=False)


def typescript(name: str, schema: dict) -> str:
    """TypeScript declarations for event type ``name``: its definitions first, then the type."""
    out = []
    for d, sub in schema.get("definitions", {}).items():
        out.append(_declare(ts_name(d), sub))
    out.append(_declare(ts_name(name), schema))
    return "\n".join(out)


def _declare(ident: str, s: dict) -> str:
    if ("properties" in s or "optionalProperties" in s) and not s.get("nullable"):
        return f"export interface {ident} {_object(s, '', None)}\n"
    return f"export type {ident} = {_ts(s, '')};\n"


def _ts(s: dict, indent: str) -> str:
    t = _ts_bare(s, indent)
    return f"{t} | null" if s.get("nullable") else t


def _ts_bare(s: dict, indent: str) -> str:
    if "ref" in s:
        return ts_name(s["ref"])
    if "type" in s:
        t = s["type"]
        return "boolean" if t == "boolean" else "string" if t in ("string", "timestamp") else "number"
    if "enum" in s:
        return " | ".join(_js_string(v) for v in s["enum"])
    if "elements" in s:
        inner = _ts(s["elements"], indent)
        return f"({inner})[]" if " " in inner else f"{inner}[]"
    if "values" in s:
        return f"{{ [key: string]: {_ts(s['values'], indent)} }}"
    if "discriminator" in s:
        tag = s["discriminator"]
        alts = [_object(sub, indent, (tag, v)) for v, sub in s["mapping"].items()]
        return " | ".join(alts) if alts else "never"
    if "properties" in s or "optionalProperties" in s:
        return _object(s, indent, None)
    return "unknown"


def _object(s: dict, indent: str, tag: tuple | None) -> str:
    inner = indent + "  "
    lines = []
    if tag is not None:
        lines.append(f"{inner}{_key(tag[0])}: {_js_string(tag[1])};")
    for k, sub in s.get("properties", {}).items():
        lines.append(f"{inner}{_key(k)}: {_ts(sub, inner)};")
    for k, sub in s.get("optionalProperties", {}).items():
        lines.append(f"{inner}{_key(k)}?: {_ts(sub, inner)};")
    if s.get("additionalProperties"):
        lines.append(f"{inner}[key: string]: unknown;")
    return "{\n" + "\n".join(lines) + ("\n" if lines else "") + indent + "}"


# ------------------------------------------------------------------------------- over HTTP (§9)

async def resolve(configs: Any, base: str, name: str, settings: Any = None,
                  seen: frozenset = frozenset()) -> dict | None:
    """The schema of event type ``name`` in stream ``base``'s namespace: its own definitions,
    then those of the streams it imports (in their order, transitively, cycles ignored)."""
    s = settings if settings is not None else await configs.get(base)
    schema = s.types.get(name)
    if schema is not None:
        return schema
    seen = seen | {base}
    for other in s.import_types:
        if other not in seen:
            found = await resolve(configs, other, name, None, seen)
            if found is not None:
                return found
    return None


async def check_events(api: Any, base: str, settings: Any, events: list) -> None:
    """§9 ingest validation: a typed event's data must be JSON (415) matching its schema (422,
    detail ``{part, eventType, errors}`` with the RFC 8927 error indicators)."""
    if not settings.types and not settings.import_types:
        return
    import json
    from .factories import configs_for
    from .http_api import ApiError
    configs = configs_for(api.store)
    for part, ev in enumerate(events):
        schema = await resolve(configs, base, ev.eventType, settings)
        if schema is None:
            continue        # untyped event types need no definition
        try:
            value = json.loads(ev.data)
        except ValueError:
            raise ApiError(415, f"event type {ev.eventType!r} is typed: its data must be JSON",
                           {"part": part, "eventType": ev.eventType}) from None
        errors = validate(schema, value)
        if errors:
            raise ApiError(422, f"event does not match type {ev.eventType!r}",
                           {"part": part, "eventType": ev.eventType, "errors": errors})


async def get_definition(api: Any, req: Any, url: Any) -> Any:
    """``GET …:{type}.json`` (the JTD schema) and ``…:{type}.ts`` (a TypeScript interface)."""
    import json
    from .factories import configs_for
    from .http_api import ApiError, Response
    from .store import NotFound, stream_key
    if req.method not in ("GET", "HEAD"):
        raise ApiError(405, "a type definition is changed at /acct/strm:type",
                       {"allow": "GET, HEAD"}, {"allow": "GET, HEAD, OPTIONS"})
    base = stream_key(url.account, url.stream)
    schema = await resolve(configs_for(api.store), base, url.event_type)
    if schema is None:
        raise NotFound(f"event type {url.event_type!r} has no definition",
                       {"eventType": url.event_type})
    if url.type_format == "json":
        return Response(200, {"content-type": "application/json"},
                        json.dumps(schema, separators=(",", ":")).encode())
    return Response(200, {"content-type": "application/typescript; charset=utf-8"},
                    typescript(url.event_type, schema).encode())


async def put_or_delete(api: Any, req: Any, url: Any) -> Any:
    """``PUT /acct/strm:type`` with a JTD schema defines the type (201, 200 when replaced);
    ``DELETE`` removes the definition (204). Types live on the stream or factory, not on one
    substream, and apply to events going forward (the seed: no backfill)."""
    from .builtin_streams import record_mutation
    from .factories import configs_for, read_json
    from .http_api import Response, json_response
    from .store import NotFound
    if url.substream is not None:
        raise BadRequest("event types are defined on the stream or factory, not on a substream")
    api._authorize(req, url)
    cfgs = configs_for(api.store)
    base = url.base_key
    s = await cfgs.get(base)
    name = url.event_type
    path = f"/{url.account}/{url.stream}:{name}"
    if req.method == "DELETE":
        if name not in s.types:
            raise NotFound(f"event type {name!r} has no definition here", {"eventType": name})
        await cfgs.record(base, "type-deleted", {"name": name})
        await record_mutation(api.store, url.account, "type.deleted", {"type": path})
        return Response(204)
    schema = check_schema(read_json(req))
    await cfgs.record(base, "type", {"name": name, "schema": schema})
    await record_mutation(api.store, url.account, "type.put", {"type": path})
    return json_response(200 if name in s.types else 201, {"eventType": name, "schema": schema},
                         {"location": path + ".json"})
