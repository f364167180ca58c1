"""GET /sensors: sensors in scope with limits, tier, gateway state, last reading (from
InfluxDB, one query per page) and worst active alarm."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from hazmon.alerts.event import rfc3339
from hazmon.api import influxql
from hazmon.api.common import ERROR_RESPONSES, OffsetPage, offset_page
from hazmon.api.deps import (
    Ctx,
    CurrentPrincipal,
    CurrentRegistry,
    EnterpriseQuery,
    HazardSourceQuery,
    LimitQuery,
    OffsetQuery,
    RegionQuery,
    TierQuery,
)
from hazmon.api.enterprises import GatewayStateQuery, PriorityQuery, visible_enterprises
from hazmon.api.live import GatewayPublic, WorstAlarm, alarm_index, gateway_of, worst_public
from hazmon.domain.registry import Registry, SensorKind
from hazmon.ingest.influx import InfluxError

log = logging.getLogger(__name__)

router = APIRouter(prefix="/sensors", tags=["registry"], responses=ERROR_RESPONSES)


class LimitsPublic(BaseModel):
    low_low: float | None = None
    low: float | None = None
    high: float | None = None
    high_high: float | None = None


class LastReadingPublic(BaseModel):
    ts: str | None
    value: float | None
    quality: str | None


class SensorPublic(BaseModel):
    enterprise: str
    region: str
    hazard_source: str
    tag: str
    name: str | None
    kind: SensorKind
    unit: str
    range: tuple[float, float]
    gas: str | None
    limits: LimitsPublic | None
    limits_basis: str = Field(description='"registry" or the GB 50493-2019 basis')
    tier: int | None
    gateway: GatewayPublic
    last: LastReadingPublic | None = Field(
        description="newest reading of the last 24 h; null when none or not looked up")
    worst_alarm: WorstAlarm | None
    open_alarms: int


class SensorPage(OffsetPage[SensorPublic]):
    last_available: bool = Field(
        description="false when the last readings could not be read (InfluxDB down)")


@router.get("", summary="Sensors in the caller's scope")
async def list_sensors(
    ctx: Ctx, principal: CurrentPrincipal, registry: CurrentRegistry,
    region: RegionQuery = None, enterprise: EnterpriseQuery = None,
    hazard_source: HazardSourceQuery = None,
    tag: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")] = None,
    tier: TierQuery = None, kind: Annotated[list[SensorKind] | None, Query()] = None,
    state: GatewayStateQuery = None, priority: PriorityQuery = None,
    last: Annotated[bool, Query(description="look up the last reading of each")] = True,
    limit: LimitQuery = 100, offset: OffsetQuery = 0,
) -> SensorPage:
    index = await alarm_index(ctx.alarm_store, principal, enterprise)
    items: list[SensorPublic] = []
    for ent in visible_enterprises(registry, principal, region, enterprise):
        gateway = gateway_of(ctx.gateways, ent.code)
        for info in registry.sensors_of(ent.code).values():
            s, hs = info.sensor, info.hazard_source
            hs_info = registry.hazard_sources.get((ent.code, hs.code))
            hs_tier = hs_info.grading.tier if hs_info else None
            worst = worst_public(index.worst.get((ent.code, hs.code, s.tag)))
            if ((hazard_source is not None and hs.code != hazard_source)
                    or (tag is not None and s.tag != tag)
                    or (tier is not None and hs_tier not in tier)
                    or (kind is not None and s.kind not in kind)
                    or (state is not None and gateway.state not in state)
                    or (priority is not None
                        and (worst is None or worst.priority not in priority))):
                continue
            lim = info.limits
            items.append(SensorPublic(
                enterprise=ent.code, region=ent.region, hazard_source=hs.code, tag=s.tag,
                name=s.name, kind=s.kind, unit=s.unit, range=s.range, gas=s.gas,
                limits=LimitsPublic(low_low=lim.low_low, low=lim.low, high=lim.high,
                                    high_high=lim.high_high) if lim else None,
                limits_basis=info.limits_basis, tier=hs_tier, gateway=gateway, last=None,
                worst_alarm=worst, open_alarms=index.open[(ent.code, hs.code, s.tag)],
            ))
    chunk, nxt = offset_page(items, limit, offset)
    available = True
    if last and chunk:
        available = await _fill_last(ctx, registry, chunk, principal.simulated_only)
    return SensorPage(items=chunk, total=len(items), limit=limit, offset=offset,
                      next_offset=nxt, last_available=available)


async def _fill_last(ctx: Ctx, registry: Registry, chunk: list[SensorPublic],
                     simulator: bool) -> bool:
    if ctx.influx is None:
        return False
    now = ctx.clock()
    # each plant's readings from the measurement they are stored in: one query for the
    # simulated plants of the page, one for the real ones
    by_measurement: dict[bool, list[str]] = {}
    for code in sorted({s.enterprise for s in chunk}):
        sim = influxql.stored_simulated(registry.enterprises[code], simulator)
        by_measurement.setdefault(sim, []).append(code)
    found: dict[tuple[str, str], influxql.LastReading] = {}
    try:
        for sim, enterprises in sorted(by_measurement.items()):
            found.update(await influxql.last_readings(
                ctx.influx, ctx.influx_database, enterprises,
                now - ctx.last_reading_window_ms, now + 300_000, sim))
    except InfluxError as exc:
        # the registry is still worth showing without the last values
        log.warning("sensor list without last readings: %s", exc)
        return False
    for s in chunk:
        r = found.get((s.enterprise, s.tag))
        if r is not None:
            s.last = LastReadingPublic(ts=rfc3339(r.ts_ms), value=r.value, quality=r.quality)
    return True
