"""Response shapes shared by several routers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field

from hazmon.api.errors import BadRequest
from hazmon.ingest.decode import parse_time

T = TypeVar("T")

# RFC 3339 with an offset, or epoch milliseconds (the calendar is checked when parsed)
TIME_PATTERN = (r"^([0-9]{1,16}|[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}"
                r"(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2}))$")

# InfluxDB keeps nanosecond int64 times: up to the year 2262.
MAX_TIME_MS = 9_000_000_000_000


def time_param(name: str, text: str | None, default: int) -> int:
    """A query parameter in RFC 3339 or epoch milliseconds; BadRequest naming it."""
    if text is None:
        return default
    try:
        value = int(text) if text.lstrip("-").isdigit() else parse_time(text)
    except ValueError as exc:
        raise BadRequest(f"{name}: {exc}") from None
    if not 0 <= value <= MAX_TIME_MS:
        raise BadRequest(f"{name}: time out of range")
    return value


class OffsetPage(BaseModel, Generic[T]):
    """A page of a list held in memory (the registry): `next_offset` null on the last."""

    items: list[T]
    total: int = Field(description="items matching the filters, over all pages")
    limit: int
    offset: int
    next_offset: int | None


def offset_page(items: Sequence[T], limit: int, offset: int) -> tuple[list[T], int | None]:
    chunk = list(items[offset:offset + limit])
    return chunk, (offset + limit if offset + limit < len(items) else None)


class ErrorBody(BaseModel):
    """Every error answers with this body."""

    error: str = Field(description="machine-readable code: not_found, refused, ...")
    message: str


class FieldError(BaseModel):
    loc: str = Field(description="where: body.minutes, query.priority.0, ...")
    message: str
    type: str


class ValidationErrorBody(ErrorBody):
    errors: list[FieldError]


class ForbiddenBody(ErrorBody):
    action: str = Field(description="the action the caller's role may not take "
                                    "(hazmon.api.rights), e.g. alarm.ack")


# for endpoints that need a right (hazmon.api.deps.requires)
FORBIDDEN: dict[int | str, dict[str, Any]] = {
    403: {"model": ForbiddenBody, "description": "the caller's role may not (http.rights)"},
}

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "a parameter that cannot be used as given"},
    401: {"model": ErrorBody, "description": "missing, invalid, expired or revoked token"},
    404: {"model": ErrorBody, "description": "does not exist, or not in the caller's scope"},
    422: {"model": ValidationErrorBody, "description": "invalid parameters or body"},
    429: {"model": ErrorBody, "description": "too many failed authentications"},
}
