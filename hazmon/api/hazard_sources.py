"""GET /hazard-sources: major hazard sources in scope with their GB 18218 grading, the
gateway state of their plant and their worst active alarm."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

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
from hazmon.domain.registry import HazardSourceKind

router = APIRouter(prefix="/hazard-sources", tags=["registry"], responses=ERROR_RESPONSES)


class InventoryPublic(BaseModel):
    chemical: str
    cas: str | None
    tonnes: float


class HazardSourcePublic(BaseModel):
    enterprise: str
    enterprise_name: str
    region: str
    code: str
    name: str
    kind: HazardSourceKind
    population_exposed: int
    tier: int | None  # GB 18218-2018 grade, 1 most severe; null when not a major source
    r: float
    ratio_sum: float
    is_major: bool
    inventory: list[InventoryPublic]
    sensors: list[str]
    gateway: GatewayPublic
    worst_alarm: WorstAlarm | None
    open_alarms: int


@router.get("", summary="Hazard sources in the caller's scope")
async def list_hazard_sources(
    ctx: Ctx, principal: CurrentPrincipal, registry: CurrentRegistry,
    region: RegionQuery = None, enterprise: EnterpriseQuery = None,
    code: HazardSourceQuery = None, tier: TierQuery = None,
    kind: Annotated[list[HazardSourceKind] | None, Query()] = None,
    state: GatewayStateQuery = None, priority: PriorityQuery = None,
    limit: LimitQuery = 100, offset: OffsetQuery = 0,
) -> OffsetPage[HazardSourcePublic]:
    index = await alarm_index(ctx.alarm_store, principal, enterprise)
    items: list[HazardSourcePublic] = []
    for ent in visible_enterprises(registry, principal, region, enterprise):
        gateway = gateway_of(ctx.gateways, ent.code)
        for hs in ent.hazard_sources:
            info = registry.hazard_sources.get((ent.code, hs.code))
            if info is None or (code is not None and hs.code != code):
                continue
            g = info.grading
            worst = worst_public(index.worst.get((ent.code, hs.code)))
            if ((tier is not None and g.tier not in tier)
                    or (kind is not None and hs.kind not in kind)
                    or (state is not None and gateway.state not in state)
                    or (priority is not None
                        and (worst is None or worst.priority not in priority))):
                continue
            items.append(HazardSourcePublic(
                enterprise=ent.code, enterprise_name=ent.name, region=ent.region,
                code=hs.code, name=hs.name, kind=hs.kind,
                population_exposed=hs.population_exposed, tier=g.tier, r=g.r,
                ratio_sum=g.ratio_sum, is_major=g.is_major,
                inventory=[InventoryPublic(chemical=i.chemical, cas=i.cas, tonnes=i.tonnes)
                           for i in hs.inventory],
                sensors=[s.tag for s in hs.sensors], gateway=gateway, worst_alarm=worst,
                open_alarms=index.open[(ent.code, hs.code)],
            ))
    chunk, nxt = offset_page(items, limit, offset)
    return OffsetPage[HazardSourcePublic](items=chunk, total=len(items), limit=limit,
                                          offset=offset, next_offset=nxt)
