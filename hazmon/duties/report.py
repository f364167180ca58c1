"""The duties' figures for a report (通报), pure: over a span and a set of enterprises,
how the roll calls were answered, how the patrol samples were covered and how the daily
commitments came in.

`duty_figures(...)` is handed what the store holds for the span (`DutyService.
report_figures` reads it) and the enterprises in the report's scope; the warning report
(`hazmon.warnings.report`) carries the result as it is and renders it.

- **Roll calls**: the calls *made* in `[start_ms, end_ms)` to the enterprises in scope,
  each as it stands at `now_ms` (answered in time, answered late, missed, or still
  waiting within its deadline). The answer rate is answered-in-time of the calls
  decided (waiting ones are left out), as `GET /roll-calls/rates`. One row per
  enterprise called, the lowest rate first.
- **Patrols**: per county of the enterprises in scope, over the span's days (province
  time) that have a draw: enterprise-days sampled (each day's sample counts again),
  those patrolled that same day, the coverage, and the patrols recorded in all (an
  enterprise outside the sample may be patrolled too).
- **Commitments**: per enterprise, the span's days whose deadline has passed at `now_ms`
  and after duties began (`started_ms`): on time, late, missing. Only enterprises with
  a late or missing day are listed; the totals count every enterprise in scope.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from hazmon.duties import deadline, rollcall
from hazmon.duties.commitment import Commitment, local_day
from hazmon.duties.config import DutiesConfig
from hazmon.duties.patrol import PatrolDraw, PatrolRecord
from hazmon.duties.rollcall import CallStatus, RollCall


def pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


@dataclass(frozen=True, slots=True)
class ScopeEnterprise:
    """An enterprise in the report's scope: its code, name and county (region code)."""

    code: str
    name: str
    county: str


@dataclass(frozen=True, slots=True)
class RollCallRow:
    enterprise: str  # "" on the totals row
    name: str
    calls: int
    answered: int  # in time
    answered_late: int
    missed: int
    waiting: int  # within the deadline at as_of: not decided yet

    @property
    def answer_rate_pct(self) -> float | None:
        return pct(self.answered, self.answered + self.answered_late + self.missed)

    def to_dict(self) -> dict[str, Any]:
        return {"enterprise": self.enterprise, "name": self.name, "calls": self.calls,
                "answered": self.answered, "answered_late": self.answered_late,
                "missed": self.missed, "waiting": self.waiting,
                "answer_rate_pct": self.answer_rate_pct}


@dataclass(frozen=True, slots=True)
class PatrolRow:
    county: str  # "" on the totals row
    name: str
    days: int  # days of the span with a draw for the county
    sampled: int  # enterprise-days in the samples
    patrolled: int  # of those, patrolled that day
    records: int  # patrols recorded in the county's enterprises, sampled or not

    @property
    def coverage_pct(self) -> float | None:
        return pct(self.patrolled, self.sampled)

    def to_dict(self) -> dict[str, Any]:
        return {"county": self.county, "name": self.name, "days": self.days,
                "sampled": self.sampled, "patrolled": self.patrolled,
                "coverage_pct": self.coverage_pct, "records": self.records}


@dataclass(frozen=True, slots=True)
class CommitmentRow:
    enterprise: str  # "" on the totals row
    name: str
    days: int  # days judged: the deadline passed, duties had begun
    on_time: int
    late: int
    missing: int

    @property
    def on_time_pct(self) -> float | None:
        return pct(self.on_time, self.days)

    def to_dict(self) -> dict[str, Any]:
        return {"enterprise": self.enterprise, "name": self.name, "days": self.days,
                "on_time": self.on_time, "late": self.late, "missing": self.missing,
                "on_time_pct": self.on_time_pct}


@dataclass(frozen=True, slots=True)
class DutyFigures:
    """What the duties came to over a report's span (see the module docstring)."""

    roll_call_total: RollCallRow
    roll_calls: tuple[RollCallRow, ...]
    patrol_total: PatrolRow
    patrols: tuple[PatrolRow, ...]
    commitment_total: CommitmentRow
    commitments: tuple[CommitmentRow, ...]  # enterprises with a late or missing day

    def to_dict(self) -> dict[str, Any]:
        """The report's `duties` (docs/CONTRACT.md §7.6)."""
        return {
            "roll_calls": {"total": self.roll_call_total.to_dict(),
                           "enterprises": [r.to_dict() for r in self.roll_calls]},
            "patrols": {"total": self.patrol_total.to_dict(),
                        "counties": [r.to_dict() for r in self.patrols]},
            "commitments": {"total": self.commitment_total.to_dict(),
                            "enterprises": [r.to_dict() for r in self.commitments]},
        }


def span_days(start_ms: int, end_ms: int, config: DutiesConfig) -> list[date]:
    """The province's calendar days that `[start_ms, end_ms)` touches."""
    if end_ms <= start_ms:
        return []
    first, last = local_day(start_ms, config), local_day(end_ms - 1, config)
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _roll_calls(calls: Iterable[RollCall], scope: Mapping[str, ScopeEnterprise],
                start_ms: int, end_ms: int, now_ms: int
                ) -> tuple[RollCallRow, tuple[RollCallRow, ...]]:
    counts: dict[str, _CallTally] = {}
    for rc in calls:
        if rc.enterprise not in scope or not start_ms <= rc.called_at_ms < end_ms:
            continue
        counts.setdefault(rc.enterprise, _CallTally()).add(rollcall.status(rc, now_ms))
    rows = [c.row(code, scope[code].name) for code, c in counts.items()]
    rows.sort(key=lambda r: (r.answer_rate_pct is None, r.answer_rate_pct or 0.0,
                             -r.missed, r.enterprise))
    total = _CallTally()
    for c in counts.values():
        total.merge(c)
    return total.row("", "合计"), tuple(rows)


class _CallTally:
    """A roll-call tally being summed."""

    __slots__ = ("by",)

    def __init__(self) -> None:
        self.by = dict.fromkeys(CallStatus, 0)

    def add(self, st: CallStatus) -> None:
        self.by[st] += 1

    def merge(self, other: _CallTally) -> None:
        for st, n in other.by.items():
            self.by[st] += n

    def row(self, code: str, name: str) -> RollCallRow:
        b = self.by
        return RollCallRow(code, name, sum(b.values()), b[CallStatus.ANSWERED],
                           b[CallStatus.ANSWERED_LATE], b[CallStatus.MISSED],
                           b[CallStatus.WAITING])


def _patrols(draws: Iterable[PatrolDraw], records: Iterable[PatrolRecord],
             scope: Mapping[str, ScopeEnterprise], days: set[date],
             county_names: Mapping[str, str]) -> tuple[PatrolRow, tuple[PatrolRow, ...]]:
    done = {(r.enterprise, r.day) for r in records if r.day in days}
    recorded: dict[str, int] = {}
    for r in records:
        if r.day in days and r.enterprise in scope:
            county = scope[r.enterprise].county
            recorded[county] = recorded.get(county, 0) + 1
    tally = {e.county: [0, 0, 0] for e in scope.values()}  # days, sampled, patrolled
    for d in draws:
        ents = [e for e in d.enterprises if e in scope]
        if d.day not in days or d.county not in tally or not ents:
            continue
        t = tally[d.county]
        t[0] += 1
        t[1] += len(ents)
        t[2] += sum((e, d.day) in done for e in ents)
    rows = tuple(PatrolRow(county, county_names.get(county, county), t[0], t[1], t[2],
                           recorded.get(county, 0))
                 for county, t in sorted(tally.items()))
    total = PatrolRow("", "合计", sum(r.days for r in rows), sum(r.sampled for r in rows),
                      sum(r.patrolled for r in rows), sum(r.records for r in rows))
    return total, rows


def _commitments(commitments: Iterable[Commitment], scope: Mapping[str, ScopeEnterprise],
                 days: list[date], now_ms: int, started_ms: int | None,
                 config: DutiesConfig) -> tuple[CommitmentRow, tuple[CommitmentRow, ...]]:
    filed = {(c.enterprise, c.day): c for c in commitments}
    judged = [d for d in days if now_ms > deadline.deadline_ms(d, config)
              and (started_ms is None or deadline.deadline_ms(d, config) >= started_ms)]
    rows = []
    for code, ent in sorted(scope.items()):
        by = dict.fromkeys(deadline.CommitmentStatus, 0)
        for d in judged:
            by[deadline.status(d, filed.get((code, d)), now_ms, config)] += 1
        rows.append(CommitmentRow(code, ent.name, len(judged),
                                  by[deadline.CommitmentStatus.ON_TIME],
                                  by[deadline.CommitmentStatus.LATE],
                                  by[deadline.CommitmentStatus.MISSING]))
    total = CommitmentRow("", "合计", sum(r.days for r in rows), sum(r.on_time for r in rows),
                          sum(r.late for r in rows), sum(r.missing for r in rows))
    named = sorted((r for r in rows if r.late or r.missing),
                   key=lambda r: (-r.missing, -r.late, r.enterprise))
    return total, tuple(named)


def duty_figures(
    *,
    scope: Iterable[ScopeEnterprise],
    start_ms: int,
    end_ms: int,
    now_ms: int,
    config: DutiesConfig,
    calls: Iterable[RollCall] = (),
    draws: Iterable[PatrolDraw] = (),
    patrols: Iterable[PatrolRecord] = (),
    commitments: Iterable[Commitment] = (),
    started_ms: int | None = None,
    county_names: Mapping[str, str] | None = None,
) -> DutyFigures:
    """The duty figures of `scope` over `[start_ms, end_ms)` as they stand at `now_ms`.

    `calls`, `draws`, `patrols`, `commitments`: any superset of the span's (others are
    left out here); `started_ms`: when duties began (days due before are not judged);
    `county_names`: county code → name for the patrol rows. Pure."""
    mine = {e.code: e for e in scope}
    days = span_days(start_ms, end_ms, config)
    rc_total, rc_rows = _roll_calls(calls, mine, start_ms, end_ms, now_ms)
    p_total, p_rows = _patrols(draws, list(patrols), mine, set(days), county_names or {})
    c_total, c_rows = _commitments(commitments, mine, days, now_ms, started_ms, config)
    return DutyFigures(rc_total, rc_rows, p_total, p_rows, c_total, c_rows)
