import io
import re

import pytest

from pipyd import log
from pipyd.js.values import JSThrow
from pipyd.units import is_size, parse_duration, parse_size


@pytest.mark.parametrize("value, seconds", [
    (5, 5.0), (0.5, 0.5), ("5", 5.0), ("5s", 5.0), ("2m", 120.0), ("1h", 3600.0),
    ("1d", 86400.0), ("1.5s", 1.5), ("100ms", 6000.0),  # Pipy quirk: 100ms = 100 minutes
])
def test_durations(value, seconds):
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["", "x", "5x", None, [], "s"])
def test_bad_durations(value):
    with pytest.raises(JSThrow):
        parse_duration(value)


@pytest.mark.parametrize("value, size", [
    (100, 100), ("100", 100), ("256k", 262144), ("1K", 1024), ("1m", 1048576),
    ("2g", 2 * 1024**3), ("1t", 1024**4), ("16kb", 16384), ("1.5k", 1536),
])
def test_sizes(value, size):
    assert parse_size(value) == size and is_size(value)


def test_bad_sizes():
    assert not is_size("abc") and not is_size(None)
    with pytest.raises(JSThrow):
        parse_size("12q")


LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \[(DBG|WRN|ERR|INF)\] (.*)$")


def _levels(level, pipy_order=True):
    buf = io.StringIO()
    old = (log.LOGGER.stream, log.LOGGER.level, log.LOGGER.rank)
    log.configure(level=level, pipy_order=pipy_order, stream=buf)
    try:
        log.debug("d"), log.warn("w"), log.error("e"), log.info("i"), log.always("a")
    finally:
        log.LOGGER.stream, log.LOGGER.level, log.LOGGER.rank = old
        log.configure()
    lines = buf.getvalue().splitlines()
    assert all(LINE.match(x) for x in lines), lines
    return [LINE.match(x).group(2) for x in lines]


@pytest.mark.parametrize("level, shown", [
    ("error", ["e", "i", "a"]),      # default: errors and INFO
    ("info", ["i", "a"]),            # Pipy quirk: info hides [ERR]
    ("warn", ["w", "e", "i", "a"]),
    ("debug", ["d", "w", "e", "i", "a"]),
])
def test_pipy_threshold_quirk(level, shown):
    assert _levels(level) == shown


def test_conventional_order_is_configurable():
    assert _levels("info", pipy_order=False) == ["w", "e", "i", "a"]


def test_tags():
    buf = io.StringIO()
    logger = log.Logger(buf, "debug")
    logger.log(log.WARN, "x")
    logger.log(log.INFO, "y")
    assert " [WRN] x" in buf.getvalue() and " [INF] y" in buf.getvalue()
