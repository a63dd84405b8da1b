"""The admin port (pipyd/admin.py): a real Worker with a real listener and the admin server on
loopback, scraped over real sockets with h11 as the client."""
import asyncio
import contextlib
import socket

import h11
import pytest

from pipyd.admin import parse_admin_address, start_admin
from pipyd.api.stats import reset_registry
from pipyd.worker import Worker


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.asynccontextmanager
async def worker_with_admin(script: str, admin: int):
    """A started Worker of ``script`` and the admin server on port ``admin``; both stopped on exit."""
    worker = Worker(script)
    await worker.start()
    server = await start_admin(asyncio.get_running_loop(), "127.0.0.1", admin, lambda: worker)
    try:
        yield worker
    finally:
        server.close()
        await server.wait_closed()
        await worker.shutdown(0.5)


async def http(port: int, requests: list[tuple[bytes, bytes]]) -> list[tuple[int, dict, bytes]]:
    """Send the requests on one keep-alive connection; the responses, in order."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    conn = h11.Connection(h11.CLIENT)
    out = []
    for method, target in requests:
        writer.write(conn.send(h11.Request(method=method, target=target,
                                           headers=[("host", "admin")])))
        writer.write(conn.send(h11.EndOfMessage()))
        status, headers, body = 0, {}, b""
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await reader.read(65536))
                continue
            if isinstance(event, h11.Response):
                status, headers = event.status_code, dict(event.headers)
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                break
        out.append((status, headers, body))
        conn.start_next_cycle()
    writer.close()
    return out


SCRIPT = """
var hits = new stats.Counter('test_hits', ['path'])
pipy()
.listen(%d)
  .handleStreamStart(() => hits.withLabels('/x').increase())
  .dummy()
"""


def test_metrics_of_scripts_and_of_the_daemon(tmp_path):
    reset_registry()
    listen, admin = free_port(), free_port()
    (tmp_path / "main.js").write_text(SCRIPT % listen)

    async def scenario():
        async with worker_with_admin(str(tmp_path / "main.js"), admin) as worker:
            _, w1 = await asyncio.open_connection("127.0.0.1", listen)
            w1.write(b"hello")
            await w1.drain()
            for _ in range(100):  # until the worker has seen the first event
                await asyncio.sleep(0.01)
                if worker.roots.pipelines():
                    break
            res = await http(admin, [(b"GET", b"/metrics"), (b"GET", b"/nope"),
                                     (b"POST", b"/metrics"), (b"HEAD", b"/metrics")])
            w1.close()
            return res

    (status, headers, body), notfound, post, head = asyncio.run(scenario())
    assert status == 200
    assert headers[b"content-type"].startswith(b"text/plain; version=0.0.4")
    text = body.decode()
    assert 'test_hits{path="/x"} 1' in text
    assert "# TYPE pipyd_inbound_connections gauge" in text
    assert f':{listen}"}} 1\n' in text  # one open connection on the script's port
    assert "pipyd_pipelines 1" in text
    assert notfound[0] == 404 and post[0] == 405
    assert head[0] == 200 and head[2] == b""


@pytest.mark.parametrize("text,expected", [
    ("6060", ("", 6060)), (":6061", ("", 6061)), ("127.0.0.1:6062", ("127.0.0.1", 6062)),
    ("[::1]:6063", ("::1", 6063)),
])
def test_parse_admin_address(text, expected):
    assert parse_admin_address(text) == expected


@pytest.mark.parametrize("text", ["x", "1:99999", ""])
def test_parse_admin_address_refuses(text):
    with pytest.raises(ValueError):
        parse_admin_address(text)


def test_admin_port_through_the_cli(tmp_path):
    """`pipyd --admin-port=…` serves the script's metrics next to its own ports."""
    from .daemon import Daemon, http_exchange
    listen, admin = free_port(), free_port()
    (tmp_path / "main.js").write_text(
        "((c = new stats.Counter('hello_requests')) => pipy()"
        ".listen(%d).serveHTTP(() => (c.increase(), new Message('hi'))))()" % listen)
    d = Daemon(tmp_path, args=[f"--admin-port=127.0.0.1:{admin}"]).start([listen, admin])
    try:
        for _ in range(3):
            http_exchange(listen, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        text = http_exchange(admin, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").decode()
        assert "hello_requests 3" in text
        assert "pipyd_pipelines" in text
    finally:
        d.stop()


# -- /dump --------------------------------------------------------------------------------------

PROXY = """
pipy()
.listen(%d)
  .demuxHTTP().to($=>$
    .muxHTTP(() => 'up').to($=>$.connect('%s'))
  )
"""


async def _wait(pred, tries: int = 200) -> None:
    for _ in range(tries):
        if pred():
            return
        await asyncio.sleep(0.01)


def test_dump_sections_of_a_live_proxy(tmp_path):
    """A keep-alive client through demuxHTTP -> muxHTTP -> connect, and an HTTP/2 client with a
    request still open: every section shows them."""
    import h2.config
    import h2.connection
    from .upstreams import Upstream
    up = Upstream("ok")
    listen, admin = free_port(), free_port()
    (tmp_path / "main.js").write_text(PROXY % (listen, up.target))

    async def scenario():
        async with worker_with_admin(str(tmp_path / "main.js"), admin) as worker:
            r1, w1 = await asyncio.open_connection("127.0.0.1", listen)
            w1.write(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
            await r1.readuntil(b"up GET /a 0")
            h2c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
            h2c.initiate_connection()
            h2c.send_headers(1, [(":method", "POST"), (":path", "/h2"), (":scheme", "http"),
                                 (":authority", "x")])
            r2, w2 = await asyncio.open_connection("127.0.0.1", listen)
            w2.write(h2c.data_to_send())
            # the server's SETTINGS come back from the read that also opened stream 1
            await asyncio.wait_for(r2.read(9), 10)
            every = "+".join(["pools", "objects", "chunks", "pipelines", "inbound", "outbound",
                              "http2"])
            res = await http(admin, [(b"GET", f"/dump/{every}".encode()),
                                     (b"GET", b"/dump/inbound+bogus"), (b"POST", b"/dump/inbound"),
                                     (b"HEAD", b"/dump/pools"), (b"GET", b"/dump/")])
            w1.close()
            w2.close()
            return res

    (status, headers, body), unknown, post, head, empty = asyncio.run(scenario())
    up.stop()
    assert status == 200 and headers[b"content-type"].startswith(b"text/plain")
    text = body.decode()
    sections = [line for line in text.splitlines() if line.startswith("[") and line.endswith("]")]
    assert sections == ["[pools]", "[objects]", "[chunks]", "[pipelines]", "[inbound]",
                        "[outbound]", "[http2]"]
    pools = text.split("[pools]\n")[1].split("\n\n")[0]
    assert "muxHTTP#0: 1 keys, 1 sessions (0 borrowed, 1 idle)" in pools
    assert "key 'up': 0 borrowers, 1 messages, 0 requests in flight, idle" in pools
    objects = text.split("[objects]\n")[1].split("\n\n")[0]
    assert "filter muxHTTP" in objects and "filter connect" in objects and "(pipeline)" in objects
    chunks = text.split("[chunks]\n")[1].split("\n\n")[0]
    assert chunks.startswith("Data objects alive:") and "socket write buffers" in chunks
    pipelines = text.split("[pipelines]\n")[1].split("\n\n")[0]
    assert f"       2        0  /main.js [Listen on {listen} at 0.0.0.0]" in pipelines
    assert "connect#0" in pipelines or "muxHTTP#0" in pipelines
    inbound = text.split("[inbound]\n")[1].split("\n\n")[0]
    assert f"TCP 0.0.0.0:{listen}: 2 open" in inbound
    assert inbound.count(f"-> 127.0.0.1:{listen}  open  age ") == 2
    outbound = text.split("[outbound]\n")[1].split("\n\n")[0]
    assert f"TCP {up.target}  connected  local 127.0.0.1:" in outbound
    assert f"peer {up.target}" in outbound and "mux session: 1 messages, 0 borrowers" in outbound
    http2 = text.split("[http2]\n")[1]
    assert "server: 1 connections, 1 open streams" in http2
    assert "stream 1: POST /h2  receiving request" in http2
    assert unknown[0] == 404 and b"'bogus'" in unknown[2]
    assert b"pools, objects, chunks" in unknown[2]
    assert post[0] == 405 and head[0] == 200 and head[2] == b""
    assert empty[0] == 404



# -- /metrics through prometheus_client's own parser ------------------------------------------

METRICS_SCRIPT = r"""
((
  hits = new stats.Counter('req_total', ['method', 'note']),
  temp = new stats.Gauge('temperature'),
  lat = new stats.Histogram('latency_ms', [1, 5, 25.5], ['route']),
) => pipy()
.listen(%d)
.serveHTTP(() => (
  hits.withLabels('GET', 'say "hi"\\ there\nnow').increase(),
  hits.withLabels('POST', 'plain').increase(2),
  temp.set(-3.5),
  lat.withLabels('/a').observe(0.5),
  lat.withLabels('/a').observe(7),
  lat.withLabels('/a').observe(100),
  new Message('ok')
))
)()
"""


def _families(text: str) -> dict:
    from prometheus_client.parser import text_string_to_metric_families
    return {f.name: f for f in text_string_to_metric_families(text)}


def _sample(fam, name: str, **labels) -> float:
    for s in fam.samples:
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    raise AssertionError(f"no sample {name} {labels} in {fam.samples}")


def _scrape(admin: int) -> str:
    from .daemon import http_exchange
    raw = http_exchange(admin, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    return raw.split(b"\r\n\r\n", 1)[1].decode()


def _check_families(text: str, requests: int) -> None:
    fams = _families(text)
    hits = fams["req"]  # prometheus_client names a counter family without its _total
    assert hits.type == "counter"
    assert _sample(hits, "req_total", method="GET", note='say "hi"\\ there\nnow') == requests
    assert _sample(hits, "req_total", method="POST", note="plain") == 2 * requests
    assert fams["temperature"].type == "gauge"
    lat = fams["latency_ms"]
    assert lat.type == "histogram"
    # `le` is a float in text form; pipyd writes JS number text ("1", as Pipy) where
    # prometheus_client would write "1.0": both parse to the same bound
    buckets = {float(s.labels["le"]): s.value for s in lat.samples
               if s.name == "latency_ms_bucket" and s.labels["route"] == "/a"}
    assert buckets == {1.0: requests, 5.0: requests, 25.5: 2 * requests,
                       float("inf"): 3 * requests}
    assert _sample(lat, "latency_ms_count", route="/a") == 3 * requests
    assert _sample(lat, "latency_ms_sum", route="/a") == 107.5 * requests
    assert fams["pipyd_pipelines"].type == "gauge"


def test_metrics_parse_with_prometheus_client(daemon, port):
    from .daemon import http_exchange
    admin = free_port()
    d = daemon(METRICS_SCRIPT % port, ports=[port, admin], args=[f"--admin-port=127.0.0.1:{admin}"])
    for _ in range(2):
        http_exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    text = _scrape(admin)
    _check_families(text, 2)
    assert _sample(_families(text)["temperature"], "temperature") == -3.5
    assert d.proc.poll() is None


def _until(fn, timeout: float = 10.0):
    import time
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def test_metrics_and_dump_add_up_over_threads(daemon, port):
    """--threads 2: worker 0 serves the admin port and asks worker 1 over its socket; each
    worker counts its own requests, the scrape shows the sum, /dump one block per worker."""
    from .daemon import http_exchange
    admin = free_port()
    src = METRICS_SCRIPT.replace("new Message('ok')",
                                 "new Message('w' + os.env.PIPYD_WORKER_INDEX)")
    daemon(src % port, ports=[port, admin],
           args=["--threads=2", f"--admin-port=127.0.0.1:{admin}"])

    def both_workers_answer() -> bool:
        dump = http_exchange(admin, b"GET /dump/inbound HTTP/1.1\r\nHost: x\r\n\r\n").decode()
        return dump.count("# worker ") == 2

    assert _until(both_workers_answer), http_exchange(
        admin, b"GET /dump/inbound HTTP/1.1\r\nHost: x\r\n\r\n")
    seen: dict[bytes, int] = {}
    for _ in range(400):  # new connections until both workers have answered a few
        out = http_exchange(port, b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                            until_close=True)
        w = out.rsplit(b"\r\n\r\n", 1)[-1]
        seen[w] = seen.get(w, 0) + 1
        if len(seen) == 2 and sum(seen.values()) >= 6:
            break
    assert set(seen) == {b"w0", b"w1"}
    total = sum(seen.values())
    text = _scrape(admin)
    _check_families(text, total)
    # a gauge set to the same value by both workers adds up too (documented: sum mode)
    assert _sample(_families(text)["temperature"], "temperature") == -7.0
    dump = http_exchange(admin, b"GET /dump/pipelines+inbound HTTP/1.1\r\nHost: x\r\n\r\n").decode()
    assert "# worker 0 (pid " in dump and "# worker 1 (pid " in dump
    assert dump.count("[pipelines]") == 2 and dump.count(f"TCP 0.0.0.0:{port}:") == 2
