"""包保 duty records and hidden dangers, the duty facts in force, roll calls (值班点名) and
online patrols (在线巡查).

Regulators call rolls and patrol (the rights table); the enterprise answers and files its
duty records. A patrol sample is the officials' list: plant tokens see no draws.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from hazmon.api.deps import (
    Ctx,
    CurrentPrincipal,
    CurrentRegistry,
    EnterpriseQuery,
    RegionQuery,
    requires,
)
from hazmon.api.duties_commitments import CALL_LABEL, CHECK_LABEL, FACT_LABEL, DayQuery
from hazmon.api.duties_common import (
    DUTY_RESPONSES,
    FORM_RESPONSES,
    Duties,
    EnterprisePath,
    InvalidForm,
    enterprise_in_scope,
    enterprises_in,
    hazard_source_of,
)
from hazmon.api.errors import BadRequest, NotFound
from hazmon.api.rights import Action
from hazmon.api.scope import Principal, Role, Scope
from hazmon.core.clock import rfc3339
from hazmon.duties import patrol, rollcall
from hazmon.duties.chain import ROLE_LABEL, ChainRole, DutyRecord, HiddenDanger
from hazmon.duties.facts import DEFAULT_LEVEL, FactKind
from hazmon.duties.patrol import PatrolCheck, PatrolRecord
from hazmon.duties.rollcall import CallStatus, RollCall

router = APIRouter(tags=["duties"], responses=DUTY_RESPONSES)
_MAX = 500


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# --- 包保 duty records ----------------------------------------------------------------------


class HiddenDangerCreate(_Body):
    description: str = Field(min_length=1, max_length=_MAX)
    fix_by: date = Field(description="to be fixed by the end of this day (province time)")


class DutyRecordCreate(_Body):
    hazard_source: str = Field(pattern=r"^[A-Za-z0-9_-]{1,32}$")
    role: ChainRole
    person: str = Field(min_length=1, max_length=32)
    at: AwareDatetime | None = Field(default=None, description="when checked; now if absent")
    checked: list[Annotated[str, Field(min_length=1, max_length=_MAX)]] = Field(
        min_length=1, max_length=50, description="what was checked")
    hidden_dangers: list[HiddenDangerCreate] = Field(default_factory=list, max_length=50)


class HiddenDangerPublic(BaseModel):
    id: str
    description: str
    fix_by: date
    fixed_at: str | None


class DutyRecordPublic(BaseModel):
    id: str
    enterprise: str
    hazard_source: str
    role: ChainRole
    role_label: str
    person: str
    at: str | None
    checked: list[str]
    hidden_dangers: list[HiddenDangerPublic]


def _record(rid: str, r: DutyRecord) -> DutyRecordPublic:
    return DutyRecordPublic(
        id=rid, enterprise=r.enterprise, hazard_source=r.hazard_source, role=r.role,
        role_label=ROLE_LABEL[r.role], person=r.person, at=rfc3339(r.at_ms),
        checked=list(r.checked),
        hidden_dangers=[HiddenDangerPublic(id=d.id, description=d.description, fix_by=d.fix_by,
                                           fixed_at=rfc3339(d.fixed_at_ms))
                        for d in r.hidden_dangers])


@router.post("/enterprises/{code}/duty-records", status_code=status.HTTP_201_CREATED,
             summary="File a 包保 duty record", responses=FORM_RESPONSES)
async def file_duty_record(
    duties: Duties, registry: CurrentRegistry,
    principal: Annotated[Principal, requires(Action.DUTY_RECORD)], code: EnterprisePath,
    body: DutyRecordCreate,
) -> DutyRecordPublic:
    hazard_source_of(enterprise_in_scope(registry, principal, code), body.hazard_source)
    now = duties.clock()
    at = now if body.at is None else int(body.at.timestamp() * 1000)
    if at > now:
        raise InvalidForm([("at", "检查时间不能晚于当前时间")])
    record = DutyRecord(code, body.hazard_source, body.role, body.person, at,
                        tuple(body.checked),
                        tuple(HiddenDanger(duties.new_id(), d.description, d.fix_by)
                              for d in body.hidden_dangers))
    rid = await duties.record_duty(record, principal.actor)
    return _record(rid, record)


@router.get("/enterprises/{code}/duty-records",
            summary="An enterprise's duty records, newest first")
async def list_duty_records(duties: Duties, registry: CurrentRegistry,
                            principal: CurrentPrincipal, code: EnterprisePath
                            ) -> list[DutyRecordPublic]:
    enterprise_in_scope(registry, principal, code)
    return [_record(i, r) for i, r in reversed(await duties.store.duty_records(code))]


@router.post("/enterprises/{code}/hidden-dangers/{danger_id}/fixed",
             summary="Mark a hidden danger fixed")
async def fix_hidden_danger(
    duties: Duties, registry: CurrentRegistry,
    principal: Annotated[Principal, requires(Action.DUTY_RECORD)], code: EnterprisePath,
    danger_id: Annotated[str, Path(max_length=64)],
) -> HiddenDangerPublic:
    enterprise_in_scope(registry, principal, code)
    owner = await duties.store.hidden_danger_owner(danger_id)
    if owner is None or owner[0] != code:
        raise NotFound(f"no hidden danger {danger_id}")
    await duties.fix_hidden_danger(danger_id, principal.actor)
    for _, r in await duties.store.duty_records(code):
        for d in r.hidden_dangers:
            if d.id == danger_id:
                return HiddenDangerPublic(id=d.id, description=d.description, fix_by=d.fix_by,
                                          fixed_at=rfc3339(d.fixed_at_ms))
    raise NotFound(f"no hidden danger {danger_id}")  # pragma: no cover - found above


# --- facts in force ------------------------------------------------------------------------


class FindingPublic(BaseModel):
    kind: FactKind
    kind_label: str
    enterprise: str
    enterprise_name: str
    hazard_source: str | None
    at: str | None
    key: str = Field(description="stable while the fact holds: the warning layer's dedup key")
    detail: str
    default_level: str = Field(description="the grading proposed by issue 15 (default)")
    day: date | None


@router.get("/duties/findings",
            summary="Duty facts true now: missing commitments, overdue duties, missed calls")
async def list_findings(duties: Duties, registry: CurrentRegistry,
                        principal: CurrentPrincipal, region: RegionQuery = None,
                        enterprise: EnterpriseQuery = None,
                        kind: Annotated[list[FactKind] | None, Query()] = None
                        ) -> list[FindingPublic]:
    visible = {e.code: e for e in enterprises_in(registry, principal, region, enterprise)}
    out = []
    for f in await duties.facts_now():
        ent = visible.get(f.enterprise)
        if ent is None or (kind is not None and f.kind not in kind):
            continue
        out.append(FindingPublic(kind=f.kind, kind_label=FACT_LABEL[f.kind],
                                 enterprise=f.enterprise, enterprise_name=ent.name,
                                 hazard_source=f.hazard_source, at=rfc3339(f.at_ms),
                                 key=f.key, detail=f.detail,
                                 default_level=DEFAULT_LEVEL[f.kind], day=f.day))
    return out


# --- roll calls ------------------------------------------------------------------------------


class RollCallCreate(_Body):
    enterprise: str | None = Field(default=None, pattern=r"^[0-9A-HJ-NP-RTUW-Y]{18}$")
    region: str | None = Field(default=None, pattern=r"^[0-9]{2,6}$",
                               description="a random sample of this region's enterprises")
    size: int | None = Field(default=None, ge=1, le=1000,
                             description="sample size (default: the province's)")

    @model_validator(mode="after")
    def _one(self) -> RollCallCreate:
        if (self.enterprise is None) == (self.region is None):
            raise ValueError("give either enterprise or region")
        return self


class RollCallPublic(BaseModel):
    id: str
    enterprise: str
    enterprise_name: str
    called_at: str | None
    deadline: str | None
    called_by: str
    answered_at: str | None
    answered_by: str | None
    status: CallStatus
    status_label: str


class RollCallBatch(BaseModel):
    seed: int | None = Field(description="the sample's seed (null: one enterprise called)")
    calls: list[RollCallPublic]


def call_public(rc: RollCall, name: str, now_ms: int) -> RollCallPublic:
    st = rollcall.status(rc, now_ms)
    return RollCallPublic(id=rc.id, enterprise=rc.enterprise, enterprise_name=name,
                          called_at=rfc3339(rc.called_at_ms), deadline=rfc3339(rc.deadline_ms),
                          called_by=rc.called_by, answered_at=rfc3339(rc.answered_at_ms),
                          answered_by=rc.answered_by, status=st, status_label=CALL_LABEL[st])


@router.post("/roll-calls", status_code=status.HTTP_201_CREATED,
             summary="Call the roll of one enterprise or a random sample of a region")
async def call_roll(duties: Duties, registry: CurrentRegistry,
                    principal: Annotated[Principal, requires(Action.ROLLCALL_CALL)],
                    body: RollCallCreate) -> RollCallBatch:
    seed: int | None = None
    if body.enterprise is not None:
        codes = [enterprise_in_scope(registry, principal, body.enterprise).code]
    else:
        if principal.narrow(Scope(region_prefix=body.region)) is None:
            raise NotFound(f"no region {body.region} in scope")
        pool = [e.code for e in enterprises_in(registry, principal, body.region)]
        seed = duties.sample_seed(f"rollcall:{body.region}:{duties.clock()}")
        codes = rollcall.sample(pool, body.size or duties.config.roll_call.sample_size, seed)
        if not codes:
            raise NotFound(f"no enterprise in region {body.region}")
    calls = await duties.call_roll(codes, principal.actor)
    now = duties.clock()
    return RollCallBatch(seed=seed, calls=[call_public(c, registry.enterprises[c.enterprise].name,
                                                       now) for c in calls])


@router.get("/roll-calls", summary="Roll calls in scope, newest first")
async def list_roll_calls(
    duties: Duties, registry: CurrentRegistry, principal: CurrentPrincipal,
    region: RegionQuery = None, enterprise: EnterpriseQuery = None,
    status_: Annotated[list[CallStatus] | None, Query(alias="status")] = None,
    since_days: Annotated[int, Query(ge=1, le=366)] = 7,
) -> list[RollCallPublic]:
    now = duties.clock()
    visible = {e.code: e.name for e in enterprises_in(registry, principal, region)}
    calls = await duties.store.roll_calls(since_ms=now - since_days * 86_400_000,
                                          enterprise=enterprise)
    out = [call_public(c, visible[c.enterprise], now) for c in calls if c.enterprise in visible]
    return [c for c in out if status_ is None or c.status in status_]


class AnswerRatePublic(BaseModel):
    enterprise: str
    enterprise_name: str
    calls: int
    answered: int
    late: int
    missed: int
    rate: float | None = Field(description="answered in time, of the calls decided")


@router.get("/roll-calls/rates", summary="Answer rate per enterprise over a period")
async def roll_call_rates(duties: Duties, registry: CurrentRegistry,
                          principal: CurrentPrincipal, region: RegionQuery = None,
                          since_days: Annotated[int, Query(ge=1, le=366)] = 30
                          ) -> list[AnswerRatePublic]:
    now = duties.clock()
    visible = {e.code: e.name for e in enterprises_in(registry, principal, region)}
    calls = [c for c in await duties.store.roll_calls(since_ms=now - since_days * 86_400_000)
             if c.enterprise in visible]
    return [AnswerRatePublic(enterprise=e, enterprise_name=visible[e], calls=r.calls,
                             answered=r.answered, late=r.late, missed=r.missed, rate=r.rate)
            for e, r in rollcall.answer_rates(calls, now).items()]


@router.post("/roll-calls/{call_id}/answer", summary="Answer a roll call (the on-duty person)")
async def answer_roll_call(duties: Duties, registry: CurrentRegistry,
                           principal: Annotated[Principal, requires(Action.ROLLCALL_ANSWER)],
                           call_id: str) -> RollCallPublic:
    rc = await duties.store.roll_call(call_id)
    if rc is None:
        raise NotFound(f"no roll call {call_id}")
    ent = enterprise_in_scope(registry, principal, rc.enterprise)
    answered = await duties.answer_roll_call(call_id, principal.actor)
    return call_public(answered, ent.name, duties.clock())


# --- online patrols -----------------------------------------------------------------------------


class PatrolTarget(BaseModel):
    enterprise: str
    enterprise_name: str
    # What the system knows already, to help the official (null: not known here).
    data_online: bool | None
    commitment_filed: bool
    roll_call_answered: bool | None = Field(description="the latest call; null: none")
    patrolled: bool
    findings: dict[PatrolCheck, bool] | None = Field(description="the latest record's")
    note: str | None


class PatrolDrawPublic(BaseModel):
    county: str
    day: date
    seed: str
    drawn_at: str | None
    coverage: float = Field(description="share of the sample patrolled that day")
    enterprises: list[PatrolTarget]


class PatrolCreate(_Body):
    enterprise: str = Field(pattern=r"^[0-9A-HJ-NP-RTUW-Y]{18}$")
    findings: dict[PatrolCheck, bool] = Field(description="every check: true passed")
    note: str = Field(default="", max_length=_MAX)


class PatrolPublic(BaseModel):
    enterprise: str
    day: date
    official: str
    at: str | None
    findings: dict[PatrolCheck, bool]
    failed: list[PatrolCheck]
    failed_labels: list[str]
    note: str
    sampled: bool = Field(description="the enterprise is in its county's sample that day")


@router.get("/patrols/day", summary="The day's patrol sample per county, with its coverage")
async def patrol_day(ctx: Ctx, duties: Duties, registry: CurrentRegistry,
                     principal: CurrentPrincipal, region: RegionQuery = None,
                     day: DayQuery = None) -> list[PatrolDrawPublic]:
    if principal.role in (Role.ENTERPRISE, Role.SIMULATOR):
        return []  # the sample is the officials' list
    try:
        the_day = duties.today() if day is None else date.fromisoformat(day)
    except ValueError:
        raise BadRequest(f"day: {day!r} is not a date") from None
    visible = {e.code: e for e in enterprises_in(registry, principal, region)}
    draws = (await duties.draw_patrols(registry, the_day) if the_day == duties.today()
             else await duties.store.patrol_draws(the_day))
    records = await duties.store.patrol_records(the_day)
    latest = {r.enterprise: r for r in records}
    filed = {sc.commitment.enterprise for sc in await duties.store.commitments_of_day(the_day)}
    now = duties.clock()
    out = []
    for d in draws:
        ents = [e for e in d.enterprises if e in visible]
        if not ents:
            continue
        targets = []
        for code in ents:
            gw = ctx.gateways.gateways.get(code)
            calls = await duties.store.roll_calls(enterprise=code, limit=1)
            rec = latest.get(code)
            targets.append(PatrolTarget(
                enterprise=code, enterprise_name=visible[code].name,
                data_online=None if gw is None or gw.state == "unknown"
                else gw.state == "online",
                commitment_filed=code in filed,
                roll_call_answered=None if not calls else rollcall.status(calls[0], now) is
                CallStatus.ANSWERED,
                patrolled=rec is not None, findings=dict(rec.findings) if rec else None,
                note=rec.note if rec else None))
        cov = patrol.coverage({d.county: ents}, records, the_day)[d.county]
        out.append(PatrolDrawPublic(county=d.county, day=d.day, seed=d.seed,
                                    drawn_at=rfc3339(d.drawn_at_ms), coverage=cov,
                                    enterprises=targets))
    return out


@router.post("/patrols", status_code=status.HTTP_201_CREATED,
             summary="Record a patrol's findings", responses=FORM_RESPONSES)
async def record_patrol(duties: Duties, registry: CurrentRegistry,
                        principal: Annotated[Principal, requires(Action.PATROL_RECORD)],
                        body: PatrolCreate) -> PatrolPublic:
    ent = enterprise_in_scope(registry, principal, body.enterprise)
    missing = [c for c in PatrolCheck if c not in body.findings]
    if missing:
        raise InvalidForm([(f"findings.{c.value}", f"请填写巡查项:{CHECK_LABEL[c]}")
                           for c in missing])
    today = duties.today()
    rec = PatrolRecord(ent.code, today, principal.actor, duties.clock(), body.findings,
                       body.note)
    await duties.record_patrol(rec)
    draws = await duties.draw_patrols(registry, today)
    sampled = any(ent.code in d.enterprises for d in draws)
    return PatrolPublic(enterprise=rec.enterprise, day=rec.day, official=rec.official,
                        at=rfc3339(rec.at_ms), findings=dict(rec.findings),
                        failed=list(rec.failed),
                        failed_labels=[CHECK_LABEL[c] for c in rec.failed], note=rec.note,
                        sampled=sampled)
