"""depositMessage: bodies beyond the threshold go to a file and come back from the loop."""
import asyncio

import pytest

from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.js.values import JSObject, JSThrow

from . import RecordingFlow, body_of, msg, pipeline, show


async def until(pred, timeout=2.0):
    for _ in range(int(timeout / 0.005)):
        if pred():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("timed out")


def deposit(tmp_path, events, options=None, name="spool/body.bin", flow=None):
    path = str(tmp_path / name)
    args = (path,) if options is None else (path, options)

    async def go():
        p, out = pipeline([("depositMessage", *args)], flow)
        for e in events:
            p.input(e)
        await until(lambda: out.events and type(out.events[-1]) in (MessageEnd, StreamEnd))
        return out, p

    out, p = asyncio.run(go())
    return show(out.events), p, tmp_path / name


def test_body_beyond_threshold_is_spooled_and_streamed_back(tmp_path):
    flow = RecordingFlow()
    big = bytes(range(256)) * 1000
    out, p, path = deposit(tmp_path, msg({"h": 1}, b"abc", big[:100000], big[100000:]),
                           JSObject(threshold=2), flow=flow)
    assert out[:2] == [("MS", {"h": 1}), ("D", b"abc")]  # under the threshold: at once
    assert body_of(out) == b"abc" + big and out[-1] == ("ME", None)
    assert not path.exists()  # removed without keep
    assert flow.calls == ["pause", "resume"]


def test_keep_leaves_the_whole_body_in_the_file(tmp_path):
    out, p, path = deposit(tmp_path, msg({}, b"12", b"345"), JSObject(threshold="1", keep=True))
    assert body_of(out) == b"12345"
    assert path.read_bytes() == b"12345"


def test_small_bodies_pass_without_a_file(tmp_path):
    out, p, path = deposit(tmp_path, msg({}, b"tiny"), JSObject(threshold="1k"))
    assert out == [("MS", {}), ("D", b"tiny"), ("ME", None)]
    assert not (tmp_path / "spool").exists()


def test_events_after_the_message_wait_for_the_read_back(tmp_path):
    events = [*msg({"n": 1}, b"one"), *msg({"n": 2}, b"two"), StreamEnd()]

    async def go():
        p, out = pipeline([("depositMessage", lambda: str(tmp_path / "f"))])
        for e in events:
            p.input(e)
        await until(lambda: out.events and type(out.events[-1]) is StreamEnd)
        return show(out.events)

    assert asyncio.run(go()) == [("MS", {"n": 1}), ("D", b"one"), ("ME", None),
                                 ("MS", {"n": 2}), ("D", b"two"), ("ME", None), ("SE", "")]


def test_stream_end_mid_message_ends_the_read_back(tmp_path):
    out, p, path = deposit(tmp_path, [MessageStart({}), Data("abc"), StreamEnd("ReadError")])
    assert out == [("MS", {}), ("D", b"abc"), ("SE", "ReadError")]


def test_pipeline_end_during_read_back_cleans_up(tmp_path):
    flow = RecordingFlow()

    async def go():
        p, out = pipeline([("depositMessage", str(tmp_path / "f"))], flow)
        for e in msg({}, b"x" * 300000):
            p.input(e)
        p.end()
        await asyncio.sleep(0.05)
        return out

    out = asyncio.run(go())
    assert ("ME", None) not in show(out.events)
    assert flow.calls == ["pause", "resume"]
    assert not (tmp_path / "f").exists()


@pytest.mark.parametrize("args", [(), (5,), ("f", 5)])
def test_bad_arguments(args):
    from pipyd.registry import lookup
    with pytest.raises(JSThrow, match="TypeError: depositMessage"):
        lookup("depositMessage").configure(None, *args)
