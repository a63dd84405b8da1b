"""Ask a Configuration for each of the 71 filters of Pipy 0.70 (reference §2.2) and report
which pipyd implements: registered under its Pipy name, a `configure` of its own (not the base
class's), and event handling of its own (`process`, or a joint filter's sub-pipeline output).

    python scripts/check_filters.py      # exit 1 when any filter is missing
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The list ships with the repository so the check runs in any checkout; when the shared specs
# sit beside it (the developers' layout), the list is compared with the reference itself.
LIST = HERE / "pipy_filters.txt"
REFERENCE = HERE.parents[1] / "shared" / "specs" / "pipy-0.70-reference.md"


def reference_filters() -> list[str]:
    """The filter names of the reference's §2.2 table, in its order."""
    names = [ln.strip() for ln in LIST.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    if REFERENCE.exists():
        text = REFERENCE.read_text()
        table = text[text.index("### 2.2 Filters"):text.index("### 2.3")]
        from_reference = re.findall(r"^\| \d+ \| `(\w+)`", table, re.M)
        if from_reference != names:
            raise SystemExit(f"{LIST.name} is out of date with {REFERENCE}")
    return names


def implemented(name: str) -> bool:
    import pipyd.filters  # noqa: F401  registers every family
    from pipyd.module import Configuration
    from pipyd.pipeline import Filter, JointFilter
    from pipyd.registry import lookup

    Configuration.refresh_members()
    cls = lookup(name)
    if cls is None or name not in Configuration.js_get:
        return False
    own_configure = cls.configure.__func__ is not Filter.configure.__func__
    own_events = cls.process is not Filter.process or (
        issubclass(cls, JointFilter) and cls.on_sub_output is not JointFilter.on_sub_output)
    return own_configure and (own_events or issubclass(cls, JointFilter))


def main() -> int:
    names = reference_filters()
    missing = [n for n in names if not implemented(n)]
    print(f"{len(names) - len(missing)} of {len(names)} filters implemented")
    for n in missing:
        print(f"  missing: {n}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
