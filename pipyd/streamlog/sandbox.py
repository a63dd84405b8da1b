"""ReducerSandbox: tenant reducer code runs in worker processes, never in the daemon (streamlog.md §7).

Each worker is ``python -I sandbox.py <memory bytes>``: a separate process holding dukpy (QuickJS)
contexts. It imports nothing of pipyd (``-I`` keeps the script's directory off ``sys.path``), caps
its address space with ``RLIMIT_AS`` and, per call, arms ``ITIMER_VIRTUAL``: QuickJS cannot be
interrupted from Python, but SIGVTALRM with its default action ends the process once the call used
its CPU-time budget — so a ``while(true){}`` costs one worker restart and nothing else.

The contexts are made with dukpy's bare ``create_context`` (not ``JSInterpreter``, whose shims
install ``require`` reading the file system and ``process.env``); the prelude then deletes the
only host bridge (``call_python``) and ``performance``, and makes the context deterministic:
``Date.now()``/``new Date()`` are the event's timestamp, ``Math.random`` is mulberry32 seeded with
FNV-1a of (stream, index). ``console.*``, ``dispatch(path, value, options)`` and
``request(url, options)`` only record: the parent gets logs and side effects back with the states.

Protocol (pipes, one call at a time per worker): a JSON header line ``{ctx, define, cpu, split,
len}`` then ``len`` bytes of payload: two JSON documents, the daemon's own (``split`` bytes: slots,
states, limits, event metadata) and the batch's event data (JSON bodies spliced in raw, so they are
parsed once, in QuickJS), each handed to the runner as its ``dukpy`` global in its own eval. The
answer is ``<length>\\n<JSON>``. A context is per stream (the reducers of one stream may read each other's
state); ``define`` lists ``[hash, source]`` pairs the worker has not compiled yet.
"""
from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from typing import Any, Sequence

__all__ = ["ReducerSandbox", "SandboxDied", "ReducerCompileError", "EncodedEvents", "encode_events",
           "safe_events", "NO_EVENTS"]

DEFAULT_CPU_SECONDS = 1.0           # per call, plus PER_EVENT_CPU per event and reducer
PER_EVENT_CPU = 0.0002              # 20-40x what a small reducer needs (bench "reducers")
DEFAULT_MEMORY_BYTES = 512 << 20    # RLIMIT_AS of a worker
DEFAULT_STATE_LIMIT = 100 * 1024    # §7: 100 KiB of JSON state
TSC_MEMORY_BYTES = 1 << 30         # the TypeScript compiler's worker
TSC_CPU_SECONDS = 60.0             # loading the compiler, then one transpile
_MAX_CONTEXTS = 64                  # per worker, least recently used dropped first

PRELUDE = r"""
(function (g) {
  'use strict';
  delete g.call_python; delete g.performance;
  var RealDate = Date, now = 0, seed = 0;
  function SandboxDate() {
    if (!new.target) return new RealDate(now).toString();
    if (arguments.length === 0) return new RealDate(now);
    var a = [null]; for (var i = 0; i < arguments.length; i++) a.push(arguments[i]);
    return new (Function.prototype.bind.apply(RealDate, a))();
  }
  SandboxDate.prototype = RealDate.prototype;
  SandboxDate.now = function () { return now; };
  SandboxDate.parse = RealDate.parse; SandboxDate.UTC = RealDate.UTC;
  Object.defineProperty(RealDate.prototype, 'constructor', {value: SandboxDate});
  g.Date = SandboxDate;
  var seedAt = null, seedStream = '';
  Math.random = function () {            /* mulberry32, seeded on first use per event */
    if (seedAt !== null) { seed = fnv(seedStream, seedAt); seedAt = null; }
    seed = (seed + 0x6D2B79F5) | 0;
    var t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  function fnv(s, n) {
    var h = 0x811c9dc5, t = s + '#' + n;
    for (var i = 0; i < t.length; i++) h = Math.imul(h ^ t.charCodeAt(i), 0x01000193);
    return h | 0;
  }
  var logs = [], effects = [], at = 0, who = '';
  function text(v) {
    if (typeof v === 'string') return v;
    try { var j = JSON.stringify(v); return j === undefined ? String(v) : j; } catch (e) { return String(v); }
  }
  function logger(level) {
    return function () {
      var parts = []; for (var i = 0; i < arguments.length; i++) parts.push(text(arguments[i]));
      if (logs.length < 1000) logs.push([at, who, level, parts.join(' ').slice(0, 4096)]);
    };
  }
  g.console = {log: logger('log'), info: logger('info'), warn: logger('warn'),
               error: logger('error'), debug: logger('debug')};
  g.dispatch = function (path, value, options) {
    var v = JSON.stringify(value === undefined ? null : value);
    effects.push([at, who, 'dispatch', String(path), v, options === undefined ? null : options]);
  };
  g.request = function (url, options) {
    effects.push([at, who, 'request', String(url), null, options === undefined ? null : options]);
  };
  var defs = {}, EMPTY = Object.freeze({});
  g.__define = function (h, src) {
    var v;
    try { v = (0, eval)('(' + src + '\n)'); }       /* an expression, object literals included */
    catch (e) { if (!(e instanceof SyntaxError)) throw e; v = (0, eval)(src); }
    if (typeof v === 'function') v = {reduce: v};
    if (!v || typeof v.reduce !== 'function')
      throw new TypeError('a reducer evaluates to a function or to {reduce, selector, replacer, reviver}');
    defs[h] = v;
    return null;
  };
  function selected(sel, ev) {
    if (!sel) return true;
    if (typeof sel === 'function') return !!sel(ev);
    if (sel.types && sel.types.indexOf(ev.eventType) < 0) return false;
    if (sel.from != null && ev.index < sel.from) return false;
    if (sel.since != null && ev.timestamp < sel.since) return false;
    return sel.until == null || ev.timestamp < sel.until;
  }
  /* A call is two documents: __load gets the daemon's own (slots, states, event metadata), then
     __run gets the event data alone, so a stored body that is not JSON can at worst garble its
     batch's data (caught by the count check), never the state limit or another reducer's state. */
  var P = null;
  g.__load = function (p) { P = p; return null; };
  function copy(v) { return v === null || typeof v !== 'object' ? v : JSON.parse(JSON.stringify(v)); }
  g.__run = function (data) {
    var p = P, M = p.events, slots = p.slots, n = slots.length, max = p.max, k, i;
    P = null;
    var count = M ? M.n : 0;
    if (data.length !== count) throw new Error('event data does not match the batch');
    var st = [], texts = [], errs = [], d = [], plain = [], fast = [], exporting = false;
    logs = []; effects = [];
    for (k = 0; k < n; k++) {
      d.push(defs[slots[k][1]]);
      texts.push(slots[k][2]);
      errs.push(null);
      fast.push(false);
      plain.push(!d[k].replacer && !d[k].reviver);
      if (slots[k][3]) exporting = true;
      st.push(slots[k][2] == null ? undefined : JSON.parse(slots[k][2], d[k].reviver));
    }
    var cur = null;                     /* states of stopped dependencies: parsed once a batch */
    if (p.cur) { cur = {}; for (var c in p.cur) cur[c] = p.cur[c] == null ? undefined : JSON.parse(p.cur[c]); }
    var types = count ? M.types : null, ty = count ? M.ty : null, kinds = count ? M.kind : null;
    var di = count ? M.di : null, dt = count ? M.dt : null, T = types ? types[0] : null;
    for (i = 0; i < count; i++) {
      var idx = di === null ? M.i0 + i : M.i0 + di[i], ts = M.t0 + dt[i];
      var kd = kinds === null ? 0 : kinds[i], v = data[i];
      if (ty !== null) T = types[ty[i]];
      if (kd === 3) { try { v = JSON.parse(v); } catch (x) {} }
      var ev = {index: idx, timestamp: ts, eventType: T[0], contentType: T[1], data: v};
      if (kd === 2) ev.encoding = 'base64';
      var current = EMPTY;
      if (cur !== null || exporting) {
        current = {};
        if (cur !== null) for (c in cur) current[c] = copy(cur[c]);
      }
      now = ts; at = idx;
      for (k = 0; k < n; k++) {
        var name = slots[k][0];
        if (errs[k] === null) {
          who = name; seedAt = idx; seedStream = p.stream;
          var mark = effects.length;
          try {
            if (selected(d[k].selector, ev)) {
              var r = d[k].reduce(st[k], ev, idx, current), tr = typeof r;
              /* §7 wants the state JSON round-tripped between events. For a primitive, with no
                 replacer/reviver, the round trip is known: finite numbers stay (-0 becomes 0),
                 booleans, null, undefined and strings stay (SerializeJSONProperty reads toJSON
                 only on objects, ECMA-262 25.5.2.2); the text is then made once, at the end. */
              if (plain[k] && (tr === 'number' ? r - r === 0 : tr === 'boolean' || r === null
                               || tr === 'undefined' || (tr === 'string' && r.length * 6 + 2 <= max))) {
                st[k] = tr === 'number' ? r + 0 : r;
                fast[k] = true;
              } else {
                var t = r === undefined ? undefined : JSON.stringify(r, d[k].replacer);
                if (t !== undefined && t.length > max)
                  throw new RangeError('reducer state over ' + max + ' bytes of JSON');
                texts[k] = t;
                fast[k] = false;
                st[k] = t === undefined ? undefined : JSON.parse(t, d[k].reviver);
              }
            }
          } catch (x) {
            effects.length = mark;
            errs[k] = [idx, (x && x.stack) ? String(x) + '\n' + x.stack : String(x)];
          }
        }
        if (slots[k][3])
          current['#' + name] = fast[k] ? st[k] : texts[k] === undefined ? undefined : JSON.parse(texts[k]);
      }
    }
    for (k = 0; k < n; k++) if (fast[k]) texts[k] = JSON.stringify(st[k]);
    return {states: texts.map(function (t) { return t === undefined ? null : t; }),
            errors: errs, logs: logs, effects: effects};
  };
  return null;
})(globalThis);
"""


class SandboxDied(Exception):
    """The worker ended during a call: ``reason`` is 'cpu' (its time budget), 'memory' or 'crash'."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class ReducerCompileError(Exception):
    """The source does not evaluate to a reducer (syntax error, wrong shape); answered with 400."""


class EncodedEvents:
    """A batch for ``ReducerSandbox.run``: ``meta`` (JSON object: ``n``; ``i0`` and ``di`` (index
    offsets, null when consecutive); ``t0`` and ``dt`` (timestamp offsets); ``types``
    ``[[eventType, contentType], ...]`` and ``ty`` (per-event type number, null when one type);
    ``kind`` (null when all 0)) and ``data`` (JSON array, one item per event). Kind 0 is a JSON
    body spliced in raw, 1 text, 2 base64 of bytes that are not UTF-8, 3 text to JSON-parse.

    Why columns: QuickJS's JSON.parse costs ~1 µs per string or small number, so a per-event
    ``[index, timestamp, type, contentType, data]`` array doubled the parse cost of a small event
    (bench "reducers"); small offsets and a type table parse in a fraction of that."""

    __slots__ = ("meta", "data", "count")

    def __init__(self, meta: bytes, data: bytes, count: int) -> None:
        self.meta, self.data, self.count = meta, data, count


NO_EVENTS = EncodedEvents(b"null", b"[]", 0)


def encode_events(events: Sequence[Any], safe: bool = False) -> EncodedEvents:
    """Encode store events for the sandbox. JSON bodies are spliced raw (parsed once, in QuickJS);
    ``safe`` sends them as text to parse there instead (the fallback when a splice did not parse).
    Forms and CSV are parsed here (§2).

    Catch-up encodes 5,000 events a call, so this works on columns with C-level builtins
    (``zip``, ``map``, ``bytes.join``) and no Python code per event in the usual case: one
    content type, JSON, no blank body. A store's ``Event`` is a tuple (store.py), so
    ``zip(*events)`` gives the columns directly."""
    n = len(events)
    if not n:
        return NO_EVENTS
    from .http_write import is_json_type
    idx, ts, etypes, ctypes, data = zip(*(events if isinstance(events[0], tuple)
                                          else map(_ROW, events)))
    i0, t0 = idx[0], ts[0]
    pairs = dict.fromkeys(zip(etypes, ctypes))      # type table, in order of first use
    json_types = [is_json_type(c) for _, c in pairs]
    ty: list[int] | None = None
    if len(pairs) > 1:
        number = {p: i for i, p in enumerate(pairs)}
        ty = list(map(number.__getitem__, zip(etypes, ctypes)))
    kinds: list[int] | None = None
    if not safe and all(json_types) and b"" not in data and not any(map(bytes.isspace, data)):
        parts: Sequence[bytes] = data
    else:
        parts, kinds = _mixed(data, ctypes, ty or [0] * n, json_types, safe)
    meta = {"n": n, "i0": i0, "t0": t0,
            "di": None if idx[-1] - i0 == n - 1 else list(map(i0.__rsub__, idx)),
            "dt": list(map(t0.__rsub__, ts)), "types": list(pairs), "ty": ty,
            "kind": kinds if kinds and any(kinds) else None}
    return EncodedEvents(json.dumps(meta, separators=(",", ":")).encode(),
                         b"[" + b",".join(parts) + b"]", n)


def _ROW(ev: Any) -> tuple:
    """An event object that is not a tuple, as one (for ``zip``)."""
    return (ev.index, ev.timestamp, ev.eventType, ev.contentType, ev.data)


def _mixed(data: Sequence[bytes], ctypes: Sequence[str], ty: Sequence[int],
           json_types: list[bool], safe: bool) -> tuple[list[bytes], list[int]]:
    """Per-event encoding when the batch is not all splice-able JSON: (parts, kinds)."""
    parts: list[bytes] = []
    kinds: list[int] = []
    for d, c, t in zip(data, ctypes, ty):
        if json_types[t] and d and not d.isspace() and not safe:
            parts.append(d)
            kinds.append(0)
        else:
            kind, text = _other(d, c, json_types[t])
            parts.append(text)
            kinds.append(kind)
    return parts, kinds


def safe_events(events: Sequence[Any]) -> EncodedEvents:
    """``encode_events`` with every JSON body sent as text, parsed in the sandbox (kind 3)."""
    return encode_events(events, safe=True)


def _other(data: bytes, content_type: str, json_type: bool) -> tuple[int, bytes]:
    """(kind, JSON text) of a body that is not spliced raw."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        import base64
        return 2, b'"%s"' % base64.b64encode(data)
    if json_type:
        return 3, json.dumps(text).encode()
    return 1, json.dumps(_parse_other(content_type, text)).encode()


def _parse_other(content_type: str, data: str) -> Any:
    """§2: form bodies become objects of fields, CSV an array of rows; anything else stays text."""
    mt = content_type.split(";", 1)[0].strip().lower()
    if mt == "application/x-www-form-urlencoded":
        from urllib.parse import parse_qsl
        return dict(parse_qsl(data, keep_blank_values=True))
    if mt == "text/csv":
        import csv
        import io
        return list(csv.reader(io.StringIO(data)))
    return data


CPUS_ENV = "PIPYD_SANDBOX_CPUS"


def parse_cpus(text: str | None) -> str | None:
    """``PIPYD_SANDBOX_CPUS`` in taskset's list form (``0``, ``0,2``, ``1-3``), normalised to
    ``"0,2"``; None when unset or blank. ValueError when it is not such a list.

    Why: the workers inherit the daemon's CPU affinity, so a daemon pinned to one core (the bench
    "reducers", or ``taskset`` in production) has its catch-up read and the worker's fold take
    turns on that core instead of overlapping; naming other cores here moves the workers."""
    if text is None or not text.strip():
        return None
    cpus: set[int] = set()
    for part in text.replace(" ", "").split(","):
        lo, dash, hi = part.partition("-")
        a, b = int(lo), int(hi) if dash else int(lo)
        if a < 0 or b < a:
            raise ValueError(f"{CPUS_ENV}: bad CPU range {part!r}")
        cpus.update(range(a, b + 1))
    return ",".join(map(str, sorted(cpus)))


def _env_cpus() -> str | None:
    """The option from the environment; a bad value is logged and ignored (workers unpinned)."""
    try:
        return parse_cpus(os.environ.get(CPUS_ENV))
    except ValueError as e:
        from .. import log
        log.warn(f"[streamlog] {e}; reducer workers keep the daemon's CPU affinity")
        return None


class _Worker:
    """One worker process and what it has compiled (context key → set of source hashes)."""

    def __init__(self, memory: int, cpus: str | None = None) -> None:
        self.memory = memory
        self.cpus = cpus                # parse_cpus form, applied by the child (_serve)
        self.proc: subprocess.Popen | None = None
        self.known: dict[str, set[str]] = {}
        self.lock = threading.Lock()
        self.buf = b""

    def _start(self) -> subprocess.Popen:
        self.proc = subprocess.Popen([sys.executable, "-I", os.path.abspath(__file__),
                                      str(self.memory)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     env=self._env())
        _widen(self.proc.stdin)
        self.known = {}
        self.buf = b""
        return self.proc

    def _env(self) -> dict[str, str]:
        """The child's whole environment: tenant code must not see the daemon's."""
        env = {"PATH": "/usr/bin:/bin"}
        if self.cpus is not None:
            env[CPUS_ENV] = self.cpus
        return env

    def stop(self) -> None:
        p, self.proc = self.proc, None
        if p is not None and p.poll() is None:
            p.kill()
            p.wait()

    def call(self, ctx: str, sources: dict[str, str], trusted: bytes, data: bytes,
             cpu: float) -> Any:
        """One round trip (blocking: run in a thread). Raises SandboxDied after a restart-worthy end."""
        with self.lock:
            p = self.proc if self.proc is not None and self.proc.poll() is None else self._start()
            known = self.known.setdefault(ctx, set())
            define = [[h, s] for h, s in sources.items() if h not in known]
            head = json.dumps({"ctx": ctx, "define": define, "cpu": cpu, "split": len(trusted),
                               "len": len(trusted) + len(data)})
            try:
                p.stdin.write(b"%s\n%s%s" % (head.encode(), trusted, data))
                p.stdin.flush()
                answer = self._read(p, deadline=time.monotonic() + cpu * 4 + 5.0)
            except (OSError, EOFError, TimeoutError) as e:
                self.stop()
                raise self._why(p, e) from None
            known.update(h for h, _ in define)
            doc = json.loads(answer)
            if "defineError" in doc:
                known.discard(doc["defineError"][0])
                raise ReducerCompileError(doc["defineError"][1])
            if "fatal" in doc and "memory" in doc["fatal"].lower():
                self.stop()                 # an exhausted heap is not reused
                raise SandboxDied("memory", doc["fatal"])
            return doc

    @staticmethod
    def _why(p: subprocess.Popen, e: Exception) -> SandboxDied:
        rc = p.poll()
        if rc == -signal.SIGVTALRM:
            return SandboxDied("cpu", "reducer exceeded its CPU time limit")
        if isinstance(e, TimeoutError):
            return SandboxDied("cpu", "reducer exceeded its time limit")
        if rc in (-signal.SIGSEGV, -signal.SIGABRT) or rc == 1:
            return SandboxDied("memory", f"reducer worker died (exit {rc}): memory limit?")
        return SandboxDied("crash", f"reducer worker died (exit {rc})")

    def _read(self, p: subprocess.Popen, deadline: float) -> bytes:
        fd = p.stdout.fileno()
        while b"\n" not in self.buf:
            self._fill(fd, deadline)
        line, _, self.buf = self.buf.partition(b"\n")
        n = int(line)
        while len(self.buf) < n:
            self._fill(fd, deadline)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _fill(self, fd: int, deadline: float) -> None:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise TimeoutError
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            raise EOFError
        self.buf += chunk


def _widen(pipe: Any) -> None:
    """Grow the pipe to 1 MiB (Linux F_SETPIPE_SZ, the unprivileged maximum by default) so a
    catch-up batch is written in one syscall: each time a blocked write resumes, the calling
    thread waits for the GIL up to the 5 ms switch interval while the event loop reads the next
    batch, which tripled the time of a 5,000-event call (bench "reducers")."""
    try:
        import fcntl
        fcntl.fcntl(pipe.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (OSError, ImportError):
        pass


class ReducerSandbox:
    """A small pool of worker processes; a stream's context always lives in the same worker."""

    def __init__(self, workers: int = 2, cpu_seconds: float = DEFAULT_CPU_SECONDS,
                 memory_bytes: int = DEFAULT_MEMORY_BYTES,
                 state_limit: int = DEFAULT_STATE_LIMIT, cpus: str | None = None) -> None:
        """``cpus``: the cores the workers run on (``parse_cpus`` form); default from
        ``$PIPYD_SANDBOX_CPUS``, else the daemon's own affinity, inherited."""
        self.cpu = cpu_seconds
        self.state_limit = state_limit
        cpus = parse_cpus(cpus) if cpus is not None else _env_cpus()
        self.workers = [_Worker(memory_bytes, cpus) for _ in range(max(1, workers))]
        self.tsc = _Worker(max(memory_bytes, TSC_MEMORY_BYTES), cpus)  # started on first use

    async def transpile(self, request: Any, setup: dict[str, str]) -> dict:
        """TypeScript in a worker of its own (the compiler is 9 MB of JS: ~2 s to load once):
        ``setup`` (hash → JavaScript, reducer_lib.py's ``CHECKER``) is evaluated after the
        compiler, once per worker process like reducer sources, and defines ``__tsc``; the
        answer is ``__tsc(request)`` (reducer_ts.py says what both hold)."""
        import asyncio
        return await asyncio.to_thread(self.tsc.call, "", setup, b"null",
                                       json.dumps({"tsc": request}).encode(), TSC_CPU_SECONDS)

    def _worker(self, ctx: str) -> _Worker:
        return self.workers[sum(ctx.encode()) % len(self.workers)]

    async def compile(self, ctx: str, hash_: str, source: str) -> None:
        """Compile ``source`` in the stream's context; ReducerCompileError when it is no reducer."""
        await self.run(ctx, {hash_: source}, [], NO_EVENTS, stream=ctx)

    async def run(self, ctx: str, sources: dict[str, str], slots: Sequence[list],
                  events: EncodedEvents, *, stream: str, current: dict | None = None) -> dict:
        """Fold ``events`` (from ``encode_events``) through ``slots`` ``[name, hash, stateJSON|None,
        exported]`` in order. Returns ``{states, errors, logs, effects}``: per slot the JSON of the
        new state (None = undefined) and ``[index, message]`` when it stopped; logs
        ``[index, reducer, level, text]``; effects ``[index, reducer, kind, target, valueJSON,
        options]``; or ``{fatal}`` when the batch's data did not parse (retry with
        ``safe_events``). Raises SandboxDied (the worker was restarted) or ReducerCompileError.

        The CPU budget is per call, scaled by the batch: ``cpu_seconds`` plus ``PER_EVENT_CPU``
        per event, so a big catch-up batch of a small reducer fits, while one event that loops
        forever is still found quickly (reducers.py halves a batch whose worker died)."""
        import asyncio
        head = json.dumps({"stream": stream, "max": self.state_limit, "slots": list(slots),
                           "cur": current}).encode()
        trusted = b"%s,\"events\":%s}" % (head[:-1], events.meta)
        cpu = self.cpu + PER_EVENT_CPU * events.count * max(1, len(slots))
        worker = self._worker(ctx)
        return await asyncio.to_thread(worker.call, ctx, sources, trusted, events.data, cpu)

    def close(self) -> None:
        for w in [*self.workers, self.tsc]:
            w.stop()


# ------------------------------------------------------------------------------ the worker side

def _serve(memory: int) -> None:
    """The worker's loop (runs in the child process only)."""
    import resource
    _pin(os.environ.get(CPUS_ENV))
    from collections import OrderedDict

    import dukpy._dukpy as D       # imported before the limit: its shared library maps memory

    class Holder:                  # what _dukpy needs: a context, and no exported functions
        def __init__(self) -> None:
            self._ctx = D.create_context()

        def _check_exported_function_exists(self, name: bytes) -> bool:
            return False

        def _call_python(self, name: bytes, args: bytes) -> bytes:
            raise PermissionError("no host functions in the reducer sandbox")

    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    contexts: "OrderedDict[str, Holder]" = OrderedDict()
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    while True:
        line = inp.readline()
        if not line:
            return
        head = json.loads(line)
        payload = inp.read(head["len"])
        answer = _answer(D, Holder, contexts, head, payload)
        out.write(b"%d\n" % len(answer) + answer)
        out.flush()


def _pin(cpus: str | None) -> None:
    """Apply ``PIPYD_SANDBOX_CPUS`` (already normalised by the parent) to this worker. Cores
    that do not exist or are outside the cgroup's set make sched_setaffinity fail: the worker
    then keeps the affinity it inherited rather than not starting."""
    if cpus and hasattr(os, "sched_setaffinity"):
        try:
            os.sched_setaffinity(0, {int(c) for c in cpus.split(",")})
        except (OSError, ValueError):
            pass


def _transpile(D: Any, Holder: Any, contexts: Any, define: list, request: Any) -> bytes:
    """The ``tsc`` call: the compiler loads into its own context, then the daemon's checker
    (``define``); tenant code is only ever the compiler's input there, never run."""
    ctx = contexts.get("\0tsc")
    if ctx is None:
        import dukpy
        path = os.path.join(os.path.dirname(dukpy.__file__), "jsmodules", "typescriptServices.js")
        ctx = Holder()
        with open(path, "rb") as f:
            D.eval_string(ctx, f.read(), b"{}", False, "typescriptServices.js")
        contexts["\0tsc"] = ctx
    for h, src in define:
        try:
            D.eval_string(ctx, src.encode(), b"{}", False, "<tsc setup>")
        except D.JSRuntimeError as e:
            return json.dumps({"defineError": [h, str(e)]}).encode()
    return D.eval_string(ctx, b"__tsc(dukpy.tsc)", json.dumps({"tsc": request}).encode(), False,
                         "<tsc>")


def _answer(D: Any, Holder: Any, contexts: Any, head: dict, payload: bytes) -> bytes:
    if head["ctx"] == "":
        signal.setitimer(signal.ITIMER_VIRTUAL, head["cpu"])
        try:
            return _transpile(D, Holder, contexts, head["define"],
                              json.loads(payload[head["split"]:])["tsc"])
        except (D.JSRuntimeError, MemoryError) as e:
            return json.dumps({"fatal": str(e) or type(e).__name__}).encode()
        finally:
            signal.setitimer(signal.ITIMER_VIRTUAL, 0)
    ctx = contexts.get(head["ctx"])
    if ctx is None:
        ctx = contexts[head["ctx"]] = Holder()
        D.eval_string(ctx, PRELUDE.encode(), b"{}", False, "<prelude>")
        if len(contexts) > _MAX_CONTEXTS:
            contexts.popitem(last=False)
    contexts.move_to_end(head["ctx"])
    signal.setitimer(signal.ITIMER_VIRTUAL, head["cpu"])
    try:
        for h, src in head["define"]:
            try:
                D.eval_string(ctx, b"__define(dukpy.h, dukpy.s)",
                              json.dumps({"h": h, "s": src}).encode(), False, "<reducer>")
            except D.JSRuntimeError as e:
                return json.dumps({"defineError": [h, str(e)]}).encode()
        try:
            split = head["split"]
            D.eval_string(ctx, b"__load(dukpy)", payload[:split], False, "<load>")
            return D.eval_string(ctx, b"__run(dukpy)", payload[split:], False, "<run>")
        except (D.JSRuntimeError, MemoryError) as e:
            return json.dumps({"fatal": str(e) or type(e).__name__}).encode()
    finally:
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
