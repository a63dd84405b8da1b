"""Drive a server with wrk and read requests/s and latency percentiles from its report."""
from __future__ import annotations

import re
import shutil
import statistics
import subprocess
from dataclasses import dataclass

from .servers import pinned

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


@dataclass
class LoadResult:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


def median_result(results: list[LoadResult]) -> LoadResult:
    """Rounds of one server as one result: the median of each figure, every error counted."""
    return LoadResult(statistics.median(r.rps for r in results),
                      statistics.median(r.p50_ms for r in results),
                      statistics.median(r.p99_ms for r in results),
                      sum(r.errors for r in results))


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
    if not m:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def wrk(url: str, connections: int = 50, seconds: int = 5, cpu: int = 0) -> LoadResult:
    """Run wrk (apt: wrk) on one core against url; raises if wrk is missing."""
    if not shutil.which("wrk"):
        raise RuntimeError("wrk is not installed: apt-get install -y wrk")
    out = subprocess.run(pinned(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", url], cpu),
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    errs = sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return LoadResult(rps, p50, p99, errs + (int(non2xx.group(1)) if non2xx else 0))
