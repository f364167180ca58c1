"""What the duty routers share: the duty service dependency, scope look-ups that answer
404 outside the caller's scope, the 422 of a form with its Chinese problems, local times."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Path
from pydantic import BaseModel

from hazmon.api.common import ERROR_RESPONSES, ErrorBody, FieldError
from hazmon.api.deps import Ctx
from hazmon.api.enterprises import visible_enterprises
from hazmon.api.errors import ApiError, NotFound, Unavailable
from hazmon.api.scope import Principal
from hazmon.domain.registry import Enterprise, HazardSource, Registry
from hazmon.duties.config import DutiesConfig
from hazmon.duties.service import DutyService

EnterprisePath = Annotated[str, Path(pattern=r"^[0-9A-HJ-NP-RTUW-Y]{18}$",
                                     description="enterprise code")]
HazardSourcePath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{1,32}$")]
CountyPath = Annotated[str, Path(pattern=r"^[0-9]{6}$", description="county code")]
DayPattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def duty_service(ctx: Ctx) -> DutyService:
    if ctx.duties is None:
        raise Unavailable("duties are not configured in this service")
    return ctx.duties


Duties = Annotated[DutyService, Depends(duty_service)]


class Problem(BaseModel):
    path: str  # the form field to correct: "hazard_sources[0].reason"
    message: str  # Chinese, for the page


class ProblemBody(ErrorBody):
    """422: a form's wrong fields in Chinese (`problems`, error "invalid_form"), or a body
    the schema refuses before the form is read (`errors`, error "invalid_request")."""

    problems: list[Problem] | None = None
    errors: list[FieldError] | None = None


class InvalidForm(ApiError):  # noqa: N818 - named for the HTTP answer, as the rest
    """A form with wrong fields: 422 listing each with its Chinese message."""

    status = 422
    code = "invalid_form"

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__(f"有{len(problems)}处需要修改",
                         problems=[{"path": p, "message": m} for p, m in problems])


class Refused(ApiError):  # noqa: N818
    """Refused in the current state (409), the reason in Chinese."""

    status = 409
    code = "refused"


# The duty routers' answers beside ERROR_RESPONSES: 403 (the rights table), 409, 503.
DUTY_RESPONSES: dict[int | str, dict[str, Any]] = {
    **ERROR_RESPONSES,
    403: {"model": ErrorBody, "description": "the caller's role may not (http.rights)"},
    409: {"model": ErrorBody, "description": "refused in the current state"},
    503: {"model": ErrorBody, "description": "duties not configured, or the database down"},
}

FORM_RESPONSES: dict[int | str, dict[str, Any]] = {
    422: {"model": ProblemBody, "description": "wrong fields, each with its Chinese message"},
}


def enterprise_in_scope(registry: Registry, principal: Principal, code: str) -> Enterprise:
    ent = registry.enterprises.get(code)
    if ent is None or not principal.sees_enterprise(ent.code, ent.region):
        raise NotFound(f"no enterprise {code}")
    return ent


def hazard_source_of(ent: Enterprise, code: str) -> HazardSource:
    hs = next((h for h in ent.hazard_sources if h.code == code), None)
    if hs is None:
        raise NotFound(f"no hazard source {code} at {ent.code}")
    return hs


def enterprises_in(registry: Registry, principal: Principal, region: str | None,
                   enterprise: str | None = None) -> list[Enterprise]:
    """The enterprises in scope, within `region` and, when given, only `enterprise`."""
    return visible_enterprises(registry, principal, region, enterprise)


def local_time(ms: int | None, config: DutiesConfig) -> str | None:
    """A time in the province's zone with its offset (what the page and the CSV show)."""
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000, tz=config.zone).isoformat(timespec="seconds")
