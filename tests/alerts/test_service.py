"""AlarmService: signals and actions end to end, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hazmon.alerts import (
    ActionRefused,
    AlarmFilter,
    AlarmNotFound,
    AlarmService,
    AlarmState,
    AlarmStore,
    Outbox,
    TransitionRefused,
)
from hazmon.domain.signal import Priority
from tests.alerts.support import ENT, HS, MINUTE, T0, TAG, FakeClock, make_signal

CONTRACT_FIELDS = {"id", "event", "state", "priority", "enterprise", "hazard_source", "tag",
                   "rule", "value", "limit", "ts", "message"}


def recorder(service: AlarmService) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    async def listen(event: dict[str, Any]) -> None:
        seen.append(event)

    service.subscribe(listen)
    return seen


async def alarm_notifications(service: AlarmService, now: int) -> list[dict[str, Any]]:
    return [dict(n.payload) for n in await Outbox(service.store.db).due(now + 10**9)
            if n.kind == "alarm"]


async def test_raise_makes_a_contract_event(service: AlarmService) -> None:
    events = recorder(service)
    a = await service.handle_signal(make_signal())
    assert a is not None
    assert a.state is AlarmState.UNACK_ACTIVE
    assert (a.region, a.tier) == ("320921", 1)  # from the directory
    (e,) = events
    assert set(e) >= CONTRACT_FIELDS
    assert e["event"] == "raised"
    assert e["state"] == "unack_active"
    assert e["id"] == a.id
    assert (e["priority"], e["enterprise"], e["hazard_source"], e["tag"], e["rule"]) == (
        "high", ENT, HS, TAG, "high_high")
    assert (e["value"], e["limit"], e["ts"]) == (10.61, 10.5, "2026-11-22T02:00:00Z")
    assert e["message"] == "罐区一 T101 液位 10.61 m ≥ 高高限 10.5 m"
    assert e["notify"] is True
    assert e["quiet"] is None
    assert e["simulated"] is False
    notes = await alarm_notifications(service, T0)
    assert [n["id"] for n in notes] == [a.id]


async def test_duplicate_raise_updates_the_open_occurrence(service: AlarmService,
                                                           store: AlarmStore) -> None:
    a = await service.handle_signal(make_signal())
    b = await service.handle_signal(make_signal(ts=T0 + 1000, value=10.9))
    c = await service.handle_signal(make_signal("update", ts=T0 + 2000, value=11.0))
    assert a is not None
    assert b is not None
    assert c is not None
    assert a.id == b.id == c.id
    assert c.value == 11.0
    assert await store.count() == 1
    _, history = await service.get(a.id)
    assert [h.event for h in history] == ["raised", "updated", "updated"]
    assert service.counts["deduplicated"] == 1
    assert len(await alarm_notifications(service, T0)) == 1  # no second page for a dup
    # an update that says nothing new writes nothing
    same = await service.handle_signal(make_signal("update", ts=T0 + 3000, value=11.0))
    assert same is not None
    assert same.history_len == 3


async def test_clear_then_raise_reactivates_until_acknowledged(service: AlarmService) -> None:
    a = await service.handle_signal(make_signal())
    assert a is not None
    r = await service.handle_signal(make_signal("clear", ts=T0 + 1000, value=9.0))
    assert r is not None
    assert r.state is AlarmState.UNACK_RTN
    assert await service.handle_signal(make_signal("clear", ts=T0 + 1500)) is None
    back = await service.handle_signal(make_signal(ts=T0 + 2000))
    assert back is not None
    assert back.id == a.id
    assert back.activations == 2
    acked = await service.ack(a.id, "user:li", "现场确认")
    assert acked.state is AlarmState.ACK_ACTIVE
    assert acked.acked_by == "user:li"
    closed = await service.handle_signal(make_signal("clear", ts=T0 + 3000))
    assert closed is not None
    assert closed.is_closed
    fresh = await service.handle_signal(make_signal(ts=T0 + 4000))
    assert fresh is not None
    assert fresh.id != a.id
    await service.ack(fresh.id, "user:li")
    with pytest.raises(TransitionRefused, match="already acknowledged"):
        await service.ack(fresh.id, "user:wang")


async def test_update_without_an_open_alarm_raises_it(service: AlarmService) -> None:
    a = await service.handle_signal(make_signal("update"))
    assert a is not None
    assert a.state is AlarmState.UNACK_ACTIVE


async def test_clear_without_an_alarm_is_ignored(service: AlarmService,
                                                 store: AlarmStore) -> None:
    assert await service.handle_signal(make_signal("clear")) is None
    assert await store.count() == 0


async def test_unknown_alarm(service: AlarmService) -> None:
    with pytest.raises(AlarmNotFound):
        await service.ack("01NOSUCHALARM0000000000000", "user:li")


async def test_shelve_and_automatic_unshelve(service: AlarmService, clock: FakeClock,
                                             store: AlarmStore) -> None:
    events = recorder(service)
    a = await service.handle_signal(make_signal())
    assert a is not None
    clock.advance(minutes=1)
    s = await service.shelve(a.id, "user:li", 30, "仪表校准")
    assert s.shelved is not None
    assert s.shelved.until_ms == clock.now + 30 * MINUTE
    assert events[-1]["shelved_until"] == "2026-11-22T02:31:00Z"
    assert not events[-1]["notify"]
    with pytest.raises(TransitionRefused, match="already shelved"):
        await service.shelve(a.id, "user:wang", 10, "x")
    # a duplicate raise while shelved is recorded but flagged quiet
    await service.handle_signal(make_signal(ts=clock.now + 1000, value=11.2))
    assert events[-1]["event"] == "updated"
    assert events[-1]["quiet"] == "shelved"
    assert (await service.tick(clock.advance(minutes=29))).unshelved == 0
    result = await service.tick(clock.advance(minutes=1))
    assert result.unshelved == 1
    after = await store.get(a.id)
    assert after is not None
    assert after.shelved is None
    assert events[-1]["event"] == "shelve_expired"
    assert events[-1]["actor"] == "system:shelve-timer"
    # still active and unacknowledged: announced again
    notes = await alarm_notifications(service, clock.now)
    assert [n["event"] for n in notes] == ["raised", "shelve_expired"]
    assert (await service.tick(clock.advance(minutes=1))).unshelved == 0


async def test_shelve_refusals(service: AlarmService) -> None:
    a = await service.handle_signal(make_signal())
    assert a is not None
    with pytest.raises(TransitionRefused) as info:
        await service.shelve(a.id, "user:li", 30, " ")
    assert info.value.reason == "shelve needs a reason"
    with pytest.raises(TransitionRefused) as info:
        await service.shelve(a.id, "user:li", 0, "r")
    assert info.value.reason == "shelve duration must be 1–1440 minutes"
    with pytest.raises(TransitionRefused, match="not shelved"):
        await service.unshelve(a.id, "user:li")


async def test_suppressed_hazard_source(service: AlarmService, store: AlarmStore,
                                        clock: FakeClock) -> None:
    events = recorder(service)
    open_one = await service.handle_signal(make_signal(rule="high"))
    assert open_one is not None
    changed = await service.suppress_hazard_source(ENT, HS, "user:zhao", "装置停车检修")
    assert [a.id for a in changed] == [open_one.id]
    assert changed[0].suppressed is not None
    assert changed[0].suppressed.by == "user:zhao"
    with pytest.raises(ActionRefused, match="already suppressed"):
        await service.suppress_hazard_source(ENT, HS, "user:zhao", "again")
    with pytest.raises(ActionRefused, match="needs a reason"):
        await service.out_of_service(ENT, HS, TAG, "user:zhao", "")
    # a new raise while suppressed: recorded, flagged, not notified
    q = await service.handle_signal(make_signal(rule="high_high", ts=clock.now + 1))
    assert q is not None
    assert q.suppressed is not None
    assert q.quiet_reason == "suppressed"
    assert events[-1]["event"] == "raised"
    assert events[-1]["notify"] is False
    assert [n["id"] for n in await alarm_notifications(service, clock.now)] == [open_one.id]
    assert [h.kind.value for h in await service.holds(ENT)] == ["suppressed"]
    clock.advance(minutes=10)
    released = await service.unsuppress_hazard_source(ENT, HS, "user:zhao", "开车")
    assert {a.id for a in released} == {open_one.id, q.id}
    assert all(a.suppressed is None for a in released)
    with pytest.raises(ActionRefused, match="not suppressed"):
        await service.unsuppress_hazard_source(ENT, HS, "user:zhao")
    # a later raise of a new key is normal again
    n = await service.handle_signal(make_signal(rule="low", ts=clock.now))
    assert n is not None
    assert n.quiet_reason is None


async def test_out_of_service_by_tag_and_by_hazard_source(service: AlarmService) -> None:
    other = "MHS-01.T102.LT01"
    await service.out_of_service(ENT, HS, TAG, "user:wu", "液位计更换")
    a = await service.handle_signal(make_signal())
    b = await service.handle_signal(make_signal(tag=other))
    assert a is not None
    assert a.out_of_service is not None
    assert a.quiet_reason == "out_of_service"
    assert b is not None
    assert b.out_of_service is None
    await service.out_of_service(ENT, HS, None, "user:wu", "全罐区检修")
    assert (await service.get(b.id))[0].out_of_service is not None
    # the tag returns but the whole hazard source is still out: stays held
    assert await service.return_to_service(ENT, HS, TAG, "user:wu") == []
    back = await service.return_to_service(ENT, HS, None, "user:wu", "检修完毕")
    assert {x.id for x in back} == {a.id, b.id}


async def test_comment_and_history_completeness(service: AlarmService,
                                                clock: FakeClock) -> None:
    a = await service.handle_signal(make_signal())
    assert a is not None
    clock.advance(minutes=1)
    await service.comment(a.id, "user:li", "已电话通知操作负责人")
    await service.shelve(a.id, "user:li", 10, "误报排查")
    await service.unshelve(a.id, "user:li", "排查完毕")
    await service.ack(a.id, "user:li")
    await service.handle_signal(make_signal("clear", ts=clock.now + 5))
    with pytest.raises(TransitionRefused, match="comment needs text"):
        await service.comment(a.id, "user:li", " ")
    await service.comment(a.id, "user:li", "原因：阀门内漏")  # allowed after closing
    alarm, history = await service.get(a.id)
    assert alarm.is_closed
    assert [(h.seq, h.event, h.actor) for h in history] == [
        (1, "raised", "system:rules"),
        (2, "commented", "user:li"),
        (3, "shelved", "user:li"),
        (4, "unshelved", "user:li"),
        (5, "acknowledged", "user:li"),
        (6, "cleared", "system:rules"),
        (7, "commented", "user:li"),
    ]
    assert history[1].data["text"] == "已电话通知操作负责人"
    assert history[2].data["reason"] == "误报排查"
    assert history[2].data["minutes"] == 10
    assert history[5].data["closed"] is True


async def test_state_survives_restart(open_store: Callable[[], Any],
                                      make_service: Callable[..., AlarmService],
                                      clock: FakeClock) -> None:
    s1 = await open_store()
    svc = make_service(s1)
    a = await svc.handle_signal(make_signal())
    assert a is not None
    await svc.shelve(a.id, "user:li", 15, "校准")
    await s1.close()
    s2 = await open_store()
    svc2 = make_service(s2)
    # dedup still works after a restart: the open occurrence is found in the store
    b = await svc2.handle_signal(make_signal(ts=T0 + 5000, value=12.0))
    assert b is not None
    assert b.id == a.id
    assert b.shelved is not None
    assert (await svc2.tick(clock.advance(minutes=15))).unshelved == 1
    page = await s2.query(AlarmFilter(open=True))
    assert [x.id for x in page.items] == [a.id]
    assert page.items[0].shelved is None


async def test_event_stream_and_failing_listener(service: AlarmService) -> None:
    async def broken(event: dict[str, Any]) -> None:
        raise RuntimeError("subscriber bug")

    service.subscribe(broken)
    stream = service.events(maxsize=2)
    for i in range(3):
        await service.handle_signal(make_signal(rule=f"r{i}", ts=T0 + i))
    assert stream.dropped == 1  # the slow reader lost the oldest, the service went on
    stream.close()
    got = [e["rule"] async for e in stream]
    assert got == ["r1", "r2"]


async def test_simulated_alarm_is_flagged(service: AlarmService) -> None:
    a = await service.handle_signal(make_signal(simulated=True, priority=Priority.CRITICAL))
    assert a is not None
    assert a.simulated
    (note,) = await alarm_notifications(service, T0)
    assert note["simulated"] is True
