"""``URL`` and ``URLSearchParams`` (Pipy reference §3.3).

Pipy's URL parser is deliberately lenient, not the WHATWG one: a relative URL parses on its
own (``new URL('/a?b').pathname == '/a'``), the protocol defaults to ``http:``, an empty path
becomes ``/``, and the port is filled from the scheme (http/ws 80, https/wss 443, ftp 21,
gopher 70). A base only supplies protocol and host when the URL has no host; a relative path is
resolved against the base path's directory without dot-segment removal (Pipy does none).
"""
from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote_plus

from pipyd.js.coerce import to_string
from pipyd.js.values import HostObject, JSArray, JSObject, type_error, undefined

_DEFAULT_PORTS = {"http:": "80", "https:": "443", "ws:": "80", "wss:": "443",
                  "ftp:": "21", "gopher:": "70"}


def _find_protocol(url: str) -> str:
    """A leading ``scheme:`` (RFC 3986 §3.1 characters), with its colon, or ``''``."""
    for i, c in enumerate(url):
        if c == ":":
            return url[:i + 1] if i > 0 else ""
        if i == 0:
            if not c.isalpha():
                break
        elif not (c.isalnum() or c in "+-."):
            break
    return ""


def _find_host(rest: str) -> str:
    """``//authority`` up to the next ``/`` (slashes included), or ``''`` without ``//``."""
    if rest.startswith("//"):
        body = rest.lstrip("/")
        if body:
            i = rest.find("/", len(rest) - len(body))
            return rest if i < 0 else rest[:i]
    return ""


def _split(url: str) -> tuple[str, str, str]:
    protocol = _find_protocol(url)
    rest = url[len(protocol):]
    host = _find_host(rest)
    return protocol, host.lstrip("/"), rest[len(host):]


class URL(HostObject):
    __slots__ = ("auth", "hash", "host", "hostname", "href", "origin", "password", "path",
                 "pathname", "port", "protocol", "query", "search", "username", "_params")
    js_get = frozenset({"auth", "hash", "host", "hostname", "href", "origin", "password", "path",
                        "pathname", "port", "protocol", "query", "search", "searchParams",
                        "username", "toString"})
    js_new = True
    js_class_name = "URL"

    def __init__(self, url: Any = undefined, base: Any = undefined) -> None:
        if url is undefined:
            raise type_error("URL: expected a string")
        protocol, host, path = _split(to_string(url))
        if not host and base is not undefined and base is not None:
            protocol, host, base_path = _split(to_string(base))
            if not path:
                path = base_path
            elif path[0] != "/":
                i = base_path.rfind("/")
                path = (base_path[:i] if i >= 0 else base_path) + "/" + path
        self._parse(protocol, host, path)

    def _parse(self, protocol: str, host: str, path: str) -> None:
        auth = username = password = ""
        if "@" in host:
            auth, host = host.split("@", 1)
            username, _, password = auth.partition(":")
        if host.startswith("["):  # IPv6 literal: the port follows the bracket
            i = host.find("]")
            if i >= 0 and host[i + 1:i + 2] == ":":
                hostname, port = host[:i + 1], host[i + 2:]
            else:
                hostname, port = host, ""
        else:
            hostname, _, port = host.partition(":")
        hash_ = ""
        i = path.rfind("#")
        if i >= 0:
            path, hash_ = path[:i], path[i:]
        pathname, q, query = path.partition("?")
        search = q + query
        protocol = protocol or "http:"
        if not path:
            path = pathname = "/"
        port = port or _DEFAULT_PORTS.get(protocol, "")
        self.auth, self.hash, self.host, self.hostname = auth, hash_, host, hostname
        self.password, self.path, self.pathname, self.port = password, path, pathname, port
        self.protocol, self.query, self.search, self.username = protocol, query, search, username
        self.origin = protocol + "//" + host
        self.href = protocol + "//" + (auth + "@" if auth else "") + host + path + hash_
        self._params: URLSearchParams | None = None

    @property
    def searchParams(self) -> "URLSearchParams":  # noqa: N802 (Pipy's name)
        if self._params is None:
            self._params = URLSearchParams(self.query)
        return self._params

    def toString(self) -> str:  # noqa: N802
        return self.href

    def __repr__(self) -> str:
        return f"URL({self.href!r})"


class URLSearchParams(HostObject):
    """An ordered multimap of decoded query parameters (``+`` is a space, as forms encode)."""

    __slots__ = ("_pairs",)
    js_get = frozenset({"get", "getAll", "set", "toObject", "toString"})
    js_new = True
    js_class_name = "URLSearchParams"

    def __init__(self, init: Any = undefined) -> None:
        self._pairs: list[list[str]] = []
        if type(init) is str:
            for part in (init[1:] if init.startswith("?") else init).split("&"):
                if part:
                    k, _, v = part.partition("=")
                    self._pairs.append([unquote_plus(k), unquote_plus(v)])
        elif isinstance(init, dict):
            for k, v in init.items():
                values = v if isinstance(v, list) else [v]
                self._pairs.extend([k, to_string(x)] for x in values)
        elif init is not undefined and init is not None:
            raise type_error("URLSearchParams: expected a string or an object")

    def get(self, name: Any = undefined) -> str | None:
        key = to_string(name)
        for k, v in self._pairs:
            if k == key:
                return v
        return None

    def getAll(self, name: Any = undefined) -> JSArray:  # noqa: N802
        key = to_string(name)
        return JSArray(v for k, v in self._pairs if k == key)

    def set(self, name: Any = undefined, value: Any = undefined) -> None:
        """Replaces every value of ``name`` with one, keeping the first one's position."""
        key, val = to_string(name), to_string(value)
        out: list[list[str]] = []
        done = False
        for pair in self._pairs:
            if pair[0] != key:
                out.append(pair)
            elif not done:
                out.append([key, val])
                done = True
        if not done:
            out.append([key, val])
        self._pairs = out

    def toObject(self) -> JSObject:  # noqa: N802
        """One string per name, or an array of strings for a repeated name."""
        obj = JSObject()
        for k, v in self._pairs:
            old = obj.get(k)
            if old is None:
                obj[k] = v
            elif type(old) is JSArray:
                old.append(v)
            else:
                obj[k] = JSArray([old, v])
        return obj

    def toString(self) -> str:  # noqa: N802
        # documented but absent in Pipy 0.70 [doc-only]; provided as browsers serialise it
        return "&".join(quote(k, safe="") + "=" + quote(v, safe="") for k, v in self._pairs)
