"""Data health: stale, gateway offline, frozen, bad quality, out of range."""

from __future__ import annotations

import numpy as np
import pytest

from hazmon.domain.reading import Quality
from hazmon.domain.registry import Registry
from hazmon.domain.signal import Category, Priority, SignalKind
from hazmon.rules import RulesEngine
from hazmon.rules.health import valid_bounds
from tests.rules.support import (
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

S = 1000  # ms


def only(tags: list[str], **fields: object) -> Registry:
    return make_registry([sensor(t, **fields) for t in tags])


def quiet_gateway(reg: Registry) -> RulesEngine:
    """An engine whose gateway-silence alarm stays out of the way of sensor tests."""
    return RulesEngine(reg, gateway_silence_s=86_400)


class TestStale:
    def test_raise_once_and_clear_on_a_reading(self) -> None:
        reg = only([PRESSURE])
        engine = quiet_gateway(reg)
        feed(engine, reg, PRESSURE, [(0, 0.5)])
        assert engine.tick(T0 + 299 * S) == []
        out = engine.tick(T0 + 300 * S)
        assert kinds(out) == [("raise", "stale")]
        assert out[0].category is Category.DATA_HEALTH
        assert out[0].priority is Priority.LOW  # tier 3
        assert out[0].message == "数据中断：罐区一 MHS-01.T101.PT01 压力 已 5 分钟无数据"
        assert engine.tick(T0 + 400 * S) == []  # no duplicate
        back = engine.evaluate(reading(reg, PRESSURE, 450, 0.5))
        assert kinds(back) == [("clear", "stale")]
        assert back[0].ts_ms == T0 + 450 * S

    def test_never_heard_from_counts_from_the_first_tick(self) -> None:
        reg = only([PRESSURE])
        engine = quiet_gateway(reg)
        assert engine.tick(T0) == []
        assert engine.tick(T0 + 299 * S) == []
        assert kinds(engine.tick(T0 + 300 * S)) == [("raise", "stale")]

    def test_configurable(self) -> None:
        reg = only([PRESSURE], rules={"stale": {"after_s": 30}})
        engine = quiet_gateway(reg)
        feed(engine, reg, PRESSURE, [(0, 0.5)])
        assert kinds(engine.tick(T0 + 30 * S)) == [("raise", "stale")]
        reg = only([PRESSURE], rules={"stale": {"enabled": False}})
        engine = quiet_gateway(reg)
        feed(engine, reg, PRESSURE, [(0, 0.5)])
        assert engine.tick(T0 + 3600 * S) == []

    def test_stale_sensor_holds_its_process_alarms(self) -> None:
        reg = only([PRESSURE], rules={"stale": {"after_s": 10}})
        engine = quiet_gateway(reg)
        # Pressure has a 15 s on-delay: a high reading starts it, then the sensor goes
        # quiet and is stale at 110 s, before the delay would run out at 115 s.
        feed(engine, reg, PRESSURE, [(0, 0.5), (100, 0.9)])
        assert engine.tick(T0 + 105 * S) == []
        assert kinds(engine.tick(T0 + 110 * S)) == [("raise", "stale")]
        assert engine.tick(T0 + 120 * S) == []
        assert {s.rule for s in engine.active()} == {"stale"}
        # An active alarm is not cleared by staleness either.
        out = feed(engine, reg, PRESSURE, [(130, 0.9), (145, 0.9)])
        assert kinds(out) == [("clear", "stale"), ("raise", "high")]
        assert kinds(engine.tick(T0 + 160 * S)) == [("raise", "stale")]
        assert {s.rule for s in engine.active()} == {"stale", "high"}

    def test_gateway_offline_suppresses_stale_of_its_sensors(self) -> None:
        reg = only([PRESSURE, LEVEL])
        engine = RulesEngine(reg)
        feed(engine, reg, PRESSURE, [(0, 0.5)])
        feed(engine, reg, LEVEL, [(0, 5.0)])
        out = engine.gateway_status(ENT, False, T0 + 10 * S)
        assert kinds(out) == [("raise", "gateway_offline")]
        assert engine.tick(T0 + 1000 * S) == []  # one gateway alarm, not one per sensor
        # The gateway returns but one sensor stays silent: now it is stale.
        assert kinds(engine.gateway_status(ENT, True, T0 + 1100 * S)) == [
            ("clear", "gateway_offline")
        ]
        feed(engine, reg, LEVEL, [(1100, 5.0)])
        out = engine.tick(T0 + 1101 * S)
        assert [(s.rule, s.tag) for s in out] == [("stale", PRESSURE)]


class TestGateway:
    def test_last_will_and_online(self, engine: RulesEngine) -> None:
        out = engine.gateway_status(ENT, False, T0)
        assert len(out) == 1
        sig = out[0]
        assert (sig.kind, sig.rule, sig.tag, sig.hazard_source) == (
            SignalKind.RAISE, "gateway_offline", None, ""
        )
        assert sig.key == (ENT, "@", "gateway_offline")
        assert sig.category is Category.DATA_HEALTH
        assert sig.priority is Priority.MEDIUM
        assert sig.message == "网关离线：响水某化工有限公司 网关上报离线"
        assert sig.details == {"reason": "status"}
        assert engine.gateway_status(ENT, False, T0 + S) == []  # repeated: no duplicate
        assert engine.gateway_status(ENT, True, T0 - S) == []  # an older "online"
        out = engine.gateway_status(ENT, True, T0 + 5 * S)
        assert kinds(out) == [("clear", "gateway_offline")]
        assert out[0].message == "网关恢复在线：响水某化工有限公司"

    def test_tier_sets_priority(self) -> None:
        engine = RulesEngine(make_registry(tier=1))
        assert engine.gateway_status(ENT, False, T0)[0].priority is Priority.HIGH

    def test_data_newer_than_offline_clears(self, engine: RulesEngine, reg: Registry) -> None:
        engine.gateway_status(ENT, False, T0 + 10 * S)
        assert feed(engine, reg, GD1, [(5, 1.0)]) == []  # older than the Last Will
        out = feed(engine, reg, GD1, [(20, 1.0)])
        assert kinds(out) == [("clear", "gateway_offline")]

    def test_offline_older_than_data_is_ignored(self, engine: RulesEngine, reg: Registry) -> None:
        feed(engine, reg, GD1, [(20, 1.0)])
        assert engine.gateway_status(ENT, False, T0 + 10 * S) == []

    def test_silence(self) -> None:
        reg = only([GD1], rules={"stale": {"enabled": False}})
        engine = RulesEngine(reg, gateway_silence_s=120)
        feed(engine, reg, GD1, [(0, 1.0)])
        assert engine.tick(T0 + 119 * S) == []
        out = engine.tick(T0 + 120 * S)
        assert kinds(out) == [("raise", "gateway_offline")]
        assert out[0].message == "网关离线：响水某化工有限公司 已 2 分钟未收到任何数据"
        assert engine.tick(T0 + 200 * S) == []
        assert kinds(feed(engine, reg, GD1, [(210, 1.0)])) == [("clear", "gateway_offline")]

    def test_unknown_enterprise(self, engine: RulesEngine) -> None:
        assert engine.gateway_status("91320902MA2YYYYY1R", False, T0) == []


class TestFrozen:
    def test_stuck_value_raises_after_an_hour_and_clears_on_change(self) -> None:
        reg = only([PRESSURE], rules={"stale": {"enabled": False}})
        engine = quiet_gateway(reg)
        out = feed(engine, reg, PRESSURE, [(t, 0.5) for t in range(0, 3610, 10)])
        assert kinds(out) == [("raise", "frozen")]
        assert out[0].ts_ms == T0 + 3600 * S
        assert out[0].message == (
            "数据冻结：罐区一 MHS-01.T101.PT01 压力 数值 0.5 MPa 已 60 分钟无变化"
        )
        out = feed(engine, reg, PRESSURE, [(3620, 0.5), (3630, 0.51)])
        assert kinds(out) == [("clear", "frozen")]
        assert out[0].ts_ms == T0 + 3630 * S

    def test_noisy_signal_is_not_frozen(self) -> None:
        reg = only([PRESSURE])
        engine = quiet_gateway(reg)
        rng = np.random.default_rng(0)
        series = [(t, 0.5 + rng.normal(0, 0.002)) for t in range(0, 7200, 10)]
        out = feed(engine, reg, PRESSURE, series)
        assert raised(out, "frozen") == []

    def test_tolerance_and_default_off_for_gas(self) -> None:
        reg = only([PRESSURE], rules={"frozen": {"after_s": 600, "tolerance": 0.01}})
        engine = quiet_gateway(reg)
        series = [(t, 0.5 + 0.005 * (t % 20 == 0)) for t in range(0, 610, 10)]
        out = feed(engine, reg, PRESSURE, series)
        assert kinds(out) == [("raise", "frozen")]
        reg = only([GD1])
        engine = quiet_gateway(reg)
        assert feed(engine, reg, GD1, [(t, 0.0) for t in range(0, 7200, 10)]) == []


class TestQualityAndRange:
    def test_bad_quality_holds_process_alarms(self) -> None:
        reg = only([GD1])
        engine = quiet_gateway(reg)
        assert kinds(feed(engine, reg, GD1, [(0, 60.0)])) == [
            ("raise", "high_high"), ("raise", "high")
        ]
        out = engine.evaluate(reading(reg, GD1, 1, 0.0, Quality.BAD))
        assert kinds(out) == [("raise", "bad_quality")]
        assert out[0].message == (
            "数据质量异常：罐区一 MHS-01.GD01 可燃气体(甲烷) 上报质量为坏值(bad)"
        )
        # Bad readings neither clear (value 0) ...
        assert engine.evaluate(reading(reg, GD1, 2, 0.0, Quality.BAD)) == []
        assert {s.rule for s in engine.active()} == {"high_high", "high", "bad_quality"}
        # ... nor raise.
        engine2 = RulesEngine(reg)
        assert kinds(engine2.evaluate(reading(reg, GD1, 0, 99.0, Quality.BAD))) == [
            ("raise", "bad_quality")
        ]
        # A good reading clears the quality alarm and is evaluated normally.
        out = engine.evaluate(reading(reg, GD1, 3, 0.0, Quality.GOOD))
        assert kinds(out) == [
            ("clear", "bad_quality"), ("clear", "high_high"), ("clear", "high")
        ]

    def test_uncertain_is_evaluated(self) -> None:
        reg = only([GD1])
        engine = quiet_gateway(reg)
        out = engine.evaluate(reading(reg, GD1, 0, 30.0, Quality.UNCERTAIN))
        assert kinds(out) == [("raise", "high")]

    def test_out_of_range(self) -> None:
        assert valid_bounds(0, 12) == pytest.approx((-0.15, 12.375))  # NE 43: 3.8-20.5 mA
        reg = only([LEVEL], rules={"threshold": {"on_delay_s": 0}})
        engine = quiet_gateway(reg)
        out = feed(engine, reg, LEVEL, [(0, 5.0), (1, -0.1)])  # -0.1: within NE 43
        assert kinds(out) == [("raise", "low_low"), ("raise", "low")]
        feed(engine, reg, LEVEL, [(2, 5.0)])
        out = feed(engine, reg, LEVEL, [(3, 13.0)])
        assert kinds(out) == [("raise", "out_of_range")]  # not a high-high alarm
        assert out[0].message.startswith("超量程：罐区一 T101 液位 13 m 超出仪表量程 [0, 12] m")
        out = feed(engine, reg, LEVEL, [(4, 12.2)])  # within NE 43 over-range: a reading
        assert kinds(out) == [("clear", "out_of_range"), ("raise", "high_high"), ("raise", "high")]

    def test_bad_sensor_delays_do_not_expire(self) -> None:
        reg = only([PRESSURE])
        engine = quiet_gateway(reg)
        feed(engine, reg, PRESSURE, [(0, 0.9)])  # on-delay 15 s starts
        engine.evaluate(reading(reg, PRESSURE, 1, 0.9, Quality.BAD))
        assert kinds(engine.tick(T0 + 60 * S)) == []
        out = feed(engine, reg, PRESSURE, [(61, 0.9)])
        assert kinds(out) == [("clear", "bad_quality"), ("raise", "high")]
        assert cleared(out, "high") == []
