"""The JSON of the warning endpoints: a warning, its history and pushes, and the labels a
page shows (Chinese names of levels, states, causes, events, regulator levels), so a page
needs no table of its own."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from pydantic import BaseModel, Field

from hazmon.core.clock import rfc3339
from hazmon.domain.regions import Level
from hazmon.warnings.chain import ChainRole
from hazmon.warnings.evaluate import Reason
from hazmon.warnings.feedback import CAUSE_LABELS, FIELD_LABELS, Cause, DisposalFeedback
from hazmon.warnings.levels import WarningLevel
from hazmon.warnings.lifecycle import EarlyWarning, WarningEvent, WarningState
from hazmon.warnings.policy import WarningPolicy
from hazmon.warnings.store import Push

LEVEL_COLOURS: Final = {WarningLevel.RED: "#d32f2f", WarningLevel.ORANGE: "#f57c00",
                        WarningLevel.YELLOW: "#fbc02d", WarningLevel.BLUE: "#1976d2"}
REGULATOR_LABELS: Final = {Level.CELL: "乡镇（街道）/园区", Level.COUNTY: "县级",
                           Level.CITY: "市级", Level.PROVINCE: "省级"}
EVENT_LABELS: Final = {
    "opened": "生成预警", "raised": "预警升级", "feedback_filed": "提交处置反馈",
    "accepted": "审核通过（消警）", "returned": "退回重新反馈", "onsite_checked": "现场核查",
    "overdue": "逾期未反馈，上报上级",
}
PUSH_STATUS_LABELS: Final = {"pending": "待发送", "sent": "已发送", "failed": "发送失败"}


class Label(BaseModel):
    value: str
    label: str


class LevelLabel(Label):
    rank: int = Field(description="0 for red (the gravest) to 3 for blue")
    colour: str
    feedback_minutes: int = Field(description="the policy's feedback deadline")


class Labels(BaseModel):
    """Every enumeration of the warning JSON with its Chinese label, in display order."""

    levels: list[LevelLabel]
    states: list[Label]
    causes: list[Label]
    events: list[Label]
    regulator_levels: list[Label]
    chain_roles: list[Label]
    feedback_fields: list[Label]
    push_statuses: list[Label]
    onsite_check_before_close: list[WarningLevel]


def labels(policy: WarningPolicy) -> Labels:
    return Labels(
        levels=[LevelLabel(value=lv.value, label=lv.label, rank=lv.rank,
                           colour=LEVEL_COLOURS[lv],
                           feedback_minutes=policy.feedback_minutes[lv])
                for lv in WarningLevel],
        states=[Label(value=s.value, label=s.label) for s in WarningState],
        causes=[Label(value=c.value, label=c.label) for c in Cause],
        events=[Label(value=k, label=v) for k, v in EVENT_LABELS.items()],
        regulator_levels=[Label(value=k.value, label=v) for k, v in REGULATOR_LABELS.items()],
        chain_roles=[Label(value=r.value, label=r.label) for r in ChainRole],
        feedback_fields=[Label(value=k, label=v) for k, v in FIELD_LABELS.items()],
        push_statuses=[Label(value=k, label=v) for k, v in PUSH_STATUS_LABELS.items()],
        onsite_check_before_close=list(policy.onsite_check_before_close),
    )


class ReasonPublic(BaseModel):
    code: str = Field(description="the policy rule's code; duty facts: duty_<kind>:<key>")
    kind: str
    level: WarningLevel
    level_label: str
    text: str = Field(description="Chinese, for the page")
    alarm_ids: list[str]
    data: dict[str, Any]


class FeedbackPublic(BaseModel):
    cause: Cause
    cause_label: str
    cause_detail: str
    measures: str
    person: str
    phone: str
    handled_at: str
    cause_removed: bool


class OnsiteCheckPublic(BaseModel):
    by: str
    at: str | None
    inspectors: list[str]
    findings: str


class WarningPublic(BaseModel):
    id: str
    enterprise: str
    enterprise_name: str
    hazard_source: str | None = Field(description="null: an enterprise-wide warning")
    name: str = Field(description="the hazard source's name, or the enterprise's")
    region: str
    tier: int | None
    level: WarningLevel
    level_label: str
    state: WarningState
    state_label: str
    open: bool
    overdue: bool = Field(description="a feedback deadline was missed (stays set)")
    escalations: int
    returns: int
    reviewer: Level = Field(description="the regulator level reviewing it now")
    reviewer_label: str
    opened_at: str | None
    deadline: str | None = Field(description="feedback due; null while none is owed")
    closed_at: str | None
    closed_by: str | None
    simulated: bool
    needs_onsite_check: bool = Field(description="an on-site check is still required "
                                                 "before it may be closed")
    reasons: list[ReasonPublic]
    feedback: FeedbackPublic | None
    onsite_check: OnsiteCheckPublic | None


class EventPublic(BaseModel):
    seq: int
    at: str | None
    event: str
    event_label: str
    actor: str
    actor_kind: str
    from_state: WarningState | None
    to_state: WarningState
    data: dict[str, Any]


class PushPublic(BaseModel):
    event_seq: int
    channel: str
    recipient: dict[str, Any]
    status: str
    status_label: str
    attempts: int
    sent_at: str | None
    last_error: str | None


class WarningDetail(WarningPublic):
    history: list[EventPublic]
    pushes: list[PushPublic]


class WarningPage(BaseModel):
    items: list[WarningPublic]
    total: int
    limit: int
    offset: int
    next_offset: int | None


def _reason(r: Reason) -> ReasonPublic:
    return ReasonPublic(code=r.code, kind=r.kind, level=r.level, level_label=r.level.label,
                        text=r.text, alarm_ids=list(r.alarm_ids), data=dict(r.data))


def _feedback(f: DisposalFeedback | None) -> FeedbackPublic | None:
    if f is None:
        return None
    return FeedbackPublic(cause=f.cause, cause_label=CAUSE_LABELS[f.cause],
                          cause_detail=f.cause_detail, measures=f.measures, person=f.person,
                          phone=f.phone, handled_at=f.handled_at.isoformat(),
                          cause_removed=f.cause_removed)


def _fields(w: EarlyWarning, names: Mapping[str, str], policy: WarningPolicy
            ) -> dict[str, Any]:
    c = w.onsite_check
    return dict(
        id=w.id, enterprise=w.enterprise, enterprise_name=names.get(w.enterprise, w.enterprise),
        hazard_source=w.hazard_source, name=w.name, region=w.region, tier=w.tier,
        level=w.level, level_label=w.level.label, state=w.state, state_label=w.state.label,
        open=w.is_open, overdue=w.overdue, escalations=w.escalations, returns=w.returns,
        reviewer=w.reviewer, reviewer_label=REGULATOR_LABELS[w.reviewer],
        opened_at=rfc3339(w.opened_at_ms), deadline=rfc3339(w.deadline_ms),
        closed_at=rfc3339(w.closed_at_ms), closed_by=w.closed_by, simulated=w.simulated,
        needs_onsite_check=(w.is_open and policy.needs_onsite_check(w.level)
                            and w.onsite_check is None),
        reasons=[_reason(r) for r in w.reasons], feedback=_feedback(w.feedback),
        onsite_check=None if c is None else OnsiteCheckPublic(
            by=c.by, at=rfc3339(c.at_ms), inspectors=list(c.inspectors), findings=c.findings),
    )


def warning_public(w: EarlyWarning, names: Mapping[str, str], policy: WarningPolicy
                   ) -> WarningPublic:
    return WarningPublic(**_fields(w, names, policy))


def warning_detail(w: EarlyWarning, names: Mapping[str, str], policy: WarningPolicy,
                   history: list[WarningEvent], pushes: list[Push]) -> WarningDetail:
    return WarningDetail(
        **_fields(w, names, policy),
        history=[EventPublic(seq=e.seq, at=rfc3339(e.at_ms), event=e.event,
                             event_label=EVENT_LABELS.get(e.event, e.event), actor=e.actor,
                             actor_kind=e.actor_kind.value, from_state=e.from_state,
                             to_state=e.to_state, data=dict(e.data)) for e in history],
        pushes=[PushPublic(event_seq=p.event_seq, channel=p.channel,
                           recipient=dict(p.recipient), status=p.status.value,
                           status_label=PUSH_STATUS_LABELS[p.status.value],
                           attempts=p.attempts, sent_at=rfc3339(p.sent_at_ms),
                           last_error=p.last_error) for p in pushes],
    )
