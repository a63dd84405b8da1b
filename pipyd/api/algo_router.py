"""``algo.URLRouter`` (reference §3.4): map ``[host]/path`` patterns to values.

Pattern grammar (what Pipy's tutorials and guides use):
- ``/a/b``        the exact path ``/a/b`` on any host;
- ``/a/*``        the prefix ``/a``: ``/a`` itself, ``/a/`` and everything below, but not ``/ab``;
- ``/*``          every path;
- ``host/...``    the same, only for that host (case-insensitive; a port is ignored);
- ``*.host/...``  any subdomain of ``host`` (one or more labels; not ``host`` itself).
Anything else — no ``/``, a ``*`` elsewhere, an empty host label — throws an Error.

``find(...segments)`` joins its non-null arguments with ``/`` (so ``find(host, path)`` reads
``host//path``), drops the query string and the port, and answers the first of: exact path on
the exact host, longest prefix there; then the same on the longest matching ``*.`` host; then
on the host-less patterns. Exact beats prefix, a longer prefix beats a shorter one.
"""
from __future__ import annotations

from typing import Any

from pipyd.js.coerce import to_string
from pipyd.js.values import HostObject, js_error, undefined


class _PathTable:
    """The patterns of one host: exact paths and prefixes (stored without the ``/*``)."""

    __slots__ = ("exact", "prefix")

    def __init__(self) -> None:
        self.exact: dict[str, Any] = {}
        self.prefix: dict[str, Any] = {}

    def find(self, path: str) -> Any:
        v = self.exact.get(path, _MISS)
        if v is not _MISS:
            return v
        prefix = self.prefix
        if not prefix:
            return _MISS
        p = path
        while True:  # longest prefix first: cut one segment at a time ("/a/b" -> "/a" -> "")
            v = prefix.get(p, _MISS)
            if v is not _MISS:
                return v
            i = p.rfind("/")
            if i < 0:
                return _MISS
            p = p[:i]


_MISS = object()


def _invalid(pattern: str) -> Exception:
    return js_error("Error", f"invalid URL pattern: {pattern!r}")


def _strip_port(host: str) -> str:
    """``example.com:8080`` -> ``example.com``; ``[::1]:80`` -> ``[::1]``."""
    i = host.rfind(":")
    if i >= 0 and host.find("]", i) < 0 and (host[i + 1:].isdigit() or i == len(host) - 1):
        return host[:i]
    return host


def _split(url: str) -> tuple[str, str]:
    """(lower-case host without port, path without query); the path keeps one leading ``/``."""
    q = url.find("?")
    if q >= 0:
        url = url[:q]
    i = url.find("/")
    if i < 0:
        return _strip_port(url).lower(), "/"
    host, path = url[:i], url[i:]
    if path.startswith("//"):  # find(host, '/path') joined as 'host//path'
        path = "/" + path.lstrip("/")
    return _strip_port(host).lower(), path


_CACHE_SIZE = 1024
_CACHE_URL_MAX = 256  # longer URLs (query strings…) are looked up every time


class URLRouter(HostObject):
    """``new algo.URLRouter({pattern: value, …})``; ``find(...segments)``; ``add(pattern, value)``.

    Answers are remembered per joined URL (a proxy asks about the same few host/path pairs on
    every request); ``add`` forgets them, and the memory is emptied when it reaches
    ``_CACHE_SIZE`` URLs (of at most ``_CACHE_URL_MAX`` characters) so that many distinct
    paths cannot grow it without bound."""

    __slots__ = ("_hosts", "_wild", "_any", "_cache")
    js_get = frozenset({"find", "add"})
    js_new = True
    js_class_name = "URLRouter"

    def __init__(self, rules: Any = undefined) -> None:
        self._hosts: dict[str, _PathTable] = {}
        self._wild: list[tuple[str, _PathTable]] = []  # (".suffix", table), longest first
        self._any = _PathTable()
        self._cache: dict[str, Any] = {}
        if isinstance(rules, dict):
            for pattern, value in rules.items():
                self.add(pattern, value)
        elif rules is not undefined and rules is not None:
            raise js_error("TypeError", "algo.URLRouter: expected an object of {pattern: value}")

    def add(self, pattern: Any = undefined, value: Any = undefined) -> None:
        if type(pattern) is not str:
            raise _invalid(to_string(pattern))
        i = pattern.find("/")
        if i < 0:
            raise _invalid(pattern)
        table = self._table_for(pattern, pattern[:i])
        self._cache.clear()
        path = pattern[i:]
        star = path.find("*")
        if star < 0:
            table.exact[path] = value
        elif star == len(path) - 1 and path.endswith("/*"):
            table.prefix[path[:-2]] = value
        else:
            raise _invalid(pattern)

    def find(self, *segments: Any) -> Any:
        if len(segments) == 2 and type(segments[0]) is str and type(segments[1]) is str:
            url = segments[0] + "/" + segments[1]  # find(host, path): the usual call
        else:
            parts = [s if type(s) is str else to_string(s)
                     for s in segments if s is not undefined and s is not None]
            if not parts:
                return undefined
            url = parts[0] if len(parts) == 1 else "/".join(parts)
        cache = self._cache
        v = cache.get(url, _MISS)
        if v is _MISS:
            v = self._find(url)
            if len(url) <= _CACHE_URL_MAX:
                if len(cache) >= _CACHE_SIZE:
                    cache.clear()
                cache[url] = v
        return v

    def _find(self, url: str) -> Any:
        host, path = _split(url)
        if host:
            t = self._hosts.get(host)
            if t is not None:
                v = t.find(path)
                if v is not _MISS:
                    return v
            for suffix, t in self._wild:
                if host.endswith(suffix):
                    v = t.find(path)
                    if v is not _MISS:
                        return v
        v = self._any.find(path)
        return undefined if v is _MISS else v

    def _table_for(self, pattern: str, host: str) -> _PathTable:
        if not host:
            return self._any
        host = _strip_port(host).lower()
        wild = host.startswith("*.")
        name = host[2:] if wild else host
        if not name or "*" in name or any(not label for label in name.split(".")):
            raise _invalid(pattern)
        if not wild:
            return self._hosts.setdefault(name, _PathTable())
        suffix = "." + name
        for s, t in self._wild:
            if s == suffix:
                return t
        t = _PathTable()
        self._wild.append((suffix, t))
        self._wild.sort(key=lambda e: -len(e[0]))
        return t
