"""PIPYD_SANDBOX_CPUS: the cores the reducer workers run on (sandbox.py, docs/streamlog.md)."""
import asyncio
import os

import pytest

from pipyd.streamlog.sandbox import CPUS_ENV, ReducerSandbox, parse_cpus


@pytest.mark.parametrize("text,want", [
    (None, None), ("", None), ("  ", None), ("0", "0"), ("1,0", "0,1"), ("0-2", "0,1,2"),
    (" 3, 1-2 ", "1,2,3"), ("0,0", "0"),
])
def test_parse(text, want):
    assert parse_cpus(text) == want


@pytest.mark.parametrize("text", ["x", "1-", "-1", "2-1", "0,,1"])
def test_parse_refuses(text):
    with pytest.raises(ValueError):
        parse_cpus(text)


def _worker_affinity(sb: ReducerSandbox) -> set:
    asyncio.run(sb.compile("t/s", "h", "(s = 0) => s + 1"))     # starts the worker
    return os.sched_getaffinity(sb.workers[0].proc.pid)


needs_affinity = pytest.mark.skipif(not hasattr(os, "sched_setaffinity")
                                    or len(os.sched_getaffinity(0)) < 2,
                                    reason="needs sched_setaffinity and two cores")


@needs_affinity
def test_workers_pinned_from_environment(monkeypatch):
    cpu = max(os.sched_getaffinity(0))
    monkeypatch.setenv(CPUS_ENV, str(cpu))
    sb = ReducerSandbox(workers=1)
    try:
        assert _worker_affinity(sb) == {cpu}
    finally:
        sb.close()


@needs_affinity
def test_unset_inherits_and_bad_value_is_ignored(monkeypatch):
    mine = os.sched_getaffinity(0)
    monkeypatch.setenv(CPUS_ENV, "not-a-cpu")
    sb = ReducerSandbox(workers=1)
    try:
        assert sb.workers[0].cpus is None and _worker_affinity(sb) == mine
    finally:
        sb.close()


@needs_affinity
def test_missing_core_keeps_inherited_affinity():
    sb = ReducerSandbox(workers=1, cpus="4000")
    try:
        assert _worker_affinity(sb) == os.sched_getaffinity(0)
    finally:
        sb.close()
