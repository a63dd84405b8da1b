"""Host objects for scripts: the Pipy builtins beyond ECMAScript (reference §3).

``host_globals()`` is what every module's globals get on top of the ECMAScript builtins; the
per-module ``pipy`` is added by the Worker.
"""
from __future__ import annotations

from typing import Any


def host_globals() -> dict[str, Any]:
    from pipyd.api.algo import ALGO
    from pipyd.api.json_api import JSON
    from pipyd.api.namespaces import HOST_GLOBALS_7
    from pipyd.api.os_api import OS_API
    from pipyd.events import Data, Message, MessageEnd, MessageStart, StreamEnd
    from pipyd.streamlog.jsapi import StreamLogJS
    g = {
        "algo": ALGO,
        "os": OS_API,
        "JSON": JSON,  # the engine's JSON plus Pipy's decode/encode
        "Data": Data,
        "Message": Message,
        "MessageStart": MessageStart,
        "MessageEnd": MessageEnd,
        "StreamEnd": StreamEnd,
        **HOST_GLOBALS_7,  # crypto, http, stats, logging, URL, URLSearchParams, Netmask, XML…
    }
    # One per module: it finds the worker's serveStreamLog through the `pipy` the Worker adds.
    g["streamlog"] = StreamLogJS(g)
    return g
