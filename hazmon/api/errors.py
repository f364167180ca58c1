"""The API's exceptions and the JSON error body every failure answers with.

    {"error": "not_found", "message": "no alarm 01J..."}               (+ "errors" on 422)

Errors of other packages are translated here, at the boundary: a refused alarm transition
is a 409 with its reason, a missing alarm a 404, a database or InfluxDB outage a 503.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from hazmon.alerts.errors import ActionRefused, AlarmNotFound, StoreError, TransitionRefused
from hazmon.alerts.sql import StoreConflict
from hazmon.ingest.influx import InfluxError

log = logging.getLogger(__name__)


class ApiError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, **extra: Any) -> None:
        self.message = message
        self.extra = extra
        self.headers: dict[str, str] = {}
        super().__init__(message)


class BadRequest(ApiError):  # noqa: N818 - named for the HTTP answer, as the rest
    pass


class Unauthorized(ApiError):  # noqa: N818
    status = 401
    code = "unauthorized"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.headers = {"WWW-Authenticate": 'Bearer realm="hazmon"'}


class Forbidden(ApiError):  # noqa: N818
    """In scope, but the caller's role may not do this (hazmon.api.rights)."""

    status = 403
    code = "forbidden"


class NotFound(ApiError):  # noqa: N818
    status = 404
    code = "not_found"


class RateLimited(ApiError):  # noqa: N818
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message, retry_after_s=retry_after_s)
        self.headers = {"Retry-After": str(retry_after_s)}


class Unavailable(ApiError):  # noqa: N818
    status = 503
    code = "unavailable"


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": code, "message": message, **extra}


# HTTP statuses raised by the framework itself (unknown path, wrong method, ...).
_STATUS_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                 405: "method_not_allowed", 409: "conflict", 413: "too_large",
                 415: "unsupported_media_type", 422: "invalid_request", 429: "rate_limited"}


def _loc(loc: tuple[int | str, ...] | list[int | str]) -> str:
    return ".".join(str(p) for p in loc)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse(error_body(exc.code, exc.message, **exc.extra), exc.status,
                        headers=exc.headers)


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"loc": _loc(e.get("loc", ())), "message": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    summary = "; ".join(f"{e['loc']}: {e['message']}" for e in errors[:5])
    return JSONResponse(
        error_body("invalid_request", f"invalid request: {summary}", errors=errors), 422
    )


async def _http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _STATUS_CODES.get(exc.status_code, "error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    return JSONResponse(error_body(code, message), exc.status_code,
                        headers=dict(exc.headers or {}))


async def _refused(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ActionRefused)
    extra: dict[str, Any] = {"reason": exc.reason}
    if isinstance(exc, TransitionRefused):
        extra.update(state=exc.state, action=exc.event)
    return JSONResponse(error_body("refused", str(exc), **extra), 409)


async def _alarm_not_found(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AlarmNotFound)
    return JSONResponse(error_body("not_found", f"no alarm {exc.alarm_id}"), 404)


async def _store_conflict(request: Request, exc: Exception) -> JSONResponse:
    # A concurrent change won a uniqueness race: the caller may read and try again.
    return JSONResponse(error_body("conflict", "changed concurrently, reload and retry"), 409)


async def _backend_down(request: Request, exc: Exception) -> JSONResponse:
    # The cause goes to the log, not to the caller: it may name hosts and files.
    log.error("%s %s: backend failure: %s", request.method, request.url.path, exc)
    what = "InfluxDB" if isinstance(exc, InfluxError) else "the alarm database"
    return JSONResponse(error_body("unavailable", f"{what} is not available, try again"), 503,
                        headers={"Retry-After": "5"})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(ActionRefused, _refused)
    app.add_exception_handler(AlarmNotFound, _alarm_not_found)
    app.add_exception_handler(StoreConflict, _store_conflict)
    app.add_exception_handler(StoreError, _backend_down)
    app.add_exception_handler(InfluxError, _backend_down)
