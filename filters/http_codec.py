"""HTTP/1.x codec, sans-I/O: the one import the HTTP filters (and muxHTTP) use.

- ``RequestDecoder`` (http_decode.py): llhttp via httptools, strict.
- ``ResponseDecoder`` (http_decode_response.py): Python framing that knows HEAD/CONNECT.
- ``response_head``, ``request_head``, ``MessageEncoder`` (http_encode.py).

Deliberate differences from Pipy 0.70 (a production proxy must not be lenient here, or the
Pipy behaviour is a quirk not worth keeping):

1. Request smuggling and malformed requests are answered ``400`` and the connection closed:
   content-length with transfer-encoding, duplicate/invalid content-length, bad chunk sizes,
   bare LF, obs-fold, a second ``host`` (Pipy's own parser accepts most of these).
2. A request head over 32 KiB (``max_head_size``) is answered ``431`` (Pipy silently truncates
   lines at 4 KiB); a request body over the buffering limit of ``serveHTTP`` gets ``413``.
3. A request version other than HTTP/1.0 or HTTP/1.1 is answered ``505`` before closing (Pipy
   closes without a response).
4. ``statusText`` of a decoded response is the whole reason phrase (Pipy keeps only its first
   word, ``404 Not Found`` -> ``Not``, and re-emits that when proxying).
5. Keep-alive follows RFC 9112 §9.3 through llhttp: ``Connection`` tokens are compared
   case-insensitively (Pipy: case-sensitive ``close``), and HTTP/1.0 is persistent only with
   ``Connection: keep-alive`` (Pipy: HTTP/1.0 with any ``Connection`` header stays open).
6. A long response body to an HTTP/1.0 request is sent close-delimited, not chunked (HTTP/1.0
   clients cannot read chunked, RFC 9112 §7.1); the connection closes after it.
7. 304 responses are bodiless like 204 (their content-length is kept, no body is sent).
8. Header lines whose name or value contain CR or LF are dropped on encoding (response
   splitting); a malformed upstream response is a ``502`` error like a failed connection.
9. An ``Upgrade`` request is an upgrade only with ``Connection: upgrade`` (RFC 9110 §7.8).
10. serveHTTP: a handler that throws is answered ``500`` (Pipy: empty ``200``); a request with
    ``Expect: 100-continue`` gets ``100 Continue`` first, since serveHTTP waits for the body.
11. Requests pipelined after one that closes the connection are not served (RFC 9112 §9.6).
"""
from __future__ import annotations

from .http_decode import DEFAULT_MAX_HEAD_SIZE, ProtocolError, RequestDecoder
from .http_decode_response import ResponseDecoder
from .http_encode import (CHUNKED, DEFAULT_BUFFER_SIZE, LAST_CHUNK, NO_BODY, REASONS, UNTIL_CLOSE,
                          MessageEncoder, chunk_header, request_head, response_head)

DEFAULT_MAX_BODY_SIZE = 64 * 1024 * 1024  # serveHTTP buffers whole requests: above this, 413

__all__ = [
    "CHUNKED", "DEFAULT_BUFFER_SIZE", "DEFAULT_MAX_BODY_SIZE", "DEFAULT_MAX_HEAD_SIZE", "LAST_CHUNK",
    "NO_BODY", "REASONS", "UNTIL_CLOSE", "MessageEncoder", "ProtocolError", "RequestDecoder",
    "ResponseDecoder", "chunk_header", "request_head", "response_head",
]
