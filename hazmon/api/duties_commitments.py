"""The daily safety commitment (安全承诺): filing, history, CSV export, the regulator's day
list, and the labels a page needs to build the form (GET /duties/labels).

POST answers 422 with every wrong field and its Chinese message (`problems`), 409 when the
day's commitment is already filed. A late commitment is accepted and marked late.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response, status
from pydantic import BaseModel, Field

from hazmon.api.common import ErrorBody
from hazmon.api.deps import (
    CurrentPrincipal,
    CurrentRegistry,
    LimitQuery,
    OffsetQuery,
    RegionQuery,
    requires,
)
from hazmon.api.duties_common import (
    DUTY_RESPONSES,
    FORM_RESPONSES,
    DayPattern,
    Duties,
    EnterprisePath,
    InvalidForm,
    Refused,
    enterprise_in_scope,
    enterprises_in,
    local_time,
)
from hazmon.api.errors import BadRequest
from hazmon.api.rights import Action
from hazmon.api.scope import Principal
from hazmon.core.clock import rfc3339
from hazmon.domain.registry import Registry
from hazmon.duties import deadline
from hazmon.duties.chain import ROLE_LABEL
from hazmon.duties.commitment import LABELS, CommitmentError, RiskGrade, SpecialWorks
from hazmon.duties.config import DutiesConfig
from hazmon.duties.deadline import CommitmentStatus, DayRow
from hazmon.duties.facts import FactKind
from hazmon.duties.patrol import PatrolCheck
from hazmon.duties.rollcall import CallStatus
from hazmon.duties.runstate import LABEL as RUN_LABEL
from hazmon.duties.runstate import RunState
from hazmon.duties.service import AlreadyFiledError
from hazmon.duties.store import StoredCommitment

router = APIRouter(tags=["duties"], responses=DUTY_RESPONSES)

STATUS_LABEL = {CommitmentStatus.PENDING: "待填报", CommitmentStatus.ON_TIME: "按时填报",
                CommitmentStatus.LATE: "逾期填报", CommitmentStatus.MISSING: "未填报"}
RISK_LABEL = {RiskGrade.MAJOR: "重大", RiskGrade.SIGNIFICANT: "较大", RiskGrade.GENERAL: "一般",
              RiskGrade.LOW: "低"}
CALL_LABEL = {CallStatus.WAITING: "待应答", CallStatus.ANSWERED: "已应答",
              CallStatus.ANSWERED_LATE: "超时应答", CallStatus.MISSED: "未应答"}
CHECK_LABEL = {PatrolCheck.DATA_ONLINE: "数据在线", PatrolCheck.COMMITMENT_FILED: "承诺已填报",
               PatrolCheck.WARNINGS_HANDLED: "预警已处置",
               PatrolCheck.ROLL_CALL_ANSWERED: "点名已应答"}
FACT_LABEL = {FactKind.COMMITMENT_MISSING: "安全承诺未填报",
              FactKind.COMMITMENT_LATE: "安全承诺逾期",
              FactKind.STOPPED_PAST_EXPECTED_END: "停车超过预计结束时间",
              FactKind.RUNNING_BUT_SILENT: "申报运行但无数据",
              FactKind.DUTY_OVERDUE: "包保履职逾期",
              FactKind.HIDDEN_DANGER_OVERDUE: "隐患超期未整改",
              FactKind.ROLL_CALL_MISSED: "值班点名未应答"}
WORKS = tuple(SpecialWorks.model_fields)


class SourceLine(BaseModel):
    code: str
    name: str
    run_state: RunState
    run_state_label: str
    reason: str | None
    expected_end: str | None
    baobao_in_place: bool


class CommitmentPublic(BaseModel):
    enterprise: str
    enterprise_name: str
    day: date
    status: CommitmentStatus
    status_label: str
    late: bool
    filed_at: str | None
    filed_by: str
    text: str = Field(description="the province's template, filled in")
    units: dict[str, int]
    special_works: dict[str, int]
    special_works_total: int
    hazard_sources: list[SourceLine]
    transient_sources: list[str] = Field(description="in start-up, shutdown or turnaround")
    trial_production: bool
    major_hidden_danger: bool
    major_hidden_danger_note: str | None
    risk_grade: RiskGrade
    risk_grade_label: str
    committer: str
    duty_leader: dict[str, str]


class CommitmentPage(BaseModel):
    items: list[CommitmentPublic]
    total: int
    limit: int
    offset: int
    next_offset: int | None


class DayLine(BaseModel):
    enterprise: str
    enterprise_name: str
    region: str
    status: CommitmentStatus
    status_label: str
    deadline: str | None
    major_hidden_danger: bool
    transient: bool = Field(description="a source in start-up, shutdown or turnaround")
    commitment: CommitmentPublic | None


class DayList(BaseModel):
    day: date
    deadline: str | None
    counts: dict[str, int] = Field(description="status -> enterprises")
    items: list[DayLine] = Field(description="missing first, then major hidden danger, "
                                             "start-up / shutdown / turnaround, late, pending")


class Labels(BaseModel):
    """Everything a page shows in Chinese, keyed by the API's values."""

    fields: dict[str, str]
    run_states: dict[str, str]
    risk_grades: dict[str, str]
    special_works: dict[str, str]
    commitment_status: dict[str, str]
    roll_call_status: dict[str, str]
    patrol_checks: dict[str, str]
    chain_roles: dict[str, str]
    fact_kinds: dict[str, str]
    template: str
    timezone: str = Field(description="the province's zone: deadlines are its wall clock")
    utc_offset: str = Field(description="its offset now, e.g. +08:00 (for a form's times)")
    today: date = Field(description="the province's day now: the commitment's `day`")
    deadline: str
    window_start: str | None
    roll_call_answer_s: int


def commitment_public(sc: StoredCommitment, registry: Registry, config: DutiesConfig
                      ) -> CommitmentPublic:
    c, inp = sc.commitment, sc.commitment.input
    ent = registry.enterprises.get(c.enterprise)
    names = {h.code: h.name for h in ent.hazard_sources} if ent else {}
    works = inp.special_works.model_dump()
    return CommitmentPublic(
        enterprise=c.enterprise, enterprise_name=ent.name if ent else "", day=c.day,
        status=CommitmentStatus.LATE if sc.late else CommitmentStatus.ON_TIME,
        status_label=STATUS_LABEL[CommitmentStatus.LATE if sc.late
                                  else CommitmentStatus.ON_TIME],
        late=sc.late, filed_at=rfc3339(c.filed_at_ms), filed_by=c.filed_by, text=c.text,
        units=inp.units.model_dump(), special_works=works,
        special_works_total=sum(works.values()),
        hazard_sources=[SourceLine(
            code=s.code, name=names.get(s.code, s.code), run_state=s.run_state,
            run_state_label=RUN_LABEL[s.run_state], reason=s.reason,
            expected_end=None if s.expected_end is None else s.expected_end.isoformat(),
            baobao_in_place=s.baobao_in_place) for s in inp.hazard_sources],
        transient_sources=list(c.transient_sources), trial_production=c.trial_production,
        major_hidden_danger=inp.major_hidden_danger,
        major_hidden_danger_note=inp.major_hidden_danger_note, risk_grade=inp.risk_grade,
        risk_grade_label=RISK_LABEL[inp.risk_grade], committer=inp.committer,
        duty_leader=inp.duty_leader.model_dump(),
    )


@router.get("/duties/labels", summary="Chinese labels and the province's form settings")
async def labels(duties: Duties, principal: CurrentPrincipal) -> Labels:
    cfg = duties.config
    return Labels(
        fields={".".join(k): v for k, v in LABELS.items()},
        run_states={s.value: RUN_LABEL[s] for s in RunState},
        risk_grades={g.value: RISK_LABEL[g] for g in RiskGrade},
        special_works={w: LABELS[("special_works", w)].removesuffix("数") for w in WORKS},
        commitment_status={s.value: v for s, v in STATUS_LABEL.items()},
        roll_call_status={s.value: v for s, v in CALL_LABEL.items()},
        patrol_checks={c.value: v for c, v in CHECK_LABEL.items()},
        chain_roles={r.value: v for r, v in ROLE_LABEL.items()},
        fact_kinds={k.value: v for k, v in FACT_LABEL.items()},
        template=cfg.commitment.template, timezone=cfg.timezone,
        utc_offset=datetime.fromtimestamp(duties.clock() / 1000, cfg.zone).isoformat()[-6:],
        today=duties.today(),
        deadline=cfg.commitment.deadline.strftime("%H:%M"),
        window_start=(None if cfg.commitment.window_start is None
                      else cfg.commitment.window_start.strftime("%H:%M")),
        roll_call_answer_s=cfg.roll_call.answer_deadline_s,
    )


@router.post("/enterprises/{code}/commitments", summary="File today's safety commitment",
             status_code=status.HTTP_201_CREATED,
             responses={**FORM_RESPONSES,
                        409: {"model": ErrorBody, "description": "already filed today"}})
async def file_commitment(
    duties: Duties, registry: CurrentRegistry,
    principal: Annotated[Principal, requires(Action.COMMITMENT_FILE)], code: EnterprisePath,
    body: Annotated[dict[str, Any], Body(description="the form: see CommitmentInput in "
                                                     "docs/CONTRACT.md §7.2")],
) -> CommitmentPublic:
    ent = enterprise_in_scope(registry, principal, code)
    try:
        sc = await duties.file_commitment(ent, body, principal.actor)
    except CommitmentError as exc:
        raise InvalidForm([(p.path, p.message) for p in exc.problems]) from None
    except AlreadyFiledError as exc:
        raise Refused(str(exc)) from None
    return commitment_public(sc, registry, duties.config)


@router.get("/enterprises/{code}/commitments", summary="An enterprise's commitments, newest first")
async def commitment_history(
    duties: Duties, registry: CurrentRegistry, principal: CurrentPrincipal,
    code: EnterprisePath, limit: LimitQuery = 100, offset: OffsetQuery = 0,
) -> CommitmentPage:
    enterprise_in_scope(registry, principal, code)
    items, total = await duties.store.commitments_of(code, limit=limit, offset=offset)
    return CommitmentPage(items=[commitment_public(c, registry, duties.config) for c in items],
                          total=total, limit=limit, offset=offset,
                          next_offset=offset + limit if offset + limit < total else None)


CSV_HEADER = ("日期", "企业编码", "企业名称", "状态", "填报时间", "填报人", "承诺人",
              "装置总数", "运行装置数", "停车装置数",
              *(LABELS[("special_works", w)] for w in WORKS),
              "开停车检修危险源", "试生产", "重大隐患", "重大隐患说明", "风险等级",
              "包保责任人在岗", "值班领导", "值班领导电话", "承诺内容")


def _csv_row(day: date, code: str, name: str, st: CommitmentStatus,
             sc: StoredCommitment | None, config: DutiesConfig) -> list[object]:
    if sc is None:
        return [day.isoformat(), code, name, STATUS_LABEL[st], *[""] * (len(CSV_HEADER) - 4)]
    c, inp = sc.commitment, sc.commitment.input
    yes = {True: "是", False: "否"}
    return [day.isoformat(), code, name, STATUS_LABEL[st], local_time(c.filed_at_ms, config),
            c.filed_by, inp.committer, inp.units.total, inp.units.running, inp.units.stopped,
            *(getattr(inp.special_works, w) for w in WORKS),
            "、".join(c.transient_sources), yes[c.trial_production],
            yes[inp.major_hidden_danger], inp.major_hidden_danger_note or "",
            RISK_LABEL[inp.risk_grade],
            yes[all(s.baobao_in_place for s in inp.hazard_sources)],
            inp.duty_leader.name, inp.duty_leader.phone, c.text]


def csv_response(rows: list[list[object]], filename: str) -> Response:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(CSV_HEADER)
    w.writerows(rows)
    # The BOM makes Excel (what the offices open a CSV with) read it as UTF-8.
    return Response(("\ufeff" + out.getvalue()).encode("utf-8"), media_type="text/csv; "
                    "charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


_CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "UTF-8 with a BOM, for Excel"}}


@router.get("/enterprises/{code}/commitments.csv", summary="An enterprise's commitments as CSV",
            response_class=Response, responses=_CSV)
async def commitment_csv(duties: Duties, registry: CurrentRegistry,
                         principal: CurrentPrincipal, code: EnterprisePath) -> Response:
    ent = enterprise_in_scope(registry, principal, code)
    items, _ = await duties.store.commitments_of(code, limit=100_000)
    rows = [_csv_row(sc.commitment.day, code, ent.name,
                     CommitmentStatus.LATE if sc.late else CommitmentStatus.ON_TIME, sc,
                     duties.config) for sc in items]
    return csv_response(rows, f"commitments-{code}.csv")


DayQuery = Annotated[str | None, Query(pattern=DayPattern, description="YYYY-MM-DD; today")]


async def day_rows(duties: Duties, registry: Registry, principal: Principal,
                   region: str | None, day_text: str | None) -> tuple[date, list[DayRow]]:
    now = duties.clock()
    try:
        day = duties.today(now) if day_text is None else date.fromisoformat(day_text)
    except ValueError:
        raise BadRequest(f"day: {day_text!r} is not a date") from None
    ents = enterprises_in(registry, principal, region)
    filed = [sc.commitment for sc in await duties.store.commitments_of_day(day)]
    return day, deadline.day_rows(day, [e.code for e in ents], filed, now, duties.config)


@router.get("/commitments/day", summary="The day's commitments of the region, missing first")
async def day_list(duties: Duties, registry: CurrentRegistry, principal: CurrentPrincipal,
                   region: RegionQuery = None, day: DayQuery = None) -> DayList:
    the_day, rows = await day_rows(duties, registry, principal, region, day)
    late = {sc.commitment.enterprise: sc for sc in await duties.store.commitments_of_day(the_day)}
    cfg = duties.config
    due = local_time(deadline.deadline_ms(the_day, cfg), cfg)
    items = []
    for r in rows:
        ent = registry.enterprises[r.enterprise]
        sc = late.get(r.enterprise)
        items.append(DayLine(
            enterprise=r.enterprise, enterprise_name=ent.name, region=ent.region,
            status=r.status, status_label=STATUS_LABEL[r.status], deadline=due,
            major_hidden_danger=r.major_hidden_danger, transient=r.transient,
            commitment=None if sc is None else commitment_public(sc, registry, cfg)))
    counts = {s.value: sum(r.status is s for r in rows) for s in CommitmentStatus}
    return DayList(day=the_day, deadline=due, counts=counts, items=items)


@router.get("/commitments/day.csv", summary="The day list as CSV", response_class=Response,
            responses=_CSV)
async def day_csv(duties: Duties, registry: CurrentRegistry, principal: CurrentPrincipal,
                  region: RegionQuery = None, day: DayQuery = None) -> Response:
    the_day, rows = await day_rows(duties, registry, principal, region, day)
    kept = {sc.commitment.enterprise: sc for sc in await duties.store.commitments_of_day(the_day)}
    out = [_csv_row(the_day, r.enterprise, registry.enterprises[r.enterprise].name, r.status,
                    kept.get(r.enterprise), duties.config) for r in rows]
    return csv_response(out, f"commitments-{the_day.isoformat()}.csv")
