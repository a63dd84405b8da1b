"""Every filter of Pipy 0.70's reference (§2.2) is implemented, except the ones issue 7 still
lists as open. Implementing one makes this test fail until it is taken off the list, so the
list always says exactly what is missing."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "scripts"))

from check_filters import implemented, reference_filters  # noqa: E402

NOT_YET: set[str] = set()  # issue 7 done: every filter of §2.2 is implemented


def test_reference_lists_71_filters():
    assert len(reference_filters()) == 71


def test_every_filter_is_implemented_but_the_listed_ones():
    missing = {n for n in reference_filters() if not implemented(n)}
    assert missing == NOT_YET
