"""The facts of every enterprise at one moment, gathered from what the service knows:
the registry (names, tiers, regions), the alarm store's open alarms and recent raises,
the gateways' states, the sensors' data availability and the duties' findings.

Pure: the service reads its parts and hands the values in (`Observations`), so what the
policy is shown can be tested on any situation. An alarm whose hazard source the
registry does not list (the gateway's, ``hazard_source=""``) is enterprise-wide.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from hazmon.alerts.lifecycle import Alarm
from hazmon.domain.registry import Registry
from hazmon.duties.facts import DutyFact
from hazmon.warnings.facts import (
    AlarmFact,
    EnterpriseFacts,
    GatewayFact,
    HazardSourceFacts,
    alarm_fact,
)
from hazmon.warnings.policy import LowAvailability, RepeatedAlarms, WarningPolicy

HOUR_MS = 3_600_000


class DutyFactsSource(Protocol):
    """Where the duties' findings come from (`hazmon.duties`: missing commitments,
    overdue 包保 duties, missed roll calls, ...). The service is given one; without one
    there are none."""

    def facts(self, now_ms: int) -> Sequence[DutyFact]: ...


class NoDutyFacts:
    def facts(self, now_ms: int) -> Sequence[DutyFact]:
        return ()


@dataclass(frozen=True, slots=True)
class Raise:
    """One alarm occurrence's first activation, for the repeated-alarms rule."""

    enterprise: str
    hazard_source: str
    tag: str
    at_ms: int


def _no_gateway(enterprise: str) -> GatewayFact | None:
    return None


def _no_availability(enterprise: str, hazard_source: str) -> float | None:
    return None


@dataclass(frozen=True, slots=True)
class Observations:
    open_alarms: Sequence[Alarm] = ()
    raises: Sequence[Raise] = ()  # within the policy's longest repeated-alarms window
    gateway: Callable[[str], GatewayFact | None] = _no_gateway
    availability: Callable[[str, str], float | None] = _no_availability
    duty_facts: Sequence[DutyFact] = ()
    # enterprise → commitment missing or late today (a duties source may say so directly)
    commitment_missing: Mapping[str, bool] = field(default_factory=dict)


def raises_window_ms(policy: WarningPolicy) -> int:
    """How far back the raises must reach for the policy's repeated-alarms rules."""
    hours = [r.window_hours for r in policy.rules if isinstance(r, RepeatedAlarms)]
    return max(hours, default=0) * HOUR_MS


def availability_window_ms(policy: WarningPolicy) -> int | None:
    """The window of the policy's low-availability rule (the longest of them), or None."""
    hours = [r.window_hours for r in policy.rules if isinstance(r, LowAvailability)]
    return max(hours) * HOUR_MS if hours else None


def gather(registry: Registry, obs: Observations) -> list[EnterpriseFacts]:
    """One `EnterpriseFacts` per registry enterprise, in the registry's order."""
    alarms: dict[tuple[str, str], list[AlarmFact]] = defaultdict(list)
    for a in obs.open_alarms:
        sensor = registry.sensor(a.enterprise, a.tag) if a.tag is not None else None
        fact = alarm_fact(a, sensor.sensor.kind.value if sensor is not None else None)
        if fact is not None:
            alarms[(a.enterprise, a.hazard_source)].append(fact)
    raised: dict[tuple[str, str], dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for r in obs.raises:
        raised[(r.enterprise, r.hazard_source)][r.tag].append(r.at_ms)
    duties: dict[tuple[str, str | None], list[DutyFact]] = defaultdict(list)
    for d in obs.duty_facts:
        duties[(d.enterprise, d.hazard_source)].append(d)

    out: list[EnterpriseFacts] = []
    for code, ent in registry.enterprises.items():
        sources: list[HazardSourceFacts] = []
        known: set[str] = set()
        for hs in ent.hazard_sources:
            known.add(hs.code)
            info = registry.hazard_sources.get((code, hs.code))
            tier = info.grading.tier if info is not None else hs.tier
            sources.append(HazardSourceFacts(
                code=hs.code, name=hs.name, tier=tier,
                alarms=tuple(alarms.get((code, hs.code), ())),
                alarm_raises={t: tuple(v) for t, v in raised.get((code, hs.code), {}).items()},
                availability=obs.availability(code, hs.code),
                duty_facts=tuple(duties.get((code, hs.code), ())),
            ))
        wide = [f for (e, src), fs in alarms.items() if e == code and src not in known
                for f in fs]
        # a duty fact about a source the registry no longer lists concerns the enterprise
        wide_duties = [d for (e, src), ds in duties.items()
                       if e == code and (src is None or src not in known) for d in ds]
        out.append(EnterpriseFacts(
            code=code, name=ent.name, region=ent.region, hazard_sources=tuple(sources),
            alarms=tuple(wide), gateway=obs.gateway(code),
            commitment_missing=obs.commitment_missing.get(code, False),
            simulated=ent.simulated, duty_facts=tuple(wide_duties),
        ))
    return out
