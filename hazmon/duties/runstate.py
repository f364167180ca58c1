"""Run state of a hazard source (运行, 停车, 检修, 开车, 试生产) and what follows from it.

While a source is stopped or in turnaround its process alarms are suppressed by design
(ISA-18.2 state-based alarming); data-health alarms are never suppressed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from hazmon.duties.facts import DutyFact, FactKind


class RunState(StrEnum):
    RUNNING = "running"  # 运行
    STOPPED = "stopped"  # 停车
    TURNAROUND = "turnaround"  # 检修
    STARTUP = "startup"  # 开车
    TRIAL_PRODUCTION = "trial_production"  # 试生产


LABEL: Final[dict[RunState, str]] = {
    RunState.RUNNING: "运行",
    RunState.STOPPED: "停车",
    RunState.TURNAROUND: "检修",
    RunState.STARTUP: "开车",
    RunState.TRIAL_PRODUCTION: "试生产",
}

SUPPRESSING: Final = frozenset({RunState.STOPPED, RunState.TURNAROUND})
# Shown to the regulators first (issue 15 §1): the states where accidents cluster.
TRANSIENT: Final = frozenset({RunState.STARTUP, RunState.STOPPED, RunState.TURNAROUND})
# A stop or turnaround without a planned end cannot be checked against it.
NEEDS_EXPECTED_END: Final = SUPPRESSING

# Which state may follow which: a stopped unit goes through start-up before it runs.
TRANSITIONS: Final[dict[RunState, frozenset[RunState]]] = {
    RunState.RUNNING: frozenset({RunState.STOPPED, RunState.TURNAROUND}),
    RunState.STOPPED: frozenset({RunState.STARTUP, RunState.TURNAROUND}),
    RunState.TURNAROUND: frozenset({RunState.STOPPED, RunState.STARTUP}),
    RunState.STARTUP: frozenset({RunState.RUNNING, RunState.STOPPED, RunState.TRIAL_PRODUCTION}),
    RunState.TRIAL_PRODUCTION: frozenset({RunState.RUNNING, RunState.STOPPED,
                                          RunState.TURNAROUND}),
}


class TransitionError(ValueError):
    """A run-state change that is not allowed; the message is Chinese, for the page, and
    `field` names the form field at fault (so the page shows it beside that field)."""

    def __init__(self, message: str, field: str = "state") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class RunStateRecord:
    enterprise: str
    hazard_source: str
    state: RunState
    since_ms: int
    set_by: str
    reason: str | None = None
    expected_end_ms: int | None = None


def transition(
    current: RunStateRecord | None,
    enterprise: str,
    hazard_source: str,
    new: RunState,
    *,
    at_ms: int,
    by: str,
    reason: str | None = None,
    expected_end_ms: int | None = None,
) -> RunStateRecord:
    """The record after a change; raises TransitionError with the reason it is refused.

    With no record yet any state is accepted (the first commitment sets it). Setting the
    same state again updates its reason and expected end."""
    if new is not RunState.RUNNING and not (reason and reason.strip()):
        raise TransitionError(f"{LABEL[new]}须填写原因", "reason")
    if new in NEEDS_EXPECTED_END and expected_end_ms is None:
        raise TransitionError(f"{LABEL[new]}须填写预计结束时间", "expected_end")
    if expected_end_ms is not None and expected_end_ms <= at_ms:
        raise TransitionError("预计结束时间须晚于当前时间", "expected_end")
    since = at_ms
    if current is not None:
        if current.state is new:
            since = current.since_ms
        elif new not in TRANSITIONS[current.state]:
            raise TransitionError(f"不能从{LABEL[current.state]}直接转为{LABEL[new]}")
    return RunStateRecord(enterprise, hazard_source, new, since, by,
                          reason.strip() if reason else None, expected_end_ms)


def process_alarms_suppressed(record: RunStateRecord | None) -> bool:
    """Whether the source's process alarms are held back (data-health alarms never are)."""
    return record is not None and record.state in SUPPRESSING


def stopped_past_expected_end(record: RunStateRecord, now_ms: int) -> DutyFact | None:
    if record.state not in SUPPRESSING or record.expected_end_ms is None:
        return None
    if now_ms < record.expected_end_ms:
        return None
    return DutyFact(
        FactKind.STOPPED_PAST_EXPECTED_END, record.enterprise, record.hazard_source,
        record.expected_end_ms, f"{record.hazard_source}:{record.since_ms}",
        f"{record.hazard_source}{LABEL[record.state]}已超过预计结束时间",
    )


def running_but_silent(
    record: RunStateRecord, gateway_online: bool, now_ms: int
) -> DutyFact | None:
    """A source declared running (or starting up, in trial) whose gateway sends nothing.

    `gateway_online` is the data-health fact of the ingest (the gateway-silence rule)."""
    if record.state in SUPPRESSING or gateway_online:
        return None
    return DutyFact(
        FactKind.RUNNING_BUT_SILENT, record.enterprise, record.hazard_source, now_ms,
        f"{record.hazard_source}:{record.since_ms}",
        f"{record.hazard_source}申报为{LABEL[record.state]},但网关无数据",
    )
