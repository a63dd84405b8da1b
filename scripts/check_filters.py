"""Ask a Configuration for each of the 71 filters of Pipy 0.70 (reference §2.2) and report
which pipyd implements: registered under its Pipy name, a `configure` of its own (not the base
class's), and event handling of its own (`process`, or a joint filter's sub-pipeline output).

    python scripts/check_filters.py      # exit 1 when any filter is missing
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "specs" / "pipy-0.70-reference.md"


def reference_filters(path: Path = REFERENCE) -> list[str]:
    """The filter names of the §2.2 table, in its order."""
    text = path.read_text()
    table = text[text.index("### 2.2 Filters"):text.index("### 2.3")]
    return re.findall(r"^\| \d+ \| `(\w+)`", table, re.M)


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
