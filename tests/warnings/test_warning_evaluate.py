"""Each rule of the default policy on synthetic facts, at an injected time: just before
its duration nothing holds, at it the rule holds (durations compare with >=)."""

from __future__ import annotations

from typing import Any

import pytest

from hazmon.domain.signal import Category, Priority
from hazmon.warnings.evaluate import evaluate, evaluate_all
from hazmon.warnings.facts import AlarmFact, HazardSourceFacts
from hazmon.warnings.levels import WarningLevel
from hazmon.warnings.policy import WarningPolicy, parse_policy
from tests.clock import MINUTE, T0
from tests.support import ENT, ENT2
from tests.warnings.builders import alarm, enterprise, outcome, source

POLICY = WarningPolicy()
HOUR = 60 * MINUTE
RED, ORANGE, YELLOW, BLUE = (WarningLevel.RED, WarningLevel.ORANGE, WarningLevel.YELLOW,
                             WarningLevel.BLUE)


def at(
    now: int, *sources: HazardSourceFacts, **kw: Any
) -> dict[str | None, tuple[WarningLevel, list[str]]]:
    return outcome(evaluate(POLICY, enterprise(*sources, **kw), now))


def test_nothing_wrong_means_no_assessment() -> None:
    assert at(T0 + 48 * HOUR, source(availability=1.0)) == {}


# --- 红 ------------------------------------------------------------------------------------


@pytest.mark.parametrize("tier", [1, 2])
def test_critical_process_alarm_unacknowledged_ten_minutes_on_tier_1_2(tier: int) -> None:
    hs = source(tier=tier, alarms=[alarm(message="罐区一 T101 液位 10.61 m ≥ 高高限 10.5 m")])
    assert at(T0 + 10 * MINUTE - 1, hs) == {}
    got = evaluate(POLICY, enterprise(hs), T0 + 10 * MINUTE)
    assert outcome(got) == {"MHS-01": (RED, ["critical_unacked"])}
    [reason] = got[0].reasons
    assert reason.alarm_ids == ("A1",)
    assert reason.text == "报警超过10分钟未确认：罐区一 T101 液位 10.61 m ≥ 高高限 10.5 m"
    assert got[0].tier == tier
    assert got[0].region == "320921"


def test_the_unacked_time_runs_from_the_raise_even_if_it_cleared_since() -> None:
    returned = alarm(active=None)  # back to normal, still unacknowledged (unack_rtn)
    assert at(T0 + 10 * MINUTE, source(alarms=[returned])) == {
        "MHS-01": (RED, ["critical_unacked"])}


def test_an_acknowledged_or_data_health_critical_alarm_is_not_red() -> None:
    acked = alarm(acked=True)
    health = alarm(rule="gateway_offline", category=Category.DATA_HEALTH, second_level=False)
    assert at(T0 + 10 * MINUTE, source(alarms=[acked])) == {}
    assert at(T0 + 10 * MINUTE, source(alarms=[health])) == {}


def test_a_critical_alarm_unacked_on_tier_3_is_orange_not_red() -> None:
    # On tier 3 the matrix would call a 2oo3 vote critical; the red rule is for tier 1/2.
    vote = alarm(rule="vote_gas_second", tag=None, second_level=True)
    assert at(T0 + 10 * MINUTE, source(tier=3, alarms=[vote])) == {
        "MHS-01": (ORANGE, ["second_level_alarm_low_tier"])}


@pytest.mark.parametrize("tier", [1, 2])
def test_two_sensors_at_their_second_level_at_once(tier: int) -> None:
    one = alarm("A1", tag="GT1", acked=True)
    two = alarm("A2", tag="GT2", acked=True)
    assert at(T0, source(tier=tier, alarms=[one])) == {}
    got = evaluate(POLICY, enterprise(source(tier=tier, alarms=[one, two])), T0)
    assert outcome(got) == {"MHS-01": (RED, ["multi_sensor_second_level"])}
    assert got[0].reasons[0].text == "2个传感器同时处于二级报警（≥2个）：GT1、GT2"
    assert got[0].reasons[0].alarm_ids == ("A1", "A2")


def test_second_level_sensors_are_counted_once_each_and_only_while_active() -> None:
    same_tag = [alarm("A1", tag="GT1", acked=True),
                alarm("A2", tag="GT1", rule="low_low", acked=True)]
    assert at(T0, source(alarms=same_tag)) == {}
    cleared = [alarm("A1", tag="GT1", acked=True),
               alarm("A2", tag="GT2", acked=True, active=None)]
    assert at(T0, source(alarms=cleared)) == {}
    first_level = [alarm("A1", tag="GT1", acked=True),
                   alarm("A2", tag="GT2", rule="high", priority=Priority.HIGH, acked=True)]
    assert at(T0, source(alarms=first_level)) == {}
    vote = [alarm("A1", tag="GT1", acked=True),
            alarm("V1", tag=None, rule="vote_gas_second", second_level=True, acked=True)]
    assert at(T0, source(alarms=vote)) == {}  # a vote is the source, not a second sensor


def test_a_toxic_trend_predicting_the_second_level_within_ten_minutes() -> None:
    def trend(predicted: int, kind: str = "gas_toxic", rule: str = "trend_high_high") -> AlarmFact:
        return alarm(rule=rule, priority=Priority.HIGH, sensor_kind=kind, predicted=predicted,
                     second_level=False, message="T201 硫化氢 预计10分钟内达到二级报警值")

    now = T0 + 5 * MINUTE
    assert at(now, source(alarms=[trend(now + 10 * MINUTE + 1)])) == {}
    got = evaluate(POLICY, enterprise(source(alarms=[trend(now + 10 * MINUTE)])), now)
    assert outcome(got) == {"MHS-01": (RED, ["toxic_trend_second_level"])}
    assert got[0].reasons[0].text.startswith("趋势预测10分钟内达到有毒气体二级报警：")
    # Already past the predicted time: still imminent.
    assert at(now, source(alarms=[trend(now - MINUTE)]))["MHS-01"][0] is RED
    # Combustible gas, or a trend towards the first level only, is not this rule.
    assert at(now, source(alarms=[trend(now, kind="gas_combustible")])) == {}
    assert at(now, source(alarms=[trend(now, rule="trend_high")])) == {}
    assert at(now, source(tier=3, alarms=[trend(now)])) == {}


# --- 橙 ------------------------------------------------------------------------------------


@pytest.mark.parametrize("tier", [3, 4, None])
def test_a_second_level_process_alarm_on_tier_3_4_is_orange_at_once(tier: int | None) -> None:
    hh = alarm(priority=Priority.HIGH)  # the matrix ranks HH high on tier 3/4
    assert at(T0, source(tier=tier, alarms=[hh])) == {
        "MHS-01": (ORANGE, ["second_level_alarm_low_tier"])}
    assert at(T0, source(tier=tier, alarms=[alarm(priority=Priority.HIGH, active=None)])) == {}


@pytest.mark.parametrize("tier", [1, 2])
def test_a_high_alarm_active_thirty_minutes_on_tier_1_2(tier: int) -> None:
    high = alarm(rule="high", priority=Priority.HIGH, acked=True, raised=T0 - HOUR, active=T0)
    hs = source(tier=tier, alarms=[high])
    assert at(T0 + 30 * MINUTE - 1, hs) == {}  # active since the latest activation
    assert at(T0 + 30 * MINUTE, hs) == {"MHS-01": (ORANGE, ["high_alarm_active"])}
    assert at(T0 + 30 * MINUTE, source(tier=3, alarms=[high])) == {}


def test_a_tier_1_2_gateway_offline_thirty_minutes_is_an_enterprise_wide_orange() -> None:
    hs = source(tier=2)
    assert at(T0 + 30 * MINUTE - 1, hs, offline_since=T0) == {}
    got = evaluate(POLICY, enterprise(hs, offline_since=T0), T0 + 30 * MINUTE)
    assert outcome(got) == {None: (ORANGE, ["gateway_offline"])}
    assert got[0].name == "响水化工"
    assert got[0].tier == 2
    assert got[0].reasons[0].text == "数据采集网关离线已30分钟（≥30分钟）"
    # The enterprise's tier is its gravest source's.
    assert at(T0 + HOUR, source("A", tier=4), source("B", tier=1), offline_since=T0) == {
        None: (ORANGE, ["gateway_offline"])}
    assert at(T0 + 30 * MINUTE, source(tier=3), offline_since=T0) == {}
    assert at(T0 + 30 * MINUTE, hs) == {}  # online


# --- 黄 ------------------------------------------------------------------------------------


def test_the_same_sensor_alarming_three_times_in_24_hours() -> None:
    hs = source(raises={"T101": [T0, T0 + HOUR, T0 + 2 * HOUR], "T102": [T0, T0 + HOUR]})
    got = evaluate(POLICY, enterprise(hs), T0 + 24 * HOUR)  # the first exactly 24 h ago
    assert outcome(got) == {"MHS-01": (YELLOW, ["repeated_alarms"])}
    assert got[0].reasons[0].text == "同一传感器24小时内报警≥3次：T101 3次"
    assert got[0].reasons[0].data["counts"] == {"T101": 3}
    assert at(T0 + 24 * HOUR + 1, hs) == {}  # the first has left the window
    assert at(T0 + HOUR, hs) == {}  # the third is still to come


def test_data_availability_under_ninety_percent() -> None:
    got = evaluate(POLICY, enterprise(source(availability=0.8999)), T0)
    assert outcome(got) == {"MHS-01": (YELLOW, ["low_availability"])}
    assert got[0].reasons[0].text == "近24小时数据可用率90.0%，低于90%"
    assert at(T0, source(availability=0.9)) == {}
    assert at(T0, source(availability=None)) == {}


def test_a_missing_or_late_commitment() -> None:
    assert at(T0, source(), commitment_missing=True) == {None: (YELLOW, ["commitment_missing"])}
    assert at(T0, source(), commitment_missing=False) == {}


# --- 蓝 ------------------------------------------------------------------------------------


@pytest.mark.parametrize("tier", [1, 2, 3, 4, None])
def test_a_data_health_fault_lasting_an_hour(tier: int | None) -> None:
    stale = alarm(rule="stale", category=Category.DATA_HEALTH, priority=Priority.LOW,
                  second_level=False, acked=True)
    hs = source(tier=tier, alarms=[stale])
    assert at(T0 + HOUR - 1, hs) == {}
    assert at(T0 + HOUR, hs) == {"MHS-01": (BLUE, ["data_health_fault"])}


def test_a_tier_3_gateway_offline_alarm_for_an_hour_is_blue_for_the_enterprise() -> None:
    offline = alarm(rule="gateway_offline", category=Category.DATA_HEALTH,
                    priority=Priority.MEDIUM, tag=None, second_level=False)
    assert at(T0 + HOUR, source(tier=3), alarms=[offline], offline_since=T0) == {
        None: (BLUE, ["data_health_fault"])}


# --- together -------------------------------------------------------------------------------


def test_the_gravest_rule_gives_the_level_and_every_rule_that_holds_is_a_reason() -> None:
    stale = alarm("S1", rule="stale", category=Category.DATA_HEALTH, priority=Priority.MEDIUM,
                  tag="T9", second_level=False)
    hh = alarm("A1", tag="T1")
    hh2 = alarm("A2", tag="T2", acked=True)
    hs = source(alarms=[stale, hh, hh2], availability=0.5,
                raises={"T1": [T0, T0 + 1, T0 + 2]})
    got = at(T0 + HOUR, hs, commitment_missing=True)
    assert got == {
        None: (YELLOW, ["commitment_missing"]),
        "MHS-01": (RED, ["critical_unacked", "multi_sensor_second_level", "repeated_alarms",
                         "low_availability", "data_health_fault"]),
    }


def test_each_source_is_judged_on_its_own_and_simulation_is_carried() -> None:
    quiet = source("MHS-01", alarms=[])
    loud = source("MHS-02", alarms=[alarm(tag="GT1"), alarm("A2", tag="GT2")])
    got = evaluate_all(POLICY, [enterprise(quiet, loud),
                                enterprise(source(availability=0.1), code=ENT2,
                                           simulated=True)], T0)
    assert [(a.enterprise, a.hazard_source, a.level, a.simulated) for a in got] == [
        (ENT, "MHS-02", RED, False), (ENT2, "MHS-01", YELLOW, True)]
    assert got[0].key == (ENT, "MHS-02")


def test_the_policy_decides_a_province_that_waits_five_minutes_gets_red_at_five() -> None:
    text = (
        "rules:\n"
        "  - {code: fast, level: red, kind: alarm_unacked, minutes: 5,"
        " select: {priorities: [critical]}}\n"
    )
    policy = parse_policy(text)
    facts = enterprise(source(alarms=[alarm()]))
    assert outcome(evaluate(policy, facts, T0 + 5 * MINUTE - 1)) == {}
    assert outcome(evaluate(policy, facts, T0 + 5 * MINUTE)) == {"MHS-01": (RED, ["fast"])}


def test_many_alarms_are_quoted_three_then_counted() -> None:
    alarms = [alarm(f"A{i}", tag=f"T{i}", message=f"m{i}", acked=True,
                    rule="high", priority=Priority.HIGH) for i in range(5)]
    got = evaluate(POLICY, enterprise(source(alarms=alarms)), T0 + 30 * MINUTE)
    assert got[0].reasons[0].text == "报警持续超过30分钟：m0；m1；m2等5条"
    assert len(got[0].reasons[0].alarm_ids) == 5
