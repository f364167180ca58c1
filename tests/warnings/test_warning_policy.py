"""The warning policy file: the shipped file is the default; errors say where they are."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hazmon.domain.regions import Level
from hazmon.domain.signal import Category, Priority
from hazmon.warnings.chain import ChainRole
from hazmon.warnings.levels import WarningLevel
from hazmon.warnings.policy import (
    AlarmSelector,
    PolicyError,
    WarningPolicy,
    load_policy,
    parse_policy,
)

POLICY_FILE = Path(__file__).resolve().parents[2] / "deploy" / "warning-policy.yaml"
DEFAULT_MARK = "default — to be set by the province"


def problems_of(text: str) -> list[str]:
    with pytest.raises(PolicyError) as info:
        parse_policy(text, source="policy.yaml")
    return info.value.problems


def test_the_shipped_file_is_exactly_the_built_in_default() -> None:
    assert load_policy(POLICY_FILE) == WarningPolicy()
    assert parse_policy("") == WarningPolicy()  # an empty file: every default


def test_every_rule_and_setting_of_the_shipped_file_is_marked_as_a_default() -> None:
    lines = POLICY_FILE.read_text(encoding="utf-8").splitlines()
    starts = [i for i, line in enumerate(lines)
              if re.match(r"^  - code: ", line) or re.match(r"^[a-z_]+:", line)]
    assert len(starts) == len(WarningPolicy().rules) + 7  # + rules, deadlines, push, ...
    for i in starts:
        if lines[i] in ("rules:", "push_simulated: false"):
            continue
        comments = []
        j = i - 1
        while j >= 0 and lines[j].lstrip().startswith("#"):
            comments.append(lines[j])
            j -= 1
        assert any(DEFAULT_MARK in c for c in comments), f"line {i + 1} is not marked"


def test_the_defaults_are_the_issues_examples() -> None:
    p = WarningPolicy()
    assert dict(p.feedback_minutes) == {
        WarningLevel.RED: 30, WarningLevel.ORANGE: 60, WarningLevel.YELLOW: 240,
        WarningLevel.BLUE: 1440,
    }
    assert p.deadline_ms(WarningLevel.RED) == 30 * 60_000
    by_level = {lv: [r.code for r in p.rules if r.level is lv] for lv in WarningLevel}
    assert by_level == {
        WarningLevel.RED: ["critical_unacked", "multi_sensor_second_level",
                           "toxic_trend_second_level"],
        WarningLevel.ORANGE: ["second_level_alarm_low_tier", "high_alarm_active",
                              "gateway_offline"],
        WarningLevel.YELLOW: ["repeated_alarms", "low_availability", "commitment_missing"],
        WarningLevel.BLUE: ["data_health_fault"],
    }
    # 红 to county, city and province at once; 蓝 to the county.
    assert p.push[WarningLevel.RED].regulators_for(3) == (
        Level.CELL, Level.COUNTY, Level.CITY, Level.PROVINCE)
    assert p.push[WarningLevel.BLUE].regulators_for(1) == (Level.COUNTY,)
    assert p.push[WarningLevel.ORANGE].regulators_for(None) == (Level.CELL, Level.COUNTY)
    assert p.push[WarningLevel.RED].enterprise == tuple(ChainRole)
    assert p.reviewer is Level.COUNTY
    assert p.needs_onsite_check(WarningLevel.RED)
    assert not p.needs_onsite_check(WarningLevel.ORANGE)


def test_a_province_changes_one_setting_and_keeps_the_rest() -> None:
    p = parse_policy("feedback_minutes: {red: 15, orange: 60, yellow: 240, blue: 1440}\n"
                     "reviewer: city\n")
    assert p.feedback_minutes[WarningLevel.RED] == 15
    assert p.reviewer is Level.CITY
    assert p.rules == WarningPolicy().rules


def test_schema_errors_are_listed_together_with_their_lines() -> None:
    text = """\
rules:
  - code: critical_unacked
    level: red
    kind: alarm_unacked
    minutes: -1
    colour: red
  - code: Bad-Code
    level: pink
    kind: alarm_active
    minutes: 5
  - code: x
    level: red
    kind: nonsense
"""
    assert problems_of(text) == [
        "rules[0].minutes (line 5): Input should be greater than or equal to 0",
        "rules[0].colour (line 6): unknown key",
        "rules[1].code (line 7): String should match pattern '^[a-z][a-z0-9_]{0,63}$'",
        "rules[1].level (line 8): Input should be 'red', 'orange', 'yellow' or 'blue'",
        "rules[2] (line 11): Input tag 'nonsense' found using 'kind' does not match any of "
        "the expected tags: 'alarm_unacked', 'alarm_active', 'second_level_sensors', "
        "'trend_forecast', 'gateway_offline', 'repeated_alarms', 'low_availability', "
        "'commitment_missing'",
    ]


def test_incomplete_tables_and_duplicate_codes_are_refused_at_their_keys() -> None:
    text = """\
rules:
  - {code: a, level: red, kind: commitment_missing}
  - {code: a, level: blue, kind: commitment_missing}
feedback_minutes: {red: 30, orange: 0, yellow: 240, blue: 1440}
push:
  red: {enterprise: [principal], regulators: {1: [county], 2: [county]}}
reviewer: cell
"""
    assert problems_of(text) == [
        "rules (line 1): duplicate rule code(s) a",
        "feedback_minutes (line 4): deadlines must be at least 1 minute; got orange: 0",
        "push.red (line 6): regulators must be given for every tier 1-4; "
        "missing [3, 4]",
        "reviewer (line 7): the reviewer must be county, city or province",
    ]
    assert problems_of("push:\n  red: {enterprise: [], regulators: {1: [], 2: [], 3: [], "
                       "4: []}}\n") == [
        "push (line 1): give every level; missing orange, yellow, blue"]
    assert problems_of("rules: []\n") == ["rules (line 1): name at least one rule"]


def test_not_yaml_and_unreadable_files(tmp_path: Path) -> None:
    [problem] = problems_of("rules: [\n")
    assert problem.startswith("not valid YAML (line 2)")
    with pytest.raises(PolicyError, match="cannot read file"):
        load_policy(tmp_path / "none.yaml")


@pytest.mark.parametrize(
    ("select", "rule", "category", "priority", "second", "expected"),
    [
        (AlarmSelector(), "stale", Category.DATA_HEALTH, Priority.LOW, False, True),
        (AlarmSelector(rules=("vote_*",)), "vote_gas_second", Category.PROCESS,
         Priority.CRITICAL, True, True),
        (AlarmSelector(rules=("vote_*",)), "high_high", Category.PROCESS,
         Priority.CRITICAL, True, False),
        (AlarmSelector(rules=("high_high",)), "high_high_x", Category.PROCESS,
         Priority.CRITICAL, True, False),
        (AlarmSelector(exclude_rules=("gateway_offline",)), "gateway_offline",
         Category.DATA_HEALTH, Priority.HIGH, False, False),
        (AlarmSelector(priorities=(Priority.CRITICAL,)), "high", Category.PROCESS,
         Priority.HIGH, False, False),
        (AlarmSelector(categories=(Category.PROCESS,)), "stale", Category.DATA_HEALTH,
         Priority.MEDIUM, False, False),
        (AlarmSelector(second_level=True), "high", Category.PROCESS, Priority.HIGH, False,
         False),
        (AlarmSelector(second_level=False), "high", Category.PROCESS, Priority.HIGH, False,
         True),
    ],
)
def test_alarm_selectors(
    select: AlarmSelector, rule: str, category: Category, priority: Priority, second: bool,
    expected: bool,
) -> None:
    assert select.matches(rule, category, priority, second) is expected
