"""The FastAPI application: routers under /api/v1, plus /health and /metrics at the root
for load balancers and Prometheus.

`create_app(ctx)` with an ApiContext mounts everything. Given only a HealthSource (an
object with health() and metrics_text(), as the Service passed before the API existed)
it mounts just /health and /metrics, as before.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI

from hazmon import __version__
from hazmon.api import (
    alarms,
    caller,
    enterprises,
    hazard_sources,
    health,
    kpis,
    sensors,
    stream,
    telemetry,
    web,
)
from hazmon.api.context import ApiContext
from hazmon.api.errors import install_error_handlers

API_PREFIX = "/api/v1"


class _ContextHealth:
    """The HealthSource view of an ApiContext, for the health router."""

    def __init__(self, ctx: ApiContext) -> None:
        self._ctx = ctx

    def health(self) -> dict[str, Any]:
        return self._ctx.health()

    def metrics_text(self) -> str:
        return self._ctx.metrics_text()


def create_app(ctx: ApiContext | health.HealthSource) -> FastAPI:
    app = FastAPI(title="hazmon", version=__version__, openapi_url="/openapi.json",
                  description="Monitoring of major hazard sources of hazardous chemicals. "
                              "Every /api/v1 call except /health needs "
                              "`Authorization: Bearer hzm_…` (`hazmon token create`).")
    install_error_handlers(app)
    api = APIRouter(prefix=API_PREFIX)
    api.include_router(health.router)
    if isinstance(ctx, ApiContext):
        app.state.api = ctx
        app.state.service = _ContextHealth(ctx)
        app.state.public_metrics = ctx.public_metrics
        api.include_router(health.api_metrics)
        api.include_router(caller.router)
        api.include_router(enterprises.router)
        api.include_router(hazard_sources.router)
        api.include_router(sensors.router)
        api.include_router(telemetry.router)
        api.include_router(stream.router)  # before alarms: /alarms/stream is not an id
        api.include_router(alarms.router)
        api.include_router(kpis.router)
        web.install(app)  # the monitoring-centre page at / (token asked for by the page)
    else:
        app.state.service = ctx
        api.include_router(health.public_metrics)  # unchanged for the old wiring
    app.include_router(api)
    app.include_router(health.router, include_in_schema=False)
    app.include_router(health.public_metrics, include_in_schema=False)
    return app
