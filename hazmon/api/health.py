"""Liveness with each dependency's state, and Prometheus metrics."""

from __future__ import annotations

from typing import Any, Protocol

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse


class HealthSource(Protocol):
    def health(self) -> dict[str, Any]: ...

    def metrics_text(self) -> str: ...


router = APIRouter(tags=["health"])


def _source(request: Request) -> HealthSource:
    src: HealthSource = request.app.state.service
    return src


@router.get("/health", summary="Liveness and the state of broker, InfluxDB and spool")
async def health(request: Request) -> dict[str, Any]:
    return _source(request).health()


@router.get("/metrics", response_class=PlainTextResponse, summary="Prometheus metrics")
async def metrics(request: Request) -> PlainTextResponse:
    return PlainTextResponse(
        _source(request).metrics_text(), media_type="text/plain; version=0.0.4; charset=utf-8"
    )
