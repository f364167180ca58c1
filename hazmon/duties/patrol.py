"""Online patrol (在线巡查): the day's sample of enterprises per county, and the findings.

The sample is weighted toward enterprises with tier-1/2 sources and recent warnings
(weighted sampling without replacement, Efraimidis–Spirakis: key u^(1/w), the k largest),
drawn from a seed so the same inputs and seed give the same sample."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from hazmon.domain.registry import Registry
from hazmon.duties.config import DutiesConfig


@dataclass(frozen=True, slots=True)
class Candidate:
    enterprise: str
    county: str
    tier: int | None  # the most severe tier among its hazard sources (1 is the gravest)
    recent_warnings: int = 0


def candidates(registry: Registry, recent_warnings: Mapping[str, int]) -> list[Candidate]:
    """One candidate per enterprise of the registry, in its county (the region code)."""
    tiers: dict[str, list[int]] = {}
    for (ent, _), info in registry.hazard_sources.items():
        if info.grading.tier is not None:
            tiers.setdefault(ent, []).append(info.grading.tier)
    return [Candidate(code, e.region, min(tiers[code]) if code in tiers else None,
                      recent_warnings.get(code, 0))
            for code, e in sorted(registry.enterprises.items())]


def weight(c: Candidate, config: DutiesConfig) -> float:
    p = config.patrol
    base = p.untiered_weight if c.tier is None else p.tier_weight.get(c.tier, p.untiered_weight)
    return base + p.per_recent_warning * max(c.recent_warnings, 0)


def daily_sample(
    cands: Iterable[Candidate], day: date, seed: int, config: DutiesConfig
) -> dict[str, list[str]]:
    """County → the enterprises to patrol that day, sorted by code."""
    by_county: dict[str, list[Candidate]] = {}
    for c in cands:
        by_county.setdefault(c.county, []).append(c)
    out: dict[str, list[str]] = {}
    for county, cs in sorted(by_county.items()):
        rng = random.Random(f"{seed}:{county}:{day.isoformat()}")
        keyed = [(rng.random() ** (1.0 / weight(c, config)), c.enterprise)
                 for c in sorted(cs, key=lambda c: c.enterprise)]
        keyed.sort(reverse=True)
        out[county] = sorted(e for _, e in keyed[: config.patrol.sample_size])
    return out


@dataclass(frozen=True, slots=True)
class PatrolDraw:
    """A county's sample of a day, as kept (the seed lets it be drawn again)."""

    county: str
    day: date
    seed: str
    enterprises: tuple[str, ...]
    drawn_at_ms: int


class PatrolCheck(StrEnum):
    DATA_ONLINE = "data_online"  # 数据在线
    COMMITMENT_FILED = "commitment_filed"  # 承诺已填报
    WARNINGS_HANDLED = "warnings_handled"  # 预警已处置
    ROLL_CALL_ANSWERED = "roll_call_answered"  # 点名已应答


@dataclass(frozen=True, slots=True)
class PatrolRecord:
    enterprise: str
    day: date
    official: str
    at_ms: int
    findings: Mapping[PatrolCheck, bool]  # True: the check passed
    note: str = ""

    def __post_init__(self) -> None:
        missing = set(PatrolCheck) - set(self.findings)
        if missing:
            raise ValueError(f"patrol record lacks findings: {sorted(missing)}")

    @property
    def failed(self) -> tuple[PatrolCheck, ...]:
        return tuple(c for c in PatrolCheck if not self.findings[c])


def coverage(
    sample: Mapping[str, list[str]], records: Iterable[PatrolRecord], day: date
) -> dict[str, float]:
    """County → share of its sampled enterprises patrolled that day."""
    done = {r.enterprise for r in records if r.day == day}
    return {county: (sum(e in done for e in ents) / len(ents) if ents else 1.0)
            for county, ents in sample.items()}
