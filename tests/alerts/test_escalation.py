"""Escalation up the responsibility chain, persisted across restarts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hazmon.alerts import (
    AlarmService,
    AlarmStore,
    EscalationPolicy,
    EscalationStatus,
    Outbox,
    StaticDirectory,
    UlidFactory,
    verify_chain,
)
from hazmon.alerts import escalation as esc
from hazmon.alerts import outbox as outbox_mod
from hazmon.domain.signal import Priority
from tests.alerts.support import ENT, MINUTE, T0, FakeClock, make_signal


async def escalations(store: AlarmStore) -> list[tuple[int, str, Any]]:
    """(step, level, who) of every escalate notification queued, in order."""
    notes = await Outbox(store.db).due(T0 + 10**9, limit=1000)
    out = []
    for n in notes:
        if n.kind == "escalate":
            assert n.target is not None
            who = n.target.get("name") or n.target.get("region")
            out.append((n.payload["escalation"]["step"], n.target["level"], who))
    return out


CHAIN = [(1, "operational", "王五"), (2, "technical", "李四"), (3, "principal", "张三"),
         (4, "city", "320900"), (5, "province", "320000")]


def test_default_deadlines() -> None:
    p = EscalationPolicy()
    assert [p.step_minutes[x] for x in Priority] == [5, 15, 30, 60]
    assert p.levels == ("operational", "technical", "principal", "city", "province")
    with pytest.raises(ValueError, match="at least 1 minute"):
        EscalationPolicy(step_minutes={Priority.CRITICAL: 0})
    with pytest.raises(ValueError, match="levels"):
        EscalationPolicy(levels=("mayor",))


@pytest.mark.parametrize(("priority", "minutes"), [(Priority.CRITICAL, 5), (Priority.HIGH, 15),
                                                   (Priority.MEDIUM, 30), (Priority.LOW, 60)])
async def test_steps_follow_the_priority_deadline(service: AlarmService, store: AlarmStore,
                                                  clock: FakeClock, priority: Priority,
                                                  minutes: int) -> None:
    a = await service.handle_signal(make_signal(priority=priority))
    assert a is not None
    assert (await service.tick(T0 + minutes * MINUTE - 1)).escalated == 0
    for n in range(1, 6):
        assert (await service.tick(T0 + n * minutes * MINUTE)).escalated == 1
        assert (await service.tick(T0 + n * minutes * MINUTE)).escalated == 0
    assert await escalations(store) == CHAIN
    st = await esc.get(store.db, a.id)
    assert st is not None
    assert st.status is EscalationStatus.EXHAUSTED
    assert st.step == 5
    assert (await service.tick(T0 + 100 * minutes * MINUTE)).escalated == 0
    _, history = await service.get(a.id)
    assert [h.data["level"] for h in history if h.event == "escalated"] == [
        c[1] for c in CHAIN]


async def test_acknowledgement_stops_it(service: AlarmService, store: AlarmStore,
                                        clock: FakeClock) -> None:
    events: list[dict[str, Any]] = []

    async def listen(e: dict[str, Any]) -> None:
        events.append(e)

    service.subscribe(listen)
    a = await service.handle_signal(make_signal(priority=Priority.CRITICAL))
    assert a is not None
    await service.tick(T0 + 5 * MINUTE)
    assert events[-1]["event"] == "escalated"
    assert events[-1]["detail"]["level"] == "operational"
    clock.now = T0 + 6 * MINUTE
    await service.ack(a.id, "user:wangwu", "已到现场")
    st = await esc.get(store.db, a.id)
    assert st is not None
    assert st.status is EscalationStatus.STOPPED
    assert st.note == "acknowledged by user:wangwu"
    assert (await service.tick(T0 + 60 * MINUTE)).escalated == 0
    assert await escalations(store) == CHAIN[:1]


async def test_restart_between_steps_neither_repeats_nor_skips(
        open_store: Callable[[], Any], make_service: Callable[..., AlarmService]) -> None:
    s1 = await open_store()
    svc = make_service(s1)
    a = await svc.handle_signal(make_signal(priority=Priority.CRITICAL))
    assert a is not None
    await svc.tick(T0 + 5 * MINUTE)
    await svc.tick(T0 + 10 * MINUTE)
    await s1.close()  # the service stops after step 2
    s2 = await open_store()
    svc2 = make_service(s2)
    assert (await svc2.tick(T0 + 10 * MINUTE)).escalated == 0  # step 2 is not repeated
    assert (await svc2.tick(T0 + 15 * MINUTE)).escalated == 1
    assert await escalations(s2) == CHAIN[:3]
    await s2.close()
    s3 = await open_store()
    svc3 = make_service(s3)
    # down past two deadlines: both missing steps are taken, in order, once
    assert (await svc3.tick(T0 + 26 * MINUTE)).escalated == 2
    assert await escalations(s3) == CHAIN
    assert (await verify_chain(s3.db)).ok


async def test_a_step_that_fails_midway_is_rolled_back_and_taken_once(
        service: AlarmService, store: AlarmStore, monkeypatch: pytest.MonkeyPatch) -> None:
    a = await service.handle_signal(make_signal(priority=Priority.CRITICAL))
    assert a is not None
    real = outbox_mod.enqueue_in

    async def crash(*args: Any, **kwargs: Any) -> bool:
        raise OSError("power cut")

    monkeypatch.setattr(outbox_mod, "enqueue_in", crash)
    with pytest.raises(OSError, match="power cut"):
        await service.tick(T0 + 5 * MINUTE)
    monkeypatch.setattr(outbox_mod, "enqueue_in", real)
    _, history = await service.get(a.id)
    assert [h.event for h in history] == ["raised"]  # nothing of the failed step remains
    assert (await service.tick(T0 + 5 * MINUTE)).escalated == 1
    assert await escalations(store) == CHAIN[:1]
    assert (await verify_chain(store.db)).ok


async def test_held_back_alarms_wait(service: AlarmService, store: AlarmStore,
                                     clock: FakeClock) -> None:
    a = await service.handle_signal(make_signal(priority=Priority.CRITICAL))
    assert a is not None
    clock.now = T0 + MINUTE
    await service.shelve(a.id, "user:li", 10, "仪表校准")
    assert (await service.tick(T0 + 5 * MINUTE)).escalated == 0
    st = await esc.get(store.db, a.id)
    assert st is not None
    assert st.next_at_ms == T0 + 10 * MINUTE
    assert st.note == "waiting: shelved"
    result = await service.tick(T0 + 11 * MINUTE)  # shelve ran out at +11: unshelve, then step
    assert (result.unshelved, result.escalated) == (1, 1)


async def test_simulated_alarms_do_not_escalate(service: AlarmService,
                                                store: AlarmStore) -> None:
    a = await service.handle_signal(make_signal(simulated=True, priority=Priority.CRITICAL))
    assert a is not None
    assert await esc.get(store.db, a.id) is None
    assert (await service.tick(T0 + 60 * MINUTE)).escalated == 0


async def test_missing_contact_still_takes_the_step(store: AlarmStore,
                                                    clock: FakeClock) -> None:
    svc = AlarmService(store, directory=StaticDirectory(regions={ENT: "320921"}),
                       clock=clock, ids=UlidFactory(),
                       escalation_policy=EscalationPolicy(levels=("technical", "province")))
    await svc.handle_signal(make_signal(priority=Priority.CRITICAL))
    assert (await svc.tick(T0 + 10 * MINUTE)).escalated == 2
    notes = [n for n in await Outbox(store.db).due(T0 + 10**9) if n.kind == "escalate"]
    assert [dict(n.target or {}) for n in notes] == [
        {"level": "technical", "role": "technical", "missing": True},
        {"level": "province", "region": "320000"},
    ]


async def test_a_backlog_alarm_escalates_from_when_it_is_known(
        service: AlarmService, clock: FakeClock) -> None:
    """A reading from an hour ago (a gateway's backlog after an outage) must not run
    through every escalation step at once: deadlines count from when hazmon learns of it."""
    clock.advance(minutes=60)
    a = await service.handle_signal(make_signal(priority=Priority.CRITICAL, ts=T0))
    assert a is not None
    assert (await service.tick(clock.now)).escalated == 0
    assert (await service.tick(clock.now + 5 * MINUTE - 1)).escalated == 0
    assert (await service.tick(clock.now + 5 * MINUTE)).escalated == 1
