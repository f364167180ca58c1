"""Rule configuration: strict models, kind defaults, overlays, rules file errors with paths."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from hazmon.domain.registry import RegistryError
from hazmon.domain.rulespec import (
    KIND_DEFAULTS,
    RulesFile,
    SensorRules,
    ThresholdRule,
    VotingRule,
    resolve,
)
from hazmon.rules import RulesConfigError, RulesEngine, load_rules_file, parse_rules_file
from tests.rules.support import ENT, FLOW, LEVEL, PRESSURE, feed, kinds, make_registry, sensor


@pytest.mark.parametrize(
    ("kind", "deadband_pct", "delay_s"),
    [("flow", 5, 15), ("level", 5, 60), ("pressure", 2, 15), ("temperature", 1, 60)],
)
def test_isa_defaults_per_kind(kind: str, deadband_pct: float, delay_s: float) -> None:
    th = KIND_DEFAULTS[kind].threshold
    assert (th.deadband_pct, th.on_delay_s, th.off_delay_s) == (deadband_pct, delay_s, delay_s)


def test_gas_detectors_alarm_at_once() -> None:
    for kind in ("gas_combustible", "gas_toxic"):
        eff = KIND_DEFAULTS[kind]
        assert eff.threshold.on_delay_s == 0
        assert not eff.frozen.enabled


def test_overlay_keeps_unset_fields() -> None:
    registry_rules = SensorRules(threshold=ThresholdRule(on_delay_s=30))
    file_rules = SensorRules.model_validate({"threshold": {"off_delay_s": 5}})
    eff = resolve("level", registry_rules, file_rules)
    assert (eff.threshold.deadband_pct, eff.threshold.on_delay_s, eff.threshold.off_delay_s) == (
        5, 30, 5
    )
    assert eff.trend == KIND_DEFAULTS["level"].trend
    assert resolve("level", None) == KIND_DEFAULTS["level"]


def test_models_are_strict_and_frozen() -> None:
    with pytest.raises(ValidationError):
        SensorRules.model_validate({"threshold": {"ondelay": 3}})
    with pytest.raises(ValidationError):
        ThresholdRule(on_delay_s=-1)
    rule = ThresholdRule()
    with pytest.raises(ValidationError):
        rule.on_delay_s = 3  # type: ignore[misc]


def test_voting_rule() -> None:
    v = VotingRule(name="gas_second", level="second", k=2, tags=["A.1", "A.2", "A.3"])
    assert v.rule == "vote_gas_second"
    with pytest.raises(ValidationError, match="exceeds"):
        VotingRule(name="x", level="first", k=3, tags=["A.1", "A.2"])
    with pytest.raises(ValidationError):
        VotingRule(name="Bad Name", level="first", k=1, tags=["A.1", "A.2"])


class TestRegistryRules:
    def test_rules_in_the_registry_take_effect(self) -> None:
        reg = make_registry([sensor(PRESSURE, rules={"threshold": {"on_delay_s": 0}})])
        engine = RulesEngine(reg)
        assert kinds(feed(engine, reg, PRESSURE, [(0, 0.9)])) == [("raise", "high")]

    def test_unknown_key_fails_with_its_path_and_line(self) -> None:
        with pytest.raises(RegistryError) as exc:
            make_registry(
                [
                    sensor(PRESSURE, rules={"threshold": {"on_delai_s": 0}}),
                    sensor(LEVEL, rules={"trend": {"horizon_s": -5}}),
                ]
            )
        problems = exc.value.problems
        assert len(problems) == 2
        assert problems[0].startswith(
            "enterprises[0].hazard_sources[0].sensors[0].rules.threshold.on_delai_s (line "
        )
        assert problems[0].endswith("unknown key")
        assert problems[1].startswith(
            "enterprises[0].hazard_sources[0].sensors[1].rules.trend.horizon_s (line "
        )


RULES_YAML = f"""\
enterprises:
  {ENT}:
    gateway: {{silence_s: 600}}
    sensors:
      {FLOW}:
        rate: {{rise_per_min: 5}}
      {PRESSURE}:
        threshold: {{on_delay_s: 0, off_delay_s: 0}}
"""

PRESSURE_ONLY = RULES_YAML.replace(f"      {FLOW}:\n        rate: {{rise_per_min: 5}}\n", "")


class TestRulesFile:
    def test_overrides_the_registry(self) -> None:
        reg = make_registry(
            [sensor(PRESSURE, rules={"threshold": {"on_delay_s": 60, "deadband": 0.05}})]
        )
        rules = parse_rules_file(PRESSURE_ONLY, registry=reg)
        engine = RulesEngine(reg, rules)
        # Delays from the file (0), deadband from the registry (0.05).
        out = feed(engine, reg, PRESSURE, [(0, 0.9), (1, 0.76), (2, 0.74)])
        assert kinds(out) == [("raise", "high"), ("clear", "high")]

    def test_every_problem_with_its_path(self) -> None:
        text = f"""\
enterprises:
  {ENT}:
    sensors:
      {FLOW}:
        rate: {{rise_per_minute: 5}}
      {PRESSURE}:
        threshold: {{deadband_pct: 80}}
        trends: {{}}
  bad-code:
    sensors: {{}}
"""
        with pytest.raises(RulesConfigError) as exc:
            parse_rules_file(text, source="rules.yaml")
        problems = exc.value.problems
        assert len(problems) == 4
        at = f"enterprises.{ENT}.sensors"
        assert f"{at}.{FLOW}.rate.rise_per_minute (line 5): unknown key" in problems
        deadband = f"{at}.{PRESSURE}.threshold.deadband_pct (line 7): "
        assert any(p.startswith(deadband) for p in problems)
        assert f"{at}.{PRESSURE}.trends (line 8): unknown key" in problems
        assert any(p.startswith("enterprises.bad-code") for p in problems)
        assert str(exc.value).startswith("invalid rules rules.yaml: 4 problem(s)")

    def test_unknown_enterprise_and_tag(self) -> None:
        reg = make_registry([sensor(PRESSURE)])
        text = RULES_YAML + "  91320902MA2YYYYY1R:\n    sensors: {}\n"
        with pytest.raises(RulesConfigError) as exc:
            parse_rules_file(text, registry=reg)
        assert exc.value.problems == [
            f"enterprises.{ENT}.sensors.{FLOW} (line 5): unknown tag {FLOW} of enterprise {ENT}",
            "enterprises.91320902MA2YYYYY1R (line 9): unknown enterprise 91320902MA2YYYYY1R",
        ]
        # The engine checks too, when given a file that was not checked on loading.
        with pytest.raises(RulesConfigError, match="unknown tag"):
            RulesEngine(reg, parse_rules_file(RULES_YAML))

    def test_load_from_disk(self, tmp_path: Path) -> None:
        path = tmp_path / "rules.yaml"
        path.write_text(RULES_YAML, encoding="utf-8")
        rules = load_rules_file(path, make_registry())
        assert isinstance(rules, RulesFile)
        assert rules.enterprises[ENT].gateway is not None
        with pytest.raises(RulesConfigError, match="cannot read file"):
            load_rules_file(tmp_path / "missing.yaml")
        (tmp_path / "broken.yaml").write_text("enterprises: [\n", encoding="utf-8")
        with pytest.raises(RulesConfigError, match="not valid YAML"):
            load_rules_file(tmp_path / "broken.yaml")

    def test_gateway_silence_from_the_file(self) -> None:
        reg = make_registry([sensor(PRESSURE, rules={"stale": {"enabled": False}})])
        engine = RulesEngine(reg, parse_rules_file(PRESSURE_ONLY))
        assert engine.tick(0) == []
        assert engine.tick(599_000) == []
        assert [s.rule for s in engine.tick(600_000)] == ["gateway_offline"]
