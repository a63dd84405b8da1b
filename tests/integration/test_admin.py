"""The admin port (pipyd/admin.py): a real Worker with a real listener and the admin server on
loopback, scraped over real sockets with h11 as the client."""
import asyncio
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
        worker = Worker(str(tmp_path / "main.js"))
        await worker.start()
        server = await start_admin(asyncio.get_running_loop(), "127.0.0.1", admin,
                                   lambda: worker)
        try:
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
        finally:
            server.close()
            await server.wait_closed()
            await worker.shutdown(0.5)

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
