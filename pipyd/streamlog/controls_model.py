"""What stream-log controls are made of (streamlog.md §12): the permissions, the principal a
request speaks for, a stream's controls document (public, members, rate limits, blocklist), and
the snapshot of all of them that options and the ``pipet/controls`` meta stream add up to.

Data and parsing only, separate from the credentials that name a principal
(controls_credentials.py), the decisions made with them (controls_access.py) and the HTTP
endpoints (controls.py), all of which read it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .store import BadRequest

PERMS = ("read", "write", "execute")
_ALL = frozenset(PERMS)
_PUBLIC = {"none": frozenset(), "read": frozenset({"read"}), "write": frozenset({"write"}),
           "readwrite": frozenset({"read", "write"})}


def _err(status: int, message: str, detail: Any = None, headers: dict | None = None) -> Exception:
    from .http_api import ApiError
    return ApiError(status, message, detail, headers)


def _unauthenticated(account: str) -> Exception:
    return _err(401, "authentication required", {"account": account},
                {"www-authenticate": 'Bearer realm="streamlog"'})


def _perms(value: Any, default: frozenset = _ALL) -> frozenset:
    if value is None:
        return default
    if type(value) is not list or not all(p in PERMS for p in value):
        raise BadRequest("permissions are a subset of ['read', 'write', 'execute']",
                         {"permissions": value})
    return frozenset(value)


@dataclass(frozen=True)
class Principal:
    """Who a request speaks for and what it may do. ``scope``: a store key the credential is
    limited to (a signed substream URL, a stream-bound token), or None."""
    account: str | None
    perms: frozenset
    admin: bool = False
    scope: str | None = None


_ADMIN = Principal(None, _ALL, True)


@dataclass
class StreamControls:
    public: frozenset = frozenset()
    members: dict | None = None          # account → frozenset of perms
    rate: tuple | None = None            # (rate, burst) for the stream and its substreams together
    sub_rate: tuple | None = None        # (rate, burst) per substream
    referers: tuple = ()                 # fnmatch patterns (case-insensitive)
    arguments: frozenset = frozenset()   # canonical substream arguments

    @classmethod
    def parse(cls, doc: Any) -> "StreamControls":
        known = {"public", "members", "rateLimit", "substreamRateLimit", "blocklist"}
        if type(doc) is not dict or set(doc) - known:
            raise BadRequest("stream controls are {public, members, rateLimit,"
                             " substreamRateLimit, blocklist}", {"keys": sorted(known)})
        pub = doc.get("public", "none")
        if pub not in _PUBLIC:
            raise BadRequest("public is none, read, write or readwrite", {"public": pub})
        members = doc.get("members") or {}
        if type(members) is not dict:
            raise BadRequest("members is {account: [permissions]}")
        bl = doc.get("blocklist") or {}
        if type(bl) is not dict or set(bl) - {"referers", "arguments"}:
            raise BadRequest("blocklist is {referers: [patterns], arguments: [args]}")
        refs, args = bl.get("referers") or [], bl.get("arguments") or []
        if type(refs) is not list or not all(type(r) is str for r in refs) or type(args) is not list:
            raise BadRequest("blocklist.referers holds patterns, blocklist.arguments substream"
                             " arguments")
        return cls(_PUBLIC[pub], {str(a): _perms(p) for a, p in members.items()},
                   _rate(doc.get("rateLimit")), _rate(doc.get("substreamRateLimit")),
                   tuple(r.lower() for r in refs), frozenset(_canonical_arg(a) for a in args))


def _rate(doc: Any) -> tuple | None:
    if doc is None:
        return None
    if type(doc) is not dict or type(doc.get("rate")) not in (int, float) or doc["rate"] < 0:
        raise BadRequest("a rate limit is {rate: events per second, burst}", {"rateLimit": doc})
    burst = doc.get("burst", max(1, doc["rate"]))
    if type(burst) not in (int, float) or burst < 1:
        raise BadRequest("rateLimit.burst is a number >= 1", {"burst": burst})
    return float(doc["rate"]), float(burst)


def _canonical_arg(arg: Any) -> str:
    """A substream argument as its canonical URL text: a string is a JS string literal unless
    it already reads as a literal or identifier; numbers, booleans and null as JSON."""
    from .urls import parse_stream_url
    if type(arg) is str:
        try:
            sub = parse_stream_url(f"/a/s({arg})").substream
        except BadRequest:
            sub = None
        if sub is not None:
            return sub.canonical
        arg = json.dumps(arg)
    elif arg is None or type(arg) in (bool, int, float):
        arg = json.dumps(arg)
    else:
        raise BadRequest("a substream argument is a string, number, boolean or null", {"arg": arg})
    return parse_stream_url(f"/a/s({arg})").substream.canonical


class _Snapshot:
    """Static options merged with the replayed meta stream."""

    def __init__(self) -> None:
        self.keys: dict[str, tuple[str, str, frozenset]] = {}   # digest → (account, id, perms)
        self.accounts: dict[str, dict] = {}                     # account → document
        self.public_keys: dict[str, dict[str, Any]] = {}        # account → kid → key object
        self.streams: dict[str, StreamControls] = {}            # base key → controls
        self.stream_docs: dict[str, dict] = {}
        self.secret: bytes | None = None

    def managed(self, account: str) -> bool:
        return account in self.accounts
