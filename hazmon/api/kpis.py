"""GET /kpis: alarm-system performance (ISA-18.2 / EEMUA 191) for the caller's scope and a
period, as computed by hazmon.alerts.kpis (the definitions are in its docstring).

The scope is the caller's, narrowed by the region / enterprise / tier filters; a filter
outside the caller's scope gives an empty report. Data availability counts the registry
sensors in scope whose last reading (ApiContext.last_seen) is at or after the start of
the period.

Simulated data (the simulated alarms, and the sensors of the plants flagged `simulated`
in the registry) is counted when `include_simulated` says so; by default only when every
enterprise in scope is simulated (a demo or drill centre), so a real centre's figures are
never mixed with a simulator's. `simulated_data` says what was applied and what was left
out. A simulator sees only simulated data: the simulated alarms of the enterprises
flagged as simulated (asking it to leave them out gives an empty report).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from hazmon.alerts.kpis import (
    CHATTER_COUNT,
    CHATTER_WINDOW_MS,
    FLOOD_END,
    FLOOD_START,
    STALE_MS,
    TOP_BAD_ACTORS,
    KpiScope,
    SensorRef,
    kpi_report,
    report,
)
from hazmon.alerts.store import AlarmFilter
from hazmon.api.common import ERROR_RESPONSES, TIME_PATTERN, time_param
from hazmon.api.context import unknown_last_seen
from hazmon.api.deps import (
    Ctx,
    CurrentPrincipal,
    CurrentRegistry,
    EnterpriseQuery,
    RegionQuery,
    TierQuery,
)
from hazmon.api.enterprises import visible_enterprises
from hazmon.api.errors import BadRequest
from hazmon.api.scope import Principal, Role
from hazmon.domain.registry import Enterprise, Registry
from hazmon.domain.signal import Priority

router = APIRouter(prefix="/kpis", tags=["kpis"], responses=ERROR_RESPONSES)

DEFAULT_PERIOD_MS = 24 * 3_600_000
MAX_PERIOD_MS = 366 * 24 * 3_600_000

# --- the response: hazmon.alerts.kpis.KpiReport.to_dict(), documented -----------------------


class KpiScopePublic(BaseModel):
    region_prefix: str | None
    enterprise: str | None
    tier: list[int] | None
    simulated_only: bool = Field(
        False, description="a simulator's scope: only simulated alarms of simulated plants")


class AlarmRatePublic(BaseModel):
    average: float = Field(description="activations per 10 minutes over the period")
    peak: int = Field(description="most activations in one fixed 10-minute window")
    windows: int = Field(description="10-minute windows in the period (a partial one counts)")


class FloodPublic(BaseModel):
    start: str | None
    end: str | None
    minutes: float
    peak: int = Field(description="most activations in a trailing 10 minutes")
    activations: int
    ongoing: bool = Field(description="still in flood at the end of the period")


class FloodFigures(BaseModel):
    windows: int = Field(description=f"fixed 10-minute windows with > {FLOOD_START} activations")
    windows_pct: float
    time_in_flood_pct: float = Field(
        description=f"sliding: from > {FLOOD_START} in 10 min until < {FLOOD_END}; "
                    "target < 1 %")
    floods: list[FloodPublic]


class KeyCountPublic(BaseModel):
    enterprise: str
    hazard_source: str
    subject: str = Field(description="tag, or @hazard_source for whole-source alarms")
    rule: str
    activations: int
    share_pct: float = Field(description="share of all activations in the scope, %")
    max_in_60s: int = Field(
        description=f"most activations within {CHATTER_WINDOW_MS // 1000} s "
                    f"(>= {CHATTER_COUNT}: chattering)")


class StalePublic(BaseModel):
    id: str
    enterprise: str
    subject: str
    rule: str
    priority: Priority
    active_since: str | None
    hours: float


class PriorityMixPublic(BaseModel):
    counts: dict[str, int] = Field(description="activations per priority")
    pct: dict[str, float]
    guideline_pct: dict[str, float] = Field(
        description="EEMUA 191: about 5 % critical, 15 % high, 80 % medium + low")


class TimeToAckPublic(BaseModel):
    acknowledged: int = Field(description="occurrences raised in the period, acked by its end")
    unacknowledged: int
    median_s: float | None
    p90_s: float | None


class AvailabilityPublic(BaseModel):
    sensors: int = Field(description="registry sensors in scope")
    reporting: int = Field(description="of which the last reading is in the period or later")
    pct: float | None = Field(description="null without sensors or last-seen times")


class KpiFiguresPublic(BaseModel):
    activations: int = Field(description="raised entries in the period (reactivations too)")
    alarms_per_10min: AlarmRatePublic
    flood: FloodFigures
    chattering: list[KeyCountPublic]
    stale: list[StalePublic] = Field(
        description=f"active at the end of the period for more than {STALE_MS // 3_600_000} h")
    bad_actors: list[KeyCountPublic] = Field(
        description=f"the {TOP_BAD_ACTORS} alarms with the most activations")
    priority: PriorityMixPublic
    time_to_ack: TimeToAckPublic
    data_availability: AvailabilityPublic


class CallerPublic(BaseModel):
    role: Role
    scope: str


class SimulatedDataPublic(BaseModel):
    requested: bool | None = Field(
        description="the include_simulated parameter as sent; null: the default applied")
    default: bool = Field(
        description="what the default gives for this scope: true when every enterprise in "
                    "it is simulated (and always for a simulator)")
    enterprises: int = Field(description="enterprises in scope flagged simulated")
    enterprises_in_scope: int
    excluded_activations: int = Field(
        description="simulated activations in the period left out (0 when included)")
    excluded_sensors: int = Field(
        description="sensors of simulated plants left out of data_availability "
                    "(0 when included)")


class KpiReportPublic(KpiFiguresPublic):
    caller: CallerPublic = Field(description="who asked: the token's role and scope")
    scope: KpiScopePublic = Field(description="the caller's scope narrowed by the filters")
    since: str
    until: str
    include_simulated: bool = Field(
        description="whether simulated alarms and the sensors of simulated plants are "
                    "counted in these figures (the parameter, or its default)")
    simulated_data: SimulatedDataPublic
    by_enterprise: dict[str, KpiFiguresPublic]
    by_region: dict[str, KpiFiguresPublic] = Field(description="per county (6-digit region)")
    by_tier: dict[str, KpiFiguresPublic] = Field(
        description='per hazard-source tier "1"-"4", "none" for non-major sources')


# --- scope -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SimulatedScope(KpiScope):
    """A simulator's scope: only simulated alarms, and only of `enterprises` (those flagged
    as simulated), fetched and counted; their sensors only."""

    enterprises: frozenset[str] = frozenset()

    def alarm_filter(self, include_simulated: bool) -> AlarmFilter:
        return replace(KpiScope.alarm_filter(self, include_simulated), simulated=True)

    def covers(self, enterprise: str, region: str, tier: int | None) -> bool:
        return (enterprise in self.enterprises
                and KpiScope.covers(self, enterprise, region, tier))

    def to_dict(self) -> dict[str, Any]:
        return {**KpiScope.to_dict(self), "simulated_only": True}


def kpi_scope(principal: Principal, region: str | None, enterprise: str | None,
              tier: list[int] | None) -> KpiScope | None:
    """The caller's scope narrowed by the filters; None when nothing can match."""
    flt = principal.alarm_filter(AlarmFilter(region_prefix=region, enterprise=enterprise,
                                             tier=tier))
    if flt is None:
        return None
    if principal.simulated_only:
        return SimulatedScope(flt.region_prefix, flt.enterprise, flt.tier,
                              principal.simulated_enterprises)
    return KpiScope(flt.region_prefix, flt.enterprise, flt.tier)


def default_include_simulated(principal: Principal, enterprises: list[Enterprise]) -> bool:
    """Simulated data is counted by default only where there is nothing else: a simulator,
    or a scope whose every enterprise is simulated (a demo). A scope without enterprises
    has no data either way."""
    return principal.simulated_only or (bool(enterprises)
                                        and all(e.simulated for e in enterprises))


def sensors_in_scope(registry: Registry, enterprises: list[Enterprise]) -> list[SensorRef]:
    """The registry sensors of `enterprises` (the report narrows them to its scope, tier
    included)."""
    out: list[SensorRef] = []
    for ent in enterprises:
        for info in registry.sensors_of(ent.code).values():
            hs = registry.hazard_sources.get((ent.code, info.hazard_source.code))
            out.append(SensorRef(ent.code, info.sensor.tag, ent.region,
                                 hs.grading.tier if hs else None))
    return out


# --- the endpoint ----------------------------------------------------------------------------


@router.get("", summary="Alarm-system performance for the caller's scope")
async def get_kpis(
    ctx: Ctx, principal: CurrentPrincipal, registry: CurrentRegistry,
    region: RegionQuery = None, enterprise: EnterpriseQuery = None, tier: TierQuery = None,
    from_: Annotated[str | None, Query(alias="from", pattern=TIME_PATTERN,
                                       description="default: `to` - 24 h")] = None,
    to: Annotated[str | None, Query(pattern=TIME_PATTERN, description="default: now")] = None,
    include_simulated: Annotated[bool | None, Query(
        description="count simulated alarms and the sensors of simulated plants; default: "
                    "only when every enterprise in scope is simulated")] = None,
) -> KpiReportPublic:
    to_ms = time_param("to", to, ctx.clock())
    from_ms = time_param("from", from_, max(0, to_ms - DEFAULT_PERIOD_MS))
    if from_ms >= to_ms:
        raise BadRequest("from must be before to")
    if to_ms - from_ms > MAX_PERIOD_MS:
        raise BadRequest("the period is limited to 366 days")
    enterprises = visible_enterprises(registry, principal, region, enterprise)
    default = default_include_simulated(principal, enterprises)
    include = default if include_simulated is None else include_simulated
    scope = kpi_scope(principal, region, enterprise, tier)
    excluded_sensors = 0
    if scope is None or (principal.simulated_only and not include):
        # a filter outside the caller's scope, or a simulator asked for no simulated data
        result = report([], KpiScope(region, enterprise, tier), from_ms, to_ms,
                        include_simulated=include)
    else:
        counted = [e for e in enterprises if include or not e.simulated]
        left_out = [e for e in enterprises if not include and e.simulated]
        excluded_sensors = sum(1 for s in sensors_in_scope(registry, left_out)
                               if scope.covers(s.enterprise, s.region, s.tier))
        result = await kpi_report(
            ctx.alarm_store, scope, from_ms, to_ms, sensors=sensors_in_scope(registry, counted),
            last_seen=None if ctx.last_seen is unknown_last_seen else ctx.last_seen,
            include_simulated=include)
    simulated_data = {
        "requested": include_simulated, "default": default,
        "enterprises": sum(1 for e in enterprises if e.simulated),
        "enterprises_in_scope": len(enterprises),
        "excluded_activations": result.simulated_excluded,
        "excluded_sensors": excluded_sensors,
    }
    return KpiReportPublic.model_validate(
        {**result.to_dict(), "simulated_data": simulated_data,
         "caller": {"role": principal.role, "scope": principal.scope}})
