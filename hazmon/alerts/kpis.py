"""Alarm-system performance (ANSI/ISA-18.2 §16, EEMUA 191), per scope and period.

Pure computation over history rows fetched with one query (`AlarmStore.kpi_events`);
`kpi_report` does the fetch. Definitions (DOMAIN.md), with the choices made here:

- activation: each `raised` history entry (a reactivation of an unacknowledged occurrence
  counts again: the operator was alarmed again). Only activations inside
  [since, until) count; simulated alarms are left out unless asked for (the report
  then says how many activations that left out).
- alarms per 10 minutes: average = activations / (period / 10 min); peak = the most in
  one of the fixed 10-minute windows [since + k·10 min, since + (k+1)·10 min).
- flood, fixed windows: % of those windows with more than 10 activations (EEMUA's
  "% of 10-minute periods in flood"; a last, partial window counts as a window).
- flood, sliding (time in flood): with r(t) = activations in the trailing window
  (t − 10 min, t], a flood starts at the first activation that makes r(t) > 10 and ends
  at the first later moment r(t) < 5 (activations age out exactly 10 min after they
  happened); a flood still on at `until` ends there (`ongoing`). Only activations in the
  period are counted, so a flood already on at `since` is seen from `since` onwards.
  time in flood = total flood time / period length (target < 1 %).
- chattering: an alarm key (enterprise, sensor or hazard source, rule) with 3 or more
  activations within 60 s (first and last less than 60 s apart), across occurrences.
- stale: an occurrence active at `until` whose current activation is more than 24 h old.
- bad actors: the 10 keys with the most activations (ties by key), with their share.
- priority mix: activations by priority against the guideline of about 5 % critical,
  15 % high and 80 % medium + low (EEMUA's three levels; hazmon has four).
- time to acknowledge: for occurrences first raised in the period and acknowledged
  before `until`, acknowledgement time − first raise; median and 90th percentile (linear
  interpolation, as numpy's default); occurrences not acknowledged by `until` counted.
- data availability: registry sensors in scope whose last reading is at or after `since`
  (a last-seen time is what InfluxDB or the rules engine keep cheaply; for a past period
  a sensor that reported later also counts).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hazmon.alerts.event import rfc3339
from hazmon.alerts.store import AlarmEventRow, AlarmFilter, AlarmStore
from hazmon.domain.signal import PRIORITY_RANK, Priority

WINDOW_MS = 10 * 60_000
FLOOD_START = 10  # more than this in 10 minutes
FLOOD_END = 5  # fewer than this ends it
CHATTER_COUNT = 3
CHATTER_WINDOW_MS = 60_000
STALE_MS = 24 * 3600_000
TOP_BAD_ACTORS = 10
PRIORITY_GUIDELINE_PCT = {"critical": 5.0, "high": 15.0, "medium+low": 80.0}

Key = tuple[str, str, str]  # enterprise, subject (tag or @hazard_source), rule
LastSeen = Mapping[tuple[str, str], int] | Callable[[str, str], int | None]


@dataclass(frozen=True, slots=True)
class KpiScope:
    region_prefix: str | None = None
    enterprise: str | None = None
    tier: Sequence[int] | None = None

    def alarm_filter(self, include_simulated: bool) -> AlarmFilter:
        return AlarmFilter(region_prefix=self.region_prefix, enterprise=self.enterprise,
                           tier=self.tier, simulated=None if include_simulated else False)

    def covers(self, enterprise: str, region: str, tier: int | None) -> bool:
        return ((self.region_prefix is None or region.startswith(self.region_prefix))
                and (self.enterprise is None or enterprise == self.enterprise)
                and (self.tier is None or tier in self.tier))

    def to_dict(self) -> dict[str, Any]:
        return {"region_prefix": self.region_prefix, "enterprise": self.enterprise,
                "tier": list(self.tier) if self.tier is not None else None}


@dataclass(frozen=True, slots=True)
class SensorRef:
    """A registry sensor, with what the breakdowns need."""

    enterprise: str
    tag: str
    region: str
    tier: int | None = None


@dataclass(frozen=True, slots=True)
class Flood:
    start_ms: int
    end_ms: int
    peak: int  # most activations in a trailing 10 minutes during the flood
    activations: int  # activations between start and end
    ongoing: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"start": rfc3339(self.start_ms), "end": rfc3339(self.end_ms),
                "minutes": round((self.end_ms - self.start_ms) / 60_000, 2),
                "peak": self.peak, "activations": self.activations, "ongoing": self.ongoing}


@dataclass(frozen=True, slots=True)
class KeyCount:
    enterprise: str
    hazard_source: str
    subject: str
    rule: str
    activations: int
    share_pct: float = 0.0
    max_in_60s: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"enterprise": self.enterprise, "hazard_source": self.hazard_source,
                "subject": self.subject, "rule": self.rule, "activations": self.activations,
                "share_pct": round(self.share_pct, 2), "max_in_60s": self.max_in_60s}


@dataclass(frozen=True, slots=True)
class StaleAlarm:
    alarm_id: str
    enterprise: str
    subject: str
    rule: str
    priority: str
    active_since_ms: int
    hours: float

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.alarm_id, "enterprise": self.enterprise, "subject": self.subject,
                "rule": self.rule, "priority": self.priority,
                "active_since": rfc3339(self.active_since_ms), "hours": round(self.hours, 2)}


@dataclass(frozen=True, slots=True)
class KpiFigures:
    activations: int
    windows: int
    avg_per_10min: float
    peak_per_10min: int
    flood_windows: int
    flood_windows_pct: float
    floods: list[Flood]
    time_in_flood_pct: float
    chattering: list[KeyCount]
    stale: list[StaleAlarm]
    bad_actors: list[KeyCount]
    priority_counts: dict[str, int]
    priority_pct: dict[str, float]
    acked: int
    unacked: int
    tta_median_s: float | None
    tta_p90_s: float | None
    sensors_total: int
    sensors_reporting: int
    availability_pct: float | None

    def to_dict(self) -> dict[str, Any]:
        r2 = _round
        return {
            "activations": self.activations,
            "alarms_per_10min": {"average": r2(self.avg_per_10min),
                                 "peak": self.peak_per_10min, "windows": self.windows},
            "flood": {"windows": self.flood_windows,
                      "windows_pct": r2(self.flood_windows_pct),
                      "time_in_flood_pct": r2(self.time_in_flood_pct),
                      "floods": [f.to_dict() for f in self.floods]},
            "chattering": [c.to_dict() for c in self.chattering],
            "stale": [s.to_dict() for s in self.stale],
            "bad_actors": [b.to_dict() for b in self.bad_actors],
            "priority": {"counts": self.priority_counts,
                         "pct": {k: r2(v) for k, v in self.priority_pct.items()},
                         "guideline_pct": PRIORITY_GUIDELINE_PCT},
            "time_to_ack": {"acknowledged": self.acked, "unacknowledged": self.unacked,
                            "median_s": r2(self.tta_median_s), "p90_s": r2(self.tta_p90_s)},
            "data_availability": {"sensors": self.sensors_total,
                                  "reporting": self.sensors_reporting,
                                  "pct": r2(self.availability_pct)},
        }


@dataclass(frozen=True, slots=True)
class KpiReport:
    scope: KpiScope
    since_ms: int
    until_ms: int
    include_simulated: bool
    overall: KpiFigures
    by_enterprise: dict[str, KpiFigures] = field(default_factory=dict)
    by_region: dict[str, KpiFigures] = field(default_factory=dict)
    by_tier: dict[str, KpiFigures] = field(default_factory=dict)
    # simulated activations in the scope and period that were left out (0 when included)
    simulated_excluded: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "scope": self.scope.to_dict(),
            "since": rfc3339(self.since_ms), "until": rfc3339(self.until_ms),
            "include_simulated": self.include_simulated,
            **self.overall.to_dict(),
            "by_enterprise": {k: v.to_dict() for k, v in sorted(self.by_enterprise.items())},
            "by_region": {k: v.to_dict() for k, v in sorted(self.by_region.items())},
            "by_tier": {k: v.to_dict() for k, v in sorted(self.by_tier.items())},
        }


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


# --- the figures -----------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (numpy.percentile's default)."""
    if not values:
        return None
    s = sorted(values)
    pos = (len(s) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def floods(times: Sequence[int], since_ms: int, until_ms: int) -> list[Flood]:
    """The sliding definition (module docstring) over sorted activation times."""
    changes: list[tuple[int, int]] = [(t, +1) for t in times]
    changes += [(t + WINDOW_MS, -1) for t in times if t + WINDOW_MS < until_ms]
    changes.sort()
    out: list[Flood] = []
    rate, start, peak = 0, None, 0
    i = 0
    while i < len(changes):
        t = changes[i][0]
        while i < len(changes) and changes[i][0] == t:  # all changes at one instant
            rate += changes[i][1]
            i += 1
        if start is None and rate > FLOOD_START:
            start, peak = t, rate
        elif start is not None:
            peak = max(peak, rate)
            if rate < FLOOD_END:
                out.append(Flood(start, t, peak, _between(times, start, t)))
                start = None
    if start is not None:
        out.append(Flood(start, until_ms, peak, _between(times, start, until_ms), True))
    return out


def _between(times: Sequence[int], a: int, b: int) -> int:
    return sum(1 for t in times if a <= t < b)


def _max_in_window(times: Sequence[int], window_ms: int) -> int:
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= window_ms:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def figures(rows: Iterable[AlarmEventRow], since_ms: int, until_ms: int, *,
            sensors: Sequence[SensorRef] = (), last_seen: LastSeen | None = None) -> KpiFigures:
    """Every KPI of one scope from its history rows (pure)."""
    if until_ms <= since_ms:
        raise ValueError("the period must end after it starts")
    rows = sorted(rows, key=lambda r: (r.ts_ms, r.alarm_id))
    acts = [r for r in rows if r.event == "raised" and since_ms <= r.ts_ms < until_ms]
    times = [r.ts_ms for r in acts]
    period = until_ms - since_ms
    n_windows = math.ceil(period / WINDOW_MS)
    per_window = Counter((t - since_ms) // WINDOW_MS for t in times)
    flood_windows = sum(1 for c in per_window.values() if c > FLOOD_START)
    fl = floods(times, since_ms, until_ms)

    by_key: dict[Key, list[AlarmEventRow]] = defaultdict(list)
    for r in acts:
        by_key[(r.enterprise, r.subject, r.rule)].append(r)
    total = len(acts)
    counts = [
        KeyCount(k[0], v[0].hazard_source, k[1], k[2], len(v),
                 100.0 * len(v) / total if total else 0.0,
                 _max_in_window([r.ts_ms for r in v], CHATTER_WINDOW_MS))
        for k, v in by_key.items()
    ]
    counts.sort(key=lambda c: (-c.activations, c.enterprise, c.subject, c.rule))
    chattering = [c for c in counts if c.max_in_60s >= CHATTER_COUNT]

    # the state of each occurrence at `until`, and its acknowledgement
    active_since: dict[str, int | None] = {}
    first_ack: dict[str, int] = {}
    meta: dict[str, AlarmEventRow] = {}
    for r in rows:
        meta.setdefault(r.alarm_id, r)
        if r.event == "raised":
            active_since[r.alarm_id] = r.ts_ms
        elif r.event == "cleared":
            active_since[r.alarm_id] = None
        elif r.event == "acknowledged":
            first_ack.setdefault(r.alarm_id, r.ts_ms)
    stale = [
        StaleAlarm(aid, m.enterprise, m.subject, m.rule, m.priority.value, ts,
                   (until_ms - ts) / 3600_000)
        for aid, ts in active_since.items()
        if ts is not None and until_ms - ts > STALE_MS
        for m in (meta[aid],)
    ]
    stale.sort(key=lambda s: (s.active_since_ms, s.alarm_id))
    raised_here = {r.alarm_id: r.raised_at_ms for r in rows
                   if since_ms <= r.raised_at_ms < until_ms}
    tta = [(first_ack[a] - t) / 1000 for a, t in raised_here.items() if a in first_ack]

    prio = Counter(r.priority.value for r in acts)
    priority_counts = {p.value: prio.get(p.value, 0)
                       for p in sorted(Priority, key=PRIORITY_RANK.__getitem__)}
    priority_pct = {p: (100.0 * c / total if total else 0.0)
                    for p, c in priority_counts.items()}

    reporting = 0
    if last_seen is not None:
        seen = last_seen if callable(last_seen) else (
            lambda e, t, m=last_seen: m.get((e, t)))
        for s in sensors:
            ts = seen(s.enterprise, s.tag)
            if ts is not None and ts >= since_ms:
                reporting += 1
    return KpiFigures(
        activations=total, windows=n_windows,
        avg_per_10min=total * WINDOW_MS / period,
        peak_per_10min=max(per_window.values(), default=0),
        flood_windows=flood_windows, flood_windows_pct=100.0 * flood_windows / n_windows,
        floods=fl,
        time_in_flood_pct=100.0 * sum(f.end_ms - f.start_ms for f in fl) / period,
        chattering=chattering, stale=stale, bad_actors=counts[:TOP_BAD_ACTORS],
        priority_counts=priority_counts, priority_pct=priority_pct,
        acked=len(tta), unacked=len(raised_here) - len(tta),
        tta_median_s=percentile(tta, 50), tta_p90_s=percentile(tta, 90),
        sensors_total=len(sensors), sensors_reporting=reporting,
        availability_pct=(100.0 * reporting / len(sensors)
                          if sensors and last_seen is not None else None),
    )


def report(rows: Sequence[AlarmEventRow], scope: KpiScope, since_ms: int, until_ms: int, *,
           sensors: Sequence[SensorRef] = (), last_seen: LastSeen | None = None,
           include_simulated: bool = False) -> KpiReport:
    """The scope's figures and the same per enterprise, region (county) and tier (pure)."""
    covered = [r for r in rows if scope.covers(r.enterprise, r.region, r.tier)]
    mine = [r for r in covered if include_simulated or not r.simulated]
    excluded = sum(1 for r in covered if r.simulated and not include_simulated
                   and r.event == "raised" and since_ms <= r.ts_ms < until_ms)
    in_scope = [s for s in sensors if scope.covers(s.enterprise, s.region, s.tier)]

    def split(key_row: Callable[[AlarmEventRow], str],
              key_sensor: Callable[[SensorRef], str]) -> dict[str, KpiFigures]:
        groups: dict[str, list[AlarmEventRow]] = defaultdict(list)
        for r in mine:
            groups[key_row(r)].append(r)
        sens: dict[str, list[SensorRef]] = defaultdict(list)
        for s in in_scope:
            sens[key_sensor(s)].append(s)
        return {k: figures(groups.get(k, []), since_ms, until_ms, sensors=sens.get(k, []),
                           last_seen=last_seen)
                for k in sorted(set(groups) | set(sens))}

    def tier(t: int | None) -> str:
        return str(t) if t is not None else "none"

    return KpiReport(
        scope=scope, since_ms=since_ms, until_ms=until_ms,
        include_simulated=include_simulated,
        overall=figures(mine, since_ms, until_ms, sensors=in_scope, last_seen=last_seen),
        by_enterprise=split(lambda r: r.enterprise, lambda s: s.enterprise),
        by_region=split(lambda r: r.region, lambda s: s.region),
        by_tier=split(lambda r: tier(r.tier), lambda s: tier(s.tier)),
        simulated_excluded=excluded,
    )


async def kpi_report(store: AlarmStore, scope: KpiScope, since_ms: int, until_ms: int, *,
                     sensors: Sequence[SensorRef] = (), last_seen: LastSeen | None = None,
                     include_simulated: bool = False) -> KpiReport:
    """Fetch the period's history in scope (one query) and compute the report. Simulated
    alarms are fetched even when left out, to say how many were."""
    rows = await store.kpi_events(scope.alarm_filter(True), since_ms, until_ms)
    return report(rows, scope, since_ms, until_ms, sensors=sensors, last_seen=last_seen,
                  include_simulated=include_simulated)
