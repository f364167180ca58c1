"""Two instances' notifiers and escalation ticks on one PostgreSQL database: each
webhook goes out exactly once (a local receiver counts), each escalation step is taken
once, whichever instance takes it (alerts/claims.py)."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest

from hazmon.alerts import AlarmService, AlarmStore, EscalationPolicy, UlidFactory
from hazmon.alerts.claims import Claimant
from hazmon.alerts.notify import DELIVERY_HEADER, Notifier
from hazmon.domain.signal import Priority
from hazmon.testing.postgres import PostgresServer
from tests.alerts.notify_support import NDIR, Receiver, config, webhook
from tests.alerts.support import ENT, MINUTE, T0, FakeClock, make_signal
from tests.helpers import wait_for

N = 30
POLICY = EscalationPolicy(step_minutes=dict.fromkeys(Priority, 1))


@pytest.fixture
def receiver() -> Any:
    r = Receiver().start()
    try:
        yield r
    finally:
        r.stop()


class Instance:
    """What one service process runs of the alarm part: its own pool on the shared
    database, its alarm service (escalation tick) and notifier, its own claimant."""

    def __init__(self, store: AlarmStore, receiver: Receiver, clock: FakeClock,
                 grouping: bool) -> None:
        self.store = store
        claimant = Claimant()
        self.alarms = AlarmService(store, directory=NDIR, escalation_policy=POLICY,
                                   clock=clock, ids=UlidFactory(), claimant=claimant)
        cfg = config([webhook("hook", receiver, "/hook")], [{"to": ["hook"]}], batch=4,
                     grouping={"enabled": grouping, "threshold": 3, "window_s": 60,
                                               "top": 50})
        self.notifier = Notifier(store, cfg, NDIR, None, clock, rng=random.Random(1),
                                 claimant=claimant)


@pytest.fixture
async def pair(pg: PostgresServer, receiver: Receiver, request: pytest.FixtureRequest
               ) -> AsyncIterator[tuple[Instance, Instance]]:
    url = pg.create_database()
    clock = FakeClock()
    grouping: bool = getattr(request, "param", False)
    stores = [await AlarmStore.open(url), await AlarmStore.open(url)]
    a, b = (Instance(s, receiver, clock, grouping) for s in stores)
    yield a, b
    for i in (a, b):
        await i.notifier.aclose()
        await i.store.close()


async def _drain(a: Instance, b: Instance, now: int) -> None:
    """Both notifiers at once, round after round, until neither finds work."""
    while True:
        ca, cb = await asyncio.gather(a.notifier.run_once(now), b.notifier.run_once(now))
        if ca["seen"] == 0 and cb["seen"] == 0:
            return


async def _raise_all(a: Instance, b: Instance) -> list[str]:
    ids = []
    for i in range(N):
        owner = a if i % 2 else b  # each instance raises its own partitions' alarms
        alarm = await owner.alarms.handle_signal(make_signal(tag=f"MHS-01.T{i:03}.LT01"))
        assert alarm is not None
        ids.append(alarm.id)
    return ids


def _key(body: dict[str, Any]) -> tuple[str, str, int | None, str]:
    step = (body.get("escalation") or {}).get("step")
    return (body["id"], body["event"], step, repr(body["notification"]["recipient"]))


async def test_every_webhook_exactly_once_and_every_step_once(
    pair: tuple[Instance, Instance], receiver: Receiver,
) -> None:
    a, b = pair
    ids = await _raise_all(a, b)
    await _drain(a, b, T0)
    ticks = await asyncio.gather(a.alarms.tick(T0 + MINUTE), b.alarms.tick(T0 + MINUTE))
    assert sum(t.escalated for t in ticks) == N  # one step per alarm, not two
    await _drain(a, b, T0 + MINUTE)

    bodies = [r.json for r in receiver.on("/hook")]
    counts = Counter(_key(body) for body in bodies)
    assert [k for k, n in counts.items() if n > 1] == []  # nothing twice
    raised = {k[0] for k in counts if k[1] == "raised"}
    escalated = {k[0] for k in counts if k[2] == 1}
    assert raised == set(ids)
    assert escalated == set(ids)
    deliveries = [r.headers[DELIVERY_HEADER] for r in receiver.on("/hook")]
    assert len(deliveries) == len(set(deliveries))
    sent = a.notifier.totals["sent"] + b.notifier.totals["sent"]
    assert sent == len(bodies)  # the records agree with what the receiver saw


@pytest.mark.parametrize("pair", [True], indirect=True)
async def test_a_flood_digest_carries_each_alarm_once(
    pair: tuple[Instance, Instance], receiver: Receiver,
) -> None:
    """Grouped per recipient: a few alone, the rest held and flushed as digests; both
    instances gather digests, and no alarm is in two messages."""
    a, b = pair
    ids = await _raise_all(a, b)
    await _drain(a, b, T0)
    await _drain(a, b, T0 + MINUTE + 1)  # the held deliveries' digest is due
    seen: Counter[str] = Counter()
    digests = 0
    for r in receiver.on("/hook"):
        body = r.json
        if body["event"] == "digest":
            digests += 1
            d = body["digest"]
            assert d["count"] == len(d["items"])  # top 50: every item listed
            seen.update(item["id"] for item in d["items"])
        else:
            seen[body["id"]] += 1
    assert digests >= 1
    assert sorted(seen) == sorted(ids)
    assert [i for i, n in seen.items() if n > 1] == []
    assert ENT in NDIR.regions


class StallingChannel:
    """The webhook as an injected channel: counts what it sends; the first send waits
    until released (a round slower than its claim)."""

    type = "webhook"
    test = False

    def __init__(self, name: str) -> None:
        self.name = name
        self.sent: list[str] = []
        self.release = asyncio.Event()
        self.stalling = False

    async def send(self, message: Any) -> None:
        if self.stalling:
            self.stalling = False
            await self.release.wait()
        self.sent.append(message.id)


async def test_a_round_that_outlives_its_claim_stops_sending(
    pg: PostgresServer, receiver: Receiver,
) -> None:
    """Instance A claims every notification and stalls on its first send past the
    claim; B takes them over and sends them all. A, released, finishes the send it was
    in and sends nothing more: the claim is renewed before each send."""
    url = pg.create_database()
    clock = FakeClock()
    stores = [await AlarmStore.open(url), await AlarmStore.open(url)]
    cfg = config([webhook("hook", receiver, "/hook")], [{"to": ["hook"]}],
                 grouping={"enabled": False})
    chans = [StallingChannel("hook"), StallingChannel("hook")]
    notifiers = [Notifier(s, cfg, NDIR, None, clock, rng=random.Random(1),
                          claimant=Claimant(ttl_ms=5_000), channels={"hook": c})
                 for s, c in zip(stores, chans, strict=True)]
    try:
        alarms = AlarmService(stores[0], directory=NDIR, clock=clock, ids=UlidFactory())
        for i in range(5):
            await alarms.handle_signal(make_signal(tag=f"MHS-01.T{i:03}.LT01"))
        chans[0].stalling = True
        a_round = asyncio.create_task(notifiers[0].run_once())
        await wait_for(lambda: not chans[0].stalling, what="A stalled on its first send")
        clock.advance(ms=10_000)  # past A's claims (5 s)
        counts = await notifiers[1].run_once()
        assert counts["sent"] == 5  # B took every one over
        chans[0].release.set()
        await a_round
    finally:
        for n in notifiers:
            await n.aclose()
        for s in stores:
            await s.close()
    assert len(chans[0].sent) == 1  # the send under way when the claim ran out, no more
    assert len(chans[1].sent) == 5
