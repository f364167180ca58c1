"""Facts from real alarm occurrences (hazmon.alerts.lifecycle), as the wiring will build them."""

from __future__ import annotations

from hazmon.alerts.lifecycle import (
    Ack,
    Alarm,
    Clear,
    Overlay,
    Raise,
    Shelve,
    apply,
    new_alarm,
)
from hazmon.domain.signal import Category, Priority
from hazmon.warnings.facts import alarm_fact
from tests.clock import MINUTE, T0
from tests.support import ENT


def raised(rule: str = "high_high", tag: str | None = "T101", **details: object) -> Alarm:
    a = new_alarm("A1", enterprise=ENT, hazard_source="MHS-01", tag=tag, rule=rule,
                  category=Category.PROCESS, priority=Priority.CRITICAL, tier=1,
                  details=details)
    return apply(a, Raise(T0, value=10.6, limit=10.5, message="T101 液位高高报")).alarm


def test_an_unacknowledged_active_threshold_alarm() -> None:
    fact = alarm_fact(raised(), sensor_kind="level")
    assert fact is not None
    assert (fact.id, fact.rule, fact.tag, fact.raised_at_ms, fact.active_since_ms, fact.acked,
            fact.second_level, fact.sensor_kind, fact.message) == (
        "A1", "high_high", "T101", T0, T0, False, True, "level", "T101 液位高高报")


def test_acknowledged_then_cleared_and_returned_unacknowledged() -> None:
    acked = apply(raised(), Ack(T0 + MINUTE, "user:op")).alarm
    fact = alarm_fact(acked)
    assert fact is not None
    assert fact.acked
    assert alarm_fact(apply(acked, Clear(T0 + 2 * MINUTE)).alarm) is None  # closed
    rtn = apply(raised(), Clear(T0 + 2 * MINUTE)).alarm  # unack_rtn: still open
    fact = alarm_fact(rtn)
    assert fact is not None
    assert (fact.active_since_ms, fact.active, fact.acked) == (None, False, False)


def test_votes_and_trends_carry_their_level_and_prediction() -> None:
    vote = alarm_fact(raised("vote_gas_second", tag=None, level="second", k=2))
    assert vote is not None
    assert vote.second_level
    first = alarm_fact(raised("vote_gas_first", tag=None, level="first"))
    assert first is not None
    assert not first.second_level
    trend = alarm_fact(raised("trend_high_high", target="high_high",
                              predicted_ms=T0 + 8 * MINUTE), sensor_kind="gas_toxic")
    assert trend is not None
    assert (trend.predicted_at_ms, trend.second_level) == (T0 + 8 * MINUTE, False)


def test_suppressed_and_out_of_service_alarms_are_left_out_shelved_ones_kept() -> None:
    hold = Overlay("user:op", T0, "停车检修")
    suppressed = new_alarm("A2", enterprise=ENT, hazard_source="MHS-01", tag="T1",
                           rule="high", category=Category.PROCESS, priority=Priority.HIGH,
                           suppressed=hold)
    assert alarm_fact(apply(suppressed, Raise(T0)).alarm) is None
    oos = new_alarm("A3", enterprise=ENT, hazard_source="MHS-01", tag="T1", rule="high",
                    category=Category.PROCESS, priority=Priority.HIGH, out_of_service=hold)
    assert alarm_fact(apply(oos, Raise(T0)).alarm) is None
    shelved = apply(raised(), Shelve(T0 + MINUTE, "user:op", 30, "交接班")).alarm
    assert alarm_fact(shelved) is not None
    assert alarm_fact(new_alarm("A4", enterprise=ENT, hazard_source="MHS-01", tag="T1",
                                rule="high", category=Category.PROCESS,
                                priority=Priority.HIGH)) is None  # never raised
