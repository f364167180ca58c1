"""The duties' figures of a report (hazmon.duties.report): roll calls answered in time,
late, missed and waiting per enterprise; patrol coverage per county over the span's
days; commitments on time, late, missing per enterprise; only the span and the scope."""

from __future__ import annotations

from datetime import date
from typing import Any

from hazmon.duties.commitment import Commitment, file_commitment
from hazmon.duties.patrol import PatrolCheck, PatrolDraw, PatrolRecord
from hazmon.duties.report import DutyFigures, ScopeEnterprise, duty_figures, span_days
from hazmon.duties.rollcall import RollCall
from tests.duties.support import CONFIG, enterprise, form, shanghai_ms

A, B, C = "91320921MA1AAAAA0A", "91320921MA1BBBBB0B", "91320902MA1CCCCC0C"
SCOPE = (ScopeEnterprise(A, "甲化工", "320921"), ScopeEnterprise(B, "乙化工", "320921"),
         ScopeEnterprise(C, "丙化工", "320902"))
NOV22, NOV23 = date(2026, 11, 22), date(2026, 11, 23)
START, END = shanghai_ms(2026, 11, 22, 0), shanghai_ms(2026, 11, 24, 0)
NOW = shanghai_ms(2026, 11, 24, 12)
OK = dict.fromkeys(PatrolCheck, True)


def call(cid: str, ent: str, at: int, answered_after_s: int | None) -> RollCall:
    answered = None if answered_after_s is None else at + answered_after_s * 1000
    return RollCall(cid, ent, at, at + 300_000, "county:sun", answered,
                    None if answered is None else "值班员")


def commitment(ent: str, day: date, filed_at: int) -> Commitment:
    c = file_commitment(form(day=day.isoformat()), enterprise(), now_ms=filed_at, by="x",
                        config=CONFIG)
    return Commitment(ent, c.input, c.text, c.filed_at_ms, c.filed_by)


CALLS = [
    call("1", A, shanghai_ms(2026, 11, 22, 9), 60),  # in time
    call("2", A, shanghai_ms(2026, 11, 22, 15), 600),  # late
    call("3", A, shanghai_ms(2026, 11, 23, 9), None),  # missed
    call("4", B, shanghai_ms(2026, 11, 23, 9), 299),  # in time
    call("5", C, shanghai_ms(2026, 11, 23, 9), None),  # missed
    call("6", A, shanghai_ms(2026, 11, 21, 23, 59), None),  # before the span
    call("7", A, shanghai_ms(2026, 11, 24, 0), None),  # at its end: after
    call("8", "91320921MA1ZZZZZ0Z", shanghai_ms(2026, 11, 22, 9), None),  # not in scope
]
DRAWS = [
    PatrolDraw("320921", NOV22, "1", (A, B), START),
    PatrolDraw("320921", NOV23, "1", (A,), START),
    PatrolDraw("320902", NOV23, "1", (C, "91320902MA1OUTSID0E"), START),
    PatrolDraw("320921", date(2026, 11, 24), "1", (A, B), START),  # after the span
]
PATROLS = [
    PatrolRecord(A, NOV22, "county:sun", shanghai_ms(2026, 11, 22, 11), OK),
    PatrolRecord(B, NOV23, "county:sun", shanghai_ms(2026, 11, 23, 11), OK),  # not sampled
    PatrolRecord(C, NOV23, "county:li", shanghai_ms(2026, 11, 23, 11), OK),
]
COMMITMENTS = [
    commitment(A, NOV22, shanghai_ms(2026, 11, 22, 9)),
    commitment(A, NOV23, shanghai_ms(2026, 11, 23, 11)),  # late
    commitment(B, NOV22, shanghai_ms(2026, 11, 22, 10)),  # exactly at 10:00: on time
    commitment(C, NOV22, shanghai_ms(2026, 11, 22, 8)),
    commitment(C, NOV23, shanghai_ms(2026, 11, 23, 8)),
]


def figures(**over: Any) -> DutyFigures:
    args: dict[str, Any] = dict(
        scope=SCOPE, start_ms=START, end_ms=END, now_ms=NOW, config=CONFIG, calls=CALLS,
        draws=DRAWS, patrols=PATROLS, commitments=COMMITMENTS,
        county_names={"320921": "响水县"})
    return duty_figures(**{**args, **over})


def test_the_span_is_the_province_days_it_touches() -> None:
    assert span_days(START, END, CONFIG) == [NOV22, NOV23]
    assert span_days(START, START + 1, CONFIG) == [NOV22]
    assert span_days(START, START, CONFIG) == []


def test_roll_calls_per_enterprise_lowest_rate_first() -> None:
    f = figures()
    rows = [(r.enterprise, r.calls, r.answered, r.answered_late, r.missed, r.waiting,
             r.answer_rate_pct) for r in f.roll_calls]
    assert rows == [(C, 1, 0, 0, 1, 0, 0.0), (A, 3, 1, 1, 1, 0, 33.3),
                    (B, 1, 1, 0, 0, 0, 100.0)]
    t = f.roll_call_total
    assert (t.calls, t.answered, t.answered_late, t.missed, t.answer_rate_pct) == (
        5, 2, 1, 2, 40.0)


def test_a_call_within_its_deadline_is_waiting_and_not_in_the_rate() -> None:
    at = shanghai_ms(2026, 11, 23, 23, 58)
    f = figures(calls=[call("w", B, at, None), call("x", B, at - 3_600_000, 10)],
                now_ms=at + 60_000, end_ms=at + 60_000)
    (row,) = f.roll_calls
    assert (row.calls, row.waiting, row.answered, row.answer_rate_pct) == (2, 1, 1, 100.0)


def test_patrol_coverage_per_county_over_the_days_drawn() -> None:
    f = figures()
    rows = [(r.county, r.name, r.days, r.sampled, r.patrolled, r.coverage_pct, r.records)
            for r in f.patrols]
    # 320921: A and B on the 22nd (A patrolled), A on the 23rd (B patrolled instead);
    # 320902: C (in scope) on the 23rd, patrolled; the other enterprise is not in scope
    assert rows == [("320902", "320902", 1, 1, 1, 100.0, 1),
                    ("320921", "响水县", 2, 3, 1, 33.3, 2)]
    t = f.patrol_total
    assert (t.days, t.sampled, t.patrolled, t.coverage_pct, t.records) == (3, 4, 2, 50.0, 3)


def test_commitments_on_time_late_missing_listing_only_the_laggards() -> None:
    f = figures()
    rows = [(r.enterprise, r.days, r.on_time, r.late, r.missing) for r in f.commitments]
    assert rows == [(B, 2, 1, 0, 1), (A, 2, 1, 1, 0)]  # C filed both days on time
    t = f.commitment_total
    assert (t.days, t.on_time, t.late, t.missing, t.on_time_pct) == (6, 4, 1, 1, 66.7)


def test_a_day_whose_deadline_has_not_passed_or_before_duties_began_is_not_judged() -> None:
    before_ten = shanghai_ms(2026, 11, 23, 9, 59)
    f = figures(now_ms=before_ten, end_ms=before_ten)
    assert f.commitment_total.days == 3  # the 22nd only, for three enterprises
    begun = figures(started_ms=shanghai_ms(2026, 11, 22, 12))
    assert begun.commitment_total.days == 3  # the 23rd only
    assert [(r.enterprise, r.late, r.missing) for r in begun.commitments] == [
        (B, 0, 1), (A, 1, 0)]


def test_only_the_scope_counts() -> None:
    f = figures(scope=SCOPE[2:])  # a county user of 320902
    assert [r.enterprise for r in f.roll_calls] == [C]
    assert [r.county for r in f.patrols] == ["320902"]
    assert f.commitment_total.days == 2
    assert f.to_dict()["roll_calls"]["total"]["calls"] == 1


def test_the_json_of_the_figures() -> None:
    d = figures().to_dict()
    assert d["roll_calls"]["enterprises"][1] == {
        "enterprise": A, "name": "甲化工", "calls": 3, "answered": 1, "answered_late": 1,
        "missed": 1, "waiting": 0, "answer_rate_pct": 33.3}
    assert d["patrols"]["counties"][1] == {
        "county": "320921", "name": "响水县", "days": 2, "sampled": 3, "patrolled": 1,
        "coverage_pct": 33.3, "records": 2}
    assert d["commitments"]["total"] == {
        "enterprise": "", "name": "合计", "days": 6, "on_time": 4, "late": 1, "missing": 1,
        "on_time_pct": 66.7}
