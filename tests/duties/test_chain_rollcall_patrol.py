from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from hazmon.domain.registry import load_registry
from hazmon.duties import patrol, rollcall
from hazmon.duties.chain import (
    ChainRole,
    DutyRecord,
    HiddenDanger,
    overdue_duties,
    overdue_hidden_dangers,
)
from hazmon.duties.config import ChainDutiesConfig, DutiesConfig, PatrolConfig
from hazmon.duties.facts import FactKind
from tests.duties.support import CONFIG, shanghai_ms
from tests.support import ENT, ENT2, REGISTRY_FILE

DAY_MS = 86_400_000
T0 = shanghai_ms(2026, 10, 1, 8)


def rec(role: ChainRole, at: int, *dangers: HiddenDanger) -> DutyRecord:
    return DutyRecord("E", "S", role, "p", at, ("仪表",), dangers)


def overdue_roles(records: list[DutyRecord], now: int, config: DutiesConfig = CONFIG
                  ) -> set[str]:
    return {f.key.split(":")[2] for f in overdue_duties("E", "S", records, since_ms=T0,
                                                       now_ms=now, config=config)}


def test_a_role_is_overdue_one_interval_after_its_last_check() -> None:
    assert overdue_roles([], T0 + 7 * DAY_MS) == set()
    assert overdue_roles([], T0 + 7 * DAY_MS + 1) == {"operational"}
    weekly = [rec(ChainRole.OPERATIONAL, T0 + 6 * DAY_MS)]
    assert overdue_roles(weekly, T0 + 8 * DAY_MS) == set()
    assert overdue_roles(weekly, T0 + 92 * DAY_MS + 1) == {"operational", "technical"}
    facts = overdue_duties("E", "S", [], since_ms=T0, now_ms=T0 + 8 * DAY_MS, config=CONFIG)
    assert [f.kind for f in facts] == [FactKind.DUTY_OVERDUE]
    assert facts[0].at_ms == T0 + 7 * DAY_MS


def test_the_principal_has_a_duty_only_when_the_province_sets_one() -> None:
    cfg = DutiesConfig(chain=ChainDutiesConfig(principal_days=30))
    assert "principal" in overdue_roles([], T0 + 31 * DAY_MS, cfg)
    assert "principal" not in overdue_roles([], T0 + 31 * DAY_MS)


def test_the_technical_check_is_owed_before_each_holiday() -> None:
    cfg = DutiesConfig(chain=ChainDutiesConfig(holidays=[date(2026, 10, 20)],
                                               before_holiday_days=7))
    checked = [rec(ChainRole.OPERATIONAL, T0 + 15 * DAY_MS)]
    just_before = shanghai_ms(2026, 10, 19, 23, 59)
    on_the_day = shanghai_ms(2026, 10, 20, 0, 0)
    assert overdue_roles(checked, just_before, cfg) == set()
    assert overdue_roles(checked, on_the_day, cfg) == {"technical"}
    done = [*checked, rec(ChainRole.TECHNICAL, shanghai_ms(2026, 10, 14, 9))]
    assert overdue_roles(done, on_the_day, cfg) == set()
    too_early = [*checked, rec(ChainRole.TECHNICAL, shanghai_ms(2026, 10, 12, 23))]
    assert overdue_roles(too_early, on_the_day, cfg) == {"technical"}


def test_a_hidden_danger_is_overdue_after_its_fix_by_day_unless_fixed() -> None:
    d = HiddenDanger("d1", "阀门泄漏", date(2026, 10, 5))
    fixed = HiddenDanger("d2", "标识缺失", date(2026, 10, 5), fixed_at_ms=T0)
    r = [rec(ChainRole.TECHNICAL, T0, d, fixed)]
    assert overdue_hidden_dangers(r, shanghai_ms(2026, 10, 5, 23, 59, 59), CONFIG) == []
    facts = overdue_hidden_dangers(r, shanghai_ms(2026, 10, 6, 0, 0), CONFIG)
    assert [(f.kind, f.key) for f in facts] == [(FactKind.HIDDEN_DANGER_OVERDUE, "danger:d1")]


CALLED = shanghai_ms(2026, 11, 22, 23, 58)  # the deadline (5 min) falls after midnight


@pytest.mark.parametrize(("answer_after_s", "expected"), [
    (60, "answered"), (300, "answered"), (301, "answered_late"), (None, "missed")])
def test_roll_call_answered_late_or_missed(answer_after_s: int | None, expected: str) -> None:
    rc = rollcall.call("c1", "E", CALLED, "regulator", CONFIG)
    assert rollcall.status(rc, CALLED + 299_000) == "waiting"
    if answer_after_s is not None:
        rc = rollcall.answer(rc, CALLED + answer_after_s * 1000, "值班员")
    assert rollcall.status(rc, CALLED + 3_600_000) == expected
    fact = rollcall.missed_fact(rc, CALLED + 3_600_000)
    assert (fact is not None) == (expected != "answered")
    if fact is not None:
        assert fact.kind is FactKind.ROLL_CALL_MISSED
        assert fact.at_ms == CALLED + 300_000


def test_a_second_answer_keeps_the_first_and_rates_count_in_time_answers() -> None:
    rc = rollcall.answer(rollcall.call("a", "E", 0, "s", CONFIG), 1000, "x")
    assert rollcall.answer(rc, 2000, "y").answered_by == "x"
    calls = [rc, rollcall.call("b", "E", 0, "s", CONFIG),
             rollcall.answer(rollcall.call("c", "E", 0, "s", CONFIG), 400_000, "x"),
             rollcall.call("d", "F", 10**9, "s", CONFIG)]
    rates = rollcall.answer_rates(calls, now_ms=10**6)
    assert (rates["E"].answered, rates["E"].late, rates["E"].missed) == (1, 1, 1)
    assert rates["E"].rate == pytest.approx(1 / 3)
    assert rates["F"].rate is None  # still waiting


def test_roll_call_sample_and_schedule_are_reproducible_with_a_seed() -> None:
    region = [f"E{i:02}" for i in range(20)]
    assert rollcall.sample(region, 5, seed=7) == rollcall.sample(list(reversed(region)), 5, 7)
    assert len({tuple(rollcall.sample(region, 5, s)) for s in range(20)}) > 1
    assert rollcall.sample(region[:3], 5, seed=1) == region[:3]
    day = date(2026, 11, 22)
    times = rollcall.schedule(day, 3, CONFIG)
    assert times == rollcall.schedule(day, 3, CONFIG)
    assert len(times) == 2
    assert all(shanghai_ms(2026, 11, 22, 0) <= t < shanghai_ms(2026, 11, 22, 23, 59)
               for t in times)


def cands(n: int) -> list[patrol.Candidate]:
    # half tier 1, half tier 4, in one county
    return [patrol.Candidate(f"E{i:02}", "320921", 1 if i % 2 == 0 else 4) for i in range(n)]


def test_patrol_sample_is_reproducible_and_sized_per_county() -> None:
    day = date(2026, 11, 22)
    cs = [*cands(10), patrol.Candidate("X1", "320902", None)]
    s = patrol.daily_sample(cs, day, seed=42, config=CONFIG)
    assert s == patrol.daily_sample(list(reversed(cs)), day, seed=42, config=CONFIG)
    assert len(s["320921"]) == 3
    assert s["320902"] == ["X1"]
    drawn = {tuple(patrol.daily_sample(cs, day, seed, CONFIG)["320921"]) for seed in range(20)}
    assert len(drawn) > 1  # the seed matters


def test_patrol_weighting_shifts_the_distribution_toward_tier_1_and_warnings() -> None:
    day = date(2026, 11, 22)
    one = DutiesConfig(patrol=PatrolConfig(sample_size=1))
    hits = Counter(patrol.daily_sample(cands(10), day, seed, one)["320921"][0]
                   for seed in range(2000))
    tier1 = sum(v for e, v in hits.items() if int(e[1:]) % 2 == 0)
    # weights 4 vs 1: tier-1 enterprises take about 80 % of single draws
    assert 0.75 < tier1 / 2000 < 0.85
    flat = [patrol.Candidate(f"E{i}", "c", 4) for i in range(5)]
    warned = [*flat[:4], patrol.Candidate("E4", "c", 4, recent_warnings=3)]
    hits = Counter(patrol.daily_sample(warned, day, s, one)["c"][0] for s in range(2000))
    assert hits["E4"] / 2000 > 0.4  # weight 4 of a total 8: about half, not a fifth


def test_patrol_candidates_from_the_registry_and_coverage() -> None:
    reg = load_registry(REGISTRY_FILE)
    cs = {c.enterprise: c for c in patrol.candidates(reg, {ENT2: 2})}
    assert cs[ENT].county == "320921"
    assert cs[ENT2].recent_warnings == 2
    assert cs[ENT].tier == reg.hazard_sources[(ENT, "MHS-01")].grading.tier
    day = date(2026, 11, 22)
    findings = {c: True for c in patrol.PatrolCheck} | {patrol.PatrolCheck.DATA_ONLINE: False}
    r = patrol.PatrolRecord(ENT, day, "官员", 0, findings)
    assert r.failed == (patrol.PatrolCheck.DATA_ONLINE,)
    assert patrol.coverage({"320921": [ENT], "320902": [ENT2]}, [r], day) == {
        "320921": 1.0, "320902": 0.0}
    with pytest.raises(ValueError, match="lacks findings"):
        patrol.PatrolRecord(ENT, day, "官员", 0, {patrol.PatrolCheck.DATA_ONLINE: True})
