import pytest

from .daemon import Daemon, free_port


@pytest.fixture
def daemon(tmp_path):
    """``daemon(source, ports=[...], args=[...])`` starts pipyd on ``source`` as main.js."""
    started: list[Daemon] = []

    def start(source: str, ports=(), args=None, files=None, wait_for=None, entry="main.js") -> Daemon:
        for name, text in (files or {}).items():
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / name).write_text(text)
        (tmp_path / entry).write_text(source)
        d = Daemon(tmp_path, entry, args)
        started.append(d)
        return d.start(list(ports), wait_for=wait_for)

    yield start
    for d in started:
        d.stop()


@pytest.fixture
def port():
    return free_port()
