"""The warning rounds' view of the alarm store (hazmon.warnings.alarm_view), on SQLite and a
real PostgreSQL: a round reads only what was written since the rounds before, yet its
open alarms and raises are always what a full read of the store gives; a restart and the
periodic re-read read everything."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hazmon.alerts import AlarmService, AlarmStore, RegistryDirectory, UlidFactory
from hazmon.alerts.lifecycle import Raise as LifecycleRaise
from hazmon.alerts.lifecycle import apply, new_alarm
from hazmon.alerts.store import MAX_PAGE, AlarmFilter
from hazmon.domain.signal import Category, Priority
from hazmon.testing.postgres import PostgresServer
from hazmon.warnings.alarm_view import AlarmView, Read
from hazmon.warnings.gather import Raise
from tests.alerts.notify_support import Receiver
from tests.clock import MINUTE, FakeClock
from tests.real_parts import missing
from tests.support import ENT
from tests.warnings.rig import GD, LT, PT, REGISTRY, make_rig, sig

HOUR = 60 * MINUTE
WINDOW = 24 * HOUR
ACTOR = "enterprise:张三"


@dataclass
class World:
    clock: FakeClock
    store: AlarmStore
    alarms: AlarmService


@pytest.fixture
async def w(db_url: str) -> AsyncIterator[World]:
    clock = FakeClock()
    store = await AlarmStore.open(db_url)
    alarms = AlarmService(store, directory=RegistryDirectory(REGISTRY), clock=clock,
                          ids=UlidFactory())
    yield World(clock, store, alarms)
    await store.close()


async def full_read(store: AlarmStore, now: int) -> tuple[list[str], list[Raise]]:
    """What the rounds read before the view: every open alarm and a day of raises."""
    open_page = await store.query(AlarmFilter(open=True), limit=MAX_PAGE)
    recent = await store.query(AlarmFilter(since_ms=now - WINDOW), limit=MAX_PAGE)
    assert open_page.next_cursor is None
    assert recent.next_cursor is None
    return ([a.id for a in open_page.items],
            [Raise(a.enterprise, a.hazard_source, a.tag, a.raised_at_ms) for a in recent.items
             if a.tag is not None and a.raised_at_ms is not None])


async def agrees(view: AlarmView, w: World) -> None:
    ids, raises = await full_read(w.store, w.clock.now)
    assert [a.id for a in view.open_alarms] == ids
    assert view.open_alarms == [await w.store.get(i) for i in ids]  # the docs as stored
    assert view.raises(w.clock.now) == raises


async def test_a_second_round_reads_only_what_changed_yet_sees_a_new_raise(w: World) -> None:
    for tag, rule in ((LT, "high_high"), (PT, "high"), (GD, "high")):
        await w.alarms.handle_signal(sig(tag=tag, rule=rule, ts=w.clock.now))
    view = AlarmView(w.store, WINDOW)
    assert await view.refresh(w.clock.now) == Read(full=True, alarms=6)  # 3 open, 3 raises
    await agrees(view, w)
    w.clock.advance(1)
    assert await view.refresh(w.clock.now) == Read(full=False, alarms=0)  # nothing again
    await agrees(view, w)
    w.clock.advance(1)
    new = await w.alarms.handle_signal(sig(tag=LT, rule="high", ts=w.clock.now))
    assert new is not None
    assert await view.refresh(w.clock.now) == Read(full=False, alarms=1)
    assert new.id in [a.id for a in view.open_alarms]
    assert view.raises(w.clock.now)[0] == Raise(new.enterprise, new.hazard_source, LT,
                                                w.clock.now)
    await agrees(view, w)


async def test_the_view_follows_every_kind_of_change(w: World) -> None:
    view = AlarmView(w.store, WINDOW)
    await view.refresh(w.clock.now)
    a = await w.alarms.handle_signal(sig(tag=LT, ts=w.clock.now))
    b = await w.alarms.handle_signal(sig(tag=PT, rule="high", ts=w.clock.now))
    assert a is not None
    assert b is not None
    steps = [
        lambda: w.alarms.ack(a.id, ACTOR, "处理中"),
        lambda: w.alarms.shelve(b.id, ACTOR, 30, "校准"),
        lambda: w.alarms.handle_signal(sig("clear", tag=LT, ts=w.clock.now)),  # closes a
        lambda: w.alarms.comment(b.id, ACTOR, "已通知"),
        lambda: w.alarms.suppress_hazard_source(a.enterprise, a.hazard_source, ACTOR, "停车"),
        lambda: w.alarms.handle_signal(sig(tag=GD, rule="high", ts=w.clock.now)),
        lambda: w.alarms.unsuppress_hazard_source(a.enterprise, a.hazard_source, ACTOR, "开车"),
    ]
    for step in steps:
        w.clock.advance(1)
        await step()
        read = await view.refresh(w.clock.now)
        assert not read.full
        await agrees(view, w)
    assert a.id not in [x.id for x in view.open_alarms]  # cleared after the ack: closed
    # a day on, the first raises leave the window without a re-read
    w.clock.advance(ms=WINDOW - 5)
    await view.refresh(w.clock.now)
    await agrees(view, w)
    w.clock.advance(10)
    assert not (await view.refresh(w.clock.now)).full
    await agrees(view, w)
    assert view.raises(w.clock.now) == []


async def test_a_restart_and_the_periodic_re_read_find_everything(db_url: str,
                                                                  w: World) -> None:
    view = AlarmView(w.store, WINDOW, resync_ms=HOUR)
    await view.refresh(w.clock.now)
    for tag in (LT, PT):
        await w.alarms.handle_signal(sig(tag=tag, ts=w.clock.now))
        w.clock.advance(1)
    assert not (await view.refresh(w.clock.now)).full
    again = await AlarmStore.open(db_url)  # a restart: a new view on the same database
    try:
        fresh = AlarmView(again, WINDOW)
        assert await fresh.refresh(w.clock.now) == Read(full=True, alarms=4)
        assert fresh.open_alarms == view.open_alarms
        assert fresh.raises(w.clock.now) == view.raises(w.clock.now)
    finally:
        await again.close()
    w.clock.advance(ms=HOUR)
    assert (await view.refresh(w.clock.now)).full  # the safety net
    await agrees(view, w)


async def test_without_repeated_alarm_rules_no_raises_are_read(w: World) -> None:
    await w.alarms.handle_signal(sig(tag=LT, ts=w.clock.now))
    view = AlarmView(w.store, 0)
    assert await view.refresh(w.clock.now) == Read(full=True, alarms=1)  # the open alarm
    await w.alarms.handle_signal(sig(tag=PT, ts=w.clock.now))
    assert await view.refresh(w.clock.now) == Read(full=False, alarms=1)
    assert len(view.open_alarms) == 2
    assert view.raises(w.clock.now) == []


async def test_a_write_committed_late_by_another_instance_is_still_read(
        pg_server: PostgresServer | None) -> None:
    """PostgreSQL, two instances: the other's transaction takes a history id, ours commits
    a later one, and the round reads in between; the next round still reads the first.
    (SQLite has one writer at a time: its ids commit in order.)"""
    if pg_server is None:
        pytest.skip(missing("PostgreSQL server binaries", "apt-get install postgresql"))
    db_url = pg_server.create_database()
    clock = FakeClock()
    store = await AlarmStore.open(db_url)
    w = World(clock, store, AlarmService(store, directory=RegistryDirectory(REGISTRY),
                                         clock=clock, ids=UlidFactory()))
    view = AlarmView(w.store, WINDOW)
    await view.refresh(w.clock.now)
    other = await AlarmStore.open(db_url)
    try:
        late = new_alarm(UlidFactory().new(w.clock.now), enterprise=ENT, hazard_source="MHS-01",
                         tag=GD, rule="high", category=Category.PROCESS,
                         priority=Priority.HIGH, region="320921", tier=1, simulated=False)
        step = apply(late, LifecycleRaise(w.clock.now, 5.0, 4.0, "氯气浓度高"))
        async with other.db.transaction() as tx:
            await AlarmStore.save(tx, step.alarm, step.entry, created=True)  # id taken
            ours = await w.alarms.handle_signal(sig(tag=LT, ts=w.clock.now))  # a later id
            assert ours is not None
            assert [a.id for a in view.open_alarms] == []
            w.clock.advance(1)
            await view.refresh(w.clock.now)
            assert [a.id for a in view.open_alarms] == [ours.id]
        for _ in range(2):  # committed now, below the mark the last round read
            w.clock.advance(1)
            await view.refresh(w.clock.now)
            await agrees(view, w)
        assert late.id in [a.id for a in view.open_alarms]
    finally:
        await other.close()
        await store.close()


async def test_the_warning_rounds_act_on_what_they_read_incrementally(tmp_path: Path) -> None:
    receiver = Receiver().start()
    rig = await make_rig(f"sqlite:///{tmp_path}/alarms.db", receiver)
    try:
        first = await rig.alarms.handle_signal(sig(tag=LT))
        assert first is not None
        assert (await rig.part.evaluate_once()).opened == []  # one sensor: not yet
        assert rig.part.alarms.last_read == Read(full=True, alarms=2)
        rig.clock.advance(1)
        assert (await rig.part.evaluate_once()).opened == []
        assert rig.part.alarms.last_read == Read(full=False, alarms=0)
        rig.clock.advance(1)
        second = await rig.alarms.handle_signal(sig(tag=PT, ts=rig.clock.now))
        assert second is not None
        (opened,) = (await rig.part.evaluate_once()).opened  # two second-level sensors
        assert rig.part.alarms.last_read == Read(full=False, alarms=1)
        w = await rig.store.get(opened)
        assert w is not None
        assert [r.code for r in w.reasons] == ["multi_sensor_second_level"]
        assert set(w.reasons[0].alarm_ids) == {first.id, second.id}
    finally:
        await rig.close()
        receiver.stop()
