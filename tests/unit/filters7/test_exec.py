"""exec with real commands: stdin from input Data, stdout as output Data, StreamEnd on exit,
the child terminated when the pipeline ends."""
import asyncio
import os
import sys

import pytest

from pipyd.events import Data, MessageStart, StreamEnd
from pipyd.js.values import JSArray, JSThrow

from . import RecordingFlow, pipeline, show

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX commands")


async def settle(out, timeout=5.0):
    """Wait until the output holds a StreamEnd."""
    for _ in range(int(timeout / 0.01)):
        if out.events and type(out.events[-1]) is StreamEnd:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"no StreamEnd: {show(out.events)}")


def run_exec(command, events, flow=None):
    async def go():
        p, out = pipeline([("exec", command)], flow)
        for e in events:
            p.input(e)
        await settle(out)
        p.end()
        return out

    return asyncio.run(go())


def test_cat_echoes_stdin_then_ends():
    out = run_exec("cat", [Data("hello "), MessageStart({}), Data("world"), StreamEnd()])
    assert out.data() == b"hello world"
    assert show(out.events)[-1] == ("SE", "")


def test_string_is_split_on_spaces():
    out = run_exec("echo  a   b", [Data("ignored")])
    assert out.data() == b"a b\n"


def test_array_and_function_commands():
    assert run_exec(JSArray(["echo", "one arg"]), [Data("")]).data() == b"one arg\n"
    assert run_exec(lambda: JSArray(["printf", "%s-%s", 1, 2]), [Data("")]).data() == b"1-2"


def test_exit_status_still_ends_the_stream():
    out = run_exec(JSArray(["sh", "-c", "printf out; exit 3"]), [StreamEnd()])
    assert show(out.events) == [("D", b"out"), ("SE", "")]


def test_unknown_program_logs_and_ends(capture_log):
    out = run_exec("no-such-program-pipyd-test", [Data("x")])
    assert show(out.events) == [("SE", "")]
    assert "unable to exec" in capture_log.getvalue()


def test_large_input_round_trips_with_back_pressure():
    blob = os.urandom(1 << 20)
    flow = RecordingFlow()
    out = run_exec("cat", [Data(blob[i:i + 65536]) for i in range(0, len(blob), 65536)]
                   + [StreamEnd()], flow)
    assert out.data() == blob
    assert flow.calls.count("pause") == flow.calls.count("resume")


def test_pipeline_end_terminates_the_child():
    async def go():
        p, out = pipeline([("exec", JSArray(["sh", "-c", "echo $$; exec sleep 30"]))])
        p.input(Data(""))
        for _ in range(500):
            if out.data().endswith(b"\n"):
                break
            await asyncio.sleep(0.01)
        pid = int(out.data())
        p.end()
        for _ in range(300):
            await asyncio.sleep(0.01)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return True
            try:  # reaped by the loop's child watcher, or a zombie until then
                with open(f"/proc/{pid}/stat") as f:
                    if f.read().split()[2] == "Z":
                        return True
            except FileNotFoundError:
                return True
        return False

    assert asyncio.run(go())


def test_empty_command_logs(capture_log):
    async def go():
        p, out = pipeline([("exec", "   ")])
        p.input(Data("x"))
        await asyncio.sleep(0.01)
        return out

    assert asyncio.run(go()).events == []
    assert "command is empty" in capture_log.getvalue()


def test_bad_argument():
    from pipyd.registry import lookup
    with pytest.raises(JSThrow, match="TypeError: exec"):
        lookup("exec").configure(None, 5)


from tests.unit.core import capture_log  # noqa: E402,F401 (fixture)
