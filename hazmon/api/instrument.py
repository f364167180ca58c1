"""Prometheus figures for the HTTP API itself: requests by route and status, and time spent.

Labelled by the route's template (`/api/v1/alarms/{alarm_id}`), never the raw path, so
ids cannot blow up the number of series.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hazmon.core.metrics import Metrics


class ApiMetrics:
    """Pure ASGI middleware (no response buffering, so SSE streams pass through)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.requests = metrics.counter(
            "hazmon_api_requests_total", "HTTP requests, by method, route and status",
            ("method", "route", "status"))
        self.seconds = metrics.counter(
            "hazmon_api_request_seconds_total",
            "Time to the start of the response, by method and route (divide by requests)",
            ("method", "route"))
        self.in_flight = metrics.gauge("hazmon_api_requests_in_flight", "Requests being served")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500
        timed = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, timed
            if message["type"] == "http.response.start" and not timed:
                status = message["status"]
                timed = True
                self.seconds.inc(time.perf_counter() - start, scope["method"], _route(scope))
            await send(message)

        self.in_flight.set(self.in_flight.get() + 1)
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self.in_flight.set(self.in_flight.get() - 1)
            self.requests.inc(1, scope["method"], _route(scope), str(status))


def _route(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "(unmatched)"
