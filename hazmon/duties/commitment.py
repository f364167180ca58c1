"""The daily safety commitment (安全承诺) an enterprise files, and its validation.

Each wrong field gets its own message in Chinese (for the page) with its path (for the
form to point at it): the schema's errors are translated, then the checks across fields
(units add up, every hazard source reported once, reasons where a state needs them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, Final

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from hazmon.domain.registry import Enterprise, format_loc
from hazmon.domain.registry import _pydantic_loc as pydantic_loc
from hazmon.duties.config import DutiesConfig
from hazmon.duties.runstate import LABEL as RUN_LABEL
from hazmon.duties.runstate import NEEDS_EXPECTED_END, TRANSIENT, RunState, RunStateRecord

PHONE_PATTERN: Final = r"^\+?[0-9 -]{5,20}$"
MAX_WORKS: Final = 999


class RiskGrade(StrEnum):
    MAJOR = "major"  # 重大风险 (红)
    SIGNIFICANT = "significant"  # 较大风险 (橙)
    GENERAL = "general"  # 一般风险 (黄)
    LOW = "low"  # 低风险 (蓝)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Count = Field(default=0, ge=0, le=MAX_WORKS)


class Units(_Strict):
    total: int = Field(ge=0, le=MAX_WORKS)
    running: int = Field(ge=0, le=MAX_WORKS)
    stopped: int = Field(ge=0, le=MAX_WORKS)


class SpecialWorks(_Strict):
    """Counts of today's special works (特殊作业, GB 30871)."""

    hot_work_special: int = Count  # 特级动火
    hot_work_1: int = Count  # 一级动火
    hot_work_2: int = Count  # 二级动火
    confined_space: int = Count  # 受限空间
    blind_plate: int = Count  # 盲板抽堵
    work_at_height: int = Count  # 高处
    lifting: int = Count  # 吊装
    temporary_power: int = Count  # 临时用电
    excavation: int = Count  # 动土
    road_closure: int = Count  # 断路


class DutyLeader(_Strict):
    name: str = Field(min_length=1, max_length=32)
    phone: str = Field(pattern=PHONE_PATTERN)


class SourceCommitment(_Strict):
    code: str = Field(min_length=1, max_length=32)
    run_state: RunState
    reason: str | None = Field(default=None, max_length=200)
    expected_end: AwareDatetime | None = None
    baobao_in_place: bool  # 包保责任人 at their posts


class CommitmentInput(_Strict):
    """What the form sends."""

    day: date
    units: Units
    special_works: SpecialWorks = SpecialWorks()
    hazard_sources: list[SourceCommitment] = Field(min_length=1)
    major_hidden_danger: bool
    major_hidden_danger_note: str | None = Field(default=None, max_length=500)
    risk_grade: RiskGrade
    committer: str = Field(min_length=1, max_length=32)
    duty_leader: DutyLeader
    confirmed: bool  # the committer has read the template's text


@dataclass(frozen=True, slots=True)
class Commitment:
    enterprise: str
    input: CommitmentInput
    text: str  # the province's template, filled in
    filed_at_ms: int
    filed_by: str

    @property
    def day(self) -> date:
        return self.input.day

    @property
    def transient_sources(self) -> tuple[str, ...]:
        """Sources in start-up, shutdown or turnaround (shown to regulators first)."""
        return tuple(s.code for s in self.input.hazard_sources if s.run_state in TRANSIENT)

    @property
    def trial_production(self) -> bool:
        return any(s.run_state is RunState.TRIAL_PRODUCTION for s in self.input.hazard_sources)


@dataclass(frozen=True, slots=True)
class FieldProblem:
    path: str  # e.g. "hazard_sources[1].reason"
    message: str  # Chinese


class CommitmentError(ValueError):
    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{p.path}: {p.message}" for p in self.problems))


LABELS: Final[dict[tuple[str, ...], str]] = {
    ("day",): "承诺日期",
    ("units",): "装置数量",
    ("units", "total"): "装置总数",
    ("units", "running"): "运行装置数",
    ("units", "stopped"): "停车装置数",
    ("special_works",): "特殊作业",
    ("special_works", "hot_work_special"): "特级动火作业数",
    ("special_works", "hot_work_1"): "一级动火作业数",
    ("special_works", "hot_work_2"): "二级动火作业数",
    ("special_works", "confined_space"): "受限空间作业数",
    ("special_works", "blind_plate"): "盲板抽堵作业数",
    ("special_works", "work_at_height"): "高处作业数",
    ("special_works", "lifting"): "吊装作业数",
    ("special_works", "temporary_power"): "临时用电作业数",
    ("special_works", "excavation"): "动土作业数",
    ("special_works", "road_closure"): "断路作业数",
    ("hazard_sources",): "危险源",
    ("hazard_sources", "code"): "危险源编码",
    ("hazard_sources", "run_state"): "运行状态",
    ("hazard_sources", "reason"): "原因",
    ("hazard_sources", "expected_end"): "预计结束时间",
    ("hazard_sources", "baobao_in_place"): "包保责任人是否在岗",
    ("major_hidden_danger",): "是否存在重大隐患",
    ("major_hidden_danger_note",): "重大隐患说明",
    ("risk_grade",): "风险等级",
    ("committer",): "承诺人",
    ("duty_leader",): "值班领导",
    ("duty_leader", "name"): "值班领导姓名",
    ("duty_leader", "phone"): "值班领导电话",
    ("confirmed",): "承诺确认",
}

_CHOICES: Final[dict[tuple[str, ...], str]] = {
    ("hazard_sources", "run_state"): "、".join(RUN_LABEL.values()),
    ("risk_grade",): "重大、较大、一般、低",
}


def _label(loc: tuple[str | int, ...]) -> str:
    key = tuple(p for p in loc if isinstance(p, str))
    return LABELS.get(key, format_loc(loc))


def _message(err: Mapping[str, Any], loc: tuple[str | int, ...]) -> str:
    kind = str(err["type"])
    label = _label(loc)
    ctx = err.get("ctx") or {}
    key = tuple(p for p in loc if isinstance(p, str))
    if kind == "missing":
        return f"请填写{label}"
    if kind == "extra_forbidden":
        return f"未知字段:{loc[-1] if loc else ''}"
    if kind.startswith("int_"):
        return f"{label}须为整数"
    if kind == "greater_than_equal":
        return f"{label}不能小于{ctx.get('ge')}"
    if kind == "less_than_equal":
        return f"{label}不能大于{ctx.get('le')}"
    if kind.startswith("bool_"):
        return f"{label}须选择“是”或“否”"
    if kind == "string_too_short":
        return f"请填写{label}" if key != ("hazard_sources",) else "请至少填报一个危险源"
    if kind == "too_short":
        return "请至少填报一个危险源"
    if kind == "string_too_long":
        return f"{label}过长(最多{ctx.get('max_length')}字)"
    if kind == "string_pattern_mismatch":
        return f"{label}格式不正确"
    if kind == "string_type":
        return f"{label}须为文字"
    if kind == "enum":
        return f"{label}只能是:{_CHOICES.get(key, '')}"
    if kind == "timezone_aware":
        return f"{label}须带时区"
    if kind.startswith("date_"):
        return f"{label}不是有效日期(年-月-日)"
    if kind.startswith("datetime_"):
        return f"{label}不是有效时间"
    if kind == "list_type":
        return f"{label}须为列表"
    return f"{label}格式不正确"


def _schema(data: Any) -> CommitmentInput:
    try:
        return CommitmentInput.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = pydantic_loc(err["loc"])
            problems.append(FieldProblem(format_loc(loc), _message(err, loc)))
        raise CommitmentError(problems) from exc


def local_day(now_ms: int, config: DutiesConfig) -> date:
    return datetime.fromtimestamp(now_ms / 1000, tz=config.zone).date()


def consistency_problems(
    c: CommitmentInput, enterprise: Enterprise, now_ms: int, config: DutiesConfig
) -> list[FieldProblem]:
    """The checks across fields, each placed on the field to correct."""
    out: list[FieldProblem] = []
    if c.day != local_day(now_ms, config):
        out.append(FieldProblem("day", "只能填报当天的承诺"))
    start = config.commitment.window_start
    if start is not None and datetime.fromtimestamp(now_ms / 1000, tz=config.zone).time() < start:
        out.append(FieldProblem("day", f"承诺须在{start.strftime('%H:%M')}之后填报"))
    u = c.units
    if u.running + u.stopped != u.total:
        out.append(FieldProblem(
            "units.total",
            f"运行装置数({u.running})与停车装置数({u.stopped})之和须等于装置总数({u.total})",
        ))
    known = {hs.code for hs in enterprise.hazard_sources}
    seen: set[str] = set()
    for i, s in enumerate(c.hazard_sources):
        at = f"hazard_sources[{i}]"
        if s.code not in known:
            out.append(FieldProblem(f"{at}.code", f"本企业没有危险源{s.code}"))
        elif s.code in seen:
            out.append(FieldProblem(f"{at}.code", f"危险源{s.code}重复填报"))
        seen.add(s.code)
        if s.run_state is not RunState.RUNNING and not (s.reason and s.reason.strip()):
            out.append(FieldProblem(f"{at}.reason", f"{RUN_LABEL[s.run_state]}须填写原因"))
        if s.run_state in NEEDS_EXPECTED_END and s.expected_end is None:
            out.append(FieldProblem(
                f"{at}.expected_end", f"{RUN_LABEL[s.run_state]}须填写预计结束时间"
            ))
        if s.expected_end is not None and _ms(s.expected_end) <= now_ms:
            out.append(FieldProblem(f"{at}.expected_end", "预计结束时间须晚于当前时间"))
    missing = sorted(known - seen)
    if missing:
        out.append(FieldProblem("hazard_sources", f"缺少危险源:{'、'.join(missing)}"))
    if c.major_hidden_danger and not (c.major_hidden_danger_note or "").strip():
        out.append(FieldProblem("major_hidden_danger_note", "存在重大隐患时须填写隐患说明"))
    if not c.committer.strip():
        out.append(FieldProblem("committer", "请填写承诺人"))
    if not c.confirmed:
        out.append(FieldProblem("confirmed", "请阅读并确认承诺内容"))
    return out


def _ms(t: datetime) -> int:
    return int(t.astimezone(UTC).timestamp() * 1000)


def render_text(c: CommitmentInput, enterprise: Enterprise, config: DutiesConfig) -> str:
    names = {hs.code: hs.name for hs in enterprise.hazard_sources}
    sources = "、".join(names.get(s.code, s.code) for s in c.hazard_sources)
    return config.commitment.template.format(
        enterprise_name=enterprise.name, sources=sources, committer=c.committer.strip(),
        date=f"{c.day.year}年{c.day.month}月{c.day.day}日",
    )


def file_commitment(
    data: Any, enterprise: Enterprise, *, now_ms: int, by: str, config: DutiesConfig
) -> Commitment:
    """The commitment a form's data makes; raises CommitmentError listing every problem.

    Whether it is on time is not a validation matter: a late commitment is accepted and
    marked late (`deadline.status`)."""
    c = _schema(data)
    problems = consistency_problems(c, enterprise, now_ms, config)
    if problems:
        raise CommitmentError(problems)
    return Commitment(enterprise.code, c, render_text(c, enterprise, config), now_ms, by)


def expected_end_ms(s: SourceCommitment) -> int | None:
    return None if s.expected_end is None else _ms(s.expected_end)


def run_states(
    c: Commitment, current: Mapping[str, RunStateRecord]
) -> dict[str, RunStateRecord]:
    """The run state of each source as the commitment declares it (code → record).

    The commitment is the enterprise's declaration of the day: it sets the state whatever
    came before (the steps in between may not have been recorded), so the transition
    rules of `runstate.transition` are not applied; its validation has already required
    the reasons and expected ends."""
    out: dict[str, RunStateRecord] = {}
    for s in c.input.hazard_sources:
        cur = current.get(s.code)
        since = cur.since_ms if cur is not None and cur.state is s.run_state else c.filed_at_ms
        out[s.code] = RunStateRecord(c.enterprise, s.code, s.run_state, since, c.filed_by,
                                     s.reason.strip() if s.reason else None, expected_end_ms(s))
    return out
