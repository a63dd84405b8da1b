"""Flow control for one readable transport: reading pauses while anything holds it back.

Two kinds of back-pressure stop a connection from reading (DESIGN.md, "How events move"):

- its own write buffer is above the transport's high-water mark (asyncio calls the
  protocol's ``pause_writing``, then ``resume_writing`` once below the low-water mark): an
  echo-like pipeline whose peer does not read must not keep reading from that peer;
- a filter downstream cannot take more input (an upstream connection whose write buffer is
  full, a throttle) and calls ``pipeline.pause_input()``; the pipeline's ``FlowControl``
  counts those (several filters may hold at once) and calls ``pause_reading()`` on the first
  and ``resume_reading()`` when the last is resumed.

The transport reads again only when neither holds. Pipy does the same with the
RECEIVING/PAUSING/PAUSED receive states of its inbound (``on_tap_open``/``on_tap_close``).
The class is its own small object (the uvicorn pattern) so inbound connections, the file
reader and the outbound side share it.
"""
from __future__ import annotations

from typing import Any

from pipyd.pipeline import FlowControl

# Write-buffer limits for inbound transports. asyncio's default high-water mark is 64 KiB;
# Pipy reads into 16 KiB buffers and flushes its send buffer at 64 KiB, so the same order
# keeps one slow peer from holding more than a few hundred KiB of a worker's memory.
WRITE_HIGH_WATER = 256 * 1024
WRITE_LOW_WATER = 64 * 1024


class TransportFlow(FlowControl):
    """Pauses ``transport`` reading while its write side is full or a pipeline holds it.

    ``transport`` is anything with ``pause_reading()``/``resume_reading()`` (an asyncio
    transport, or a reader of our own)."""

    __slots__ = ("transport", "write_paused", "read_paused", "closed")

    def __init__(self, transport: Any) -> None:
        super().__init__()
        self.transport = transport
        self.write_paused = False  # our own write buffer is above its high-water mark
        self.read_paused = False  # what the transport was last told
        self.closed = False

    # pipeline side (FlowControl counts nested pause_input() calls for us)
    def pause_reading(self) -> None:
        self._update()

    def resume_reading(self) -> None:
        self._update()

    # write side (the asyncio Protocol forwards its pause_writing/resume_writing)
    def pause_writing(self) -> None:
        self.write_paused = True
        self._update()
        self.output_congested(True)

    def resume_writing(self) -> None:
        self.write_paused = False
        self._update()
        self.output_congested(False)

    def close(self) -> None:
        """The transport is gone: no more calls into it."""
        self.closed = True

    def _update(self) -> None:
        if self.closed:
            return
        want = self.write_paused or self.paused > 0
        if want is self.read_paused:
            return
        self.read_paused = want
        try:
            if want:
                self.transport.pause_reading()
            else:
                self.transport.resume_reading()
        except (RuntimeError, AttributeError):
            # asyncio refuses to pause/resume a closing transport; nothing more will be
            # read from it anyway.
            pass
