"""Unit tests of HTTP/2 on demuxHTTP/serveHTTP (filters/http2_server.py), driven by an h2 client."""
