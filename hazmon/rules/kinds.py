"""The registered rule kinds: what the snapshot codec saves and the restart check asks.

A new kind is registered by adding its module's `KIND` here (see docs/ARCHITECTURE.md,
"A new rule kind"); tests/rules/test_kinds.py then round-trips its state through a
snapshot and fails for any `SensorState` slot that no kind saves.
"""

from __future__ import annotations

from typing import Final

from hazmon.rules import gateway, health, rate, threshold, trend, voting, window
from hazmon.rules.kind import GroupKind, SensorKind

# In snapshot order (a sensor entry's keys, the snapshot's top-level lists).
SENSOR_KINDS: Final[tuple[SensorKind, ...]] = (
    threshold.KIND,
    rate.KIND,
    trend.KIND,
    health.KIND,
    window.KIND,
)
GROUP_KINDS: Final[tuple[GroupKind, ...]] = (gateway.KIND, voting.KIND)
