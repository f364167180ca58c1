"""Trend prediction: quiet on noise, early on a real ramp, with the predicted time."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hazmon.domain.registry import Registry
from hazmon.rules import RulesEngine
from hazmon.rules.change import Change
from hazmon.rules.trend import Trend, fit_line, seconds_to_cross, step
from tests.rules.support import LEVEL, T0, cleared, feed, make_registry, raised, sensor

SEEDS = range(40)


def noisy_flat(seed: int, mean: float, sd: float, hours: float = 2) -> list[tuple[float, float]]:
    rng = np.random.default_rng(seed)
    t = np.arange(0, hours * 3600, 5.0)
    return list(zip(t.tolist(), (mean + sd * rng.standard_normal(len(t))).tolist(), strict=True))


class TestFit:
    def test_matches_numpy_polyfit(self) -> None:
        rng = np.random.default_rng(1)
        ts = T0 + np.arange(0, 600_000, 10_000, dtype=np.float64)
        vs = 3.0 + 0.002 * (ts - T0) / 1000 + 0.1 * rng.standard_normal(len(ts))
        fit = fit_line(ts, vs)
        assert fit is not None
        x = (ts - ts[-1]) / 1000
        (b, a), cov = np.polyfit(x, vs, 1, cov="unscaled")
        resid = vs - (a + b * x)
        se = math.sqrt(float(resid @ resid) / (len(x) - 2) * cov[0, 0])
        assert fit.slope_per_s == pytest.approx(b)
        assert fit.level == pytest.approx(a)
        assert fit.t_stat == pytest.approx(b / se)
        assert fit.n == 60
        assert fit.at_ms == int(ts[-1])

    def test_exact_line_and_flat_line(self) -> None:
        ts = np.arange(0, 10_000, 1000, dtype=np.float64)
        up = fit_line(ts, 2.0 + ts / 1000)
        assert up is not None
        assert up.t_stat == math.inf
        assert up.slope_per_s == pytest.approx(1)
        flat = fit_line(ts, np.full(10, 4.0))
        assert flat is not None
        assert flat.t_stat == 0.0
        assert fit_line(ts[:2], ts[:2]) is None

    def test_seconds_to_cross(self) -> None:
        ts = np.arange(0, 10_000, 1000, dtype=np.float64)
        fit = fit_line(ts, 1.0 + 0.5 * ts / 1000)  # level 5.5 now, +0.5/s
        assert fit is not None
        assert seconds_to_cross(fit, 10.5, high=True) == pytest.approx(10)
        assert seconds_to_cross(fit, 0.5, high=False) is None  # heading away
        assert seconds_to_cross(fit, 5.0, high=True) is None  # already beyond

    def test_confirm_and_hysteresis(self) -> None:
        tr = Trend("high_high", 10.0, 600_000, 150.0, 5, 5.0, 2)
        ts = np.arange(0, 10_000, 1000, dtype=np.float64)
        near = fit_line(ts, 9.0 + 0.0101 * ts / 1000 + 0.001 * np.sin(ts))  # ~100 s away
        far = fit_line(ts, 9.0 + 0.004 * ts / 1000 + 0.001 * np.sin(ts))  # ~240 s away
        farther = fit_line(ts, 9.0 + 0.0001 * ts / 1000 + 0.001 * np.sin(ts))
        assert step(tr, near) == Change.NONE  # first of two confirmations
        assert step(tr, near) == Change.RAISED
        assert step(tr, far) == Change.NONE  # within twice the horizon: holds
        assert step(tr, farther) == Change.CLEARED


class TestNoise:
    @pytest.mark.parametrize("sd", [0.3, 0.8])
    def test_noisy_flat_signal_stays_quiet(self, sd: float) -> None:
        # Flat at 8.5 m, high-high 10.5 m: with sd 0.8 a slope of under two standard
        # errors would already "predict" a crossing within the 30 min horizon.
        reg = make_registry([sensor(LEVEL)])
        for seed in SEEDS:
            engine = RulesEngine(reg)
            out = feed(engine, reg, LEVEL, noisy_flat(seed, 8.5, sd))
            assert raised(out, "trend_high_high") == [], seed
            assert raised(out, "trend_low_low") == [], seed

    def test_without_the_significance_check_noise_would_fire(self) -> None:
        # Control: the same series with the weakest settings allowed does fire, so the
        # quiet test above is not quiet for want of trying.
        rules = {"trend": {"t_min": 2, "confirm": 1, "min_points": 5}}
        reg = make_registry([sensor(LEVEL, rules=rules)])
        fired = 0
        for seed in SEEDS:
            engine = RulesEngine(reg)
            out = feed(engine, reg, LEVEL, noisy_flat(seed, 8.5, 0.8))
            fired += bool(raised(out, "trend_high_high"))
        assert fired > len(SEEDS) // 2


class TestRamp:
    def test_ramp_fires_early_with_the_predicted_time(self) -> None:
        # Filling at 0.3 m/min from 5 m: high-high 10.5 m is reached at t = 1100 s.
        reg = make_registry([sensor(LEVEL)])
        rng = np.random.default_rng(7)
        engine = RulesEngine(reg)
        series = [(t, 5.0 + 0.005 * t + 0.05 * rng.standard_normal()) for t in range(0, 1200, 5)]
        out = feed(engine, reg, LEVEL, series)
        tr = raised(out, "trend_high_high")
        assert len(tr) == 1
        fired_s = (tr[0].ts_ms - T0) / 1000
        assert fired_s <= 300  # over 13 minutes before the limit is reached
        predicted_s = (int(str(tr[0].details["predicted_ms"])) - T0) / 1000
        assert predicted_s == pytest.approx(1100, abs=60)
        assert tr[0].details["slope_per_min"] == pytest.approx(0.3, rel=0.1)
        assert "趋势预警：罐区一 T101 液位 当前" in tr[0].message
        assert "分钟后（11-22 10:1" in tr[0].message
        assert "达到高高限 10.5 m" in tr[0].message
        # It clears once the level has actually reached high-high (the alarm took over).
        assert len(cleared(out, "trend_high_high")) == 1
        assert raised(out, "high_high")

    def test_flat_then_ramp_fires_soon_after_the_ramp_starts(self) -> None:
        reg = make_registry([sensor(LEVEL)])
        rng = np.random.default_rng(3)
        engine = RulesEngine(reg)
        series = [
            (t, 5.0 + 0.005 * max(0, t - 1200) + 0.05 * rng.standard_normal())
            for t in range(0, 2400, 5)
        ]
        out = feed(engine, reg, LEVEL, series)
        tr = raised(out, "trend_high_high")
        assert len(tr) == 1
        # The level reaches high-high 1100 s after the ramp starts (t = 2300 s): the
        # prediction comes over ten minutes before that, although the window still
        # mixes flat and rising samples.
        fired_s = (tr[0].ts_ms - T0) / 1000
        assert fired_s <= 2300 - 600
        predicted_s = (int(str(tr[0].details["predicted_ms"])) - T0) / 1000
        # A partly flat window underestimates the slope: predicted later, never sooner.
        assert 2300 <= predicted_s <= fired_s + 1800

    def test_ramp_that_stops_clears(self) -> None:
        reg = make_registry([sensor(LEVEL)])
        rng = np.random.default_rng(11)
        engine = RulesEngine(reg)
        series = [
            (t, 5.0 + 0.005 * min(t, 600) + 0.05 * rng.standard_normal())
            for t in range(0, 2400, 5)
        ]
        out = feed(engine, reg, LEVEL, series)
        assert len(raised(out, "trend_high_high")) == 1
        clear = cleared(out, "trend_high_high")
        assert len(clear) == 1
        assert 600 < (clear[0].ts_ms - T0) / 1000 < 1200
        assert not raised(out, "high_high")

    def test_falling_towards_low_low(self) -> None:
        reg = make_registry([sensor(LEVEL)])
        rng = np.random.default_rng(5)
        engine = RulesEngine(reg)
        series = [(t, 6.0 - 0.004 * t + 0.03 * rng.standard_normal()) for t in range(0, 900, 5)]
        out = feed(engine, reg, LEVEL, series)
        tr = raised(out, "trend_low_low")
        assert len(tr) == 1
        predicted_s = (int(str(tr[0].details["predicted_ms"])) - T0) / 1000
        assert predicted_s == pytest.approx(1375, abs=60)  # (6.0 - 0.5) / 0.004
        assert "达到低低限 0.5 m" in tr[0].message

    def test_disabled_trend(self, reg: Registry) -> None:
        reg = make_registry([sensor(LEVEL, rules={"trend": {"enabled": False}})])
        engine = RulesEngine(reg)
        out = feed(engine, reg, LEVEL, [(t, 5.0 + 0.005 * t) for t in range(0, 1200, 5)])
        assert raised(out, "trend_high_high") == []
