"""Stream store backends by name (STYLE.md: pluggable backends chosen from a registry).

``open_store('sqlite', directory='./data')`` makes a store by backend name; ``store_from_option``
reads the §13 ``store`` option (``serveStreamLog({store})``, ``STREAMLOG_STORE``): a
``nats://host:port`` URL selects JetStream, anything else is a directory for the embedded store.
Backends register a factory taking keyword options; every backend accepts ``clock`` (a callable
returning unix ms, for tests) besides its own (sqlite: ``directory``; jetstream: ``url``). The
conformance suite iterates
``backend_names()`` so a new backend is tested the moment it registers.
"""
from __future__ import annotations

from typing import Any, Callable

from .store import BadRequest, StreamStore

StoreFactory = Callable[..., StreamStore]

_BACKENDS: dict[str, StoreFactory] = {}
DEFAULT_DIRECTORY = "./data"     # §13: the embedded store's default


def register_backend(name: str, factory: StoreFactory) -> None:
    """Add (or replace) a backend. ``factory(**options)`` returns an open store."""
    _BACKENDS[name] = factory


def backend_names() -> list[str]:
    """Registered backend names, sorted."""
    return sorted(_BACKENDS)


def open_store(name: str, **options: Any) -> StreamStore:
    """A new store of backend ``name``; BadRequest when no such backend is registered."""
    factory = _BACKENDS.get(name)
    if factory is None:
        raise BadRequest(f"unknown stream store backend {name!r}",
                         {"known": backend_names()})
    return factory(**options)


def store_from_option(store: str | None) -> StreamStore:
    """Interpret the ``store`` option of §13: ``nats://…`` → ``jetstream``, else a directory
    (default ``./data``) → ``sqlite``."""
    if store and store.startswith(("nats://", "tls://")):
        return open_store("jetstream", url=store)
    return open_store("sqlite", directory=store or DEFAULT_DIRECTORY)


def _sqlite(directory: str = DEFAULT_DIRECTORY, **options: Any) -> StreamStore:
    from .sqlite_store import SQLiteStore   # imported on use: sqlite3 loads only when chosen
    return SQLiteStore(directory, **options)


register_backend("sqlite", _sqlite)
