"""Runs the decoding tables whole, byte by byte and split at every position (h11 style), into
a streaming sink and into one that takes whole messages too (``on_message``)."""
from __future__ import annotations

import pytest

from . import cases_requests, cases_responses
from .table import Recorder, WholeRecorder, feed_request, feed_response, splits

SINKS = [Recorder, WholeRecorder]


@pytest.mark.parametrize("sink", SINKS, ids=lambda s: s.__name__)
@pytest.mark.parametrize("data,expected", cases_requests.CASES, ids=lambda x: repr(x)[:40])
def test_request_table(data: bytes, expected: list, sink: type) -> None:
    for pieces in splits(data):
        assert feed_request(pieces, sink).events == expected, pieces


@pytest.mark.parametrize("sink", SINKS, ids=lambda s: s.__name__)
@pytest.mark.parametrize("case", cases_responses.CASES, ids=lambda x: repr(x[0])[:40])
def test_response_table(case: tuple, sink: type) -> None:
    data, expected = case[0], case[1]
    expect = case[2] if len(case) > 2 else []
    eof = case[3] if len(case) > 3 else False
    for pieces in splits(data):
        assert feed_response(pieces, expect, eof, sink).events == expected, pieces
