"""GET /enterprises, GET /enterprises/{code}: the registry's enterprises in scope, with
their worst tier, gateway state and worst active alarm."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from hazmon.api.common import ERROR_RESPONSES, OffsetPage, offset_page
from hazmon.api.deps import (
    Ctx,
    CurrentPrincipal,
    CurrentRegistry,
    EnterpriseQuery,
    LimitQuery,
    OffsetQuery,
    RegionQuery,
    TierQuery,
)
from hazmon.api.errors import NotFound
from hazmon.api.live import (
    AlarmIndex,
    GatewayPublic,
    WorstAlarm,
    alarm_index,
    gateway_of,
    worst_public,
)
from hazmon.api.scope import Principal, Scope
from hazmon.domain.registry import Enterprise, Registry
from hazmon.domain.signal import Priority
from hazmon.ingest.gateways import GatewayTracker

router = APIRouter(prefix="/enterprises", tags=["registry"], responses=ERROR_RESPONSES)

GatewayStateQuery = Annotated[
    list[Literal["online", "offline", "unknown"]] | None,
    Query(description="gateway state(s)"),
]
PriorityQuery = Annotated[
    list[Priority] | None, Query(description="priority of the worst active alarm")
]


class LocationPublic(BaseModel):
    lat: float
    lon: float


class ContactPublic(BaseModel):
    role: str
    name: str
    phone: str
    email: str | None = None


class EnterprisePublic(BaseModel):
    code: str
    name: str
    region: str
    simulated: bool  # a simulated plant: its alarms never page real people
    location: LocationPublic | None
    contacts: list[ContactPublic]
    tier: int | None  # the most severe tier among its hazard sources (1 = most severe)
    hazard_sources: list[str]
    sensor_count: int
    gateway: GatewayPublic
    worst_alarm: WorstAlarm | None
    open_alarms: int


def enterprise_tier(registry: Registry, ent: Enterprise) -> int | None:
    tiers = [t for hs in ent.hazard_sources
             if (info := registry.hazard_sources.get((ent.code, hs.code))) is not None
             and (t := info.grading.tier) is not None]
    return min(tiers) if tiers else None


def _public(registry: Registry, ent: Enterprise, index: AlarmIndex,
            gateways: GatewayTracker) -> EnterprisePublic:
    return EnterprisePublic(
        code=ent.code, name=ent.name, region=ent.region, simulated=ent.simulated,
        location=LocationPublic(lat=ent.location.lat, lon=ent.location.lon)
        if ent.location else None,
        contacts=[ContactPublic(role=c.role, name=c.name, phone=c.phone, email=c.email)
                  for c in ent.contacts],
        tier=enterprise_tier(registry, ent),
        hazard_sources=[hs.code for hs in ent.hazard_sources],
        sensor_count=len(registry.sensors_of(ent.code)),
        gateway=gateway_of(gateways, ent.code),
        worst_alarm=worst_public(index.worst.get((ent.code,))),
        open_alarms=index.open[(ent.code,)],
    )


def visible_enterprises(registry: Registry, principal: Principal, region: str | None,
                        enterprise: str | None) -> list[Enterprise]:
    """In-scope enterprises matching a region prefix and code, sorted by region, code."""
    scope = principal.narrow(Scope(region, enterprise))
    if scope is None:
        return []
    prefix, code = scope.region_prefix, scope.enterprise
    out = [e for e in registry.enterprises.values()
           if principal.sees_enterprise(e.code, e.region)
           and (prefix is None or e.region.startswith(prefix))
           and (code is None or e.code == code)]
    return sorted(out, key=lambda e: (e.region, e.code))


@router.get("", summary="Enterprises in the caller's scope")
async def list_enterprises(
    ctx: Ctx, principal: CurrentPrincipal, registry: CurrentRegistry,
    region: RegionQuery = None, enterprise: EnterpriseQuery = None, tier: TierQuery = None,
    state: GatewayStateQuery = None, priority: PriorityQuery = None,
    limit: LimitQuery = 100, offset: OffsetQuery = 0,
) -> OffsetPage[EnterprisePublic]:
    index = await alarm_index(ctx.alarm_store, principal, enterprise)
    items = [_public(registry, e, index, ctx.gateways)
             for e in visible_enterprises(registry, principal, region, enterprise)]
    items = [i for i in items
             if (tier is None or i.tier in tier)
             and (state is None or i.gateway.state in state)
             and (priority is None or (i.worst_alarm is not None
                                       and i.worst_alarm.priority in priority))]
    chunk, nxt = offset_page(items, limit, offset)
    return OffsetPage[EnterprisePublic](items=chunk, total=len(items), limit=limit,
                                        offset=offset, next_offset=nxt)


@router.get("/{code}", summary="One enterprise")
async def get_enterprise(
    ctx: Ctx, principal: CurrentPrincipal, registry: CurrentRegistry,
    code: Annotated[str, Path(max_length=64)],
) -> EnterprisePublic:
    ent = registry.enterprises.get(code)
    if ent is None or not principal.sees_enterprise(ent.code, ent.region):
        raise NotFound(f"no enterprise {code}")
    index = await alarm_index(ctx.alarm_store, principal, code)
    return _public(registry, ent, index, ctx.gateways)
