"""Threshold alarms: raise, hold, deadband, on/off delays, late readings, messages."""

from __future__ import annotations

from hazmon.domain.registry import Registry
from hazmon.domain.signal import Category, Priority, SignalKind
from hazmon.rules import RulesEngine
from hazmon.rules.change import Change
from hazmon.rules.threshold import (
    ACTIVE,
    NORMAL,
    PENDING_OFF,
    PENDING_ON,
    Threshold,
    expire,
    step,
)
from tests.rules.support import (
    CL2,
    ENT,
    GD1,
    LEVEL,
    PRESSURE,
    T0,
    cleared,
    feed,
    kinds,
    make_registry,
    raised,
    reading,
    sensor,
)


def run(th: Threshold, series: list[tuple[int, float]]) -> list[tuple[int, int]]:
    """(time, change) for each reading that changed the alarm."""
    return [(t, c) for t, v in series if (c := step(th, v, t)) != Change.NONE]


class TestPhaseMachine:
    def test_raise_hold_clear_without_delays(self) -> None:
        th = Threshold("high", 10.0, 0.5, 0, 0)
        changes = run(th, [(0, 9.0), (1, 10.0), (2, 11.0), (3, 10.2), (4, 12.0), (5, 9.4)])
        assert changes == [(1, Change.RAISED), (5, Change.CLEARED)]

    def test_deadband_holds_the_alarm_until_below_limit_minus_deadband(self) -> None:
        th = Threshold("high", 10.0, 0.5, 0, 0)
        # 9.6 and 9.5 are inside the deadband [9.5, 10): the alarm stays; 9.49 clears.
        changes = run(th, [(0, 10.1), (1, 9.6), (2, 9.5), (3, 10.3), (4, 9.49)])
        assert changes == [(0, Change.RAISED), (4, Change.CLEARED)]

    def test_chattering_value_raises_once(self) -> None:
        th = Threshold("high", 10.0, 0.5, 0, 0)
        series = [(t, 10.05 if t % 2 else 9.8) for t in range(100)]
        assert run(th, series) == [(1, Change.RAISED)]

    def test_on_delay_ignores_a_short_spike(self) -> None:
        th = Threshold("high", 10.0, 0.5, 15_000, 0)
        changes = run(th, [(0, 11.0), (5_000, 11.0), (10_000, 9.9), (20_000, 9.0)])
        assert changes == []
        assert th.phase == NORMAL

    def test_on_delay_raises_once_held(self) -> None:
        th = Threshold("high", 10.0, 0.5, 15_000, 0)
        series = [(t * 1000, 11.0) for t in range(0, 31, 5)]
        assert run(th, series) == [(15_000, Change.RAISED)]

    def test_off_delay_keeps_the_alarm_through_a_brief_return(self) -> None:
        th = Threshold("high", 10.0, 0.5, 0, 15_000)
        changes = run(th, [(0, 11.0), (5_000, 9.0), (10_000, 10.1), (20_000, 9.0)])
        assert changes == [(0, Change.RAISED)]
        assert th.phase == PENDING_OFF
        assert run(th, [(30_000, 9.0), (35_000, 9.0)]) == [(35_000, Change.CLEARED)]

    def test_low_direction(self) -> None:
        th = Threshold("low_low", 1.0, 0.2, 0, 0)
        changes = run(th, [(0, 2.0), (1, 1.0), (2, 1.1), (3, 1.2), (4, 1.21)])
        assert changes == [(1, Change.RAISED), (4, Change.CLEARED)]

    def test_expire_on_a_tick(self) -> None:
        th = Threshold("high", 10.0, 0.5, 15_000, 15_000)
        assert step(th, 11.0, 0) == Change.NONE
        assert th.phase == PENDING_ON
        assert expire(th, 14_999) == Change.NONE
        assert expire(th, 15_000) == Change.RAISED
        assert th.phase == ACTIVE
        assert step(th, 9.0, 20_000) == Change.NONE
        assert th.phase == PENDING_OFF
        assert expire(th, 35_000) == Change.CLEARED
        assert th.phase == NORMAL


class TestEngine:
    def test_level_defaults_deadband_and_delay(self, engine: RulesEngine, reg: Registry) -> None:
        # Level: 5 % of the 12 m span (0.6 m) deadband, 60 s on- and off-delay.
        series = [(t, 10.61) for t in range(0, 61, 10)]
        out = feed(engine, reg, LEVEL, series)
        hh = raised(out, "high_high")
        assert len(hh) == 1
        assert hh[0].ts_ms == T0 + 60_000
        assert hh[0].message == "高高报：罐区一 T101 液位 10.61 m ≥ 高高限 10.5 m"
        assert hh[0].category is Category.PROCESS
        assert hh[0].value == 10.61
        assert hh[0].limit == 10.5
        assert len(raised(out, "high")) == 1  # high and high-high are separate alarms
        # Holding: no duplicates.
        out = feed(engine, reg, LEVEL, [(t, 10.8) for t in range(70, 600, 10)])
        assert kinds(out, "high_high") == []
        assert kinds(out, "high") == []
        # 10.0 is inside the 0.6 m deadband of 10.5: still active. 9.8 is below 9.9.
        out = feed(engine, reg, LEVEL, [(t, 10.0) for t in range(600, 700, 10)])
        assert kinds(out, "high_high") == []
        out = feed(engine, reg, LEVEL, [(t, 9.8) for t in range(700, 770, 10)])
        hh_clear = cleared(out, "high_high")
        assert len(hh_clear) == 1
        assert hh_clear[0].ts_ms == T0 + 760_000
        assert hh_clear[0].message.startswith("高高报消除：罐区一 T101 液位 9.8 m < 高高限")

    def test_configured_delays_from_registry(self) -> None:
        rules = {"threshold": {"on_delay_s": 0, "off_delay_s": 0, "deadband": 0.1}}
        reg = make_registry([sensor(PRESSURE, rules=rules)])
        engine = RulesEngine(reg)
        out = feed(engine, reg, PRESSURE, [(0, 1.05), (1, 0.95), (2, 0.89)])
        assert kinds(out) == [
            ("raise", "high_high"),
            ("raise", "high"),
            ("clear", "high_high"),
        ]
        assert out[0].message == "高高报：罐区一 MHS-01.T101.PT01 压力 1.05 MPa ≥ 高高限 1 MPa"

    def test_gas_detector_uses_gb50493_levels(self, engine: RulesEngine, reg: Registry) -> None:
        info = reg.sensor(ENT, GD1)
        assert info is not None
        assert info.limits is not None
        assert (info.limits.high, info.limits.high_high) == (25.0, 50.0)
        out = feed(engine, reg, GD1, [(0, 5.0), (1, 30.0), (2, 55.0)])
        assert kinds(out) == [("raise", "high"), ("raise", "high_high")]
        assert out[0].message == (
            "一级报警：罐区一 MHS-01.GD01 可燃气体(甲烷) 30 %LEL ≥ 一级报警值 25 %LEL"
        )
        assert out[1].message.startswith("二级报警：")
        assert "GB 50493" in str(out[1].details["limits_basis"])
        assert out[1].priority is Priority.HIGH  # tier 3, second level

    def test_toxic_gas_message(self, engine: RulesEngine, reg: Registry) -> None:
        out = feed(engine, reg, CL2, [(0, 0.1), (1, 0.8)])
        assert [s.rule for s in out] == ["high_high", "high"]
        assert out[0].message.startswith("二级报警：罐区一 MHS-01.GD10 有毒气体(氯) 0.8 ppm ≥")

    def test_late_reading_neither_raises_nor_clears(
        self, engine: RulesEngine, reg: Registry
    ) -> None:
        out = feed(engine, reg, GD1, [(10, 30.0)])
        assert kinds(out) == [("raise", "high")]
        # An older reading below the limit arrives after: the alarm stands.
        assert engine.evaluate(reading(reg, GD1, 5, 1.0)) == []
        # An older reading above high-high: not raised as if current.
        assert engine.evaluate(reading(reg, GD1, 6, 80.0)) == []
        assert {s.rule for s in engine.active()} == {"high"}
        assert engine.late_readings == 2
        # A duplicate of the newest time counts as late too.
        assert engine.evaluate(reading(reg, GD1, 10, 0.0)) == []

    def test_backlog_in_time_order_is_evaluated_at_its_own_times(
        self, engine: RulesEngine, reg: Registry
    ) -> None:
        out = engine.evaluate_many(
            [reading(reg, GD1, t, v) for t, v in [(3, 1.0), (1, 1.0), (2, 30.0)]]
        )
        assert [(s.kind, s.ts_ms) for s in out] == [
            (SignalKind.RAISE, T0 + 2000),
            (SignalKind.CLEAR, T0 + 3000),
        ]

    def test_tick_expires_an_on_delay_for_report_by_exception(
        self, engine: RulesEngine, reg: Registry
    ) -> None:
        # One reading above high, then nothing (the gateway sends only changes).
        assert kinds(feed(engine, reg, PRESSURE, [(0, 0.85)])) == []
        assert engine.tick(T0 + 14_000) == []
        out = engine.tick(T0 + 20_000)
        assert kinds(out) == [("raise", "high")]
        assert out[0].ts_ms == T0 + 15_000  # when the delay ran out, not the tick's time
        assert engine.tick(T0 + 25_000) == []
