"""Province-wide loops run only while this instance leads (clustered), always when alone."""

from __future__ import annotations

import asyncio

import pytest

from hazmon.service.leading import while_leading


class Lead:
    def __init__(self) -> None:
        self.now = False

    def __call__(self) -> bool:
        return self.now


async def test_alone_the_loop_simply_runs() -> None:
    ran: list[int] = []

    async def loop() -> None:
        ran.append(1)

    await asyncio.wait_for(while_leading(None, loop), 1)
    assert ran == [1]


async def test_the_loop_runs_only_while_leading_and_starts_anew() -> None:
    lead, rounds, starts = Lead(), [0], [0]

    async def loop() -> None:
        starts[0] += 1
        while True:
            rounds[0] += 1
            await asyncio.sleep(0.005)

    task = asyncio.create_task(while_leading(lead, loop, poll_s=0.01))
    await asyncio.sleep(0.1)
    assert (starts[0], rounds[0]) == (0, 0)  # not leading: never started
    lead.now = True
    await asyncio.sleep(0.1)
    assert starts[0] == 1
    assert rounds[0] > 0
    lead.now = False
    await asyncio.sleep(0.05)
    stopped_at = rounds[0]
    await asyncio.sleep(0.1)
    assert rounds[0] == stopped_at  # cancelled when the lead was lost
    lead.now = True
    await asyncio.sleep(0.1)
    assert starts[0] == 2  # taken up again
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_a_failing_loop_raises_as_it_would_alone() -> None:
    lead = Lead()
    lead.now = True

    async def loop() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await asyncio.wait_for(while_leading(lead, loop, poll_s=0.01), 1)
