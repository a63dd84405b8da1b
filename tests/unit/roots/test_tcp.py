"""TCP listeners on real loopback sockets (port 0): echo, ends, limits, timeouts, flow."""
from __future__ import annotations

import asyncio
import socket
import struct

import pytest

from pipyd.events import Data, StreamEnd
from pipyd.inbound import (
    Inbound, ListenOptions, TCPListener, graceful_shutdown, parse_address,
)
from pipyd.js.values import JSObject, JSThrow
from tests.unit.roots import Echo, Hold, data_of, layout, new_context, record, run


async def start(lay, ip="127.0.0.1", **opts) -> TCPListener:
    listener = TCPListener(lay, ip, 0, ListenOptions(**opts), new_context)
    await listener.start()
    return listener


async def connect(listener: TCPListener, host="127.0.0.1"):
    return await asyncio.open_connection(host, listener.port)


async def settle(cond, limit=2.0):
    loop = asyncio.get_running_loop()
    end = loop.time() + limit
    while not cond():
        if loop.time() > end:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.01)


# -- listen() arguments ------------------------------------------------------------------------

@pytest.mark.parametrize("arg, expected", [
    (8080, ("0.0.0.0", 8080)),
    ("127.0.0.1:80", ("127.0.0.1", 80)),
    ("[::]:8080", ("::", 8080)),
    ("[::1]:1", ("::1", 1)),
    (0, ("0.0.0.0", 0)),
])
def test_parse_address(arg, expected):
    assert parse_address(arg) == expected


@pytest.mark.parametrize("arg", [None, "8080", "host:80", "1.2.3.4:x", 70000, "[::]:99999"])
def test_parse_address_errors(arg):
    with pytest.raises(JSThrow):
        parse_address(arg)


def test_listen_options_defaults_and_parsing():
    o = ListenOptions.from_js(None)
    assert (o.protocol, o.max_connections, o.idle_timeout, o.read_timeout) == ("tcp", -1, 60, 0)
    o = ListenOptions.from_js(JSObject(protocol="udp", maxConnections=3, readTimeout="2s",
                                       writeTimeout=1.5, idleTimeout="1m"))
    assert (o.protocol, o.max_connections, o.read_timeout, o.write_timeout, o.idle_timeout) \
        == ("udp", 3, 2.0, 1.5, 60.0)
    with pytest.raises(JSThrow):
        ListenOptions.from_js(JSObject(protocol="UDP"))


# -- connections ---------------------------------------------------------------------------------

def test_echo_and_listening_log(capsys):
    async def main():
        listener = await start(layout(Echo()))
        r, w = await connect(listener)
        w.write(b"hello")
        assert await r.readexactly(5) == b"hello"
        w.write(b" world")
        assert await r.readexactly(6) == b" world"
        w.write_eof()  # half-close: the echo pipeline ends its output, the socket closes
        assert await r.read() == b""
        await settle(lambda: listener.pipelines == 0)
        listener.stop()
    run(main)
    err = capsys.readouterr().err
    assert "[listener] Listening on TCP port" in err and "at 127.0.0.1" in err


def test_input_events_and_inbound_members():
    seen: list = []

    async def main():
        listener = await start(layout(record(seen), Echo()))
        r, w = await connect(listener)
        w.write(b"abc")
        await r.readexactly(3)
        p = seen[0][0]
        ib = p.context.inbound
        assert isinstance(ib, Inbound) and ib.id > 0
        local = w.get_extra_info("sockname")
        assert (ib.remoteAddress, ib.remotePort) == ("127.0.0.1", local[1])
        assert (ib.localAddress, ib.localPort) == ("127.0.0.1", listener.port)
        assert (ib.destinationAddress, ib.destinationPort) == ("", 0)
        w.close()
        await settle(lambda: listener.pipelines == 0)
        listener.stop()
    run(main)
    types = [type(e) for _, e in seen]
    assert types[0] is Data and types[-1] is StreamEnd
    assert data_of(seen) == b"abc"
    assert seen[-1][1].error == ""


def test_dual_stack_ipv6_listener_shows_mapped_ipv4_peer():
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    seen: list = []

    async def main():
        try:
            listener = await start(layout(record(seen), Echo()), ip="::")
        except OSError:
            pytest.skip("IPv6 unavailable")
        r, w = await connect(listener, "127.0.0.1")
        w.write(b"x")
        await r.readexactly(1)
        assert seen[0][0].context.inbound.remoteAddress == "::ffff:127.0.0.1"
        w.close()
        await settle(lambda: listener.pipelines == 0)
        listener.stop()
    run(main)


def test_pipeline_stream_end_closes_after_flush():
    class ReplyAndClose(Echo):
        __slots__ = ()

        def process(self, event):
            if type(event) is Data:
                self.next.process(Data(b"x" * 300_000))  # more than the write buffer limit
                self.next.process(StreamEnd())

    async def main():
        listener = await start(layout(ReplyAndClose()))
        r, w = await connect(listener)
        w.write(b"go")
        body = await r.read()  # everything written arrives before the close
        assert len(body) == 300_000
        await settle(lambda: listener.pipelines == 0)
        listener.stop()
    run(main)


def test_reset_by_peer_gives_connection_reset():
    seen: list = []

    async def main():
        listener = await start(layout(record(seen), Hold()))
        s = socket.create_connection(("127.0.0.1", listener.port))
        s.sendall(b"data")
        await settle(lambda: len(seen) >= 1)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()  # RST
        await settle(lambda: listener.pipelines == 0)
        listener.stop()
    run(main)
    assert type(seen[-1][1]) is StreamEnd and seen[-1][1].error == "ConnectionReset"


def test_on_end_runs_when_connection_goes():
    ended: list = []

    async def main():
        listener = await start(layout(Echo(), on_end=lambda: ended.append(1)))
        r, w = await connect(listener)
        w.write(b"x")
        await r.readexactly(1)
        w.close()
        await settle(lambda: ended == [1])
        listener.stop()
    run(main)


def test_max_connections_pauses_accepting():
    async def main():
        listener = await start(layout(Echo()), max_connections=2)
        c1 = await connect(listener)
        c2 = await connect(listener)
        for r, w in (c1, c2):
            w.write(b"1")
            assert await r.readexactly(1) == b"1"
        assert listener.pipelines == 2
        # The third peer connects (kernel backlog) but is not served while two are open.
        r3, w3 = await connect(listener)
        w3.write(b"3")
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(r3.readexactly(1), 0.2)
        assert listener.pipelines == 2
        c1[1].close()
        assert await asyncio.wait_for(r3.readexactly(1), 2) == b"3"
        await settle(lambda: listener.pipelines == 2)
        for _, w in (c2, (r3, w3)):
            w.close()
        await settle(lambda: listener.pipelines == 0)
        listener.stop()
    run(main)


def test_reload_lifting_the_limit_admits_waiting_peers():
    async def main():
        listener = await start(layout(Echo()), max_connections=1)
        r1, w1 = await connect(listener)
        w1.write(b"1")
        await r1.readexactly(1)
        r2, w2 = await connect(listener)
        w2.write(b"2")
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(r2.readexactly(1), 0.1)
        listener.repoint(listener.layout, new_context, ListenOptions(max_connections=-1))
        assert await asyncio.wait_for(r2.readexactly(1), 2) == b"2"
        w1.close()
        w2.close()
        await settle(lambda: listener.pipelines == 0)
        listener.stop()
    run(main)


def test_idle_timeout_ends_with_idle_timeout_and_closes():
    seen: list = []

    async def main():
        listener = await start(layout(record(seen), Hold()), idle_timeout=0.2)
        r, w = await connect(listener)
        w.write(b"a")
        assert await r.readexactly(1) == b"a"
        t0 = asyncio.get_running_loop().time()
        assert await asyncio.wait_for(r.read(), 2) == b""  # closed by the server
        assert asyncio.get_running_loop().time() - t0 >= 0.15
        await settle(lambda: listener.pipelines == 0)
        listener.stop()
    run(main)
    assert seen[-1][1].error == "IdleTimeout"


def test_activity_postpones_idle_timeout():
    async def main():
        listener = await start(layout(Hold()), idle_timeout=0.3)
        r, w = await connect(listener)
        for _ in range(5):  # 0.5 s of traffic, never 0.3 s quiet
            w.write(b"k")
            await r.readexactly(1)
            await asyncio.sleep(0.1)
        assert listener.pipelines == 1
        w.close()
        await settle(lambda: listener.pipelines == 0)
        listener.stop()
    run(main)


def test_read_timeout():
    seen: list = []

    async def main():
        listener = await start(layout(record(seen), Hold()), read_timeout=0.2)
        r, w = await connect(listener)
        assert await asyncio.wait_for(r.read(), 2) == b""
        await settle(lambda: listener.pipelines == 0)
        listener.stop()
    run(main)
    assert seen[-1][1].error == "ReadTimeout"


def test_slow_reader_fast_writer_keeps_buffer_bounded():
    """An echo whose peer writes fast and never reads: the server stops reading once its
    write buffer is full, so neither its buffer nor the pipeline grow without bound."""
    async def main():
        listener = await start(layout(Echo()))
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        s.connect(("127.0.0.1", listener.port))
        s.setblocking(False)
        chunk = b"z" * 65536
        sent = 0
        stalled = 0
        while sent < 64 * 1024 * 1024 and stalled < 20:
            try:
                sent += s.send(chunk)
                stalled = 0
            except BlockingIOError:
                stalled += 1
                await asyncio.sleep(0.01)
        conn = next(iter(listener.connections))
        assert stalled >= 20, "the server kept reading: no back-pressure"
        assert conn.flow.read_paused
        assert conn.transport.get_write_buffer_size() < 2 * 1024 * 1024
        # drain: reading resumes and everything sent comes back
        received = 0
        s.setblocking(True)
        s.settimeout(5)
        loop = asyncio.get_running_loop()
        while received < sent:
            received += len(await loop.sock_recv(s, 1 << 20))
        assert received == sent
        s.close()
        await settle(lambda: listener.pipelines == 0)
        listener.stop()
    run(main, timeout=20)


def test_pipeline_pause_input_stops_reading():
    async def main():
        listener = await start(layout(Echo()))
        r, w = await connect(listener)
        w.write(b"a")
        assert await r.readexactly(1) == b"a"
        conn = next(iter(listener.connections))
        conn.pipeline.pause_input()
        conn.pipeline.pause_input()  # nested
        assert conn.flow.read_paused
        w.write(b"b")
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(r.readexactly(1), 0.15)
        conn.pipeline.resume_input()
        assert conn.flow.read_paused
        conn.pipeline.resume_input()
        assert await asyncio.wait_for(r.readexactly(1), 2) == b"b"
        w.close()
        await settle(lambda: listener.pipelines == 0)
        listener.stop()
    run(main)


def test_repoint_affects_new_connections_only():
    async def main():
        listener = await start(layout(Echo()))
        r1, w1 = await connect(listener)

        class Upper(Echo):
            __slots__ = ()

            def process(self, event):
                if type(event) is Data:
                    event = Data(event.to_bytes().upper())
                self.next.process(event)
        listener.repoint(layout(Upper()), new_context)
        r2, w2 = await connect(listener)
        w1.write(b"old")
        w2.write(b"new")
        assert await r1.readexactly(3) == b"old"
        assert await r2.readexactly(3) == b"NEW"
        w1.close()
        w2.close()
        await settle(lambda: listener.pipelines == 0)
        listener.stop()
    run(main)


def test_graceful_shutdown_waits_then_aborts(capsys):
    async def main():
        listener = await start(layout(Hold()))
        port = listener.port
        r, w = await connect(listener)
        w.write(b"x")
        await r.readexactly(1)
        done = await graceful_shutdown([listener], timeout=0.3, poll=0.1)
        assert done is False
        assert await asyncio.wait_for(r.read(), 2) == b""
        await settle(lambda: listener.pipelines == 0)
        with pytest.raises(OSError):  # the port is released: nobody accepts
            await asyncio.open_connection("127.0.0.1", port)
    run(main)
    assert "[shutdown] Waiting for remaining 1 pipelines..." in capsys.readouterr().err


def test_graceful_shutdown_returns_when_connections_finish():
    async def main():
        listener = await start(layout(Echo()))
        r, w = await connect(listener)
        w.write(b"x")
        await r.readexactly(1)

        async def finish_later():
            await asyncio.sleep(0.1)
            w.write_eof()
        asyncio.get_running_loop().create_task(finish_later())
        assert await graceful_shutdown([listener], timeout=3, poll=0.05) is True
    run(main)


def test_reuse_port_lets_two_listeners_share_a_port():
    async def main():
        a = TCPListener(layout(Echo()), "127.0.0.1", 0, None, new_context, reuse_port=True)
        await a.start()
        b = TCPListener(layout(Echo()), "127.0.0.1", a.port, None, new_context,
                        reuse_port=True)
        await b.start()
        assert a.port == b.port
        a.stop()
        b.stop()
    run(main)
