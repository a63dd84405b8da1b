"""The `connect` filter in a pipeline, against real loopback servers (port 0)."""
from __future__ import annotations

import asyncio
import socket
import struct

import pytest

from pipyd.context import Context
from pipyd.events import Data, MessageEnd, MessageStart, StreamEnd
from pipyd.flow import WRITE_HIGH_WATER
from pipyd.js import scope
from pipyd.js.values import JSObject, JSThrow
from pipyd.registry import lookup
from tests.unit.outbound import (
    LogCapture, RecordingFlow, Server, Sink, connect_pipeline, echo, free_port, run, settle,
)


# -- configuration -----------------------------------------------------------------------------

@pytest.mark.parametrize("args", [(), (42,), ("nohost",), ("h:x",), ("::1:80",),
                                  ("h:1", JSObject(protocol="sctp"))])
def test_configure_errors(args):
    with pytest.raises(JSThrow):
        lookup("connect").configure(None, *args)


def test_dump_and_options():
    f = lookup("connect").configure(None, "[::1]:80", JSObject(retryCount=-1, idleTimeout="2m"))
    assert f.dump() == "connect"
    assert (f.options.retry_count, f.options.idle_timeout) == (-1, 120.0)


# -- the data path -------------------------------------------------------------------------------

def test_echo_through_connect_and_half_close():
    async def main():
        async with Server(echo) as srv:
            sink = Sink()
            p = connect_pipeline(srv.target, sink)
            p.input(Data(b"hello "))
            p.input(Data.from_chunks([b"wor", b"ld"]))
            assert await sink.wait_data(11) == b"hello world"
            # StreamEnd half-closes: the echo server sees EOF, closes, and we get StreamEnd('')
            p.input(StreamEnd())
            assert await sink.wait_end() == ""
            assert sink.data() == b"hello world"
            p.end()
    run(main)


def test_data_sent_while_connecting_is_buffered_then_written_in_order():
    async def main():
        async with Server(echo) as srv:
            sink = Sink()
            p = connect_pipeline(srv.target, sink)
            for i in range(50):
                p.input(Data(b"%03d" % i))
            p.input(StreamEnd())  # ends before the connection is even open
            assert await sink.wait_end() == ""
            assert sink.data() == b"".join(b"%03d" % i for i in range(50))
    run(main)


def test_target_function_runs_at_first_event_in_the_pipeline_context():
    async def main():
        async with Server(echo) as srv:
            ctx = Context([{"_target": None}])
            seen = []

            def target():
                seen.append(scope.ACTIVE.current)
                return ctx.data[0]["_target"]

            sink = Sink()
            p = connect_pipeline(target, sink, context=ctx)
            ctx.data[0]["_target"] = srv.target  # set by an earlier filter, at run time
            assert seen == []
            p.input(Data(b"x"))
            assert seen == [ctx]
            assert await sink.wait_data(1) == b"x"
            p.input(Data(b"y"))
            assert await sink.wait_data(2) == b"xy"
            assert len(seen) == 1
            p.end()
    run(main)


def test_stream_end_first_opens_nothing_and_passes_through():
    async def main():
        async with Server(echo) as srv:
            sink = Sink()
            p = connect_pipeline(srv.target, sink)
            p.input(StreamEnd())
            await asyncio.sleep(0.05)
            assert sink.ends() == [""]
            assert srv.accepted == 0
    run(main)


def test_bad_target_from_function_ends_with_cannot_resolve():
    async def main():
        with LogCapture() as cap:
            sink = Sink()
            p = connect_pipeline(lambda: "no-port", sink)
            p.input(Data(b"x"))
            assert sink.ends() == ["CannotResolve"]
        assert "[connect] invalid target: no-port" in cap.text
    run(main)


def test_message_markers_are_not_bytes_on_tcp():
    async def main():
        async with Server(echo) as srv:
            sink = Sink()
            p = connect_pipeline(srv.target, sink)
            for e in (MessageStart({"a": 1}), Data(b"body"), MessageEnd()):
                p.input(e)
            assert await sink.wait_data(4) == b"body"
            p.end()
    run(main)


# -- errors ----------------------------------------------------------------------------------------

def test_refused_port_ends_with_connection_refused():
    async def main():
        with LogCapture() as cap:
            sink = Sink()
            p = connect_pipeline(f"127.0.0.1:{free_port()}", sink)
            p.input(Data(b"GET / HTTP/1.1\r\n\r\n"))
            assert await sink.wait_end() == "ConnectionRefused"
            assert sink.data() == b""
        assert "[outbound]" in cap.text and "cannot connect" in cap.text
    run(main)


def test_unresolvable_host_ends_with_cannot_resolve():
    async def main():
        sink = Sink()
        p = connect_pipeline("upstream.pipyd-test.invalid:80", sink)
        p.input(Data(b"x"))
        assert await sink.wait_end() == "CannotResolve"
    run(main)


def test_read_timeout_when_upstream_never_answers():
    async def silent(r, w):
        await r.read()  # reads until the client goes away, never answers

    async def main():
        async with Server(silent) as srv:
            sink = Sink()
            p = connect_pipeline(srv.target, sink, readTimeout=0.15)
            p.input(Data(b"ping"))
            t0 = asyncio.get_running_loop().time()
            assert await sink.wait_end() == "ReadTimeout"
            assert asyncio.get_running_loop().time() - t0 >= 0.1
    run(main)


def test_idle_timeout_after_traffic_stops():
    async def main():
        async with Server(echo) as srv:
            sink = Sink()
            p = connect_pipeline(srv.target, sink, idleTimeout=0.15)
            p.input(Data(b"a"))
            assert await sink.wait_data(1) == b"a"
            assert await sink.wait_end() == "IdleTimeout"
    run(main)


def test_write_timeout_when_upstream_never_reads():
    async def main():
        hold = asyncio.Event()

        async def deaf(r, w):
            await hold.wait()  # accepts, never reads

        async with Server(deaf) as srv:
            sink = Sink()
            p = connect_pipeline(srv.target, sink, writeTimeout=0.2)
            p.input(Data(b"x"))
            await asyncio.sleep(0.05)  # connected
            p.input(Data(b"\0" * (16 << 20)))  # far beyond what the kernel buffers hold
            assert await sink.wait_end() == "WriteTimeout"
            hold.set()
    run(main)


def test_upstream_close_mid_stream():
    async def answer_and_close(r, w):
        await r.read(1)
        w.write(b"partial")
        await w.drain()

    async def main():
        async with Server(answer_and_close) as srv:
            sink = Sink()
            p = connect_pipeline(srv.target, sink)
            p.input(Data(b"x"))
            assert await sink.wait_end() == ""
            assert sink.data() == b"partial"
            assert [type(e).__name__ for e in sink.events][-1] == "StreamEnd"
            p.input(Data(b"late"))  # after the end: dropped, nothing reopened
            await asyncio.sleep(0.02)
            assert srv.accepted == 1 and sink.ends() == [""]
    run(main)


def test_upstream_reset_ends_with_connection_reset():
    async def reset(r, w):
        await r.read(1)
        sock = w.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        w.transport.abort()

    async def main():
        async with Server(reset) as srv:
            sink = Sink()
            p = connect_pipeline(srv.target, sink)
            p.input(Data(b"x"))
            assert await sink.wait_end() == "ConnectionReset"
    run(main)


def test_retries_are_counted_then_refused():
    async def main():
        with LogCapture() as cap:
            sink = Sink()
            p = connect_pipeline(f"127.0.0.1:{free_port()}", sink, retryCount=2,
                                 retryDelay=0.05)
            loop = asyncio.get_running_loop()
            t0 = loop.time()
            p.input(Data(b"x"))
            assert await sink.wait_end() == "ConnectionRefused"
            assert loop.time() - t0 >= 0.1
        assert cap.text.count("retry connection") == 2
        assert "(times = 2)" in cap.text
    run(main)


def test_buffer_limit_overflow_discards_with_error_log():
    async def main():
        with LogCapture() as cap:
            async with Server(echo) as srv:
                sink = Sink()
                p = connect_pipeline(srv.target, sink, bufferLimit="1k")
                p.input(Data(b"a" * 1000))
                p.input(Data(b"b" * 100))  # 1100 > 1024 while connecting: discarded
                assert await sink.wait_end() == "BufferOverflow"
        assert "buffer overflow, 100 bytes discarded" in cap.text
    run(main)


# -- back-pressure and the pipeline's end ----------------------------------------------------------

def test_slow_upstream_pauses_pipeline_input_and_memory_stays_bounded():
    async def main():
        reading = asyncio.Event()
        got = []

        async def slow(r, w):
            await reading.wait()
            while True:
                b = await r.read(1 << 20)
                if not b:
                    return
                got.append(len(b))

        async with Server(slow) as srv:
            flow = RecordingFlow()
            sink = Sink()
            p = connect_pipeline(srv.target, sink, flow)
            p.input(Data(b"x"))
            await settle(lambda: p.filters[0].outbound.transport is not None)
            ob = p.filters[0].outbound
            chunk = b"\0" * 65536
            sent = 1
            # A source that honours pause_input(): feed only while not paused.
            for _ in range(2000):
                if flow.paused:
                    break
                p.input(Data(chunk))
                sent += len(chunk)
                await asyncio.sleep(0)
            assert flow.paused == 1 and flow.pauses == 1
            assert ob.transport.get_write_buffer_size() <= WRITE_HIGH_WATER + len(chunk)
            reading.set()  # the upstream reads again: the buffer drains, input resumes
            await settle(lambda: flow.resumes == 1)
            assert flow.paused == 0
            p.input(StreamEnd())
            await settle(lambda: sum(got) == sent)
            p.end()
    run(main)


def test_buffering_while_connecting_pauses_input_past_high_water():
    async def main():
        async with Server(echo) as srv:
            flow = RecordingFlow()
            sink = Sink()
            p = connect_pipeline(srv.target, sink, flow)
            p.input(Data(b"\0" * (WRITE_HIGH_WATER + 1)))  # before the connection opens
            assert flow.paused == 1
            await settle(lambda: flow.paused == 0)
            p.end()
    run(main)


def test_congested_downstream_pauses_reading_the_upstream():
    async def main():
        async with Server(echo) as srv:
            flow = RecordingFlow()
            sink = Sink()
            p = connect_pipeline(srv.target, sink, flow)
            p.input(Data(b"a"))
            assert await sink.wait_data(1) == b"a"
            assert len(flow.watchers) == 1
            flow.congest(True)
            p.input(Data(b"b"))
            await asyncio.sleep(0.1)
            assert sink.data() == b"a"  # echoed, but not read from the socket
            flow.congest(False)
            assert await sink.wait_data(2) == b"ab"
            p.end()
            assert flow.watchers == []
    run(main)


def test_pipeline_end_closes_the_connection_and_releases_the_pause():
    async def main():
        closed = asyncio.Event()

        async def until_eof(r, w):
            await r.read()
            closed.set()

        async with Server(until_eof) as srv:
            flow = RecordingFlow()
            sink = Sink()
            p = connect_pipeline(srv.target, sink, flow)
            p.input(Data(b"\0" * (WRITE_HIGH_WATER + 1)))
            assert flow.paused == 1
            await settle(lambda: srv.accepted == 1)
            p.end()
            assert flow.paused == 0  # resumed exactly as often as paused
            await asyncio.wait_for(closed.wait(), 2)
            await asyncio.sleep(0.02)
            assert sink.ends() == []  # nothing is output after the pipeline ended
    run(main)


def test_proxy_through_a_real_listener():
    # client -> TCPListener -> connect -> echo upstream, and back; the client's half-close
    # travels up as StreamEnd and the upstream's close comes back down.
    from pipyd.inbound import ListenOptions, TCPListener
    from pipyd.pipeline import PipelineLayout

    async def main():
        async with Server(echo) as srv:
            lay = PipelineLayout("", None, "listen", "test")
            lay.append(lookup("connect").configure(None, srv.target))
            listener = TCPListener(lay, "127.0.0.1", 0, ListenOptions(),
                                   lambda inbound: Context([{}], inbound))
            await listener.start()
            r, w = await asyncio.open_connection("127.0.0.1", listener.port)
            payload = b"z" * (1 << 20)
            w.write(payload)
            assert await r.readexactly(len(payload)) == payload
            w.write_eof()
            assert await r.read() == b""
            await settle(lambda: listener.pipelines == 0)
            w.close()
            listener.stop()
    run(main)
