"""Liveness with each dependency's state, and Prometheus metrics.

/health answers without a token everywhere (load balancers, systemd watchdogs).
/metrics at the root answers without a token while `ApiContext.public_metrics` holds
(Prometheus scrapes it; it carries only instance-wide counters, no enterprise or alarm
data; keep the port off public networks), else it answers 404. /api/v1/metrics always
needs a province token: the figures cover every region this instance serves.
"""

from __future__ import annotations

from typing import Any, Protocol

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from hazmon.api.common import ERROR_RESPONSES
from hazmon.api.deps import CurrentPrincipal
from hazmon.api.errors import NotFound
from hazmon.api.scope import Role

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


class HealthSource(Protocol):
    def health(self) -> dict[str, Any]: ...

    def metrics_text(self) -> str: ...


router = APIRouter(tags=["health"])  # /health
public_metrics = APIRouter(tags=["health"])  # /metrics at the root
api_metrics = APIRouter(tags=["health"], responses=ERROR_RESPONSES)  # with a token


def _source(request: Request) -> HealthSource:
    src: HealthSource = request.app.state.service
    return src


@router.get("/health", summary="Liveness and the state of broker, InfluxDB and spool")
async def health(request: Request) -> dict[str, Any]:
    return _source(request).health()


@public_metrics.get("/metrics", response_class=PlainTextResponse, summary="Prometheus metrics")
async def metrics(request: Request) -> PlainTextResponse:
    if not getattr(request.app.state, "public_metrics", True):
        raise NotFound("not found")
    return PlainTextResponse(_source(request).metrics_text(), media_type=PROMETHEUS_TEXT)


@api_metrics.get("/metrics", response_class=PlainTextResponse,
                 summary="Prometheus metrics (province token)")
async def metrics_authenticated(request: Request, principal: CurrentPrincipal
                                ) -> PlainTextResponse:
    if principal.role is not Role.PROVINCE:
        raise NotFound("not found")
    return PlainTextResponse(_source(request).metrics_text(), media_type=PROMETHEUS_TEXT)
