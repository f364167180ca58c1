"""GB/T 50493-2019 default alarm setpoints (hazmon.domain.gases)."""

import pytest

from hazmon.domain import chemicals
from hazmon.domain.gases import (
    GASES,
    MOLAR_VOLUME_L_PER_MOL,
    Gas,
    GasHazard,
    OelBasis,
    alarm_hazard,
    default_setpoints,
    find_gas,
    idlh_setpoints,
    mg_m3_to_ppm,
    ppm_to_mg_m3,
)


def test_find_gas_by_key_alias_and_case() -> None:
    assert find_gas("chlorine") is GASES["chlorine"]
    assert find_gas("Cl2") is GASES["chlorine"]
    assert find_gas("氯气") is GASES["chlorine"]
    assert find_gas("Hydrogen Sulfide") is GASES["hydrogen_sulphide"]
    assert find_gas("natural gas") is GASES["methane"]
    assert find_gas("7664-41-7") is GASES["ammonia"]
    assert find_gas("argon") is None


def test_gas_keys_match_chemical_keys() -> None:
    # A registry line {kind: gas_toxic, gas: chlorine} names both tables the same way.
    for key in GASES:
        assert key in chemicals.CHEMICALS, key


def test_hazards() -> None:
    assert GASES["methane"].hazards == {GasHazard.COMBUSTIBLE}
    assert GASES["chlorine"].hazards == {GasHazard.TOXIC}
    assert GASES["ammonia"].hazards == {GasHazard.COMBUSTIBLE, GasHazard.TOXIC}


def test_combustible_in_pct_lel() -> None:
    sp = default_setpoints(GASES["methane"], "%LEL")
    assert (sp.first, sp.second, sp.unit, sp.hazard) == (25, 50, "%LEL", GasHazard.COMBUSTIBLE)
    assert sp.basis == "25 %LEL / 50 %LEL"
    assert default_setpoints(GASES["methane"], "% lel") == sp


def test_combustible_open_path_and_vol() -> None:
    sp = default_setpoints(GASES["propane"], "LEL·m")
    assert (sp.first, sp.second, sp.unit) == (1, 2, "LEL·m")
    # Methane LEL 5 %VOL: 25 % of it is 1.25 %VOL, 50 % is 2.5 %VOL.
    sp = default_setpoints(GASES["methane"], "%VOL")
    assert (sp.first, sp.second) == pytest.approx((1.25, 2.5))
    # ... and in ppm: 12 500 and 25 000.
    sp = default_setpoints(GASES["methane"], "ppm")
    assert (sp.first, sp.second) == pytest.approx((12_500, 25_000))
    assert sp.hazard is GasHazard.COMBUSTIBLE


def test_toxic_in_ppm_hand_conversion() -> None:
    """Chlorine MAC 1 mg/m³, M 70.90 g/mol, 24.04 L/mol at 20 °C / 101.3 kPa.

    1 mg/m³ × 24.04 / 70.90 = 0.33907 ppm; second level twice that, 0.67814 ppm.
    """
    sp = default_setpoints(GASES["chlorine"], "ppm")
    assert sp.hazard is GasHazard.TOXIC
    assert sp.unit == "ppm"
    assert sp.first == pytest.approx(0.33907, rel=1e-4)
    assert sp.second == pytest.approx(0.67814, rel=1e-4)
    assert "MAC 1 mg/m³" in sp.basis


def test_toxic_in_mg_m3() -> None:
    sp = default_setpoints(GASES["chlorine"], "mg/m³")
    assert (sp.first, sp.second, sp.unit) == (1, 2, "mg/m3")
    # Ammonia has no MAC: PC-STEL 30 is the default basis.
    sp = default_setpoints(GASES["ammonia"], "mg/m3")
    assert (sp.first, sp.second) == (30, 60)
    assert "PC-STEL" in sp.basis


def test_oel_basis_override() -> None:
    sp = default_setpoints(GASES["ammonia"], "mg/m3", OelBasis.PC_TWA)
    assert (sp.first, sp.second) == (20, 40)
    with pytest.raises(ValueError, match="no MAC"):
        default_setpoints(GASES["ammonia"], "mg/m3", OelBasis.MAC)


def test_conversion_arithmetic() -> None:
    assert MOLAR_VOLUME_L_PER_MOL == 24.04
    # H2S MAC 10 mg/m³, M 34.08: 10 × 24.04 / 34.08 = 7.0540 ppm.
    assert mg_m3_to_ppm(10, 34.08) == pytest.approx(7.0540, rel=1e-4)
    assert ppm_to_mg_m3(mg_m3_to_ppm(10, 34.08), 34.08) == pytest.approx(10)


def test_ammonia_alarms_as_toxic_in_ppm() -> None:
    """Ammonia: PC-STEL 30 mg/m³ × 24.04 / 17.03 = 42.35 ppm, far below 25 % of LEL
    15 %VOL = 37 500 ppm: toxic. A %LEL detector still alarms on flammability."""
    ammonia = GASES["ammonia"]
    assert alarm_hazard(ammonia, "ppm") is GasHazard.TOXIC
    sp = default_setpoints(ammonia, "ppm")
    assert sp.first == pytest.approx(42.35, rel=1e-3)
    assert sp.second == pytest.approx(84.70, rel=1e-3)
    assert alarm_hazard(ammonia, "%LEL") is GasHazard.COMBUSTIBLE
    assert default_setpoints(ammonia, "%LEL").first == 25


def test_hydrogen_sulphide_alarms_as_toxic_in_ppm() -> None:
    """H2S: MAC 10 mg/m³ = 7.05 ppm vs 25 % of LEL 4.3 %VOL = 10 750 ppm: toxic."""
    h2s = GASES["hydrogen_sulphide"]
    assert alarm_hazard(h2s, "ppm") is GasHazard.TOXIC
    assert alarm_hazard(h2s, "mg/m3") is GasHazard.TOXIC
    assert default_setpoints(h2s, "ppm").first == pytest.approx(7.054, rel=1e-3)
    assert alarm_hazard(h2s, "%LEL") is GasHazard.COMBUSTIBLE


def test_combustible_only_gas_in_ppm_stays_combustible() -> None:
    assert alarm_hazard(GASES["hydrogen"], "ppm") is GasHazard.COMBUSTIBLE


@pytest.mark.parametrize("unit", ["%LEL", "LEL·m", "%VOL"])
def test_impossible_unit_raises(unit: str) -> None:
    with pytest.raises(ValueError, match="chlorine is not combustible"):
        default_setpoints(GASES["chlorine"], unit)


def test_unknown_unit_raises() -> None:
    with pytest.raises(ValueError, match="unknown detector unit"):
        default_setpoints(GASES["methane"], "furlongs")


def test_idlh_fallback() -> None:
    # Chlorine IDLH 88 mg/m³: 5 % = 4.4, 10 % = 8.8 mg/m³.
    sp = idlh_setpoints(GASES["chlorine"], "mg/m3")
    assert (sp.first, sp.second) == pytest.approx((4.4, 8.8))
    with pytest.raises(ValueError, match="no IDLH"):
        idlh_setpoints(GASES["hydrogen_fluoride"], "ppm")


def test_gas_table_is_immutable_and_validated() -> None:
    with pytest.raises(TypeError):
        GASES["chlorine"].oel_mg_m3[OelBasis.MAC] = 5  # type: ignore[index]
    with pytest.raises(ValueError, match="LEL"):
        Gas("x", "x", None, 10.0, 150.0, {})
