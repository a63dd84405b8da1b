"""Request decoding: bytes -> events (reference §4.1, RFC 9112)."""
from .table import END, body, req

CASES = [
    # the tutorial's request, plus pipelining in one buffer
    (b"GET /hi?x=1 HTTP/1.1\r\nHost: a\r\nUser-Agent: t\r\n\r\n",
     [req("GET", "/hi?x=1", [("host", "a"), ("user-agent", "t")]), END]),
    (b"GET / HTTP/1.0\r\n\r\n", [req("GET", "/", proto="HTTP/1.0"), END]),
    (b"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n",
     [req("GET", "/a"), END, req("GET", "/b"), END]),
    # content-length body, then a pipelined request
    (b"POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\n\r\n",
     [req("POST", "/p", [("content-length", "5")]), body(b"hello"), END, req("GET", "/"), END]),
    # an empty content-length body (a sink taking whole messages gets these in one call; "00"
    # goes the streaming way, with the same events)
    (b"POST /e HTTP/1.1\r\nContent-Length: 0\r\n\r\nGET /n HTTP/1.1\r\n\r\n",
     [req("POST", "/e", [("content-length", "0")]), END, req("GET", "/n"), END]),
    (b"POST /e HTTP/1.1\r\nContent-Length: 00\r\n\r\n", [req("POST", "/e", [("content-length", "00")]), END]),
    # chunked with an extension and a trailer (ignored)
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;name=v\r\nhello\r\n1\r\n!\r\n"
     b"0\r\nX-Trailer: 1\r\n\r\n",
     [req("POST", "/", [("transfer-encoding", "chunked")]), body(b"hello!"), END]),
    # repeated headers overwrite, set-cookie collects, values keep inner and trailing blanks (Pipy: text after the colon minus leading blanks), names lower-cased
    (b"GET / HTTP/1.1\r\nX-A: 1\r\nx-a: 2\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-B:  p q \r\n\r\n",
     [req("GET", "/", [("x-a", "2"), ("set-cookie", ["a=1", "b=2"]), ("x-b", "p q ")]), END]),
    # non-ASCII header bytes round-trip (utf-8, surrogateescape); a raw non-ASCII target is 400
    (b"GET / HTTP/1.1\r\nX: \xc3\xa9\xff\r\n\r\n", [req("GET", "/", [("x", "\xe9\udcff")]), END]),
    (b"GET /caf\xc3\xa9 HTTP/1.1\r\n\r\n", [("error", 400)]),
    # CONNECT authority-form, absolute-form for proxies
    (b"GET http://h/x HTTP/1.1\r\n\r\n", [req("GET", "http://h/x"), END]),
    # leading empty line ignored (RFC 9112 §2.2)
    (b"\r\nGET / HTTP/1.1\r\n\r\n", [req("GET", "/"), END]),
    # malformed -> 400
    (b"GET / HTTP/1.1\nHost: a\n\n", [("error", 400)]),
    (b"G@T / HTTP/1.1\r\n\r\n", [("error", 400)]),
    (b"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n", [("error", 400)]),
    (b"GET / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n", [("error", 400)]),
    (b"GET / HTTP/1.1\r\nX: a\x01b\r\n\r\n", [("error", 400)]),
    (b"GET /a b HTTP/1.1\r\n\r\n", [("error", 400)]),
    # smuggling attempts -> 400
    (b"POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
     [("error", 400)]),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n",
     [("error", 400)]),
    (b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", [("error", 400)]),
    (b"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", [("error", 400)]),
    (b"POST / HTTP/1.1\r\nContent-Length: +3\r\n\r\nabc", [("error", 400)]),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nabc", [("error", 400)]),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, identity\r\n\r\n", [("error", 400)]),
    (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", [("error", 400)]),
    # bad chunk size
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", [req("POST", "/", [("transfer-encoding", "chunked")]), ("error", 400)]),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n",
     [req("POST", "/", [("transfer-encoding", "chunked")]), body(b"abc"), ("error", 400)]),
    # versions: only 1.0 / 1.1 (HTTP/2 prior knowledge is a later issue) -> 505
    (b"GET / HTTP/1.2\r\n\r\n", [("error", 505)]),
    (b"GET / HTTP/0.9\r\n\r\n", [("error", 505)]),
    (b"GET / HTTP/2.0\r\n\r\n", [("error", 505)]),
    # -- found by the differential run against h11 (differential.py) --
    # an error after an upgrade the decoder does not take (h2c) is a 400, not a raised exception
    (b"GET / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\nG@T / HTTP/1.1\r\n\r\n",
     [req("GET", "/", [("connection", "upgrade"), ("upgrade", "h2c")]), END, ("error", 400)]),
    # an upgrade request's body is its body (llhttp ends it at the head): not the next request
    # (smuggling) nor tunnel bytes; an upgrade with a body is served as a plain request
    (b"POST / HTTP/1.1\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nContent-Length: 23\r\n\r\n"
     b"GET /admin HTTP/1.1\r\n\r\nGET /n HTTP/1.1\r\n\r\n",
     [req("POST", "/", [("connection", "Upgrade, HTTP2-Settings"), ("upgrade", "h2c"), ("content-length", "23")]),
      body(b"GET /admin HTTP/1.1\r\n\r\n"), END, req("GET", "/n"), END]),
    (b"POST / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: h2c\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"17\r\nGET /admin HTTP/1.1\r\n\r\n\r\n0\r\n\r\nGET /n HTTP/1.1\r\n\r\n",
     [req("POST", "/", [("connection", "upgrade"), ("upgrade", "h2c"), ("transfer-encoding", "chunked")]),
      body(b"GET /admin HTTP/1.1\r\n\r\n"), END, req("GET", "/n"), END]),
    (b"POST /ws HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\nContent-Length: 3\r\n\r\nabc"
     b"GET /n HTTP/1.1\r\n\r\n",
     [req("POST", "/ws", [("connection", "upgrade"), ("upgrade", "websocket"), ("content-length", "3")]),
      body(b"abc"), END, req("GET", "/n"), END]),
    # Upgrade on HTTP/1.0 is ignored (RFC 9110 §7.8): what follows is HTTP
    (b"GET / HTTP/1.0\r\nConnection: keep-alive, upgrade\r\nUpgrade: websocket\r\n\r\nGET /n HTTP/1.1\r\n\r\n",
     [req("GET", "/", [("connection", "keep-alive, upgrade"), ("upgrade", "websocket")], "HTTP/1.0"), END,
      req("GET", "/n"), END]),
    # CONNECT has no content (RFC 9110 §9.3.6): a body would be framed two ways
    (b"CONNECT h:443 HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc", [("error", 400)]),
    (b"CONNECT h:443 HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", [("error", 400)]),
    # transfer codings before chunked: 501 (one header or two); forms llhttp would only refuse
    # after the head (a trailing HTAB): 400 at once; HTTP/1.0 with transfer-encoding: 400
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", [("error", 501)]),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
     [("error", 501)]),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\t\r\n\r\n0\r\n\r\n", [("error", 400)]),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: Chunked \r\n\r\n0\r\n\r\n",
     [req("POST", "/", [("transfer-encoding", "Chunked ")]), END]),
    (b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", [("error", 400)]),
    # an RTSP request (llhttp takes RTSP-only methods with RTSP/1.x) is not HTTP
    (b"DESCRIBE / RTSP/1.0\r\n\r\n", [("error", 400)]),
    # transfer-encoding lines are one list; a request's must end in chunked, once (RFC 9112
    # §6.3): chunked twice, or a coding after it, or none at all is a 400
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", [("error", 400)]),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
     [("error", 400)]),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", [("error", 400)]),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\nabc", [("error", 400)]),
    # OWS after a content-length is not part of it
    (b"POST / HTTP/1.1\r\nContent-Length: 3 \r\n\r\nabc",
     [req("POST", "/", [("content-length", "3 ")]), body(b"abc"), END]),
    # leading zeros in a chunk size are not a size limit; trailers are field lines
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n000000000000000000003\r\nabc\r\n0\r\n\r\n",
     [req("POST", "/", [("transfer-encoding", "chunked")]), body(b"abc"), END]),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nbad trailer\r\n\r\n",
     [req("POST", "/", [("transfer-encoding", "chunked")]), body(b"a"), ("error", 400)]),
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\n folded\r\n\r\n",
     [req("POST", "/", [("transfer-encoding", "chunked")]), body(b"a"), ("error", 400)]),
]
