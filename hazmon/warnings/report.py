"""Warning reports (通报), pure: per region and period, how warnings were handled.

`build_report(warnings, region_prefix, period, day, now_ms)` is the whole contract; the
API's `GET /api/v1/warnings/report` hands it the warnings of the store and returns
`report.to_dict()` (JSON), `report_csv(report)` or `report_html(report)`
(report_render.py). The JSON is described in docs/CONTRACT.md ("Warning reports").

What is counted:

- **The period** is the calendar day, ISO week (Monday to Sunday) or month containing
  `day`, in Asia/Shanghai (UTC+8, no daylight saving): `[start, end)`.
- **The warnings of a period** are those *opened* in it, in the region (`region`
  starts with `region_prefix`), simulated ones left out unless asked for. Every figure
  describes them as they stand at `now_ms`: a report of a past period can still change
  while its warnings are handled (the JSON says `as_of`).
- **Overdue**: a feedback deadline was missed (`overdue` set), or the warning awaits
  feedback and its deadline has passed at `now_ms` (the deadline timer may lag).
- **Feedback on time**: of the warnings whose feedback fell due (feedback filed at
  least once, or overdue), the share that was never overdue. A warning still within
  its first deadline is `pending` and not in the share.
- **Returned**: sent back by the review at least once (`returns` > 0).
- **Time to close**: `closed_at - opened_at` of the period's warnings closed by
  `now_ms`; the median, in milliseconds.
- **Causes**: the cause of each warning's latest feedback; `no_feedback` the rest.
- **Top enterprises**: by number of warnings, then gravity (red, orange, ...), then
  code.
- **Trend**: the same figures of the previous period (the day, week or month before).
  While the period is still running (`now_ms` < end), both are compared over the same
  elapsed span: today until 10:20 against yesterday until 10:20. The previous period's
  warnings too are taken as they stand at `now_ms`. A previous value of 0 gives a
  `delta` but no `change_pct`; a figure without a value (no median) gives neither.
- **Duties**: the roll calls' answer rate per enterprise, the patrol coverage per county
  and the commitments filed on time, late or not at all, over the counted span
  (`hazmon.duties.report`); handed in by the caller, who reads the duty store.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any, Final
from zoneinfo import ZoneInfo

from hazmon.duties.report import DutyFigures
from hazmon.warnings.feedback import Cause
from hazmon.warnings.levels import WarningLevel
from hazmon.warnings.lifecycle import AWAITING_FEEDBACK, EarlyWarning, WarningState

ZONE: Final = ZoneInfo("Asia/Shanghai")
DEFAULT_TOP: Final = 10
MAX_TOP: Final = 100
LEVELS: Final = tuple(WarningLevel)  # gravest first
STATES: Final = tuple(WarningState)


class Period(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"

    @property
    def label(self) -> str:
        return _PERIOD_LABELS[self]


_PERIOD_LABELS: Final = {Period.DAY: "日报", Period.WEEK: "周报", Period.MONTH: "月报"}


class ReportRefused(ValueError):  # noqa: N818 - reads as what the API answers (422)
    """The report cannot be made as asked (a bad region prefix, a period not begun)."""


@dataclass(frozen=True, slots=True)
class Window:
    """`[start_ms, end_ms)`, UTC epoch milliseconds."""

    start_ms: int
    end_ms: int

    def holds(self, ts_ms: int) -> bool:
        return self.start_ms <= ts_ms < self.end_ms


def _ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def _midnight(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=ZONE)


def first_day(period: Period, day: date) -> date:
    """The first day of the period containing `day`."""
    match period:
        case Period.DAY:
            return day
        case Period.WEEK:
            return day - timedelta(days=day.weekday())
        case Period.MONTH:
            return day.replace(day=1)


def next_first_day(period: Period, first: date) -> date:
    match period:
        case Period.DAY:
            return first + timedelta(days=1)
        case Period.WEEK:
            return first + timedelta(days=7)
        case Period.MONTH:
            return (first.replace(day=28) + timedelta(days=4)).replace(day=1)


def previous_first_day(period: Period, first: date) -> date:
    match period:
        case Period.DAY:
            return first - timedelta(days=1)
        case Period.WEEK:
            return first - timedelta(days=7)
        case Period.MONTH:
            return (first - timedelta(days=1)).replace(day=1)


def period_window(period: Period, day: date) -> Window:
    """The calendar period containing `day`, midnight to midnight in Asia/Shanghai."""
    first = first_day(period, day)
    return Window(_ms(_midnight(first)), _ms(_midnight(next_first_day(period, first))))


def local_day(ts_ms: int) -> date:
    """The Asia/Shanghai calendar day of an instant."""
    return datetime.fromtimestamp(ts_ms / 1000, ZONE).date()


def period_label(period: Period, day: date) -> str:
    """The period's name as a report title says it (2026年12月1日, 2026年第49周, 2026年12月)."""
    first = first_day(period, day)
    match period:
        case Period.DAY:
            return f"{first.year}年{first.month}月{first.day}日"
        case Period.WEEK:
            last = next_first_day(period, first) - timedelta(days=1)
            iso = first.isocalendar()
            return (f"{iso.year}年第{iso.week}周（{first.month}月{first.day}日—"
                    f"{last.month}月{last.day}日）")
        case Period.MONTH:
            return f"{first.year}年{first.month}月"


# --- figures -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeedbackFigures:
    due: int  # feedback filed at least once, or overdue
    on_time: int  # due and never overdue
    late: int  # due and overdue
    pending: int  # awaiting feedback within the deadline: not counted either way
    on_time_pct: float | None  # on_time / due, None when nothing was due


@dataclass(frozen=True, slots=True)
class EnterpriseRow:
    enterprise: str
    name: str
    total: int
    by_level: Mapping[WarningLevel, int]
    overdue: int
    open: int


@dataclass(frozen=True, slots=True)
class Figures:
    """What one period's warnings came to (see the module docstring for each)."""

    total: int
    by_level: Mapping[WarningLevel, int]
    by_state: Mapping[WarningState, int]
    by_cause: Mapping[Cause, int]
    no_feedback: int
    feedback: FeedbackFigures
    overdue: int
    escalated: int  # handed up a regulator level for a missed deadline at least once
    returned: int
    returns: int  # returns in all (a warning may be returned more than once)
    closed: int
    close_rate_pct: float | None
    median_close_ms: int | None
    open: int


@dataclass(frozen=True, slots=True)
class Change:
    metric: str
    current: float | None
    previous: float | None
    delta: float | None
    change_pct: float | None  # None when there is no previous value to compare with


@dataclass(frozen=True, slots=True)
class WarningReport:
    region_prefix: str
    region_name: str | None
    period: Period
    day: date
    label: str
    window: Window
    as_of_ms: int
    complete: bool  # the period has ended at as_of
    counted: Window  # the span counted: the window, cut at as_of while it runs
    previous: Window  # the span of the previous period compared with
    include_simulated: bool
    figures: Figures
    previous_figures: Figures
    trend: tuple[Change, ...]
    top_enterprises: tuple[EnterpriseRow, ...]
    overdue_enterprises: tuple[EnterpriseRow, ...]  # every one with an overdue warning
    # the duties over the counted span (roll calls, patrols, commitments); None when the
    # service runs no duties
    duties: DutyFigures | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON of the report (docs/CONTRACT.md, "Warning reports")."""
        return {
            "region_prefix": self.region_prefix, "region_name": self.region_name,
            "period": self.period.value, "day": self.day.isoformat(), "label": self.label,
            "start": local_iso(self.window.start_ms), "end": local_iso(self.window.end_ms),
            "start_ms": self.window.start_ms, "end_ms": self.window.end_ms,
            "as_of": local_iso(self.as_of_ms), "as_of_ms": self.as_of_ms,
            "complete": self.complete, "include_simulated": self.include_simulated,
            "counted": _window_dict(self.counted),
            "figures": figures_dict(self.figures),
            "previous": {**_window_dict(self.previous),
                         "figures": figures_dict(self.previous_figures)},
            "trend": [_change_dict(c) for c in self.trend],
            "top_enterprises": [enterprise_dict(e) for e in self.top_enterprises],
            "overdue_enterprises": [enterprise_dict(e) for e in self.overdue_enterprises],
            "duties": None if self.duties is None else self.duties.to_dict(),
        }


def local_iso(ts_ms: int) -> str:
    return datetime.fromtimestamp(ts_ms / 1000, ZONE).isoformat()


def _window_dict(w: Window) -> dict[str, Any]:
    return {"start": local_iso(w.start_ms), "end": local_iso(w.end_ms),
            "start_ms": w.start_ms, "end_ms": w.end_ms}


def _change_dict(c: Change) -> dict[str, Any]:
    return {"metric": c.metric, "current": c.current, "previous": c.previous,
            "delta": c.delta, "change_pct": c.change_pct}


def enterprise_dict(e: EnterpriseRow) -> dict[str, Any]:
    return {"enterprise": e.enterprise, "name": e.name, "total": e.total,
            "by_level": {lv.value: e.by_level[lv] for lv in LEVELS},
            "overdue": e.overdue, "open": e.open}


def figures_dict(f: Figures) -> dict[str, Any]:
    fb = f.feedback
    return {
        "total": f.total,
        "by_level": {lv.value: f.by_level[lv] for lv in LEVELS},
        "by_state": {st.value: f.by_state[st] for st in STATES},
        "by_cause": {c.value: f.by_cause[c] for c in Cause},
        "no_feedback": f.no_feedback,
        "feedback": {"due": fb.due, "on_time": fb.on_time, "late": fb.late,
                     "pending": fb.pending, "on_time_pct": fb.on_time_pct},
        "overdue": f.overdue, "escalated": f.escalated, "returned": f.returned,
        "returns": f.returns, "closed": f.closed, "close_rate_pct": f.close_rate_pct,
        "median_close_ms": f.median_close_ms, "open": f.open,
    }


def is_overdue(w: EarlyWarning, now_ms: int) -> bool:
    """A deadline was missed, or is missed now while the timer has not yet said so."""
    if w.overdue:
        return True
    return (w.state in AWAITING_FEEDBACK and w.deadline_ms is not None
            and now_ms > w.deadline_ms)


def pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def figures(warnings: Iterable[EarlyWarning], now_ms: int) -> Figures:
    """The figures of a set of warnings as they stand at `now_ms`."""
    ws = list(warnings)
    overdue = [w for w in ws if is_overdue(w, now_ms)]
    due = [w for w in ws if w.feedback is not None or is_overdue(w, now_ms)]
    late = sum(1 for w in due if is_overdue(w, now_ms))
    closed = [w for w in ws if w.state is WarningState.CLOSED and w.closed_at_ms is not None
              and w.closed_at_ms <= now_ms]
    durations = [w.closed_at_ms - w.opened_at_ms for w in closed if w.closed_at_ms is not None]
    levels = Counter(w.level for w in ws)
    states = Counter(w.state for w in ws)
    causes = Counter(w.feedback.cause for w in ws if w.feedback is not None)
    return Figures(
        total=len(ws),
        by_level={lv: levels[lv] for lv in LEVELS},
        by_state={st: states[st] for st in STATES},
        by_cause={c: causes[c] for c in Cause},
        no_feedback=sum(1 for w in ws if w.feedback is None),
        feedback=FeedbackFigures(len(due), len(due) - late, late, len(ws) - len(due),
                                 pct(len(due) - late, len(due))),
        overdue=len(overdue),
        escalated=sum(1 for w in ws if w.escalations > 0),
        returned=sum(1 for w in ws if w.returns > 0),
        returns=sum(w.returns for w in ws),
        closed=len(closed),
        close_rate_pct=pct(len(closed), len(ws)),
        median_close_ms=int(statistics.median(durations)) if durations else None,
        open=sum(1 for w in ws if w.is_open),
    )


def enterprises(warnings: Iterable[EarlyWarning], now_ms: int,
                names: Mapping[str, str]) -> list[EnterpriseRow]:
    """One row per enterprise, most warnings first, then the gravest, then by code."""
    by: dict[str, list[EarlyWarning]] = {}
    for w in warnings:
        by.setdefault(w.enterprise, []).append(w)
    rows = []
    for code, ws in by.items():
        levels = Counter(w.level for w in ws)
        rows.append(EnterpriseRow(
            code, names.get(code, code), len(ws), {lv: levels[lv] for lv in LEVELS},
            sum(1 for w in ws if is_overdue(w, now_ms)), sum(1 for w in ws if w.is_open)))
    rows.sort(key=lambda r: (-r.total, *(-r.by_level[lv] for lv in LEVELS), r.enterprise))
    return rows


def change(metric: str, current: float | None, previous: float | None) -> Change:
    if current is None or previous is None:
        return Change(metric, current, previous, None, None)
    delta = round(current - previous, 1)
    return Change(metric, current, previous, delta,
                  round(100.0 * delta / previous, 1) if previous else None)


def trend(now: Figures, before: Figures) -> tuple[Change, ...]:
    """The figures the trend compares, in this order (docs/CONTRACT.md lists them)."""
    return (
        change("total", now.total, before.total),
        *(change(f"level.{lv.value}", now.by_level[lv], before.by_level[lv]) for lv in LEVELS),
        change("overdue", now.overdue, before.overdue),
        change("returned", now.returned, before.returned),
        change("closed", now.closed, before.closed),
        change("feedback_on_time_pct", now.feedback.on_time_pct, before.feedback.on_time_pct),
        change("median_close_ms", now.median_close_ms, before.median_close_ms),
    )


def _period(period: Period | str) -> Period:
    try:
        return Period(period)
    except ValueError:
        raise ReportRefused(
            f"period must be one of {', '.join(Period)}, not {period!r}") from None


def counted_window(period: Period | str, day: date, now_ms: int) -> Window:
    """The span a report counts: its period, cut at `now_ms` while it runs. ReportRefused
    for a period not begun."""
    period = _period(period)
    window = period_window(period, day)
    if now_ms < window.start_ms:
        raise ReportRefused(f"the {period.value} of {day.isoformat()} has not begun")
    return window if now_ms >= window.end_ms else Window(window.start_ms, now_ms)


def _check_prefix(region_prefix: str) -> None:
    if not (len(region_prefix) <= 6 and region_prefix.isascii() and
            (region_prefix == "" or region_prefix.isdigit())):
        raise ReportRefused(f"region_prefix must be up to 6 digits, not {region_prefix!r}")


def build_report(
    warnings: Iterable[EarlyWarning],
    region_prefix: str,
    period: Period | str,
    day: date | None,
    now_ms: int,
    *,
    top: int = DEFAULT_TOP,
    include_simulated: bool = False,
    enterprise_names: Mapping[str, str] | None = None,
    region_name: str | None = None,
    duties: DutyFigures | None = None,
) -> WarningReport:
    """The report (通报) of `region_prefix` for the `period` containing `day`, as of `now_ms`.

    - `warnings`: the store's warnings (any superset of what is needed: those opened in
      the period and in the previous one, in the region; others are ignored). Stored
      JSON records become warnings with `hazmon.warnings.records.from_record`.
    - `region_prefix`: "" (everywhere) to 6 digits of GB/T 2260 (the caller checks that
      the token's scope covers it); `region_name` the place's name for the title.
    - `period`: "day", "week" (ISO, Monday first) or "month", in Asia/Shanghai; `day`
      any day in it (None: today at `now_ms`).
    - `now_ms`: the time the figures stand at (the injected clock).
    - `top`: how many enterprises `top_enterprises` lists (1 to 100);
      `enterprise_names`: code → name (from the registry), the code where none is given;
      `include_simulated`: count simulated enterprises' warnings too (a drill's report).
    - `duties`: the duty figures of the same region over `counted_window(period, day,
      now_ms)` (`hazmon.duties.report`, gathered by the caller from the duty store),
      carried as they are; None when the service runs no duties.

    Raises ReportRefused (a ValueError; the API answers 422) for a bad prefix, period or
    `top`, or a period that has not begun at `now_ms`. Pure: the same arguments give the
    same report.
    """
    _check_prefix(region_prefix)
    period = _period(period)
    if not 1 <= top <= MAX_TOP:
        raise ReportRefused(f"top must be 1 to {MAX_TOP}, not {top}")
    day = local_day(now_ms) if day is None else day
    window = period_window(period, day)
    counted = counted_window(period, day, now_ms)
    complete = now_ms >= window.end_ms
    prev_first = previous_first_day(period, first_day(period, day))
    prev_full = period_window(period, prev_first)
    previous = prev_full if complete else Window(
        prev_full.start_ms, min(prev_full.end_ms, prev_full.start_ms + (now_ms - window.start_ms)))

    mine = [w for w in warnings if w.region.startswith(region_prefix)
            and (include_simulated or not w.simulated)]
    current = [w for w in mine if counted.holds(w.opened_at_ms)]
    before = [w for w in mine if previous.holds(w.opened_at_ms)]
    now_figures = figures(current, now_ms)
    before_figures = figures(before, now_ms)
    rows = enterprises(current, now_ms, enterprise_names or {})
    overdue_rows = sorted((r for r in rows if r.overdue),
                          key=lambda r: (-r.overdue, -r.total, r.enterprise))
    return WarningReport(
        region_prefix=region_prefix, region_name=region_name, period=period, day=day,
        label=period_label(period, day), window=window, as_of_ms=now_ms, complete=complete,
        counted=counted, previous=previous, include_simulated=include_simulated,
        figures=now_figures, previous_figures=before_figures,
        trend=trend(now_figures, before_figures), top_enterprises=tuple(rows[:top]),
        overdue_enterprises=tuple(overdue_rows), duties=duties,
    )

