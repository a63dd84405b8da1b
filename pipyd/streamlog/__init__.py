"""The stream-log (specs/streamlog.md): durable per-stream event logs behind one store interface.

``store`` defines the interface and data classes, ``sqlite_store`` the embedded backend,
``registry`` picks a backend by name or by the ``store`` option, ``urls`` parses stream URLs.
The pipeline core never imports this package (DESIGN.md); filters and api modules do.
"""
from .store import (  # noqa: F401  (the package's public names)
    ALL, AppendRequest, AppendResult, BadRequest, Conflict, Event, NewEvent, NotFound, Page,
    PayloadTooLarge, ProducerConflict, Selector, StoreError, StoreUnavailable, StreamInfo,
    StreamNotice, StreamStore, Subscription, TimestampConflict, stream_key,
)
