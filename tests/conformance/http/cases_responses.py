"""Response decoding: bytes -> events (reference §4.2, §4.3; RFC 9112 §6.3).

Each case may carry a third element: the expectations queued before feeding, a list of
``(bodiless, connect)`` pairs (one per request sent), and a fourth: True to call feed_eof.
"""
from .table import END, body, res

CASES = [
    (b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
     [res(200, "OK", [("content-length", "3")]), body(b"abc"), END]),
    # the whole reason phrase (Pipy keeps only "Not": a documented difference)
    (b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
     [res(404, "Not Found", [("content-length", "0")]), END]),
    (b"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", [res(200, "", [("content-length", "0")]), END]),
    # chunked, extensions and trailers
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\na\r\n0123456789\r\n0\r\nT: 1\r\n\r\n",
     [res(200, "OK", [("transfer-encoding", "chunked")]), body(b"abc0123456789"), END]),
    # read until close
    (b"HTTP/1.0 200 OK\r\n\r\nuntil close", [res(200, "OK", proto="HTTP/1.0"), body(b"until close"), END],
     [], True),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxyz",
     [res(200, "OK", [("transfer-encoding", "gzip")]), body(b"xyz"), END], [], True),
    # 204 / 304 / HEAD: no body whatever content-length says; pipelined after them
    (b"HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx",
     [res(204, "No Content"), END, res(200, "OK", [("content-length", "1")]), body(b"x"), END]),
    (b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
     [res(304, "Not Modified", [("content-length", "10")]), END]),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
     [res(200, "OK", [("content-length", "10")]), END,
      res(200, "OK", [("content-length", "2")]), body(b"ok"), END],
     [(True, False), (False, False)]),
    # whole messages back to back, and a body that stops short of its length
    (b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabcHTTP/1.1 204 No Content\r\n\r\n"
     b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
     [res(200, "OK", [("content-length", "3")]), body(b"abc"), END, res(204, "No Content"), END,
      res(200, "OK", [("content-length", "0")]), END]),
    # 1xx interim responses before the final one
    (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
     [res(100, "Continue"), END, res(200, "OK", [("content-length", "2")]), body(b"ok"), END]),
    # 101 and CONNECT 2xx: the rest is a tunnel
    (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x00",
     [res(101, "Switching Protocols", [("upgrade", "websocket"), ("connection", "Upgrade")]), END,
      ("tunnel", b"\x81\x00")]),
    (b"HTTP/1.1 200 Connection Established\r\n\r\nraw",
     [res(200, "Connection Established"), END, ("tunnel", b"raw")], [(False, True)]),
    (b"HTTP/1.1 407 Auth\r\nContent-Length: 1\r\n\r\nx",
     [res(407, "Auth", [("content-length", "1")]), body(b"x"), END], [(False, True)]),
    # set-cookie array
    (b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nset-cookie: b=2\r\nContent-Length: 0\r\n\r\n",
     [res(200, "OK", [("set-cookie", ["a=1", "b=2"]), ("content-length", "0")]), END]),
    # malformed -> 502
    (b"HTTP/1.1 2000 OK\r\n\r\n", [("error", 502)]),
    (b"HTTP/2 200 OK\r\n\r\n", [("error", 502)]),
    (b"HTTP/1.1 200 OK\r\nBad Name: 1\r\n\r\n", [("error", 502)]),
    (b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", [("error", 502)]),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", [("error", 502)]),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n",
     [res(200, "OK", [("transfer-encoding", "chunked")]), ("error", 502)]),
    # cut short by the peer
    (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab",
     [res(200, "OK", [("content-length", "5")]), body(b"ab"), ("error", 502)], [], True),
    # -- found by the differential run against h11 (differential.py) --
    # OWS after a content-length is not part of it (RFC 9112 §5), repeated equal lengths too
    (b"HTTP/1.1 200 OK\r\nContent-Length: 3 \r\n\r\nabc",
     [res(200, "OK", [("content-length", "3 ")]), body(b"abc"), END]),
    (b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 3\t\r\n\r\nabc",
     [res(200, "OK", [("content-length", "3\t")]), body(b"abc"), END]),
    # trailers are field lines (RFC 9112 §7.1.2): anything else is malformed
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nbad trailer\r\n\r\n",
     [res(200, "OK", [("transfer-encoding", "chunked")]), body(b"a"), ("error", 502)]),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n folded\r\n\r\n",
     [res(200, "OK", [("transfer-encoding", "chunked")]), body(b"a"), ("error", 502)]),
    # leading zeros in a chunk size are not a size limit
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n00000000000000000001\r\na\r\n0\r\n\r\n",
     [res(200, "OK", [("transfer-encoding", "chunked")]), body(b"a"), END]),
    # transfer-encoding lines are one list: its final coding decides, chunked twice is malformed
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: \r\n\r\n1\r\na\r\n0\r\n\r\n",
     [res(200, "OK", [("transfer-encoding", "chunked, ")]), body(b"a"), END]),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\nxyz",
     [res(200, "OK", [("transfer-encoding", "chunked, gzip")]), body(b"xyz"), END], [], True),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, chunked\r\n\r\n1\r\na\r\n0\r\n\r\n", [("error", 502)]),
    # HTTP/1.0 with transfer-encoding: faulty framing (RFC 9112 §6.1)
    (b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n\r\n", [("error", 502)]),
]
