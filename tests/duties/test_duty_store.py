"""The duty store on SQLite and PostgreSQL: what is filed is read back, a restart keeps
all of it, a day's commitment is filed once, and each person's change is in the audit."""

from __future__ import annotations

from datetime import date

import pytest

from hazmon.alerts import AlarmService, AlarmStore, RegistryDirectory
from hazmon.alerts.audit import entries, verify_chain
from hazmon.domain.registry import load_registry
from hazmon.duties.chain import ChainRole, DutyRecord, HiddenDanger
from hazmon.duties.config import DutiesConfig
from hazmon.duties.patrol import PatrolCheck, PatrolRecord
from hazmon.duties.runstate import RunState
from hazmon.duties.service import AlreadyFiledError, DutyService
from hazmon.duties.store import DutyStore
from tests.clock import FakeClock
from tests.duties.support import form, shanghai_ms
from tests.support import ENT, REGISTRY_FILE

NOW = shanghai_ms(2026, 11, 22, 9, 30)
REG = load_registry(REGISTRY_FILE)
STOPPED = {"code": "MHS-01", "run_state": "stopped", "reason": "停车检修换热器",
           "expected_end": "2026-11-25T08:00:00+08:00", "baobao_in_place": True}


async def _open(url: str, clock: FakeClock) -> tuple[AlarmStore, DutyService]:
    alarms_db = await AlarmStore.open(url)
    alarms = AlarmService(alarms_db, directory=RegistryDirectory(REG), clock=clock)
    return alarms_db, DutyService(await DutyStore.open(alarms_db.db), DutiesConfig(), alarms,
                                  clock, seed=7)


async def test_a_restart_keeps_every_duty(db_url: str) -> None:
    clock = FakeClock(NOW)
    store, duties = await _open(db_url, clock)
    ent = REG.enterprises[ENT]
    filed = await duties.file_commitment(ent, form(hazard_sources=[STOPPED]), "enterprise:zh")
    assert not filed.late
    with pytest.raises(AlreadyFiledError, match="2026-11-22的安全承诺已填报"):
        await duties.file_commitment(ent, form(), "enterprise:zh")
    rid = await duties.record_duty(DutyRecord(
        ENT, "MHS-01", ChainRole.TECHNICAL, "李四", NOW - 3_600_000, ("罐区液位联锁",),
        (HiddenDanger(duties.new_id(), "T101 液位计漂移", date(2026, 11, 30)),)),
        "enterprise:li")
    [call] = await duties.call_roll([ENT], "county:xiangshui")
    clock.advance(minutes=2)
    await duties.answer_roll_call(call.id, "enterprise:wang")
    draws = await duties.draw_patrols(REG, date(2026, 11, 22))
    await duties.record_patrol(PatrolRecord(ENT, date(2026, 11, 22), "county:xiangshui", NOW,
                                            {c: c is not PatrolCheck.ROLL_CALL_ANSWERED
                                             for c in PatrolCheck}, "点名未应答"))
    await store.close()

    store, duties = await _open(db_url, clock)
    try:
        kept = await duties.store.commitment(ENT, date(2026, 11, 22))
        assert kept is not None
        assert kept.commitment == filed.commitment
        assert kept.commitment.input.hazard_sources[0].reason == "停车检修换热器"
        rs = await duties.store.run_state(ENT, "MHS-01")
        assert rs is not None
        assert (rs.state, rs.reason, rs.set_by) == (RunState.STOPPED, "停车检修换热器",
                                                    "enterprise:zh")
        assert rs.expected_end_ms == shanghai_ms(2026, 11, 25, 8)
        [hist] = await duties.store.run_state_history(ENT, "MHS-01")
        assert (hist.origin, hist.state) == ("commitment", RunState.STOPPED)
        [hold] = await duties.alarms.holds(ENT)
        assert hold.reason == "运行状态:停车(停车检修换热器)"
        [(got_id, rec)] = await duties.store.duty_records(ENT)
        assert got_id == rid
        assert rec.checked == ("罐区液位联锁",)
        assert rec.hidden_dangers[0].description == "T101 液位计漂移"
        assert rec.hidden_dangers[0].fixed_at_ms is None
        got = await duties.store.roll_call(call.id)
        assert got is not None
        assert (got.answered_at_ms, got.answered_by) == (NOW + 120_000, "enterprise:wang")
        assert await duties.store.patrol_draws(date(2026, 11, 22)) == draws
        assert await duties.draw_patrols(REG, date(2026, 11, 22)) == draws  # drawn once
        [p] = await duties.store.patrol_records(date(2026, 11, 22))
        assert p.failed == (PatrolCheck.ROLL_CALL_ANSWERED,)
        actions = [e.action for e in await entries(store.db)]
        assert actions == ["run_state_set", "commitment_filed", "hold_suppressed",
                           "duty_recorded", "roll_call", "roll_call_answered",
                           "patrol_recorded"]
        assert (await verify_chain(store.db)).ok
    finally:
        await store.close()


async def test_history_is_newest_first_and_a_late_filing_is_marked(db_url: str) -> None:
    clock = FakeClock(shanghai_ms(2026, 11, 21, 9, 0))
    store, duties = await _open(db_url, clock)
    try:
        ent = REG.enterprises[ENT]
        await duties.file_commitment(ent, form(day="2026-11-21"), "enterprise:zh")
        clock.now = shanghai_ms(2026, 11, 22, 10, 0, 1)  # one second past the line
        late = await duties.file_commitment(ent, form(), "enterprise:zh")
        assert late.late
        items, total = await duties.store.commitments_of(ENT)
        assert total == 2
        assert [(c.commitment.day.isoformat(), c.late) for c in items] == [
            ("2026-11-22", True), ("2026-11-21", False)]
    finally:
        await store.close()
