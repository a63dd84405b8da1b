"""The Pipy-style logger: ``YYYY-MM-DD HH:MM:SS.mmm [INF] message`` lines on stderr.

Pipy 0.70 orders its levels DEBUG < WARN < ERROR < INFO and prints a line when
``level >= threshold`` (reference §6, ``--log-level``), with a default threshold of ``error``:
INFO lines are always printed, ``--log-level=info`` *hides* ``[ERR]`` lines, ``warn`` adds
``[WRN]``, ``debug`` shows everything. pipyd keeps that order by default (``pipy_order=True``);
``configure(pipy_order=False)`` switches to the conventional DEBUG < INFO < WARN < ERROR.
``console.log``, ``print()`` and ``dump()`` bypass the threshold: they use ``always()``.
"""
from __future__ import annotations

import sys
import time
from typing import TextIO

DEBUG, WARN, ERROR, INFO = 0, 1, 2, 3
_TAGS = {DEBUG: "[DBG]", WARN: "[WRN]", ERROR: "[ERR]", INFO: "[INF]"}
_PIPY_RANK = {DEBUG: 0, WARN: 1, ERROR: 2, INFO: 3}
_CONVENTIONAL_RANK = {DEBUG: 0, INFO: 1, WARN: 2, ERROR: 3}
_NAMES = {"debug": DEBUG, "warn": WARN, "error": ERROR, "info": INFO}


class Logger:
    """One output stream and one threshold; the module-level functions use ``LOGGER``."""

    __slots__ = ("stream", "level", "threshold", "rank", "_sec", "_sec_text")

    def __init__(self, stream: TextIO | None = None, level: str = "error",
                 pipy_order: bool = True) -> None:
        self.stream = stream
        self.rank = _PIPY_RANK if pipy_order else _CONVENTIONAL_RANK
        self.level = _level(level)
        self.threshold = self.rank[self.level]
        self._sec = -1
        self._sec_text = ""

    def enabled(self, level: int) -> bool:
        return self.rank[level] >= self.threshold

    def timestamp(self) -> str:
        now = time.time()
        sec = int(now)
        if sec != self._sec:  # strftime once per second, not per line
            self._sec = sec
            self._sec_text = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(sec))
        return f"{self._sec_text}.{int((now - sec) * 1000):03d}"

    def write(self, level: int, message: str) -> None:
        stream = self.stream or sys.stderr
        stream.write(f"{self.timestamp()} {_TAGS[level]} {message}\n")
        stream.flush()

    def log(self, level: int, message: str) -> None:
        if self.rank[level] >= self.threshold:
            self.write(level, message)


def _level(name: str) -> int:
    try:
        return _NAMES[name.lower()]
    except KeyError:
        raise ValueError(f"unknown log level: {name}") from None


LOGGER = Logger()


def configure(level: str | None = None, pipy_order: bool | None = None,
              stream: TextIO | None = None) -> None:
    """Set the threshold (``debug|info|warn|error``), the level order, or the stream."""
    if pipy_order is not None:
        LOGGER.rank = _PIPY_RANK if pipy_order else _CONVENTIONAL_RANK
    if level is not None:
        LOGGER.level = _level(level)
    LOGGER.threshold = LOGGER.rank[LOGGER.level]
    if stream is not None:
        LOGGER.stream = stream


def set_stream(stream: TextIO | None) -> None:
    """Redirect the log (None = the current ``sys.stderr``)."""
    LOGGER.stream = stream


def debug(message: str) -> None:
    LOGGER.log(DEBUG, message)


def info(message: str) -> None:
    LOGGER.log(INFO, message)


def warn(message: str) -> None:
    LOGGER.log(WARN, message)


def error(message: str) -> None:
    LOGGER.log(ERROR, message)


def always(message: str) -> None:
    """An ``[INF]`` line whatever the threshold (console.log, print(), dump())."""
    LOGGER.write(INFO, message)
