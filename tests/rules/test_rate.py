"""Rate of change: a least-squares slope over a window, in units per minute."""

from __future__ import annotations

import numpy as np
import pytest

from hazmon.domain.signal import Category, Priority
from hazmon.rules import RulesEngine
from hazmon.rules.change import Change
from hazmon.rules.rate import Rate, rate_per_min, step, theil_sen_per_s
from hazmon.rules.window import SampleWindow
from tests.rules.support import FLOW, T0, cleared, feed, kinds, make_registry, raised, sensor

RULES = {"rate": {"rise_per_min": 5.0, "fall_per_min": 8.0, "window_s": 60}}


def test_rate_per_min_needs_half_a_window() -> None:
    w = SampleWindow(60_000)
    for t in range(0, 25):
        w.add(T0 + t * 1000, 50.0 + 0.1 * t)  # 6 units/min
    assert rate_per_min(w, 60_000) is None  # 24 s of data: not yet half of 60 s
    for t in range(25, 40):
        w.add(T0 + t * 1000, 50.0 + 0.1 * t)
    assert rate_per_min(w, 60_000) == pytest.approx(6.0)


def test_theil_sen_ignores_a_wild_reading() -> None:
    ts = np.arange(0, 30_000, 1000, dtype=np.float64)
    vs = 2.0 + 0.5 * ts / 1000
    assert theil_sen_per_s(ts, vs) == pytest.approx(0.5)
    vs[-1] += 100.0
    assert theil_sen_per_s(ts, vs) == pytest.approx(0.5)


def test_step_with_hysteresis() -> None:
    r = Rate(True, 5.0)
    assert step(r, None) == Change.NONE
    assert step(r, 4.9) == Change.NONE
    assert step(r, 5.0) == Change.RAISED
    assert step(r, 4.5) == Change.NONE  # above 80 % of the limit: holds
    assert step(r, None) == Change.NONE  # no data: holds
    assert step(r, 3.9) == Change.CLEARED
    fall = Rate(False, 5.0)
    assert step(fall, 6.0) == Change.NONE
    assert step(fall, -6.0) == Change.RAISED


def test_rise_raises_once_and_clears() -> None:
    reg = make_registry([sensor(FLOW, rules=RULES)])
    engine = RulesEngine(reg)
    series = [(t, 40.0) for t in range(0, 120, 2)]
    series += [(t, 40.0 + 0.1 * (t - 120)) for t in range(120, 300, 2)]  # 6 /min
    series += [(t, 58.0) for t in range(300, 480, 2)]
    out = feed(engine, reg, FLOW, series)
    assert kinds(out, "rate_rise") == [("raise", "rate_rise"), ("clear", "rate_rise")]
    up = raised(out, "rate_rise")[0]
    assert 120 < (up.ts_ms - T0) / 1000 < 180
    assert up.category is Category.PROCESS
    assert up.priority is Priority.LOW
    assert up.message.startswith("变化率报警：罐区一 MHS-01.FT01 流量 上升速率 ")
    assert up.message.endswith("m3/h/min ≥ 限值 5 m3/h/min")
    assert cleared(out, "rate_rise")[0].ts_ms > T0 + 300_000
    assert raised(out, "rate_fall") == []


def test_slow_rise_and_single_spike_stay_quiet() -> None:
    reg = make_registry([sensor(FLOW, rules=RULES)])
    engine = RulesEngine(reg)
    series = [(t, 40.0 + 0.06 * t) for t in range(0, 300, 2)]  # 3.6 /min
    series[100] = (series[100][0], 80.0)  # one wild reading
    out = feed(engine, reg, FLOW, series)
    assert raised(out, "rate_rise") == []
    assert raised(out, "rate_fall") == []


def test_fall() -> None:
    reg = make_registry([sensor(FLOW, rules=RULES)], tier=1)
    engine = RulesEngine(reg)
    rng = np.random.default_rng(2)
    series = [(t, 80.0 - 0.2 * t + rng.normal(0, 0.3)) for t in range(0, 200, 2)]  # -12 /min
    out = feed(engine, reg, FLOW, series)
    down = raised(out, "rate_fall")
    assert len(down) == 1
    assert down[0].priority is Priority.MEDIUM
    assert "下降速率 12" in down[0].message or "下降速率 11" in down[0].message
    assert float(str(down[0].details["per_min"])) == pytest.approx(-12, abs=1)


def test_disabled_by_default() -> None:
    reg = make_registry()
    engine = RulesEngine(reg)
    out = feed(engine, reg, FLOW, [(t, 10.0 + t) for t in range(0, 80)])
    assert raised(out, "rate_rise") == []
