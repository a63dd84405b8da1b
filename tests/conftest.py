"""Process-wide state that in-process tests may change (a Worker wires the load balancers to the
running pipeline's __inbound; callbacks leave the active context set) is put back after every
test, so no test depends on which ran before it."""
import pytest


@pytest.fixture(autouse=True)
def _restore_engine_globals():
    from pipyd.api.algo_balancers import LoadBalancer
    from pipyd.js.scope import ACTIVE
    borrower = LoadBalancer.default_borrower
    yield
    LoadBalancer.default_borrower = borrower
    ACTIVE.current = None


def pytest_collection_finish(session: pytest.Session) -> None:
    """The filter modules must be imported as ``pipyd.filters.*``: a test importing the
    checkout's top-level ``filters`` package loads every filter a second time, its classes
    replace the registered ones, and type checks elsewhere (the admin dump, isinstance tests)
    silently see two classes of each name."""
    import sys
    twice = sorted(m for m in sys.modules if m == "filters" or m.startswith("filters."))
    if twice:
        raise pytest.UsageError(f"import pipyd.filters.*, not {', '.join(twice)}")
