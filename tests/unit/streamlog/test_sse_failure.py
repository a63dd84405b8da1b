"""A store failure while serving one SSE connection ends that connection only, and says so."""
from pipyd.streamlog.sse_frames import consumer_failed
from tests.unit.core import capture_log  # noqa: F401 (fixture)


class _Consumer:
    def __init__(self) -> None:
        self.calls: list[str] = []
        self.sink = self

    def end(self) -> None:
        self.calls.append("sink.end")

    def close(self) -> None:
        self.calls.append("close")


def test_consumer_failed_logs_and_ends_the_sink_before_closing(capture_log) -> None:
    c = _Consumer()
    consumer_failed(c, "/acct/s", OSError("disk I/O error"))
    assert c.calls == ["sink.end", "close"]
    assert "SSE consumer of /acct/s failed: disk I/O error" in capture_log.getvalue()
