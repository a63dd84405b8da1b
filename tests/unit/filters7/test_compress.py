"""compressHTTP/compressMessage/decompressHTTP/decompressMessage: Python's gzip and zlib as the
independent peers, round trips, and header handling."""
import gzip
import zlib

import pytest

from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.js.values import JSObject, JSThrow

from pipyd.filters import compress
from . import body_of, msg, run

TEXT = b"hello, compressed world! " * 200


def head(**headers):
    return JSObject(headers=JSObject(headers))


def chunks(b, n=7):
    return [b[i:i + n * 97] for i in range(0, len(b), n * 97)]


@pytest.mark.parametrize("method, decode", [
    ("gzip", gzip.decompress),
    ("deflate", zlib.decompress),
])
def test_compress_message_is_readable_by_python(method, decode):
    out = run([("compressMessage", JSObject(method=method))],
              [*msg(head(), *chunks(TEXT)), StreamEnd()])
    assert out[0][0] == "MS" and out[-2] == ("ME", None) and out[-1] == ("SE", "")
    assert decode(body_of(out)) == TEXT
    assert "content-encoding" not in out[0][1]["headers"]  # compressMessage leaves heads


@pytest.mark.parametrize("method, token", [("gzip", "gzip"), ("deflate", "deflate")])
def test_compress_http_sets_content_encoding(method, token):
    out = run([("compressHTTP", JSObject(method=method))], msg(head(), TEXT))
    assert out[0][1]["headers"]["content-encoding"] == token
    assert len(body_of(out)) < len(TEXT)


def test_compress_http_creates_missing_headers():
    out = run([("compressHTTP", JSObject(method="gzip"))], msg(JSObject(status=200), b"x"))
    assert out[0][1]["headers"]["content-encoding"] == "gzip"
    assert gzip.decompress(body_of(out)) == b"x"


def test_compress_http_leaves_an_encoded_body_alone():
    out = run([("compressHTTP", JSObject(method="gzip"))],
              msg(head(**{"content-encoding": "br"}), b"already"))
    assert out == [("MS", {"headers": {"content-encoding": "br"}}), ("D", b"already"),
                   ("ME", None)]


@pytest.mark.parametrize("options", [JSObject(), JSObject(method=""), None])
def test_no_method_passes_bodies(options):
    args = () if options is None else (options,)
    assert run([("compressMessage", *args)], msg(head(), b"ab", b"c")) == [
        ("MS", {"headers": {}}), ("D", b"ab"), ("D", b"c"), ("ME", None)]


def test_dynamic_method_and_level_per_message():
    picks = iter(["gzip", ""])
    out = run([("compressMessage", JSObject(method=lambda *a: next(picks),
                                           level=lambda *a: "best"))],
              [*msg(head(), TEXT), *msg(head(), b"plain")])
    first_end = out.index(("ME", None))
    assert gzip.decompress(body_of(out[:first_end])) == TEXT
    assert out[first_end + 1:] == [("MS", {"headers": {}}), ("D", b"plain"), ("ME", None)]


@pytest.mark.parametrize("level, zlevel", [("speed", 1), ("best", 9)])
def test_level_is_honoured(level, zlevel):
    data = bytes(range(256)) * 50 + TEXT
    out = run([("compressMessage", JSObject(method="deflate", level=level))], msg(head(), data))
    assert body_of(out) == zlib.compress(data, zlevel)


def test_stream_end_mid_message_finishes_the_stream():
    out = run([("compressMessage", JSObject(method="gzip"))],
              [MessageStart(head()), Data(TEXT), StreamEnd("ReadError")])
    assert out[-1] == ("SE", "ReadError")
    assert gzip.decompress(body_of(out)) == TEXT


def test_data_outside_messages_passes():
    assert run([("compressMessage", JSObject(method="gzip"))], [Data("raw"), StreamEnd()]) == [
        ("D", b"raw"), ("SE", "")]


@pytest.mark.parametrize("name, args", [
    ("compressHTTP", (JSObject(method="zip"),)),
    ("compressHTTP", (JSObject(level="max"),)),
    ("compressMessage", ("gzip",)),
    ("decompressMessage", ("zip",)),
    ("decompressMessage", (3,)),
    ("decompressHTTP", ("yes",)),
])
def test_bad_arguments_name_the_filter(name, args):
    from pipyd.registry import lookup
    with pytest.raises(JSThrow, match=f"TypeError: {name}"):
        lookup(name).configure(None, *args)


# -- decompression --------------------------------------------------------------------------

@pytest.mark.parametrize("encoding, encode", [
    ("gzip", gzip.compress),
    ("deflate", zlib.compress),
])
def test_decompress_http_inflates_and_keeps_the_header(encoding, encode):
    z = encode(TEXT)
    out = run([("decompressHTTP",)], msg(head(**{"content-encoding": encoding}), *chunks(z, 1)))
    assert out[0] == ("MS", {"headers": {"content-encoding": encoding}})
    assert body_of(out) == TEXT and out[-1] == ("ME", None)


def test_decompress_http_byte_by_byte():
    z = gzip.compress(TEXT)
    out = run([("decompressHTTP",)],
              msg(head(**{"content-encoding": "gzip"}), *[z[i:i + 1] for i in range(len(z))]))
    assert body_of(out) == TEXT


def test_decompress_http_passes_identity_and_honours_enable():
    z = gzip.compress(b"zz")
    assert body_of(run([("decompressHTTP",)], msg(head(), b"plain"))) == b"plain"
    out = run([("decompressHTTP", lambda start: start.head["headers"].get("x") == "1")],
              [*msg(head(**{"content-encoding": "gzip"}), z),
               *msg(head(**{"content-encoding": "gzip", "x": "1"}), z)])
    assert [d for k, d in out if k == "D"] == [z, b"zz"]


@pytest.mark.parametrize("encode", [gzip.compress, zlib.compress])
def test_decompress_message_inflate_accepts_gzip_and_zlib(encode):
    out = run([("decompressMessage", "inflate")], msg(head(), encode(TEXT)))
    assert body_of(out) == TEXT


def test_decompress_message_dynamic_algorithm():
    out = run([("decompressMessage", lambda s: "inflate" if s.head["headers"] else None)],
              [*msg(head(a="1"), zlib.compress(b"yes")), *msg(JSObject(headers=None), b"no")])
    assert [d for k, d in out if k == "D"] == [b"yes", b"no"]


def test_decompression_error_drops_the_rest_of_the_body():
    z = gzip.compress(TEXT)
    out = run([("decompressMessage", "inflate")],
              [*msg(head(), b"not gzip at all", z), *msg(head(), z)])
    assert out[:2] == [("MS", {"headers": {}}), ("ME", None)]
    assert body_of(out[2:]) == TEXT  # the next message decodes again


def test_large_output_comes_in_bounded_pieces():
    big = b"\0" * (1 << 20)
    out = run([("decompressMessage", "inflate")], msg(head(), zlib.compress(big)))
    assert body_of(out) == big
    assert max(len(d) for k, d in out if k == "D") <= compress._OUT_CHUNK * 16


def test_data_outside_messages_is_dropped_by_decompress():
    assert run([("decompressHTTP",)], [Data("x"), StreamEnd()]) == [("SE", "")]


@pytest.mark.parametrize("method", ["gzip", "deflate"])
def test_round_trip_through_both_filters(method):
    out = run([("compressHTTP", JSObject(method=method)), ("decompressHTTP",)],
              [*msg(head(), *chunks(TEXT, 3)), *msg(head(), b"second"), StreamEnd()])
    ends = [i for i, e in enumerate(out) if e[0] == "ME"]
    assert body_of(out[:ends[0]]) == TEXT
    assert body_of(out[ends[0]:]) == b"second"
    assert out[-1] == ("SE", "")


def test_trailing_bytes_after_the_stream_are_ignored():
    out = run([("decompressMessage", "inflate")], msg(head(), zlib.compress(b"ok") + b"junk"))
    assert body_of(out) == b"ok"


def test_message_end_tail_is_kept():
    out = run([("compressMessage", JSObject(method="gzip"))],
              [MessageStart(head()), Data("a"), MessageEnd({"t": 1})])
    assert out[-1] == ("ME", {"t": 1})


def test_brotli_round_trip():
    import brotli
    out = run([("compressHTTP", JSObject(method="brotli"))], msg(head(), *chunks(TEXT)))
    assert out[0][1]["headers"]["content-encoding"] == "br"
    assert brotli.decompress(body_of(out)) == TEXT
    back = run([("decompressHTTP",)], msg(head(**{"content-encoding": "br"}),
                                          brotli.compress(TEXT)))
    assert body_of(back) == TEXT
    assert body_of(run([("decompressMessage", "brotli")], msg(head(), brotli.compress(b"m")))) \
        == b"m"
