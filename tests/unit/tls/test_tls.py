"""acceptTLS / connectTLS / handleTLSClientHello driven in-process: the peer is Python's ``ssl``
over memory BIOs, the records shuttled by hand between it and the pipeline."""
from __future__ import annotations

import ssl
from typing import Any

import pytest

import pipyd.filters  # noqa: F401  (registers the families)
from pipyd.api.crypto_keys import Certificate, CertificateChain, PrivateKey
from pipyd.context import Context
from pipyd.events import Data, StreamEnd
from pipyd.js.values import JSArray, JSObject, JSThrow
from pipyd.pipeline import Filter, PipelineLayout
from pipyd.registry import lookup
from pipyd.filters.tls_hello import ClientHelloReader, parse_client_hello

from tests.unit.core import Collect

from . import make_pki

PKI = make_pki()


def cert(name: str) -> Certificate:
    return Certificate(PKI[f"{name}.pem"].decode())


def key(name: str) -> PrivateKey:
    return PrivateKey(PKI[f"{name}-key.pem"].decode())


def pair(name: str) -> JSObject:
    return JSObject(cert=cert(name), key=key(name))


class Upper(Filter):
    """The plaintext service: upper-cases each Data; ends when its input ends."""

    __slots__ = ()

    def process(self, evt: Any) -> None:
        if type(evt) is Data:
            self.next.process(Data(evt.to_bytes().upper()))
        else:
            self.next.process(evt)


def layout(*filters: Filter) -> PipelineLayout:
    lay = PipelineLayout("t")
    for f in filters:
        lay.append(f)
    return lay


def accept(options: Any, sub: PipelineLayout | None = None):
    f = lookup("acceptTLS").configure(None, options)
    f.add_sub_layout(sub or layout(Upper()))
    out = Collect()
    ctx = Context([{}])
    return layout(f).instantiate(ctx, out), out


class Client:
    """A Python TLS client over memory BIOs."""

    def __init__(self, ca: str | None = "ca", sni: str | None = "a.example",
                 alpn: list[str] | None = None, cert_name: str | None = None,
                 tmp_path=None) -> None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if ca:
            ctx.load_verify_locations(cadata=PKI[f"{ca}.pem"].decode())
        else:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        if alpn:
            ctx.set_alpn_protocols(alpn)
        if cert_name:
            c, k = tmp_path / "c.pem", tmp_path / "k.pem"
            c.write_bytes(PKI[f"{cert_name}.pem"])
            k.write_bytes(PKI[f"{cert_name}-key.pem"])
            ctx.load_cert_chain(c, k)
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = ctx.wrap_bio(self.inc, self.out, server_hostname=sni)

    def handshake(self, pipeline, out: Collect, rounds: int = 6) -> None:
        for _ in range(rounds):
            try:
                self.tls.do_handshake()
                self.exchange(pipeline, out)  # the last flight (TLS 1.3 Finished)
                return
            except ssl.SSLWantReadError:
                pass
            self.exchange(pipeline, out)
        raise AssertionError("no handshake")

    def exchange(self, pipeline, out: Collect) -> None:
        if self.out.pending:
            pipeline.input(Data(self.out.read()))
        self.inc.write(out.take())

    def send(self, pipeline, out: Collect, b: bytes) -> bytes:
        self.tls.write(b)
        self.exchange(pipeline, out)
        got = b""
        while True:
            try:
                got += self.tls.read(65536)
            except ssl.SSLWantReadError:
                return got


def test_accept_tls_serves_plaintext_to_the_sub_pipeline():
    p, out = accept(JSObject(certificate=pair("a")))
    c = Client()
    c.handshake(p, out)
    assert c.send(p, out, b"hello") == b"HELLO"
    assert c.send(p, out, b"again") == b"AGAIN"


def test_accept_tls_handshake_callback_gets_the_alpn_protocol():
    seen = []
    p, out = accept(JSObject(certificate=pair("a"), alpn=JSArray(["h2", "http/1.1"]),
                             handshake=lambda proto: seen.append(proto)))
    c = Client(alpn=["http/1.1", "h2"])
    c.handshake(p, out)
    # Pipy's choice: the client's first protocol the server lists
    assert c.tls.selected_alpn_protocol() == "http/1.1"
    assert seen == ["http/1.1"]


def test_accept_tls_alpn_function_picks_by_index():
    offered = []

    def choose(names):
        offered.append(list(names))
        return 1

    p, out = accept(JSObject(certificate=pair("a"), alpn=choose))
    c = Client(alpn=["h2", "http/1.1"])
    c.handshake(p, out)
    assert offered == [["h2", "http/1.1"]]
    assert c.tls.selected_alpn_protocol() == "http/1.1"


def test_accept_tls_alpn_without_overlap_fails(capsys):
    p, out = accept(JSObject(certificate=pair("a"), alpn=JSArray(["h2"])))
    c = Client(alpn=["http/1.1"])
    try:
        c.tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    c.exchange(p, out)
    assert out.ends() == ["ConnectionReset"]


def test_accept_tls_certificate_function_selects_by_sni():
    certs = {"a.example": pair("a"), "b.example": pair("b")}
    asked = []

    def pick(sni):
        asked.append(sni)
        return certs.get(sni)

    for name in ("a.example", "b.example"):
        p, out = accept(JSObject(certificate=pick))
        c = Client(sni=name)
        c.handshake(p, out)
        assert c.tls.getpeercert()["subject"] == ((("commonName", name),),)
        assert c.send(p, out, b"x") == b"X"
    assert asked == ["a.example", "b.example"]


def test_accept_tls_certificate_chain_is_accepted():
    chain = CertificateChain((PKI["a.pem"] + PKI["ca.pem"]).decode())
    p, out = accept(JSObject(certificate=JSObject(cert=chain, key=key("a"))))
    c = Client()
    c.handshake(p, out)
    assert c.send(p, out, b"ok") == b"OK"


def test_accept_tls_mtls_accepts_a_trusted_client_and_calls_verify(tmp_path):
    verified = []

    def verify(ok, peer):
        verified.append((ok, peer.subject["CN"]))
        return ok

    p, out = accept(JSObject(certificate=pair("a"), trusted=JSArray([cert("ca")]),
                             verify=verify))
    c = Client(cert_name="client", tmp_path=tmp_path)
    c.handshake(p, out)
    assert c.send(p, out, b"m") == b"M"
    assert verified == [(True, "client")]


def test_accept_tls_mtls_refuses_an_untrusted_client(tmp_path):
    p, out = accept(JSObject(certificate=pair("a"), trusted=JSArray([cert("ca")])))
    c = Client(cert_name="rogue", tmp_path=tmp_path)
    with pytest.raises((ssl.SSLError, AssertionError)):
        c.handshake(p, out)
        c.send(p, out, b"m")
    assert out.ends() == ["ConnectionReset"]


def test_accept_tls_verify_can_refuse(tmp_path):
    p, out = accept(JSObject(certificate=pair("a"), trusted=JSArray([cert("ca")]),
                             verify=lambda ok, c: False))
    c = Client(cert_name="client", tmp_path=tmp_path)
    c.handshake(p, out)  # TLS 1.3: the client is done before the server has decided
    assert c.send(p, out, b"m") == b""
    assert out.ends() == ["ConnectionReset"]


def test_accept_tls_garbage_ends_with_an_error():
    p, out = accept(JSObject(certificate=pair("a")))
    p.input(Data(b"GET / HTTP/1.1\r\n\r\n"))
    assert out.ends() == ["ConnectionReset"]


def test_accept_tls_stream_end_from_the_sub_pipeline_sends_close_notify():
    class Once(Filter):
        __slots__ = ()

        def process(self, evt):
            if type(evt) is Data and evt.size:
                self.next.process(Data(b"bye"))
                self.next.process(StreamEnd())

    p, out = accept(JSObject(certificate=pair("a")), layout(Once()))
    c = Client()
    c.handshake(p, out)
    c.tls.write(b"x")
    c.exchange(p, out)
    assert c.tls.read(100) == b"bye"
    assert c.tls.read(100) == b""  # close_notify
    assert out.ends() == [""]


def test_accept_tls_configure_errors():
    conf = lookup("acceptTLS").configure
    with pytest.raises(JSThrow, match="certificate.key requires a PrivateKey"):
        conf(None, JSObject(certificate=JSObject(cert=cert("a"), key="nope")))
    with pytest.raises(JSThrow, match=r"trusted\[0\] expects an object of type crypto"):
        conf(None, JSObject(certificate=pair("a"), trusted=JSArray(["x"])))
    with pytest.raises(JSThrow, match="cannot use the certificate"):
        conf(None, JSObject(certificate=JSObject(cert=cert("a"), key=key("b"))))


# -- connectTLS against a Python TLS server behind the sub-pipeline ----------------------------


def server_context(alpn: list[str] | None = None, client_ca: bool = False, tmp_path=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    c, k = tmp_path / "s.pem", tmp_path / "s-key.pem"
    c.write_bytes(PKI["a.pem"])
    k.write_bytes(PKI["a-key.pem"])
    ctx.load_cert_chain(c, k)
    if alpn:
        ctx.set_alpn_protocols(alpn)
    if client_ca:
        ctx.load_verify_locations(cadata=PKI["ca.pem"].decode())
        ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


class Upstream(Filter):
    """The sub-pipeline: a Python TLS server (echoing upper-cased) over memory BIOs."""

    __slots__ = ("ctx", "tls", "inc", "out", "seen")
    CONFIG = ("ctx", "seen")

    def reset(self):
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = self.ctx.wrap_bio(self.inc, self.out, server_side=True)

    def process(self, evt):
        if type(evt) is StreamEnd:
            self.next.process(StreamEnd())
            return
        self.inc.write(evt.to_bytes())
        try:
            self.tls.do_handshake()
            while True:
                b = self.tls.read(65536)
                if not b:  # close_notify
                    break
                self.tls.write(b.upper())
        except ssl.SSLWantReadError:
            pass
        except ssl.SSLError as e:
            self.seen.append(("error", e.reason))
        if self.out.pending:
            self.next.process(Data(self.out.read()))


def connect(options: Any, ctx: ssl.SSLContext, seen: list | None = None):
    up = Upstream.__new__(Upstream)
    up.ctx, up.seen = ctx, seen if seen is not None else []
    f = lookup("connectTLS").configure(None, options)
    f.add_sub_layout(layout(up))
    out = Collect()
    return layout(f).instantiate(Context([{}]), out), out


def test_connect_tls_round_trip_with_sni_and_alpn(tmp_path):
    ctx = server_context(alpn=["h2", "http/1.1"], tmp_path=tmp_path)
    names = []
    ctx.sni_callback = lambda obj, name, c: names.append(name)
    protos = []
    p, out = connect(JSObject(sni="a.example", alpn="http/1.1", trusted=JSArray([cert("ca")]),
                              handshake=lambda proto: protos.append(proto)), ctx)
    p.input(Data(b"hello"))
    assert out.take() == b"HELLO"
    assert names == ["a.example"] and protos == ["http/1.1"]
    p.input(StreamEnd())
    assert out.ends() == [""]


def test_connect_tls_sni_function_runs_per_stream(tmp_path):
    ctx = server_context(tmp_path=tmp_path)
    names = []
    ctx.sni_callback = lambda obj, name, c: names.append(name)
    p, out = connect(JSObject(sni=lambda: "b.example"), ctx)
    p.input(Data(b"x"))
    assert out.take() == b"X" and names == ["b.example"]


def test_connect_tls_untrusted_server_fails_with_an_error(tmp_path):
    p, out = connect(JSObject(trusted=JSArray([cert("other-ca")])),
                     server_context(tmp_path=tmp_path))
    p.input(Data(b"x"))
    assert out.take() == b""
    assert out.ends() == ["ConnectionReset"]


def test_connect_tls_client_certificate(tmp_path):
    seen = []
    ctx = server_context(client_ca=True, tmp_path=tmp_path)
    p, out = connect(JSObject(certificate=pair("client")), ctx, seen)
    p.input(Data(b"m"))
    assert out.take() == b"M"
    p2, out2 = connect(JSObject(), ctx, seen)
    p2.input(Data(b"m"))
    assert out2.take() == b""


def test_connect_tls_stream_end_before_anything_passes_through(tmp_path):
    p, out = connect(JSObject(), server_context(tmp_path=tmp_path))
    p.input(StreamEnd())
    assert out.ends() == [""]


# -- ClientHello parsing and handleTLSClientHello -----------------------------------------------


def client_hello(sni: str | None = "a.example", alpn: list[str] | None = None) -> bytes:
    c = Client(ca=None, sni=sni, alpn=alpn)
    try:
        c.tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return c.out.read()


def test_client_hello_reader_whole_and_byte_by_byte():
    raw = client_hello("a.example", ["h2", "http/1.1"])
    r = ClientHelloReader()
    assert r.feed(raw)
    assert r.hello.server_names == ["a.example"]
    assert r.hello.protocol_names == ["h2", "http/1.1"]
    r = ClientHelloReader()
    done = [r.feed(raw[i:i + 1]) for i in range(len(raw))]
    assert done.index(True) == len(raw) - 1
    assert r.hello.server_names == ["a.example"] and bytes(r.raw) == raw


def test_client_hello_without_extensions_of_interest():
    r = ClientHelloReader()
    r.feed(client_hello(None, None))
    assert r.hello.server_names is None and r.hello.protocol_names is None


def test_client_hello_reader_gives_up_on_non_tls():
    r = ClientHelloReader()
    assert r.feed(b"GET / HTTP/1.1\r\n")
    assert r.hello is None
    assert parse_client_hello(b"\x03\x03") is None


def test_handle_tls_client_hello_calls_back_once_and_passes_everything():
    got = []
    f = lookup("handleTLSClientHello").configure(None, lambda h: got.append(dict(h)))
    out = Collect()
    p = layout(f).instantiate(Context([{}]), out)
    raw = client_hello("b.example", ["http/1.1"])
    p.input(Data(raw[:10]))
    assert got == []
    p.input(Data(raw[10:]))
    p.input(Data(b"more"))
    assert got == [{"serverNames": ["b.example"], "protocolNames": ["http/1.1"]}]
    assert out.take() == raw + b"more"
