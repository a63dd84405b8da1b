"""decodeMultipart with CRLF bodies (RFC 2046 §5.1), fed whole, byte by byte and split at
every position."""
import pytest

from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.js.values import JSObject

from pipyd.filters.multipart import boundary_of
from . import msg, pipeline, show

CT = "multipart/form-data; boundary=XyZ"
BODY = (b"preamble to ignore\r\n"
        b"--XyZ\r\n"
        b"Content-Disposition: form-data; name=\"a\"\r\n"
        b"Content-Type: text/plain\r\n"
        b"\r\n"
        b"first value\r\nwith a line\r\n"
        b"--XyZ  \r\n"
        b"content-disposition: form-data; name=\"b\"\r\n"
        b"\r\n"
        b"--not the boundary\r\nx--XyZ-ish"
        b"\r\n--XyZ--\r\n"
        b"epilogue")
PARTS = [
    ("MS", {"headers": {"content-disposition": 'form-data; name="a"',
                        "content-type": "text/plain"}}),
    ("D", b"first value\r\nwith a line"), ("ME", None),
    ("MS", {"headers": {"content-disposition": 'form-data; name="b"'}}),
    ("D", b"--not the boundary\r\nx--XyZ-ish"), ("ME", None),
]


def head(ct=CT):
    return JSObject(headers=JSObject({"content-type": ct}))


def decode(pieces, ct=CT, after=()):
    p, out = pipeline([("decodeMultipart",)])
    p.input(MessageStart(head(ct)))
    for b in pieces:
        p.input(Data(b))
    p.input(MessageEnd())
    for e in after:
        p.input(e)
    return merge(show(out.events))


def merge(shown):
    """Adjacent Data joined: how the body was chunked is not the point."""
    res = []
    for e in shown:
        if e[0] == "D" and res and res[-1][0] == "D":
            res[-1] = ("D", res[-1][1] + e[1])
        else:
            res.append(e)
    return res


def test_whole():
    assert decode([BODY]) == PARTS


def test_byte_by_byte():
    assert decode([BODY[i:i + 1] for i in range(len(BODY))]) == PARTS


@pytest.mark.parametrize("cut", range(1, len(BODY)))
def test_split_at_every_position(cut):
    assert decode([BODY[:cut], BODY[cut:]]) == PARTS


def test_body_streams_before_the_part_ends():
    p, out = pipeline([("decodeMultipart",)])
    p.input(MessageStart(head()))
    p.input(Data(b"--XyZ\r\n\r\n" + b"x" * 1000))
    assert show(out.events)[0] == ("MS", {"headers": {}})
    assert sum(len(e[1]) for e in show(out.events) if e[0] == "D") >= 1000 - 8


def test_boundary_at_the_very_start_and_empty_part():
    body = b"--XyZ\r\n\r\n\r\n--XyZ--"
    assert decode([body]) == [("MS", {"headers": {}}), ("ME", None)]


def test_repeated_headers_become_an_array():
    body = b"--XyZ\r\nX-A: 1\r\nx-a: 2\r\nx-a: 3\r\n\r\nv\r\n--XyZ--\r\n"
    out = decode([body])
    assert out[0] == ("MS", {"headers": {"x-a": ["1", "2", "3"]}})


def test_nested_multipart_parts_come_out_flat():
    inner = (b"--in\r\nContent-Type: text/plain\r\n\r\none\r\n"
             b"--in\r\n\r\ntwo\r\n--in--")
    body = (b"--XyZ\r\nContent-Type: multipart/mixed; boundary=\"in\"\r\n\r\n" + inner
            + b"\r\n--XyZ\r\n\r\nthree\r\n--XyZ--\r\n")
    assert decode([body]) == [
        ("MS", {"headers": {"content-type": "text/plain"}}), ("D", b"one"), ("ME", None),
        ("MS", {"headers": {}}), ("D", b"two"), ("ME", None),
        ("MS", {"headers": {}}), ("D", b"three"), ("ME", None),
    ]


def test_unterminated_part_ends_with_the_message():
    assert decode([b"--XyZ\r\n\r\ncut short"]) == [("MS", {"headers": {}}),
                                                    ("D", b"cut short"), ("ME", None)]


def test_other_messages_pass_and_stream_end_always_passes():
    p, out = pipeline([("decodeMultipart",)])
    for e in [*msg(JSObject(headers=JSObject({"content-type": "text/plain"})), b"t"),
              *msg(JSObject(), b"u"), MessageStart(head()), Data(b"--XyZ\r\n\r\nv"),
              StreamEnd()]:
        p.input(e)
    assert merge(show(out.events)) == [
        ("MS", {"headers": {"content-type": "text/plain"}}), ("D", b"t"), ("ME", None),
        ("MS", {}), ("D", b"u"), ("ME", None),
        ("MS", {"headers": {}}), ("D", b"v"), ("ME", None), ("SE", "")]


def test_several_multipart_messages_in_a_stream():
    body = b"--XyZ\r\n\r\nv\r\n--XyZ--"
    out = decode([body], after=[MessageStart(head()), Data(body), MessageEnd()])
    assert out == [("MS", {"headers": {}}), ("D", b"v"), ("ME", None)] * 2


def test_oversized_part_header_is_an_error(capture_log):
    body = b"--XyZ\r\nX: " + b"a" * 20000 + b"\r\n\r\nv\r\n--XyZ--"
    assert decode([body]) == []
    assert "part header exceeds" in capture_log.getvalue()


@pytest.mark.parametrize("ct, boundary", [
    ("multipart/form-data; boundary=abc", b"abc"),
    ("Multipart/Mixed; BOUNDARY=\"a b;c\"; charset=x", b"a b;c"),
    ("multipart/mixed; boundary=abc; x=y", b"abc"),
    ("text/plain; boundary=abc", None),
    ("multipart/mixed", None),
    (None, None),
])
def test_boundary_of(ct, boundary):
    assert boundary_of(ct) == boundary


from tests.unit.core import capture_log  # noqa: E402,F401 (fixture)
