"""A loop that runs only while this instance leads (clustered: one instance of several).

The warning rounds, their pushes and the duty checks are province-wide: run on every
instance they would push twice and call the roll twice. Alone (no cluster), `leads` is
None and the loop simply runs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

POLL_S = 1.0


async def while_leading(leads: Callable[[], bool] | None,
                        loop: Callable[[], Coroutine[Any, Any, None]],
                        poll_s: float = POLL_S) -> None:
    """Run `loop()` while `leads()` holds; cancel it when it stops holding, start it anew
    when it holds again. A loop that fails raises here, as it would alone."""
    if leads is None:
        await loop()
        return
    while True:
        while not leads():  # noqa: ASYNC110 - the leases are polled, nothing signals them
            await asyncio.sleep(poll_s)
        task = asyncio.create_task(loop())
        try:
            while leads() and not task.done():  # noqa: ASYNC110 - polled, as above
                await asyncio.sleep(poll_s)
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if not task.cancelled():
            task.result()  # a failed loop raises here, as it would alone
            return  # the loop ended by itself
