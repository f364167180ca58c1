"""GET /regions: the names of the region codes in the caller's view (province, city,
county and grid cell), from the regions file (`warnings.regions_file`), so the page shows
"响水县" where the registry holds "320921". Without a regions file the list is empty and
the page shows the codes."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from hazmon.api.deps import Ctx, CurrentPrincipal, CurrentRegistry
from hazmon.api.scope import Principal
from hazmon.domain.regions import Level, Regions
from hazmon.domain.registry import Registry

router = APIRouter(tags=["registry"])

# How many leading digits of a unit's code name its area: "320900" is the city "3209".
_SIGNIFICANT = {Level.PROVINCE: 2, Level.CITY: 4, Level.COUNTY: 6}


class RegionName(BaseModel):
    code: str = Field(description="the unit's code as the regions file has it (6 or 9 digits)")
    prefix: str = Field(description="the region prefix it stands for: 2 digits for a province, "
                                    "4 for a city, 6 for a county, the whole code for a cell")
    name: str
    level: Level


def _prefix(code: str, level: Level) -> str:
    n = _SIGNIFICANT.get(level)
    return code if n is None else code[:n]


def _scope_prefix(principal: Principal, registry: Registry) -> str:
    if principal.region_prefix is not None:
        return principal.region_prefix
    ent = registry.enterprises.get(principal.scope)
    return ent.region if ent is not None else principal.scope


def names_in_view(regions: Regions, scope: str) -> list[RegionName]:
    """The units within `scope` and those above it (a county's page names its city too)."""
    seen: dict[str, RegionName] = {}
    for code in regions.codes():
        place = regions.place(code)
        if place is None:
            continue
        for level, unit in place.chain():
            prefix = _prefix(unit.code, level)
            if unit.code not in seen and (prefix.startswith(scope) or scope.startswith(prefix)):
                seen[unit.code] = RegionName(code=unit.code, prefix=prefix, name=unit.name,
                                             level=level)
    return sorted(seen.values(), key=lambda r: r.code)


@router.get("/regions", response_model=list[RegionName],
            summary="Names of the region codes in the caller's view")
async def list_regions(principal: CurrentPrincipal, ctx: Ctx,
                       registry: CurrentRegistry) -> list[RegionName]:
    if ctx.regions is None:
        return []
    return names_in_view(ctx.regions, _scope_prefix(principal, registry))
