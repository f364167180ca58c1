"""GET /telemetry: stored readings of one enterprise's sensors, raw or downsampled.

Raw answers at most `limit` readings per tag (oldest first, `truncated` says more exist);
with `every` each bucket gives mean/min/max/count, and a range that would need more than
MAX_BUCKETS buckets is refused with the smallest `every` that fits.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from hazmon.alerts.event import rfc3339
from hazmon.api import influxql
from hazmon.api.common import ERROR_RESPONSES, TIME_PATTERN, time_param
from hazmon.api.deps import Ctx, CurrentPrincipal, CurrentRegistry, EnterpriseQuery
from hazmon.api.errors import BadRequest, NotFound, Unavailable

router = APIRouter(prefix="/telemetry", tags=["telemetry"], responses=ERROR_RESPONSES)

MAX_TAGS = 20
MAX_POINTS = 10_000
MAX_BUCKETS = 10_000
DEFAULT_RANGE_MS = 3_600_000


class RawPoint(BaseModel):
    ts: str
    value: float | None
    quality: str | None


class Bucket(BaseModel):
    ts: str = Field(description="start of the bucket")
    mean: float | None
    min: float | None
    max: float | None
    count: int


class Series(BaseModel):
    tag: str
    hazard_source: str
    kind: str
    unit: str
    points: list[RawPoint] | None = Field(None, description="raw readings (without every)")
    buckets: list[Bucket] | None = Field(None, description="with every")
    truncated: bool = False


class TelemetryPublic(BaseModel):
    enterprise: str
    simulated: bool
    from_: str = Field(alias="from")
    to: str
    every: str | None
    series: list[Series]


@router.get("", summary="Stored readings, raw or downsampled", response_model_by_alias=True)
async def get_telemetry(
    ctx: Ctx, principal: CurrentPrincipal, registry: CurrentRegistry,
    tag: Annotated[list[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")]],
                   Query(min_length=1, max_length=MAX_TAGS,
                         description="sensor tag; repeat for several")],
    enterprise: EnterpriseQuery = None,
    from_: Annotated[str | None, Query(
        alias="from", pattern=TIME_PATTERN,
        description="RFC 3339 or epoch ms; default `to` - 1 h")] = None,
    to: Annotated[str | None, Query(
        pattern=TIME_PATTERN, description="RFC 3339 or epoch ms (exclusive); default now")] = None,
    every: Annotated[str | None, Query(
        max_length=12, description="bucket length: 500ms, 10s, 5m, 1h, 1d")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_POINTS, description="raw points per tag")]
    = MAX_POINTS,
    simulated: Annotated[bool | None, Query(
        description="read the simulated measurement; default: the enterprise's own "
                    "`simulated` flag (always true for a simulator token)")] = None,
) -> TelemetryPublic:
    code = enterprise or principal.enterprise
    if code is None:
        raise BadRequest("enterprise is required: tags are unique only within an enterprise")
    ent = registry.enterprises.get(code)
    if ent is None or not principal.sees_enterprise(ent.code, ent.region):
        raise NotFound(f"no enterprise {code}")
    sensors = registry.sensors_of(code)
    tags = list(dict.fromkeys(tag))
    for t in tags:
        if t not in sensors:
            raise NotFound(f"no sensor {t} at {code}")
    to_ms = time_param("to", to, ctx.clock())
    from_ms = time_param("from", from_, max(0, to_ms - DEFAULT_RANGE_MS))
    if from_ms >= to_ms:
        raise BadRequest("from must be before to")
    every_ms: int | None = None
    if every is not None:
        try:
            every_ms = influxql.parse_duration_ms(every)
        except ValueError as exc:
            raise BadRequest(f"every: {exc}") from None
        needed = -(-(to_ms - from_ms) // every_ms)
        if needed > MAX_BUCKETS:
            smallest = -(-(to_ms - from_ms) // MAX_BUCKETS)
            raise BadRequest(f"every {every} gives {needed} buckets, more than {MAX_BUCKETS}:"
                             f" use at least {-(-smallest // 1000)}s for this range")
    if ctx.influx is None:
        raise Unavailable("no InfluxDB configured")
    sim = (influxql.stored_simulated(ent, principal.simulated_only) if simulated is None
           else simulated or principal.simulated_only)
    db = ctx.influx_database
    series: list[Series] = []
    if every_ms is None:
        rows = await influxql.raw_points(ctx.influx, db, code, tags, from_ms, to_ms, limit, sim)
        for t in tags:
            info = sensors[t]
            got = rows.get(t, [])
            series.append(Series(
                tag=t, hazard_source=info.hazard_source.code, kind=info.sensor.kind.value,
                unit=info.sensor.unit, truncated=len(got) > limit,
                points=[RawPoint(ts=rfc3339(int(r["time"])) or "", value=r.get("value"),
                                 quality=r.get("quality")) for r in got[:limit]],
            ))
    else:
        rows = await influxql.buckets(ctx.influx, db, code, tags, from_ms, to_ms, every_ms, sim)
        for t in tags:
            info = sensors[t]
            series.append(Series(
                tag=t, hazard_source=info.hazard_source.code, kind=info.sensor.kind.value,
                unit=info.sensor.unit,
                buckets=[Bucket(ts=rfc3339(int(r["time"])) or "", mean=r.get("mean"),
                                min=r.get("min"), max=r.get("max"), count=int(r.get("count") or 0))
                         for r in rows.get(t, [])],
            ))
    return TelemetryPublic.model_validate({
        "enterprise": code, "simulated": sim, "from": rfc3339(from_ms), "to": rfc3339(to_ms),
        "every": every, "series": series,
    })
