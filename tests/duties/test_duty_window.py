"""The duty loop's snapshot reads only the 包保 records that can still be due or overdue
(on SQLite and PostgreSQL): each source and role's latest, those in the last holiday's
window, those with an unfixed hidden danger. A year of weekly records is not read back,
and the facts found are exactly those of the whole history."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from hazmon.alerts import AlarmService, AlarmStore, RegistryDirectory
from hazmon.domain.registry import load_registry
from hazmon.duties.chain import ChainRole, DutyRecord, HiddenDanger
from hazmon.duties.config import ChainDutiesConfig, DutiesConfig
from hazmon.duties.facts import FactKind
from hazmon.duties.findings import facts
from hazmon.duties.service import DutyService
from hazmon.duties.store import DutyStore
from tests.clock import FakeClock
from tests.duties.support import shanghai_ms
from tests.support import ENT, REGISTRY_FILE

NOW = shanghai_ms(2026, 11, 22, 9, 30)
REG = load_registry(REGISTRY_FILE)
HS = "MHS-01"
# National Day: the 技术负责人's check is owed from 09-24 (7 days before)
CONFIG = DutiesConfig(chain=ChainDutiesConfig(principal_days=365,
                                              holidays=[date(2026, 10, 1)]))
WINDOW = shanghai_ms(2026, 9, 24, 0)
OP, TECH, PRINCIPAL = ChainRole.OPERATIONAL, ChainRole.TECHNICAL, ChainRole.PRINCIPAL


def day_ms(d: date, hour: int = 10) -> int:
    return shanghai_ms(d.year, d.month, d.day, hour)


async def test_old_records_are_not_read_and_the_same_facts_are_found(db_url: str) -> None:
    clock = FakeClock(NOW)
    store = await AlarmStore.open(db_url)
    try:
        alarms = AlarmService(store, directory=RegistryDirectory(REG), clock=clock)
        duties = DutyService(await DutyStore.open(store.db), CONFIG, alarms, clock,
                             registry=lambda: REG, seed=7)

        async def record(role: ChainRole, at: int, *dangers: HiddenDanger) -> str:
            return await duties.record_duty(
                DutyRecord(ENT, HS, role, "王工", at, ("罐区巡检",), dangers), "enterprise:w")

        # weekly checks from 5 January to 19 October, then none: overdue since 26 October
        weekly = [await record(OP, day_ms(date(2026, 1, 5) + timedelta(weeks=i)))
                  for i in range(42)]
        last_op = weekly[-1]
        old_tech = [await record(TECH, day_ms(date(2026, m, 1))) for m in (3, 6)]
        holiday_check = await record(TECH, day_ms(date(2026, 9, 26)))  # in the window
        last_tech = await record(TECH, day_ms(date(2026, 11, 1)))
        principal = await record(PRINCIPAL, day_ms(date(2025, 12, 1)))  # due 2026-12-01
        fixed = HiddenDanger(duties.new_id(), "配电室门未关", date(2026, 2, 10))
        with_fixed = await record(TECH, day_ms(date(2026, 2, 1)), fixed)
        await duties.fix_hidden_danger(fixed.id, "enterprise:w")
        unfixed = HiddenDanger(duties.new_id(), "防火堤排水阀未关", date(2026, 1, 31))
        with_unfixed = await record(OP, day_ms(date(2026, 1, 15)), unfixed)

        in_force = dict(await duties.store.duty_records_in_force(WINDOW))
        in_window = {rid for rid in weekly if rid != last_op and
                     day_ms(date(2026, 1, 5) + timedelta(weeks=weekly.index(rid))) >= WINDOW}
        assert set(in_force) == {last_op, last_tech, holiday_check, principal, with_unfixed,
                                 *in_window}
        assert not set(in_force) & {*weekly[:30], *old_tech, with_fixed}
        assert [d.id for d in in_force[with_unfixed].hidden_dangers] == [unfixed.id]
        without_window = dict(await duties.store.duty_records_in_force(None))
        assert set(without_window) == {last_op, last_tech, principal, with_unfixed}

        snap = await duties.snapshot(NOW)
        assert len(snap.records) == len(in_force)
        everything = replace(snap, records=tuple(
            r for _, r in await duties.store.duty_records()))
        assert len(everything.records) == 42 + 2 + 2 + 1 + 2
        for at in (NOW, NOW + 9 * 86_400_000, NOW + 400 * 86_400_000):
            assert facts(snap, at, CONFIG) == facts(everything, at, CONFIG), at
        found = {(f.kind, f.key) for f in facts(snap, NOW, CONFIG)}
        assert (FactKind.DUTY_OVERDUE,
                f"duty:{HS}:operational:{day_ms(date(2026, 10, 19))}") in found
        assert (FactKind.HIDDEN_DANGER_OVERDUE, f"danger:{unfixed.id}") in found
        assert not any(k.startswith(f"duty:{HS}:technical") for _, k in found)  # checked
        assert not any(k.startswith(f"duty:{HS}:principal") for _, k in found)  # not yet due
    finally:
        await store.close()
