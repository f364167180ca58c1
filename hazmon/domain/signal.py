"""What the rules engine tells the alarm system: a condition became true or false.

Rules know nothing of acknowledgement or shelving; they only say that the condition
identified by `key` is now active (RAISE), still active with a new value (UPDATE) or no
longer active (CLEAR). The alarm lifecycle (ISA-18.2) lives in `hazmon.alerts`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class SignalKind(StrEnum):
    RAISE = "raise"
    UPDATE = "update"
    CLEAR = "clear"


class Category(StrEnum):
    PROCESS = "process"  # threshold, rate, trend, voting: the plant is in trouble
    DATA_HEALTH = "data_health"  # stale, frozen, bad quality, out of range, gateway offline


class Priority(StrEnum):
    """ISA-18.2 priorities; aim for about 5 % critical, 15 % high, 80 % low overall."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


PRIORITY_RANK: dict[Priority, int] = {
    Priority.CRITICAL: 0,
    Priority.HIGH: 1,
    Priority.MEDIUM: 2,
    Priority.LOW: 3,
}


@dataclass(frozen=True, slots=True)
class AlarmSignal:
    kind: SignalKind
    enterprise: str
    hazard_source: str
    tag: str | None  # None for conditions of a whole hazard source or gateway (voting, offline)
    rule: str  # "high_high", "rate_rise", "trend_high_high", "stale", "vote_gas_second", ...
    category: Category
    priority: Priority
    ts_ms: int  # the time of the reading (or clock tick) that changed the condition
    value: float | None
    limit: float | None
    message: str  # Chinese, for duty officers: "罐区一 T101 液位 10.61 m ≥ 高高限 10.5 m"
    simulated: bool = False
    details: dict[str, object] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, str]:
        """One alarm per (enterprise, sensor or hazard source, rule) while it holds."""
        return (self.enterprise, self.tag or f"@{self.hazard_source}", self.rule)
