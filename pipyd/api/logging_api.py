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
connection (``HTTPTarget`` below).
"""
from __future__ import annotations

import asyncio
import os
import ssl
import sys
from typing import Any, Callable

from pipyd.events import Data
from pipyd.js.builtins.json import stringify
from pipyd.js.coerce import to_string
from pipyd.js.values import HostObject, js_error, type_error, undefined

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


# -- toHTTP ---------------------------------------------------------------------------------------

def _opt(obj: Any, key: str, default: Any) -> Any:
    v = obj.get(key, undefined) if isinstance(obj, dict) else undefined
    return default if v is undefined or v is None else v


class HTTPTarget:
    """Batched POSTs of log records to one URL over a kept-alive HTTP/1.1 connection.

    Batching defaults follow Pipy's: 1000 records or 5 seconds. Requests are sent one at a time
    by a single sender task, so records keep their order. A failed request drops its batch and
    the connection (a log shipper must not grow without bound while the collector is down);
    the next batch reconnects. ``log()`` outside a running event loop only queues: the batch
    goes out from the next call made inside the loop.
    """

    def __init__(self, url: str, options: Any) -> None:
        from pipyd.api.url import URL
        u = URL(url)
        self.host = u.hostname.strip("[]")
        self.port = int(u.port or (443 if u.protocol == "https:" else 80))
        self.tls = _tls_context(_opt(options, "tls", None)) if u.protocol == "https:" else None
        self.method = to_string(_opt(options, "method", "POST"))
        self.target, self.authority = u.path, u.host
        self.headers = [(to_string(k), to_string(v)) for k, v in _opt(options, "headers", {}).items()]
        batch = _opt(options, "batch", None)
        self.size = max(1, int(_opt(batch, "size", 1000)))
        self.interval = float(_opt(batch, "interval", 5))
        self.timeout = float(_opt(batch, "timeout", 60))
        self.prefix = _bytes(_opt(batch, "prefix", ""))
        self.postfix = _bytes(_opt(batch, "postfix", ""))
        self.separator = _bytes(_opt(batch, "separator", "\n"))
        self.pending: list[bytes] = []
        self.bodies: list[bytes] = []
        self.timer: asyncio.TimerHandle | None = None
        self.sender: asyncio.Task | None = None
        self.conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self.sent = self.failed = 0

    def push(self, record: bytes) -> None:
        self.pending.append(record)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if len(self.pending) >= self.size:
            self.flush()
        elif self.timer is None:
            self.timer = loop.call_later(self.interval, self.flush)

    def flush(self) -> None:
        """Close the current batch into a request body and make sure the sender runs."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self.pending:
            self.bodies.append(self.prefix + self.separator.join(self.pending) + self.postfix)
            self.pending = []
        if self.bodies and (self.sender is None or self.sender.done()):
            self.sender = asyncio.get_running_loop().create_task(self._send_all())

    async def drain(self) -> None:
        """Send everything queued so far (shutdown and tests)."""
        self.flush()
        while self.sender is not None and not self.sender.done():
            await self.sender
            if self.bodies:
                self.flush()

    async def _send_all(self) -> None:
        while self.bodies:
            body = self.bodies.pop(0)
            try:
                await asyncio.wait_for(self._request(body), self.timeout)
                self.sent += 1
            except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError):
                self.failed += 1
                self._close()

    async def _request(self, body: bytes) -> None:
        if self.conn is None:
            self.conn = await asyncio.open_connection(self.host, self.port, ssl=self.tls)
        reader, writer = self.conn
        head = [f"{self.method} {self.target} HTTP/1.1", f"host: {self.authority}",
                f"content-length: {len(body)}"]
        head += [f"{k}: {v}" for k, v in self.headers if k.lower() not in ("host", "content-length")]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        await writer.drain()
        await _read_response(reader)

    def _close(self) -> None:
        if self.conn is not None:
            self.conn[1].close()
            self.conn = None


async def _read_response(reader: asyncio.StreamReader) -> None:
    """Consume one response (RFC 9112 §6: content-length or chunked framing)."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").split("\r\n")
    if not head[0].startswith("HTTP/1."):
        raise ValueError("not an HTTP response")
    fields = {}
    for line in head[1:]:
        k, _, v = line.partition(":")
        fields[k.strip().lower()] = v.strip()
    if "chunked" in fields.get("transfer-encoding", "").lower():
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                return
    n = int(fields.get("content-length", "0"))
    if n:
        await reader.readexactly(n)


def _bytes(v: Any) -> bytes:
    return v.to_bytes() if type(v) is Data else to_string(v).encode("utf-8")


def _tls_context(tls: Any) -> ssl.SSLContext:
    """A client context; ``trusted`` (certificates to trust instead of the system's) as Pipy's
    connectTLS takes it: crypto.Certificate objects or PEM strings."""
    ctx = ssl.create_default_context()
    trusted = _opt(tls, "trusted", None)
    if isinstance(trusted, list) and trusted:
        ctx = ssl.create_default_context(cadata="".join(_pem_text(c) for c in trusted))
    cert, key = _opt(tls, "certificate", {}).get("cert"), _opt(tls, "certificate", {}).get("key")
    if cert is not None and key is not None:
        raise js_error("Error", "Logger.toHTTP: client certificates are not supported")
    return ctx


def _pem_text(c: Any) -> str:
    if type(c) is str:
        return c
    if type(c) is Data:
        return c.toString()
    from cryptography.hazmat.primitives.serialization import Encoding
    return c.cert.public_bytes(Encoding.PEM).decode("ascii")
