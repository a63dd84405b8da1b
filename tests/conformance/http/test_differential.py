"""Differential run of the HTTP/1 decoders against h11 (differential.py): fixed seeds, a bounded
count per direction (``PIPYD_HTTP_DIFF_N`` raises it for long runs; ``PIPYD_HTTP_DIFF_SEED``
moves the seeds). A failure shows each stream's bytes (repr) and both outcomes."""
from __future__ import annotations

import os

import pytest

from . import differential as diff

N = int(os.environ.get("PIPYD_HTTP_DIFF_N", "2000"))
SEED = int(os.environ.get("PIPYD_HTTP_DIFF_SEED", "0"))


@pytest.mark.parametrize("kind", ["request", "response"])
def test_decoders_agree_with_h11(kind: str) -> None:
    stats = diff.run(kind, range(SEED, SEED + N))
    failures = stats["failures"]
    assert not failures, f"{len(failures)} of {N} {kind} streams differ:\n\n" + "\n\n".join(failures[:5])
    assert stats["same"] > N // 2  # the generator mostly writes streams both take alike


def test_generator_writes_valid_streams_too() -> None:
    """A stream left as generated (no mutation) must decode exactly as h11 decodes it, which
    ``classify`` enforces (no allowance without a mutation): make sure there are such streams."""
    for make in (diff.make_request_case, diff.make_response_case):
        valid = sum(1 for seed in range(SEED, SEED + 200)
                    if not make(seed).tags and not diff._leading_crlf(make(seed)))
        assert valid > 20, make.__name__


def test_allow_list_entries_are_explained() -> None:
    names = [a.name for a in diff.ALLOWED]
    assert len(names) == len(set(names))
    for a in diff.ALLOWED:
        assert len(a.reason) > 40 and a.tags and a.who in ("ours", "h11", "any", "http"), a.name
