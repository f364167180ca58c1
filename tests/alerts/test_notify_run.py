"""`Notifier.run`: the loop a service runs, woken after an alarm instead of polling."""

from __future__ import annotations

import asyncio
import contextlib

from hazmon.alerts import AlarmService, AlarmStore
from hazmon.alerts.notify import Notifier
from tests.alerts.notify_support import NDIR, Publisher, config
from tests.alerts.support import FakeClock, make_signal


class Signalling(Publisher):
    def __init__(self) -> None:
        super().__init__()
        self.got = asyncio.Event()

    async def __call__(self, topic: str, payload: bytes, *, qos: int = 1) -> bool:
        ok = await super().__call__(topic, payload, qos=qos)
        self.got.set()
        return ok


async def test_run_is_woken_by_an_alarm(nservice: AlarmService, store: AlarmStore,
                                        clock: FakeClock) -> None:
    publish = Signalling()
    cfg = config([{"name": "plant", "type": "mqtt"}], [{"to": ["plant"]}])
    async with Notifier(store, cfg, NDIR, publish, clock) as n:

        async def wake(_: dict[str, object]) -> None:
            n.wake()

        nservice.subscribe(wake)
        task = asyncio.create_task(n.run(poll_s=3600))  # only a wake can make it look
        try:
            await asyncio.sleep(0)
            await nservice.handle_signal(make_signal())
            await asyncio.wait_for(publish.got.wait(), 5)
            for _ in range(500):  # let the round record it before stopping the loop
                if n.totals["sent"]:
                    break
                await asyncio.sleep(0.01)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    assert len(publish.sent) == 1
    assert n.totals["sent"] == 1
