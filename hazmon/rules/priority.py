"""Alarm priority from the rule's severity and the hazard source's GB 18218 tier.

Tier 1 is the most dangerous; a unit that is not a major hazard source (no tier) ranks
with tier 4. The matrix (C critical, H high, M medium, L low):

| severity                                            | tier 1 | tier 2 | tier 3 | tier 4 |
|-----------------------------------------------------|--------|--------|--------|--------|
| SEVERE: high_high, low_low, gas 二级报警             |   C    |   C    |   H    |   H    |
| VOTE_SEVERE: k-of-n detectors at 二级报警            |   C    |   C    |   C    |   H    |
| LIMIT: high, low, gas 一级报警                       |   H    |   H    |   M    |   L    |
| VOTE_LIMIT: k-of-n detectors at 一级报警             |   H    |   H    |   H    |   M    |
| TREND: predicted crossing of high_high / low_low    |   H    |   M    |   M    |   L    |
| RATE: rate of change                                |   M    |   M    |   L    |   L    |
| GATEWAY: enterprise gateway offline (data health)   |   H    |   H    |   M    |   M    |
| SENSOR: stale, frozen, bad quality, out of range    |   M    |   L    |   L    |   L    |

Why: a confirmed (voted) gas alarm is more certain than one detector, so it ranks a
step higher; a prediction or a rate is an early warning that leaves time to act, so it
ranks below the limit it points at; data health matters more where the hazard is bigger
but never outranks the process. The gateway row uses the most dangerous tier among the
enterprise's hazard sources. The ISA-18.2 target mix (about 5 % critical, 15 % high)
is met when the severe rows are rare, as they should be.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from hazmon.domain.signal import Priority


class Severity(StrEnum):
    SEVERE = "severe"
    VOTE_SEVERE = "vote_severe"
    LIMIT = "limit"
    VOTE_LIMIT = "vote_limit"
    TREND = "trend"
    RATE = "rate"
    GATEWAY = "gateway"
    SENSOR = "sensor"


_C, _H, _M, _L = Priority.CRITICAL, Priority.HIGH, Priority.MEDIUM, Priority.LOW

MATRIX: Final[dict[Severity, tuple[Priority, Priority, Priority, Priority]]] = {
    Severity.SEVERE: (_C, _C, _H, _H),
    Severity.VOTE_SEVERE: (_C, _C, _C, _H),
    Severity.LIMIT: (_H, _H, _M, _L),
    Severity.VOTE_LIMIT: (_H, _H, _H, _M),
    Severity.TREND: (_H, _M, _M, _L),
    Severity.RATE: (_M, _M, _L, _L),
    Severity.GATEWAY: (_H, _H, _M, _M),
    Severity.SENSOR: (_M, _L, _L, _L),
}

_THRESHOLD: Final = {
    "high_high": Severity.SEVERE,
    "low_low": Severity.SEVERE,
    "high": Severity.LIMIT,
    "low": Severity.LIMIT,
}


def priority(severity: Severity, tier: int | None) -> Priority:
    """The matrix above; tier None (not a major hazard source) or out of 1..4 → tier 4."""
    col = tier - 1 if tier is not None and 1 <= tier <= 4 else 3
    return MATRIX[severity][col]


def threshold_severity(rule: str) -> Severity:
    """high_high / low_low → SEVERE, high / low → LIMIT."""
    return _THRESHOLD[rule]


def vote_severity(level: str) -> Severity:
    return Severity.VOTE_SEVERE if level == "second" else Severity.VOTE_LIMIT
