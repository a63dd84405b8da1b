"""throttleMessageRate / throttleDataRate / throttleConcurrency: stalls pause the pipeline's
input, held events come out in order when the quota returns, and input resumes."""
import asyncio

import pytest

from pipyd.api.algo_quota import Quota
from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.js.values import JSObject, JSThrow

from . import RecordingFlow, msg, pipeline, show


def quota(initial, clock=None, **opts):
    q = Quota(initial, JSObject(opts))
    if clock is not None:
        q.now = lambda: clock[0]
        q._last = clock[0]
    return q


def test_message_rate_passes_within_quota_and_stalls_beyond():
    clock = [0.0]
    q = quota(2, clock, per=1)
    flow = RecordingFlow()
    p, out = pipeline([("throttleMessageRate", q)], flow)
    for i in range(3):
        for e in msg({"n": i}, b"b%d" % i):
            p.input(e)
    assert [e for e in show(out.events) if e[0] == "MS"] == [("MS", {"n": 0}), ("MS", {"n": 1})]
    assert flow.calls == ["pause"]
    p.input(StreamEnd())  # held behind the stalled message
    assert show(out.events)[-1] == ("ME", None)
    clock[0] = 1.0
    q.poll()  # the refill timer's job
    assert show(out.events)[6:] == [("MS", {"n": 2}), ("D", b"b2"), ("ME", None), ("SE", "")]
    assert flow.calls == ["pause", "resume"]


def test_data_rate_splits_data_at_the_grant():
    clock = [0.0]
    q = quota(4, clock, per=1)
    flow = RecordingFlow()
    p, out = pipeline([("throttleDataRate", q)], flow)
    src = Data(b"abcdefghij")
    p.input(src)
    p.input(Data(b"kl"))
    assert show(out.events) == [("D", b"abcd")] and flow.calls == ["pause"]
    assert src.to_bytes() == b"abcdefghij"  # the sender's Data is not mutated
    clock[0] = 1.0
    q.poll()
    assert show(out.events)[1:] == [("D", b"efgh")] and flow.calls == ["pause"]
    clock[0] = 2.0
    q.poll()
    assert show(out.events)[2:] == [("D", b"ij"), ("D", b"kl")]
    assert flow.calls == ["pause", "resume"]


def test_data_rate_lets_other_events_through_when_not_stalled():
    q = quota(100)
    p, out = pipeline([("throttleDataRate", q)])
    for e in [*msg({}, b"abc"), StreamEnd()]:
        p.input(e)
    assert show(out.events) == [("MS", {}), ("D", b"abc"), ("ME", None), ("SE", "")]
    assert q.current == 97


def test_concurrency_takes_a_unit_per_stream_and_returns_it_at_end():
    q = quota(1)
    f1, f2 = RecordingFlow(), RecordingFlow()
    p1, o1 = pipeline([("throttleConcurrency", q)], f1)
    p2, o2 = pipeline([("throttleConcurrency", q)], f2)
    p1.input(Data("a1"))
    p2.input(Data("b1"))
    p1.input(Data("a2"))
    p2.input(Data("b2"))
    assert show(o1.events) == [("D", b"a1"), ("D", b"a2")] and o2.events == []
    assert (f1.calls, f2.calls, q.current) == ([], ["pause"], 0)
    p1.end()  # the first stream's unit goes back and the second stream flows
    assert show(o2.events) == [("D", b"b1"), ("D", b"b2")]
    assert f2.calls == ["pause", "resume"] and q.current == 0
    p2.end()
    assert q.current == 1


def test_ending_a_stalled_stream_resumes_and_withdraws_its_waiter():
    q = quota(0)
    flow = RecordingFlow()
    p, out = pipeline([("throttleConcurrency", q)], flow)
    p.input(Data("x"))
    assert flow.calls == ["pause"] and len(q._waiters) == 1
    p.end()
    assert flow.calls == ["pause", "resume"] and q._waiters == []
    q.produce(1)
    assert out.events == [] and q.current == 1  # no unit taken by the ended stream


def test_waiters_are_released_fifo():
    clock = [0.0]
    q = quota(1, clock, per=1)
    outs = []
    for i in range(3):
        p, out = pipeline([("throttleMessageRate", q)])
        p.input(MessageStart({"p": i}))
        outs.append(out)
    assert [len(o.events) for o in outs] == [1, 0, 0]
    clock[0] = 1.0
    q.poll()
    assert [len(o.events) for o in outs] == [1, 1, 0]
    clock[0] = 2.0
    q.poll()
    assert [len(o.events) for o in outs] == [1, 1, 1]


def test_quota_from_a_function_once_per_stream():
    made = []

    def make():
        made.append(quota(5))
        return made[-1]

    p, out = pipeline([("throttleMessageRate", make)])
    for e in [*msg({}), *msg({})]:
        p.input(e)
    assert len(made) == 1 and made[0].current == 3


def test_function_returning_no_quota_logs_and_drops(capture_log):
    p, out = pipeline([("throttleMessageRate", lambda: 5)])
    p.input(MessageStart({}))
    assert out.events == [] and "algo.Quota" in capture_log.getvalue()


@pytest.mark.parametrize("name", ["throttleConcurrency", "throttleDataRate",
                                  "throttleMessageRate"])
def test_bad_argument(name):
    from pipyd.registry import lookup
    with pytest.raises(JSThrow, match=f"TypeError: {name}: argument #1 expects an algo.Quota"):
        lookup(name).configure(None, 5)


def test_real_timer_refill_releases_a_burst():
    async def go():
        q = Quota(2, JSObject(per=0.05))
        flow = RecordingFlow()
        p, out = pipeline([("throttleMessageRate", q)], flow)
        for i in range(5):
            for e in msg({"n": i}):
                p.input(e)
        first = len([e for e in out.events if type(e) is MessageStart])
        await asyncio.sleep(0.2)
        return first, out, flow

    first, out, flow = asyncio.run(go())
    assert first == 2
    starts = [e.head["n"] for e in out.events if type(e) is MessageStart]
    assert starts == [0, 1, 2, 3, 4]
    assert flow.calls == ["pause", "resume"]


def test_message_end_order_is_kept():
    q = quota(1)
    p, out = pipeline([("throttleMessageRate", q)])
    for e in [*msg({"a": 1}, b"x"), *msg({"a": 2}, b"y")]:
        p.input(e)
    q.produce(1)
    assert show(out.events) == [("MS", {"a": 1}), ("D", b"x"), ("ME", None),
                                ("MS", {"a": 2}), ("D", b"y"), ("ME", None)]
    assert type(out.events[2]) is MessageEnd


from tests.unit.core import capture_log  # noqa: E402,F401 (fixture)
