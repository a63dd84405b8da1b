"""Task roots (once, interval, signal, cron) and file roots (`read`)."""
from __future__ import annotations

import asyncio
import os
import signal
from datetime import datetime

import pytest

from pipyd import log
from pipyd.events import Data, StreamEnd
from pipyd.js.values import JSThrow, undefined
from pipyd.tasks import (
    FileReader, SignalTable, TaskRunner, TaskSpec, next_cron_time, parse_task_spec,
    signal_table,
)
from tests.unit.roots import Echo, Hold, data_of, layout, new_context, record, run


# -- specs ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("when, kind, value", [
    (undefined, "once", None),
    ("", "once", None),
    ("5s", "interval", 5.0),
    ("0.5", "interval", 0.5),
    ("2m", "interval", 120.0),
    ("100ms", "interval", 6000.0),  # Pipy reads 'm' (minutes) and ignores the rest
    ("24h", "interval", 86400.0),
    ("SIGHUP", "signal", signal.SIGHUP),
    ("SIGWINCH", "signal", signal.SIGWINCH),
    ("*/5 * * * *", "cron", None),
    ("0 3 * * 1-5", "cron", None),
])
def test_parse_task_spec(when, kind, value):
    spec = parse_task_spec(when)
    assert spec.kind == kind
    if kind == "interval":
        assert spec.interval == value
    if kind == "signal":
        assert spec.signum == value


@pytest.mark.parametrize("when, message", [
    (5, "expected a string"),
    ("0.001", "task interval out of range: 0.001"),
    ("25h", "task interval out of range: 25h"),
    ("SIGFOO", "invalid signal name: SIGFOO"),
    ("SIGUSR1", "invalid signal name: SIGUSR1"),  # not in Pipy's list
    ("61 * * * *", "invalid cron expression"),
])
def test_parse_task_spec_errors(when, message):
    with pytest.raises(JSThrow) as e:
        parse_task_spec(when)
    assert message in str(e.value)


def test_next_cron_time_is_strictly_after_in_local_time():
    after = datetime(2024, 1, 1, 10, 2, 30).timestamp()
    assert next_cron_time("*/5 * * * *", after) == datetime(2024, 1, 1, 10, 5).timestamp()
    on_boundary = datetime(2024, 1, 1, 10, 5).timestamp()
    assert next_cron_time("*/5 * * * *", on_boundary) == datetime(2024, 1, 1, 10, 10).timestamp()
    assert next_cron_time("0 3 * * *", after) == datetime(2024, 1, 2, 3, 0).timestamp()


# -- runs ------------------------------------------------------------------------------------------

def ending_layout(calls: list):
    """A task layout whose onStart records the run and ends it at once."""
    def on_start(*args):
        calls.append(args)
        return StreamEnd()
    return layout(Echo(), kind="task", on_start=on_start)


def test_one_shot_runs_once_with_no_inbound():
    calls: list = []
    seen: list = []

    async def main():
        lay = layout(record(seen), Echo(), kind="task",
                     on_start=lambda: (calls.append(1), Data(b"hi"))[1])
        t = TaskRunner(lay, None, new_context)
        t.start()
        await asyncio.sleep(0.05)
        assert t.runs == 1 and t.active  # no StreamEnd came out: still active
        t.abort()
        assert not t.active
    run(main)
    assert calls == [1]
    assert seen[0][0].context.inbound is None
    assert data_of(seen) == b"hi"


def test_interval_runs_at_start_then_every_interval():
    calls: list = []

    async def main():
        t = TaskRunner(ending_layout(calls), "0.05", new_context)
        t.start()
        assert len(calls) == 1  # the first run is immediate (Pipy schedules it at 0)
        await asyncio.sleep(0.28)
        t.stop()
        n = len(calls)
        await asyncio.sleep(0.1)
        assert len(calls) == n  # stopped
        return n
    n = run(main)
    assert 4 <= n <= 7


def test_interval_skips_while_previous_run_is_active():
    starts: list = []

    async def main():
        lay = layout(Hold(), kind="task", on_start=lambda: starts.append(1))
        t = TaskRunner(lay, "0.03", new_context)
        t.start()
        await asyncio.sleep(0.2)
        assert t.runs == 1 and t.skipped >= 3
        # the run ends: the next tick starts a new one
        t.pipeline.output.process(StreamEnd())
        await asyncio.sleep(0.1)
        assert t.runs >= 2
        t.abort()
    run(main)


def test_cron_trigger_skips_when_active_and_logs_debug(capsys):
    log.configure(level="debug")
    try:
        async def main():
            lay = layout(Hold(), kind="task")
            t = TaskRunner(lay, "*/5 * * * *", new_context)
            t.start()
            assert t.runs == 0 and t._timer is not None
            delay = t._timer.when() - asyncio.get_running_loop().time()
            assert 0 <= delay <= 300
            assert t.trigger() is True
            assert t.trigger() is False
            assert t.skipped == 1
            t.abort()
            assert t._timer is None
        run(main)
    finally:
        log.configure(level="error")
    assert "previous run still active, skipped" in capsys.readouterr().err


def test_cron_fire_schedules_next_from_now():
    async def main():
        calls: list = []
        t = TaskRunner(ending_layout(calls), TaskSpec("cron", "* * * * *"), new_context)
        t.start()
        t._timer.cancel()
        t._cron_fire()  # as if the minute came
        assert len(calls) == 1
        assert 0 < t._timer.when() - asyncio.get_running_loop().time() <= 60
        t.stop()
    run(main)


# -- signals ---------------------------------------------------------------------------------------

def test_signal_task_runs_on_signal_and_replaces_default():
    calls: list = []
    defaults: list = []

    async def main():
        loop = asyncio.get_running_loop()
        table = signal_table(loop)
        table.set_default(signal.SIGWINCH, lambda: defaults.append(1))
        os.kill(os.getpid(), signal.SIGWINCH)
        await asyncio.sleep(0.05)
        assert defaults == [1]
        t = TaskRunner(ending_layout(calls), "SIGWINCH", new_context)
        t.start()
        os.kill(os.getpid(), signal.SIGWINCH)
        await asyncio.sleep(0.05)
        assert len(calls) == 1 and defaults == [1]  # the task replaced the default
        t.stop()
        os.kill(os.getpid(), signal.SIGWINCH)
        await asyncio.sleep(0.05)
        assert len(calls) == 1 and defaults == [1, 1]  # default is back
        table.clear_default(signal.SIGWINCH)
        assert signal.SIGWINCH not in table.installed
    run(main)


def test_signal_table_per_loop_and_uncatchable_signal_warns(capsys):
    log.configure(level="warn")
    try:
        async def main():
            loop = asyncio.get_running_loop()
            assert signal_table(loop) is signal_table()
            table = SignalTable(loop)
            table.add_task(signal.SIGKILL, lambda: None)
            assert signal.SIGKILL not in table.installed
        run(main)
    finally:
        log.configure(level="error")
    assert "cannot handle signal SIGKILL" in capsys.readouterr().err


# -- file roots ---------------------------------------------------------------------------------

def test_read_file_feeds_content_then_stream_end(tmp_path):
    path = tmp_path / "in.bin"
    content = os.urandom(200_000)  # several chunks
    path.write_bytes(content)
    seen: list = []

    async def main():
        r = FileReader(layout(record(seen), Echo(), kind="read"), str(path), new_context)
        r.start()
        for _ in range(100):
            if r.pipelines == 0:
                break
            await asyncio.sleep(0.01)
        assert r.pipelines == 0  # the StreamEnd came out: the pipeline ended
    run(main)
    assert data_of(seen) == content
    assert type(seen[-1][1]) is StreamEnd and seen[-1][1].error == ""
    assert sum(1 for _, e in seen if type(e) is Data) >= 3


def test_read_pauses_with_the_pipeline(tmp_path):
    path = tmp_path / "in.bin"
    path.write_bytes(b"x" * 300_000)
    seen: list = []

    async def main():
        r = FileReader(layout(record(seen), Hold(), kind="read"), str(path), new_context)
        r.start()
        r.pipeline.pause_input()
        await asyncio.sleep(0.05)
        assert data_of(seen) == b""
        r.pipeline.resume_input()
        await asyncio.sleep(0.05)
        assert len(data_of(seen)) == 300_000
        r.abort()
    run(main)


def test_read_stdin_pipe():
    seen: list = []
    rfd, wfd = os.pipe()
    os.write(wfd, b"from a pipe")
    os.close(wfd)

    async def main():
        with os.fdopen(rfd, "rb", buffering=0) as f:
            r = FileReader(layout(record(seen), Echo(), kind="read"), "-", new_context, stdin=f)
            r.start()
            for _ in range(100):
                if r.pipelines == 0:
                    break
                await asyncio.sleep(0.01)
    run(main)
    assert data_of(seen) == b"from a pipe"
    assert type(seen[-1][1]) is StreamEnd


def test_read_missing_file_logs_error(tmp_path, capsys):
    async def main():
        r = FileReader(layout(Echo(), kind="read"), str(tmp_path / "nope"), new_context)
        r.start()
        assert r.pipelines == 0
    run(main)
    assert "[reader] Cannot open file" in capsys.readouterr().err
