"""The bytes of server-sent events (HTML Living Standard §9.2) and the sink consumers write to.

Shared by the per-stream consumers (sse.py, sse_fanout.py) and the ``?substreams=all`` ones
(sse_merged.py): one message codec and one set of limits, kept apart from either delivery
machinery so both import it without importing each other.
"""
from __future__ import annotations

import json
import re
from typing import Any, Callable

from pipyd import log

from .store import Event

HEARTBEAT = 15.0
COMMENT_HEARTBEAT = b": heartbeat\n\n"
DEFAULT_MAX_LAG = 10000
PAGE_EVENTS = 200  # one store read per page keeps a data consumer's working set small
PAGE_BYTES = 256 * 1024

# §9.2.6: a line ends at CRLF, LF or CR; a field value must not contain any of them.
_LINE_BREAKS = re.compile(r"\r\n|\r|\n")


def _field(value: str) -> str:
    return _LINE_BREAKS.sub(" ", value)


def frame(index: int | None, event: str | None, data: str) -> bytes:
    """One SSE message: ``id``, ``event`` and one ``data:`` line per line of ``data``."""
    out = []
    if index is not None:
        out.append(f"id: {index}\n")
    if event:
        out.append(f"event: {_field(event)}\n")
    for line in _LINE_BREAKS.split(data):
        out.append(f"data: {line}\n")
    out.append("\n")
    return "".join(out).encode("utf-8")


def notification_frame(index: int, event_type: str) -> bytes:
    return frame(index, event_type,
                 json.dumps({"index": index, "eventType": event_type}, separators=(",", ":")))


def data_frame(ev: Event) -> bytes:
    try:
        text = ev.data.decode("utf-8")
    except UnicodeDecodeError:
        import base64
        text = base64.b64encode(ev.data).decode("ascii")
    return frame(ev.index, ev.eventType, text)


class SSESink:
    """Where a consumer writes: the filter that serves the response implements these."""

    def write(self, b: bytes) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def end(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def congested(self) -> bool:
        return False

    def watch(self, fn: Callable[[bool], Any]) -> Callable[[], None]:
        """Call ``fn(congested)`` on changes; returns the function that stops watching."""
        return lambda: None


def consumer_failed(consumer: Any, what: str, exc: BaseException) -> None:
    """A store failure while serving one SSE connection: logged, and that connection (only)
    ended, its sink first so the client sees the stream end."""
    log.error(f"[streamlog] SSE consumer of {what} failed: {exc}")
    consumer.sink.end()
    consumer.close()
