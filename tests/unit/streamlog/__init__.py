"""Stream-log store, URL grammar and durability tests (specs/streamlog.md)."""

import asyncio
from typing import Any, Coroutine


def run_fresh(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run ``coro`` on a fresh loop; background tasks it started (followers, reducer loops)
    are cancelled and the loop closed after, so no test leaves work pending."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        pending = asyncio.all_tasks(loop)
        for t in pending:
            t.cancel()
        if pending:
            loop.run_until_complete(asyncio.wait(pending))
        loop.close()
