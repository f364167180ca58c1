"""Warning reports (通报) from synthetic warnings: every figure, the period boundaries in
Asia/Shanghai, an empty period, the trend (also against a zero previous period), the
filters, and the CSV and HTML renderings."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from hazmon.domain.regions import Level
from hazmon.warnings.evaluate import Assessment, Reason
from hazmon.warnings.feedback import Cause, DisposalFeedback
from hazmon.warnings.levels import WarningLevel
from hazmon.warnings.lifecycle import (
    Accept,
    Actor,
    ActorKind,
    EarlyWarning,
    FileFeedback,
    MarkOverdue,
    Return,
    WarningState,
    apply,
    open_warning,
)
from hazmon.warnings.policy import WarningPolicy
from hazmon.warnings.report import (
    Period,
    ReportRefused,
    Window,
    build_report,
    period_window,
)
from hazmon.warnings.report_render import report_csv, report_html

CN = timezone(timedelta(hours=8))
MIN = 60_000
HOUR = 60 * MIN
ENT_A, ENT_B, ENT_C = "91320921MA1AAAAA0A", "91320921MA1BBBBB0B", "91320982MA1CCCCC0C"
RED, ORANGE, YELLOW, BLUE = (WarningLevel.RED, WarningLevel.ORANGE, WarningLevel.YELLOW,
                             WarningLevel.BLUE)
OPEN, FILED, RETURNED, CLOSED = (WarningState.OPEN, WarningState.FEEDBACK_FILED,
                                 WarningState.RETURNED, WarningState.CLOSED)


def cn(y: int, m: int, d: int, h: int = 0, mi: int = 0, s: int = 0, ms: int = 0) -> int:
    """Epoch ms of a wall time in China (UTC+8), written out without the code's zone."""
    return int(datetime(y, m, d, h, mi, s, tzinfo=CN).timestamp() * 1000) + ms


DEC2 = date(2026, 12, 2)  # a Wednesday; its ISO week runs Mon 11-30 to Sun 12-06
END_OF_DEC2 = cn(2026, 12, 3)


def feedback(cause: Cause) -> DisposalFeedback:
    return DisposalFeedback(cause=cause, cause_detail="说明" if cause is Cause.OTHER else "",
                            measures="已处置", person="张三", phone="13812345678",
                            handled_at=datetime(2026, 12, 1, tzinfo=UTC), cause_removed=True)


def warning(wid: str, at: int, *, level: WarningLevel = ORANGE, enterprise: str = ENT_A,
            region: str = "320921", state: WarningState = OPEN, deadline: int | None = None,
            overdue: bool = False, returns: int = 0, escalations: int = 0,
            cause: Cause | None = None, closed_at: int | None = None,
            simulated: bool = False) -> EarlyWarning:
    return EarlyWarning(
        id=wid, enterprise=enterprise, hazard_source="MHS-01", name="罐区一", region=region,
        tier=1, level=level, reasons=(), opened_at_ms=at, reviewer=Level.COUNTY, state=state,
        deadline_ms=deadline, overdue=overdue, escalations=escalations, returns=returns,
        feedback=feedback(cause) if cause is not None else None, closed_at_ms=closed_at,
        closed_by="county:sun" if closed_at is not None else None, simulated=simulated,
    )


def day_of_warnings() -> list[EarlyWarning]:
    """Dec 2: eight warnings, one of each situation the report tells apart."""
    t = cn(2026, 12, 2, 8)
    return [
        # awaiting feedback, within its deadline: pending
        warning("W1", t, level=RED, deadline=t + 4 * HOUR + 30 * MIN),
        # awaiting feedback, deadline passed but not yet marked: overdue, late
        warning("W2", t, level=ORANGE, deadline=t + HOUR),
        # marked overdue and escalated, still no feedback
        warning("W3", t, level=ORANGE, deadline=t + 5 * HOUR, overdue=True, escalations=1),
        # feedback filed on time, awaiting review
        warning("W4", t, level=YELLOW, state=FILED, cause=Cause.INSTRUMENT_FAULT),
        # returned once, new feedback due later: on time so far
        warning("W5", t, level=YELLOW, state=RETURNED, deadline=t + 8 * HOUR, returns=1,
                cause=Cause.PROCESS_FLUCTUATION),
        # closed after 40 min, on time
        warning("W6", t, level=BLUE, enterprise=ENT_B, state=CLOSED, cause=Cause.FALSE_ALARM,
                closed_at=t + 40 * MIN),
        # closed after 2 h, late, returned twice
        warning("W7", t, level=RED, enterprise=ENT_B, state=CLOSED, overdue=True, returns=2,
                cause=Cause.REAL_EXCEEDANCE, closed_at=t + 2 * HOUR),
        # closed after 90 min
        warning("W8", t, level=BLUE, enterprise=ENT_B, state=CLOSED, cause=Cause.FALSE_ALARM,
                closed_at=t + 90 * MIN),
    ]


NOW = cn(2026, 12, 2, 12)  # noon on Dec 2: the day is still running


def test_every_figure_of_a_day() -> None:
    report = build_report(day_of_warnings(), "3209", "day", DEC2, NOW)
    assert report.to_dict()["figures"] == {
        "total": 8,
        "by_level": {"red": 2, "orange": 2, "yellow": 2, "blue": 2},
        "by_state": {"open": 3, "feedback_filed": 1, "returned": 1, "closed": 3},
        "by_cause": {"instrument_fault": 1, "process_fluctuation": 1, "maintenance": 0,
                     "real_leak_or_exceedance": 1, "false_alarm": 2, "other": 0},
        "no_feedback": 3,
        # due: W2, W3 (overdue) and W4..W8 (feedback); late: W2, W3, W7; W1 is pending
        "feedback": {"due": 7, "on_time": 4, "late": 3, "pending": 1, "on_time_pct": 57.1},
        "overdue": 3, "escalated": 1, "returned": 2, "returns": 3,
        "closed": 3, "close_rate_pct": 37.5, "median_close_ms": 90 * MIN, "open": 5,
    }


def test_deadlines_passing_later_make_warnings_late() -> None:
    # at the end of the day W1's (12:30) and W5's new (16:00) deadlines have passed
    report = build_report(day_of_warnings(), "3209", "day", DEC2, END_OF_DEC2)
    fb = report.figures.feedback
    assert (fb.due, fb.on_time, fb.late, fb.pending) == (8, 3, 5, 0)
    assert fb.on_time_pct == 37.5
    assert report.figures.overdue == 5


def test_figures_follow_the_real_state_machine() -> None:
    """Warnings driven through lifecycle.apply: the report reads their state as it is."""
    policy = WarningPolicy()
    owner = Actor("user:a", ActorKind.ENTERPRISE, enterprise=ENT_A)
    county = Actor("county:sun", ActorKind.REGULATOR, level=Level.COUNTY)
    t = cn(2026, 12, 2, 9)

    def opened(wid: str, level: WarningLevel) -> EarlyWarning:
        a = Assessment(ENT_A, "MHS-01", "罐区一", "320921", 1, level,
                       (Reason(f"{level}_rule", "alarm_active", level, "说明"),))
        return open_warning(wid, a, policy, t).warning

    yellow = opened("Y", YELLOW)  # 4 h deadline
    on_time = apply(yellow, FileFeedback(t + HOUR, owner, feedback(Cause.MAINTENANCE)),
                    policy).warning
    returned = apply(on_time, Return(t + 2 * HOUR, county, "措施不具体"), policy).warning
    refiled = apply(returned, FileFeedback(t + 3 * HOUR, owner, feedback(Cause.MAINTENANCE)),
                    policy).warning  # within the new deadline: still on time
    blue = opened("B", BLUE)  # 24 h deadline: late feedback after 25 h, then closed
    late = apply(blue, FileFeedback(t + 25 * HOUR, owner, feedback(Cause.OTHER)),
                 policy).warning
    closed = apply(late, Accept(t + 26 * HOUR, county), policy).warning
    orange = opened("O", ORANGE)
    marked = apply(orange, MarkOverdue(t + HOUR), policy).warning  # 1 h deadline
    report = build_report([refiled, closed, marked], "320921", "day", DEC2, t + 30 * HOUR)
    f = report.figures
    assert (f.feedback.due, f.feedback.on_time, f.feedback.late) == (3, 1, 2)
    assert (f.returned, f.overdue, f.escalated, f.closed) == (1, 2, 1, 1)
    assert f.median_close_ms == 26 * HOUR
    assert f.by_cause[Cause.MAINTENANCE] == 1
    assert f.by_cause[Cause.OTHER] == 1


def test_periods_are_calendar_periods_in_china() -> None:
    assert period_window(Period.DAY, DEC2) == Window(cn(2026, 12, 2), cn(2026, 12, 3))
    # midnight in China is 16:00 UTC the day before
    assert period_window(Period.DAY, DEC2).start_ms == int(
        datetime(2026, 12, 1, 16, tzinfo=UTC).timestamp() * 1000)
    assert period_window(Period.WEEK, DEC2) == Window(cn(2026, 11, 30), cn(2026, 12, 7))
    assert period_window(Period.WEEK, date(2026, 12, 6)) == period_window(Period.WEEK, DEC2)
    assert period_window(Period.MONTH, DEC2) == Window(cn(2026, 12, 1), cn(2027, 1, 1))
    assert period_window(Period.MONTH, date(2027, 2, 14)) == Window(cn(2027, 2, 1),
                                                                     cn(2027, 3, 1))


@pytest.mark.parametrize(("period", "day", "before", "first"), [
    # the last millisecond of one period, the first of the next (China time)
    ("day", DEC2, cn(2026, 12, 1, 23, 59, 59, 999), cn(2026, 12, 2)),
    ("week", DEC2, cn(2026, 11, 29, 23, 59, 59, 999), cn(2026, 11, 30)),
    ("month", DEC2, cn(2026, 11, 30, 23, 59, 59, 999), cn(2026, 12, 1)),
])
def test_boundaries_across_midnight_week_and_month(period: str, day: date, before: int,
                                                   first: int) -> None:
    ws = [warning("before", before), warning("first", first)]
    report = build_report(ws, "", period, day, cn(2027, 1, 2))
    assert report.figures.total == 1  # "first" only
    assert report.previous_figures.total == 1  # "before" is the previous period's
    # the same instants in UTC fall on other calendar days: the zone decides, not UTC
    assert datetime.fromtimestamp(first / 1000, UTC).hour == 16


def test_a_warning_at_utc_midnight_belongs_to_the_china_day_of_0800() -> None:
    utc_midnight = int(datetime(2026, 12, 2, tzinfo=UTC).timestamp() * 1000)
    report = build_report([warning("W", utc_midnight)], "", "day", DEC2, END_OF_DEC2)
    assert report.figures.total == 1
    assert report.to_dict()["start"] == "2026-12-02T00:00:00+08:00"


def test_an_empty_period() -> None:
    report = build_report([warning("old", cn(2026, 10, 1))], "320921", "week", DEC2,
                          cn(2026, 12, 9))
    f = report.figures
    assert f.total == 0
    assert f.open == 0
    assert f.closed == 0
    assert f.feedback.on_time_pct is None
    assert f.close_rate_pct is None
    assert f.median_close_ms is None
    assert all(v == 0 for v in f.by_level.values())
    assert report.top_enterprises == ()
    assert report.overdue_enterprises == ()
    by_metric = {c.metric: c for c in report.trend}
    assert (by_metric["total"].delta, by_metric["total"].change_pct) == (0, None)
    assert by_metric["median_close_ms"].delta is None
    json.dumps(report.to_dict())  # JSON-able as it is
    assert "无" in report_html(report)
    assert report_csv(report).startswith(b"\xef\xbb\xbf")


def test_trend_against_a_zero_and_a_non_zero_previous_period() -> None:
    this_week = [warning(f"N{i}", cn(2026, 12, 1, 9), level=RED) for i in range(3)]
    last_week = [warning("P1", cn(2026, 11, 24, 9), level=ORANGE),
                 warning("P2", cn(2026, 11, 25, 9), level=ORANGE)]
    report = build_report(this_week + last_week, "3209", "week", DEC2, cn(2026, 12, 8))
    by_metric = {c.metric: c for c in report.trend}
    assert [c.metric for c in report.trend] == [
        "total", "level.red", "level.orange", "level.yellow", "level.blue", "overdue",
        "returned", "closed", "feedback_on_time_pct", "median_close_ms"]
    total = by_metric["total"]
    assert (total.current, total.previous, total.delta, total.change_pct) == (3, 2, 1, 50.0)
    red = by_metric["level.red"]
    assert (red.current, red.previous, red.delta, red.change_pct) == (3, 0, 3, None)
    orange = by_metric["level.orange"]
    assert (orange.delta, orange.change_pct) == (-2, -100.0)
    rows = list(csv.reader(io.StringIO(report_csv(report).decode("utf-8-sig"))))
    assert ["红色预警", "3", "0", "+3", "新增"] in rows
    assert ["预警总数", "3", "2", "+1", "+50.0%"] in rows


def test_a_running_period_is_compared_over_the_same_elapsed_span() -> None:
    ws = [warning("today", cn(2026, 12, 2, 9)),
          warning("yesterday-early", cn(2026, 12, 1, 11, 59)),
          warning("yesterday-late", cn(2026, 12, 1, 12, 1))]
    report = build_report(ws, "", "day", DEC2, NOW)
    assert not report.complete
    assert report.counted == Window(cn(2026, 12, 2), NOW)
    assert report.previous == Window(cn(2026, 12, 1), cn(2026, 12, 1, 12))
    assert (report.figures.total, report.previous_figures.total) == (1, 1)
    done = build_report(ws, "", "day", DEC2, END_OF_DEC2)
    assert done.complete
    assert done.previous_figures.total == 2


def test_month_comparison_of_a_running_month_stops_at_the_shorter_month_end() -> None:
    ws = [warning("feb-28", cn(2027, 2, 28, 22))]
    report = build_report(ws, "", "month", date(2027, 3, 31), cn(2027, 3, 31, 23))
    assert report.previous == Window(cn(2027, 2, 1), cn(2027, 3, 1))
    assert report.previous_figures.total == 1


def test_region_prefix_and_simulated_warnings() -> None:
    t = cn(2026, 12, 2, 9)
    ws = [warning("county", t), warning("city", t, enterprise=ENT_C, region="320982"),
          warning("other-province", t, region="330106"),
          warning("drill", t, simulated=True)]
    assert build_report(ws, "320921", "day", DEC2, NOW).figures.total == 1
    assert build_report(ws, "3209", "day", DEC2, NOW).figures.total == 2
    assert build_report(ws, "", "day", DEC2, NOW).figures.total == 3
    drill = build_report(ws, "", "day", DEC2, NOW, include_simulated=True)
    assert drill.figures.total == 4
    assert drill.to_dict()["include_simulated"] is True


def test_top_enterprises_and_overdue_enterprises() -> None:
    t = cn(2026, 12, 2, 9)
    ws = [
        *(warning(f"A{i}", t, enterprise=ENT_A, level=BLUE) for i in range(3)),
        *(warning(f"B{i}", t, enterprise=ENT_B, level=RED, overdue=True) for i in range(3)),
        warning("C1", t, enterprise=ENT_C, region="320982", overdue=True),
    ]
    names = {ENT_A: "甲化工", ENT_B: "乙化工"}
    report = build_report(ws, "3209", "day", DEC2, NOW, enterprise_names=names, top=2)
    top = report.to_dict()["top_enterprises"]
    # equal counts: the graver (B, three reds) first; only two listed
    assert [(e["enterprise"], e["name"], e["total"]) for e in top] == [
        (ENT_B, "乙化工", 3), (ENT_A, "甲化工", 3)]
    assert top[0]["by_level"] == {"red": 3, "orange": 0, "yellow": 0, "blue": 0}
    assert (top[0]["overdue"], top[0]["open"]) == (3, 3)
    overdue = report.to_dict()["overdue_enterprises"]
    assert [(e["enterprise"], e["name"], e["overdue"]) for e in overdue] == [
        (ENT_B, "乙化工", 3), (ENT_C, ENT_C, 1)]  # no name given: the code


@pytest.mark.parametrize(("args", "error"), [
    (("32a", "day", DEC2, NOW), "up to 6 digits"),
    (("3209211", "day", DEC2, NOW), "up to 6 digits"),
    (("3209", "year", DEC2, NOW), "period must be one of day, week, month"),
    (("3209", "day", date(2026, 12, 3), NOW), "has not begun"),
])
def test_refusals(args: tuple[str, str, date, int], error: str) -> None:
    with pytest.raises(ReportRefused, match=error):
        build_report([], *args)
    with pytest.raises(ReportRefused, match="top must be 1 to 100"):
        build_report([], "3209", "day", DEC2, NOW, top=0)


def test_day_defaults_to_today_in_china() -> None:
    late_evening_utc = int(datetime(2026, 12, 1, 17, tzinfo=UTC).timestamp() * 1000)
    report = build_report([], "", "day", None, late_evening_utc)
    assert report.day == DEC2  # 01:00 on Dec 2 in China


def test_json_names_every_section() -> None:
    report = build_report(day_of_warnings(), "320921", Period.DAY, DEC2, NOW,
                          region_name="响水县")
    d = json.loads(json.dumps(report.to_dict(), ensure_ascii=False))
    assert {k: d[k] for k in ("region_prefix", "region_name", "period", "day", "label",
                              "start", "end", "as_of", "complete")} == {
        "region_prefix": "320921", "region_name": "响水县", "period": "day",
        "day": "2026-12-02", "label": "2026年12月2日", "start": "2026-12-02T00:00:00+08:00",
        "end": "2026-12-03T00:00:00+08:00", "as_of": "2026-12-02T12:00:00+08:00",
        "complete": False}
    assert d["counted"]["end"] == "2026-12-02T12:00:00+08:00"
    assert d["previous"]["start"] == "2026-12-01T00:00:00+08:00"
    assert d["previous"]["figures"]["total"] == 0
    assert d["trend"][0] == {"metric": "total", "current": 8, "previous": 0, "delta": 8,
                             "change_pct": None}


def test_labels_of_week_and_month() -> None:
    assert build_report([], "", "week", DEC2, NOW).label == "2026年第49周（11月30日—12月6日）"
    assert build_report([], "", "month", DEC2, NOW).label == "2026年12月"


# --- renderings --------------------------------------------------------------------------------


def test_csv_is_excel_friendly_with_one_table_per_section() -> None:
    report = build_report(day_of_warnings(), "320921", "day", DEC2, END_OF_DEC2,
                          enterprise_names={ENT_A: "=HYPERLINK(\"x\")甲", ENT_B: "乙化工"},
                          region_name="响水县")
    data = report_csv(report)
    assert data.startswith("\ufeff".encode())
    text = data.decode("utf-8-sig")
    assert "\r\n" in text
    rows = list(csv.reader(io.StringIO(text)))
    titles = [rows[0][0]] + [rows[i + 1][0] for i, r in enumerate(rows[:-1]) if r == []
                             and i + 1 < len(rows)]
    assert titles == ["通报", "概况", "按级别", "按原因（企业处置反馈）", "处置情况",
                      "预警最多的企业（前 2 家）", "有逾期预警的企业"]
    assert ["标题", "响水县安全风险预警处置日报（2026年12月2日）"] in rows
    assert ["红色预警（重大）", "2"] in rows
    assert ["误报", "2"] in rows
    assert ["尚未反馈", "3"] in rows
    assert ["消警用时中位数（分钟）", "90.0"] in rows
    assert ["按时反馈率（%）", "37.5"] in rows
    ranked = [r for r in rows if r[:1] == ["1"]]
    assert ranked[0][1:4] == ["'=HYPERLINK(\"x\")甲", ENT_A, "5"]  # a formula is text


def test_html_is_printable_self_contained_and_escaped() -> None:
    ws = day_of_warnings()
    report = build_report(ws, "320921", "day", DEC2, NOW,
                          enterprise_names={ENT_A: "<script>alert('甲')</script>&Co"},
                          region_name="响水县<b>")
    page = report_html(report)
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="zh-CN">' in page
    assert '<meta charset="utf-8">' in page
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&#x27;甲&#x27;)&lt;/script&gt;&amp;Co" in page
    assert "响水县&lt;b&gt;安全风险预警处置日报" in page
    assert "@media print" in page
    assert "@page" in page
    assert "src=" not in page
    assert "href=" not in page
    assert "http" not in page
    for heading in ("概况", "按级别", "按原因（企业处置反馈）", "处置情况", "有逾期预警的企业"):
        assert f"<h2>{heading}</h2>" in page
    assert "本期尚未结束，与上期同一时段对比" in page
    assert "红色预警（重大）" in page
    assert "误报" in page


def test_csv_and_html_are_the_same_figures() -> None:
    report = build_report(day_of_warnings(), "320921", "day", DEC2, END_OF_DEC2)
    page = report_html(report)
    rows = list(csv.reader(io.StringIO(report_csv(report).decode("utf-8-sig"))))
    start = rows.index(["处置情况"]) + 2
    handling = rows[start:rows.index([], start)]
    assert len(handling) == 15
    for label, value in handling:
        assert f'<tr><td class="name">{label}</td><td>{value}</td></tr>' in page
