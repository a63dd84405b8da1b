"""The sans-I/O HTTP/1 codec: encoder bytes (reference §4.4), limits, upgrades, and h11 as an
independent peer in both directions."""
from __future__ import annotations

import h11
import pytest

from pipyd.filters.http_codec import (CHUNKED, MessageEncoder, RequestDecoder, ResponseDecoder,
                                      request_head, response_head)
from pipyd.js.values import JSArray, JSObject
from tests.conformance.http.table import (Recorder, WholeRecorder, feed_request, feed_response,
                                          splits)


def O(**kw):  # noqa: N802 - a JS object literal
    return JSObject(**kw)


ENCODE_CASES = [
    # (head, length, final, expected)
    (None, 11, False, b"HTTP/1.1 200 OK\r\ncontent-length: 11\r\nconnection: keep-alive\r\n\r\n"),
    (O(status=404), 0, False, b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: keep-alive\r\n\r\n"),
    (O(status="502"), 0, True, b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"),
    (O(status=299), 0, False, b"HTTP/1.1 299 OK\r\ncontent-length: 0\r\nconnection: keep-alive\r\n\r\n"),
    (O(status=200, statusText="Fine", protocol="HTTP/1.0"), 2, False,
     b"HTTP/1.0 200 Fine\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\n"),
    # names as given, dropped framing headers, set-cookie lines, numbers stringified
    (O(headers=O(**{"Content-Type": "text/plain", "Content-Length": "99", "transfer-encoding": "chunked",
                    "keep-alive": "x", "Connection": "close", "set-cookie": JSArray(["a=1", "b=2"]),
                    "x-n": 7})), 3, False,
     b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nset-cookie: a=1\r\nset-cookie: b=2\r\nx-n: 7\r\n"
     b"content-length: 3\r\nconnection: keep-alive\r\n\r\n"),
    (O(status=101, headers=O(connection="Upgrade", upgrade="websocket")), 0, False,
     b"HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: websocket\r\n\r\n"),
    (O(status=204), 0, False, b"HTTP/1.1 204 No Content\r\nconnection: keep-alive\r\n\r\n"),
    (None, CHUNKED, False, b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: keep-alive\r\n\r\n"),
    # response splitting: a value with CRLF drops its line
    (O(headers=O(a="1\r\nx: evil", b="2")), 0, False,
     b"HTTP/1.1 200 OK\r\nb: 2\r\ncontent-length: 0\r\nconnection: keep-alive\r\n\r\n"),
]


@pytest.mark.parametrize("head,length,final,expected", ENCODE_CASES)
def test_response_head(head, length, final, expected) -> None:
    assert response_head(head, length, final) == expected


def test_request_head_defaults() -> None:
    assert request_head(None, 0) == b"GET / HTTP/1.1\r\ncontent-length: 0\r\nconnection: keep-alive\r\n\r\n"
    h = O(method="POST", path="/x?y", headers=O(host="h", connection="close"))
    assert request_head(h, 5) == (b"POST /x?y HTTP/1.1\r\nhost: h\r\ncontent-length: 5\r\n"
                                  b"connection: keep-alive\r\n\r\n")


def test_bodiless_keeps_content_length() -> None:
    enc = MessageEncoder(True)
    out = enc.start(O(headers=O(**{"content-length": "42"})), bodiless=True)
    assert out == [b"HTTP/1.1 200 OK\r\ncontent-length: 42\r\nconnection: keep-alive\r\n\r\n"]
    assert enc.data([b"dropped"], 7) == [] and enc.end() == []


def test_encoder_switches_to_chunked_past_buffer() -> None:
    enc = MessageEncoder(True, buffer_size=4)
    assert enc.start(None) == []
    assert enc.data([b"abc"], 3) == []
    out = enc.data([b"de"], 2)
    assert b"".join(out) == b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: keep-alive\r\n\r\n5\r\nabcde\r\n"
    assert b"".join(enc.data([b"f"], 1)) == b"1\r\nf\r\n"
    assert enc.end() == [b"0\r\n\r\n"]


def test_encoder_http10_peer_gets_close_delimited_body() -> None:
    enc = MessageEncoder(True, buffer_size=2)
    enc.start(None, peer_http10=True)
    out = enc.data([b"abc"], 3)
    assert b"".join(out) == b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\nabc"
    assert enc.final_sent and enc.end() == []


# -- request decoder API beyond the tables --

def test_keep_alive_decisions() -> None:
    for raw, ka in [(b"GET / HTTP/1.1\r\n\r\n", True), (b"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", False),
                    (b"GET / HTTP/1.1\r\nConnection: Close\r\n\r\n", False), (b"GET / HTTP/1.0\r\n\r\n", False),
                    (b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", True)]:
        rec = Recorder()
        d = RequestDecoder(rec)
        d.feed(raw)
        assert d.keep_alive is ka, raw


def test_oversized_head_is_431_whole_and_trickled() -> None:
    big = b"GET / HTTP/1.1\r\nX: " + b"a" * 40000 + b"\r\n\r\n"
    for pieces in ([big], [big[i:i + 1000] for i in range(0, len(big), 1000)]):
        rec = Recorder()
        d = RequestDecoder(rec)
        for p in pieces:
            d.feed(p)
        assert rec.events == [("error", 431)]
    rec = Recorder()
    d = RequestDecoder(rec)
    d.feed(b"GET /" + b"u" * 40000)
    assert rec.events == [("error", 431)]


def test_upgrade_holds_bytes_until_decided() -> None:
    raw = b"GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nframe"
    for decision, expected_tail in [("tunnel", [("tunnel", b"framemore")]),
                                    ("resume", [("error", 400)])]:
        for pieces in splits(raw):
            rec = Recorder()
            d = RequestDecoder(rec)
            for p in pieces:
                d.feed(p)
            assert d.upgrade
            d.feed(b"more")
            getattr(d, decision)()
            assert rec.events[2:] == expected_tail, (decision, pieces)


def test_upgrade_decided_synchronously_inside_message_end() -> None:
    class Sink(Recorder):
        def on_message_end(self, tail):
            super().on_message_end(tail)
            d.tunnel()
    rec = Sink()
    d = RequestDecoder(rec)
    d.feed(b"CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\nraw")
    assert rec.events[-1] == ("tunnel", b"raw")


def test_refused_upgrade_parses_next_request() -> None:
    rec = Recorder()
    d = RequestDecoder(rec)
    d.feed(b"CONNECT h:443 HTTP/1.1\r\n\r\nGET / HTTP/1.1\r\n\r\n")
    d.resume()
    assert [e[0] for e in rec.events] == ["start", "end", "start", "end"]


def test_h2c_upgrade_is_plain_http1() -> None:
    rec = Recorder()
    d = RequestDecoder(rec)
    d.feed(b"GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\nGET /b HTTP/1.1\r\n\r\n")
    assert [e[0] for e in rec.events] == ["start", "end", "start", "end"] and not d.upgrade


def test_truncated_request_at_eof() -> None:
    rec = Recorder()
    d = RequestDecoder(rec)
    d.feed(b"POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\nab")
    d.feed_eof()
    assert rec.events[-1] == ("error", 400)


# -- h11 as the peer --

def _h11_client_bytes(method: bytes, target: bytes, headers: list, body: bytes) -> bytes:
    c = h11.Connection(h11.CLIENT)
    out = c.send(h11.Request(method=method, target=target, headers=headers))
    if body:
        out += c.send(h11.Data(data=body))
    return out + c.send(h11.EndOfMessage())


@pytest.mark.parametrize("chunked", [False, True])
def test_h11_client_to_our_request_decoder(chunked: bool) -> None:
    hdrs = [("Host", "x"), ("Transfer-Encoding", "chunked")] if chunked else [("Host", "x"), ("Content-Length", "5")]
    raw = _h11_client_bytes(b"PUT", b"/p", hdrs, b"hello")
    rec = Recorder()
    RequestDecoder(rec).feed(raw)
    assert rec.events[0][1][2] == ("method", "PUT") and rec.events[1:] == [("body", b"hello"), ("end",)]


@pytest.mark.parametrize("size", [0, 10, 20000])
def test_our_response_encoder_to_h11_client(size: int) -> None:
    enc = MessageEncoder(True)
    body = b"z" * size
    wire = b"".join(enc.start(O(status=201, headers=O(**{"x-a": "1"})))
                    + (enc.data([body], size) if size else []) + enc.end())
    c = h11.Connection(h11.CLIENT)
    c.send(h11.Request(method="GET", target="/", headers=[("Host", "x")]))
    c.send(h11.EndOfMessage())
    c.receive_data(wire)
    events = []
    while True:
        e = c.next_event()
        if e is h11.NEED_DATA:
            break
        events.append(e)
        if type(e) is h11.EndOfMessage:
            break
    assert events[0].status_code == 201 and (b"x-a", b"1") in list(events[0].headers)
    assert b"".join(e.data for e in events if type(e) is h11.Data) == body


def test_our_request_encoder_to_h11_server() -> None:
    enc = MessageEncoder(False, buffer_size=4)
    wire = b"".join(enc.start(O(method="POST", path="/u", headers=O(host="h")))
                    + enc.data([b"0123456789"], 10) + enc.end())
    s = h11.Connection(h11.SERVER)
    s.receive_data(wire)
    req = s.next_event()
    assert req.method == b"POST" and req.target == b"/u"
    assert s.next_event().data == b"0123456789" and type(s.next_event()) is h11.EndOfMessage


def test_h11_server_to_our_response_decoder() -> None:
    s = h11.Connection(h11.SERVER)
    s.receive_data(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    s.next_event(), s.next_event()
    wire = s.send(h11.Response(status_code=200, headers=[("Transfer-Encoding", "chunked")]))
    wire += s.send(h11.Data(data=b"abc")) + s.send(h11.EndOfMessage())
    for pieces in splits(wire):
        rec = Recorder()
        d = ResponseDecoder(rec)
        for p in pieces:
            d.feed(p)
        assert rec.events[1:] == [("body", b"abc"), ("end",)]


def test_head_naming_chunked_is_sent_at_once():
    """A script that names chunked framing (an SSE stream) gets its head out before any body."""
    enc = MessageEncoder(True)
    head = JSObject(status=200, headers=JSObject({"content-type": "text/event-stream",
                                                  "Transfer-Encoding": "chunked"}))
    out = b"".join(enc.start(head))
    assert out.startswith(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n")
    assert b"transfer-encoding: chunked\r\n" in out and out.endswith(b"\r\n\r\n")
    assert b"".join(enc.data([b"data: 1\n\n"], 10)) == b"A\r\ndata: 1\n\n\r\n"  # %X, as Pipy
    assert b"".join(enc.end()) == b"0\r\n\r\n"


def test_head_without_chunked_is_still_held_for_a_content_length():
    enc = MessageEncoder(True)
    assert enc.start(JSObject(status=200, headers=JSObject())) == []
    enc.data([b"hi"], 2)
    assert b"content-length: 2" in b"".join(enc.end())


@pytest.mark.parametrize("raw, wholes", [
    (b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", 1),
    (b"POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\nGET / HTTP/1.0\r\n\r\n", 2),
    (b"POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi", 0),  # a body: streamed as it comes
    (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 0),
    (b"GET / HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n", 0),
    (b"CONNECT h:443 HTTP/1.1\r\n\r\n", 0),
    (b"GET / HTTP/1.1\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
     b"HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n", 0),
])
def test_request_decoder_hands_over_whole_only_what_cannot_have_a_body(raw, wholes) -> None:
    for pieces in ([raw], [raw[i:i + 1] for i in range(len(raw))]):
        assert feed_request(pieces, WholeRecorder).wholes == wholes


OK2 = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


@pytest.mark.parametrize("pieces, expect, wholes", [
    ([OK2], [], 1),
    ([OK2 + OK2], [], 2),
    ([OK2[:-1], OK2[-1:]], [], 0),  # the body is not all there: streamed
    ([OK2[:-2], OK2[-2:]], [], 0),  # the head alone
    ([b"HTTP/1.1 204 No Content\r\n\r\n"], [], 1),
    ([b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n"], [(True, False)], 1),  # answers a HEAD
    ([b"HTTP/1.1 100 Continue\r\n\r\n" + OK2], [], 1),  # the interim one is streamed
    ([b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"], [], 0),
    ([b"HTTP/1.1 101 Switching Protocols\r\n\r\n"], [], 0),
    ([b"HTTP/1.1 200 OK\r\n\r\n"], [(False, True)], 0),  # CONNECT's tunnel
    ([b"HTTP/1.1 200 OK\r\n\r\nuntil close"], [], 0),
])
def test_response_decoder_hands_over_whole_what_one_read_holds(pieces, expect, wholes) -> None:
    assert feed_response(pieces, expect, sink=WholeRecorder).wholes == wholes


# -- found by the differential run against h11 (tests/conformance/http/differential.py) --

def test_head_limit_counts_only_head_bytes() -> None:
    """A head split across reads, its last read carrying a body past the head limit, and a
    valid head under the limit trickled in small reads: neither is a 431 (the bound once took
    whole reads for head bytes and counted finished lines twice)."""
    head = b"POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 40000\r\n\r\n"
    rec = feed_request([head[:10], head[10:] + b"x" * 40000])
    assert [e[0] for e in rec.events] == ["start", "body", "end"]
    rec = feed_request([b"GET / HTTP/1.1\r\nHost: a\r\n\r\nPOST /up HTTP/1.1\r\nHo",
                        head[21:] + b"x" * 40000])
    assert [e[0] for e in rec.events] == ["start", "end", "start", "body", "end"]
    big = b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: %s\r\n" % (i, b"v" * 90) for i in range(200)) + b"\r\n"
    assert len(big) < 32768
    for step in (1, 100, 1000, 5000):
        rec = feed_request([big[i:i + step] for i in range(0, len(big), step)])
        assert [e[0] for e in rec.events] == ["start", "end"], step


def test_endless_header_line_is_431_in_small_reads() -> None:
    rec = Recorder()
    d = RequestDecoder(rec)
    d.feed(b"GET / HTTP/1.1\r\nX: ")
    for _ in range(40):
        d.feed(b"a" * 1000)
    assert rec.events == [("error", 431)]


def test_upgrade_with_a_body_is_a_plain_request() -> None:
    """llhttp ends an upgrade request at its head; its body must not be taken for tunnel bytes
    or the next request: the decoder reads it and reports no upgrade."""
    seen = []

    class Sink(Recorder):
        def on_message_start(self, head):
            super().on_message_start(head)
            seen.append(d.upgrade)
    raw = (b"POST /ws HTTP/1.1\r\nConnection: upgrade\r\nUpgrade: websocket\r\n"
           b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nGET /n HTTP/1.1\r\n\r\n")
    for pieces in splits(raw):
        seen.clear()
        rec = Sink()
        d = RequestDecoder(rec)
        for p in pieces:
            d.feed(p)
        assert seen == [False, False] and not d.upgrade, pieces
        assert [e[0] for e in rec.events] == ["start", "body", "end", "start", "end"]
    rec = Recorder()
    d = RequestDecoder(rec)
    d.feed(raw[:raw.index(b"abc")])
    d.feed_eof()
    assert rec.events[-1] == ("error", 400)  # its body cut short


def test_owner_taking_an_upgrade_at_its_head_gets_the_body_as_tunnel_bytes() -> None:
    """The server's h2c take-over: upgrade set and tunnel() called inside on_message_start; the
    request ends at its head and its content-length body goes to the tunnel (HTTP/2 reads it)."""
    class Sink(Recorder):
        def on_message_start(self, head):
            super().on_message_start(head)
            d.upgrade = True
            d.tunnel()
    raw = (b"POST /up HTTP/1.1\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
           b"HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\nContent-Length: 3\r\n\r\nabcPRI * HTTP/2.0")
    for pieces in splits(raw):
        rec = Sink()
        d = RequestDecoder(rec)
        for p in pieces:
            d.feed(p)
        assert rec.events[1:] == [("end",), ("tunnel", b"abcPRI * HTTP/2.0")], pieces
