"""The FastAPI application: routers under /api/v1, plus /health and /metrics at the root
for load balancers and Prometheus."""

from __future__ import annotations

from fastapi import FastAPI

from hazmon import __version__
from hazmon.api import health


def create_app(service: health.HealthSource) -> FastAPI:
    app = FastAPI(title="hazmon", version=__version__, openapi_url="/openapi.json")
    app.state.service = service
    app.include_router(health.router, prefix="/api/v1")
    app.include_router(health.router, include_in_schema=False)
    return app
