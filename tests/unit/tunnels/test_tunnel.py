"""acceptHTTPTunnel and connectHTTPTunnel (reference §2.2 rows 1, 10)."""
from pipyd.context import Context
from pipyd.events import Data, Message, MessageEnd, MessageStart, StreamEnd
from pipyd.js.values import JSObject

from . import Peer, joint, merged, peer, show

CONNECT = JSObject(method="CONNECT", path="example.com:443", headers=JSObject())


def request(body=b""):
    return [MessageStart(CONNECT)] + ([Data(body)] if body else []) + [MessageEnd()]


def test_accept_answers_and_opens_the_tunnel_on_2xx():
    seen = []

    def handler(req):
        seen.append((req.head["method"], req.body.to_bytes()))
        return Message(JSObject(status=200))

    p, out = joint("acceptHTTPTunnel", handler)
    for e in request(b"hi"):
        p.input(e)
    assert seen == [("CONNECT", b"hi")]
    assert show(out.events) == [("MS", {"status": 200}), ("ME",)]
    p.input(Data(b"raw bytes"))
    p.input(StreamEnd())
    assert show(peer().got) == [("D", b"raw bytes"), ("SE", "")]
    peer().send(Data(b"back"), StreamEnd())
    assert show(out.events)[2:] == [("D", b"back"), ("SE", "")]


def test_accept_undefined_status_and_101_open_the_tunnel():
    for head in (JSObject(), JSObject(status=101)):
        p, out = joint("acceptHTTPTunnel", lambda req, h=head: Message(h, "x"))
        for e in request():
            p.input(e)
        p.input(Data(b"t"))
        assert show(peer().got) == [("D", b"t")]
        assert show(out.events) == [("MS", dict(head)), ("D", b"x"), ("ME",)]


def test_accept_refusal_answers_and_drops_the_rest():
    p, out = joint("acceptHTTPTunnel", lambda req: Message(JSObject(status=403)))
    for e in request():
        p.input(e)
    p.input(Data(b"ignored"))
    p.input(StreamEnd())
    assert show(out.events) == [("MS", {"status": 403}), ("ME",)]
    assert all(not i.got for i in Peer.instances)  # no sub-pipeline ever got input


def test_accept_handler_without_a_message_is_logged_and_answers_nothing(capfd):
    p, out = joint("acceptHTTPTunnel", lambda req: 42)
    for e in request():
        p.input(e)
    assert out.events == []
    assert "handler did not return a valid message" in capfd.readouterr().err


def test_accept_sub_pipeline_context_is_a_clone():
    ctx = Context([{"v": 1}])
    p, out = joint("acceptHTTPTunnel", lambda req: Message(JSObject(status=200)), context=ctx)
    for e in request():
        p.input(e)
    sub_ctx = peer().pipeline.context
    assert sub_ctx is not ctx and sub_ctx.data[0] == {"v": 1}


def test_accept_name_first_form_sets_the_sub_layout():
    from pipyd.registry import lookup
    f = lookup("acceptHTTPTunnel").configure(None, "tunnel", lambda r: None)
    assert f.sub_layouts == ["tunnel"]


# -- connectHTTPTunnel ------------------------------------------------------------------------

def test_connect_sends_the_handshake_holds_bytes_then_tunnels():
    p, out = joint("connectHTTPTunnel", Message(CONNECT))
    p.input(Data(b"early "))
    p.input(Data(b"bytes"))
    assert show(peer().got) == [("MS", dict(CONNECT)), ("ME",)]
    peer().send(MessageStart(JSObject(status=200)), Data(b"ignored body"), MessageEnd())
    assert merged(show(peer().got))[2:] == [("D", b"early bytes")]
    assert out.events == []  # the response is swallowed
    p.input(Data(b"more"))
    peer().send(Data(b"reply"), StreamEnd())
    assert show(peer().got)[-1] == ("D", b"more")
    assert show(out.events) == [("D", b"reply"), ("SE", "")]


def test_connect_handshake_from_a_function_and_held_stream_end():
    p, out = joint("connectHTTPTunnel", lambda: Message(CONNECT, "body"))
    p.input(Data(b"x"))
    p.input(StreamEnd())
    assert show(peer().got) == [("MS", dict(CONNECT)), ("D", b"body"), ("ME",)]
    peer().send(MessageStart(JSObject(status=100)), MessageEnd())  # interim: keep waiting
    assert len(peer().got) == 3
    peer().send(MessageStart(JSObject(status=200)), MessageEnd())
    assert show(peer().got)[3:] == [("D", b"x"), ("SE", "")]


def test_connect_refused_answer_ends_the_stream():
    p, out = joint("connectHTTPTunnel", Message(CONNECT))
    p.input(Data(b"x"))
    peer().send(MessageStart(JSObject(status=407)), MessageEnd())
    assert show(out.events) == [("SE", "ConnectionRefused")]
    p.input(Data(b"after"))
    assert show(peer().got) == [("MS", dict(CONNECT)), ("ME",)]


def test_connect_invalid_handshake_is_logged(capfd):
    p, out = joint("connectHTTPTunnel", lambda: "example.com:443")
    p.input(Data(b"x"))
    assert out.events == []
    assert "invalid handshake request" in capfd.readouterr().err


def test_connect_upstream_end_before_the_answer_is_output():
    p, out = joint("connectHTTPTunnel", Message(CONNECT))
    p.input(Data(b"x"))
    peer().send(StreamEnd("ConnectionRefused"))
    assert show(out.events) == [("SE", "ConnectionRefused")]


def test_connect_stream_end_first_starts_nothing():
    p, out = joint("connectHTTPTunnel", Message(CONNECT))
    p.input(StreamEnd())
    p.input(Data(b"late"))
    assert show(out.events) == [("SE", "")] and not Peer.instances  # no sub-pipeline
