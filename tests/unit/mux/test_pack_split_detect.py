"""pack, split (reference §2.2 rows 54, 65) and detectProtocol (row 28)."""
from __future__ import annotations

import pytest

from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.js.values import JSObject, JSThrow
from pipyd.registry import lookup

from . import send_message, stream


def filt(name, *args):
    return lookup(name).configure(None, *args)


def test_pack_batches_with_first_head_and_separators() -> None:
    p, out = stream(filt("pack", 3, JSObject(prefix="[", postfix="]", separator=",")))
    for i in range(7):
        send_message(p, JSObject(n=i), b"%d" % i)
    assert [(h["n"], b) for h, b in out.messages()] == [(0, b"[0,1,2]"), (3, b"[3,4,5]")]
    p.input(StreamEnd())  # the partial batch goes out at the end
    assert out.messages()[-1][1] == b"[6]" and type(out.events[-1]) is StreamEnd


def test_pack_default_batch_one_defragments() -> None:
    p, out = stream(filt("pack"))
    p.input(MessageStart(JSObject()))
    p.input(Data(b"a"))
    p.input(Data(b"b"))
    p.input(MessageEnd())
    assert out.types() == ["MessageStart", "Data", "MessageEnd"] and out.body() == b"ab"


def test_pack_interval_flushes_early() -> None:
    f = filt("pack", 100, JSObject(interval=0.0001))
    p, out = stream(f)
    import time
    time.sleep(0.001)
    send_message(p, JSObject(), b"x")
    assert out.messages()[0][1] == b"x"


@pytest.mark.parametrize("sep", [",", Data(","), lambda: ","])
def test_split_on_separator_across_chunks(sep) -> None:
    p, out = stream(filt("split", sep))
    p.input(MessageStart(JSObject(k=1)))
    p.input(Data(b"a,b"))
    p.input(Data(b"c,,d"))
    p.input(MessageEnd())
    assert [b for _, b in out.messages()] == [b"a", b"bc", b"", b"d"]
    assert all(h == JSObject(k=1) or h["k"] == 1 for h, _ in out.messages())


def test_split_multibyte_separator_spanning_events() -> None:
    p, out = stream(filt("split", "\r\n"))
    p.input(MessageStart(JSObject()))
    for b in (b"one\r", b"\ntwo\r", b"\n"):
        p.input(Data(b))
    p.input(MessageEnd())
    assert [b for _, b in out.messages()] == [b"one", b"two"]


def test_split_argument_errors() -> None:
    for bad in ("", "x" * 1025, 5):
        with pytest.raises(JSThrow):
            filt("split", bad)


@pytest.mark.parametrize("chunks,name", [
    ([b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"], "HTTP"),
    ([b"PO", b"ST /a?b HTTP/1.0", b"\r\n"], "HTTP"),
    ([b"\x16\x03\x01\x00\x40\x01\x00\x00\x3c\x03\x03"], "TLS"),
    ([b"SSH-2.0-OpenSSH\r\n"], ""),
    ([b"GET / HTTP/2.0\r\n"], ""),
    ([b"\x16\x03\x09"], ""),
])
def test_detect_protocol(chunks, name) -> None:
    seen = []
    p, out = stream(filt("detectProtocol", lambda n: seen.append(n)))
    for c in chunks:
        p.input(Data(c))
    p.input(Data(b"more"))
    assert seen == [name]
    assert out.body() == b"".join(chunks) + b"more"  # events pass through


def test_detect_protocol_undecided_until_enough_bytes() -> None:
    seen = []
    p, _ = stream(filt("detectProtocol", seen.append))
    p.input(Data(b"GE"))
    p.input(StreamEnd())
    assert seen == []
