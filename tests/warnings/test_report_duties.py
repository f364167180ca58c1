"""The duties in the report (通报): the figures handed to build_report are in its JSON,
and the same numbers in the CSV's and the page's duty tables; without duties there are
no duty tables."""

from __future__ import annotations

import csv
import io
from datetime import date

from hazmon.duties.config import DutiesConfig
from hazmon.duties.patrol import PatrolCheck, PatrolDraw, PatrolRecord
from hazmon.duties.report import DutyFigures, ScopeEnterprise, duty_figures
from hazmon.duties.rollcall import RollCall
from hazmon.warnings.report import build_report, counted_window
from hazmon.warnings.report_render import report_csv, report_html
from tests.warnings.test_warning_report import DEC2, cn

A, B = "91320921MA1AAAAA0A", "91320921MA1BBBBB0B"
NOW = cn(2026, 12, 2, 18)
DUTY_TITLES = ["值班点名应答率（按企业）", "在线巡查覆盖率（按县区）",
               "安全承诺填报（有逾期或未填报的企业）"]


def duties() -> DutyFigures:
    span = counted_window("day", DEC2, NOW)
    at = cn(2026, 12, 2, 9)
    return duty_figures(
        scope=[ScopeEnterprise(A, "甲化工", "320921"), ScopeEnterprise(B, "乙化工", "320921")],
        start_ms=span.start_ms, end_ms=span.end_ms, now_ms=NOW, config=DutiesConfig(),
        calls=[RollCall("1", A, at, at + 300_000, "s", at + 1000, "值班员"),
               RollCall("2", A, at + 1, at + 300_001, "s"),
               RollCall("3", B, at, at + 300_000, "s", at + 400_000, "值班员")],
        draws=[PatrolDraw("320921", DEC2, "7", (A, B), at)],
        patrols=[PatrolRecord(A, DEC2, "county:sun", at, dict.fromkeys(PatrolCheck, True))],
        county_names={"320921": "响水县"})


def test_the_json_carries_the_duty_figures_as_handed_in() -> None:
    d = duties()
    report = build_report([], "320921", "day", DEC2, NOW, duties=d)
    assert report.to_dict()["duties"] == d.to_dict()
    j = report.to_dict()["duties"]
    assert [(r["enterprise"], r["calls"], r["answered"], r["missed"], r["answer_rate_pct"])
            for r in j["roll_calls"]["enterprises"]] == [(B, 1, 0, 0, 0.0),
                                                           (A, 2, 1, 1, 50.0)]
    assert j["patrols"]["counties"] == [{"county": "320921", "name": "响水县", "days": 1,
                                         "sampled": 2, "patrolled": 1, "coverage_pct": 50.0,
                                         "records": 1}]
    # nobody filed on Dec 2, and its 10:00 deadline has passed at 18:00
    assert [(r["enterprise"], r["missing"]) for r in j["commitments"]["enterprises"]] == [
        (A, 1), (B, 1)]
    assert build_report([], "320921", "day", DEC2, NOW).to_dict()["duties"] is None


def test_the_csv_has_the_duty_tables_with_their_numbers() -> None:
    text = report_csv(build_report([], "320921", "day", DEC2, NOW, duties=duties())
                      ).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    titles = [rows[i + 1][0] for i, r in enumerate(rows[:-1]) if r == []]
    assert titles[-3:] == DUTY_TITLES
    assert ["甲化工", A, "2", "1", "0", "1", "0", "50"] in rows
    assert ["乙化工", B, "1", "0", "1", "0", "0", "0"] in rows
    assert ["合计", "—", "3", "1", "1", "1", "0", "33.3"] in rows
    assert ["响水县", "320921", "1", "2", "1", "50", "1"] in rows
    assert ["甲化工", A, "1", "0", "0", "1", "0"] in rows
    assert ["合计（范围内全部企业）", "—", "2", "0", "0", "2", "0"] in rows
    plain = report_csv(build_report([], "320921", "day", DEC2, NOW)).decode("utf-8-sig")
    assert not any(t in plain for t in DUTY_TITLES)


def test_the_page_has_the_duty_tables_with_their_numbers() -> None:
    page = report_html(build_report([], "320921", "day", DEC2, NOW, duties=duties()))
    for t in DUTY_TITLES:
        assert f"<h2>{t}</h2>" in page
    assert (f'<tr><td class="name">甲化工</td><td>{A}</td><td>2</td><td>1</td><td>0</td>'
            "<td>1</td><td>0</td><td>50</td></tr>") in page
    assert ('<tr><td class="name">响水县</td><td>320921</td><td>1</td><td>2</td><td>1</td>'
            "<td>50</td><td>1</td></tr>") in page
    assert "<h2>值班点名" not in report_html(build_report([], "320921", "day", DEC2, NOW))


def test_a_day_report_of_a_past_day_counts_the_whole_day() -> None:
    span = counted_window("day", date(2026, 12, 1), NOW)
    assert (span.start_ms, span.end_ms) == (cn(2026, 12, 1), cn(2026, 12, 2))
    running = counted_window("week", DEC2, NOW)
    assert (running.start_ms, running.end_ms) == (cn(2026, 11, 30), NOW)
