"""Stream-log store, URL grammar and durability tests (specs/streamlog.md)."""
