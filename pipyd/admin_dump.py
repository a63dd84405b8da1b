"""The admin port's ``GET /dump/<section>[+<section>…]``: what a live worker holds, as text.

Pipy 0.70's admin service answers ``/dump/pools|objects|chunks|pipelines|inbound|outbound|http2``
(reference §6) with its allocator pools, object counts by class, Data chunk blocks, pipeline
layouts' allocated/active instances and its connections. pipyd's counterparts:

- ``pipelines``: per layout (module file, pipeline name or port) the live instances, split into
  *active* (not ended) and *ended but still referenced*; the second should stay near 0 — a
  number that grows is a leak (something keeps a finished pipeline);
- ``inbound``: every listener and each of its open connections (peer, age, idle times, bytes
  waiting in the socket's write buffer); ``outbound``: every upstream connection (target,
  local/peer address, state, age, bytes written, and the mux session it carries if any);
- ``http2``: server-side HTTP/2 connections and their open streams; client sessions come from
  ``pipyd.filters.http2_client.dump_sessions()`` when that module is loaded and has it;
- ``pools``: pipyd pools no memory; its pools are the mux session maps (mux, merge, muxQueue,
  muxHTTP): per filter, per key, each session's borrowers, messages and idle time;
- ``objects``: live JS values and host objects by class, filter instances by filter name;
- ``chunks``: live ``Data`` objects (count, chunks, bytes, the largest ones) and the bytes
  waiting in connection write buffers: pipyd's buffered payload, since it has no chunk pool.

Counts by class come from one walk of the collector's object list per request (no counter on
any per-request path). That list omits what ``worker.settle_heap`` froze after the last
(re)load — mostly the codebase itself; the ``objects`` section says how many. Byte counts per
inbound connection are not kept (that would cost the proxy's hot path), so none are shown.
"""
from __future__ import annotations

import gc
import sys
import time
from collections import Counter
from typing import Any, Iterable

from pipyd.events import Data
from pipyd.js.values import HostObject, JSArray, JSObject
from pipyd.outbound import Outbound
from pipyd.pipeline import Filter, Pipeline, PipelineLayout

SECTIONS = ("pools", "objects", "chunks", "pipelines", "inbound", "outbound", "http2")


def parse_sections(text: str) -> tuple[list[str], list[str]]:
    """``inbound+outbound`` -> (known names in order, without repeats; unknown names)."""
    names: list[str] = []
    unknown: list[str] = []
    for name in text.split("+"):
        if name in SECTIONS:
            if name not in names:
                names.append(name)
        else:
            unknown.append(name)
    return names, unknown


class Census:
    """One pass over the collector's objects: counts by type, and the instances of the few
    classes the sections look into."""

    def __init__(self) -> None:
        h2 = sys.modules.get("pipyd.filters.http2_server")
        self.h2_conn_type = getattr(h2, "Http2Connection", None)
        objs = gc.get_objects()
        self.by_type: Counter = Counter(map(type, objs))
        wanted = {Pipeline, Data}
        wanted.update(t for t in self.by_type if t is not Data and _is_outbound(t))
        if self.h2_conn_type is not None:
            wanted.add(self.h2_conn_type)
        self.found: dict[type, list[Any]] = {t: [] for t in wanted}
        found = self.found
        for o in objs:
            bucket = found.get(type(o))
            if bucket is not None:
                bucket.append(o)
        del objs

    def of(self, *types: Any) -> list[Any]:
        out: list[Any] = []
        for t in types:
            out.extend(self.found.get(t, ()))
        return out

    def outbounds(self) -> list[Any]:
        return [o for t, xs in self.found.items() if _is_outbound(t) for o in xs]


def _is_outbound(t: type) -> bool:
    try:
        return issubclass(t, Outbound)
    except TypeError:
        return False


def render_dump(worker: Any, names: Iterable[str]) -> str:
    """The sections ``names`` for ``worker`` (None: nothing loaded), each under ``[name]``."""
    census = Census()
    now = time.monotonic()
    out: list[str] = []
    for name in names:
        out.append(f"[{name}]")
        out.extend(_RENDER[name](worker, census, now))
        out.append("")
    return "\n".join(out)


# -- layouts ------------------------------------------------------------------------------------

def layout_titles(worker: Any) -> dict[int, str]:
    """id(layout) -> ``/main.js [Listen on 8080 at 0.0.0.0]``; inline sub-pipelines are named
    after their parent and filter (``… > demuxHTTP#1``)."""
    titles: dict[int, str] = {}

    def visit(layout: PipelineLayout, title: str) -> None:
        titles[id(layout)] = title
        for i, f in enumerate(layout.filters):
            for sub in getattr(f, "sub_layouts", None) or ():
                if isinstance(sub, PipelineLayout) and id(sub) not in titles:
                    visit(sub, f"{title} > {f.dump().split('(')[0].strip()}#{i}")

    for module in getattr(worker, "modules", ()) or ():
        # roots and named pipelines first: inline ones (also in module.layouts) are then
        # titled after the filter that holds them
        for layout in module.layouts:
            if layout.label or layout.name:
                visit(layout, f"{module.path} [{layout.label or layout.name}]")
        for n, layout in enumerate(module.layouts):
            if id(layout) not in titles:
                visit(layout, f"{module.path} [(anonymous #{n})]")
    return titles


def _title(layout: Any, titles: dict[int, str]) -> str:
    t = titles.get(id(layout))
    if t is not None:
        return t
    module = getattr(layout, "module", None)
    path = getattr(module, "path", "?")
    name = getattr(layout, "label", "") or getattr(layout, "name", "") or "(inline)"
    return f"{path} [{name}] (previous codebase or unnamed)"


def _pipelines(worker: Any, census: Census, now: float) -> list[str]:
    titles = layout_titles(worker)
    active: Counter = Counter()
    ended: Counter = Counter()
    for p in census.of(Pipeline):
        (ended if p.ended else active)[_title(p.layout, titles)] += 1
    rows = sorted(set(active) | set(ended) | set(titles.values()))
    lines = [f"{'active':>8} {'ended':>8}  layout"]
    for title in rows:
        lines.append(f"{active[title]:>8} {ended[title]:>8}  {title}")
    lines.append(f"{sum(active.values()):>8} {sum(ended.values()):>8}  total "
                 "(ended: finished but still referenced; growth means a leak)")
    return lines


# -- connections --------------------------------------------------------------------------------

def _addr(host: Any, port: Any) -> str:
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"


def _sockaddrs(transport: Any) -> tuple[str, str]:
    if transport is None:
        return "-", "-"
    local = transport.get_extra_info("sockname") or ("-", "-")
    peer = transport.get_extra_info("peername") or ("-", "-")
    return _addr(local[0], local[1]), _addr(peer[0], peer[1])


def _buffered(transport: Any) -> int:
    try:
        return transport.get_write_buffer_size() if transport is not None else 0
    except Exception:  # a closing transport may refuse
        return 0


def _listeners(worker: Any) -> list[tuple[Any, str]]:
    roots = getattr(worker, "roots", None)
    if roots is None:
        return []
    out = [(x, "") for x in roots.listeners.values()]
    out += [(x, " (retired: finishing after a reload)") for x in roots.retired
            if hasattr(x, "describe") and hasattr(x, "pipelines")]
    return out


def _inbound(worker: Any, census: Census, now: float) -> list[str]:
    lines: list[str] = []
    listeners = _listeners(worker)
    if not listeners:
        return ["(no listeners)"]
    for listener, note in listeners:
        limit = listener.options.max_connections
        lines.append(f"{listener.protocol_name} {_addr(listener.ip, listener.port)}: "
                     f"{listener.pipelines} open"
                     + (f" (maxConnections {limit})" if limit > 0 else "") + note)
        loop_now = listener.loop.time() if listener.loop is not None else 0.0
        for conn in sorted(getattr(listener, "connections", ()), key=_opened):
            lines.append("  " + _tcp_inbound(conn, loop_now))
        for addr, s in list(getattr(listener, "sessions", {}).items()):
            idle = loop_now - s.last_io if getattr(s, "last_io", None) else 0.0
            lines.append(f"  peer {_addr(addr[0], addr[1])}  idle {idle:.1f}s")
    return lines


def _opened(conn: Any) -> float:
    return getattr(conn, "opened", 0.0)


def _tcp_inbound(conn: Any, now: float) -> str:
    t = getattr(conn, "transport", None)
    local, peer = _sockaddrs(t)
    opened = getattr(conn, "opened", None)
    age = f"{now - opened:.1f}s" if opened is not None else "?"
    state = ("closing" if conn.output_ended else "half-closed" if conn.input_ended
             else "open")
    return (f"peer {peer} -> {local}  {state}  age {age}  "
            f"read idle {now - conn.last_read:.1f}s  write idle {now - conn.last_write:.1f}s  "
            f"write buffer {_buffered(t)}B")


def _sessions_by_pipeline(worker: Any) -> dict[int, Any]:
    return {id(s.pipeline): s for _, _, s in _mux_sessions(worker) if s.pipeline is not None}


def _outbound(worker: Any, census: Census, now: float) -> list[str]:
    obs = census.outbounds()
    if not obs:
        return ["(no outbound connections)"]
    muxed = _sessions_by_pipeline(worker)
    lines = []
    for ob in sorted(obs, key=lambda o: getattr(o, "opened", 0.0)):
        loop_now = ob.loop.time()
        local, peer = _sockaddrs(ob.transport)
        state = ("closed" if ob.done else "connected" if ob.transport is not None
                 else "connecting")
        age = loop_now - getattr(ob, "opened", loop_now)
        text = (f"{ob.KIND} {_addr(ob.host, ob.port)}  {state}  local {local} peer {peer}  "
                f"age {age:.1f}s")
        if hasattr(ob, "written"):
            text += (f"  written {ob.written}B  write buffer {_buffered(ob.transport)}B"
                     f"  read idle {loop_now - ob.last_read:.1f}s" if ob.transport else "")
        if ob.retries:
            text += f"  retries {ob.retries}"
        s = muxed.get(id(ob.source))
        if s is not None:
            text += f"  mux session: {s.messages} messages, {s.shares} borrowers"
        lines.append(text)
    return lines


# -- pools (mux sessions) -----------------------------------------------------------------------

def _mux_filters(worker: Any) -> list[tuple[str, Any]]:
    """(title, prototype) of every filter owning a session map, in layout order."""
    out = []
    titles = layout_titles(worker)
    seen: set[int] = set()
    for module in getattr(worker, "modules", ()) or ():
        stack = list(module.layouts)
        while stack:
            layout = stack.pop(0)
            for i, f in enumerate(layout.filters):
                if getattr(f, "smap", None) is not None and id(f.smap) not in seen:
                    seen.add(id(f.smap))
                    out.append((f"{titles.get(id(layout), '?')} {f.NAME}#{i}", f))
                for sub in getattr(f, "sub_layouts", None) or ():
                    if isinstance(sub, PipelineLayout) and not sub.name:
                        stack.append(sub)
    return out


def _mux_sessions(worker: Any) -> Iterable[tuple[str, Any, Any]]:
    for title, f in _mux_filters(worker):
        for cluster in list(f.smap.clusters.values()):
            for s in list(cluster.sessions):
                yield title, cluster, s


def _key_text(key: Any) -> str:
    if type(key) is tuple and len(key) == 2 and key[0] == "\0obj":
        return f"object {key[1]:#x}"
    if type(key) is tuple and len(key) == 2 and key[0] == "\0bool":
        return repr(key[1]).lower()
    text = repr(key)
    return text if len(text) <= 60 else text[:57] + "..."


def _pools(worker: Any, census: Census, now: float) -> list[str]:
    filters = _mux_filters(worker)
    if not filters:
        return ["(no mux session pools: no mux, merge, muxQueue or muxHTTP filter)"]
    lines = []
    for title, f in filters:
        smap = f.smap
        o = smap.options
        sessions = [s for c in smap.clusters.values() for s in c.sessions]
        busy = sum(1 for s in sessions if s.shares > 0)
        lines.append(f"{title}: {len(smap.clusters)} keys, {len(sessions)} sessions "
                     f"({busy} borrowed, {len(sessions) - busy} idle)  maxIdle {o.max_idle:g}s"
                     + (f" maxQueue {o.max_queue}" if o.max_queue else "")
                     + (f" maxMessages {o.max_messages}" if o.max_messages else ""))
        clock = smap.now()
        for c in list(smap.clusters.values()):
            for s in c.sessions:
                text = (f"  key {_key_text(c.key)}: {s.shares} borrowers, {s.messages} messages")
                queue = getattr(s, "queue", None)
                if queue is not None:
                    text += f", {len(queue)} requests in flight"
                if s.shares == 0:
                    text += f", idle {clock - s.free_since:.1f}s"
                if s.dead:
                    text += ", ended"
                lines.append(text)
    return lines


# -- objects and chunks -------------------------------------------------------------------------

def _class_label(t: type) -> str | None:
    if issubclass(t, Filter):
        name = getattr(t, "NAME", "")
        return f"filter {name}" if name else None
    if issubclass(t, JSArray):
        return "Array"
    if issubclass(t, JSObject):
        return "Object"
    if issubclass(t, HostObject):
        return getattr(t, "js_class_name", "") or t.__name__
    if t is Pipeline:
        return "(pipeline)"
    return None


def _objects(worker: Any, census: Census, now: float) -> list[str]:
    counts: Counter = Counter()
    for t, n in census.by_type.items():
        label = _class_label(t)
        if label is not None:
            counts[label] += n
    ranked = sorted(counts.items(), key=lambda x: (-x[1], x[0]))
    lines = [f"{n:>10}  {label}" for label, n in ranked]
    lines.append(f"{sum(counts.values()):>10}  total")
    frozen = gc.get_freeze_count()
    if frozen:
        lines.append(f"(not counted: {frozen} objects frozen after the last codebase load)")
    return lines


def _chunks(worker: Any, census: Census, now: float) -> list[str]:
    data = census.of(Data)
    size = sum(d.size for d in data)
    nchunks = sum(len(d.chunks) for d in data)
    lines = [f"Data objects alive: {len(data)}, {nchunks} chunks, {size} bytes"]
    for d in sorted(data, key=lambda d: -d.size)[:5]:
        if d.size:
            lines.append(f"  {d.size} bytes in {len(d.chunks)} chunks")
    inbound = sum(_buffered(getattr(c, "transport", None)) for listener, _ in _listeners(worker)
                  for c in list(getattr(listener, "connections", ())))
    outbound = sum(_buffered(ob.transport) for ob in census.outbounds())
    pending = sum(getattr(ob, "pending_size", 0) for ob in census.outbounds())
    lines.append(f"socket write buffers: inbound {inbound} bytes, outbound {outbound} bytes; "
                 f"waiting for an upstream to connect: {pending} bytes")
    return lines


# -- HTTP/2 -------------------------------------------------------------------------------------

def _http2(worker: Any, census: Census, now: float) -> list[str]:
    lines = []
    conns = census.of(census.h2_conn_type) if census.h2_conn_type is not None else []
    open_conns = [c for c in conns if not c.closed]
    nstreams = sum(len(c.streams) for c in open_conns)
    lines.append(f"server: {len(open_conns)} connections, {nstreams} open streams")
    for c in open_conns:
        lines.append("  " + _h2_peer(c) + f"  {len(c.streams)} streams"
                     + ("  (going away)" if c.stopping else ""))
        for sid, s in list(c.streams.items()):
            head = s.head if isinstance(s.head, dict) else {}
            state = ("responding" if s.headers_sent else "request received" if s.rx_done
                     else "receiving request")
            lines.append(f"    stream {sid}: {head.get('method', '?')} {head.get('path', '?')}"
                         f"  {state}  {s.out_size}B waiting for window")
    client = sys.modules.get("pipyd.filters.http2_client")
    dump = getattr(client, "dump_sessions", None)
    if callable(dump):
        lines.append("client:")
        lines.extend("  " + line for line in dump())
    else:
        lines.append("client: (no HTTP/2 client sessions in this build)")
    return lines


def _h2_peer(c: Any) -> str:
    try:
        inbound = c.server.pipeline.context.inbound
        return f"peer {_addr(inbound.remoteAddress, inbound.remotePort)}"
    except Exception:  # a connection whose pipeline already ended
        return "peer ?"


_RENDER = {"pools": _pools, "objects": _objects, "chunks": _chunks, "pipelines": _pipelines,
           "inbound": _inbound, "outbound": _outbound, "http2": _http2}
