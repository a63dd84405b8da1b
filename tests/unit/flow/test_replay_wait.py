"""replay and wait (reference §2.2 rows 63, 71): timers run on a real asyncio loop."""
import asyncio

import pytest

from pipyd.events import Data, StreamEnd

from . import Run, load


def arun(coro):
    return asyncio.run(coro)


REPLAY = """pipy({_tries: {n: 0}}).pipeline('main').replay(%s).to($ => $
  .handleStreamStart(() => _tries.n++)
  .replaceData(d => _tries.n < 3 ? new StreamEnd('Replay') : new Data(d.toString() + _tries.n)))
"""


def test_replay_restarts_the_sub_pipeline_with_everything_recorded(tmp_path):
    w = load(tmp_path, REPLAY % "")

    async def go():
        r = Run(w)
        r.feed(Data("a"))
        assert r.out.events == []
        for _ in range(5):
            await asyncio.sleep(0)
        r.feed(Data("b"))
        return r

    r = arun(go())
    from . import show
    assert show(r.out.events) == [("D", b"a3"), ("D", b"b3")]
    assert r.context.data[0]["_tries"]["n"] == 3


def test_replay_waits_for_the_delay(tmp_path):
    w = load(tmp_path, REPLAY % "{delay: 0.05}")

    async def go():
        r = Run(w)
        r.feed(Data("a"))
        await asyncio.sleep(0.03)
        first = r.context.data[0]["_tries"]["n"]
        await asyncio.sleep(0.15)
        return first, r

    first, r = arun(go())
    assert first == 1
    assert r.data() == b"a3"


def test_replay_passes_other_output_and_records_while_waiting(tmp_path):
    src = """pipy({_g: {n: 0}}).pipeline('main').replay({delay: () => 0.01}).to($ => $
      .handleStreamStart(() => _g.n++)
      .replaceStreamEnd(e => _g.n === 1 ? new StreamEnd('Replay') : e))"""
    w = load(tmp_path, src)

    async def go():
        r = Run(w)
        r.feed(Data("a"), StreamEnd())  # first run: a, then asks for a replay
        r.feed(Data("late"))  # recorded while the replay is pending
        await asyncio.sleep(0.05)
        return r

    r = arun(go())
    from . import show
    assert show(r.out.events) == [("D", b"a"), ("D", b"a"), ("SE", ""), ("D", b"late")]


def test_replay_bad_options(tmp_path):
    with pytest.raises(Exception, match="TypeError: replay"):
        load(tmp_path, "pipy().pipeline('main').replay(5).to($ => $.dummy())")


WAIT = "pipy({_ok: false}).pipeline('main').wait(() => _ok%s)"


def test_wait_holds_events_until_the_condition_holds_on_an_input_event(tmp_path):
    w = load(tmp_path, WAIT % "")
    r = Run(w)
    assert r.feed(Data("a")) == []
    r.context.data[0]["_ok"] = True
    assert r.feed(Data("b")) == [("D", b"a"), ("D", b"b")]


def test_wait_rechecks_when_the_context_group_is_touched(tmp_path):
    w = load(tmp_path, WAIT % "")
    r = Run(w)
    other = r.context.clone()  # a pipeline elsewhere in the group (a demuxHTTP request)
    assert r.feed(Data("a")) == []
    other.group.touch()
    assert r.out.events == []
    r.context.data[0]["_ok"] = True
    other.group.touch()
    from . import show
    assert show(r.out.events) == [("D", b"a")]
    assert other.group.waiters == []  # released: no longer re-checked


def test_wait_timeout_releases(tmp_path):
    w = load(tmp_path, WAIT % ", {timeout: 0.02}")

    async def go():
        r = Run(w)
        r.feed(Data("a"))
        await asyncio.sleep(0.06)
        return r

    assert arun(go()).data() == b"a"


def test_wait_ignores_events_after_stream_end_and_reset_drops_the_waiter(tmp_path):
    w = load(tmp_path, WAIT % "")
    r = Run(w)
    r.feed(Data("a"), StreamEnd(), Data("after"))
    group = r.context.group
    assert len(group.waiters) == 1
    r.pipeline.end()
    assert group.waiters == []


def test_wait_needs_a_function(tmp_path):
    with pytest.raises(Exception, match="TypeError: wait"):
        load(tmp_path, "pipy().pipeline('main').wait(true)")
