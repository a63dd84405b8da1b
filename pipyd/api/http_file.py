"""``http.File`` (reference §3.3): a static file of the codebase served as a response Message.

``File.from(path)`` looks for ``path``, then ``path.gz``/``path.br`` (pre-compressed variants),
then the same for ``path/index.html``, and returns null when none exists; ``new http.File(path)``
throws instead. Paths are relative to the codebase root (Pipy §0.7), whatever the module that
names them; the worker sets ``File.root``.

``toMessage(acceptEncoding?)`` picks, in Pipy's order, the ``.br`` variant when the
``accept-encoding`` value names ``br``, else the ``.gz`` one when it names ``gzip``, sending it
with ``content-encoding``; otherwise the plain file, or, when only compressed variants exist, the
gzip (or brotli) one decompressed.
``content-type`` comes from the extension of the plain name.
"""
from __future__ import annotations

import gzip
import os
from typing import Any, ClassVar

import brotli

from pipyd.events import Data, Message
from pipyd.js.values import HostObject, JSObject, js_error, type_error, undefined
from pipyd.module import codebase_path

CONTENT_TYPES = {
    "html": "text/html", "css": "text/css", "xml": "text/xml", "txt": "text/plain",
    "gif": "image/gif", "png": "image/png", "jpg": "image/jpeg", "svg": "image/svg+xml",
    "woff": "font/woff", "woff2": "font/woff2", "ico": "image/x-icon",
    "js": "application/javascript", "json": "application/json",
}
DEFAULT_TYPE = "application/octet-stream"


def _read(root: str, path: str) -> bytes | None:
    disk = codebase_path(root, path)[1]
    if not os.path.isfile(disk):
        return None
    try:
        with open(disk, "rb") as f:
            return f.read()
    except OSError:
        return None


class File(HostObject):
    __slots__ = ("path", "_plain", "_gz", "_br", "_type")
    js_get = frozenset({"toMessage"})
    js_static = frozenset({"from"})
    js_new = True
    js_class_name = "File"
    root: ClassVar[str] = "."

    def __init__(self, path: Any = undefined) -> None:
        if type(path) is not str:
            raise type_error("http.File: expected a path")
        if not self._load(path) and not self._load(path.rstrip("/") + "/index.html"):
            raise js_error("Error", f"file not found: {path}")

    def _load(self, path: str) -> bool:
        root = File.root
        self._plain = _read(root, path)
        self._gz = _read(root, path + ".gz")
        self._br = _read(root, path + ".br")
        self.path = path
        ext = path.rsplit("/", 1)[-1].rpartition(".")[2].lower() if "." in path.rsplit("/", 1)[-1] else ""
        self._type = CONTENT_TYPES.get(ext, DEFAULT_TYPE)
        return self._plain is not None or self._gz is not None or self._br is not None

    @classmethod
    def from_(cls, path: Any = undefined) -> "File | None":
        if type(path) is not str:
            raise type_error("http.File.from: expected a path")
        f = cls.__new__(cls)
        if f._load(path) or f._load(path.rstrip("/") + "/index.html"):
            return f
        return None

    def toMessage(self, accept_encoding: Any = undefined) -> Message:  # noqa: N802 (Pipy's name)
        accept = accept_encoding.lower() if type(accept_encoding) is str else ""
        headers = JSObject({"content-type": self._type})
        if self._br is not None and "br" in accept:
            body, headers["content-encoding"] = self._br, "br"
        elif self._gz is not None and "gzip" in accept:
            body, headers["content-encoding"] = self._gz, "gzip"
        elif self._plain is not None:
            body = self._plain
        elif self._gz is not None:
            body = gzip.decompress(self._gz)
        else:
            body = brotli.decompress(self._br or b"")
        return Message(JSObject({"status": 200, "headers": headers}), Data.from_bytes(body))

    def __repr__(self) -> str:
        return f"http.File({self.path!r})"
