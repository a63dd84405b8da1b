"""pipyd.outbound on its own: targets, options, connect timeout, retries, UDP."""
from __future__ import annotations

import asyncio
import socket

import pytest

from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.js.values import JSObject, JSThrow
from pipyd.outbound import OutboundOptions, OutboundTCP, OutboundUDP, open_outbound, parse_target
from tests.unit.outbound import (
    LogCapture, RecordingFlow, Server, Sink, connect_pipeline, echo, free_port, run, settle,
)


@pytest.mark.parametrize("text, expected", [
    ("127.0.0.1:8080", ("127.0.0.1", 8080)),
    ("localhost:80", ("localhost", 80)),
    ("[::1]:443", ("::1", 443)),
    ("a.b.c:0", ("a.b.c", 0)),
])
def test_parse_target(text, expected):
    assert parse_target(text) == expected


@pytest.mark.parametrize("text", ["", "host", ":80", "host:", "host:http", "::1:80",
                                  "[::1:80", "h:70000", None, 80])
def test_parse_target_errors(text):
    with pytest.raises(ValueError):
        parse_target(text)


def test_options_defaults_and_parsing():
    o = OutboundOptions.from_js(None)
    assert (o.protocol, o.buffer_limit, o.retry_count, o.retry_delay, o.connect_timeout,
            o.read_timeout, o.write_timeout, o.idle_timeout) == ("tcp", 0, 0, 0, 0, 0, 0, 60)
    o = OutboundOptions.from_js(JSObject(protocol="udp", bufferLimit="16k", retryCount=-1,
                                         retryDelay="2s", connectTimeout=0.5, readTimeout="1m",
                                         writeTimeout=3, idleTimeout="1h", other=1))
    assert (o.protocol, o.buffer_limit, o.retry_count, o.retry_delay, o.connect_timeout,
            o.read_timeout, o.write_timeout, o.idle_timeout) \
        == ("udp", 16384, -1, 2.0, 0.5, 60.0, 3.0, 3600.0)
    for bad in (JSObject(protocol="TCP"), JSObject(readTimeout="soon"), "opts"):
        with pytest.raises(JSThrow):
            OutboundOptions.from_js(bad)


def test_open_outbound_direct_and_debug_log():
    async def main():
        async with Server(echo) as srv:
            with LogCapture() as cap:
                sink = Sink()
                ob = open_outbound("127.0.0.1", srv.port, OutboundOptions(), sink)
                assert type(ob) is OutboundTCP
                ob.send(Data(b"hi"))
                assert await sink.wait_data(2) == b"hi"
                ob.end()
                assert await sink.wait_end() == ""
            assert f"to host = 127.0.0.1 port = {srv.port} connected" in cap.text
            assert "connection closed by peer" in cap.text
    run(main)


def test_ipv6_loopback_target():
    if not socket.has_ipv6:
        pytest.skip("no IPv6")

    async def main():
        try:
            server = await asyncio.start_server(
                lambda r, w: w.write(b"six") or w.close(), "::1", 0)
        except OSError:
            pytest.skip("no IPv6 loopback")
        port = server.sockets[0].getsockname()[1]
        sink = Sink()
        p = connect_pipeline(f"[::1]:{port}", sink)
        p.input(Data(b"x"))
        assert await sink.wait_end() == ""
        assert sink.data() == b"six"
        server.close()
    run(main)


def test_connect_timeout_on_a_full_backlog():
    # A listener with backlog 0 that never accepts: once one connection waits in its queue,
    # Linux drops further SYNs, so the next connect neither succeeds nor fails.
    async def main():
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(0)
        port = srv.getsockname()[1]
        fillers = []
        try:
            for _ in range(2):
                c = socket.socket()
                c.setblocking(False)
                try:
                    c.connect(("127.0.0.1", port))
                except BlockingIOError:
                    pass
                fillers.append(c)
            await asyncio.sleep(0.05)
            sink = Sink()
            p = connect_pipeline(f"127.0.0.1:{port}", sink, connectTimeout=0.2)
            loop = asyncio.get_running_loop()
            t0 = loop.time()
            p.input(Data(b"x"))
            end = await sink.wait_end()
            if end == "ReadTimeout" or end == "":
                pytest.skip("the kernel completed the handshake despite the full backlog")
            assert end == "ConnectionTimeout"
            assert loop.time() - t0 >= 0.15
        finally:
            for c in fillers:
                c.close()
            srv.close()
    run(main)


def test_infinite_retries_until_the_upstream_appears():
    async def main():
        port = free_port()
        sink = Sink()
        with LogCapture() as cap:
            p = connect_pipeline(f"127.0.0.1:{port}", sink, retryCount=-1, retryDelay=0.03)
            p.input(Data(b"late"))
            await settle(lambda: cap.text.count("retry connection") >= 2)
            server = await asyncio.start_server(
                lambda r, w: asyncio.ensure_future(echo(r, w)), "127.0.0.1", port)
            assert await sink.wait_data(4) == b"late"
            p.end()
            server.close()
    run(main)


def test_retry_stops_when_the_pipeline_ends():
    async def main():
        sink = Sink()
        with LogCapture() as cap:
            p = connect_pipeline(f"127.0.0.1:{free_port()}", sink, retryCount=-1,
                                 retryDelay=0.02)
            p.input(Data(b"x"))
            await settle(lambda: "retry connection" in cap.text)
            p.end()
            n = cap.text.count("retry connection")
            await asyncio.sleep(0.1)
            assert cap.text.count("retry connection") == n
        assert sink.ends() == []
    run(main)


def test_read_timeout_does_not_fire_while_we_hold_reading():
    async def main():
        async def slow_answer(r, w):
            await r.read(1)
            await asyncio.sleep(0.3)
            w.write(b"ok")
            await w.drain()
            await r.read()

        async with Server(slow_answer) as srv:
            flow = RecordingFlow()
            sink = Sink()
            p = connect_pipeline(srv.target, sink, flow, readTimeout=0.1)
            p.input(Data(b"x"))
            await settle(lambda: p.filters[0].outbound.transport is not None)
            flow.congest(True)  # our downstream is slow: not reading is our choice
            await asyncio.sleep(0.35)
            assert sink.ends() == []
            flow.congest(False)
            assert await sink.wait_data(2) == b"ok"
            p.end()
    run(main)


# -- UDP -----------------------------------------------------------------------------------------

class UDPEcho(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.transport = transport
        self.got = []

    def datagram_received(self, data, addr):
        self.got.append(data)
        self.transport.sendto(data.upper(), addr)


async def udp_echo():
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_datagram_endpoint(UDPEcho, local_addr=("127.0.0.1", 0))
    return transport, proto, transport.get_extra_info("sockname")[1]


def test_udp_messages_are_datagrams_and_replies_are_messages():
    async def main():
        transport, proto, port = await udp_echo()
        sink = Sink()
        p = connect_pipeline(f"127.0.0.1:{port}", sink, protocol="udp")
        assert type(p.filters[0].outbound) is not OutboundUDP  # opened on the first event
        for e in (MessageStart(), Data(b"ab"), Data(b"c"), MessageEnd(),
                  Data(b"bare"), MessageStart(), Data(b"z"), MessageEnd()):
            p.input(e)
        assert type(p.filters[0].outbound) is OutboundUDP
        await settle(lambda: len(proto.got) == 3)
        assert proto.got == [b"abc", b"bare", b"z"]
        await settle(lambda: len(sink.events) == 9)
        kinds = [type(e).__name__ for e in sink.events[:3]]
        assert kinds == ["MessageStart", "Data", "MessageEnd"]
        assert sink.data() == b"ABCBAREZ"
        p.input(StreamEnd())
        assert await sink.wait_end() == ""
        transport.close()
    run(main)


def test_udp_idle_timeout():
    async def main():
        transport, proto, port = await udp_echo()
        sink = Sink()
        p = connect_pipeline(f"127.0.0.1:{port}", sink, protocol="udp", idleTimeout=0.1)
        p.input(Data(b"x"))
        assert await sink.wait_data(1) == b"X"
        assert await sink.wait_end() == "IdleTimeout"
        transport.close()
    run(main)


def test_udp_unresolvable_host():
    async def main():
        sink = Sink()
        ob = open_outbound("nowhere.invalid", 53, OutboundOptions(protocol="udp"), sink)
        ob.send(Data(b"q"))
        assert await sink.wait_end() == "CannotResolve"
    run(main)
