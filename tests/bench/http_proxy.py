"""Reverse-proxy benchmark: pipyd running a tutorial-style routing proxy, nginx (one worker) and
an aiohttp reverse proxy, each in front of the same fast upstream, measured in one run.

Every proxy runs for the whole measurement and they are loaded in turn, ``ROUNDS`` times over:
the figures are each proxy's medians, and the goal ratios are also printed per round. On a
shared machine whose speed drifts by tens of percent within a minute, measuring each proxy
once, one after the other, made the ratios move more than any change under test.

Goal (issue 4): pipyd >= 50% of nginx and >= 3x aiohttp, p99 no worse than aiohttp's.
A minimal uvloop + httptools proxy (ref_httptools_proxy) runs too: the ceiling of parsing and
forwarding in Python on this loop, to read both goals against.
The upstream is the minimal uvloop+httptools server on its own core; proxies share the other.
"""
from __future__ import annotations

import shutil
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from .load import LoadResult, median_result, wrk
from .servers import PIPYD, free_port, running

ROUNDS = 3

PROXY = """
((
  router = new algo.URLRouter({ '/*': 'service' }),
  services = { service: new algo.RoundRobinLoadBalancer(['127.0.0.1:%(up)d']) },
) => pipy({ _target: undefined })
  .listen(%(port)d)
  .demuxHTTP().to($=>$
    .handleMessageStart(msg => (
      _target = services[router.find(msg.head.headers.host, msg.head.path)]?.next()
    ))
    .branch(
      () => Boolean(_target), $=>$.muxHTTP(() => _target).to($=>$.connect(() => _target.id)),
      $=>$.replaceMessage(new Message({ status: 404 }, 'No route'))
    )
  )
)()
"""

NGINX = """
worker_processes 1;
daemon off;
pid %(dir)s/nginx.pid;
error_log %(dir)s/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  upstream up { server 127.0.0.1:%(up)d; keepalive 64; }
  server {
    listen 127.0.0.1:%(port)d;
    location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
"""


def run(seconds: int = 5, rounds: int = ROUNDS) -> list[tuple[str, object]]:
    runs: dict[str, list[LoadResult]] = {}
    up = free_port()
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        upstream = [sys.executable, "-m", "tests.bench.ref_httptools", str(up)]
        stack.enter_context(running(upstream, up, cpu=0))
        proxies = {
            "nginx (1 worker)": lambda p: _nginx(tmp, p, up),
            "aiohttp proxy": lambda p: [sys.executable, "-m", "tests.bench.ref_aiohttp_proxy",
                                        str(p), f"http://127.0.0.1:{up}"],
            "minimal httptools proxy": lambda p: [sys.executable, "-m", "tests.bench.ref_httptools_proxy",
                                                  str(p), str(up)],
            "pipyd routing proxy": lambda p: [*PIPYD, "--no-graph", _module(tmp, p, up)],
        }
        urls = {}
        for name, cmd in proxies.items():
            port = free_port()
            command = cmd(port)
            if command is None:
                continue
            stack.enter_context(running(command, port, cpu=1))  # idle while the others are loaded
            urls[name] = f"http://127.0.0.1:{port}/"
            wrk(urls[name], seconds=1, cpu=0)
            runs[name] = []
        for _ in range(rounds):
            for name, url in urls.items():
                runs[name].append(wrk(url, seconds=seconds, cpu=0))
    results = {name: median_result(rs) for name, rs in runs.items()}
    rows: list[tuple[str, object]] = []
    for name, r in results.items():
        rows.append((f"{name}: requests/s", round(r.rps)))
        rows.append((f"{name}: p50 / p99 ms", f"{r.p50_ms:.2f} / {r.p99_ms:.2f}"))
        if r.errors:
            rows.append((f"{name}: errors", r.errors))
    ours = results["pipyd routing proxy"]
    if "nginx (1 worker)" in results:
        rows.append(("pipyd / nginx (goal >= 0.50)", round(ours.rps / results["nginx (1 worker)"].rps, 2)))
    else:
        rows.append(("nginx", "not installed: apt-get install -y nginx-light"))
    aio = results["aiohttp proxy"]
    rows.append(("pipyd / aiohttp (goal >= 3.0)", round(ours.rps / aio.rps, 2)))
    for other, label in (("nginx (1 worker)", "pipyd / nginx"), ("aiohttp proxy", "pipyd / aiohttp")):
        if other in runs:
            per_round = [a.rps / b.rps for a, b in zip(runs["pipyd routing proxy"], runs[other])]
            rows.append((f"  {label}, round by round", " ".join(f"{r:.2f}" for r in per_round)))
    rows.append(("pipyd p99 / aiohttp p99 (goal <= 1.0)", round(ours.p99_ms / aio.p99_ms, 2)))
    # The ceiling: what parsing and forwarding alone allow a Python proxy on this loop.
    floor = results["minimal httptools proxy"]
    rows.append(("pipyd / minimal httptools proxy", round(ours.rps / floor.rps, 2)))
    if "nginx (1 worker)" in results:
        rows.append(("minimal httptools proxy / nginx", round(floor.rps / results["nginx (1 worker)"].rps, 2)))
    return rows


def _module(tmp: str, port: int, up: int) -> str:
    path = Path(tmp) / "proxy.js"
    path.write_text(PROXY % {"port": port, "up": up})
    return str(path)


def _nginx(tmp: str, port: int, up: int) -> list[str] | None:
    exe = shutil.which("nginx") or (Path("/usr/sbin/nginx").exists() and "/usr/sbin/nginx")
    if not exe:
        return None
    conf = Path(tmp) / f"nginx-{port}.conf"
    conf.write_text(NGINX % {"dir": tmp, "port": port, "up": up})
    return [exe, "-c", str(conf), "-p", tmp]
