"""Run state of a hazard source (运行/停车/检修/开车/试生产): read with its history, set by an
enterprise user at any time. 停车 and 检修 suppress the source's process alarms by design
(the hold is visible on each alarm and in the audit); back in 运行 the hold is lifted.

And the holds themselves, by hand (`/holds`): a hazard source suppressed by design, a
sensor or a whole source out of service, each with the rights table and the audit.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from hazmon.alerts.holds import Hold, HoldKind
from hazmon.alerts.lifecycle import MAX_TEXT
from hazmon.api.alarms import AlarmPublic, alarm_public
from hazmon.api.deps import (
    Ctx,
    CurrentPrincipal,
    CurrentRegistry,
    EnterpriseQuery,
    RegionQuery,
    requires,
)
from hazmon.api.duties_common import (
    DUTY_RESPONSES,
    FORM_RESPONSES,
    Duties,
    EnterprisePath,
    HazardSourcePath,
    InvalidForm,
    enterprise_in_scope,
    enterprises_in,
    hazard_source_of,
)
from hazmon.api.errors import NotFound
from hazmon.api.rights import Action
from hazmon.api.scope import Principal
from hazmon.core.clock import rfc3339
from hazmon.duties.runstate import LABEL, RunState, RunStateRecord, TransitionError
from hazmon.duties.store import RunStateChange

router = APIRouter(tags=["duties"], responses=DUTY_RESPONSES)


class RunStatePublic(BaseModel):
    enterprise: str
    hazard_source: str
    state: RunState | None = Field(description="null: never declared")
    state_label: str | None
    since: str | None
    set_by: str | None
    reason: str | None
    expected_end: str | None
    process_alarms_suppressed: bool


class RunStateChangePublic(BaseModel):
    state: RunState
    state_label: str
    at: str | None
    set_by: str
    origin: str = Field(description="commitment or manual")
    reason: str | None
    expected_end: str | None


class RunStateDetail(RunStatePublic):
    history: list[RunStateChangePublic]


class RunStateSet(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    state: RunState
    reason: str | None = Field(default=None, max_length=200)
    expected_end: AwareDatetime | None = Field(default=None,
                                               description="required for stopped, turnaround")


def run_state_public(ent: str, hs: str, rs: RunStateRecord | None, held: bool
                     ) -> RunStatePublic:
    return RunStatePublic(
        enterprise=ent, hazard_source=hs, state=rs.state if rs else None,
        state_label=LABEL[rs.state] if rs else None, since=rfc3339(rs.since_ms) if rs else None,
        set_by=rs.set_by if rs else None, reason=rs.reason if rs else None,
        expected_end=rfc3339(rs.expected_end_ms) if rs else None,
        process_alarms_suppressed=held)


def _change(c: RunStateChange) -> RunStateChangePublic:
    return RunStateChangePublic(state=c.state, state_label=LABEL[c.state], at=rfc3339(c.at_ms),
                                set_by=c.set_by, origin=c.origin, reason=c.reason,
                                expected_end=rfc3339(c.expected_end_ms))


async def _suppressed(ctx: Ctx, ent: str, hs: str) -> bool:
    return any(h.kind is HoldKind.SUPPRESSED and h.hazard_source == hs
               for h in await ctx.alarms.holds(ent))


@router.get("/run-states", summary="Run states of the hazard sources in scope")
async def list_run_states(ctx: Ctx, duties: Duties, registry: CurrentRegistry,
                          principal: CurrentPrincipal, region: RegionQuery = None,
                          enterprise: EnterpriseQuery = None) -> list[RunStatePublic]:
    out = []
    held = {(h.enterprise, h.hazard_source) for h in await ctx.alarms.holds()
            if h.kind is HoldKind.SUPPRESSED}
    states = {(r.enterprise, r.hazard_source): r for r in await duties.store.run_states()}
    for ent in enterprises_in(registry, principal, region, enterprise):
        for hs in ent.hazard_sources:
            out.append(run_state_public(ent.code, hs.code, states.get((ent.code, hs.code)),
                                        (ent.code, hs.code) in held))
    return out


@router.get("/enterprises/{code}/hazard-sources/{hs}/run-state",
            summary="A hazard source's run state and its history")
async def get_run_state(ctx: Ctx, duties: Duties, registry: CurrentRegistry,
                        principal: CurrentPrincipal, code: EnterprisePath,
                        hs: HazardSourcePath) -> RunStateDetail:
    hazard_source_of(enterprise_in_scope(registry, principal, code), hs)
    rs = await duties.store.run_state(code, hs)
    base = run_state_public(code, hs, rs, await _suppressed(ctx, code, hs))
    history = [_change(c) for c in await duties.store.run_state_history(code, hs)]
    return RunStateDetail(**base.model_dump(), history=history)


@router.put("/enterprises/{code}/hazard-sources/{hs}/run-state",
            summary="Set a hazard source's run state", responses=FORM_RESPONSES)
async def set_run_state(
    ctx: Ctx, duties: Duties, registry: CurrentRegistry,
    principal: Annotated[Principal, requires(Action.RUNSTATE_SET)],
    code: EnterprisePath, hs: HazardSourcePath, body: RunStateSet,
) -> RunStatePublic:
    hazard_source_of(enterprise_in_scope(registry, principal, code), hs)
    end = None if body.expected_end is None else int(body.expected_end.timestamp() * 1000)
    try:
        rs = await duties.set_run_state(code, hs, body.state, by=principal.actor,
                                        reason=body.reason, expected_end_ms=end)
    except TransitionError as exc:
        raise InvalidForm([(exc.field, str(exc))]) from None
    return run_state_public(code, hs, rs, await _suppressed(ctx, code, hs))


# --- holds by hand -----------------------------------------------------------------------


class HoldPublic(BaseModel):
    kind: HoldKind
    enterprise: str
    hazard_source: str
    tag: str | None = Field(description="null: the whole hazard source")
    by: str
    reason: str
    since: str | None


class HoldCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: HoldKind
    tag: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:-]{1,64}$",
                            description="out_of_service only: one sensor; null the source")
    reason: str = Field(min_length=1, max_length=MAX_TEXT)


class HoldRelease(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: HoldKind
    tag: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    reason: str = Field(default="", max_length=MAX_TEXT)


class HoldChange(BaseModel):
    hold: HoldPublic | None
    alarms: list[AlarmPublic] = Field(description="the open alarms held back or released")


_ACTION = {HoldKind.SUPPRESSED: Action.HOLD_SUPPRESS,
           HoldKind.OUT_OF_SERVICE: Action.HOLD_OUT_OF_SERVICE}


def _hold(h: Hold) -> HoldPublic:
    return HoldPublic(kind=h.kind, enterprise=h.enterprise, hazard_source=h.hazard_source,
                      tag=h.tag, by=h.actor, reason=h.reason, since=rfc3339(h.since_ms))


@router.get("/holds", summary="Holds in place in the caller's scope")
async def list_holds(ctx: Ctx, registry: CurrentRegistry, principal: CurrentPrincipal,
                     region: RegionQuery = None, enterprise: EnterpriseQuery = None
                     ) -> list[HoldPublic]:
    visible = {e.code for e in enterprises_in(registry, principal, region, enterprise)}
    return [_hold(h) for h in await ctx.alarms.holds() if h.enterprise in visible]


def _check_tag(registry: CurrentRegistry, code: str, hs: str, kind: HoldKind,
               tag: str | None) -> None:
    if tag is None:
        return
    if kind is HoldKind.SUPPRESSED:
        raise InvalidForm([("tag", "停车抑制针对整个危险源,不能指定仪表")])
    info = registry.sensors.get((code, tag))
    if info is None or info.hazard_source.code != hs:
        raise NotFound(f"no sensor {tag} in {hs}")


@router.post("/enterprises/{code}/hazard-sources/{hs}/holds", status_code=status.HTTP_201_CREATED,
             summary="Suppress a hazard source, or take it or a sensor out of service",
             responses=FORM_RESPONSES)
async def place_hold(ctx: Ctx, registry: CurrentRegistry, principal: CurrentPrincipal,
                     code: EnterprisePath, hs: HazardSourcePath, body: HoldCreate
                     ) -> HoldChange:
    ctx.rights.check(principal, _ACTION[body.kind])
    hazard_source_of(enterprise_in_scope(registry, principal, code), hs)
    _check_tag(registry, code, hs, body.kind, body.tag)
    if body.kind is HoldKind.SUPPRESSED:
        alarms = await ctx.alarms.suppress_hazard_source(code, hs, principal.actor, body.reason)
    else:
        alarms = await ctx.alarms.out_of_service(code, hs, body.tag, principal.actor,
                                                 body.reason)
    hold = next((h for h in await ctx.alarms.holds(code)
                 if (h.kind, h.hazard_source, h.tag) == (body.kind, hs, body.tag)), None)
    return HoldChange(hold=None if hold is None else _hold(hold),
                      alarms=[alarm_public(a) for a in alarms])


@router.post("/enterprises/{code}/hazard-sources/{hs}/holds/release",
             summary="Lift a suppression, or return to service")
async def release_hold(ctx: Ctx, registry: CurrentRegistry, principal: CurrentPrincipal,
                       code: EnterprisePath, hs: HazardSourcePath, body: HoldRelease
                       ) -> HoldChange:
    ctx.rights.check(principal, _ACTION[body.kind])
    hazard_source_of(enterprise_in_scope(registry, principal, code), hs)
    _check_tag(registry, code, hs, body.kind, body.tag)
    if body.kind is HoldKind.SUPPRESSED:
        alarms = await ctx.alarms.unsuppress_hazard_source(code, hs, principal.actor,
                                                           body.reason)
    else:
        alarms = await ctx.alarms.return_to_service(code, hs, body.tag, principal.actor,
                                                    body.reason)
    return HoldChange(hold=None, alarms=[alarm_public(a) for a in alarms])


