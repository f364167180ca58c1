from __future__ import annotations

import random

import pytest
import yaml

from hazmon.domain.registry import parse_registry
from hazmon.simulators import uscc
from hazmon.simulators.registry_gen import REGIONS, GeneratedRegistry, generate_registry


def test_credit_code_check_characters() -> None:
    # A published example (python-stdnum's USCC doctest) and its GB 11714 organisation code.
    assert uscc.is_valid("91110000600037341L")
    assert uscc.org_check_char("60003734") == "1"
    assert not uscc.is_valid("91110000600037341M")
    assert not uscc.is_valid("9111000060003734IL")  # I is not a code character
    rng = random.Random(3)
    for _ in range(200):
        code = uscc.make_code(rng, "320921")
        assert uscc.is_valid(code)
        assert code.startswith("91320921")
        assert uscc.org_check_char(code[8:16]) == code[16]


def test_parse_registry_accepts_it(registry: GeneratedRegistry) -> None:
    reg = parse_registry(registry.yaml_text)
    assert reg.warnings == ()
    assert set(reg.enterprises) == registry.simulated
    assert all(uscc.is_valid(code) for code in registry.simulated)
    assert reg.regions <= set(REGIONS)
    assert len(reg.regions) == 3
    tiers = {key: info.grading.tier for key, info in reg.hazard_sources.items()}
    assert tiers == registry.tiers  # GB 18218 grading by the service agrees
    assert set(tiers.values()) == {1, 2, 3, 4}
    kinds = {info.hazard_source.kind.value for info in reg.hazard_sources.values()}
    assert kinds == {"tank_farm", "production_unit", "warehouse"}
    sensor_kinds = {i.sensor.kind.value for i in reg.sensors.values()}
    assert sensor_kinds == {"level", "pressure", "temperature", "flow", "gas_combustible",
                            "gas_toxic", "oxygen", "humidity"}
    for ent in reg.enterprises.values():
        assert {c.role for c in ent.contacts} == {"principal", "technical", "operational"}
    for info in reg.sensors.values():
        assert info.sensor.tag.startswith(info.hazard_source.code + ".")
        assert info.limits is not None
    assert "MHS-01.T101.LT01" in {tag for _, tag in reg.sensors}


@pytest.mark.parametrize("n", [1, 2, 9])
def test_every_tier_and_kind_at_any_size(n: int) -> None:
    gen = generate_registry(n, seed=n)
    reg = parse_registry(gen.yaml_text)
    assert {i.grading.tier for i in reg.hazard_sources.values()} == {1, 2, 3, 4}
    assert len({i.hazard_source.kind for i in reg.hazard_sources.values()}) == 3


def test_gas_default_limits_variant_loads() -> None:
    gen = generate_registry(2, seed=1, gas_default_limits=True)
    reg = parse_registry(gen.yaml_text)
    gas = [i for i in reg.sensors.values() if i.sensor.gas is not None]
    assert gas
    assert all(i.sensor.limits is None and i.limits is not None for i in gas)


def test_deterministic_under_seed() -> None:
    a, b = generate_registry(4, seed=11), generate_registry(4, seed=11)
    assert a.yaml_text == b.yaml_text
    assert a.simulated == b.simulated
    assert generate_registry(4, seed=12).yaml_text != a.yaml_text
    assert yaml.safe_load(a.yaml_text) == a.data


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="at least one"):
        generate_registry(0)
    with pytest.raises(ValueError, match="unknown regions"):
        generate_registry(1, regions=["999999"])
