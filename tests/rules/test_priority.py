"""Priority matrix: rule severity x GB 18218 tier."""

from __future__ import annotations

import pytest

from hazmon.domain.signal import Priority
from hazmon.rules import MATRIX, RulesEngine, Severity, priority
from hazmon.rules.priority import threshold_severity, vote_severity
from tests.rules.support import ENT, GD1, LEVEL, feed, make_registry, raised, sensor

C, H, M, L = Priority.CRITICAL, Priority.HIGH, Priority.MEDIUM, Priority.LOW


@pytest.mark.parametrize(
    ("severity", "tier", "expected"),
    [
        (Severity.SEVERE, 1, C),
        (Severity.SEVERE, 2, C),
        (Severity.SEVERE, 3, H),
        (Severity.SEVERE, 4, H),
        (Severity.LIMIT, 1, H),
        (Severity.LIMIT, 3, M),
        (Severity.LIMIT, 4, L),
        (Severity.VOTE_SEVERE, 3, C),
        (Severity.TREND, 1, H),
        (Severity.RATE, 4, L),
        (Severity.GATEWAY, 2, H),
        (Severity.SENSOR, 1, M),
        (Severity.SENSOR, 2, L),
    ],
)
def test_matrix(severity: Severity, tier: int, expected: Priority) -> None:
    assert priority(severity, tier) is expected


def test_no_tier_ranks_as_tier_4() -> None:
    for severity in Severity:
        assert priority(severity, None) is priority(severity, 4)
        assert priority(severity, 9) is priority(severity, 4)


def test_matrix_is_monotonic_in_tier_and_process_outranks_health() -> None:
    rank = {C: 0, H: 1, M: 2, L: 3}
    for row in MATRIX.values():
        assert [rank[p] for p in row] == sorted(rank[p] for p in row)
    for tier in (1, 2, 3, 4):
        assert rank[priority(Severity.SENSOR, tier)] >= rank[priority(Severity.LIMIT, tier)]
        assert rank[priority(Severity.VOTE_SEVERE, tier)] <= rank[priority(Severity.SEVERE, tier)]


def test_rule_severities() -> None:
    assert threshold_severity("high_high") is Severity.SEVERE
    assert threshold_severity("low_low") is Severity.SEVERE
    assert threshold_severity("high") is Severity.LIMIT
    assert vote_severity("second") is Severity.VOTE_SEVERE
    assert vote_severity("first") is Severity.VOTE_LIMIT


@pytest.mark.parametrize(
    ("tier", "second", "first"), [(1, C, H), (2, C, H), (3, H, M), (4, H, L)]
)
def test_signals_carry_the_tier_priority(tier: int, second: Priority, first: Priority) -> None:
    reg = make_registry([sensor(GD1), sensor(LEVEL)], tier=tier)
    assert reg.hazard_sources[(ENT, "MHS-01")].grading.tier == tier
    engine = RulesEngine(reg)
    out = feed(engine, reg, GD1, [(0, 60.0)])
    assert raised(out, "high_high")[0].priority is second
    assert raised(out, "high")[0].priority is first
