"""The ``os`` builtin (Pipy reference §3.3): environment and local files.

Paths are relative to the process's working directory, which the daemon keeps at the
codebase root as Pipy does.
"""
from __future__ import annotations

import os
import stat as _stat
from typing import Any

from pipyd.events import Data
from pipyd.js.values import HostObject, JSObject, type_error, undefined


class Stats(HostObject):
    __slots__ = ("_st",)
    js_get = frozenset({
        "dev", "ino", "mode", "nlink", "uid", "gid", "rdev", "size", "blksize", "blocks",
        "atime", "mtime", "ctime", "isFile", "isDirectory", "isCharacterDevice",
        "isBlockDevice", "isFIFO", "isSymbolicLink", "isSocket",
    })
    js_class_name = "Stats"

    def __init__(self, st: os.stat_result) -> None:
        self._st = st

    def __getattr__(self, name: str) -> Any:
        if name in ("atime", "mtime", "ctime"):
            return getattr(self._st, f"st_{name}")  # seconds, as Pipy
        if name in ("dev", "ino", "mode", "nlink", "uid", "gid", "rdev", "size", "blksize", "blocks"):
            return getattr(self._st, f"st_{name}")
        raise AttributeError(name)

    def _is(self, test: Any) -> bool:
        return bool(test(self._st.st_mode))

    def isFile(self) -> bool:  # noqa: N802 (Pipy's names)
        return self._is(_stat.S_ISREG)

    def isDirectory(self) -> bool:  # noqa: N802
        return self._is(_stat.S_ISDIR)

    def isCharacterDevice(self) -> bool:  # noqa: N802
        return self._is(_stat.S_ISCHR)

    def isBlockDevice(self) -> bool:  # noqa: N802
        return self._is(_stat.S_ISBLK)

    def isFIFO(self) -> bool:  # noqa: N802
        return self._is(_stat.S_ISFIFO)

    def isSymbolicLink(self) -> bool:  # noqa: N802
        return self._is(_stat.S_ISLNK)

    def isSocket(self) -> bool:  # noqa: N802
        return self._is(_stat.S_ISSOCK)


class OS(HostObject):
    __slots__ = ()
    js_get = frozenset({"env", "readFile", "writeFile", "stat"})
    js_class_name = "os"

    @property
    def env(self) -> JSObject:
        return JSObject(os.environ)

    def readFile(self, path: Any = undefined) -> Data | None:  # noqa: N802
        try:
            with open(_path(path, "readFile"), "rb") as f:
                return Data(f.read())
        except OSError:
            return None

    def writeFile(self, path: Any = undefined, content: Any = undefined) -> None:  # noqa: N802
        if type(content) is str:
            raw = content.encode("utf-8")
        elif isinstance(content, Data):
            raw = content.to_bytes()
        else:
            raise type_error("os.writeFile(): expected a string or Data")
        with open(_path(path, "writeFile"), "wb") as f:
            f.write(raw)

    def stat(self, path: Any = undefined) -> Stats | None:
        try:
            return Stats(os.lstat(_path(path, "stat")))
        except OSError:
            return None


def _path(path: Any, what: str) -> str:
    if type(path) is not str or not path:
        raise type_error(f"os.{what}(): expected a file name")
    return path


OS_API = OS()
