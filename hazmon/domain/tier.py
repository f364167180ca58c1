"""Identification and grading of a major hazard source, GB 18218-2018 §4.2-§4.3.

- Identification (§4.2): a unit is a major hazard source when Σ qᵢ/Qᵢ ≥ 1, qᵢ being the
  maximum quantity of chemical i that the unit can hold (tonnes) and Qᵢ its critical
  quantity. With one chemical this is q ≥ Q.
- Grading (§4.3): R = α · Σ βᵢ · qᵢ/Qᵢ, with α from the people exposed within 500 m
  outside the plant boundary (Table 5) and the tier from R (Table 6).

Tables 5 and 6 were confirmed from a transcription of the standard (Tables 5/6 on p. 11)
and from Order No. 40 (2011) Annex 1, whose α table and R bands the standard kept
(see the sources in :mod:`hazmon.domain.chemicals`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from hazmon.domain.chemicals import Chemical

# Table 6: the lowest R of tiers 1, 2 and 3; anything below the last is tier 4.
_TIER_FLOORS: tuple[tuple[float, int], ...] = ((100.0, 1), (50.0, 2), (10.0, 3))

# Σq/Q and R are rounded to this many decimals before being compared with 1, 10, 50 and
# 100: binary floating point turns an exact 50 into 49.99999999999999 often enough
# (e.g. 0.1 + 0.2 + 0.7 style sums) to move a unit across a tier boundary.
_DECIMALS = 9


@dataclass(frozen=True, slots=True)
class Grading:
    ratio_sum: float  # Σ q/Q
    r: float  # R = α·Σ β·q/Q
    is_major: bool  # ratio_sum >= 1
    tier: int | None  # 1..4 when is_major, else None


def alpha(population_exposed: int) -> float:
    """α of GB 18218-2018 Table 5 from the people within 500 m outside the boundary."""
    if population_exposed < 0:
        raise ValueError(f"population_exposed must be >= 0, got {population_exposed}")
    if population_exposed >= 100:
        return 2.0
    if population_exposed >= 50:
        return 1.5
    if population_exposed >= 30:
        return 1.2
    if population_exposed >= 1:
        return 1.0
    return 0.5


def tier_for_r(r: float) -> int:
    """Tier of GB 18218-2018 Table 6: R ≥ 100 → 1, 50 ≤ R < 100 → 2, 10 ≤ R < 50 → 3, else 4."""
    if math.isnan(r) or r < 0:
        raise ValueError(f"R must be a number >= 0, got {r}")
    for floor, tier in _TIER_FLOORS:
        if r >= floor:
            return tier
    return 4


def grade(items: Sequence[tuple[Chemical, float]], population_exposed: int) -> Grading:
    """Identify and grade one unit from its (chemical, q in tonnes) items.

    The same chemical may appear more than once (several tanks): the ratios add up, which
    is the same as summing the tonnes first.
    """
    a = alpha(population_exposed)
    ratios: list[float] = []
    weighted: list[float] = []
    for chem, tonnes in items:
        if math.isnan(tonnes) or tonnes < 0:
            raise ValueError(f"{chem.key}: quantity must be >= 0 t, got {tonnes}")
        ratio = tonnes / chem.critical_tonnes
        ratios.append(ratio)
        weighted.append(chem.beta * ratio)
    ratio_sum = round(math.fsum(ratios), _DECIMALS)
    r = round(a * math.fsum(weighted), _DECIMALS)
    is_major = ratio_sum >= 1.0
    return Grading(ratio_sum=ratio_sum, r=r, is_major=is_major,
                   tier=tier_for_r(r) if is_major else None)
