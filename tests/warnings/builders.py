"""Synthetic facts for the warning tests: one call per alarm, source or enterprise."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hazmon.domain.signal import Category, Priority
from hazmon.warnings.evaluate import Assessment
from hazmon.warnings.facts import AlarmFact, EnterpriseFacts, GatewayFact, HazardSourceFacts
from hazmon.warnings.levels import WarningLevel
from tests.clock import T0
from tests.support import ENT

_UNSET = -1


def alarm(
    alarm_id: str = "A1",
    *,
    rule: str = "high_high",
    category: Category = Category.PROCESS,
    priority: Priority = Priority.CRITICAL,
    tag: str | None = "T101",
    raised: int = T0,
    active: int | None = _UNSET,
    acked: bool = False,
    second_level: bool | None = None,
    sensor_kind: str | None = None,
    predicted: int | None = None,
    message: str = "",
) -> AlarmFact:
    """An open alarm, active since it was raised unless `active` says otherwise."""
    return AlarmFact(
        id=alarm_id, rule=rule, category=category, priority=priority, tag=tag,
        raised_at_ms=raised, active_since_ms=raised if active == _UNSET else active,
        acked=acked,
        second_level=rule in ("high_high", "low_low") if second_level is None else second_level,
        sensor_kind=sensor_kind, predicted_at_ms=predicted, message=message,
    )


def source(
    code: str = "MHS-01",
    *,
    tier: int | None = 1,
    alarms: Sequence[AlarmFact] = (),
    raises: Mapping[str, Sequence[int]] | None = None,
    availability: float | None = None,
) -> HazardSourceFacts:
    return HazardSourceFacts(code=code, name=f"{code} 罐区", tier=tier, alarms=tuple(alarms),
                             alarm_raises=dict(raises or {}), availability=availability)


def enterprise(
    *sources: HazardSourceFacts,
    code: str = ENT,
    alarms: Sequence[AlarmFact] = (),
    offline_since: int | None = None,
    commitment_missing: bool = False,
    simulated: bool = False,
) -> EnterpriseFacts:
    gateway = GatewayFact(online=offline_since is None,
                          since_ms=T0 if offline_since is None else offline_since)
    return EnterpriseFacts(code=code, name="响水化工", region="320921",
                           hazard_sources=tuple(sources), alarms=tuple(alarms),
                           gateway=gateway, commitment_missing=commitment_missing,
                           simulated=simulated)


def outcome(
    assessments: Sequence[Assessment],
) -> dict[str | None, tuple[WarningLevel, list[str]]]:
    """Hazard source (None: the enterprise) → (level, reason codes)."""
    return {a.hazard_source: (a.level, [r.code for r in a.reasons]) for a in assessments}
