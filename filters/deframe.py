"""``deframe({stateName: handler, …})``: a byte-level state machine (reference §2.2 row 23).

The first key is the initial state. In a state the handler is called with each input byte (a
number) and returns what comes next, either

  - a state name, or
  - an array ``[...events, nextState, readLength?, readBuffer?]``: the leading events are output,
    and with ``readLength`` the next that many bytes are not fed byte by byte: with a Data (or
    an array) as ``readBuffer`` they are appended to it and the next state's handler gets that
    buffer instead of a byte; with ``readBuffer`` null/absent they are passed through as Data
    and the next handler gets -1.

A handler may also be a constant (a name or such an array). A bad return value (an unknown
state, a non-positive length, a wrong buffer) logs an error and the filter stops decoding
until the stream ends; ``StreamEnd`` is passed on and restarts the machine at the initial
state. Other events (MessageStart/End) are dropped: the output is what the handlers make.
"""
from __future__ import annotations

from typing import Any

from pipyd import log
from pipyd.events import EVENT_TYPES, Data, Message, StreamEnd, expand
from pipyd.js.coerce import own_keys, to_number
from pipyd.js.values import JSArray, type_error, undefined
from pipyd.pipeline import FAILED, Filter
from pipyd.registry import register

_PASS, _INTO_DATA, _INTO_ARRAY = 0, 1, 2


def _nullish(v: Any) -> bool:
    return v is None or v is undefined


@register("deframe")
class Deframe(Filter):
    __slots__ = ("handlers", "index", "state", "read_len", "read_mode", "read_buf")
    CONFIG = ("handlers", "index")

    @classmethod
    def configure(cls, config: Any, states: Any = undefined, *rest: Any) -> "Deframe":
        if not isinstance(states, dict) or len(states) == 0:
            raise type_error("deframe: argument #1 expects an object of states")
        names = own_keys(states)
        f = cls.__new__(cls)
        f.handlers = [states[k] for k in names]
        f.index = {k: i for i, k in enumerate(names)}
        f.reset()
        return f

    def reset(self) -> None:
        self.state = 0
        self.read_len = 0
        self.read_mode = _PASS
        self.read_buf: Any = None

    def process(self, evt: Any) -> None:
        t = type(evt)
        if t is Data:
            if self.state >= 0 and evt.size:
                self._deframe(evt.to_bytes())
        elif t is StreamEnd:
            self.next.process(evt)
            self.reset()

    def _deframe(self, b: bytes) -> None:
        i, n = 0, len(b)
        state = self.state
        while i < n and state >= 0:
            want = self.read_len
            if want > 0:
                k = min(want, n - i)
                piece = b[i:i + k]
                i += k
                mode = self.read_mode
                if mode == _INTO_DATA:
                    self.read_buf.append_bytes(piece)
                elif mode == _INTO_ARRAY:
                    self.read_buf.extend(piece)
                else:
                    self.next.process(Data.from_bytes(piece))
                self.read_len = want - k
                if self.read_len == 0:
                    arg = self.read_buf if mode != _PASS else -1
                    self.read_buf = None
                    state = self._step(state, arg)
                    self.state = state
            else:
                state = self._step(state, b[i])
                self.state = state
                i += 1

    def _step(self, state: int, arg: Any) -> int:
        """Run state ``state``'s handler on ``arg``; the next state index, -1 on error."""
        v = self.handlers[state]
        if callable(v):
            v = self.callback(v, arg)
            if v is FAILED:
                return -1
        if type(v) is JSArray or type(v) is list:
            v = self._act(v)
        if type(v) is str:
            nxt = self.index.get(v)
            if nxt is None:
                log.error(f"[deframe] invalid state: {v}")
                return -1
            return nxt
        if v is not FAILED:
            log.error("[deframe] invalid state returned")
        return -1

    def _act(self, a: list) -> Any:
        """Output the leading events of ``a``; arrange the read it asks for; its state."""
        i = 0
        nxt = self.next
        while i < len(a):
            e = a[i]
            if type(e) in EVENT_TYPES:
                nxt.process(e)
            elif type(e) is Message:
                for x in expand(e):
                    nxt.process(x)
            else:
                break
            i += 1
        rest = list(a[i:i + 3]) + [undefined] * 3
        state, size, buf = rest[0], rest[1], rest[2]
        if _nullish(size):
            return state
        count = to_number(size)
        if not count >= 1:
            log.error(f"[deframe] invalid reading length {size}")
            return FAILED
        if type(buf) is Data:
            self.read_mode = _INTO_DATA
        elif type(buf) is JSArray or type(buf) is list:
            self.read_mode = _INTO_ARRAY
        elif _nullish(buf):
            self.read_mode = _PASS
        else:
            log.error("[deframe] invalid read buffer")
            return FAILED
        self.read_len = int(count)
        self.read_buf = buf
        return state
