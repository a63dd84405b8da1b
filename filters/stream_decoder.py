"""The shape the binary protocol decoders share (decodeDubbo, decodeMQTT, decodeWebSocket).

Each reads a byte stream as a state machine in ``_feed``. Once the stream is found malformed
the decoder enters ``DEAD`` and drops the rest of that stream; a ``StreamEnd`` resets it and
passes on, because Pipy lets a new stream follow on the same filter.
"""
from __future__ import annotations

from typing import Any

from pipyd.events import Data, StreamEnd
from pipyd.pipeline import Filter

DEAD = -1  # the decoders' own states count up from 0


class StreamDecoder(Filter):
    __slots__ = ("state",)

    @classmethod
    def configure(cls, config: Any, *args: Any) -> "StreamDecoder":
        f = cls.__new__(cls)
        f.reset()
        return f

    def process(self, evt: Any) -> None:
        t = type(evt)
        if t is Data:
            if self.state != DEAD:
                feed = self._feed
                for chunk in evt.chunks:
                    feed(chunk)
        elif t is StreamEnd:
            self.reset()
            self.next.process(evt)

    def _feed(self, b: bytes) -> None:
        raise NotImplementedError
