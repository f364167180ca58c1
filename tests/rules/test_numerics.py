"""The plain-loop numerics (window storage, least-squares fit, Theil-Sen) against the numpy
versions they replaced (`tests.rules.numpy_reference`, the code as it was).

- Theil-Sen does the same IEEE operations, so it must agree bit for bit.
- The least-squares fit sums in order where numpy summed pairwise (and BLAS in SIMD
  lanes), so it may differ in the last bits: slope and level agree within `REL` (1e-9)
  of themselves or of the window's scale (max |value|, and that over the time span for
  the slope; a slope that is rounding noise on a flat window has no digits to compare),
  t within `REL` of itself or of 1, and the decisions made from the fits are the same.
- The whole engine, old numerics against new, on random workloads (several seeds:
  excursions, ramps, bad quality, out of range, late readings, a gateway outage, a
  snapshot/restore midway) gives the same signals, in the same order, at the same times.
"""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hazmon.domain.reading import Quality, Reading
from hazmon.domain.registry import Registry
from hazmon.domain.signal import AlarmSignal
from hazmon.rules import RulesEngine, rate, trend
from hazmon.rules import engine as engine_module
from hazmon.rules.window import SampleWindow
from tests.rules import numpy_reference as ref
from tests.rules.pure import is_compiled, pure_rules
from tests.rules.support import (
    ENT,
    FLOW,
    GD1,
    LEVEL,
    PRESSURE,
    T0,
    TEMP,
    make_registry,
)
from tests.rules.support import (
    sensor as sensor_spec,
)

REL = 1e-9


def random_window(rng: random.Random) -> tuple[list[int], list[float]]:
    """Strictly increasing int ms offsets and values: noise, ramps, steps, outliers."""
    n = rng.randint(3, 64)
    t = rng.randint(0, 10_000)
    ts = []
    for _ in range(n):
        ts.append(t)
        t += rng.choice([1, 10, 1000, 10_000, rng.randint(1, 600_000)])
    shape = rng.randrange(5)
    level, slope = rng.uniform(-1e3, 1e3), rng.uniform(-1.0, 1.0) * rng.choice([0, 1e-6, 1e-2, 1])
    vs = []
    for i, x in enumerate(ts):
        v = level + slope * (x - ts[0]) / 1000
        if shape == 1:
            v += rng.gauss(0.0, rng.choice([1e-9, 1e-3, 1.0]))
        elif shape == 2:
            v = round(v + rng.gauss(0, 0.1), 2)  # quantised, many equal slopes
        elif shape == 3 and i == n - 1:
            v += 100.0  # one wild reading
        elif shape == 4:
            v = level  # flat
        vs.append(v)
    return ts, vs


def close(a: float, b: float) -> bool:
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= REL * max(abs(a), abs(b), 1e-300)


@pytest.mark.parametrize("seed", range(4))
def test_theil_sen_is_bit_identical(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(2000):
        ts, vs = random_window(rng)
        old = ref.theil_sen_per_s(np.array(ts, dtype=np.int32), np.array(vs))
        assert rate.theil_sen_per_s(ts, vs) == old


@pytest.mark.parametrize("seed", range(4))
def test_fit_line_agrees_within_tolerance_and_decides_the_same(seed: int) -> None:
    rng = random.Random(100 + seed)
    worst = 0.0
    for _ in range(2000):
        ts, vs = random_window(rng)
        base = rng.randint(0, 2**40)
        old = ref.fit_line(np.array(ts, dtype=np.int32), np.array(vs), base)
        new = trend.fit_line(ts, vs, base)
        assert (old is None) == (new is None)
        if old is None or new is None:
            continue
        assert (new.n, new.at_ms) == (old.n, old.at_ms)
        # Scale of the numbers: a slope below rounding noise (a flat window) has no
        # meaningful digits, nor has its t; both are compared against that scale.
        y_scale = max(abs(v) for v in vs)
        slope_scale = y_scale / ((ts[-1] - ts[0]) / 1000)
        for a, b, scale in ((new.slope_per_s, old.slope_per_s, slope_scale),
                            (new.level, old.level, y_scale)):
            assert abs(a - b) <= REL * max(abs(b), scale), (a, b)
            if abs(b) > scale:
                worst = max(worst, abs(a - b) / abs(b))
        if abs(old.slope_per_s) > 1e-6 * slope_scale:
            # Within REL of t, or of 1 for |t| < 1 (decisions compare t with t_min ≥ 2).
            a, b = new.t_stat, old.t_stat
            assert a == b if math.isinf(b) else abs(a - b) <= REL * max(abs(b), 1.0), (a, b)
        # Decisions against limits a little and far from the fitted level.
        for limit in (old.level + 1.0, old.level - 1.0, old.level * 2, old.level + 1e3):
            for high in (True, False):
                args = (limit, high, 5, 6.0, 1800.0)
                assert trend.predicts(new, *args) == trend.predicts(old, *args)
    assert worst < REL


def test_numpy_arrays_are_accepted_too() -> None:
    ts = np.arange(0, 10_000, 1000, dtype=np.int32)
    vs = 2.0 + ts / 1000
    # (The tests of trend and rate call them with numpy arrays.)
    assert trend.fit_line(ts, vs) == ref.fit_line(ts, vs)  # type: ignore[arg-type]
    assert rate.theil_sen_per_s(ts, vs) == ref.theil_sen_per_s(ts, vs)  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", range(3))
def test_window_keeps_what_the_numpy_window_kept(seed: int) -> None:
    rng = random.Random(200 + seed)
    new, old = SampleWindow(60_000), ref.SampleWindow(60_000)
    t = T0
    for _ in range(5000):
        step = rng.choice([100, 700, 1000, 3000, -5000, -40_000, 40 * 86_400_000])
        t += step
        v = rng.uniform(0, 10)
        assert new.add(t, v) == old.add(t, v)
        assert new.to_lists() == old.to_lists()
        assert (new.base_ms, new.newest_ms) == (old.base_ms, old.newest_ms)
        span = rng.choice([10_000, 60_000, 1e12])
        assert new.recent(span) == (old.last(span)[0].tolist(), old.last(span)[1].tolist())
        assert new.last(span)[0].tolist() == old.last(span)[0].tolist()


# --- the whole engine, old numerics against new ----------------------------------------


def workload_registry() -> Registry:
    on = {"rate": {"rise_per_min": 2.0, "fall_per_min": 2.0, "window_s": 60},
          "trend": {"window_s": 300, "horizon_s": 900, "min_points": 10, "confirm": 2},
          "frozen": {"after_s": 120}, "stale": {"after_s": 60}}
    return make_registry([sensor_spec(tag, rules=on) for tag in (LEVEL, PRESSURE, TEMP, FLOW,
                                                                 GD1)])


def workload(seed: int, reg: Registry) -> list[tuple[str, Any]]:
    """Events in arrival order: ("r", Reading), ("tick", ms), ("gw", (online, ms))."""
    rng = random.Random(seed)
    events: list[tuple[str, Any]] = []
    tags = [LEVEL, PRESSURE, TEMP, FLOW, GD1]
    infos = {tag: reg.sensor(ENT, tag) for tag in tags}
    spans = {tag: infos[tag].sensor.range for tag in tags}  # type: ignore[union-attr]
    value = {tag: (lo + hi) / 2 for tag, (lo, hi) in spans.items()}
    drift = dict.fromkeys(tags, 0.0)
    late: list[Reading] = []
    t = T0
    outage = rng.randint(2000, 4000)
    for step in range(6000):
        t += rng.choice([500, 1000, 1000, 2000])
        if step == outage:
            events.append(("gw", (False, t)))
            t += 15 * 60_000  # a quarter of an hour without data
            events.append(("gw", (True, t)))
        for tag in tags:
            lo, hi = spans[tag]
            span = hi - lo
            if rng.random() < 0.004:
                drift[tag] = rng.choice([0.0, 0.0, 1, -1]) * span * rng.uniform(1e-4, 3e-3)
            if rng.random() < 0.002:
                value[tag] = rng.uniform(lo, hi)  # an excursion or its end
            value[tag] = min(hi, max(lo, value[tag] + drift[tag]))
            v = value[tag] + rng.gauss(0, span * 1e-3)
            if rng.random() < 0.001:
                v = hi + span  # out of range
            if tag == TEMP and 1000 <= step % 2000 < 1100:
                continue  # silent for about two minutes: stale
            if tag == LEVEL and step % 1000 < 300:
                v = 5.5  # a stuck transmitter: frozen
            q = Quality.BAD if rng.random() < 0.003 else Quality.GOOD
            r = Reading(infos[tag], t - rng.randint(0, 400), v, q)  # type: ignore[arg-type]
            if rng.random() < 0.01:
                late.append(r)  # arrives later
            else:
                events.append(("r", r))
        if late and rng.random() < 0.05:
            events.extend(("r", r) for r in late)
            late = []
        if step % 5 == 0:
            events.append(("tick", t))
    return events


def run(
    reg: Registry, events: list[tuple[str, Any]], engine_class: type[RulesEngine] = RulesEngine
) -> list[AlarmSignal]:
    engine = engine_class(reg)
    out: list[AlarmSignal] = []
    for i, (what, arg) in enumerate(events):
        if i == len(events) // 2:  # restart midway from the saved state
            snap = json.loads(json.dumps(engine.snapshot()))
            engine = engine_class.restore(reg, snap)
        if what == "r":
            out.extend(engine.evaluate(arg))
        elif what == "tick":
            out.extend(engine.tick(arg))
        else:
            out.extend(engine.gateway_status(ENT, arg[0], arg[1]))
    return out


def comparable(sig: AlarmSignal) -> tuple[Any, ...]:
    return (sig.kind, sig.key, sig.ts_ms, sig.category, sig.priority, sig.simulated)


def numbers(sig: AlarmSignal) -> list[float]:
    out = [x for x in (sig.value, sig.limit) if x is not None]
    out += [x for x in sig.details.values() if isinstance(x, int | float)]
    return out


@pytest.mark.parametrize("seed", range(4))
def test_engine_gives_the_same_signals_as_with_the_numpy_numerics(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    reg = workload_registry()
    events = workload(seed, reg)
    new = run(reg, events)  # the engine as built (compiled where scripts/build_native.py ran)
    # The reference: the engine from source with the old numerics swapped in (compiled
    # modules call each other directly, so a monkeypatch reaches only the pure ones).
    with pure_rules(), monkeypatch.context() as m:
        from hazmon.rules import build, engine, rate, sensor, trend

        m.setattr(sensor, "SampleWindow", ref.SampleWindow)
        m.setattr(build, "WindowPool", ref.WindowPool)
        m.setattr(trend, "fit_line", ref.fit_line)
        m.setattr(rate, "rate_per_min", ref.rate_per_min)
        some = next(s for s in engine.RulesEngine(reg)._sensors.values()
                    if s.window is not None)
        assert isinstance(some.window, ref.SampleWindow)  # the reference is what runs
        old = run(reg, events, engine.RulesEngine)
    assert [comparable(s) for s in new] == [comparable(s) for s in old]
    for a, b in zip(new, old, strict=True):
        if a.rule.startswith("trend_"):  # from the fit: equal within REL
            assert all(close(x, y) for x, y in zip(numbers(a), numbers(b), strict=True))
        else:
            assert a == b
    rules = {s.rule for s in new}
    # The workload reaches every rule whose numerics changed, and the others too.
    assert {"rate_rise", "rate_fall", "high", "stale", "frozen", "bad_quality",
            "out_of_range"} <= rules
    assert any(r.startswith("trend_") for r in rules)


@pytest.mark.parametrize("seed", range(2))
def test_the_compiled_engine_gives_exactly_the_pure_engines_signals(seed: int) -> None:
    # The same source compiled (mypyc) or not: every signal equal, numbers to the bit.
    # Without a build both runs are pure Python and this holds trivially.
    reg = workload_registry()
    events = workload(1000 + seed, reg)
    built = run(reg, events)
    with pure_rules():
        from hazmon.rules import engine

        assert not is_compiled(engine)
        pure = run(reg, events, engine.RulesEngine)
    assert built == pure
    assert len(built) > 100
    assert is_compiled(engine_module) == is_compiled(rate)  # built together or not at all


def test_a_snapshot_saved_before_the_engine_was_compiled_restores() -> None:
    # snapshot_before_compiling.json: the state the engine as it was before mypyc (commit
    # 6cea1be, pure Python) saved at the middle of workload seed 0. Today's engine saves
    # the same state as the same JSON, and restored from the old file it goes on exactly
    # as restored from its own.
    reg = workload_registry()
    events = workload(0, reg)
    half = len(events) // 2
    engine = RulesEngine(reg)
    play(engine, events[:half])
    old = json.loads((Path(__file__).parent / "snapshot_before_compiling.json").read_text())
    assert json.loads(json.dumps(engine.snapshot())) == old
    ours = RulesEngine.restore(reg, json.loads(json.dumps(engine.snapshot())))
    theirs = RulesEngine.restore(reg, old)
    assert theirs.active() == ours.active()
    assert ours.active()
    after = play(ours, events[half:])
    assert play(theirs, events[half:]) == after
    assert len(after) > 100


def play(engine: RulesEngine, events: list[tuple[str, Any]]) -> list[AlarmSignal]:
    out: list[AlarmSignal] = []
    for what, arg in events:
        if what == "r":
            out.extend(engine.evaluate(arg))
        elif what == "tick":
            out.extend(engine.tick(arg))
        else:
            out.extend(engine.gateway_status(ENT, arg[0], arg[1]))
    return out
