"""The engine as a whole: batches, snapshot/restore, reload, hot-path bookkeeping."""

from __future__ import annotations

import json
import sys
from array import array

import numpy as np
import pytest

from hazmon.domain.reading import Reading
from hazmon.domain.registry import Registry
from hazmon.domain.signal import SignalKind
from hazmon.rules import SNAPSHOT_VERSION, RulesConfigError, RulesEngine, parse_rules_file
from tests.rules.pure import pure_rules
from tests.rules.support import (
    ENT,
    GD1,
    GD2,
    GD3,
    LEVEL,
    PRESSURE,
    T0,
    default_sensors,
    feed,
    kinds,
    make_registry,
    raised,
    reading,
    sensor,
)

VOTE = {"name": "gas_second", "level": "second", "k": 2, "tags": [GD1, GD2, GD3]}


def roundtrip(engine: RulesEngine, reg: Registry) -> RulesEngine:
    """Snapshot through JSON text, as a restart would."""
    snap = json.loads(json.dumps(engine.snapshot()))
    return RulesEngine.restore(reg, snap, gateway_silence_s=86_400)


class TestSnapshot:
    def test_restore_does_not_reraise(self) -> None:
        reg = make_registry(voting=[VOTE])
        engine = RulesEngine(reg, gateway_silence_s=86_400)
        feed(engine, reg, LEVEL, [(t, 10.8) for t in range(0, 130, 10)])
        feed(engine, reg, GD1, [(0, 60.0)])
        feed(engine, reg, GD2, [(0, 60.0)])
        feed(engine, reg, PRESSURE, [(0, 0.9)])  # on-delay pending at the snapshot
        engine.gateway_status(ENT, False, T0 + 200_000)
        before = sorted(s.key for s in engine.active())
        assert ("91320921MA1XXXXX0Q", "@MHS-01", "vote_gas_second") in before

        restored = roundtrip(engine, reg)
        assert sorted(s.key for s in restored.active()) == before
        assert [s.message for s in restored.active()] == [s.message for s in engine.active()]
        # Still above high-high, still 2oo3, gateway still offline: nothing new.
        out = feed(restored, reg, LEVEL, [(140, 10.9)])
        out += feed(restored, reg, GD1, [(201, 61.0)])
        out += feed(restored, reg, GD2, [(201, 61.0)])
        out = [s for s in out if s.rule != "gateway_offline"]  # readings clear that one
        assert out == []
        # The pending on-delay continues from where it was.
        assert kinds(feed(restored, reg, PRESSURE, [(15, 0.9)])) == [("raise", "high")]
        # And clearing works as usual.
        out = feed(restored, reg, LEVEL, [(t, 5.0) for t in range(150, 220, 10)])
        assert ("clear", "high_high") in kinds(out)

    def test_snapshot_is_plain_json(self, engine: RulesEngine, reg: Registry) -> None:
        feed(engine, reg, LEVEL, [(t, 5.0 + 0.001 * t) for t in range(0, 100, 5)])
        snap = engine.snapshot()
        assert snap["version"] == SNAPSHOT_VERSION
        assert json.loads(json.dumps(snap)) == snap

    def test_restore_keeps_the_trend_window(self) -> None:
        reg = make_registry([sensor(LEVEL)])
        rng = np.random.default_rng(7)
        series = [(t, 5.0 + 0.005 * t + 0.05 * rng.standard_normal()) for t in range(0, 1200, 5)]
        whole = RulesEngine(reg, gateway_silence_s=86_400)
        expected = feed(whole, reg, LEVEL, series)
        split = RulesEngine(reg, gateway_silence_s=86_400)
        first = feed(split, reg, LEVEL, series[:40])
        split = roundtrip(split, reg)
        rest = feed(split, reg, LEVEL, series[40:])
        assert kinds(first + rest) == kinds(expected)
        assert [s.ts_ms for s in first + rest] == [s.ts_ms for s in expected]

    def test_wrong_version(self, reg: Registry) -> None:
        with pytest.raises(ValueError, match="version"):
            RulesEngine.restore(reg, {"version": 99})


class TestReload:
    def test_keeps_state_and_clears_what_is_gone(self) -> None:
        reg = make_registry()
        engine = RulesEngine(reg, gateway_silence_s=86_400)
        feed(engine, reg, GD1, [(0, 60.0)])
        feed(engine, reg, PRESSURE, [(0, 1.1), (20, 1.1)])
        assert {s.rule for s in engine.active()} == {"high_high", "high"}
        # New registry: GD1 removed, pressure loses its high_high limit.
        sensors = [s for s in default_sensors() if s["tag"] != GD1]
        for s in sensors:
            if s["tag"] == PRESSURE:
                s["limits"] = {"high": 0.8}
        new = make_registry(sensors)
        out = engine.reload(new)
        assert sorted((s.tag, s.rule) for s in out) == [
            (GD1, "high"), (GD1, "high_high"), (PRESSURE, "high_high")
        ]
        assert all(s.kind is SignalKind.CLEAR for s in out)
        assert out[0].message.startswith("配置变更消除：")
        # Pressure high survives the reload: no re-raise.
        assert feed(engine, new, PRESSURE, [(30, 1.1)]) == []
        # A reading resolved against the old registry still finds its sensor.
        assert engine.evaluate(reading(reg, PRESSURE, 40, 1.1)) == []
        assert engine.evaluate(reading(reg, GD1, 40, 70.0)) == []  # gone

    def test_vote_added_by_reload_raises(self) -> None:
        reg = make_registry()
        engine = RulesEngine(reg, gateway_silence_s=86_400)
        feed(engine, reg, GD1, [(0, 60.0)])
        feed(engine, reg, GD2, [(0, 60.0)])
        out = engine.reload(make_registry(voting=[VOTE]))
        assert kinds(out) == [("raise", "vote_gas_second")]
        assert engine.reload(make_registry(voting=[VOTE])) == []


class TestInputs:
    def test_evaluate_many_sorts_by_time(self, engine: RulesEngine, reg: Registry) -> None:
        batch = [reading(reg, GD1, t, v) for t, v in [(3, 0.0), (1, 60.0), (2, 60.0)]]
        out = engine.evaluate_many(batch)
        assert [(s.kind.value, s.rule, s.ts_ms - T0) for s in out] == [
            ("raise", "high_high", 1000),
            ("raise", "high", 1000),
            ("clear", "high_high", 3000),
            ("clear", "high", 3000),
        ]
        assert engine.late_readings == 0

    def test_unknown_sensor_is_ignored(self, engine: RulesEngine) -> None:
        other = make_registry([{**sensor(PRESSURE), "tag": "MHS-01.OTHER"}])
        assert engine.evaluate(reading(other, "MHS-01.OTHER", 0, 99.0)) == []

    def test_simulated_flag_is_carried(self, engine: RulesEngine, reg: Registry) -> None:
        r = reading(reg, GD1, 0, 60.0)
        sim = Reading(r.sensor, r.ts_ms, r.value, simulated=True)
        assert all(s.simulated for s in engine.evaluate(sim))

    def test_late_reading_feeds_the_window_in_order(self) -> None:
        reg = make_registry([sensor(LEVEL)])
        engine = RulesEngine(reg)
        feed(engine, reg, LEVEL, [(0, 5.0), (20, 5.2)])
        engine.evaluate(reading(reg, LEVEL, 10, 5.1))
        st = engine._sensors[(ENT, LEVEL)]
        assert st.window is not None
        assert st.window.to_lists() == ([T0, T0 + 10_000, T0 + 20_000], [5.0, 5.1, 5.2])
        assert engine.late_readings == 1


class TestStateOnlyWhileItHoldsSomething:
    """Rule state objects exist only away from normal (memory: most sensors are quiet)."""

    def test_quiet_sensors_keep_no_rule_state(self) -> None:
        reg = make_registry([sensor(LEVEL, rules={"rate": {"rise_per_min": 1.0}}),
                             sensor(PRESSURE)])
        engine = RulesEngine(reg)
        feed(engine, reg, LEVEL, [(t, 5.0 + 0.01 * (t % 7)) for t in range(0, 1200, 5)])
        feed(engine, reg, PRESSURE, [(t, 0.5) for t in range(0, 100, 5)])
        for tag in (LEVEL, PRESSURE):
            st = engine._sensors[(ENT, tag)]
            assert (st.thresholds, st.rates, st.trends) == (None, None, None)
        snap = engine.snapshot()["sensors"]
        assert isinstance(snap, list)
        assert all(e["thresholds"] == {} for e in snap)

    def test_a_threshold_state_lives_from_leaving_normal_to_coming_back(self) -> None:
        reg = make_registry([sensor(PRESSURE)])  # high 0.8, on/off delay 15 s
        engine = RulesEngine(reg)
        st = engine._sensors[(ENT, PRESSURE)]
        for t in (0, 100):  # a second excursion behaves like the first
            assert feed(engine, reg, PRESSURE, [(t, 0.9)]) == []
            assert st.thresholds is not None
            assert set(st.thresholds) == {"high"}
            assert kinds(feed(engine, reg, PRESSURE, [(t + 20, 0.9)])) == [("raise", "high")]
            assert kinds(feed(engine, reg, PRESSURE, [(t + 40, 0.5), (t + 60, 0.5)])) == [
                ("clear", "high")
            ]
            assert st.thresholds is None
            assert st not in engine._pending

    def test_a_rate_state_lives_while_raised(self) -> None:
        reg = make_registry([sensor(LEVEL, rules={"rate": {"rise_per_min": 1.0},
                                                  "trend": {"enabled": False}})])
        engine = RulesEngine(reg)
        st = engine._sensors[(ENT, LEVEL)]
        out = feed(engine, reg, LEVEL, [(t, 2.0 + 0.05 * t) for t in range(0, 61)])  # 3 m/min
        assert ("raise", "rate_rise") in kinds(out)
        assert st.rates is not None
        assert set(st.rates) == {"rate_rise"}
        out = feed(engine, reg, LEVEL, [(t, 5.0) for t in range(61, 200)])
        assert ("clear", "rate_rise") in kinds(out)
        assert st.rates is None

    def test_restores_a_snapshot_that_lists_normal_states_too(self) -> None:
        # Snapshots written before states were kept lazily list every rule's state.
        reg = make_registry([sensor(PRESSURE)])
        engine = RulesEngine(reg)
        feed(engine, reg, PRESSURE, [(0, 1.1), (20, 1.1)])
        snap = json.loads(json.dumps(engine.snapshot()))
        entry = snap["sensors"][0]
        assert set(entry["thresholds"]) == {"high", "high_high"}
        entry["thresholds"]["low"] = [0, 0, 0.0]  # no such limit: ignored
        entry["trends"] = {"trend_high_high": [False, 0, 0, 0.0, 0.0]}
        restored = RulesEngine.restore(reg, snap)
        st = restored._sensors[(ENT, PRESSURE)]
        assert st.thresholds is not None
        assert set(st.thresholds) == {"high", "high_high"}
        assert st.trends is None
        out = feed(restored, reg, PRESSURE, [(40, 0.5), (60, 0.5)])
        assert sorted(kinds(out)) == [("clear", "high"), ("clear", "high_high")]
        assert st.thresholds is None


class TestFootprint:
    def test_window_memory_per_sensor(self) -> None:
        reg = make_registry([sensor(LEVEL)])
        engine = RulesEngine(reg)
        feed(engine, reg, LEVEL, [(t, 5.0) for t in range(0, 3600, 5)])
        w = engine._sensors[(ENT, LEVEL)].window
        assert w is not None
        assert len(w) <= 64
        # Its row of the engine's pooled arrays (int32 times, float64 values, a base) plus
        # the slotted handle: no per-window array objects.
        assert w.nbytes == 64 * (4 + 8) + 8
        assert sys.getsizeof(w) + w.nbytes <= 900

    def test_window_pool_arrays_hold_no_spare_room(self) -> None:
        # `nbytes` counts the slots, not what was allocated: arrays made from `bytes(n)`
        # kept 1/16 spare and cost ~250 B of RSS per sensor (bench/NOTES.md, item 13).
        reg = make_registry([sensor(LEVEL)])
        w = RulesEngine(reg)._sensors[(ENT, LEVEL)].window
        assert w is not None
        block = w._block
        for arr in (block.ts, block.vs, block.base):
            empty = sys.getsizeof(array(arr.typecode))
            assert sys.getsizeof(arr) == empty + len(arr) * arr.itemsize

    def test_fits_run_per_window_slot_not_per_reading(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # Catches a per-reading fit (the costly part of the rules) without timing anything:
        # a fit runs only when a reading takes a new slot of its window (window / 60).
        # Counted on the engine from source: compiled, the calls are direct.
        with pure_rules():
            from hazmon.rules import engine as engine_mod
            from hazmon.rules import rate as rate_mod
            from hazmon.rules import trend as trend_mod

            fits = {"trend": 0, "rate": 0}
            real_fit, real_rate = trend_mod.fit_line, rate_mod.rate_per_min

            def fit_line(*a: object) -> object:
                fits["trend"] += 1
                return real_fit(*a)  # type: ignore[arg-type]

            def rate_per_min(*a: object) -> object:
                fits["rate"] += 1
                return real_rate(*a)  # type: ignore[arg-type]

            monkeypatch.setattr(trend_mod, "fit_line", fit_line)
            monkeypatch.setattr(rate_mod, "rate_per_min", rate_per_min)
            reg = make_registry([sensor(LEVEL, rules={"rate": {"rise_per_min": 1.0}})])
            engine = engine_mod.RulesEngine(reg)
            seconds = 2000
            feed(engine, reg, LEVEL, [(t, 5.0 + 0.01 * (t % 7)) for t in range(seconds)])
        st = engine._sensors[(ENT, LEVEL)]
        assert st.window is not None
        assert st.trend is not None  # trend rule on (high_high and low_low targets)
        assert st.rate_ms  # rate rule on
        slots = seconds * 1000 // st.window.spacing_ms + 1
        assert 0 < fits["rate"] <= slots
        assert 0 < fits["trend"] <= slots  # one fit serves both targets
        assert fits["rate"] < seconds / 5


def test_failed_reload_keeps_the_old_configuration() -> None:
    reg = make_registry()
    engine = RulesEngine(reg, gateway_silence_s=86_400)
    feed(engine, reg, GD1, [(0, 60.0)])
    bad = parse_rules_file(f"enterprises:\n  {ENT}:\n    sensors:\n      NO.SUCH: {{}}\n")
    with pytest.raises(RulesConfigError, match=r"unknown tag NO\.SUCH"):
        engine.reload(reg, bad)
    assert {s.rule for s in engine.active()} == {"high_high", "high"}
    assert feed(engine, reg, GD1, [(1, 60.0)]) == []
    assert raised(engine.reload(reg), "high") == []
