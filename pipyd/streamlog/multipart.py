"""The bulk-push body parser: one event per part of a ``multipart/*`` body (streamlog.md §4).

RFC 2046 §5.1.1 frames a multipart body with delimiter lines ``--boundary`` (the closing one
``--boundary--``); the line break *before* a delimiter belongs to the delimiter, not to the
part. Text before the first delimiter (the preamble) and after the closing one (the epilogue)
is ignored. Each part is MIME headers, an empty line, then the part's bytes.

Pipet's examples are written by hand with ``curl --data-binary`` and editors that save bare LF
line ends, so CRLF and LF are accepted alike everywhere a line ends (the header block, the blank
line, the delimiter lines). A part's body keeps its own line ends byte for byte; only the one
line break in front of the next delimiter is removed.

Sans-I/O: bytes in, ``Part`` values out; errors carry the zero-based part number so the HTTP
layer can name the part (the push is all-or-nothing).
"""
from __future__ import annotations

import re

__all__ = ["Part", "MultipartError", "parse_multipart", "boundary_of", "media_type", "is_bulk"]

# RFC 2046 §5.1.1: 1 to 70 characters from bchars; quoted in the header when needed.
_BOUNDARY_PARAM = re.compile(r';\s*boundary\s*=\s*(?:"([^"]{1,70})"|([^\s;"]{1,70}))', re.I)

# multipart types that are not bulk pushes: form-data is one event whose data is a form
# (§2), alternative is one event offered in several renditions.
_NOT_BULK = frozenset({"multipart/form-data", "multipart/alternative"})


class MultipartError(ValueError):
    """A malformed bulk body; ``part`` is the zero-based part number, or None for the whole."""

    def __init__(self, message: str, part: int | None = None) -> None:
        super().__init__(message)
        self.part = part


class Part:
    """One part: lower-cased header names to values, and the body bytes."""

    __slots__ = ("headers", "body")

    def __init__(self, headers: dict[str, str], body: bytes) -> None:
        self.headers = headers
        self.body = body

    def __repr__(self) -> str:
        return f"Part({self.headers!r}, {self.body!r})"


def media_type(content_type: str | None) -> str:
    """``'Multipart/Mixed; boundary=x'`` → ``'multipart/mixed'``."""
    if not content_type:
        return ""
    return content_type.split(";", 1)[0].strip().lower()


def is_bulk(content_type: str | None) -> bool:
    """Whether a request body of this type is a bulk push (§4)."""
    mt = media_type(content_type)
    return mt.startswith("multipart/") and mt not in _NOT_BULK


def boundary_of(content_type: str) -> str:
    m = _BOUNDARY_PARAM.search(content_type)
    if not m:
        raise MultipartError("multipart body without a boundary parameter")
    return m.group(1) or m.group(2)


def _line_end(body: bytes, pos: int) -> int:
    """Index just past the line that starts at ``pos`` (past its LF), or -1."""
    nl = body.find(b"\n", pos)
    return -1 if nl < 0 else nl + 1


def _parse_headers(block: bytes, part: int) -> dict[str, str]:
    headers: dict[str, str] = {}
    last = ""
    for raw in block.split(b"\n"):
        line = raw[:-1] if raw.endswith(b"\r") else raw
        if not line:
            continue
        if line[:1] in (b" ", b"\t") and last:  # obsolete folding (RFC 5322 §2.2.3)
            headers[last] += " " + line.strip().decode("latin-1")
            continue
        name, sep, value = line.partition(b":")
        if not sep or not name or name != name.strip():
            raise MultipartError(f"part {part}: malformed header line", part)
        last = name.decode("latin-1").lower()
        headers[last] = value.strip().decode("latin-1")
    return headers


def _split_part(raw: bytes, part: int) -> Part:
    """Headers, an empty line, the body. A part that starts with its empty line has no headers."""
    if not raw:  # delimiter lines back to back: no headers, empty body
        return Part({}, b"")
    if raw.startswith(b"\r\n"):
        return Part({}, raw[2:])
    if raw.startswith(b"\n"):
        return Part({}, raw[1:])
    m = re.search(rb"\r?\n\r?\n", raw)
    if m is None:
        raise MultipartError(f"part {part}: headers not followed by an empty line", part)
    return Part(_parse_headers(raw[:m.start()], part), raw[m.end():])


def parse_multipart(body: bytes, boundary: str) -> list[Part]:
    """The parts of ``body``; raises MultipartError naming the part at fault."""
    delim = b"--" + boundary.encode("latin-1")
    # the first delimiter: at the very start or at the start of a line (the preamble before it)
    if body.startswith(delim):
        pos = 0
    else:
        i = body.find(b"\n" + delim)
        if i < 0:
            raise MultipartError("no boundary delimiter in the body")
        pos = i + 1
    parts: list[Part] = []
    needle = b"\n" + delim
    while True:
        after = pos + len(delim)
        if body.startswith(b"--", after):
            return parts  # the close delimiter: the epilogue is ignored
        eol = _line_end(body, after)
        if eol < 0 or body[after:eol].strip(b" \t\r\n"):
            raise MultipartError(f"part {len(parts)}: malformed boundary line", len(parts))
        # from eol - 1: a delimiter line right after this one (an empty part) shares its LF
        nxt = body.find(needle, eol - 1)
        if nxt < 0:
            raise MultipartError(f"part {len(parts)}: missing closing boundary", len(parts))
        raw = body[eol:nxt] if nxt >= eol else b""
        if raw.endswith(b"\r"):  # the CR of the CRLF in front of the delimiter
            raw = raw[:-1]
        parts.append(_split_part(raw, len(parts)))
        pos = nxt + 1
