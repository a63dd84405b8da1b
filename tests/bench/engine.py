"""Engine benchmark: compiled PipyJS callbacks next to hand-written Python doing the same work.

Each row is the cost of one call in nanoseconds, JS and Python measured in the same run, and
their ratio (goal: a small handler costs no more than 2x the equivalent hand-written Python).
The callbacks are called the way the daemon calls them: ``ACTIVE.current = context`` once, then a
plain Python call with a host-object argument (``Message(head=JSObject(...))``, pipyd/events.py).
The last rows time parsing and compiling a generated 2,000-line module (goal: well under 1 s).
Figures only, no assertions: ``python -m tests.bench engine``.
"""
from __future__ import annotations

import json
import time
import timeit
from typing import Any, Callable

from pipyd.api.algo import ALGO
from pipyd.context import Context
from pipyd.events import Message
from pipyd.inbound import Inbound
from pipyd.js.engine import compile_module
from pipyd.js.parser import parse
from pipyd.js.scope import ACTIVE, ModuleScope
from pipyd.js.values import JSArray, JSObject

# One module holding every JS snippet, as a Pipy script would define its handlers.
JS = r"""
var path = msg => msg.head.path
var respond = msg => new Message({status: 200, headers: {'content-type': 'text/plain'}}, 'Hi ' + msg.head.path)
var router = new algo.URLRouter({'/api/*': 'api', 'example.com/users/*': 'users', '/*': 'default'})
var route = msg => router.find(msg.head.headers.host, msg.head.path)
var counter = msg => { _n = _n + 1 }
var fmt = msg => `${msg.head.method} ${msg.head.path} -> ${_n}`
var xff = msg => { msg.head.headers['x-forwarded-for'] = __inbound.remoteAddress }
var stringify = msg => JSON.stringify({status: 200, path: msg.head.path, ok: true})
var chain = a => a.map(x => x * 2).filter(x => x % 3 === 0).length
var hdr = msg => msg.head.headers['content-type'] || 'text/plain'
var mathy = msg => Math.min(Math.floor(msg.head.path.length / 2), 10)
"""


def _py_snippets(router: Any) -> dict[str, Callable[[Any], Any]]:
    """The hand-written Python equivalents (what a Python handler would write).

    Fair peers: a JS member read of an absent key gives undefined, so the Python reads of keys
    a message may lack use ``dict.get`` (``path``, ``route``: a response head has no path, a
    request may have no host) where a bare ``[...]`` would raise; ``hdr`` already did.
    The others do the same work as their JS (``fmt`` formats ``None`` as "None" where JS
    prints "undefined": same cost)."""
    active = ACTIVE

    def counter(msg: Any) -> None:
        d = active.current.data[0]
        d["_n"] = d["_n"] + 1

    def xff(msg: Any) -> None:
        msg.head["headers"]["x-forwarded-for"] = active.current.inbound.remoteAddress

    return {
        "path": lambda msg: msg.head.get("path"),
        "respond": lambda msg: Message(JSObject(status=200, headers=JSObject({"content-type": "text/plain"})),
                                       "Hi " + msg.head["path"]),
        "route": lambda msg: router.find(msg.head["headers"].get("host"), msg.head.get("path")),
        "counter": counter,
        "fmt": lambda msg: f"{msg.head['method']} {msg.head['path']} -> {active.current.data[0]['_n']}",
        "xff": xff,
        "stringify": lambda msg: json.dumps({"status": 200, "path": msg.head["path"], "ok": True},
                                            separators=(",", ":")),
        "chain": lambda a: len([y for y in [x * 2 for x in a] if y % 3 == 0]),
        "hdr": lambda msg: msg.head["headers"].get("content-type") or "text/plain",
        "mathy": lambda msg: min(len(msg.head["path"]) // 2, 10),
    }


ROWS = [  # (label, snippet name, argument kind)
    ("(a) msg => msg.head.path", "path", "msg"),
    ("(b) new Message({status, headers}, 'Hi ' + path)", "respond", "msg"),
    ("(b) router.find(head.headers.host, head.path)", "route", "msg"),
    ("(b) context variable _n = _n + 1", "counter", "msg"),
    ("(b) template literal `${method} ${path} -> ${_n}`", "fmt", "msg"),
    ("(b) head.headers['x-forwarded-for'] = remoteAddress", "xff", "msg"),
    ("(b) JSON.stringify({...}) vs json.dumps", "stringify", "msg"),
    ("(b) a.map(x => x*2).filter(x => x%3 === 0).length", "chain", "arr"),
    ("(b) headers['content-type'] || 'text/plain'", "hdr", "msg"),
    ("(b) Math.min(Math.floor(path.length / 2), 10)", "mathy", "msg"),
]


def _paired_ns(js_fn: Callable[[Any], Any], js_arg: Any, py_fn: Callable[[Any], Any], py_arg: Any,
               number: int, rounds: int = 9) -> tuple[float, float]:
    """Best of ``rounds`` runs of ``number`` calls each, in ns per call, JS and Python runs
    interleaved so that both see the same machine load (the loop is timeit's, not a lambda's);
    CPU time, not wall time, so that a busy machine's descheduling does not count."""
    js = timeit.Timer("f(x)", globals={"f": js_fn, "x": js_arg}, timer=time.process_time)
    py = timeit.Timer("f(x)", globals={"f": py_fn, "x": py_arg}, timer=time.process_time)
    best_js = best_py = float("inf")
    for _ in range(rounds):
        best_js = min(best_js, js.timeit(number))
        best_py = min(best_py, py.timeit(number))
    return best_js / number * 1e9, best_py / number * 1e9


def _message() -> Message:
    headers = JSObject({"host": "example.com", "content-type": "application/json", "user-agent": "bench"})
    return Message(head=JSObject(method="GET", path="/users/42", headers=headers))


def setup() -> tuple[dict[str, Any], dict[str, Callable[[Any], Any]]]:
    """Compile the JS snippets and build the Python ones; activate a context with ``_n``."""
    module = compile_module(JS, "bench.js")
    scope = ModuleScope(0, "bench.js")
    scope.plain_inbound = True  # as Worker._bind finds it: bench.js has no __inbound variable
    g = module.new_globals(scope, {"algo": ALGO, "Message": Message})
    ctx = Context([{"_n": 0}], Inbound(None, None, ("127.0.0.1", 8080, "10.0.0.7", 51234)))
    ACTIVE.current = ctx
    module.run(module_globals=g)
    return g, _py_snippets(g["router"])


def snippet_rows(number: int = 20_000) -> list[tuple[str, object]]:
    g, py = setup()
    arr = JSArray(range(12))
    rows: list[tuple[str, object]] = []
    for label, name, kind in ROWS:
        js_fn, py_fn = g[name], py[name]
        arg = arr if kind == "arr" else _message()
        js_ns, py_ns = _paired_ns(js_fn, arg, py_fn, _message() if kind == "msg" else arg, number)
        rows.append((label, f"js {js_ns:7.0f} ns   py {py_ns:7.0f} ns   ratio {js_ns / py_ns:5.2f}"))
    return rows


# ---------------------------------------------------------------------------- compile time

_BLOCK = """\
// block {i}
var table{i} = {{ name: 'svc{i}', port: {port}, weight: {i} % 7, tags: ['a', 'b', "c{i}"] }}
function handler{i}(msg, ctx) {{
  var head = msg.head
  var path = head.path || '/'
  if (path.startsWith('/api/{i}/')) {{
    head.headers['x-service'] = table{i}.name
    return new Message({{ status: 200, headers: {{ 'content-type': 'application/json' }} }},
      JSON.stringify({{ id: {i}, path, when: Date.now() }}))
  }} else if (path === '/health') {{
    return new Message('ok')
  }}
  for (let i = 0; i < table{i}.tags.length; i++) {{
    if (table{i}.tags[i] === head.method) break
  }}
  const pick = [1, 2, 3].map(x => x * table{i}.weight).filter(x => x > 2)
  switch (pick.length) {{
    case 0: return null
    default: return `${{head.method}} ${{path}} -> ${{pick.join(',')}}`
  }}
}}
"""


def generated_module(lines: int = 2000) -> str:
    """A module of realistic handler code, about ``lines`` lines long."""
    per = _BLOCK.count("\n")
    return "".join(_BLOCK.format(i=i, port=8000 + i) for i in range(lines // per + 1))


def compile_rows() -> list[tuple[str, object]]:
    src = generated_module()
    n_lines = src.count("\n")
    parse_s = min(timeit.repeat(lambda: parse(src, "gen.js"), number=1, repeat=5, timer=time.process_time))
    compile_s = min(timeit.repeat(lambda: compile_module(src, "gen.js"), number=1, repeat=5, timer=time.process_time))
    return [
        (f"(c) parse a generated {n_lines}-line module", f"{parse_s * 1000:7.1f} ms"),
        (f"(c) parse + compile the same module (goal < 1 s)", f"{compile_s * 1000:7.1f} ms"),
    ]


def run() -> list[tuple[str, object]]:
    try:
        return snippet_rows() + compile_rows()
    finally:
        ACTIVE.current = None
