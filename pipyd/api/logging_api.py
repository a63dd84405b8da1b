"""``logging.JSONLogger``, ``logging.TextLogger``, ``logging.BinaryLogger`` (reference §3.6).

``log(...values)`` turns its arguments into one record and hands it to every target the logger
was given with ``toStdout()``, ``toStderr()``, ``toFile(path)``, ``toSyslog(priority)`` or
``toHTTP(url, options)`` (each returns the logger, so they chain). Records: JSON — each argument
JSON-encoded, space-separated; text — strings as they are, Data as UTF-8, other values
JSON-encoded, space-separated; binary — the bytes of Data and strings, concatenated. Stream and
file targets end each record with a newline.

``toHTTP`` batches as Pipy does: records gather until ``batch.size`` of them are waiting or
``batch.interval`` seconds pass since the first one, then go in one request whose body is
``prefix + records joined by separator + postfix``; requests go one at a time over a kept-alive
connection (see log_http).
"""
from __future__ import annotations

import os
import sys
from typing import Any, Callable

from pipyd.api.log_http import HTTPTarget
from pipyd.events import Data
from pipyd.js.builtins.json import stringify
from pipyd.js.coerce import to_string
from pipyd.js.values import HostObject, type_error, undefined

_SYSLOG_LEVELS = {"EMERG": 0, "ALERT": 1, "CRIT": 2, "ERR": 3, "ERROR": 3, "WARNING": 4,
                  "WARN": 4, "NOTICE": 5, "INFO": 6, "DEBUG": 7}


def _json(v: Any) -> str:
    s = stringify(v)
    return "null" if s is undefined else s


class Logger(HostObject):
    __slots__ = ("name", "_targets")
    js_get = frozenset({"name", "log", "toStdout", "toStderr", "toFile", "toHTTP", "toSyslog"})
    js_new = True
    js_class_name = "Logger"

    def __init__(self, name: Any = undefined) -> None:
        if type(name) is not str:
            raise type_error(f"logging.{self.js_class_name}: expected a name")
        self.name = name
        self._targets: list[Callable[[bytes], None]] = []

    def format(self, values: tuple[Any, ...]) -> bytes:
        raise NotImplementedError

    def log(self, *values: Any) -> None:
        if self._targets:
            record = self.format(values)
            for t in self._targets:
                t(record)

    def _stream(self, stream: Any) -> "Logger":
        def write(record: bytes) -> None:
            stream.buffer.write(record + b"\n")
            stream.buffer.flush()
        self._targets.append(write)
        return self

    def toStdout(self) -> "Logger":  # noqa: N802 (Pipy's names)
        return self._stream(sys.stdout)

    def toStderr(self) -> "Logger":  # noqa: N802
        return self._stream(sys.stderr)

    def toFile(self, path: Any = undefined) -> "Logger":  # noqa: N802
        if type(path) is not str or not path:
            raise type_error("Logger.toFile: expected a file name")
        # O_APPEND: one write() per record stays whole even with several workers on one file
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        self._targets.append(lambda record: os.write(fd, record + b"\n"))
        return self

    def toSyslog(self, priority: Any = "INFO") -> "Logger":  # noqa: N802
        import syslog
        level = _SYSLOG_LEVELS.get(to_string(priority).upper(), 6) if priority is not undefined else 6
        self._targets.append(lambda record: syslog.syslog(level, record.decode("utf-8", "replace")))
        return self

    def toHTTP(self, url: Any = undefined, options: Any = undefined) -> "Logger":  # noqa: N802
        if type(url) is not str:
            raise type_error("Logger.toHTTP: expected a URL")
        self._targets.append(HTTPTarget(url, options).push)
        return self


class JSONLogger(Logger):
    __slots__ = ()
    js_class_name = "JSONLogger"

    def format(self, values: tuple[Any, ...]) -> bytes:
        return " ".join(_json(v) for v in values).encode("utf-8", "surrogatepass")


def _text(v: Any) -> str:
    t = type(v)
    if t is str:
        return v
    if t is Data:
        return v.toString()
    if t in (int, float, bool) or v is None or v is undefined:
        return to_string(v)
    return _json(v)


class TextLogger(Logger):
    __slots__ = ()
    js_class_name = "TextLogger"

    def format(self, values: tuple[Any, ...]) -> bytes:
        return " ".join(_text(v) for v in values).encode("utf-8", "surrogatepass")


class BinaryLogger(Logger):
    __slots__ = ()
    js_class_name = "BinaryLogger"

    def format(self, values: tuple[Any, ...]) -> bytes:
        out = []
        for v in values:
            t = type(v)
            out.append(v.to_bytes() if t is Data else
                       v.encode("utf-8", "surrogatepass") if t is str else _json(v).encode())
        return b"".join(out)
