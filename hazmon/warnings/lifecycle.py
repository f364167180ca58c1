"""The warning state machine, pure: `apply(warning, action, policy) -> Step`.

    (decide) ──open──▶ open ──file_feedback──▶ feedback_filed ──accept──▶ closed (消警)
                        ▲  │                        │
                        │  overdue: marked,       return (with a reason)
                        │  reviewer one level up    ▼
                        │  (county → city →      returned ──file_feedback──▶ feedback_filed
                        │   province), new
                        │   deadline              raise (graver level): from any open
                        └─────────────────────── state back to open, never a second warning

- A warning awaits the enterprise's feedback (open, returned) until its deadline, set by
  the policy per level; a missed deadline marks it overdue for good (reports count it)
  and hands the review to the next regulator level with a fresh deadline, up to the
  province.
- Only the enterprise the warning belongs to files feedback; only a regulator at the
  reviewing level or above accepts or returns it; any regulator may record an on-site
  check (现场核查), which the policy requires before a 红 warning is closed.
- Raising to a graver level asks for feedback again (what was filed answered a lesser
  situation), by the earlier of the running deadline and the new level's.

Every step returns the new warning and a `WarningEvent` (who, when, what), the record
the hash-chained audit will keep; a step that is not allowed raises `WarningRefused`
with a machine code and a Chinese reason, and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, ClassVar, Final

from hazmon.alerts.errors import ActionRefused
from hazmon.domain.regions import Level
from hazmon.warnings.evaluate import Assessment, Reason
from hazmon.warnings.feedback import DisposalFeedback
from hazmon.warnings.levels import WarningLevel
from hazmon.warnings.policy import WarningPolicy

MAX_TEXT: Final = 2000
# Feedback may say it was handled a little after the server's time: clocks on phones.
FEEDBACK_CLOCK_SKEW_MS: Final = 5 * 60_000
SYSTEM_ACTOR_ID: Final = "system:warnings"


class WarningState(StrEnum):
    OPEN = "open"  # awaiting the enterprise's feedback
    FEEDBACK_FILED = "feedback_filed"  # awaiting the regulator's review
    RETURNED = "returned"  # the review sent it back: awaiting new feedback
    CLOSED = "closed"  # 消警

    @property
    def label(self) -> str:
        return _STATE_LABELS[self]


_STATE_LABELS: Final = {
    WarningState.OPEN: "待反馈",
    WarningState.FEEDBACK_FILED: "待审核",
    WarningState.RETURNED: "已退回",
    WarningState.CLOSED: "已消警",
}
AWAITING_FEEDBACK: Final = frozenset({WarningState.OPEN, WarningState.RETURNED})


class ActorKind(StrEnum):
    ENTERPRISE = "enterprise"
    REGULATOR = "regulator"
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts. The API maps a token to one; its scope (which region) is the API's check,
    the role and level are checked here."""

    id: str
    kind: ActorKind
    enterprise: str | None = None  # an enterprise user's enterprise
    level: Level | None = None  # a regulator's level


SYSTEM: Final = Actor(SYSTEM_ACTOR_ID, ActorKind.SYSTEM)


@dataclass(frozen=True, slots=True)
class OnsiteCheck:
    by: str
    at_ms: int
    inspectors: tuple[str, ...]
    findings: str


@dataclass(frozen=True, slots=True)
class EarlyWarning:
    """One warning (预警) of one subject, from its opening to its closing."""

    id: str
    enterprise: str
    hazard_source: str | None  # None: enterprise-wide
    name: str
    region: str
    tier: int | None
    level: WarningLevel
    reasons: tuple[Reason, ...]
    opened_at_ms: int
    reviewer: Level  # the regulator level that reviews it now
    state: WarningState = WarningState.OPEN
    deadline_ms: int | None = None  # feedback due; None while nobody owes feedback
    overdue: bool = False  # a feedback deadline was missed (stays set)
    escalations: int = 0  # times the review was handed up for a missed deadline
    returns: int = 0
    feedback: DisposalFeedback | None = None  # the latest filed
    onsite_check: OnsiteCheck | None = None  # the latest recorded
    closed_at_ms: int | None = None
    closed_by: str | None = None
    simulated: bool = False
    history_len: int = 0

    @property
    def key(self) -> tuple[str, str | None]:
        return (self.enterprise, self.hazard_source)

    @property
    def is_open(self) -> bool:
        return self.state is not WarningState.CLOSED


@dataclass(frozen=True, slots=True)
class WarningEvent:
    """One step of one warning, for its history and the audit chain."""

    warning_id: str
    seq: int
    at_ms: int
    event: str  # past tense: opened, raised, feedback_filed, accepted, returned, ...
    actor: str
    actor_kind: ActorKind
    from_state: WarningState | None  # None for the opening
    to_state: WarningState
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Step:
    warning: EarlyWarning
    event: WarningEvent


class WarningRefused(ActionRefused):
    """An action is not allowed on the warning as it is; `code` for programs, `reason`
    (Chinese) for the person."""

    def __init__(self, warning_id: str, action: str, state: str, code: str, reason: str) -> None:
        self.warning_id = warning_id
        self.action = action
        self.state = state
        self.code = code
        super().__init__(
            reason, f"warning {warning_id}: {action} refused in state {state}: {code} ({reason})"
        )


_Refuse = Callable[[str, str], WarningRefused]  # (code, reason) → the error to raise


# --- actions -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Raise:
    """The assessment found the subject graver than the open warning says."""

    at_ms: int
    level: WarningLevel
    reasons: tuple[Reason, ...]
    actor: Actor = SYSTEM
    name: ClassVar[str] = "raise"


@dataclass(frozen=True, slots=True)
class FileFeedback:
    at_ms: int
    actor: Actor
    feedback: DisposalFeedback
    name: ClassVar[str] = "file_feedback"


@dataclass(frozen=True, slots=True)
class Accept:
    at_ms: int
    actor: Actor
    note: str = ""
    name: ClassVar[str] = "accept"


@dataclass(frozen=True, slots=True)
class Return:
    at_ms: int
    actor: Actor
    reason: str
    name: ClassVar[str] = "return"


@dataclass(frozen=True, slots=True)
class RecordOnsiteCheck:
    at_ms: int
    actor: Actor
    findings: str
    inspectors: tuple[str, ...]
    name: ClassVar[str] = "record_onsite_check"


@dataclass(frozen=True, slots=True)
class MarkOverdue:
    """The deadline timer: the feedback deadline has passed."""

    at_ms: int
    actor: Actor = SYSTEM
    name: ClassVar[str] = "mark_overdue"


Action = Raise | FileFeedback | Accept | Return | RecordOnsiteCheck | MarkOverdue
ACTION_TYPES: Final[tuple[type[Action], ...]] = (
    Raise, FileFeedback, Accept, Return, RecordOnsiteCheck, MarkOverdue,
)


# --- opening and deciding ----------------------------------------------------------------


def open_warning(
    warning_id: str, assessment: Assessment, policy: WarningPolicy, now_ms: int
) -> Step:
    """A new warning for an assessment that has none open (see `decide`)."""
    w = EarlyWarning(
        id=warning_id, enterprise=assessment.enterprise,
        hazard_source=assessment.hazard_source, name=assessment.name,
        region=assessment.region, tier=assessment.tier, level=assessment.level,
        reasons=assessment.reasons, opened_at_ms=now_ms, reviewer=policy.reviewer,
        deadline_ms=now_ms + policy.deadline_ms(assessment.level),
        simulated=assessment.simulated, history_len=1,
    )
    data = {"level": w.level.value, "reasons": [r.code for r in w.reasons],
            "deadline_ms": w.deadline_ms, "reviewer": w.reviewer.value}
    return Step(w, WarningEvent(w.id, 1, now_ms, "opened", SYSTEM.id, SYSTEM.kind, None,
                                w.state, data))


@dataclass(frozen=True, slots=True)
class OpenNew:
    level: WarningLevel
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class RaiseOpen:
    level: WarningLevel
    reasons: tuple[Reason, ...]


@dataclass(frozen=True, slots=True)
class NoChange:
    why: str


Decision = OpenNew | RaiseOpen | NoChange


def decide(
    current: EarlyWarning | None,
    assessment: Assessment | None,
    latched: frozenset[str] = frozenset(),
) -> Decision:
    """What an assessment does to a subject's warning, never a second one while it is open.

    `current` is the subject's open warning (a closed one counts as none). `latched`: the
    reason codes of the subject's closed warnings whose conditions have held at every
    evaluation since the close (see `relatch`): a regulator who closed a warning on a
    condition is not handed the same warning again until it has cleared once."""
    if assessment is None:
        return NoChange("nothing holds")
    if current is not None and current.is_open:
        if assessment.level.graver_than(current.level):
            return RaiseOpen(assessment.level, assessment.reasons)
        return NoChange(f"open at {current.level.value}, not graver")
    fresh = tuple(r for r in assessment.reasons if r.code not in latched)
    if not fresh:
        return NoChange("closed on these reasons, which still hold")
    return OpenNew(fresh[0].level, fresh)  # reasons come gravest first


def relatch(latched: frozenset[str], assessment: Assessment | None) -> frozenset[str]:
    """The latched codes after an evaluation: those whose condition still holds."""
    holding = {r.code for r in assessment.reasons} if assessment is not None else set()
    return latched & frozenset(holding)


# --- the machine -------------------------------------------------------------------------


def apply(warning: EarlyWarning, action: Action, policy: WarningPolicy) -> Step:
    """The warning after `action` and the event recording it; or WarningRefused."""
    w, st, at = warning, warning.state, action.at_ms
    actor = action.actor

    def refuse(code: str, reason: str) -> WarningRefused:
        return WarningRefused(w.id, action.name, st.value, code, reason)

    if st is WarningState.CLOSED:
        raise refuse("closed", "预警已消警，不能再操作")
    if not actor.id.strip():
        raise refuse("no_actor", "缺少操作人")

    data: dict[str, Any] = {}
    match action:
        case Raise():
            _need_system(actor, refuse)
            if not action.level.graver_than(w.level):
                raise refuse("not_graver", f"预警已为{w.level.label}，只能升级到更高级别")
            deadline = at + policy.deadline_ms(action.level)
            if st in AWAITING_FEEDBACK and w.deadline_ms is not None:
                deadline = min(deadline, w.deadline_ms)
            codes = {r.code for r in action.reasons}
            reasons = (*action.reasons, *(r for r in w.reasons if r.code not in codes))
            new = replace(w, level=action.level, reasons=reasons, state=WarningState.OPEN,
                          deadline_ms=deadline)
            event = "raised"
            data = {"from_level": w.level.value, "to_level": action.level.value,
                    "reasons": [r.code for r in action.reasons], "deadline_ms": deadline}
        case FileFeedback():
            if st not in AWAITING_FEEDBACK:
                raise refuse("feedback_already_filed", "处置反馈已提交，等待审核")
            if actor.kind is not ActorKind.ENTERPRISE or actor.enterprise != w.enterprise:
                raise refuse("not_the_enterprise", "只有预警所属企业可以提交处置反馈")
            if action.feedback.handled_at_ms > at + FEEDBACK_CLOCK_SKEW_MS:
                raise refuse("handled_in_future", "处置时间不能晚于提交时间")
            late = w.deadline_ms is not None and at > w.deadline_ms
            new = replace(w, state=WarningState.FEEDBACK_FILED, feedback=action.feedback,
                          deadline_ms=None, overdue=w.overdue or late)
            event = "feedback_filed"
            data = {"feedback": action.feedback.to_record(), "on_time": not late,
                    "deadline_ms": w.deadline_ms}
        case Accept():
            if st is not WarningState.FEEDBACK_FILED:
                raise refuse("no_feedback", "企业尚未提交处置反馈，无法审核")
            _need_reviewer(actor, w, refuse)
            note = _optional_text(action.note, refuse)
            if policy.needs_onsite_check(w.level) and w.onsite_check is None:
                raise refuse("onsite_check_required", f"{w.level.label}须先完成现场核查才能消警")
            new = replace(w, state=WarningState.CLOSED, closed_at_ms=at, closed_by=actor.id)
            event = "accepted"
            data = {"note": note, "closed": True}
        case Return():
            if st is not WarningState.FEEDBACK_FILED:
                raise refuse("no_feedback", "企业尚未提交处置反馈，无法退回")
            _need_reviewer(actor, w, refuse)
            reason = _required_text(action.reason, "退回须说明原因", refuse)
            deadline = at + policy.deadline_ms(w.level)
            new = replace(w, state=WarningState.RETURNED, deadline_ms=deadline,
                          returns=w.returns + 1)
            event = "returned"
            data = {"reason": reason, "deadline_ms": deadline}
        case RecordOnsiteCheck():
            if actor.kind is not ActorKind.REGULATOR or actor.level is None:
                raise refuse("not_a_regulator", "只有监管部门可以登记现场核查")
            findings = _required_text(action.findings, "现场核查须填写核查情况", refuse)
            inspectors = tuple(n.strip() for n in action.inspectors if n.strip())
            if not inspectors:
                raise refuse("no_inspectors", "现场核查须填写核查人员")
            check = OnsiteCheck(actor.id, at, inspectors, findings)
            new = replace(w, onsite_check=check)
            event = "onsite_checked"
            data = {"findings": findings, "inspectors": list(inspectors),
                    "level": actor.level.value}
        case MarkOverdue():
            _need_system(actor, refuse)
            if st not in AWAITING_FEEDBACK:
                raise refuse("feedback_already_filed", "处置反馈已提交，不再计算反馈时限")
            if w.deadline_ms is None:
                raise refuse("no_deadline", "已逾期并上报至最高一级，无新的时限")
            if at < w.deadline_ms:
                raise refuse("not_due", "反馈时限未到")
            above = w.reviewer.above()
            # At the province there is nobody above: marked overdue, no further deadline.
            next_deadline = at + policy.deadline_ms(w.level) if above is not None else None
            new = replace(w, overdue=True, reviewer=above or w.reviewer,
                          deadline_ms=next_deadline,
                          escalations=w.escalations + (1 if above is not None else 0))
            event = "overdue"
            data = {"deadline_ms": w.deadline_ms, "escalated_to":
                    above.value if above is not None else None, "next_deadline_ms": next_deadline}
        case _:  # pragma: no cover - the union is closed
            raise refuse("unknown_action", f"未知操作 {action!r}")

    seq = w.history_len + 1
    new = replace(new, history_len=seq)
    return Step(new, WarningEvent(w.id, seq, at, event, actor.id, actor.kind, st, new.state,
                                  data))


def _need_system(actor: Actor, refuse: _Refuse) -> None:
    if actor.kind is not ActorKind.SYSTEM:
        raise refuse("system_only", "此操作由系统自动执行")


def _need_reviewer(actor: Actor, w: EarlyWarning, refuse: _Refuse) -> None:
    if actor.kind is not ActorKind.REGULATOR or actor.level is None:
        raise refuse("not_a_regulator", "只有监管部门可以审核处置反馈")
    if actor.level.rank < w.reviewer.rank:
        raise refuse("reviewer_level",
                     f"此预警由{_LEVEL_NAMES[w.reviewer]}或更高一级审核")


_LEVEL_NAMES: Final = {
    Level.CELL: "乡镇（街道）/园区", Level.COUNTY: "县级", Level.CITY: "市级",
    Level.PROVINCE: "省级",
}


def _required_text(text: str, missing: str, refuse: _Refuse) -> str:
    value = text.strip()
    if not value:
        raise refuse("text_required", missing)
    if len(value) > MAX_TEXT:
        raise refuse("text_too_long", f"文字不能超过{MAX_TEXT}字")
    return value


def _optional_text(text: str, refuse: _Refuse) -> str:
    value = text.strip()
    if len(value) > MAX_TEXT:
        raise refuse("text_too_long", f"文字不能超过{MAX_TEXT}字")
    return value
