"""``acceptTLS`` and ``connectTLS``: TLS as joint filters (reference §2.2 rows 4 and 13), on
Python's ``ssl`` with memory BIOs, so TLS stays a transformation of the event stream.

Every stream has two sides: the *net* side carries TLS records, the *app* side plaintext.

* ``acceptTLS`` (server): input = records from the client, output = records to it; the
  sub-pipeline (shared context, §0.4) gets the plaintext and its output is encrypted back.
* ``connectTLS`` (client): input = plaintext, output = plaintext; the sub-pipeline carries the
  records, usually ``.to($=>$.connect(...))``.

Behaviour kept from Pipy: the sub-pipeline starts on the first event; when the handshake
completes the ``handshake`` callback runs and an empty ``Data`` goes to the app side (so a
``connect`` behind ``acceptTLS`` dials right away); a ``StreamEnd`` on either side is passed to
the other; plaintext written before the handshake completes waits for it; no hostname check
on the client (OpenSSL's default: ``trusted`` alone decides, plus ``verify``). A failed
handshake or a broken record logs ``[tls] …`` and ends both sides, the app side with
``StreamEnd('ConnectionReset')`` (an HTTP client turns it into 502, §4.6).

Where pipyd differs, because Python's ``ssl`` has no hooks for it: ``acceptTLS`` reads the
ClientHello itself (``tls_hello``) and picks certificate and ALPN protocol from it before
OpenSSL sees it, so ``certificate(sni)`` is called once per connection (with ``undefined``
without SNI) instead of once plus once per SNI; ``verify(ok, cert)`` runs once, after OpenSSL
accepted the peer's chain, with ``ok = true`` and the peer's own certificate, and can only
refuse (Pipy calls it per chain element and can also accept a chain OpenSSL refused). We also
send close_notify before ending a side (Pipy just closes).
"""
from __future__ import annotations

import os
import ssl
import tempfile
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from pipyd import log
from pipyd.api.crypto_keys import Certificate, CertificateChain, PrivateKey
from pipyd.events import Data, StreamEnd
from pipyd.js.coerce import to_boolean, to_number, to_string
from pipyd.js.values import HostObject, JSArray, type_error, undefined
from pipyd.pipeline import FAILED, JointFilter
from pipyd.registry import register

from .tls_hello import ClientHelloReader, HandleTLSClientHello  # noqa: F401  (registers it)

FAIL_CODE = "ConnectionReset"
READ_SIZE = 65536
CONTEXT_CACHE_MAX = 256  # SSLContexts per filter, keyed by certificate (and ALPN choice)
_PEM = serialization.Encoding.PEM


class TLSConfigError(Exception):
    """A certificate/option that cannot be used: a TypeError at configure time, a logged
    session failure when it came from a callback at run time."""


# -- options and SSL contexts -------------------------------------------------------------------


def _fn(v: Any) -> bool:
    return callable(v) and not isinstance(v, (HostObject, type))


def _cert_pem(c: Any) -> bytes:
    t = type(c)
    if t is Certificate:
        return c.cert.public_bytes(_PEM)
    if t is CertificateChain:
        if not c.certs:
            raise TLSConfigError("empty certificate chain")
        return c.pem()
    raise TLSConfigError("certificate.cert requires a Certificate or a CertificateChain object")


def _key_pem(k: Any) -> bytes:
    if type(k) is not PrivateKey:
        raise TLSConfigError("certificate.key requires a PrivateKey object")
    return k.key.private_bytes(_PEM, serialization.PrivateFormat.PKCS8,
                               serialization.NoEncryption())


def _load_chain(ctx: ssl.SSLContext, chain: bytes, key: bytes) -> None:
    """``load_cert_chain`` reads only files: hand it an anonymous in-memory file (memfd) so
    private keys never touch the disk; a 0600 temporary file where memfd is missing."""
    data = key + chain
    try:
        if hasattr(os, "memfd_create"):
            fd = os.memfd_create("pipyd-tls", os.MFD_CLOEXEC)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                ctx.load_cert_chain(f"/proc/self/fd/{fd}")
            finally:
                os.close(fd)
        else:
            with tempfile.NamedTemporaryFile() as f:
                f.write(data)
                f.flush()
                ctx.load_cert_chain(f.name)
    except (ssl.SSLError, OSError) as e:
        raise TLSConfigError(f"cannot use the certificate: {e}") from None


class TLSOptions:
    """Parsed options of one acceptTLS/connectTLS prototype, shared by its clones, with the
    SSLContexts built from them (one per certificate and ALPN choice)."""

    __slots__ = ("server", "name", "certificate", "trusted", "verify", "handshake", "alpn",
                 "alpn_fn", "sni", "contexts")

    def __init__(self, name: str, server: bool, options: Any) -> None:
        if options is undefined or options is None:
            options = {}
        elif not isinstance(options, dict):
            raise type_error(f"{name}: options expects an object")
        self.server, self.name = server, name
        get = options.get
        self.certificate = get("certificate", None)
        if self.certificate is undefined:
            self.certificate = None
        self.trusted = _trusted(get("trusted", None))
        self.verify = self._callback(get("verify", None), "verify")
        self.handshake = self._callback(get("handshake", None), "handshake")
        self.alpn: list[str] | None = None
        self.alpn_fn = None
        self.sni = None
        alpn = get("alpn", None)
        if server and _fn(alpn):
            self.alpn_fn = alpn
        elif alpn is not None and alpn is not undefined:
            self.alpn = _alpn_list(alpn, server)
        if not server:
            sni = get("sni", None)
            if sni is not None and sni is not undefined and type(sni) is not str and not _fn(sni):
                raise type_error("options.sni expects a string or a function")
            self.sni = None if sni is undefined else sni
        self.contexts: dict[tuple, tuple] = {}
        if not _fn(self.certificate):
            try:  # a static certificate: check it (and build its context) now
                self.context_for(self.certificate)
            except TLSConfigError as e:
                raise type_error(f"{name}: {e}") from None

    @staticmethod
    def _callback(v: Any, key: str) -> Any:
        if v is None or v is undefined:
            return None
        if not _fn(v):
            raise type_error(f"options.{key} expects a function")
        return v

    def context_for(self, certificate: Any, alpn: str | None = None) -> ssl.SSLContext:
        """The SSLContext for ``{cert, key}`` (or none) and, on a server, one ALPN protocol."""
        if certificate is None or certificate is undefined:
            c = k = None
        elif isinstance(certificate, dict):
            c, k = certificate.get("cert"), certificate.get("key")
        else:
            raise TLSConfigError("certificate callback did not return an object"
                                 if _fn(self.certificate) else
                                 "options.certificate expects an object")
        ck = (id(c), id(k), alpn)
        hit = self.contexts.get(ck)
        if hit is not None:
            return hit[0]
        ctx = self._build(c, k, alpn)
        if len(self.contexts) >= CONTEXT_CACHE_MAX:
            self.contexts.clear()
        self.contexts[ck] = (ctx, c, k)  # c and k kept alive: their ids stay unique
        return ctx

    def _build(self, c: Any, k: Any, alpn: str | None) -> ssl.SSLContext:
        if self.server:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        else:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False  # Pipy sets no host to check: trusted alone decides
            ctx.verify_mode = ssl.CERT_NONE
        if self.trusted:
            ctx.load_verify_locations(cadata=self.trusted)
            # Pipy: SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT once trusted is given
            ctx.verify_mode = ssl.CERT_REQUIRED
        if c is not None or k is not None:
            _load_chain(ctx, _cert_pem(c), _key_pem(k))
        protocols = [alpn] if alpn else (None if self.server else self.alpn)
        if protocols:
            ctx.set_alpn_protocols(protocols)
        return ctx


def _trusted(v: Any) -> str | None:
    if v is None or v is undefined:
        return None
    if not isinstance(v, list):
        raise type_error("options.trusted expects an array")
    pems = []
    for i, c in enumerate(v):
        if type(c) is not Certificate:
            raise type_error(f"options.trusted[{i}] expects an object of type crypto.Certificate")
        pems.append(c.cert.public_bytes(_PEM).decode("ascii"))
    return "".join(pems) or None


def _alpn_list(v: Any, server: bool) -> list[str]:
    if type(v) is str and not server:
        v = [v]
    if not isinstance(v, list):
        raise type_error("options.alpn expects " + ("an array or a function" if server
                                                    else "a string or an array"))
    for i, s in enumerate(v):
        if type(s) is not str:
            raise type_error(f"options.alpn[{i}] expects a string")
        if not 0 < len(s.encode()) < 256:
            raise type_error(f"protocol name is empty or too long for ALPN: {s}")
    return list(v)


def _reason(e: ssl.SSLError) -> str:
    return getattr(e, "verify_message", None) or e.reason or str(e)


# -- the session, shared by both directions -----------------------------------------------------


class _TLSFilter(JointFilter):
    """One TLS session per stream. Subclasses route the two sides: ``_to_net`` (records out)
    and ``_to_app`` (plaintext out), and call ``_net_in``/``_net_end`` for records arriving and
    ``_app_in``/``_app_end`` for plaintext arriving."""

    __slots__ = ("opts", "sub", "tls", "inc", "out", "pending", "handshaken", "closing",
                 "eof", "app_ended", "done")
    CONFIG = ("opts",)
    SERVER = False

    @classmethod
    def configure(cls, config: Any, *args: Any) -> "_TLSFilter":
        f = cls.__new__(cls)
        f.sub_layouts = []
        if args and type(args[0]) is str:  # name-first: acceptTLS(name, options)
            f.sub_layouts.append(args[0])
            args = args[1:]
        f.opts = TLSOptions(cls.NAME, cls.SERVER, args[0] if args else undefined)
        f.reset()
        return f

    def reset(self) -> None:
        sub = getattr(self, "sub", None)
        self.sub = None
        if sub is not None:
            sub.end()
        self.tls: ssl.SSLObject | None = None
        self.inc = self.out = None
        self.pending: list[bytes] | None = None
        self.handshaken = False
        self.closing: StreamEnd | None = None  # the app side ended before the handshake did
        self.eof = False  # the app side was given its StreamEnd
        self.app_ended = False  # the app side gave us its StreamEnd
        self.done = False

    def shutdown(self) -> None:
        if self.sub is not None:
            self.sub.shutdown()

    def _to_net(self, evt: Any) -> None:
        raise NotImplementedError

    def _to_app(self, evt: Any) -> None:
        raise NotImplementedError

    def _start(self, ctx: ssl.SSLContext, hostname: str | None = None) -> None:
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = ctx.wrap_bio(self.inc, self.out, server_side=self.SERVER,
                                server_hostname=hostname)

    # -- records in ----------------------------------------------------------------------------

    def _net_in(self, chunks: list[bytes]) -> None:
        if self.done:
            return
        write = self.inc.write
        for c in chunks:
            write(c)
        self._pump()

    def _pump(self) -> None:
        """Advance the handshake, then hand every decrypted byte to the app side."""
        tls = self.tls
        if not self.handshaken:
            try:
                tls.do_handshake()
            except ssl.SSLWantReadError:
                self._flush()
                return
            except ssl.SSLError as e:
                self._fail(f"handshake failed: {_reason(e)}")
                return
            self.handshaken = True
            self._flush()
            self._handshake_done()
        while not self.done and self.tls is tls:
            try:
                b = tls.read(READ_SIZE)
            except ssl.SSLWantReadError:
                break
            except ssl.SSLZeroReturnError:
                b = b""
            except ssl.SSLError as e:
                self._fail(_reason(e))
                return
            if not b:  # close_notify: the peer will send no more
                if not self.eof:
                    self.eof = True
                    self._to_app(StreamEnd())
                break
            self._to_app(Data.from_bytes(b))
        if self.tls is tls and not self.done:
            if self.pending and self.handshaken:
                self._write(self.pending)
            self._flush()

    def _handshake_done(self) -> None:
        opts, tls = self.opts, self.tls
        if opts.verify is not None and opts.trusted:
            der = tls.getpeercert(binary_form=True)
            cert = Certificate.of(x509.load_der_x509_certificate(der)) if der else None
            ok = self.callback(opts.verify, True, cert)
            if ok is FAILED or not to_boolean(ok):
                self._fail("handshake failed: certificate refused by verify()")
                return
        if opts.handshake is not None:
            proto = tls.selected_alpn_protocol()
            self.callback(opts.handshake, undefined if proto is None else proto)
            if self.tls is not tls:
                return
        self._to_app(Data())
        if self.tls is tls and not self.done:
            pending, self.pending = self.pending, None
            if pending:
                self._write(pending)
            if self.closing is not None and not self.done:
                self._close(self.closing)

    def _net_end(self, evt: StreamEnd) -> None:
        """The transport ended: the app side gets the StreamEnd (with its error code)."""
        if self.done or self.eof:
            return
        self.eof = True
        self._to_app(evt)

    # -- plaintext in --------------------------------------------------------------------------

    def _app_in(self, evt: Data) -> None:
        if self.done or self.app_ended:
            return
        if not self.handshaken or self.pending:
            if self.pending is None:
                self.pending = []
            self.pending.extend(evt.chunks)
            return
        self._write(evt.chunks)

    def _write(self, chunks: list[bytes]) -> None:
        tls = self.tls
        for i, c in enumerate(chunks):
            try:
                tls.write(c)
            except ssl.SSLWantReadError:  # cannot write before more records arrive
                self.pending = chunks[i:]
                break
            except ssl.SSLError as e:
                self._fail(_reason(e))
                return
        else:
            self.pending = None
        self._flush()

    def _app_end(self, evt: StreamEnd) -> None:
        if self.done or self.app_ended:
            return
        self.app_ended = True
        if not self.handshaken:
            self.closing = evt
            return
        self._close(evt)

    def _close(self, evt: StreamEnd) -> None:
        """close_notify, then the StreamEnd on the net side (RFC 8446 §6.1)."""
        self.closing = None
        try:
            self.tls.unwrap()
        except (ssl.SSLError, ValueError):  # SSLWantReadError: the peer's reply is not awaited
            pass
        self._flush()
        self._to_net(evt)

    # -- helpers -------------------------------------------------------------------------------

    def _flush(self) -> None:
        out = self.out
        if out is not None and out.pending:
            self._to_net(Data.from_bytes(out.read()))

    def _fail(self, reason: str) -> None:
        if self.done:
            return
        log.error(f"[tls] {reason}")
        self.done = True
        self._flush()  # the alert OpenSSL queued for the peer
        if not self.app_ended:
            self.app_ended = True
            self._to_net(StreamEnd(FAIL_CODE))
        if not self.eof:
            self.eof = True
            self._to_app(StreamEnd(FAIL_CODE))


@register("acceptTLS")
class AcceptTLS(_TLSFilter):
    """TLS server: records in and out, plaintext through the sub-pipeline."""

    __slots__ = ("hello",)
    SERVER = True

    def reset(self) -> None:
        super().reset()
        self.hello: ClientHelloReader | None = None

    def _to_net(self, evt: Any) -> None:
        self.next.process(evt)

    def _to_app(self, evt: Any) -> None:
        sub = self.sub
        if sub is not None:
            sub.input(evt)

    def process(self, evt: Any) -> None:
        t = type(evt)
        if self.sub is None and not self.done:
            self.sub = self.sub_pipeline(0)
        if t is Data:
            if self.tls is None:
                self._hello(evt)
            else:
                self._net_in(evt.chunks)
        elif t is StreamEnd:
            self._net_end(evt)

    def on_sub_output(self, evt: Any) -> None:
        t = type(evt)
        if t is Data:
            self._app_in(evt)
        elif t is StreamEnd:
            if self.tls is None:  # nothing negotiated yet: just close
                if not self.done:
                    self.done = True
                    self.next.process(evt)
                return
            self._app_end(evt)

    def _hello(self, evt: Data) -> None:
        """Hold the records until the ClientHello is whole, then choose the context."""
        opts = self.opts
        if self.done:
            return
        if opts.alpn is None and opts.alpn_fn is None and not _fn(opts.certificate):
            self._start(opts.context_for(opts.certificate))
            self._net_in(evt.chunks)
            return
        reader = self.hello
        if reader is None:
            reader = self.hello = ClientHelloReader()
        done = False
        for c in evt.chunks:
            done = reader.feed(c)
        if not done:
            return
        self.hello = None
        ctx = self._choose(reader.hello)
        if ctx is not None:
            self._start(ctx)
            self._net_in([bytes(reader.raw)])

    def _choose(self, hello: Any) -> ssl.SSLContext | None:
        opts = self.opts
        cert = opts.certificate
        if _fn(cert):
            names = hello.server_names if hello is not None else None
            cert = self.callback(cert, names[0] if names else undefined)
            if cert is FAILED:
                self._fail("handshake failed: certificate callback threw")
                return None
        alpn = None
        offered = hello.protocol_names if hello is not None else None
        if offered and (opts.alpn is not None or opts.alpn_fn is not None):
            alpn = self._select_alpn(offered)
            if alpn is None:
                self._fail("handshake failed: no application protocol in common")
                return None
        try:
            return opts.context_for(cert, alpn)
        except TLSConfigError as e:
            log.error(f"[acceptTLS] {e}")
            self._fail("handshake failed: no usable certificate")
            return None

    def _select_alpn(self, offered: list[str]) -> str | None:
        """Pipy's choice: the client's first protocol that ``alpn`` lists, else the index
        ``alpn(names)`` returns (RFC 7301 §3.2: none in common is a fatal alert)."""
        opts = self.opts
        if opts.alpn is not None:
            for name in offered:
                if name in opts.alpn:
                    return name
            return None
        i = self.callback(opts.alpn_fn, JSArray(offered))
        if i is FAILED:
            return None
        n = to_number(i)
        if n != n or not 0 <= n < len(offered) or n != int(n):
            return None
        return offered[int(n)]


@register("connectTLS")
class ConnectTLS(_TLSFilter):
    """TLS client: plaintext in and out, records through the sub-pipeline."""

    __slots__ = ()
    SERVER = False

    def _to_net(self, evt: Any) -> None:
        sub = self.sub
        if sub is not None:
            sub.input(evt)

    def _to_app(self, evt: Any) -> None:
        self.next.process(evt)

    def process(self, evt: Any) -> None:
        t = type(evt)
        if self.tls is None:
            if self.done:
                return
            if t is StreamEnd:  # nothing to secure: the stream just ends here
                self.done = True
                self.next.process(evt)
                return
            if t is not Data or not self._connect():
                return
        if t is Data:
            self._app_in(evt)
        elif t is StreamEnd:
            self._app_end(evt)

    def _connect(self) -> bool:
        """Start the sub-pipeline and the handshake (the ClientHello goes out now)."""
        opts = self.opts
        sni = opts.sni
        if sni is not None:
            sni = self.eval_arg(sni)
            if sni is FAILED:
                self._fail("handshake failed: sni callback threw")
                return False
            sni = None if sni is None or sni is undefined else to_string(sni)
        cert = opts.certificate
        if _fn(cert):
            cert = self.callback(cert, undefined)
            if cert is FAILED:
                self._fail("handshake failed: certificate callback threw")
                return False
        try:
            ctx = opts.context_for(cert)
            self.sub = self.sub_pipeline(0)
            self._start(ctx, sni or None)
        except TLSConfigError as e:
            log.error(f"[connectTLS] {e}")
            self._fail("handshake failed: no usable certificate")
            return False
        except ValueError as e:  # a server name ssl refuses (empty label, bad IDNA…)
            self._fail(f"handshake failed: sni: {e}")
            return False
        self._pump()
        return self.tls is not None and not self.done

    def on_sub_output(self, evt: Any) -> None:
        if self.tls is None:
            return
        t = type(evt)
        if t is Data:
            self._net_in(evt.chunks)
        elif t is StreamEnd:
            self._net_end(evt)
