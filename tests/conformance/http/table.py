"""Vocabulary of the HTTP/1 decoding tables (cases_*.py), h11 style.

Each cases file defines ``CASES: list[tuple[bytes, list]]``: input bytes and the expected events
as tuples ``('start', head_items)``, ``('body', bytes)`` (consecutive bodies merged),
``('end',)``, ``('error', status)``, ``('tunnel', bytes)``, ``('eof_error', status)`` (only
after ``feed_eof``). ``head_items`` is the head as a list of (key, value) pairs in key order
(headers as a list of pairs too), so key order is checked.
"""
from __future__ import annotations

from typing import Any

from pipyd.filters.http_codec import RequestDecoder, ResponseDecoder
from pipyd.js.values import undefined


def req(method: str, path: str, headers: list | None = None, proto: str = "HTTP/1.1") -> tuple:
    return ("start", [("protocol", proto), ("headers", headers or []), ("method", method),
                      ("scheme", undefined), ("authority", undefined), ("path", path)])


def res(status: int, text: str, headers: list | None = None, proto: str = "HTTP/1.1") -> tuple:
    return ("start", [("protocol", proto), ("headers", headers or []), ("status", status),
                      ("statusText", text)])


END = ("end",)


def body(b: bytes) -> tuple:
    return ("body", b)


class Recorder:
    """A decoder sink that records events in the table's shape."""

    def __init__(self) -> None:
        self.events: list[tuple] = []

    def on_message_start(self, head: Any) -> None:
        items = [(k, list(v.items()) if k == "headers" else v) for k, v in head.items()]
        self.events.append(("start", items))

    def on_body(self, b: bytes) -> None:
        ev = self.events
        if ev and ev[-1][0] == "body":
            ev[-1] = ("body", ev[-1][1] + b)
        elif b:
            ev.append(("body", b))

    def on_message_end(self, tail: Any) -> None:
        self.events.append(("end",))

    def on_error(self, status: int, reason: str) -> None:
        self.events.append(("error", status))

    def on_tunnel(self, b: bytes) -> None:
        ev = self.events
        if ev and ev[-1][0] == "tunnel":
            ev[-1] = ("tunnel", ev[-1][1] + b)
        else:
            ev.append(("tunnel", b))


class WholeRecorder(Recorder):
    """A sink that also takes whole messages (the decoders' ``on_message``), recorded as the
    same three events: run through the tables, it shows the one-call path gives what the
    streaming one does for every feeding pattern. ``wholes`` counts the one-call messages."""

    def __init__(self) -> None:
        super().__init__()
        self.wholes = 0

    def on_message(self, head: Any, body: bytes | None = None) -> None:
        self.wholes += 1
        self.on_message_start(head)
        if body:
            self.on_body(body)
        self.on_message_end(None)


def feed_request(pieces: list[bytes], sink: type = Recorder) -> Any:
    """A RequestDecoder fed ``pieces`` into a new ``sink``; the sink."""
    rec = sink()
    d = RequestDecoder(rec)
    for p in pieces:
        d.feed(p)
    return rec


def feed_response(pieces: list[bytes], expect: list, eof: bool = False,
                  sink: type = Recorder) -> Any:
    """A ResponseDecoder told ``expect`` ((bodiless, connect) per request), fed ``pieces``
    (then the end of input when ``eof``) into a new ``sink``; the sink."""
    rec = sink()
    d = ResponseDecoder(rec)
    for b, c in expect:
        d.expect(b, c)
    for p in pieces:
        d.feed(p)
    if eof:
        d.feed_eof()
    return rec


def splits(data: bytes) -> list[list[bytes]]:
    """The feeding patterns: whole, byte by byte, and split at every position."""
    out = [[data], [data[i:i + 1] for i in range(len(data))]]
    out.extend([data[:i], data[i:]] for i in range(1, len(data)))
    return out
