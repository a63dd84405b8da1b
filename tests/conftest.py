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
