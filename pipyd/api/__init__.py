"""Host objects for scripts: the Pipy builtins beyond ECMAScript (reference §3).

``host_globals()`` is what every module's globals get on top of the ECMAScript builtins; the
per-module ``pipy`` is added by the Worker.
"""
from __future__ import annotations

from typing import Any


def host_globals() -> dict[str, Any]:
    from pipyd.api.algo import ALGO
    from pipyd.api.os_api import OS_API
    from pipyd.events import Data, Message, MessageEnd, MessageStart, StreamEnd
    return {
        "algo": ALGO,
        "os": OS_API,
        "Data": Data,
        "Message": Message,
        "MessageStart": MessageStart,
        "MessageEnd": MessageEnd,
        "StreamEnd": StreamEnd,
    }
