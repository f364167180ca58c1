"""An alarm flood does not become a notification flood: per recipient, 5 messages alone
in a minute, then one digest; the plant HMI (MQTT, no grouping) gets every event."""

from __future__ import annotations

import random

from hazmon.alerts import AlarmService, AlarmStore
from hazmon.alerts.notify import Notifier
from hazmon.domain.signal import Priority
from tests.alerts.notify_support import NDIR, Publisher, Receiver, config, webhook
from tests.alerts.support import ENT, HS, MINUTE, T0, FakeClock, make_signal


def flood_notifier(store: AlarmStore, receiver: Receiver, clock: FakeClock,
                   publish: Publisher) -> Notifier:
    cfg = config(
        [webhook("duty", receiver, "/duty"),
         webhook("city", receiver, "/city", group_by="channel"),
         {"name": "plant", "type": "mqtt"}],
        [{"match": {"kind": ["alarm"]}, "to": ["duty", "plant"]},
         {"match": {"region_prefix": "3209"}, "to": ["city"]}],
        grouping={"threshold": 5, "window_s": 60},
    )
    return Notifier(store, cfg, NDIR, publish, clock, rng=random.Random(1))


async def test_flood_of_30_alarms_in_a_minute(
    nservice: AlarmService, store: AlarmStore, receiver: Receiver, clock: FakeClock
) -> None:
    publish = Publisher()
    async with flood_notifier(store, receiver, clock, publish) as n:
        for i in range(30):  # one every 2 s, each notified as it comes
            now = T0 + i * 2000
            priority = Priority.CRITICAL if i == 29 else Priority.HIGH
            await nservice.handle_signal(make_signal(tag=f"{HS}.T{i:03d}.LT01", ts=now,
                                                     priority=priority))
            await n.run_once(now)
        for path in ("/duty", "/city"):
            assert len(receiver.on(path)) == 5  # the first five alone, then held
        assert len(publish.sent) == 30  # the plant HMI hears every one at once
        # the first held (t = 10 s) has waited a window: one digest of the other 25
        assert (await n.run_once(T0 + 69_000))["digests"] == 0
        counts = await n.run_once(T0 + 70_000)
        assert (counts["digests"], counts["digested"]) == (2, 50)
        assert await n.outbox.pending_count() == 0
        for path in ("/duty", "/city"):
            reqs = receiver.on(path)
            assert len(reqs) == 6
            assert [r.json["event"] for r in reqs] == ["raised"] * 5 + ["digest"]
            d = reqs[-1].json["digest"]
            assert d["count"] == 25
            assert d["by_priority"] == {"critical": 1, "high": 24, "medium": 0, "low": 0}
            assert d["items"][0]["priority"] == "critical"  # most urgent listed first
            assert len(d["items"]) == 10
            assert d["more"] == 15
            assert d["enterprises"] == [ENT]
        # the flood goes on within the window: a new alarm joins the next digest
        await nservice.handle_signal(make_signal(tag=f"{HS}.X.LT01", ts=T0 + 80_000))
        late = await n.run_once(T0 + 80_000)
        assert (late["sent"], late["held"]) == (1, 2)  # only the MQTT one goes
        assert len(publish.sent) == 31
        # a quiet window later it goes out (as a digest of one) and singles resume
        counts = await n.run_once(T0 + 140_000)
        assert counts["digests"] == 2
        await nservice.handle_signal(make_signal(tag=f"{HS}.Y.LT01", ts=T0 + 10 * MINUTE))
        assert (await n.run_once(T0 + 10 * MINUTE))["sent"] == 3


async def test_burst_in_one_round_sends_most_urgent_alone(
    nservice: AlarmService, store: AlarmStore, receiver: Receiver, clock: FakeClock
) -> None:
    for i in range(8):
        await nservice.handle_signal(make_signal(
            tag=f"{HS}.T{i}.LT01", priority=Priority.CRITICAL if i >= 6 else Priority.LOW))
    async with flood_notifier(store, receiver, clock, Publisher()) as n:
        await n.run_once(T0)
        singles = [r.json["priority"] for r in receiver.on("/duty")]
        assert sorted(singles) == ["critical", "critical", "low", "low", "low"]
        await n.run_once(T0 + MINUTE)
        digest = receiver.on("/duty")[-1].json
        assert digest["digest"]["count"] == 3
