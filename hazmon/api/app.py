"""The FastAPI application: routers under /api/v1, plus /health and /metrics at the root
for load balancers and Prometheus (hazmon.api.health says who sees what there).

`create_app(ctx)` with an ApiContext mounts everything; the loopback operations listener
is `hazmon.api.health.create_ops_app`.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from hazmon import __version__
from hazmon.api import (
    alarms,
    caller,
    duties_commitments,
    duties_runstate,
    duties_watch,
    enterprises,
    hazard_sources,
    health,
    kpis,
    regions,
    sensors,
    stream,
    telemetry,
    warnings,
    web,
)
from hazmon.api.context import ApiContext
from hazmon.api.errors import install_error_handlers

API_PREFIX = "/api/v1"


def create_app(ctx: ApiContext) -> FastAPI:
    app = FastAPI(title="hazmon", version=__version__, openapi_url="/openapi.json",
                  description="Monitoring of major hazard sources of hazardous chemicals. "
                              "Every /api/v1 call except /health needs "
                              "`Authorization: Bearer hzm_…` (`hazmon token create`).")
    install_error_handlers(app)
    app.state.api = ctx
    api = APIRouter(prefix=API_PREFIX)
    api.include_router(health.router)
    api.include_router(caller.router)
    api.include_router(enterprises.router)
    api.include_router(hazard_sources.router)
    api.include_router(regions.router)
    api.include_router(sensors.router)
    api.include_router(telemetry.router)
    api.include_router(stream.router)  # before alarms: /alarms/stream is not an id
    api.include_router(alarms.router)
    api.include_router(kpis.router)
    api.include_router(warnings.router)
    for duty_router in (duties_commitments.router, duties_runstate.router,
                        duties_watch.router):
        api.include_router(duty_router)
    web.install(app)  # the monitoring-centre page at / (token asked for by the page)
    app.include_router(api)
    app.include_router(health.router, include_in_schema=False)  # at the root as well
    return app
