"""GB 18218-2018 §4.2-§4.3 identification and grading (hazmon.domain.tier).

No worked example with numbers was found in the standard or its commentary available to
us, so the examples below are hand-computed from the formula R = α·Σβ·q/Q and the tables;
each docstring shows the arithmetic.
"""

import pytest

from hazmon.domain.chemicals import CHEMICALS
from hazmon.domain.tier import Grading, alpha, grade, tier_for_r


@pytest.mark.parametrize(
    ("people", "expected"),
    [(0, 0.5), (1, 1.0), (29, 1.0), (30, 1.2), (49, 1.2), (50, 1.5), (99, 1.5),
     (100, 2.0), (10_000, 2.0)],
)
def test_alpha_boundaries(people: int, expected: float) -> None:
    assert alpha(people) == expected


def test_alpha_rejects_negative() -> None:
    with pytest.raises(ValueError, match="population_exposed"):
        alpha(-1)


@pytest.mark.parametrize(
    ("r", "expected"),
    [(0.0, 4), (9.999, 4), (10.0, 3), (49.999, 3), (50.0, 2), (99.999, 2), (100.0, 1),
     (1e6, 1)],
)
def test_tier_boundaries(r: float, expected: int) -> None:
    assert tier_for_r(r) == expected


def test_tier_rejects_negative_or_nan() -> None:
    with pytest.raises(ValueError, match="R must be"):
        tier_for_r(-1)
    with pytest.raises(ValueError, match="R must be"):
        tier_for_r(float("nan"))


def test_exact_boundaries_through_grade() -> None:
    """Chlorine (Q 5 t, β 4), 100+ people (α 2): R = 2·4·q/5 = 1.6·q.

    q = 6.25 t → R = 10 (tier 3); 31.25 t → R = 50 (tier 2); 62.5 t → R = 100 (tier 1).
    """
    chlorine = CHEMICALS["chlorine"]
    assert grade([(chlorine, 6.25)], 100) == Grading(1.25, 10.0, True, 3)
    assert grade([(chlorine, 31.25)], 100) == Grading(6.25, 50.0, True, 2)
    assert grade([(chlorine, 62.5)], 100) == Grading(12.5, 100.0, True, 1)


def test_single_chemical_at_exactly_q_is_major() -> None:
    """Ammonia q = Q = 10 t: Σq/Q = 1 → major; α 1 (10 people), β 2 → R = 2, tier 4."""
    assert grade([(CHEMICALS["ammonia"], 10)], 10) == Grading(1.0, 2.0, True, 4)


def test_below_one_is_not_major() -> None:
    """Methanol 100 t (Q 500) + toluene 200 t (Q 500): Σq/Q = 0.2 + 0.4 = 0.6 < 1.

    Not a major hazard source, no tier; R is still reported: α 2 · (1·0.2 + 1·0.4) = 1.2.
    """
    g = grade([(CHEMICALS["methanol"], 100), (CHEMICALS["toluene"], 200)], 150)
    assert g == Grading(0.6, 1.2, False, None)


def test_floating_point_sum_at_boundary() -> None:
    """q/Q of 0.1 + 0.2 + 0.7 is exactly 1 on paper: still major despite binary rounding."""
    m = CHEMICALS["methanol"]
    g = grade([(m, 50), (m, 100), (m, 350)], 0)
    assert g.ratio_sum == 1.0
    assert g.is_major


def test_example_chlorine_storage() -> None:
    """Hand-computed: two 20 t liquid-chlorine tanks, 120 people within 500 m.

    q/Q = 40/5 = 8; R = α·β·q/Q = 2.0 · 4 · 8 = 64 → tier 2.
    """
    g = grade([(CHEMICALS["chlorine"], 20), (CHEMICALS["chlorine"], 20)], 120)
    assert g == Grading(8.0, 64.0, True, 2)


def test_example_solvent_tank_farm() -> None:
    """Hand-computed: methanol 2000 t + toluene 1000 t, 40 people.

    Σq/Q = 2000/500 + 1000/500 = 6; R = 1.2 · (1·4 + 1·2) = 7.2 → tier 4.
    """
    g = grade([(CHEMICALS["methanol"], 2000), (CHEMICALS["toluene"], 1000)], 40)
    assert g.ratio_sum == 6.0
    assert g.r == pytest.approx(7.2)
    assert (g.is_major, g.tier) == (True, 4)


def test_example_lpg_and_ammonia_nobody_around() -> None:
    """Hand-computed: LPG 500 t (Q 50, β 1.5) + ammonia 100 t (Q 10, β 2), 0 people.

    Σq/Q = 10 + 10 = 20; R = 0.5 · (1.5·10 + 2·10) = 17.5 → tier 3.
    """
    g = grade([(CHEMICALS["liquefied_petroleum_gas"], 500), (CHEMICALS["ammonia"], 100)], 0)
    assert g == Grading(20.0, 17.5, True, 3)


def test_example_tier_1_toxic() -> None:
    """Hand-computed: phosgene 3 t (Q 0.3, β 20), 60 people (α 1.5).

    q/Q = 10; R = 1.5 · 20 · 10 = 300 → tier 1.
    """
    g = grade([(CHEMICALS["phosgene"], 3)], 60)
    assert g.ratio_sum == pytest.approx(10.0)
    assert g.r == pytest.approx(300.0)
    assert g.tier == 1


def test_empty_and_invalid_quantities() -> None:
    assert grade([], 5) == Grading(0.0, 0.0, False, None)
    with pytest.raises(ValueError, match="quantity"):
        grade([(CHEMICALS["chlorine"], -1)], 5)
