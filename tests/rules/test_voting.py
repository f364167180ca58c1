"""k-of-n voting of gas detectors (2oo3)."""

from __future__ import annotations

import pytest

from hazmon.domain.registry import Registry, RegistryError
from hazmon.domain.signal import Category, Priority, SignalKind
from hazmon.rules import RulesEngine
from tests.rules.support import (
    ENT,
    GD1,
    GD2,
    GD3,
    LEVEL,
    T0,
    feed,
    kinds,
    make_registry,
    reading,
)

VOTE_2OO3 = {"name": "gas_second", "level": "second", "k": 2, "tags": [GD1, GD2, GD3]}


def setup(tier: int = 1) -> tuple[RulesEngine, Registry]:
    reg = make_registry(tier=tier, voting=[VOTE_2OO3])
    return RulesEngine(reg, gateway_silence_s=86_400), reg


def test_two_of_three() -> None:
    reg = make_registry(tier=1, voting=[VOTE_2OO3])
    engine = RulesEngine(reg)
    # One detector at second level: its own alarms only.
    out = feed(engine, reg, GD1, [(0, 60.0)])
    assert kinds(out) == [("raise", "high_high"), ("raise", "high")]
    # A second one at first level only: no vote.
    assert [s.rule for s in feed(engine, reg, GD2, [(1, 30.0)])] == ["high"]
    # The second detector reaches second level: the vote rises, once.
    out = feed(engine, reg, GD2, [(2, 55.0)])
    assert kinds(out) == [("raise", "high_high"), ("raise", "vote_gas_second")]
    vote = out[1]
    assert vote.tag is None
    assert vote.hazard_source == "MHS-01"
    assert vote.key == (ENT, "@MHS-01", "vote_gas_second")
    assert vote.category is Category.PROCESS
    assert vote.priority is Priority.CRITICAL
    assert vote.ts_ms == T0 + 2000
    assert vote.value == 2
    assert vote.limit == 2
    assert vote.details["over"] == [GD1, GD2]
    assert vote.message == f"联合报警（2oo3）：罐区一 2/3 个气体探测器达到二级报警（{GD1}、{GD2}）"
    # The third joins: the vote holds (no duplicate).
    out = feed(engine, reg, GD3, [(3, 70.0)])
    assert "vote_gas_second" not in {s.rule for s in out}
    # Two drop back below the deadband: the vote clears when fewer than k remain.
    assert "vote_gas_second" not in {s.rule for s in feed(engine, reg, GD1, [(4, 0.0)])}
    out = feed(engine, reg, GD3, [(5, 0.0)])
    assert [(s.kind, s.rule) for s in out if s.rule == "vote_gas_second"] == [
        (SignalKind.CLEAR, "vote_gas_second")
    ]


def test_vote_inherits_detector_deadband() -> None:
    engine, reg = setup()
    feed(engine, reg, GD1, [(0, 60.0)])
    feed(engine, reg, GD2, [(1, 60.0)])
    # 49.5 is inside the 1 %-of-span deadband below 50 %LEL: nobody leaves, no chatter.
    out = feed(engine, reg, GD2, [(2, 49.5), (3, 50.5), (4, 49.5)])
    assert out == []


def test_first_level_vote_and_tier_priority() -> None:
    vote = {**VOTE_2OO3, "name": "gas_first", "level": "first"}
    reg = make_registry(tier=4, voting=[vote])
    engine = RulesEngine(reg)
    feed(engine, reg, GD1, [(0, 30.0)])
    out = feed(engine, reg, GD3, [(1, 30.0)])
    votes = [s for s in out if s.rule == "vote_gas_first"]
    assert len(votes) == 1
    assert votes[0].priority is Priority.MEDIUM
    assert "达到一级报警" in votes[0].message


def test_stale_detector_keeps_its_vote() -> None:
    engine, reg = setup()
    feed(engine, reg, GD1, [(0, 60.0)])
    feed(engine, reg, GD2, [(0, 60.0)])
    feed(engine, reg, GD3, [(0, 0.0), (400, 0.0)])
    out = engine.tick(T0 + 400_000)
    assert {s.tag for s in out} == {GD1, GD2}
    assert {s.rule for s in out} == {"stale"}
    assert "vote_gas_second" in {s.rule for s in engine.active()}


def test_late_reading_does_not_vote() -> None:
    engine, reg = setup()
    feed(engine, reg, GD1, [(10, 60.0)])
    feed(engine, reg, GD2, [(10, 0.0)])
    assert engine.evaluate(reading(reg, GD2, 5, 60.0)) == []


@pytest.mark.parametrize(
    ("vote", "problem"),
    [
        (
            {**VOTE_2OO3, "tags": [GD1, GD2, "MHS-01.GD99"]},
            "hazard_sources[0].voting[0].tags[2] (line",
        ),
        ({**VOTE_2OO3, "tags": [GD1, LEVEL]}, "is a level, not a gas detector"),
        ({**VOTE_2OO3, "k": 4}, "k = 4 exceeds the 3 tags"),
        ({**VOTE_2OO3, "tags": [GD1, GD1]}, "tags must not repeat"),
        ({**VOTE_2OO3, "level": "third"}, "voting[0].level"),
        ({**VOTE_2OO3, "quorum": 2}, "voting[0].quorum (line"),
    ],
)
def test_invalid_voting_rules_fail_with_their_path(vote: dict[str, object], problem: str) -> None:
    with pytest.raises(RegistryError) as exc:
        make_registry(voting=[vote])
    assert problem in str(exc.value)


def test_duplicate_vote_names() -> None:
    with pytest.raises(RegistryError, match=r"voting\[1\].name .*duplicate voting rule"):
        make_registry(voting=[VOTE_2OO3, VOTE_2OO3])
