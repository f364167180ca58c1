from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from hazmon.duties.commitment import Commitment, file_commitment
from hazmon.duties.config import CommitmentConfig, DutiesConfig
from hazmon.duties.deadline import CommitmentStatus, day_rows, deadline_ms, fact, status
from hazmon.duties.facts import FactKind
from hazmon.duties.runstate import (
    RunState,
    TransitionError,
    process_alarms_suppressed,
    running_but_silent,
    stopped_past_expected_end,
    transition,
)
from tests.duties.support import CONFIG, enterprise, form, shanghai_ms

DAY = date(2026, 11, 22)


def filed(at: int, **over: object) -> Commitment:
    return file_commitment(form(**over), enterprise(), now_ms=at, by="t", config=CONFIG)


@pytest.mark.parametrize(("filed_at", "expected"), [
    (shanghai_ms(2026, 11, 22, 0, 0, 1), CommitmentStatus.ON_TIME),
    (shanghai_ms(2026, 11, 22, 9, 59, 59), CommitmentStatus.ON_TIME),
    (shanghai_ms(2026, 11, 22, 10, 0, 0), CommitmentStatus.ON_TIME),
    (shanghai_ms(2026, 11, 22, 10, 0, 1), CommitmentStatus.LATE),
    (shanghai_ms(2026, 11, 22, 23, 59, 59), CommitmentStatus.LATE),
])
def test_filed_on_either_side_of_the_10_oclock_line(filed_at: int, expected: str) -> None:
    c = filed(filed_at)
    assert status(DAY, c, shanghai_ms(2026, 11, 23, 12), CONFIG) == expected


def test_not_filed_is_pending_until_the_deadline_then_missing() -> None:
    assert status(DAY, None, shanghai_ms(2026, 11, 21, 23, 59), CONFIG) == "pending"
    assert status(DAY, None, shanghai_ms(2026, 11, 22, 10, 0), CONFIG) == "pending"
    assert status(DAY, None, shanghai_ms(2026, 11, 22, 10, 0, 1), CONFIG) == "missing"
    # yesterday's commitment does not count for today
    yesterday = file_commitment(form(day="2026-11-21"), enterprise(),
                                now_ms=shanghai_ms(2026, 11, 21, 9), by="t", config=CONFIG)
    assert status(DAY, yesterday, shanghai_ms(2026, 11, 22, 11), CONFIG) == "missing"


def test_the_deadline_is_the_provinces_and_in_its_time_zone() -> None:
    dalian = DutiesConfig(commitment=CommitmentConfig(deadline=time(9, 30),
                                                      window_start=time(9, 0)))
    assert status(DAY, None, shanghai_ms(2026, 11, 22, 9, 31), dalian) == "missing"
    # 10:00 in Shanghai is 02:00 UTC: a UTC-based deadline would say pending at 09:00 UTC
    assert status(DAY, None, shanghai_ms(2026, 11, 22, 10, 1), CONFIG) == "missing"
    utc = DutiesConfig(timezone="UTC")
    assert status(DAY, None, shanghai_ms(2026, 11, 22, 10, 1), utc) == "pending"


def test_missing_and_late_become_facts_for_the_warning_layer() -> None:
    f = fact("E", DAY, CommitmentStatus.MISSING, CONFIG)
    assert f is not None
    assert f.kind is FactKind.COMMITMENT_MISSING
    assert f.at_ms == shanghai_ms(2026, 11, 22, 10)
    assert f.key == "commitment:2026-11-22"
    late = fact("E", DAY, CommitmentStatus.LATE, CONFIG, filed_at_ms=123)
    assert late is not None
    assert late.kind is FactKind.COMMITMENT_LATE
    assert late.at_ms == 123
    assert fact("E", DAY, CommitmentStatus.ON_TIME, CONFIG) is None
    assert fact("E", DAY, CommitmentStatus.PENDING, CONFIG) is None


def test_regulators_see_missing_then_danger_then_transient_first() -> None:
    at = shanghai_ms(2026, 11, 22, 9)
    plain = filed(at)
    danger = filed(at, major_hidden_danger=True, major_hidden_danger_note="储罐腐蚀")
    startup = filed(at, hazard_sources=[{"code": "MHS-01", "run_state": "startup",
                                         "reason": "开车", "baobao_in_place": True}])
    late = filed(shanghai_ms(2026, 11, 22, 10, 30))
    cs = [Commitment("A", plain.input, "", at, "t"), Commitment("B", danger.input, "", at, "t"),
          Commitment("C", startup.input, "", at, "t"), Commitment("D", late.input, "",
                                                                  late.filed_at_ms, "t")]
    rows = day_rows(DAY, ["A", "B", "C", "D", "E"], cs, shanghai_ms(2026, 11, 22, 11), CONFIG)
    assert [r.enterprise for r in rows] == ["E", "B", "C", "D", "A"]
    assert [r.status for r in rows] == ["missing", "on_time", "on_time", "late", "on_time"]


def test_process_alarms_are_suppressed_only_while_stopped_or_in_turnaround() -> None:
    r = transition(None, "E", "S", RunState.RUNNING, at_ms=0, by="u")
    assert not process_alarms_suppressed(r)
    r = transition(r, "E", "S", RunState.STOPPED, at_ms=10, by="u", reason="停电",
                   expected_end_ms=1000)
    assert process_alarms_suppressed(r)
    assert r.since_ms == 10
    r = transition(r, "E", "S", RunState.TURNAROUND, at_ms=20, by="u", reason="大修",
                   expected_end_ms=2000)
    assert process_alarms_suppressed(r)
    r = transition(r, "E", "S", RunState.STARTUP, at_ms=30, by="u", reason="开车")
    assert not process_alarms_suppressed(r)
    assert not process_alarms_suppressed(None)


@pytest.mark.parametrize(("frm", "to", "message"), [
    (RunState.RUNNING, RunState.STARTUP, "不能从运行直接转为开车"),
    (RunState.STOPPED, RunState.RUNNING, "不能从停车直接转为运行"),
])
def test_refused_transitions_say_why(frm: RunState, to: RunState, message: str) -> None:
    cur = transition(None, "E", "S", frm, at_ms=0, by="u", reason="r", expected_end_ms=10**12)
    with pytest.raises(TransitionError, match=message):
        transition(cur, "E", "S", to, at_ms=1, by="u", reason="r", expected_end_ms=10**12)


def test_a_stop_needs_a_reason_and_a_future_expected_end() -> None:
    with pytest.raises(TransitionError, match="停车须填写原因"):
        transition(None, "E", "S", RunState.STOPPED, at_ms=0, by="u", expected_end_ms=5)
    with pytest.raises(TransitionError, match="停车须填写预计结束时间"):
        transition(None, "E", "S", RunState.STOPPED, at_ms=0, by="u", reason="r")
    with pytest.raises(TransitionError, match="预计结束时间须晚于当前时间"):
        transition(None, "E", "S", RunState.STOPPED, at_ms=5, by="u", reason="r",
                   expected_end_ms=5)


def test_stopped_past_expected_end_and_running_but_silent_are_flagged() -> None:
    r = transition(None, "E", "S", RunState.STOPPED, at_ms=0, by="u", reason="r",
                   expected_end_ms=1000)
    assert stopped_past_expected_end(r, 999) is None
    f = stopped_past_expected_end(r, 1000)
    assert f is not None
    assert f.kind is FactKind.STOPPED_PAST_EXPECTED_END
    assert f.at_ms == 1000
    assert running_but_silent(r, gateway_online=False, now_ms=5) is None  # stopped: expected
    run = transition(None, "E", "S", RunState.RUNNING, at_ms=0, by="u")
    assert running_but_silent(run, gateway_online=True, now_ms=5) is None
    silent = running_but_silent(run, gateway_online=False, now_ms=5)
    assert silent is not None
    assert silent.kind is FactKind.RUNNING_BUT_SILENT
    assert stopped_past_expected_end(run, 10**12) is None


@pytest.mark.parametrize("day", [date(2026, 1, 15), date(2026, 3, 29), date(2026, 7, 1),
                                 date(2026, 10, 25), date(2026, 12, 31)])
def test_the_10_oclock_deadline_is_02_utc_all_year(day: date) -> None:
    # Asia/Shanghai has no daylight saving time: the line does not move with the season
    expected = datetime(day.year, day.month, day.day, 2, tzinfo=UTC)
    assert deadline_ms(day, CONFIG) == int(expected.timestamp() * 1000)
