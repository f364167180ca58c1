"""The `duties` settings: strict, the province's file by default the example in deploy/."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from hazmon.duties.config import DutiesConfigError
from hazmon.duties.settings import DEFAULT_CONFIG, DutiesSettings
from hazmon.service.settings import Settings

ROOT = Path(__file__).parents[2]


def test_the_default_file_is_the_deploy_example() -> None:
    s = Settings().duties
    assert (s.enabled, s.config, s.check_s) == (True, DEFAULT_CONFIG, 30.0)
    example = DutiesSettings(config=ROOT / DEFAULT_CONFIG).load()
    assert example.commitment.window_start is not None  # the example sets 09:00


def test_unknown_keys_and_bad_values_are_refused() -> None:
    with pytest.raises(ValidationError):
        DutiesSettings.model_validate({"enable": True})
    with pytest.raises(ValidationError):
        DutiesSettings.model_validate({"check_s": 0})


def test_a_named_file_must_exist_and_be_valid(tmp_path: Path) -> None:
    with pytest.raises(DutiesConfigError):
        DutiesSettings(config=tmp_path / "missing.yaml").load()
    bad = tmp_path / "duties.yaml"
    bad.write_text("commitment:\n  deadlin: '10:00'\n", encoding="utf-8")
    with pytest.raises(DutiesConfigError, match="deadlin"):
        DutiesSettings(config=bad).load()


def test_the_default_file_missing_falls_back_to_the_built_in_defaults(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no deploy/ here
    assert DutiesSettings().load().commitment.window_start is None


def test_check_duties_reads_the_example_and_names_each_problem(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from hazmon.service.cli import main

    assert main(["check-duties", str(ROOT / DEFAULT_CONFIG)]) == 0
    assert "commitment by 10:00 Asia/Shanghai (filing from 09:00)" in capsys.readouterr().out
    bad = tmp_path / "duties.yaml"
    bad.write_text("roll_call:\n  answer_deadline_s: 1\n", encoding="utf-8")
    assert main(["check-duties", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "answer_deadline_s" in err
    assert "line 2" in err
