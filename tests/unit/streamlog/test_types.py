"""JSON Type Definition (RFC 8927) checks, validation error indicators and TypeScript output."""
from __future__ import annotations

import pytest

from pipyd.streamlog.store import BadRequest
from pipyd.streamlog.types import check_schema, ts_name, typescript, validate

# (schema, instance, expected [(instancePath, schemaPath)]) — cases after RFC 8927 §3.3's examples
CASES = [
    ({}, {"anything": [1, None]}, []),
    ({"type": "boolean"}, True, []),
    ({"type": "boolean"}, 1, [("", "/type")]),
    ({"type": "string"}, "x", []),
    ({"type": "timestamp"}, "1985-04-12T23:20:50.52Z", []),
    ({"type": "timestamp"}, "1990-12-31T23:59:60Z", []),            # leap second
    ({"type": "timestamp"}, "2021-02-30T00:00:00Z", [("", "/type")]),
    ({"type": "uint8"}, 255, []),
    ({"type": "uint8"}, 256, [("", "/type")]),
    ({"type": "int8"}, 3.0, []),                                     # zero fractional part
    ({"type": "int8"}, 3.5, [("", "/type")]),
    ({"type": "int32"}, True, [("", "/type")]),
    ({"type": "int64"}, 2 ** 40, []),                                # the seed's extension
    ({"type": "float32"}, 1.5, []),
    ({"type": "string", "nullable": True}, None, []),
    ({"type": "string"}, None, [("", "/type")]),
    ({"enum": ["A", "B"]}, "C", [("", "/enum")]),
    ({"elements": {"type": "string"}}, ["a", 1, "b", None],
     [("/1", "/elements/type"), ("/3", "/elements/type")]),
    ({"elements": {"type": "string"}}, {}, [("", "/elements")]),
    ({"values": {"type": "uint8"}}, {"a": 1, "b": -1}, [("/b", "/values/type")]),
    ({"properties": {"a": {"type": "string"}}, "optionalProperties": {"b": {"type": "uint8"}}},
     {"b": "x", "c": 1},
     [("", "/properties/a"), ("/b", "/optionalProperties/b/type"), ("/c", "")]),
    ({"properties": {"a": {"type": "string"}}, "additionalProperties": True}, {"a": "", "z": 1}, []),
    ({"optionalProperties": {"a": {}}}, [], [("", "/optionalProperties")]),
    ({"discriminator": "kind", "mapping": {"x": {"properties": {"n": {"type": "uint8"}}}}},
     {"kind": "x", "n": 1}, []),
    ({"discriminator": "kind", "mapping": {"x": {"properties": {"n": {"type": "uint8"}}}}},
     {"kind": "y"}, [("/kind", "/mapping")]),
    ({"discriminator": "kind", "mapping": {"x": {"properties": {"n": {"type": "uint8"}}}}},
     {"n": 1}, [("", "/discriminator")]),
    ({"discriminator": "kind", "mapping": {"x": {"properties": {"n": {"type": "uint8"}}}}},
     {"kind": "x", "n": "1"}, [("/n", "/mapping/x/properties/n/type")]),
    ({"definitions": {"id": {"type": "uint32"}}, "properties": {"id": {"ref": "id"}}},
     {"id": -1}, [("/id", "/definitions/id/type")]),
    ({"properties": {"a/b~": {"type": "string"}}}, {"a/b~": 1}, [("/a~1b~0", "/properties/a~1b~0/type")]),
]


@pytest.mark.parametrize("schema,instance,expected", CASES)
def test_validate(schema, instance, expected):
    check_schema(schema)
    got = [(e["instancePath"], e["schemaPath"]) for e in validate(schema, instance)]
    assert got == expected


BAD_SCHEMAS = [
    [], {"type": "int128"}, {"type": "string", "enum": ["a"]}, {"enum": []}, {"enum": ["a", "a"]},
    {"ref": "nope"}, {"elements": {"definitions": {}}}, {"nullable": "yes"}, {"foo": 1},
    {"properties": {"a": {}}, "optionalProperties": {"a": {}}}, {"additionalProperties": True},
    {"discriminator": "k", "mapping": {"x": {"type": "string"}}},
    {"discriminator": "k", "mapping": {"x": {"properties": {"k": {}}}}},
    {"discriminator": "k", "mapping": {"x": {"properties": {}, "nullable": True}}},
]


@pytest.mark.parametrize("schema", BAD_SCHEMAS)
def test_bad_schemas_are_refused(schema):
    with pytest.raises(BadRequest):
        check_schema(schema)


def test_error_count_is_bounded():
    errors = validate({"elements": {"type": "string"}}, list(range(1000)))
    assert len(errors) == 100


def test_typescript_interface():
    schema = {"definitions": {"addr": {"properties": {"city": {"type": "string"}}}},
              "properties": {"id": {"type": "int64"}, "tags": {"elements": {"type": "string"}},
                             "addr": {"ref": "addr", "nullable": True}},
              "optionalProperties": {"kind": {"enum": ["a", "b"]}, "my-key": {}}}
    ts = typescript("user-created", schema)
    assert "export interface Addr {\n  city: string;\n}" in ts
    assert "export interface UserCreated {" in ts
    assert "  id: number;" in ts and "  tags: string[];" in ts and "  addr: Addr | null;" in ts
    assert '  kind?: "a" | "b";' in ts and '  "my-key"?: unknown;' in ts


def test_typescript_other_forms():
    assert typescript("n", {"type": "uint8", "nullable": True}) == "export type N = number | null;\n"
    ts = typescript("ev", {"discriminator": "t", "mapping": {"a": {"properties": {"x": {"type": "boolean"}}}}})
    assert ts.startswith("export type Ev = {\n  t: \"a\";\n  x: boolean;\n}")
    assert typescript("v", {"values": {"type": "string"}}) == \
        "export type V = { [key: string]: string };\n"
    assert ts_name("9lives") == "_9lives"
