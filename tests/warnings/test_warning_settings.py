"""The `warnings:` settings section: strict, with the documented defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from hazmon.service.settings import Settings
from hazmon.warnings.settings import WarningSettings


def test_defaults() -> None:
    s = WarningSettings()
    assert s.enabled is True
    assert s.regions_file is None
    assert s.policy_file is None
    assert s.interval_s == 30.0
    assert s.push.people == []
    assert s.push.groups == []


def test_section_in_the_service_settings(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path, warnings={
        "regions_file": "deploy/regions.example.yaml", "interval_s": 5,
        "push": {"people": ["sms"], "groups": ["wecom"]}})
    assert s.warnings.regions_file == Path("deploy/regions.example.yaml")
    assert s.warnings.push.groups == ["wecom"]


@pytest.mark.parametrize(("bad", "where"), [
    ({"enable": True}, "enable"),
    ({"interval_s": 0}, "interval_s"),
    ({"push": {"people": ["a"], "groups": ["a"]}}, "push"),
    ({"push": {"sms": ["a"]}}, "push.sms"),
])
def test_strict(bad: dict[str, object], where: str) -> None:
    with pytest.raises(ValidationError) as info:
        WarningSettings.model_validate(bad)
    assert ".".join(str(p) for p in info.value.errors()[0]["loc"]) == where
