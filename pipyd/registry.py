"""The filter registry: filter families register their classes under their Pipy names.

The core never imports a filter family (DESIGN.md: arrows point from filters to the core);
``pipyd.filters`` imports every family once and each ``@register`` adds itself here. The module
``Configuration`` looks names up to build prototypes with ``cls.configure(config, *args)``.
"""
from __future__ import annotations

from typing import Callable, TypeVar

T = TypeVar("T", bound=type)

_FILTERS: dict[str, type] = {}


def register(name: str) -> Callable[[T], T]:
    """Class decorator: ``@register('handleMessageStart')``. Sets ``cls.NAME``. Registering a
    name again replaces the earlier class (a module imported twice under two names)."""
    def deco(cls: T) -> T:
        cls.NAME = name
        _FILTERS[name] = cls
        return cls
    return deco


def lookup(name: str) -> type | None:
    return _FILTERS.get(name)


def names() -> list[str]:
    """Registered filter names, sorted."""
    return sorted(_FILTERS)
