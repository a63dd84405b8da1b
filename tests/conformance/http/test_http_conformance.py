"""Runs the decoding tables whole, byte by byte and split at every position (h11 style), into
a streaming sink and into one that takes whole messages too (``on_message``)."""
from __future__ import annotations

import pytest

from pipyd.filters.http_codec import RequestDecoder, ResponseDecoder

from . import cases_requests, cases_responses
from .table import Recorder, WholeRecorder, splits

SINKS = [Recorder, WholeRecorder]


def _run_request(pieces: list[bytes], sink: type = Recorder) -> list:
    rec = sink()
    d = RequestDecoder(rec)
    for p in pieces:
        d.feed(p)
    return rec.events


@pytest.mark.parametrize("sink", SINKS, ids=lambda s: s.__name__)
@pytest.mark.parametrize("data,expected", cases_requests.CASES, ids=lambda x: repr(x)[:40])
def test_request_table(data: bytes, expected: list, sink: type) -> None:
    for pieces in splits(data):
        assert _run_request(pieces, sink) == expected, pieces


def _run_response(pieces: list[bytes], expect: list, eof: bool, sink: type = Recorder) -> list:
    rec = sink()
    d = ResponseDecoder(rec)
    for b, c in expect:
        d.expect(b, c)
    for p in pieces:
        d.feed(p)
    if eof:
        d.feed_eof()
    return rec.events


@pytest.mark.parametrize("sink", SINKS, ids=lambda s: s.__name__)
@pytest.mark.parametrize("case", cases_responses.CASES, ids=lambda x: repr(x[0])[:40])
def test_response_table(case: tuple, sink: type) -> None:
    data, expected = case[0], case[1]
    expect = case[2] if len(case) > 2 else []
    eof = case[3] if len(case) > 3 else False
    for pieces in splits(data):
        assert _run_response(pieces, expect, eof, sink) == expected, pieces
