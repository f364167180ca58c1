"""A restart in the middle: what is pending survives, what was delivered is not sent
again, a digest being gathered is still sent once."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from hazmon.alerts import AlarmService, AlarmStore, UlidFactory
from hazmon.alerts.notify import Notifier, NotifyConfig
from tests.alerts.notify_support import NDIR, Receiver, config, webhook
from tests.alerts.support import HS, MINUTE, T0, FakeClock, make_signal


def make(store: AlarmStore, cfg: NotifyConfig, clock: FakeClock) -> Notifier:
    return Notifier(store, cfg, NDIR, None, clock, rng=random.Random(5))


async def test_pending_survives_and_sent_is_not_resent(
    open_store: Callable[[], Any], receiver: Receiver, clock: FakeClock
) -> None:
    cfg = config([webhook("sms", receiver, "/sms")], [{"to": ["sms"]}],
                 grouping={"threshold": 3, "window_s": 60})
    store: AlarmStore = await open_store()
    service = AlarmService(store, directory=NDIR, clock=clock, ids=UlidFactory())
    a = await service.handle_signal(make_signal(tag=f"{HS}.A"))
    async with make(store, cfg, clock) as n:
        assert (await n.run_once(T0))["sent"] == 1
    receiver.script["/sms"] = [503]
    b = await service.handle_signal(make_signal(tag=f"{HS}.B", ts=T0 + 1000))
    async with make(store, cfg, clock) as n:
        assert (await n.run_once(T0 + 1000))["failed"] == 1  # B waits for its retry
    for i in range(5):  # two more alone (3 a minute, A was one), three held
        await service.handle_signal(make_signal(tag=f"{HS}.C{i}", ts=T0 + 2000))
    async with make(store, cfg, clock) as n:
        counts = await n.run_once(T0 + 2000)
    assert (counts["sent"], counts["held"]) == (2, 3)
    await store.close()  # the process dies here

    store2: AlarmStore = await open_store()
    async with make(store2, cfg, clock) as n:
        counts = await n.run_once(T0 + 10 * MINUTE)
        assert await n.outbox.pending_count() == 0
    # B's retry finds a digest being gathered for the same recipient and joins it
    assert (counts["sent"], counts["digests"], counts["digested"]) == (0, 1, 4)
    reqs = receiver.on("/sms")
    assert len(reqs) == 1 + 1 + 2 + 1  # A, B's failed try, two alone, the digest
    ids = [r.json.get("id") for r in reqs]
    assert a is not None
    assert b is not None
    assert ids.count(a.id) == 1  # delivered before the restart: not again
    assert ids.count(b.id) == 1  # the failed try
    digest = reqs[-1].json["digest"]
    assert digest["count"] == 4
    assert b.id in {item["id"] for item in digest["items"]}
    async with make(store2, cfg, clock) as n:  # and nothing is left to send
        assert (await n.run_once(T0 + 60 * MINUTE))["seen"] == 0
    assert len(receiver.requests) == 5
