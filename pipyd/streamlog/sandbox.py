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

Protocol (pipes, one call at a time per worker): a JSON header line ``{ctx, define, cpu, len}`` then
``len`` bytes of payload — a JSON document that dukpy hands to the runner as its ``dukpy`` global
(event data of JSON events is spliced in raw, so it is parsed once, in QuickJS). The answer is
``<length>\\n<JSON>``. A context is per stream (the reducers of one stream may read each other's
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
from typing import Any, Iterable, Sequence

__all__ = ["ReducerSandbox", "SandboxDied", "ReducerCompileError", "encode_events"]

DEFAULT_CPU_SECONDS = 1.0           # per call (a batch retried event by event when it runs out)
DEFAULT_MEMORY_BYTES = 512 << 20    # RLIMIT_AS of a worker
DEFAULT_STATE_LIMIT = 100 * 1024    # §7: 100 KiB of JSON state
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
  g.__run = function (P) {
    var slots = P.slots, evs = P.events, k, n = slots.length, max = P.max;
    var st = [], texts = [], errs = [], d = [], exporting = false;
    logs = []; effects = [];
    for (k = 0; k < n; k++) {
      d.push(defs[slots[k][1]]);
      texts.push(slots[k][2]);
      errs.push(null);
      if (slots[k][3]) exporting = true;
      st.push(slots[k][2] == null ? undefined : JSON.parse(slots[k][2], d[k].reviver));
    }
    for (var i = 0; i < evs.length; i++) {
      var e = evs[i], data = e[4];
      if (e[5] === 3) { try { data = JSON.parse(data); } catch (x) {} }
      var ev = {index: e[0], timestamp: e[1], eventType: e[2], contentType: e[3], data: data};
      if (e[5] === 2) ev.encoding = 'base64';
      var current = EMPTY;
      if (P.cur || exporting) {
        current = {};
        if (P.cur) for (var c in P.cur) current[c] = P.cur[c] == null ? undefined : JSON.parse(P.cur[c]);
      }
      now = e[1]; at = e[0];
      for (k = 0; k < n; k++) {
        var name = slots[k][0];
        if (errs[k] === null) {
          who = name; seedAt = e[0]; seedStream = P.stream;
          var mark = effects.length;
          try {
            if (selected(d[k].selector, ev)) {
              var r = d[k].reduce(st[k], ev, e[0], current);
              var t = r === undefined ? undefined : JSON.stringify(r, d[k].replacer);
              if (t !== undefined && t.length > max)
                throw new RangeError('reducer state over ' + max + ' bytes of JSON');
              texts[k] = t;
              st[k] = t === undefined ? undefined : JSON.parse(t, d[k].reviver);
            }
          } catch (x) {
            effects.length = mark;
            errs[k] = [e[0], (x && x.stack) ? String(x) + '\n' + x.stack : String(x)];
          }
        }
        if (slots[k][3]) current['#' + name] = texts[k] === undefined ? undefined : JSON.parse(texts[k]);
      }
    }
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


def encode_events(events: Iterable[Any]) -> bytes:
    """The payload's event list: ``[index, timestamp, type, contentType, data, kind]`` where kind 0
    is raw JSON spliced in, 1 text, 2 base64 of bytes that are not UTF-8, 3 text to JSON-parse
    (the fallback when a spliced document did not parse). Forms and CSV are parsed here (§2)."""
    from .http_read import event_object
    from .http_write import is_json_type
    dumps = json.dumps
    parts = []
    texts: dict[str, bytes] = {}        # a batch repeats a few types: encode each once
    for ev in events:
        et, ct = texts.get(ev.eventType), texts.get(ev.contentType)
        if et is None:
            et = texts[ev.eventType] = dumps(ev.eventType).encode()
        if ct is None:
            ct = texts[ev.contentType] = dumps(ev.contentType).encode()
            texts["\0" + ev.contentType] = b"1" if is_json_type(ev.contentType) else b""
        head = b"[%d,%d,%s,%s," % (ev.index, ev.timestamp, et, ct)
        if texts["\0" + ev.contentType] and ev.data.strip():
            parts.append(head + ev.data + b",0]")
            continue
        obj = event_object(ev)
        kind = 2 if obj.get("encoding") == "base64" else 1
        parts.append(head + dumps(_parse_other(ev.contentType, obj["data"])).encode()
                     + b",%d]" % kind)
    return b"[" + b",".join(parts) + b"]"


def _parse_other(content_type: str, data: Any) -> Any:
    """§2: form bodies become objects of fields, CSV an array of rows; anything else stays text."""
    mt = content_type.split(";", 1)[0].strip().lower()
    if type(data) is not str:
        return data
    if mt == "application/x-www-form-urlencoded":
        from urllib.parse import parse_qsl
        return dict(parse_qsl(data, keep_blank_values=True))
    if mt == "text/csv":
        import csv
        import io
        return list(csv.reader(io.StringIO(data)))
    return data


def safe_events(events: Iterable[Any]) -> bytes:
    """Like ``encode_events`` but JSON data travels as text parsed in the sandbox (kind 3)."""
    from .http_write import is_json_type
    out = []
    for ev in events:
        if is_json_type(ev.contentType):
            try:
                text = ev.data.decode("utf-8")
                out.append([ev.index, ev.timestamp, ev.eventType, ev.contentType, text, 3])
                continue
            except UnicodeDecodeError:
                pass
        out.append(json.loads(encode_events([ev])))
        out[-1] = out[-1][0]
    return json.dumps(out).encode()


class _Worker:
    """One worker process and what it has compiled (context key → set of source hashes)."""

    def __init__(self, memory: int) -> None:
        self.memory = memory
        self.proc: subprocess.Popen | None = None
        self.known: dict[str, set[str]] = {}
        self.lock = threading.Lock()
        self.buf = b""

    def _start(self) -> subprocess.Popen:
        self.proc = subprocess.Popen([sys.executable, "-I", os.path.abspath(__file__),
                                      str(self.memory)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     env={"PATH": "/usr/bin:/bin"})
        self.known = {}
        self.buf = b""
        return self.proc

    def stop(self) -> None:
        p, self.proc = self.proc, None
        if p is not None and p.poll() is None:
            p.kill()
            p.wait()

    def call(self, ctx: str, sources: dict[str, str], payload: bytes, cpu: float) -> Any:
        """One round trip (blocking: run in a thread). Raises SandboxDied after a restart-worthy end."""
        with self.lock:
            p = self.proc if self.proc is not None and self.proc.poll() is None else self._start()
            known = self.known.setdefault(ctx, set())
            define = [[h, s] for h, s in sources.items() if h not in known]
            head = json.dumps({"ctx": ctx, "define": define, "cpu": cpu, "len": len(payload)})
            try:
                p.stdin.write(head.encode() + b"\n" + payload)
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


class ReducerSandbox:
    """A small pool of worker processes; a stream's context always lives in the same worker."""

    def __init__(self, workers: int = 2, cpu_seconds: float = DEFAULT_CPU_SECONDS,
                 memory_bytes: int = DEFAULT_MEMORY_BYTES,
                 state_limit: int = DEFAULT_STATE_LIMIT) -> None:
        self.cpu = cpu_seconds
        self.state_limit = state_limit
        self.workers = [_Worker(memory_bytes) for _ in range(max(1, workers))]

    def _worker(self, ctx: str) -> _Worker:
        return self.workers[sum(ctx.encode()) % len(self.workers)]

    async def compile(self, ctx: str, hash_: str, source: str) -> None:
        """Compile ``source`` in the stream's context; ReducerCompileError when it is no reducer."""
        await self.run(ctx, {hash_: source}, [], b"[]", stream=ctx)

    async def run(self, ctx: str, sources: dict[str, str], slots: Sequence[list],
                  events: bytes, *, stream: str, current: dict | None = None) -> dict:
        """Fold ``events`` (from ``encode_events``) through ``slots`` ``[name, hash, stateJSON|None,
        exported]`` in order. Returns ``{states, errors, logs, effects}``: per slot the JSON of the
        new state (None = undefined) and ``[index, message]`` when it stopped; logs
        ``[index, reducer, level, text]``; effects ``[index, reducer, kind, target, valueJSON,
        options]``. Raises SandboxDied (the worker was restarted) or ReducerCompileError."""
        import asyncio
        head = json.dumps({"stream": stream, "max": self.state_limit, "slots": list(slots),
                           "cur": current}).encode()
        payload = head[:-1] + b',"events":' + events + b"}"
        worker = self._worker(ctx)
        return await asyncio.to_thread(worker.call, ctx, sources, payload, self.cpu)

    def close(self) -> None:
        for w in self.workers:
            w.stop()


# ------------------------------------------------------------------------------ the worker side

def _serve(memory: int) -> None:
    """The worker's loop (runs in the child process only)."""
    import resource
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


def _answer(D: Any, Holder: Any, contexts: Any, head: dict, payload: bytes) -> bytes:
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
            return D.eval_string(ctx, b"__run(dukpy)", payload, False, "<run>")
        except (D.JSRuntimeError, MemoryError) as e:
            return json.dumps({"fatal": str(e) or type(e).__name__}).encode()
    finally:
        signal.setitimer(signal.ITIMER_VIRTUAL, 0)


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
