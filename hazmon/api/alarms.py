"""GET /alarms (keyset-paged, filtered), GET /alarms/{id} with its whole history, and the
operator actions: ack, shelve, unshelve, comments.

Acting needs the role's right first (hazmon.api.rights: ack -> alarm.ack, shelve and
unshelve -> alarm.shelve, comments -> alarm.comment), checked before the alarm is looked
up: the 403 depends on the token alone, so it tells nothing about which alarms exist. Then
an alarm outside the caller's scope answers 404 exactly like a missing one. A refused
lifecycle transition (already acknowledged, not shelved, ...) answers 409 with the reason.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, status
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from hazmon.alerts.lifecycle import (
    MAX_TEXT,
    SHELVE_MAX_MINUTES,
    SHELVE_MIN_MINUTES,
    Alarm,
    HistoryEntry,
    Overlay,
)
from hazmon.alerts.lifecycle import AlarmState as AlarmStateEnum
from hazmon.alerts.store import AlarmFilter
from hazmon.api.common import (
    ERROR_RESPONSES,
    FORBIDDEN,
    TIME_PATTERN,
    ErrorBody,
    time_param,
)
from hazmon.api.deps import (
    Ctx,
    CurrentPrincipal,
    EnterpriseQuery,
    HazardSourceQuery,
    LimitQuery,
    RegionQuery,
    TierQuery,
    requires,
)
from hazmon.api.errors import NotFound
from hazmon.api.rights import Action
from hazmon.api.scope import Principal
from hazmon.core.clock import rfc3339
from hazmon.domain.signal import Category, Priority

router = APIRouter(prefix="/alarms", tags=["alarms"], responses=ERROR_RESPONSES)

AlarmId = Annotated[str, Path(max_length=64, description="alarm id (ULID)")]
ULID_PATTERN = r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$"

# --- public models ---------------------------------------------------------------------------


class OverlayPublic(BaseModel):
    by: str
    at: str | None
    reason: str
    until: str | None = None


class AlarmPublic(BaseModel):
    id: str
    enterprise: str
    region: str
    hazard_source: str
    tag: str | None
    rule: str
    category: Category
    priority: Priority
    tier: int | None
    simulated: bool
    state: AlarmStateEnum
    open: bool
    active: bool
    acked: bool
    acked_by: str | None
    value: float | None
    limit: float | None
    message: str
    raised_at: str | None
    active_at: str | None
    updated_at: str | None
    cleared_at: str | None
    acked_at: str | None
    closed_at: str | None
    activations: int
    shelved: OverlayPublic | None
    suppressed: OverlayPublic | None
    out_of_service: OverlayPublic | None
    details: dict[str, Any]


class HistoryEntryPublic(BaseModel):
    seq: int
    ts: str | None
    event: str = Field(description="raised, updated, cleared, acknowledged, shelved, ...")
    actor: str
    from_state: AlarmStateEnum
    to_state: AlarmStateEnum
    data: dict[str, Any]


class AlarmDetail(AlarmPublic):
    history: list[HistoryEntryPublic]


class AlarmPage(BaseModel):
    items: list[AlarmPublic]
    next_cursor: str | None = Field(description="pass as `cursor` for the next, older page")


def _overlay(o: Overlay | None) -> OverlayPublic | None:
    if o is None:
        return None
    return OverlayPublic(by=o.by, at=rfc3339(o.at_ms), reason=o.reason,
                         until=rfc3339(o.until_ms))


def _fields(a: Alarm) -> dict[str, Any]:
    return dict(
        id=a.id, enterprise=a.enterprise, region=a.region, hazard_source=a.hazard_source,
        tag=a.tag, rule=a.rule, category=a.category, priority=a.priority, tier=a.tier,
        simulated=a.simulated, state=a.state, open=a.is_open, active=a.is_active,
        acked=a.is_acked, acked_by=a.acked_by, value=a.value, limit=a.limit,
        message=a.message, raised_at=rfc3339(a.raised_at_ms),
        active_at=rfc3339(a.active_at_ms), updated_at=rfc3339(a.updated_at_ms),
        cleared_at=rfc3339(a.cleared_at_ms), acked_at=rfc3339(a.acked_at_ms),
        closed_at=rfc3339(a.closed_at_ms), activations=a.activations,
        shelved=_overlay(a.shelved), suppressed=_overlay(a.suppressed),
        out_of_service=_overlay(a.out_of_service), details=dict(a.details),
    )


def alarm_public(a: Alarm) -> AlarmPublic:
    return AlarmPublic(**_fields(a))


def _entry(e: HistoryEntry) -> HistoryEntryPublic:
    return HistoryEntryPublic(seq=e.seq, ts=rfc3339(e.ts_ms), event=e.event, actor=e.actor,
                              from_state=e.from_state, to_state=e.to_state, data=dict(e.data))


# --- request bodies ----------------------------------------------------------------------------


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AckCreate(_Body):
    note: str = Field("", max_length=MAX_TEXT, description="optional note for the history")


def _whole_minutes(value: object) -> object:
    # JSON has one number type: 30.0 is a whole number of minutes, "30", true and 30.5
    # are not (pydantic's lax mode would take the first two, strict mode refuses 30.0).
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("minutes must be a whole number")
    return value


class ShelveCreate(_Body):
    minutes: Annotated[int, BeforeValidator(_whole_minutes)] = Field(
        ge=SHELVE_MIN_MINUTES, le=SHELVE_MAX_MINUTES,
        description="how long, 1 to 1440 minutes", examples=[30])
    reason: str = Field(min_length=1, max_length=MAX_TEXT, description="why (required)")


class UnshelveCreate(_Body):
    reason: str = Field("", max_length=MAX_TEXT)


class CommentCreate(_Body):
    text: str = Field(min_length=1, max_length=MAX_TEXT)


# --- shared query parameters (also used by the stream and the KPIs) ----------------------------

StateQuery = Annotated[list[AlarmStateEnum] | None, Query(description="state(s)")]
PriorityListQuery = Annotated[list[Priority] | None, Query(description="priority(ies)")]
TimeQuery = Annotated[str | None, Query(pattern=TIME_PATTERN,
                                        description="RFC 3339 or epoch ms (raise time)")]


def build_filter(
    region: str | None = None, enterprise: str | None = None,
    hazard_source: str | None = None, tag: str | None = None, rule: str | None = None,
    tier: list[int] | None = None, state: list[AlarmStateEnum] | None = None,
    priority: list[Priority] | None = None, category: Category | None = None,
    open_: bool | None = None, simulated: bool | None = None,
    from_: str | None = None, to: str | None = None,
) -> AlarmFilter:
    return AlarmFilter(
        region_prefix=region, enterprise=enterprise, hazard_source=hazard_source, tag=tag,
        rule=rule, tier=tier, state=state, priority=priority, category=category, open=open_,
        simulated=simulated,
        since_ms=None if from_ is None else time_param("from", from_, 0),
        until_ms=None if to is None else time_param("to", to, 0),
    )


# --- endpoints ---------------------------------------------------------------------------------


@router.get("", summary="Alarms in the caller's scope, newest first")
async def list_alarms(
    ctx: Ctx, principal: CurrentPrincipal,
    region: RegionQuery = None, enterprise: EnterpriseQuery = None,
    hazard_source: HazardSourceQuery = None,
    tag: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")] = None,
    rule: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")] = None,
    tier: TierQuery = None, state: StateQuery = None, priority: PriorityListQuery = None,
    category: Category | None = None,
    open_: Annotated[bool | None, Query(alias="open", description="open occurrences")] = None,
    simulated: bool | None = None,
    from_: Annotated[str | None, Query(alias="from", pattern=TIME_PATTERN,
                                       description="raised at or after (RFC 3339 / ms)")]
    = None,
    to: Annotated[str | None, Query(pattern=TIME_PATTERN, description="raised before")] = None,
    limit: LimitQuery = 100,
    cursor: Annotated[str | None, Query(pattern=ULID_PATTERN)] = None,
) -> AlarmPage:
    flt = principal.alarm_filter(build_filter(
        region, enterprise, hazard_source, tag, rule, tier, state, priority, category,
        open_, simulated, from_, to))
    if flt is None:
        return AlarmPage(items=[], next_cursor=None)
    page = await ctx.alarm_store.query(flt, limit=limit, cursor=cursor)
    return AlarmPage(items=[alarm_public(a) for a in page.items if principal.sees_alarm(a)],
                     next_cursor=page.next_cursor)


async def _visible(ctx: Ctx, principal: Principal, alarm_id: str) -> Alarm:
    alarm = await ctx.alarm_store.get(alarm_id)
    if alarm is None or not principal.sees_alarm(alarm):
        raise NotFound(f"no alarm {alarm_id}")
    return alarm


_REFUSED: dict[int | str, dict[str, Any]] = {
    **FORBIDDEN,
    409: {"model": ErrorBody, "description": "refused in the alarm's current state"},
}

Acker = Annotated[Principal, requires(Action.ALARM_ACK)]
Shelver = Annotated[Principal, requires(Action.ALARM_SHELVE)]
Commenter = Annotated[Principal, requires(Action.ALARM_COMMENT)]


@router.get("/{alarm_id}", summary="One alarm with its whole history")
async def get_alarm(ctx: Ctx, principal: CurrentPrincipal, alarm_id: AlarmId) -> AlarmDetail:
    await _visible(ctx, principal, alarm_id)
    alarm, history = await ctx.alarms.get(alarm_id)
    return AlarmDetail(**_fields(alarm), history=[_entry(e) for e in history])


@router.post("/{alarm_id}/ack", summary="Acknowledge", responses=_REFUSED)
async def ack_alarm(ctx: Ctx, principal: Acker, alarm_id: AlarmId,
                    body: AckCreate | None = None) -> AlarmPublic:
    await _visible(ctx, principal, alarm_id)
    note = body.note if body else ""
    return alarm_public(await ctx.alarms.ack(alarm_id, principal.actor, note))


@router.post("/{alarm_id}/shelve", summary="Shelve for a while", responses=_REFUSED)
async def shelve_alarm(ctx: Ctx, principal: Shelver, alarm_id: AlarmId,
                       body: ShelveCreate) -> AlarmPublic:
    await _visible(ctx, principal, alarm_id)
    return alarm_public(
        await ctx.alarms.shelve(alarm_id, principal.actor, body.minutes, body.reason))


@router.post("/{alarm_id}/unshelve", summary="Unshelve now", responses=_REFUSED)
async def unshelve_alarm(ctx: Ctx, principal: Shelver, alarm_id: AlarmId,
                         body: UnshelveCreate | None = None) -> AlarmPublic:
    await _visible(ctx, principal, alarm_id)
    reason = body.reason if body else ""
    return alarm_public(await ctx.alarms.unshelve(alarm_id, principal.actor, reason))


@router.post("/{alarm_id}/comments", summary="Add a comment to the history",
             status_code=status.HTTP_201_CREATED, responses=_REFUSED)
async def comment_alarm(ctx: Ctx, principal: Commenter, alarm_id: AlarmId,
                        body: CommentCreate) -> AlarmPublic:
    await _visible(ctx, principal, alarm_id)
    return alarm_public(await ctx.alarms.comment(alarm_id, principal.actor, body.text))
