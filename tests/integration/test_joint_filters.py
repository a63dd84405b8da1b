"""The joint and flow filters end to end: real JS modules served by the daemon."""
from .daemon import http_exchange

GET = b"GET %s HTTP/1.1\r\nHost: x\r\n\r\n"


def body(resp: bytes) -> bytes:
    return resp.split(b"\r\n\r\n", 1)[1]


def test_link_to_a_named_pipeline(daemon, port):
    src = ("pipy().listen(%d).demuxHTTP().to($=>$.link('a'))"
           ".pipeline('a').replaceMessage(new Message('x'))" % port)
    daemon(src, ports=[port])
    assert body(http_exchange(port, GET % b"/")) == b"x"


def test_branch_on_the_request_path(daemon, port):
    src = """pipy({_path: ''}).listen(%d).demuxHTTP().to($=>$
      .handleMessageStart(m => _path = m.head.path)
      .branch(() => _path === '/a', $=>$.replaceMessage(new Message('A')),
              $=>$.replaceMessage(new Message('other'))))""" % port
    daemon(src, ports=[port])
    assert body(http_exchange(port, GET % b"/a")) == b"A"
    assert body(http_exchange(port, GET % b"/b")) == b"other"


PLUGIN = """pipy({_stop: false}).import({__route: 'main'})
  .pipeline()
  .handleMessageStart(m => (__route += '%s', _stop = m.head.path === '/stop-%s'))
  .branch(() => _stop, $=>$.replaceMessage(() => new Message('stopped at %s ' + __route)),
          $=>$.chain())
"""


def test_chain_of_plugins(daemon, port):
    main = """pipy().export('main', {__route: ''})
      .listen(%d).demuxHTTP().to($=>$.chain(['plugins/a.js', 'plugins/b.js', 'plugins/last.js']))
    """ % port
    files = {"plugins/a.js": PLUGIN % ("a", "a", "a"), "plugins/b.js": PLUGIN % ("b", "b", "b"),
             "plugins/last.js": """pipy().import({__route: 'main'}).pipeline()
                .replaceMessage(() => new Message('end ' + __route))"""}
    daemon(main, ports=[port], files=files)
    assert body(http_exchange(port, GET % b"/x")) == b"end ab"
    assert body(http_exchange(port, GET % b"/stop-a")) == b"stopped at a a"
    assert body(http_exchange(port, GET % b"/stop-b")) == b"stopped at b ab"


def test_use_request_response_with_turn_down(daemon, port):
    main = """pipy().export('main', {__turnDown: false})
      .listen(%d).demuxHTTP().to($=>$
        .use(['p/cache.js', 'p/hello.js'], 'request', 'response', () => __turnDown))
    """ % port
    files = {
        "p/cache.js": """pipy().import({__turnDown: 'main'})
          .pipeline('request').replaceMessage(req => req.head.path === '/cached'
              ? (__turnDown = true, new Message({status: 200}, 'from cache')) : req)
          .pipeline('response').handleMessageStart(m => m.head.headers = {'x-cache': 'seen'})""",
        "p/hello.js": """pipy()
          .pipeline('request').replaceMessage(new Message({status: 200}, 'from origin'))""",
    }
    daemon(main, ports=[port], files=files)
    miss = http_exchange(port, GET % b"/x")
    hit = http_exchange(port, GET % b"/cached")
    assert body(miss) == b"from origin" and b"x-cache: seen" in miss
    assert body(hit) == b"from cache" and b"x-cache: seen" in hit


def test_fork_copies_to_a_side_pipeline(daemon, port):
    src = """pipy({_g: {n: 0}}).listen(%d).demuxHTTP().to($=>$
      .fork().to($=>$.handleMessageStart(() => _g.n++))
      .replaceMessage(() => new Message('seen ' + _g.n)))""" % port
    daemon(src, ports=[port])
    assert body(http_exchange(port, GET % b"/")) == b"seen 1"
    assert body(http_exchange(port, GET % b"/")) == b"seen 2"


def test_output_to_inbound_output(daemon, port):
    # the answer goes out through __inbound.output; the pipeline's own output is dropped
    src = """pipy().listen(%d)
      .fork().to($=>$.replaceData(new Data('hello\\n')).output(() => __inbound.output))
      .dummy()""" % port
    d = daemon(src, ports=[port])
    import socket
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"x")
        assert s.recv(100) == b"hello\n"
    assert "[ERR]" not in d.log()


def test_replay_retries_until_success(daemon, port):
    src = """pipy({_g: {n: 0}}).listen(%d).demuxHTTP().to($=>$
      .replay({delay: 0.01}).to($=>$
        .replaceMessage(() => ++_g.n < 3 ? new StreamEnd('Replay') : new Message('try ' + _g.n))))
    """ % port
    daemon(src, ports=[port])
    assert body(http_exchange(port, GET % b"/")) == b"try 3"
