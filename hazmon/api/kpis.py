"""GET /kpis: alarm-system performance figures (ISA-18.2 / EEMUA 191) for the caller's
scope and a period, computed here from the alarm store.

There is no KPI module in hazmon.alerts yet; until there is, this reads the alarms raised
in the period (keyset pages, at most MAX_SCANNED) plus the open ones, and computes:
counts per priority and their shares, average and peak alarms per 10 minutes and the
share of 10-minute intervals in flood (> 10 alarms), acknowledgement times, open /
shelved / standing (active > 24 h) alarms, and the most frequent alarms ("bad actors").
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from hazmon.alerts.event import rfc3339
from hazmon.alerts.lifecycle import Alarm
from hazmon.alerts.store import AlarmFilter, AlarmStore
from hazmon.api.common import ERROR_RESPONSES, TIME_PATTERN, time_param
from hazmon.api.deps import Ctx, CurrentPrincipal, EnterpriseQuery, RegionQuery
from hazmon.api.errors import BadRequest
from hazmon.domain.signal import Priority

router = APIRouter(prefix="/kpis", tags=["kpis"], responses=ERROR_RESPONSES)

MAX_SCANNED = 50_000
TEN_MIN_MS = 600_000
FLOOD_PER_10_MIN = 10  # ISA-18.2: more than 10 alarms in 10 minutes is a flood
STANDING_MS = 24 * 3_600_000
DEFAULT_PERIOD_MS = 24 * 3_600_000
MAX_PERIOD_MS = 366 * 24 * 3_600_000


class AckTimes(BaseModel):
    acknowledged: int = Field(description="alarms of the period acknowledged so far")
    unacknowledged: int
    median_s: float | None
    p90_s: float | None
    max_s: float | None


class RateFigures(BaseModel):
    per_hour: float
    per_10_min_avg: float
    per_10_min_peak: int
    flood_intervals_pct: float = Field(description="10-minute intervals with > 10 alarms, %")


class OpenFigures(BaseModel):
    total: int
    by_state: dict[str, int]
    by_priority: dict[str, int]
    shelved: int
    suppressed: int
    out_of_service: int
    standing: int = Field(description="active for more than 24 hours")


class BadActor(BaseModel):
    enterprise: str
    subject: str = Field(description="tag, or @hazard_source for whole-source alarms")
    rule: str
    occurrences: int
    activations: int


class KpiReport(BaseModel):
    source: str
    scope: str
    period_from: str
    period_to: str
    raised: int
    by_priority: dict[str, int]
    priority_pct: dict[str, float]
    rate: RateFigures
    acknowledgement: AckTimes
    open: OpenFigures
    bad_actors: list[BadActor]
    truncated: bool = Field(description=f"more than {MAX_SCANNED} alarms: figures partial")


async def _scan(store: AlarmStore, flt: AlarmFilter) -> tuple[list[Alarm], bool]:
    out: list[Alarm] = []
    cursor: str | None = None
    while True:
        page = await store.query(flt, limit=1000, cursor=cursor)
        out.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return out, False
        if len(out) >= MAX_SCANNED:
            return out, True


def _quantile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    i = max(0, math.ceil(q * len(sorted_values)) - 1)
    return sorted_values[i]


@router.get("", summary="Alarm-system performance for the caller's scope")
async def get_kpis(
    ctx: Ctx, principal: CurrentPrincipal,
    region: RegionQuery = None, enterprise: EnterpriseQuery = None,
    from_: Annotated[str | None, Query(alias="from", pattern=TIME_PATTERN,
                                       description="default: `to` - 24 h")] = None,
    to: Annotated[str | None, Query(pattern=TIME_PATTERN, description="default: now")] = None,
) -> KpiReport:
    now = ctx.clock()
    to_ms = time_param("to", to, now)
    from_ms = time_param("from", from_, max(0, to_ms - DEFAULT_PERIOD_MS))
    if from_ms >= to_ms:
        raise BadRequest("from must be before to")
    if to_ms - from_ms > MAX_PERIOD_MS:
        raise BadRequest("the period is limited to 366 days")
    base = principal.alarm_filter(AlarmFilter(region_prefix=region, enterprise=enterprise))
    raised: list[Alarm] = []
    open_now: list[Alarm] = []
    truncated = False
    if base is not None:
        raised, t1 = await _scan(ctx.alarm_store,
                                 replace(base, since_ms=from_ms, until_ms=to_ms))
        open_now, t2 = await _scan(ctx.alarm_store, replace(base, open=True))
        truncated = t1 or t2
    raised = [a for a in raised if principal.sees_alarm(a)]
    open_now = [a for a in open_now if principal.sees_alarm(a)]

    by_priority = {p.value: 0 for p in Priority}
    for a in raised:
        by_priority[a.priority.value] += 1
    n = len(raised)
    pct = {k: round(100 * v / n, 1) if n else 0.0 for k, v in by_priority.items()}

    span = to_ms - from_ms
    intervals = max(1, -(-span // TEN_MIN_MS))
    per_interval = Counter((a.raised_at_ms or from_ms) // TEN_MIN_MS for a in raised)
    rate = RateFigures(
        per_hour=round(n / (span / 3_600_000), 2),
        per_10_min_avg=round(n / intervals, 2),
        per_10_min_peak=max(per_interval.values(), default=0),
        flood_intervals_pct=round(
            100 * sum(1 for c in per_interval.values() if c > FLOOD_PER_10_MIN) / intervals, 2),
    )

    waits = sorted((a.acked_at_ms - a.raised_at_ms) / 1000 for a in raised
                   if a.acked_at_ms is not None and a.raised_at_ms is not None)
    ack = AckTimes(acknowledged=len(waits), unacknowledged=n - len(waits),
                   median_s=_quantile(waits, 0.5), p90_s=_quantile(waits, 0.9),
                   max_s=waits[-1] if waits else None)

    states = Counter(a.state.value for a in open_now)
    prios = Counter(a.priority.value for a in open_now)
    opened = OpenFigures(
        total=len(open_now), by_state=dict(states), by_priority=dict(prios),
        shelved=sum(1 for a in open_now if a.shelved is not None),
        suppressed=sum(1 for a in open_now if a.suppressed is not None),
        out_of_service=sum(1 for a in open_now if a.out_of_service is not None),
        standing=sum(1 for a in open_now
                     if a.is_active and a.active_at_ms is not None
                     and now - a.active_at_ms > STANDING_MS),
    )

    occurrences: Counter[tuple[str, str, str]] = Counter()
    activations: Counter[tuple[str, str, str]] = Counter()
    for a in raised:
        occurrences[a.key] += 1
        activations[a.key] += a.activations
    actors = [BadActor(enterprise=k[0], subject=k[1], rule=k[2], occurrences=c,
                       activations=activations[k])
              for k, c in sorted(occurrences.items(), key=lambda kv: (-kv[1], kv[0]))[:10]]

    return KpiReport(
        source="computed by the API from the alarm store (no KPI module yet)",
        scope=f"{principal.role.value}:{principal.scope}",
        period_from=rfc3339(from_ms) or "", period_to=rfc3339(to_ms) or "",
        raised=n, by_priority=by_priority, priority_pct=pct, rate=rate,
        acknowledgement=ack, open=opened, bad_actors=actors, truncated=truncated,
    )

