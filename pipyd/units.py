"""Pipy's duration and byte-size arguments (reference §1.3).

Durations: a number is seconds; a string is a number followed by a unit letter ``s``, ``m``,
``h`` or ``d`` (none = seconds). Pipy reads only the *first* letter after the number, so
``'100ms'`` is 100 **minutes**, not milliseconds. pipyd follows Pipy exactly here because
scripts written against Pipy and tested with it get the timeouts they observed; a script
that wants 100 ms writes ``0.1``.

Byte sizes: a number is bytes; a string is a number followed by ``k``, ``m``, ``g`` or ``t``
(either case), each step ×1024 (``'256k'`` = 262144). Anything after that letter is ignored
(``'16kb'`` = 16384), again as Pipy.

Option objects (``listen()``, ``connect()``): ``read_options`` reads one through a table of
(JS key, attribute, converter) rows, so each root states its options once as data
(``JSOptions.FIELDS``).
"""
from __future__ import annotations

import re
from typing import Any, Callable, ClassVar, Iterable, Self

from pipyd.js.values import type_error, undefined

_NUMBER = re.compile(r"\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*(.?)")

_TIME_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_SIZE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}


def parse_duration(value: Any, what: str = "duration") -> float:
    """Seconds from a number or a Pipy duration string; raises a JS TypeError otherwise."""
    t = type(value)
    if t is int or t is float:
        return float(value)
    if t is str:
        m = _NUMBER.match(value)
        if m:
            unit = m.group(2).lower()
            if unit in _TIME_UNITS:
                return float(m.group(1)) * _TIME_UNITS[unit]
    raise type_error(f"invalid {what}: {value!r}")


def parse_size(value: Any, what: str = "size") -> int:
    """Bytes from a number or a Pipy size string (``'16k'``, ``'1m'``)."""
    t = type(value)
    if t is int:
        return value
    if t is float:
        return int(value)
    if t is str:
        m = _NUMBER.match(value)
        if m:
            unit = m.group(2).lower()
            if unit in _SIZE_UNITS:
                return int(float(m.group(1)) * _SIZE_UNITS[unit])
    raise type_error(f"invalid {what}: {value!r}")


def is_size(value: Any) -> bool:
    """Whether ``value`` is a number or a size string (how filters spot an optional
    leading sizeLimit argument)."""
    t = type(value)
    if t is int or t is float:
        return True
    if t is str:
        m = _NUMBER.match(value)
        return bool(m) and m.group(2).lower() in _SIZE_UNITS
    return False


# -- option objects ----------------------------------------------------------------------------

def parse_protocol(value: Any, what: str = "protocol") -> str:
    """``'tcp'`` or ``'udp'``, lower case only (Pipy rejects ``'TCP'``)."""
    if value not in ("tcp", "udp"):
        raise type_error(f"unknown protocol: {value}")
    return value


def parse_int(value: Any, what: str = "number") -> int:
    """A count option (``maxConnections``, ``retryCount``): the number truncated."""
    return int(value)


def parse_flag(value: Any, what: str = "flag") -> bool:
    """A boolean option (``transparent``): JS truthiness."""
    return bool(value)


OptionRow = tuple[str, str, Callable[[Any, str], Any]]


def read_options(options: Any, target: Any, fields: Iterable[OptionRow], what: str) -> None:
    """Set ``target.<attr> = convert(options[key], key)`` for each (key, attr, convert) row
    whose key is present and neither null nor undefined; the rest keep their defaults.

    Unknown keys are ignored, as Pipy. ``options`` undefined or null means no options; any
    other non-object is a TypeError naming ``what`` (the function reading them)."""
    if options is undefined or options is None:
        return
    if not isinstance(options, dict):
        raise type_error(f"{what}: options expects an object")
    get = options.get
    for key, attr, convert in fields:
        v = get(key, undefined)
        if v is not undefined and v is not None:
            setattr(target, attr, convert(v, key))


class JSOptions:
    """Base of an options record (a slotted dataclass of defaults) read from a script's object
    through its ``FIELDS`` table; ``WHAT`` names the function in the TypeError."""

    __slots__ = ()
    FIELDS: ClassVar[tuple[OptionRow, ...]] = ()
    WHAT: ClassVar[str] = "options"

    @classmethod
    def from_js(cls, options: Any = undefined) -> Self:
        """From the script's options object; unknown keys are ignored, as Pipy."""
        o = cls()
        read_options(options, o, cls.FIELDS, cls.WHAT)
        return o
