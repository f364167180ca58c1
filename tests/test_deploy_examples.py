"""The example files in deploy/ that the README tells a site to start from are valid."""

from __future__ import annotations

from pathlib import Path

import pytest

from hazmon.domain.registry import load_registry
from hazmon.service.cli import main

DEPLOY = Path(__file__).parents[1] / "deploy"
REGISTRY_EXAMPLE = DEPLOY / "registry.example.yaml"


def test_check_registry_accepts_the_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-registry", str(REGISTRY_EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "1 enterprises, 2 hazard sources, 10 sensors" in out
    assert "warning" not in out  # the declared tier agrees with the grading
    assert "MHS-01 罐区一: tier 3" in out
    assert "MHS-02 合成氨装置: tier 2" in out


def test_example_is_a_real_plant_not_a_simulated_one() -> None:
    registry = load_registry(REGISTRY_EXAMPLE)
    assert not any(e.simulated for e in registry.enterprises.values())
    # gas detectors left without limits get the GB/T 50493 defaults at load
    gd = registry.sensor("91320921MA1XXXXX0Q", "MHS-01.GD01")
    assert gd is not None
    assert gd.limits is not None
    assert gd.limits_basis.startswith("GB 50493-2019")
