"""Signed webhooks against a real local HTTP server: retry with backoff, exactly one
delivery recorded, signature and replay protection, giving up."""

from __future__ import annotations

import random
import time

from hazmon.alerts import AlarmService, AlarmStore, OutboxStatus
from hazmon.alerts.audit import entries, verify_chain
from hazmon.alerts.notify import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    DeliveryStatus,
    Notifier,
    sign,
    verify_signature,
)
from tests.alerts.notify_support import NDIR, SECRET, Receiver, config, webhook
from tests.alerts.support import MINUTE, T0, FakeClock, make_signal


def sms_notifier(store: AlarmStore, receiver: Receiver, clock: FakeClock,
                 **extra: object) -> Notifier:
    cfg = config([webhook("sms", receiver, "/sms")], [{"to": ["sms"]}], **extra)
    return Notifier(store, cfg, NDIR, None, clock, rng=random.Random(7))


async def test_fails_twice_then_one_delivery_recorded(
    nservice: AlarmService, store: AlarmStore, receiver: Receiver, clock: FakeClock
) -> None:
    receiver.script["/sms"] = [500, 503]
    alarm = await nservice.handle_signal(make_signal())
    assert alarm is not None
    async with sms_notifier(store, receiver, clock) as n:
        first = await n.run_once(T0)
        assert (first["failed"], first["sent"]) == (1, 0)
        (note,) = [x for x in await n.outbox.due(T0 + 10**9)]
        assert note.attempts == 1
        # capped jittered backoff: 5 s less at most 20 %
        assert T0 + 4000 <= note.due_at_ms <= T0 + 5000
        assert (await n.run_once(T0 + 1000))["seen"] == 0  # not yet due
        second = await n.run_once(T0 + MINUTE)
        assert second["failed"] == 1
        third = await n.run_once(T0 + 10 * MINUTE)
        assert third["sent"] == 1
        assert (await n.run_once(T0 + 60 * MINUTE))["seen"] == 0  # nothing left
        rows = await n.deliveries_of(alarm.id)
    assert [r.status for r in rows] == [DeliveryStatus.SENT]
    reqs = receiver.on("/sms")
    assert len(reqs) == 3
    assert len({r.headers[DELIVERY_HEADER] for r in reqs}) == 1  # stable id for receivers
    last = reqs[-1]
    assert verify_signature(SECRET, last.headers, last.body, time.time())
    ts = int(last.headers[TIMESTAMP_HEADER])
    assert last.headers[SIGNATURE_HEADER] == sign(SECRET, ts, last.body)
    body = last.json
    assert (body["id"], body["event"], body["priority"]) == (alarm.id, "raised", "high")
    assert body["notification"]["recipient"] == {"kind": "enterprise",
                                                 "enterprise": alarm.enterprise}
    assert body["notification"]["attempt"] == 3
    log = [e for e in await entries(store.db, alarm_id=alarm.id) if e.action == "notified"]
    assert len(log) == 1
    assert log[0].payload["channel"] == "sms"
    assert (await verify_chain(store.db)).ok
    note_after = await n.outbox.get(note.id)
    assert note_after is not None
    assert note_after.status is OutboxStatus.SENT


async def test_signature_refuses_tampering_and_replay(
    nservice: AlarmService, store: AlarmStore, receiver: Receiver, clock: FakeClock
) -> None:
    await nservice.handle_signal(make_signal())
    async with sms_notifier(store, receiver, clock) as n:
        await n.run_once(T0)
    (req,) = receiver.requests
    now = time.time()
    assert verify_signature(SECRET, req.headers, req.body, now)
    assert not verify_signature(SECRET, req.headers, req.body.replace(b"10.61", b"1.61"), now)
    assert not verify_signature("another-secret-0123456", req.headers, req.body, now)
    assert not verify_signature(SECRET, req.headers, req.body, now + 3600)  # replayed later
    forged = dict(req.headers)
    forged[TIMESTAMP_HEADER] = str(int(now) + 10)
    assert not verify_signature(SECRET, forged, req.body, now)


async def test_refusal_is_permanent_and_recorded(
    nservice: AlarmService, store: AlarmStore, receiver: Receiver, clock: FakeClock
) -> None:
    receiver.script["/sms"] = [400]
    alarm = await nservice.handle_signal(make_signal())
    assert alarm is not None
    async with sms_notifier(store, receiver, clock) as n:
        counts = await n.run_once(T0)
        assert counts["dead"] == 1
        assert (await n.run_once(T0 + 60 * MINUTE))["seen"] == 0
        (row,) = await n.deliveries_of(alarm.id)
    assert row.status is DeliveryStatus.DEAD
    assert row.reason is not None
    assert "HTTP 400" in row.reason
    actions = [e.action for e in await entries(store.db, alarm_id=alarm.id)]
    assert "notification_given_up" in actions
    assert await n.outbox.pending_count() == 0


async def test_gives_up_after_max_attempts(
    nservice: AlarmService, store: AlarmStore, receiver: Receiver, clock: FakeClock
) -> None:
    receiver.script["/sms"] = [503] * 10
    alarm = await nservice.handle_signal(make_signal())
    assert alarm is not None
    async with sms_notifier(store, receiver, clock, retry={"max_attempts": 3}) as n:
        now = T0
        for _ in range(5):
            await n.run_once(now)
            now += 60 * MINUTE
        (row,) = await n.deliveries_of(alarm.id)
    assert len(receiver.requests) == 3
    assert row.status is DeliveryStatus.DEAD
    assert row.reason is not None
    assert row.reason.startswith("gave up after 3 attempts")
    dead = [x for x in await store.db.fetchall("SELECT status, attempts FROM outbox")]
    assert dead == [("dead", 3)]
