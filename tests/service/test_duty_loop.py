"""The duty loop with an injected clock over a real store: each deadline on both sides of
its line and across midnight, scheduled roll calls made once and reproducible with a
seed, the patrol draw kept with its seed, stopped past the expected end, declared running
while the gateway is silent, and holds put right after a crash."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest

from hazmon.alerts import AlarmService, AlarmStore, RegistryDirectory
from hazmon.domain.registry import load_registry
from hazmon.duties import patrol
from hazmon.duties.config import DutiesConfig, RollCallConfig
from hazmon.duties.facts import DutyFact, FactKind
from hazmon.duties.runstate import RunState, RunStateRecord
from hazmon.duties.service import DutyService
from hazmon.duties.settings import DutiesSettings
from hazmon.duties.store import DutyStore
from hazmon.ingest.gateways import GatewayTracker
from hazmon.service.duties import SCHEDULE_ACTOR, DutyLoop, silence_of
from tests.clock import FakeClock
from tests.duties.support import form, shanghai_ms
from tests.support import ENT, ENT2, REGISTRY_FILE

REG = load_registry(REGISTRY_FILE)
DAY1 = shanghai_ms(2026, 11, 22, 9, 0)


class World:
    def __init__(self, store: AlarmStore, duties: DutyService, loop: DutyLoop,
                 clock: FakeClock, tracker: GatewayTracker) -> None:
        self.store, self.duties, self.loop, self.clock = store, duties, loop, clock
        self.tracker = tracker

    async def facts(self, at: int) -> list[DutyFact]:
        self.clock.now = at
        return await self.loop.check(at)


async def _world(url: str, clock: FakeClock, config: DutiesConfig, seed: int = 5
                 ) -> tuple[AlarmStore, DutyService, DutyLoop, GatewayTracker]:
    store = await AlarmStore.open(url)
    alarms = AlarmService(store, directory=RegistryDirectory(REG), clock=clock)
    tracker = GatewayTracker()
    duties = DutyService(await DutyStore.open(store.db), config, alarms, clock,
                         registry=lambda: REG, seed=seed,
                         silent=silence_of(tracker, lambda: REG, DAY1, 300_000))
    loop = DutyLoop(duties, lambda: REG, clock, DutiesSettings(seed=seed))
    return store, duties, loop, tracker


NO_CALLS = DutiesConfig(roll_call=RollCallConfig(daily_calls=0))


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    clock = FakeClock(DAY1)
    store, duties, loop, tracker = await _world(f"sqlite:///{tmp_path / 'a.db'}", clock,
                                                NO_CALLS)
    yield World(store, duties, loop, clock, tracker)
    await store.close()


def kinds(facts: list[DutyFact], kind: FactKind) -> list[tuple[str, str]]:
    return sorted((f.enterprise, f.key) for f in facts if f.kind is kind)


async def test_the_commitment_deadline_at_ten_and_across_midnight(world: World) -> None:
    miss = FactKind.COMMITMENT_MISSING
    assert kinds(await world.facts(DAY1), miss) == []
    ten = shanghai_ms(2026, 11, 22, 10, 0)
    assert kinds(await world.facts(ten - 1), miss) == []
    assert kinds(await world.facts(ten), miss) == []  # filed by 10:00:00.000 is in time
    day1 = "commitment:2026-11-22"
    assert kinds(await world.facts(ten + 1), miss) == sorted([(ENT, day1), (ENT2, day1)])
    # between two reads the facts object sees the line pass by itself
    await world.facts(ten - 1000)
    assert sorted(f.enterprise for f in world.loop.facts(ten + 1) if f.kind is miss) == sorted(
        [ENT, ENT2])
    world.clock.now = shanghai_ms(2026, 11, 22, 10, 5)
    await world.duties.file_commitment(REG.enterprises[ENT], form(), "enterprise:zh")
    facts = await world.facts(world.clock.now)
    assert kinds(facts, miss) == [(ENT2, day1)]
    assert kinds(facts, FactKind.COMMITMENT_LATE) == [(ENT, day1)]  # same key: one warning
    # midnight: yesterday's are still handed over, today's line has not passed
    after_midnight = await world.facts(shanghai_ms(2026, 11, 23, 0, 0, 1))
    assert kinds(after_midnight, miss) == [(ENT2, day1)]
    day2 = "commitment:2026-11-23"
    next_ten = await world.facts(shanghai_ms(2026, 11, 23, 10, 0, 1))
    assert kinds(next_ten, miss) == sorted([(ENT, day2), (ENT2, day1), (ENT2, day2)])
    two_days = await world.facts(shanghai_ms(2026, 11, 24, 9, 0))
    assert kinds(two_days, miss) == sorted([(ENT, day2), (ENT2, day2)])


async def test_a_day_whose_deadline_passed_before_duties_began_is_not_judged(
        tmp_path: Path) -> None:
    clock = FakeClock(shanghai_ms(2026, 11, 22, 11, 0))
    store, _, loop, _ = await _world(f"sqlite:///{tmp_path / 'a.db'}", clock, NO_CALLS)
    try:
        assert kinds(await loop.check(), FactKind.COMMITMENT_MISSING) == []
        later = await loop.check(shanghai_ms(2026, 11, 23, 10, 0, 1))
        assert [e for e, _ in kinds(later, FactKind.COMMITMENT_MISSING)] == sorted([ENT, ENT2])
    finally:
        await store.close()


async def test_stopped_past_its_expected_end(world: World) -> None:
    end = shanghai_ms(2026, 11, 22, 18, 0)
    await world.duties.set_run_state(ENT, "MHS-01", RunState.STOPPED, by="enterprise:zh",
                                     reason="检修", expected_end_ms=end)
    assert kinds(await world.facts(end - 1), FactKind.STOPPED_PAST_EXPECTED_END) == []
    [(ent, _)] = kinds(await world.facts(end), FactKind.STOPPED_PAST_EXPECTED_END)
    assert ent == ENT


async def test_running_while_the_gateway_sends_nothing(world: World) -> None:
    await world.duties.set_run_state(ENT, "MHS-01", RunState.RUNNING, by="enterprise:zh",
                                     reason=None, expected_end_ms=None)
    silent = FactKind.RUNNING_BUT_SILENT
    assert kinds(await world.facts(DAY1 + 300_000), silent) == []
    assert [e for e, _ in kinds(await world.facts(DAY1 + 300_001), silent)] == [ENT]
    world.tracker.seen(ENT, DAY1 + 300_001)
    assert kinds(await world.facts(DAY1 + 300_002), silent) == []
    world.tracker.status(ENT, "offline", DAY1 + 300_003)
    assert [e for e, _ in kinds(await world.facts(DAY1 + 300_004), silent)] == [ENT]


async def test_roll_calls_answered_missed_and_late(world: World) -> None:
    [a, b, c] = [(await world.duties.call_roll([ENT], "county:x"))[0] for _ in range(3)]
    world.clock.advance(minutes=4)
    await world.duties.answer_roll_call(a.id, "enterprise:wang")
    world.clock.advance(minutes=2)  # 6 min: past the 5-minute deadline
    await world.duties.answer_roll_call(b.id, "enterprise:wang")
    facts = await world.facts(world.clock.now)
    details = {f.key: f.detail for f in facts if f.kind is FactKind.ROLL_CALL_MISSED}
    assert details == {f"rollcall:{b.id}": "值班点名超时应答", f"rollcall:{c.id}": "值班点名未应答"}


async def test_scheduled_calls_are_made_once_and_drawn_again_from_the_seed(
        tmp_path: Path) -> None:
    config = DutiesConfig(roll_call=RollCallConfig(daily_calls=3, sample_size=1))
    clock = FakeClock(shanghai_ms(2026, 11, 22, 0, 0))
    made: list[list[tuple[int, str]]] = []
    minutes = range(0, 24 * 60, 1)  # a check every minute of the day
    for name in ("a", "b"):  # two databases, the same seed
        store, duties, loop, _ = await _world(f"sqlite:///{tmp_path / name}.db", clock,
                                              config, seed=42)
        try:
            for m in minutes:
                clock.now = shanghai_ms(2026, 11, 22, 0, 0) + m * 60_000
                await loop.scheduled_calls(date(2026, 11, 22), clock.now)
            await loop.check(shanghai_ms(2026, 11, 22, 23, 59, 59))
            calls = await duties.store.roll_calls()
            assert {c.called_by for c in calls} == {SCHEDULE_ACTOR}
            made.append(sorted((c.called_at_ms, c.enterprise) for c in calls))
        finally:
            await store.close()
        if name == "a":  # a restart of the same database calls nobody again
            store, duties, loop, _ = await _world(f"sqlite:///{tmp_path / name}.db", clock,
                                                  config, seed=42)
            try:
                await loop.check(shanghai_ms(2026, 11, 22, 23, 59, 59))
                assert len(await duties.store.roll_calls()) == 6
            finally:
                await store.close()
    assert made[0] == made[1]
    assert len(made[0]) == 6  # 3 calls a day x one enterprise of each of the 2 counties
    assert len({t for t, _ in made[0]}) == 3  # at three times of the day
    # a service started late in the day skips the times already past: no late surprise
    store, duties, loop, _ = await _world(f"sqlite:///{tmp_path / 'c'}.db", clock, config,
                                          seed=42)
    try:
        await loop.check(shanghai_ms(2026, 11, 22, 23, 59, 59))
        assert await duties.store.roll_calls() == []
    finally:
        await store.close()


async def test_the_patrol_draw_is_kept_with_its_seed_and_drawn_again_from_it(
        world: World) -> None:
    await world.facts(DAY1)
    draws = await world.duties.store.patrol_draws(date(2026, 11, 22))
    assert [d.county for d in draws] == ["320902", "320921"]
    again = patrol.daily_sample(patrol.candidates(REG, {}), date(2026, 11, 22),
                                int(draws[0].seed), world.duties.config)
    assert {d.county: list(d.enterprises) for d in draws} == again


async def test_holds_are_put_right_after_a_crash_between_state_and_hold(world: World) -> None:
    # as if the process died after the run state was stored, before its hold
    await world.duties.store.set_run_state(RunStateRecord(
        ENT, "MHS-01", RunState.TURNAROUND, DAY1, "enterprise:zh", "大修",
        shanghai_ms(2026, 12, 1, 0)), DAY1)
    assert await world.duties.alarms.holds(ENT) == []
    await world.loop.check(DAY1)
    [hold] = await world.duties.alarms.holds(ENT)
    assert hold.reason == "运行状态:检修(大修)"
