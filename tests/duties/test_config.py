from __future__ import annotations

from pathlib import Path

import pytest

from hazmon.duties.config import DutiesConfigError, load_duties_config, parse_duties_config

EXAMPLE = Path(__file__).parents[2] / "deploy" / "duties.example.yaml"


def test_the_example_file_loads_and_an_empty_file_gives_the_defaults() -> None:
    cfg = load_duties_config(EXAMPLE)
    assert cfg.commitment.deadline.isoformat() == "10:00:00"
    assert cfg.commitment.window_start is not None
    d = parse_duties_config("")
    assert (d.timezone, d.roll_call.answer_deadline_s, d.chain.operational_days) == (
        "Asia/Shanghai", 300, 7)
    assert d.chain.technical_days == 92
    assert d.chain.principal_days is None


@pytest.mark.parametrize(("text", "problem"), [
    ("commitment:\n  deadlin: '10:00'\n", "commitment.deadlin (line 2): unknown key"),
    ("timezone: Mars/Base\n", "timezone (line 1): unknown time zone 'Mars/Base'"),
    ("commitment:\n  deadline: '09:00'\n  window_start: '09:30'\n",
     "commitment (line 1): window_start must be before deadline"),
    ("commitment:\n  template: '{who}'\n", "commitment.template (line 2): template may use"),
    ("patrol:\n  tier_weight: {5: 1.0}\n", "patrol.tier_weight (line 2): tier 5 is not 1..4"),
    ("roll_call:\n  answer_deadline_s: 1\n", "roll_call.answer_deadline_s (line 2):"),
    ("a: [\n", "not valid YAML"),
])
def test_each_problem_is_reported_with_its_place(text: str, problem: str) -> None:
    with pytest.raises(DutiesConfigError) as exc:
        parse_duties_config(text)
    assert any(p.startswith(problem) for p in exc.value.problems), exc.value.problems
