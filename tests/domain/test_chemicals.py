"""Table lookups of GB 18218-2018 (hazmon.domain.chemicals)."""

import dataclasses

import pytest

from hazmon.domain.chemicals import (
    CHEMICALS,
    HAZARD_CLASSES,
    Chemical,
    chemical_for_class,
    find_chemical,
)


def test_lookup_by_key_alias_and_chinese_name() -> None:
    chlorine = CHEMICALS["chlorine"]
    assert find_chemical("chlorine") is chlorine
    assert find_chemical("Chlorine") is chlorine
    assert find_chemical("液氯") is chlorine
    assert find_chemical("氯") is chlorine
    assert (chlorine.critical_tonnes, chlorine.beta, chlorine.cas) == (5, 4, "7782-50-5")


def test_spaces_underscores_hyphens_are_equivalent() -> None:
    lpg = CHEMICALS["liquefied_petroleum_gas"]
    assert find_chemical("liquefied petroleum gas") is lpg
    assert find_chemical("Liquefied-Petroleum-Gas") is lpg
    assert find_chemical("  LPG ") is lpg
    assert find_chemical("hydrogen sulfide") is CHEMICALS["hydrogen_sulphide"]


def test_cas_wins_over_name() -> None:
    # A registry line whose name is a local trade name but whose CAS is right.
    assert find_chemical("液氨储罐物料", cas="7664-41-7") is CHEMICALS["ammonia"]
    # CAS given but unknown: fall back to the name.
    assert find_chemical("methanol", cas="0000-00-0") is CHEMICALS["methanol"]
    # A name that is a CAS number.
    assert find_chemical("71-43-2") is CHEMICALS["benzene"]


def test_natural_gas_and_methane_share_row_49() -> None:
    assert find_chemical("natural gas") is CHEMICALS["natural_gas"]
    assert find_chemical("天然气") is CHEMICALS["natural_gas"]
    assert find_chemical("x", cas="74-82-8") is CHEMICALS["methane"]
    assert CHEMICALS["natural_gas"].critical_tonnes == CHEMICALS["methane"].critical_tonnes == 50


def test_unknown_name_is_none() -> None:
    assert find_chemical("unobtainium") is None


@pytest.mark.parametrize(
    ("key", "q", "beta"),
    [
        # docs/STANDARDS.md §2.4 (Q) and §2.3 (β), re-checked against the Table 1
        # transcription.
        ("ammonia", 10, 2),
        ("chlorine", 5, 4),
        ("hydrogen_sulphide", 5, 5),
        ("formaldehyde", 5, 2),
        ("sulphur_dioxide", 20, 2),
        ("hydrogen_chloride", 20, 3),
        ("coal_gas", 20, 2),
        ("carbon_monoxide", 20, 2),
        ("ethylene_oxide", 10, 2),
        ("methyl_bromide", 10, 3),
        ("hydrogen_fluoride", 1, 5),
        ("hydrogen_cyanide", 1, 10),
        ("phosphine", 1, 20),
        ("phosgene", 0.3, 20),
        ("methyl_isocyanate", 0.75, 20),
        ("nitrogen_dioxide", 1, 10),
        # the rest of the docs/STANDARDS.md §2.4 list, confirmed by the transcription.
        ("liquefied_petroleum_gas", 50, 1.5),
        ("methane", 50, 1.5),
        ("ethylene", 50, 1.5),
        ("benzene", 50, 1),
        ("hydrogen", 5, 1.5),
        ("acetylene", 1, 1.5),
        ("methanol", 500, 1),
        ("toluene", 500, 1),
        ("gasoline", 200, 1),
        ("oxygen", 200, 1),
        # Others common in tank farms.
        ("propane", 50, 1.5),
        ("propylene", 10, 1.5),
        ("butadiene", 5, 1.5),
        ("vinyl_chloride", 50, 1.5),
        ("acrylonitrile", 50, 1),
        ("styrene", 500, 1),
        ("ethanol", 500, 1),
        ("acetone", 500, 1),
        ("nitric_acid", 100, 1),
    ],
)
def test_table_values(key: str, q: float, beta: float) -> None:
    chem = CHEMICALS[key]
    assert chem.critical_tonnes == q
    assert chem.beta == beta
    assert chem.source


def test_every_entry_is_well_formed() -> None:
    for key, chem in CHEMICALS.items():
        assert chem.key == key == key.lower()
        assert find_chemical(key) is chem
        if chem.cas is not None:
            assert find_chemical("?", cas=chem.cas) is chem


def test_unconfirmed_entries_are_flagged() -> None:
    assert not CHEMICALS["gasoline"].verified
    assert not CHEMICALS["formaldehyde"].verified
    assert CHEMICALS["chlorine"].verified


def test_hazard_classes_tables_2_and_4() -> None:
    assert (HAZARD_CLASSES["J1"].critical_tonnes, HAZARD_CLASSES["J1"].beta) == (5, 4)
    assert (HAZARD_CLASSES["J3"].critical_tonnes, HAZARD_CLASSES["J3"].beta) == (50, 2)
    assert (HAZARD_CLASSES["W2"].critical_tonnes, HAZARD_CLASSES["W2"].beta) == (10, 1.5)
    assert (HAZARD_CLASSES["W5.1"].critical_tonnes, HAZARD_CLASSES["W5.1"].beta) == (10, 1.5)
    assert (HAZARD_CLASSES["W5.4"].critical_tonnes, HAZARD_CLASSES["W5.4"].beta) == (5000, 1)
    chem = chemical_for_class("isobutylene", "W2", name_cn="异丁烯")
    assert (chem.critical_tonnes, chem.beta, chem.name_cn) == (10, 1.5, "异丁烯")
    with pytest.raises(ValueError, match="unknown hazard class"):
        chemical_for_class("x", "W99")


def test_chemical_rejects_non_positive_q() -> None:
    with pytest.raises(ValueError, match="critical quantity"):
        Chemical(key="x", name_cn="x", cas=None, critical_tonnes=0, beta=1)
    # beta override for a liquid handled above its boiling point (W5.1).
    hot = dataclasses.replace(CHEMICALS["benzene"], beta=1.5)
    assert hot.beta == 1.5
    assert CHEMICALS["benzene"].beta == 1
