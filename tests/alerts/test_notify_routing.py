"""Routing by priority, tier, region and escalation level; simulated feeds only to test
channels; the quiet and dedup stages."""

from __future__ import annotations

import random

from hazmon.alerts import AlarmService, AlarmStore, OutboxStatus
from hazmon.alerts.audit import entries
from hazmon.alerts.notify import DeliveryStatus, Notifier, NotifyConfig
from hazmon.domain.signal import Priority
from tests.alerts.notify_support import ENT2, HS2, NDIR, SIM, Publisher, Receiver, config, webhook
from tests.alerts.support import ENT, HS, MINUTE, T0, TAG, FakeClock, make_signal


def notifier(store: AlarmStore, cfg: NotifyConfig, clock: FakeClock,
             publish: Publisher | None = None) -> Notifier:
    return Notifier(store, cfg, NDIR, publish, clock, rng=random.Random(3))


async def test_routes_by_priority_tier_and_region(
    nservice: AlarmService, store: AlarmStore, receiver: Receiver, clock: FakeClock
) -> None:
    cfg = config(
        [webhook("urgent", receiver, "/urgent"), webhook("tier12", receiver, "/tier12"),
         webhook("suzhou", receiver, "/suzhou"), webhook("lows", receiver, "/lows")],
        [{"match": {"min_priority": "high"}, "to": ["urgent"]},
         {"match": {"tier": [1, 2]}, "to": ["tier12"]},
         {"match": {"region_prefix": "3205"}, "to": ["suzhou"]},
         {"match": {"priority": ["low", "medium"]}, "to": ["lows"]}],
    )
    crit = await nservice.handle_signal(make_signal(priority=Priority.CRITICAL))
    low = await nservice.handle_signal(make_signal(tag=f"{HS}.T2", priority=Priority.LOW))
    other = await nservice.handle_signal(make_signal(
        enterprise=ENT2, hazard_source=HS2, tag=f"{HS2}.PT01", priority=Priority.HIGH))
    assert crit
    assert low
    assert other
    async with notifier(store, cfg, clock) as n:
        counts = await n.run_once(T0)
    assert counts["sent"] == 6
    got = {path: sorted(r.json["id"] for r in receiver.on(path))
           for path in ("/urgent", "/tier12", "/suzhou", "/lows")}
    assert got == {
        "/urgent": sorted([crit.id, other.id]),
        "/tier12": sorted([crit.id, low.id]),  # ENT's MHS-01 is tier 1, ENT2's tier 3
        "/suzhou": [other.id],
        "/lows": [low.id],
    }


async def test_no_route_is_skipped_with_reason(
    nservice: AlarmService, store: AlarmStore, receiver: Receiver, clock: FakeClock
) -> None:
    cfg = config([webhook("urgent", receiver, "/u")],
                 [{"match": {"priority": ["critical"]}, "to": ["urgent"]}])
    await nservice.handle_signal(make_signal(priority=Priority.LOW))
    async with notifier(store, cfg, clock) as n:
        assert (await n.run_once(T0))["skipped"] == 1
    assert receiver.requests == []
    rows = await store.db.fetchall("SELECT status, last_error FROM outbox")
    assert rows == [(OutboxStatus.SKIPPED.value, "no route")]


async def test_escalation_goes_to_the_person_then_the_city_centre(
    nservice: AlarmService, store: AlarmStore, receiver: Receiver, clock: FakeClock
) -> None:
    cfg = config(
        [webhook("sms", receiver, "/sms"), webhook("city-3209", receiver, "/city3209"),
         webhook("city-3205", receiver, "/city3205")],
        [{"match": {"kind": ["escalate"], "level": ["operational", "technical",
                                                    "principal"]}, "to": ["sms"]},
         {"match": {"kind": ["escalate"], "level": ["city"], "region_prefix": "3209"},
          "to": ["city-3209"]},
         {"match": {"kind": ["escalate"], "level": ["city"], "region_prefix": "3205"},
          "to": ["city-3205"]}],
    )
    alarm = await nservice.handle_signal(make_signal(priority=Priority.CRITICAL))
    assert alarm is not None
    async with notifier(store, cfg, clock) as n:
        assert (await n.run_once(T0))["skipped"] == 1  # the raise itself: no route here
        clock.now = T0 + 20 * MINUTE  # critical: 5 min a step → 4 steps due
        await nservice.tick()
        counts = await n.run_once(clock.now)
    assert counts["sent"] == 4
    sms = [r.json for r in receiver.on("/sms")]
    assert [(b["escalation"]["level"], b["notification"]["recipient"]["phone"])
            for b in sms] == [("operational", "+8613800000003"),
                              ("technical", "+8613800000002"),
                              ("principal", "+8613800000001")]
    (city,) = [r.json for r in receiver.on("/city3209")]
    assert city["notification"]["recipient"] == {
        "kind": "centre", "enterprise": ENT, "level": "city", "region": "320900"}
    assert receiver.on("/city3205") == []


async def test_escalation_after_ack_is_not_sent(
    nservice: AlarmService, store: AlarmStore, receiver: Receiver, clock: FakeClock
) -> None:
    cfg = config([webhook("sms", receiver, "/sms")],
                 [{"match": {"kind": ["escalate"]}, "to": ["sms"]}])
    alarm = await nservice.handle_signal(make_signal(priority=Priority.CRITICAL))
    assert alarm is not None
    clock.now = T0 + 5 * MINUTE
    await nservice.tick()
    await nservice.ack(alarm.id, "user:wang", "处理中")  # acknowledged before it went out
    async with notifier(store, cfg, clock) as n:
        await n.run_once(clock.now)
    assert receiver.requests == []
    rows = await store.db.fetchall("SELECT kind, status, last_error FROM outbox ORDER BY id")
    assert rows[-1] == ("escalate", "skipped", "acknowledged")


async def test_simulated_alarm_never_reaches_a_real_channel(
    nservice: AlarmService, store: AlarmStore, receiver: Receiver, clock: FakeClock
) -> None:
    cfg = config(
        [webhook("sms", receiver, "/real"), webhook("drill", receiver, "/drill", test=True),
         {"name": "plant", "type": "mqtt"}],
        [{"to": ["sms", "plant"]}, {"match": {"simulated": True}, "to": ["drill"]}],
    )
    publish = Publisher()
    # a simulated alarm of a real plant (a drill feed), and one of a simulated plant
    drill = await nservice.handle_signal(make_signal(simulated=True))
    demo = await nservice.handle_signal(make_signal(enterprise=SIM, simulated=True))
    assert drill
    assert demo
    async with notifier(store, cfg, clock, publish) as n:
        await n.run_once(T0)
        rows = {r.channel: r for r in await n.deliveries_of(drill.id)}
    assert receiver.on("/real") == []
    assert sorted(r.json["id"] for r in receiver.on("/drill")) == sorted([drill.id, demo.id])
    assert rows["sms"].status is DeliveryStatus.SKIPPED
    assert rows["sms"].reason == "simulated alarm: not a test channel"
    assert rows["plant"].status is DeliveryStatus.SKIPPED
    # only the simulated plant's own HMI hears its simulated alarms
    assert [(t, p["id"]) for t, p, _ in publish.sent] == [
        (f"hazmon/v1/320921/{SIM}/alarms", demo.id)]
    skipped = [e for e in await entries(store.db, alarm_id=drill.id)
               if e.action == "notification_skipped"]
    assert {e.payload["channel"] for e in skipped} == {"sms", "plant"}


async def test_shelved_before_sending_is_skipped(
    nservice: AlarmService, store: AlarmStore, receiver: Receiver, clock: FakeClock
) -> None:
    cfg = config([webhook("sms", receiver, "/sms")], [{"to": ["sms"]}])
    alarm = await nservice.handle_signal(make_signal())
    assert alarm is not None
    await nservice.shelve(alarm.id, "user:li", 30, "校准中")
    async with notifier(store, cfg, clock) as n:
        counts = await n.run_once(T0)
    assert counts["skipped"] == 1
    assert receiver.requests == []
    (row,) = await store.db.fetchall("SELECT status, last_error FROM outbox")
    assert row == ("skipped", "shelved")
    actions = [e.action for e in await entries(store.db, alarm_id=alarm.id)]
    assert actions[-1] == "notification_skipped"


async def test_chattering_occurrence_is_announced_once(
    nservice: AlarmService, store: AlarmStore, receiver: Receiver, clock: FakeClock
) -> None:
    cfg = config([webhook("sms", receiver, "/sms"), {"name": "plant", "type": "mqtt"}],
                 [{"to": ["sms", "plant"]}])
    publish = Publisher()
    async with notifier(store, cfg, clock, publish) as n:
        for k in range(3):  # raise, clear, raise, clear, ... without an acknowledgement
            await nservice.handle_signal(make_signal(ts=T0 + k * 20_000))
            await nservice.handle_signal(make_signal("clear", ts=T0 + k * 20_000 + 10_000))
            await n.run_once(T0 + k * 20_000 + 10_000)
        counts = n.totals
    assert [r.json["event"] for r in receiver.on("/sms")] == ["raised", "cleared"]
    assert [p["event"] for _, p, _ in publish.sent] == ["raised", "cleared"]
    assert counts["duplicates"] == 8  # 4 notifications x 2 channels
    assert await n.outbox.pending_count() == 0


async def test_broker_down_retries_the_plant_topic(
    nservice: AlarmService, store: AlarmStore, clock: FakeClock
) -> None:
    cfg = config([{"name": "plant", "type": "mqtt"}], [{"to": ["plant"]}])
    publish = Publisher(connected=False)
    alarm = await nservice.handle_signal(make_signal())
    assert alarm is not None
    async with notifier(store, cfg, clock, publish) as n:
        assert (await n.run_once(T0))["failed"] == 1
        publish.connected = True
        assert (await n.run_once(T0 + MINUTE))["sent"] == 1
    ((topic, payload, qos),) = publish.sent
    assert (topic, qos) == (f"hazmon/v1/320921/{ENT}/alarms", 1)
    assert (payload["id"], payload["tag"], payload["event"]) == (alarm.id, TAG, "raised")
