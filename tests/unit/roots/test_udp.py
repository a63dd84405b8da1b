"""UDP listeners: per-peer sessions, datagrams as messages, idle end, session limit."""
from __future__ import annotations

import asyncio
import socket

from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.inbound import ListenOptions, UDPListener
from tests.unit.roots import Echo, Filter, layout, new_context, record, run


async def start(lay, **opts) -> UDPListener:
    listener = UDPListener(lay, "127.0.0.1", 0, ListenOptions(protocol="udp", **opts),
                           new_context)
    await listener.start()
    return listener


def client() -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.setblocking(False)
    return s


async def recv(s: socket.socket, timeout: float = 2.0) -> bytes:
    loop = asyncio.get_running_loop()
    return await asyncio.wait_for(loop.sock_recv(s, 65536), timeout)


def test_echo_datagrams_and_log(capsys):
    seen: list = []

    async def main():
        listener = await start(layout(record(seen), Echo()))
        s = client()
        s.sendto(b"ping", ("127.0.0.1", listener.port))
        assert await recv(s) == b"ping"
        s.sendto(b"again", ("127.0.0.1", listener.port))
        assert await recv(s) == b"again"
        assert listener.pipelines == 1  # one session per peer
        ib = seen[0][0].context.inbound
        assert (ib.remoteAddress, ib.remotePort) == ("127.0.0.1", s.getsockname()[1])
        assert ib.localPort == listener.port
        s.close()
        listener.abort()
    run(main)
    assert [type(e) for _, e in seen[:3]] == [MessageStart, Data, MessageEnd]
    assert "[listener] Listening on UDP port" in capsys.readouterr().err


def test_sessions_per_peer():
    async def main():
        listener = await start(layout(Echo()))
        a, b = client(), client()
        a.sendto(b"a", ("127.0.0.1", listener.port))
        b.sendto(b"b", ("127.0.0.1", listener.port))
        assert await recv(a) == b"a"
        assert await recv(b) == b"b"
        assert listener.pipelines == 2
        a.close()
        b.close()
        listener.abort()
    run(main)


def test_output_message_is_one_datagram_and_bare_data_is_dropped():
    class Reply(Filter):
        __slots__ = ()

        def process(self, event):
            if type(event) is MessageEnd:
                out = self.next.process
                out(Data(b"outside a message"))  # dropped: no MessageStart yet
                out(MessageStart())
                out(Data(b"two "))
                out(Data(b"parts"))
                out(MessageEnd())

    async def main():
        listener = await start(layout(Reply()))
        s = client()
        s.sendto(b"q", ("127.0.0.1", listener.port))
        assert await recv(s) == b"two parts"
        s.close()
        listener.abort()
    run(main)


def test_idle_session_ends():
    seen: list = []

    async def main():
        listener = await start(layout(record(seen), Echo()), idle_timeout=0.15)
        s = client()
        s.sendto(b"x", ("127.0.0.1", listener.port))
        await recv(s)
        await asyncio.sleep(0.4)
        assert listener.pipelines == 0
        s.close()
        listener.abort()
    run(main)
    assert type(seen[-1][1]) is StreamEnd and seen[-1][1].error == "IdleTimeout"


def test_max_sessions_drops_new_peers():
    async def main():
        listener = await start(layout(Echo()), max_connections=1)
        a, b = client(), client()
        a.sendto(b"a", ("127.0.0.1", listener.port))
        assert await recv(a) == b"a"
        b.sendto(b"b", ("127.0.0.1", listener.port))
        try:
            await recv(b, 0.2)
            raise AssertionError("second peer was served")
        except asyncio.TimeoutError:
            pass
        assert listener.pipelines == 1
        a.close()
        b.close()
        listener.abort()
    run(main)
