"""Tutorial-style programs, unchanged, on the real daemon: the example proxy of modules/proxy
(config.json read with pipy.load + JSON.decode, plugins chained with chain([...]), context
variables exported and imported across modules), a chain-of-plugins gateway, and a
configuration change picked up by reload."""
from __future__ import annotations

import json
import signal
import socket
from pathlib import Path

import pytest

from .daemon import free_port
from .test_proxy_e2e import Client, get
from .upstreams import Upstream

EXAMPLE = Path(__file__).resolve().parents[2] / "modules" / "proxy"
PLUGINS = ("plugins/router.js", "plugins/balancer.js", "plugins/default.js")


@pytest.fixture
def upstream():
    made: list[Upstream] = []

    def make(mode: str = "ok", **kw) -> Upstream:
        u = Upstream(mode, **kw)
        made.append(u)
        return u

    yield make
    for u in made:
        u.stop()


def example_config(port: int, hi: list, echo: str, ip: str) -> dict:
    """The shipped config.json with its listen port and targets replaced."""
    config = json.loads((EXAMPLE / "config.json").read_text())
    config["listen"] = port
    config["services"] = {"service-hi": {hi[0]: 2, hi[1]: 1},
                          "service-echo": [echo], "service-tell-ip": [ip]}
    return config


def start_example(daemon, port: int, config: dict):
    files = {name: (EXAMPLE / name).read_text() for name in PLUGINS}
    files["config.json"] = json.dumps(config)
    return daemon((EXAMPLE / "proxy.js").read_text(), ports=[port], files=files, entry="proxy.js")


def test_example_proxy_routes_and_balances_by_weight(daemon, port, upstream):
    a, b, e = upstream(name="A"), upstream(name="B"), upstream("echo")
    start_example(daemon, port, example_config(port, [a.target, b.target], e.target, b.target))
    names = [get(port, f"/hi/{i}")[2].split()[0] for i in range(6)]
    assert names == [b"A", b"B", b"A", b"A", b"B", b"A"]  # smooth weighted round robin 2:1
    assert (a.hits, b.hits) == (4, 2)
    c = Client(port)
    assert c.request("POST", "/echo", b"hello") == (200, b"OK", b"hello")
    assert c.request("GET", "/ip/x")[2] == b"B GET /ip/x 0"
    assert c.request("GET", "/nowhere") == (404, b"Not Found", b"No handler")
    c.close()


def test_example_proxy_one_connection_many_services(daemon, port, upstream):
    """Requests of one client connection to different services never share an upstream
    connection (muxHTTP keyed by the balancer's resource)."""
    a, b, e = upstream(name="A"), upstream(name="B"), upstream("echo")
    start_example(daemon, port, example_config(port, [a.target, b.target], e.target, b.target))
    c = Client(port)
    for _ in range(2):
        assert c.request("GET", "/hi/x")[2] == b"A GET /hi/x 0"  # one client, one resource
        assert c.request("POST", "/echo", b"e")[2] == b"e"
        assert c.request("GET", "/ip/1")[2] == b"B GET /ip/1 0"
    c.close()
    assert (a.accepted, e.accepted, b.accepted) == (1, 1, 1)


def test_example_proxy_upstream_down(daemon, port, upstream):
    a = upstream(name="A")
    dead = f"127.0.0.1:{free_port()}"
    start_example(daemon, port, example_config(port, [a.target, a.target], dead, dead))
    assert get(port, "/echo")[:2] == (502, b"Connection Refused")
    assert get(port, "/hi/")[2] == b"A GET /hi/ 0"


def test_example_config_change_and_reload(daemon, port, upstream, tmp_path):
    """Tutorial part 6: the configuration lives in config.json; change it and reload."""
    a, b, e = upstream(name="A"), upstream(name="B"), upstream("echo")
    config = example_config(port, [a.target, b.target], e.target, b.target)
    d = start_example(daemon, port, config)
    assert get(port, "/new/1")[0] == 404
    config["routes"]["/new/*"] = "service-tell-ip"
    (tmp_path / "config.json").write_text(json.dumps(config))
    d.signal(signal.SIGHUP)
    d.wait_log("[restart] Codebase reloaded")
    assert get(port, "/new/1")[2] == b"B GET /new/1 0"


# A gateway made of plugins in the tutorial's style. The entry module exports the variables
# the plugins share; `auth` answers 401 itself or passes on with chain(); `rewrite` changes
# the request head for the plugins after it; `tag` works on the *response* coming back out
# of chain(); `upstream` forwards; `stats` reads a counter every context shares (an object
# initial value is shared, reference §0.5).
GATEWAY = """pipy()
.export('gw', {
  __user: '',
  __stats: { requests: 0 },
})
.listen(%(port)d)
  .demuxHTTP().to(
    $=>$.chain(['plugins/tag.js', 'plugins/auth.js', 'plugins/stats.js',
                'plugins/rewrite.js', 'plugins/upstream.js'])
  )
"""

GATEWAY_PLUGINS = {
    "plugins/tag.js": """pipy()
.import({ __user: 'gw' })
.pipeline()
  .chain()
  .handleMessageStart(
    msg => (msg.head.headers || (msg.head.headers = {}))['x-user'] = __user || 'nobody'
  )
""",
    "plugins/auth.js": """((
  users = { 'token-a': 'alice', 'token-b': 'bob' },
) => pipy()
.import({ __user: 'gw', __stats: 'gw' })
.pipeline()
  .handleMessageStart(
    msg => (
      __stats.requests++,
      __user = users[msg.head.headers.authorization] || ''
    )
  )
  .branch(
    () => __user !== '', $=>$.chain(),
    $=>$.replaceMessage(() => new Message({ status: 401 }, 'Who are you?'))
  )
)()
""",
    "plugins/stats.js": """pipy({ _path: '' })
.import({ __stats: 'gw', __user: 'gw' })
.pipeline()
  .handleMessageStart(msg => _path = msg.head.path)
  .branch(
    () => _path === '/stats', (
      $=>$.replaceMessage(
        () => new Message({ status: 200 }, `${__user} sees ${__stats.requests} requests`)
      )
    ),
    $=>$.chain()
  )
""",
    "plugins/rewrite.js": """pipy()
.pipeline()
  .handleMessageStart(
    msg => msg.head.path = msg.head.path.replace(/^\\/api\\//, '/v2/')
  )
  .chain()
""",
    "plugins/upstream.js": """pipy()
.import({ __user: 'gw' })
.pipeline()
  .handleMessageStart(msg => msg.head.headers['x-forwarded-user'] = __user)
  .muxHTTP().to($=>$.connect('%(target)s'))
""",
}


def test_chain_of_plugins_gateway(daemon, port, upstream):
    up = upstream(name="U")
    files = {k: v % {"target": up.target} if "%(target)s" in v else v
             for k, v in GATEWAY_PLUGINS.items()}
    daemon(GATEWAY % {"port": port}, ports=[port], files=files)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET /api/items HTTP/1.1\r\nHost: x\r\nAuthorization: token-a\r\n\r\n")
        out = s.recv(65536)
    head, _, body = out.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\nx-user: alice\r\n" in head  # set on the way back, by the first plugin
    assert body == b"U GET /v2/items 0"  # rewritten by a plugin before the last one
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET /api/x HTTP/1.1\r\nHost: x\r\n\r\n")
        out = s.recv(65536)
    assert out.startswith(b"HTTP/1.1 401 Unauthorized\r\n")
    assert b"\r\nx-user: nobody\r\n" in out and out.endswith(b"Who are you?")
    assert up.hits == 1
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET /stats HTTP/1.1\r\nHost: x\r\nAuthorization: token-b\r\n\r\n")
        out = s.recv(65536)
    assert out.endswith(b"bob sees 3 requests")  # one counter shared by every context
    assert b"\r\nx-user: bob\r\n" in out


# The older named-pipeline API of the Japanese tutorial (and the tutorial/ directory of Pipy's
# repository): use([plugins], 'request', 'response', () => __turnDown), link() with named
# pipelines, muxHTTP('name', key). A plugin that handles the request sets __turnDown; the
# 'response' pipelines of the plugins before it still run, in reverse order.
NAMED = """pipy()
.export('proxy', { __turnDown: false, __serviceID: '' })
.listen(%(port)d)
  .demuxHTTP('request')
.pipeline('request')
  .use(['plugins/router.js', 'plugins/balancer.js', 'plugins/default.js'],
       'request', 'response', () => __turnDown)
"""

NAMED_PLUGINS = {
    "plugins/router.js": """((
  router = new algo.URLRouter({ '/svc/*': 'svc' }),
) => pipy()
.import({ __serviceID: 'proxy' })
.pipeline('request')
  .handleMessageStart(msg => __serviceID = router.find(msg.head.headers.host, msg.head.path))
.pipeline('response')
  .handleMessageStart(msg => msg.head.headers['x-routed'] = String(__serviceID))
)()
""",
    "plugins/balancer.js": """pipy({
  _services: { svc: new algo.RoundRobinLoadBalancer(['%(target)s']) },
  _target: '',
})
.import({ __turnDown: 'proxy', __serviceID: 'proxy' })
.pipeline('request')
  .handleMessageStart(
    () => (
      _target = _services[__serviceID]?.select?.(),
      _target && (__turnDown = true)
    )
  )
  .link('forward', () => Boolean(_target), '')
.pipeline('forward')
  .muxHTTP('connection', () => _target)
.pipeline('connection')
  .connect(() => _target)
""",
    "plugins/default.js": """pipy()
.import({ __turnDown: 'proxy' })
.pipeline('request')
  .replaceMessage(
    msg => (
      __turnDown = true,
      new Message({ status: 404, headers: {} }, 'No handler')
    )
  )
""",
}


def test_named_pipeline_plugins_with_use(daemon, port, upstream):
    up = upstream(name="S")
    files = {k: v % {"target": up.target} if "%(target)s" in v else v
             for k, v in NAMED_PLUGINS.items()}
    daemon(NAMED % {"port": port}, ports=[port], files=files)
    c = Client(port)
    assert c.request("GET", "/svc/a")[2] == b"S GET /svc/a 0"
    assert c.request("GET", "/other")[:3] == (404, b"Not Found", b"No handler")
    c.close()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET /svc/b HTTP/1.1\r\nHost: x\r\n\r\n")
        out = s.recv(65536)
    assert b"\r\nx-routed: svc\r\n" in out  # the router's 'response' pipeline ran
