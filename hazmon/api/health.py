"""Liveness with each dependency's state, and Prometheus metrics.

On the API port:
    /health, /api/v1/health   without a token: only {"status": "ok" | "degraded"}, for load
                              balancers and watchdogs; with a token whose role has the
                              metrics right (`metrics.read`, hazmon.api.rights): the detail
                              (broker, InfluxDB, spool, registry, gateways, counters)
    /metrics, /api/v1/metrics the metrics right only (401 without a token, 403 without it):
                              the figures carry enterprise labels (rejections by enterprise)
                              and cover every region this instance serves.

Both answer 200 when degraded: the API still serves alarms while, say, InfluxDB is down and
readings go to the spool, so a load balancer must not take the instance out for that; a
monitor reads `status`. The detail is not public because it names hosts, subscriptions
(the regions served) and errors.

`create_ops_app(source)` is the loopback-only operations listener (`http.ops_port`): the
same detail and metrics without a token, for a Prometheus or an agent on the host itself.
"""

from __future__ import annotations

from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from fastapi.security import HTTPAuthorizationCredentials

from hazmon.api.common import ERROR_RESPONSES, FORBIDDEN
from hazmon.api.deps import Ctx, authenticate, bearer, requires
from hazmon.api.errors import install_error_handlers
from hazmon.api.rights import Action
from hazmon.api.scope import Principal

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


class HealthSource(Protocol):
    def health(self) -> dict[str, Any]: ...

    def metrics_text(self) -> str: ...


router = APIRouter(tags=["health"], responses=ERROR_RESPONSES)  # /health, /metrics
MetricsReader = Annotated[Principal, requires(Action.METRICS_READ)]


def _minimal(detail: dict[str, Any]) -> dict[str, Any]:
    return {"status": detail.get("status", "ok")}


@router.get("/health", summary="Liveness; the state of broker, InfluxDB and spool with a "
                               "metrics token")
async def health(
    request: Request, ctx: Ctx,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> dict[str, Any]:
    detail = ctx.health()
    if credentials is None:
        return _minimal(detail)
    # a token given is checked (a monitor with a bad one should hear so, not get less)
    principal = await authenticate(request, ctx, credentials)
    return detail if ctx.rights.may(principal.role, Action.METRICS_READ) else _minimal(detail)


# response_class=Response (no media type of its own): with PlainTextResponse FastAPI would
# document the JSON error bodies as text/plain too.
_METRICS_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "Prometheus text format 0.0.4",
          "content": {"text/plain": {"schema": {"type": "string"}}}},
    **FORBIDDEN,
}


@router.get("/metrics", response_class=Response, responses=_METRICS_RESPONSES,
            summary="Prometheus metrics (the metrics right)")
async def metrics(ctx: Ctx, principal: MetricsReader) -> PlainTextResponse:
    return PlainTextResponse(ctx.metrics_text(), media_type=PROMETHEUS_TEXT)


def create_ops_app(source: HealthSource) -> FastAPI:
    """/health (the detail) and /metrics without a token: serve it on loopback only."""
    app = FastAPI(title="hazmon operations", openapi_url=None, docs_url=None, redoc_url=None)
    install_error_handlers(app)

    @app.get("/health")
    async def ops_health() -> dict[str, Any]:
        return source.health()

    @app.get("/metrics", response_class=PlainTextResponse)
    async def ops_metrics() -> PlainTextResponse:
        return PlainTextResponse(source.metrics_text(), media_type=PROMETHEUS_TEXT)

    return app
