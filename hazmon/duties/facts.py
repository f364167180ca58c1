"""What the duties hand to the warning layer: facts, not warnings.

The warning policy decides the level; `DEFAULT_LEVEL` is the grading issue 15 proposes
(default — set by the province), for a policy that has no rule of its own for a kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final


class FactKind(StrEnum):
    COMMITMENT_MISSING = "commitment_missing"
    COMMITMENT_LATE = "commitment_late"
    STOPPED_PAST_EXPECTED_END = "stopped_past_expected_end"
    RUNNING_BUT_SILENT = "running_but_silent"
    DUTY_OVERDUE = "duty_overdue"
    HIDDEN_DANGER_OVERDUE = "hidden_danger_overdue"
    ROLL_CALL_MISSED = "roll_call_missed"


DEFAULT_LEVEL: Final[dict[FactKind, str]] = {
    FactKind.COMMITMENT_MISSING: "yellow",
    FactKind.COMMITMENT_LATE: "yellow",
    FactKind.STOPPED_PAST_EXPECTED_END: "blue",
    FactKind.RUNNING_BUT_SILENT: "yellow",
    FactKind.DUTY_OVERDUE: "blue",
    FactKind.HIDDEN_DANGER_OVERDUE: "yellow",
    FactKind.ROLL_CALL_MISSED: "yellow",
}


@dataclass(frozen=True, slots=True)
class DutyFact:
    """One finding: `key` identifies it so that the warning layer raises it once while open
    (e.g. the day, the duty role, the hidden danger or the roll call)."""

    kind: FactKind
    enterprise: str
    hazard_source: str | None  # None for enterprise-wide facts
    at_ms: int  # when the fact became true (the deadline passed, the call expired…)
    key: str
    detail: str  # Chinese, for the warning's reasons
    day: date | None = None
