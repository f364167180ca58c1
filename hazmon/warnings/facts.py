"""What the evaluation knows about one enterprise at one moment: the input of `evaluate`.

Built later from the alarm store (`hazmon.alerts.lifecycle.Alarm`), the rules engine's
gateway and data-health state, the KPIs and the daily commitment; here they are plain
values so the policy can be tested on any situation. Times are UTC epoch milliseconds.

Which alarms belong in the facts: open occurrences that are neither suppressed by design
(a unit shut down) nor out of service (an instrument in maintenance): those overlays say
the alarm does not describe a live hazard. A shelved alarm stays in: shelving quietens a
console, it does not lower the risk a regulator is shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from hazmon.alerts.lifecycle import Alarm
from hazmon.domain.signal import Category, Priority
from hazmon.duties.facts import DutyFact

# The threshold rules at the second level (GB 50493 二级报警, HH/LL); a vote at the second
# level is flagged by whoever builds the facts from the voting rule's `level`.
SECOND_LEVEL_RULES = frozenset({"high_high", "low_low"})
TREND_SECOND_LEVEL_RULES = frozenset({"trend_high_high", "trend_low_low"})


@dataclass(frozen=True, slots=True)
class AlarmFact:
    """One open alarm occurrence, as the alarm store has it."""

    id: str
    rule: str  # "high_high", "trend_high_high", "vote_gas_second", "stale", ...
    category: Category
    priority: Priority
    tag: str | None  # None for a whole source or the gateway
    raised_at_ms: int  # first activation of the occurrence (Alarm.raised_at_ms)
    # Latest activation while the condition holds (Alarm.active_at_ms); None once it has
    # returned to normal unacknowledged (unack_rtn).
    active_since_ms: int | None
    acked: bool
    second_level: bool = False  # HH/LL threshold, gas 二级报警, or a second-level vote
    sensor_kind: str | None = None  # the registry SensorKind of `tag`
    predicted_at_ms: int | None = None  # trend alarms: when the limit is expected crossed
    message: str = ""  # the alarm's Chinese message, quoted in reasons

    @property
    def active(self) -> bool:
        return self.active_since_ms is not None


def alarm_fact(alarm: Alarm, sensor_kind: str | None = None) -> AlarmFact | None:
    """The fact of an alarm occurrence from the alarm store, or None when it does not
    belong in the facts (not open, suppressed, out of service; see the module's doc).

    The second level is the threshold rule's (HH/LL) or a vote's ``level`` detail; a
    trend's predicted crossing is its ``predicted_ms`` detail (both set by the rules
    engine on the raise). `sensor_kind` comes from the registry (SensorInfo.sensor.kind).
    """
    if not alarm.is_open or alarm.raised_at_ms is None:
        return None
    if alarm.suppressed is not None or alarm.out_of_service is not None:
        return None
    details = alarm.details
    predicted = details.get("predicted_ms")
    return AlarmFact(
        id=alarm.id, rule=alarm.rule, category=alarm.category, priority=alarm.priority,
        tag=alarm.tag, raised_at_ms=alarm.raised_at_ms,
        active_since_ms=alarm.active_at_ms if alarm.is_active else None,
        acked=alarm.is_acked,
        second_level=alarm.rule in SECOND_LEVEL_RULES or details.get("level") == "second",
        sensor_kind=sensor_kind,
        predicted_at_ms=int(predicted) if isinstance(predicted, int | float) else None,
        message=alarm.message,
    )


@dataclass(frozen=True, slots=True)
class HazardSourceFacts:
    code: str
    name: str
    tier: int | None  # GB 18218 tier; None: not a major hazard source (ranks as tier 4)
    alarms: Sequence[AlarmFact] = ()
    # Per tag, when its alarm occurrences were raised, over at least the longest
    # `repeated_alarms` window of the policy (older entries are ignored).
    alarm_raises: Mapping[str, Sequence[int]] = field(default_factory=dict)
    # Time-weighted share (0-1) of expected data received over the `low_availability`
    # window; None when unknown (e.g. the source was added within the window).
    availability: float | None = None
    duty_facts: Sequence[DutyFact] = ()  # the duties' findings about this source


@dataclass(frozen=True, slots=True)
class GatewayFact:
    online: bool
    since_ms: int  # since when it has been in that state


@dataclass(frozen=True, slots=True)
class EnterpriseFacts:
    code: str
    name: str
    region: str  # county code (GB/T 2260)
    hazard_sources: Sequence[HazardSourceFacts] = ()
    alarms: Sequence[AlarmFact] = ()  # enterprise-wide: gateway offline and the like
    gateway: GatewayFact | None = None  # None: no gateway state known yet
    commitment_missing: bool = False  # today's safety commitment missing or late
    simulated: bool = False
    duty_facts: Sequence[DutyFact] = ()  # the duties' enterprise-wide findings

    @property
    def tier(self) -> int | None:
        """The gravest tier among the sources (as the priority matrix's gateway row)."""
        tiers = [hs.tier for hs in self.hazard_sources if hs.tier is not None]
        return min(tiers) if tiers else None
