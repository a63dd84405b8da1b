"""Pipy's JSON extensions (reference §3.3): ``JSON.decode(Data)`` and ``JSON.encode(v) → Data``.

The ECMAScript ``JSON.parse``/``stringify`` come from the engine; this namespace adds the two
byte-level forms the daemon's scripts use (the tutorial reads its config with
``JSON.decode(pipy.load('config.json'))``). As in Pipy, ``decode`` answers ``undefined`` for
bytes that are not JSON instead of throwing: scripts written for Pipy cannot catch.
"""
from __future__ import annotations

from typing import Any

from pipyd.events import Data
from pipyd.js.builtins import json as js_json
from pipyd.js.builtins.classes import BuiltinNamespace
from pipyd.js.values import JSThrow, type_error, undefined


def decode(data: Any = undefined, reviver: Any = undefined, *_: Any) -> Any:
    if isinstance(data, Data):
        text = data.to_bytes().decode("utf-8", "replace")
    elif type(data) is str:
        text = data
    else:
        raise type_error("JSON.decode(): expected a Data")
    try:
        return js_json.parse(text, reviver)
    except JSThrow:
        return undefined


def encode(value: Any = undefined, replacer: Any = undefined, space: Any = undefined, *_: Any) -> Data:
    text = js_json.stringify(value, replacer, space)
    return Data(b"" if text is undefined else text.encode("utf-8", "surrogatepass"))


JSON = BuiltinNamespace({"parse": js_json.parse, "stringify": js_json.stringify,
                         "decode": decode, "encode": encode})
