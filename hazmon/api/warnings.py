"""The warning endpoints (预警): list, labels, detail with history and pushes, and the
steps people take: the enterprise's disposal feedback, the regulator's review (accept →
消警, or return with a reason), the on-site check, and a warning opened by hand.

Who may take a step is the rights table's (`requires(Action.WARNING_...)`: 403 naming
the action); what a caller sees is its scope, county included (404 outside, exactly as
for a warning that does not exist). The state machine's refusals answer 409 with the
machine code and the Chinese reason; an invalid feedback 422 with one Chinese message per
field (`problems`), for the form to show beside each input.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from hazmon.alerts.sql import StoreConflict
from hazmon.api.common import ERROR_RESPONSES, TIME_PATTERN, ErrorBody, time_param
from hazmon.api.deps import (
    Ctx,
    CurrentPrincipal,
    CurrentRegistry,
    EnterpriseQuery,
    HazardSourceQuery,
    LimitQuery,
    OffsetQuery,
    RegionQuery,
    requires,
)
from hazmon.api.enterprises import visible_enterprises
from hazmon.api.errors import ApiError, NotFound, Unavailable
from hazmon.api.rights import Action
from hazmon.api.scope import Principal, Role, narrow_region
from hazmon.api.warnings_public import (
    Labels,
    WarningDetail,
    WarningPage,
    WarningPublic,
    labels,
    warning_detail,
    warning_public,
)
from hazmon.domain.regions import Level, Regions
from hazmon.domain.registry import Registry
from hazmon.duties.report import ScopeEnterprise
from hazmon.warnings.engine import WarningEngine
from hazmon.warnings.evaluate import Assessment, Reason
from hazmon.warnings.feedback import MAX_TEXT, FeedbackInvalid, parse_feedback
from hazmon.warnings.levels import WarningLevel
from hazmon.warnings.lifecycle import (
    Accept,
    Actor,
    ActorKind,
    EarlyWarning,
    FileFeedback,
    RecordOnsiteCheck,
    Return,
    WarningRefused,
    WarningState,
)
from hazmon.warnings.lifecycle import (
    Action as StepAction,
)
from hazmon.warnings.report import (
    Period,
    ReportRefused,
    build_report,
    counted_window,
    local_day,
    period_window,
)
from hazmon.warnings.report_render import report_csv, report_html
from hazmon.warnings.store import WarningFilter

router = APIRouter(prefix="/warnings", tags=["warnings"], responses=ERROR_RESPONSES)

WarningId = Annotated[str, Path(max_length=64, description="warning id (ULID)")]
_LEVELS: dict[Role, Level] = {Role.COUNTY: Level.COUNTY, Role.CITY: Level.CITY,
                              Role.PROVINCE: Level.PROVINCE}


class Refused(ApiError):  # noqa: N818 - named for the HTTP answer, as the rest
    """The warning's state does not allow the step (lifecycle.WarningRefused)."""

    status = 409
    code = "refused"


class FeedbackRejected(ApiError):  # noqa: N818
    status = 422
    code = "invalid_feedback"


_REFUSED: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorBody, "description": "the caller's role may not take this step"},
    409: {"model": ErrorBody, "description": "refused in the warning's current state: "
                                             "`refusal` (machine code) and `reason` (Chinese)"},
}


def _engine(ctx: Ctx) -> WarningEngine:
    if ctx.warnings is None:
        raise Unavailable("warnings are not enabled (warnings.enabled)")
    return ctx.warnings


def _names(registry: Registry) -> dict[str, str]:
    return {code: e.name for code, e in registry.enterprises.items()}


def _sees(principal: Principal, w: EarlyWarning) -> bool:
    return principal.sees_event({"enterprise": w.enterprise, "region": w.region,
                                 "simulated": w.simulated})


async def _visible(engine: WarningEngine, principal: Principal, warning_id: str
                   ) -> EarlyWarning:
    w = await engine.store.get(warning_id)
    if w is None or not _sees(principal, w):
        raise NotFound(f"no warning {warning_id}")
    return w


def _actor(principal: Principal, w: EarlyWarning) -> Actor:
    if principal.role in _LEVELS:
        return Actor(principal.actor, ActorKind.REGULATOR, level=_LEVELS[principal.role])
    # an enterprise user acts for its plant; the simulator for the simulated plant it sees
    return Actor(principal.actor, ActorKind.ENTERPRISE,
                 enterprise=principal.enterprise or w.enterprise)


async def _step(ctx: Ctx, principal: Principal, registry: Registry, warning_id: str,
                make: Any) -> WarningPublic:
    engine = _engine(ctx)
    w = await _visible(engine, principal, warning_id)
    action: StepAction = make(_actor(principal, w), ctx.clock())
    try:
        saved = await engine.act(warning_id, action)
    except WarningRefused as exc:
        raise Refused(str(exc.reason), refusal=exc.code, reason=exc.reason, state=exc.state,
                      action=exc.action) from None
    if saved is None:  # pragma: no cover - seen a moment ago, warnings are never deleted
        raise NotFound(f"no warning {warning_id}")
    return warning_public(saved.step.warning, _names(registry), engine.policy)


# --- bodies ------------------------------------------------------------------------------


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ReviewCreate(_Body):
    decision: Literal["accept", "return"] = Field(
        description="accept: close the warning (消警); return: back to the enterprise")
    note: str = Field("", max_length=MAX_TEXT, description="accept: optional note")
    reason: str = Field("", max_length=MAX_TEXT, description="return: why (required)")


class OnsiteCheckCreate(_Body):
    findings: str = Field(max_length=MAX_TEXT, description="核查情况")
    inspectors: list[Annotated[str, Field(max_length=64)]] = Field(
        max_length=20, description="核查人员")


class WarningCreate(_Body):
    enterprise: str = Field(pattern=r"^[0-9A-HJ-NP-RTUW-Y]{18}$")
    hazard_source: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]{1,32}$",
                                      description="null: an enterprise-wide warning")
    level: WarningLevel
    text: str = Field(min_length=1, max_length=MAX_TEXT, description="the reason, Chinese")


FEEDBACK_EXAMPLE = {
    "cause": "instrument_fault", "cause_detail": "", "measures": "更换液位计并校准",
    "person": "王五", "phone": "13800000103", "handled_at": "2026-11-22T10:30:00+08:00",
    "cause_removed": True,
}


# --- endpoints -----------------------------------------------------------------------------


@router.get("", summary="Warnings in the caller's scope: open first, overdue first, "
                        "gravest first, newest first")
async def list_warnings(
    ctx: Ctx, principal: CurrentPrincipal, registry: CurrentRegistry,
    region: RegionQuery = None, enterprise: EnterpriseQuery = None,
    hazard_source: HazardSourceQuery = None,
    level: Annotated[list[WarningLevel] | None, Query(description="level(s)")] = None,
    state: Annotated[list[WarningState] | None, Query(description="state(s)")] = None,
    open_: Annotated[bool | None, Query(alias="open", description="open (not closed)")]
    = None,
    overdue: bool | None = None, simulated: bool | None = None,
    from_: Annotated[str | None, Query(alias="from", pattern=TIME_PATTERN,
                                       description="opened at or after (RFC 3339 / ms)")]
    = None,
    to: Annotated[str | None, Query(pattern=TIME_PATTERN, description="opened before")]
    = None,
    limit: LimitQuery = 100, offset: OffsetQuery = 0,
) -> WarningPage:
    engine = _engine(ctx)
    flt = principal.narrow(WarningFilter(
        region_prefix=region, enterprise=enterprise, hazard_source=hazard_source,
        level=level, state=state, open=open_, overdue=overdue, simulated=simulated,
        since_ms=None if from_ is None else time_param("from", from_, 0),
        until_ms=None if to is None else time_param("to", to, 0)))
    if flt is None:
        return WarningPage(items=[], total=0, limit=limit, offset=offset, next_offset=None)
    items, total = await engine.store.query(flt, limit=limit, offset=offset)
    names = _names(registry)
    return WarningPage(
        items=[warning_public(w, names, engine.policy) for w in items if _sees(principal, w)],
        total=total, limit=limit, offset=offset,
        next_offset=offset + limit if offset + limit < total else None)


@router.get("/labels", summary="Chinese labels of levels, states, causes, events, ...")
async def warning_labels(ctx: Ctx, principal: CurrentPrincipal) -> Labels:
    return labels(_engine(ctx).policy)


@router.post("", summary="Open a warning by hand (a patrol's finding)",
             status_code=status.HTTP_201_CREATED, responses=_REFUSED)
async def open_warning(
    ctx: Ctx, principal: Annotated[Principal, requires(Action.WARNING_OPEN)],
    registry: CurrentRegistry, body: WarningCreate,
) -> WarningPublic:
    engine = _engine(ctx)
    ent = registry.enterprises.get(body.enterprise)
    if ent is None or not principal.sees_enterprise(ent.code, ent.region) or (
            principal.simulated_only and not ent.simulated):
        raise NotFound(f"no enterprise {body.enterprise}")
    name, tier = ent.name, None
    if body.hazard_source is not None:
        info = registry.hazard_sources.get((ent.code, body.hazard_source))
        if info is None:
            raise NotFound(f"no hazard source {body.hazard_source}")
        name, tier = info.hazard_source.name, info.grading.tier
    else:
        tiers = [i.grading.tier for (e, _), i in registry.hazard_sources.items()
                 if e == ent.code and i.grading.tier is not None]
        tier = min(tiers) if tiers else None
    actor = Actor(principal.actor, ActorKind.REGULATOR, level=_LEVELS.get(principal.role))
    reason = Reason("manual", "manual", body.level, body.text, data={"by": principal.actor})
    assessment = Assessment(ent.code, body.hazard_source, name, ent.region, tier, body.level,
                            (reason,), ent.simulated)
    try:
        saved = await engine.open_by_hand(assessment, actor)
    except StoreConflict:
        current = next((w for w in await engine.store.open_warnings()
                        if w.key == assessment.key), None)
        raise Refused("该对象已有未消警的预警", refusal="already_open",
                      reason="该对象已有未消警的预警",
                      warning=current.id if current is not None else None) from None
    return warning_public(saved.step.warning, _names(registry), engine.policy)


# --- the reports (通报): above /{warning_id}, or "report" would be taken for an id ----------

class ReportInvalid(ApiError):  # noqa: N818 - named for the HTTP answer, as the rest
    status = 422
    code = "invalid_report"


_REPORT_FORMATS = {"csv": "text/csv; charset=utf-8", "html": "text/html; charset=utf-8"}
# A report reads the warnings opened since this long before its period: the previous
# period (a month at most) is what its trend compares with.
_PREVIOUS_MS = 32 * 24 * 3600 * 1000


def _region_name(regions: Regions | None, prefix: str) -> str | None:
    if regions is None or not prefix:
        return None
    place = regions.place(prefix.ljust(6, "0"))
    if place is None:
        return None
    unit = place.county or place.city or place.province
    return unit.name


def _duty_scope(ctx: Ctx, principal: Principal, registry: Registry, prefix: str | None,
                include_simulated: bool) -> list[ScopeEnterprise]:
    """The enterprises whose duties the report counts: the caller's scope within the
    report's region (a plant its own), simulated plants only when asked for."""
    simulated = ctx.simulated_enterprises()
    return [ScopeEnterprise(e.code, e.name, e.region)
            for e in visible_enterprises(registry, principal, prefix, principal.enterprise)
            if include_simulated or not (e.simulated or e.code in simulated)]


def _county_names(regions: Regions | None, counties: set[str]) -> dict[str, str]:
    if regions is None:
        return {}
    found = {c: regions.county_of(c) for c in counties}
    return {c: county.name for c, county in found.items() if county is not None}


@router.get("/report", summary="The report (通报) of a region and period: JSON, CSV or a "
                               "printable page (docs/CONTRACT.md §5.11)",
            response_model=None,
            responses={200: {"content": {"text/csv": {}, "text/html": {}}, "description":
                             "the report; `format=csv` or `format=html` for those"},
                       422: {"model": ErrorBody, "description": "a bad period, region or "
                                                                 "day, or one not begun"}})
async def warning_report(
    ctx: Ctx, principal: CurrentPrincipal, registry: CurrentRegistry,
    period: Annotated[Literal["day", "week", "month"], Query(
        description="a calendar day, ISO week or month in Asia/Shanghai")] = "day",
    day: Annotated[date | None, Query(description="any day of the period (default today)")]
    = None,
    region: RegionQuery = None,
    top: Annotated[int, Query(ge=1, le=100, description="enterprises ranked")] = 10,
    include_simulated: bool = False,
    format_: Annotated[Literal["json", "csv", "html"], Query(alias="format")] = "json",
) -> dict[str, Any] | Response:
    engine = _engine(ctx)
    now = ctx.clock()
    if principal.simulated_only:
        include_simulated = True  # a simulator sees only simulated plants
    possible, prefix = narrow_region(principal.region_prefix, region)
    if principal.enterprise is not None:  # its own warnings, under its county's title
        ent = registry.enterprises.get(principal.enterprise)
        possible = ent is not None and (region is None or ent.region.startswith(region))
        prefix = ent.region if ent is not None else None
    try:
        window = period_window(Period(period), day or local_day(now))
    except ReportRefused as exc:
        raise ReportInvalid(str(exc)) from None
    flt = principal.narrow(WarningFilter(region_prefix=prefix,
                                         since_ms=window.start_ms - _PREVIOUS_MS))
    found = [] if flt is None or not possible else [
        w for w in await engine.store.query_all(flt) if _sees(principal, w)]
    duties = None
    if ctx.duties is not None:
        scope = (_duty_scope(ctx, principal, registry, prefix, include_simulated)
                 if possible else [])
        try:
            counted = counted_window(Period(period), day or local_day(now), now)
        except ReportRefused as exc:
            raise ReportInvalid(str(exc)) from None
        duties = await ctx.duties.report_figures(
            scope, counted.start_ms, counted.end_ms, now,
            _county_names(ctx.regions, {e.county for e in scope}))
    try:
        report = build_report(found, prefix or "", period, day, now, top=top,
                              include_simulated=include_simulated,
                              enterprise_names=_names(registry),
                              region_name=_region_name(ctx.regions, prefix or ""), duties=duties)
    except ReportRefused as exc:
        raise ReportInvalid(str(exc)) from None
    if format_ == "csv":
        name = f"warnings-{prefix or 'all'}-{period}-{report.to_dict()['day']}.csv"
        return Response(report_csv(report), media_type=_REPORT_FORMATS["csv"],
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    if format_ == "html":
        return Response(report_html(report), media_type=_REPORT_FORMATS["html"])
    return report.to_dict()




@router.get("/{warning_id}", summary="One warning with its history and pushes")
async def get_warning(ctx: Ctx, principal: CurrentPrincipal, registry: CurrentRegistry,
                      warning_id: WarningId) -> WarningDetail:
    engine = _engine(ctx)
    w = await _visible(engine, principal, warning_id)
    history = await engine.store.history(w.id)
    pushes = await engine.store.pushes(w.id)
    return warning_detail(w, _names(registry), engine.policy, history, pushes)


@router.post("/{warning_id}/feedback", summary="File the disposal feedback (处置反馈)",
             responses={**_REFUSED, 422: {"model": ErrorBody, "description":
                                          "invalid feedback: `problems` maps each field to "
                                          "a Chinese message"}})
async def file_feedback(
    ctx: Ctx, principal: Annotated[Principal, requires(Action.WARNING_FEEDBACK)],
    registry: CurrentRegistry, warning_id: WarningId,
    body: Annotated[dict[str, Any], Body(examples=[FEEDBACK_EXAMPLE], description=(
        "cause (code or Chinese label), cause_detail (required for other), measures, "
        "person, phone, handled_at (with its offset), cause_removed"))],
) -> WarningPublic:
    await _visible(_engine(ctx), principal, warning_id)  # 404 before a 422 on someone else's
    try:
        fb = parse_feedback(body)
    except FeedbackInvalid as exc:
        raise FeedbackRejected("处置反馈填写有误", problems=exc.problems) from None
    return await _step(ctx, principal, registry, warning_id,
                       lambda actor, now: FileFeedback(now, actor, fb))


@router.post("/{warning_id}/review", summary="Review the feedback: accept (消警) or return",
             responses=_REFUSED)
async def review_warning(
    ctx: Ctx, principal: Annotated[Principal, requires(Action.WARNING_REVIEW)],
    registry: CurrentRegistry, warning_id: WarningId, body: ReviewCreate,
) -> WarningPublic:
    if body.decision == "accept":
        return await _step(ctx, principal, registry, warning_id,
                           lambda actor, now: Accept(now, actor, body.note))
    return await _step(ctx, principal, registry, warning_id,
                       lambda actor, now: Return(now, actor, body.reason))


@router.post("/{warning_id}/onsite-check", summary="Record an on-site check (现场核查)",
             responses=_REFUSED)
async def record_onsite_check(
    ctx: Ctx, principal: Annotated[Principal, requires(Action.WARNING_ONSITE)],
    registry: CurrentRegistry, warning_id: WarningId, body: OnsiteCheckCreate,
) -> WarningPublic:
    return await _step(ctx, principal, registry, warning_id,
                       lambda actor, now: RecordOnsiteCheck(now, actor, body.findings,
                                                            tuple(body.inspectors)))
