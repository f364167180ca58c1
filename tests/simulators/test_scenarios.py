"""Each scenario's signal crosses the limits it documents: sampled from the model, no broker."""

from __future__ import annotations

import itertools
import json

import pytest

from hazmon.simulators.gateway import BAD_BATCH_KINDS, BAD_READING_KINDS, GatewaySim
from hazmon.simulators.plant import GAS_KINDS, EnterprisePlant, build_plants
from hazmon.simulators.registry_gen import GeneratedRegistry
from hazmon.simulators.scenarios import (
    SCENARIOS,
    ChatteringSensor,
    ClockSkew,
    ExothermicRunaway,
    GasLeak,
    MalformedPayloads,
    Scenario,
    ScenarioError,
    SensorDrift,
    SensorStuck,
    TankOverfill,
    bind_scenarios,
    parse_scenario,
)

T0 = 1795312800.0  # 2026-11-22 10:00:00 +08:00, as in conftest

RULES = {"high", "high_high", "low", "low_low", "rate_rise", "trend_high_high", "stale",
         "frozen", "bad_quality", "out_of_range", "gateway_offline", "vote"}


def times(start: float, end: float, step: float) -> list[float]:
    n = int((end - start) / step)
    return [start + i * step for i in range(n + 1)]


def bind(plant: EnterprisePlant, sc: Scenario) -> Scenario:
    bind_scenarios([plant], [sc], T0)
    return sc


def limit(plant: EnterprisePlant, tag: str, name: str) -> float:
    value = plant.sensor(tag).spec.limit(name)
    assert value is not None
    return value


def test_every_scenario_documents_known_rules() -> None:
    assert len(SCENARIOS) == 9
    for cls in SCENARIOS.values():
        assert cls.__doc__
        assert cls.expected_alarms <= RULES
    assert ClockSkew("MHS-01").expected_alarms == {"gateway_offline"}
    assert ClockSkew("MHS-01", offset_s=-600).expected_alarms == frozenset()


def test_normal_operation_touches_no_limit(registry: GeneratedRegistry) -> None:
    """A day of every sensor of every plant: no alarm without a scenario."""
    for plant in build_plants(registry.data, seed=7):
        for s in plant.sensors:
            values = plant.sample(s.spec.tag, times(T0, T0 + 86400, 120))
            lo, hi = min(values), max(values)
            if s.spec.kind in GAS_KINDS:
                first, _ = s.spec.gas_limits()
                assert hi < first, s.spec.tag
                continue
            for name in ("high", "high_high"):
                if (lim := s.spec.limit(name)) is not None:
                    assert hi < lim, (s.spec.tag, name, hi)
            for name in ("low", "low_low"):
                if (lim := s.spec.limit(name)) is not None:
                    assert lo > lim, (s.spec.tag, name, lo)
            assert len(set(values)) > 10, s.spec.tag  # alive, not frozen
            if s.spec.kind in ("level", "temperature") and s.spec.hazard_source_kind == "tank_farm":
                assert hi - lo > 0.05 * s.spec.span  # a visible daily cycle


def test_tank_overfill_reaches_high_high(plant: EnterprisePlant) -> None:
    sc = bind(plant, TankOverfill("MHS-01", start_s=600))
    (tag,) = sc.targets
    assert plant.sensor(tag).spec.kind == "level"
    before = plant.sample(tag, times(T0, T0 + 599, 10))
    assert max(before) < limit(plant, tag, "high")
    during = plant.sample(tag, times(T0 + 600, T0 + 600 + 5400, 10))
    hh = limit(plant, tag, "high_high")
    first = next(i for i, v in enumerate(during) if v >= hh)
    assert 0.5 * 3600 < first * 10 < 3600  # crossed during the ramp
    assert max(during) == plant.sensor(tag).spec.hi  # overflowing
    assert all(b >= a - 0.05 for a, b in itertools.pairwise(during[:360]))


def test_exothermic_runaway_temperature_and_pressure(plant: EnterprisePlant) -> None:
    sc = bind(plant, ExothermicRunaway("MHS-02", start_s=0))
    kinds = {plant.sensor(t).spec.kind: t for t in sc.targets}
    assert set(kinds) == {"temperature", "pressure"}
    ts = times(T0, T0 + 2400, 5)
    for tag in kinds.values():
        values = plant.sample(tag, ts)
        hh = limit(plant, tag, "high_high")
        crossed = next(i for i, v in enumerate(values) if v >= hh) * 5
        assert 900 < crossed <= 1260, (tag, crossed)
        # Accelerating: the last 10 minutes before crossing rise more than the 10 before.
        i = crossed // 5
        assert values[i] - values[i - 120] > 2 * (values[i - 120] - values[i - 240])


def test_gas_leak_spreads_to_neighbours(plant: EnterprisePlant) -> None:
    sc = bind(plant, GasLeak("MHS-01", start_s=60, tag="MHS-01.GD02"))
    assert isinstance(sc, GasLeak)
    assert len(sc.targets) >= 3
    peaks: dict[str, float] = {}
    onset: dict[str, float] = {}
    for tag in sorted(sc.targets):
        spec = plant.sensor(tag).spec
        first, _ = spec.gas_limits()
        ts = times(T0, T0 + 1800, 5)
        values = plant.sample(tag, ts)
        peaks[tag] = max(values)
        onset[tag] = next((t for t, v in zip(ts, values, strict=True) if v >= first), 1e18)
    second = plant.sensor("MHS-01.GD02").spec.gas_limits()[1]
    above_second = [t for t, v in peaks.items() if v >= second]
    assert "MHS-01.GD02" in above_second
    assert len(above_second) >= 2  # the vote of two detectors at the second level
    assert onset["MHS-01.GD02"] < onset["MHS-01.GD01"]  # the source first, then the others
    assert onset["MHS-01.GD02"] < onset["MHS-01.GD03"] < onset["MHS-01.GD04"]


def test_sensor_stuck_freezes_exactly(plant: EnterprisePlant) -> None:
    sc = bind(plant, SensorStuck("MHS-01", start_s=300, duration_s=600))
    (tag,) = sc.targets
    before = plant.sample(tag, times(T0, T0 + 290, 10))
    frozen = plant.sample(tag, times(T0 + 300, T0 + 890, 10))
    after = plant.sample(tag, times(T0 + 900, T0 + 1500, 10))
    assert len(set(before)) > 3
    assert len(set(frozen)) == 1
    assert len(set(after)) > 3


def test_sensor_drift_crosses_high_then_high_high(plant: EnterprisePlant) -> None:
    sc = bind(plant, SensorDrift("MHS-01", start_s=0))
    (tag,) = sc.targets
    ts = times(T0, T0 + 6 * 3600, 60)
    values = plant.sample(tag, ts)
    high, hh = limit(plant, tag, "high"), limit(plant, tag, "high_high")
    t_high = next(t for t, v in zip(ts, values, strict=True) if v >= high)
    t_hh = next(t for t, v in zip(ts, values, strict=True) if v >= hh)
    assert T0 + 3600 < t_high < t_hh <= T0 + 4 * 3600 + 600


def test_chattering_sensor_crosses_high_repeatedly(plant: EnterprisePlant) -> None:
    sc = bind(plant, ChatteringSensor("MHS-02", start_s=0))
    (tag,) = sc.targets
    high = limit(plant, tag, "high")
    values = plant.sample(tag, times(T0, T0 + 600, 1))
    rises = sum(1 for a, b in itertools.pairwise(values) if a < high <= b)
    assert rises / 10 >= 3  # ≥ 3 activations a minute: chattering by EEMUA 191


def test_malformed_produces_every_kind_of_bad_input(plant: EnterprisePlant) -> None:
    sc = bind(plant, MalformedPayloads("MHS-02", start_s=0, duration_s=60))
    assert isinstance(sc, MalformedPayloads)
    gw = GatewaySim(plant, T0, rate=1)
    messages = [m for k in range(20) for m in gw.tick(k).messages]
    reading_defects = {d for m in messages if m.seq is not None for d in m.defects}
    assert set(BAD_READING_KINDS) | {"quality_bad", "out_of_range"} <= reading_defects
    bad = {m.defects[0]: m for m in messages if m.seq is None}
    assert set(bad) == set(BAD_BATCH_KINDS)

    def undecodable(p: bytes) -> bool:
        try:
            doc = json.loads(p.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return True
        return not isinstance(doc, dict) or not isinstance(doc.get("readings"), list)

    for kind in ("not_json", "not_utf8", "not_object", "readings_not_list", "empty"):
        assert undecodable(bad[kind].payload), kind
    assert len(bad["too_large"].payload) > 256 * 1024
    assert len(json.loads(bad["too_many_readings"].payload)["readings"]) > 1000
    assert json.loads(bad["bad_batch_ts"].payload)["ts"] == "yesterday at noon"
    assert bad["wrong_topic"].topic.endswith("/telemtry")
    assert b"1e999" in bad["non_finite"].payload
    # The good part of each batch still goes: every sensor has its reading.
    good = json.loads(messages[0].payload)
    tags = {r.get("tag") for r in good["readings"]}
    assert {s.spec.tag for s in plant.sensors} <= tags
    by_tag = {r.get("tag"): r for r in good["readings"]}
    assert by_tag[sc.bad_quality_tag]["quality"] == "bad"
    oor = plant.sensor(sc.out_of_range_tag).spec
    assert by_tag[sc.out_of_range_tag]["value"] > oor.hi
    # Outside the window, clean batches again.
    late = gw.tick(100).messages
    assert len(late) == 1
    assert late[0].defects == ()


def test_clock_skew_shifts_every_time(plant: EnterprisePlant) -> None:
    bind(plant, ClockSkew("MHS-01", start_s=10, offset_s=-900))
    gw = GatewaySim(plant, T0, rate=1, readings_per_batch=2 * len(plant.sensors))
    before = json.loads(gw.tick(5).messages[0].payload)
    skewed = json.loads(gw.tick(20).messages[0].payload)
    assert before["ts"] == "2026-11-22T10:00:05.000+08:00"
    assert skewed["ts"] == "2026-11-22T09:45:20.000+08:00"
    stamps = [r["ts"] for r in skewed["readings"] if "ts" in r]
    assert stamps
    assert all(ts == round((T0 + 19.5 - 900) * 1000) for ts in stamps)
    status = json.loads(gw.status("online", T0 + 20).payload)
    assert status["ts"] == "2026-11-22T09:45:20.000+08:00"


def test_outage_drops_then_sends_backlog(plant: EnterprisePlant) -> None:
    bind(plant, parse_scenario("outage@MHS-03@10@20"))
    gw = GatewaySim(plant, T0, rate=1)
    ticks = [gw.tick(k) for k in range(40)]
    assert [k for k, t in enumerate(ticks) if t.drop] == [10]
    assert [k for k, t in enumerate(ticks) if t.reconnect] == [30]
    assert all(not t.messages for t in ticks[10:30])
    back = ticks[30].messages
    assert back[0].topic.endswith("/status")
    assert json.loads(back[0].payload)["state"] == "online"
    assert back[0].retain
    assert [m.backlog for m in back[1:]] == [True] * 20 + [False]
    seqs = [m.seq for t in ticks for m in t.messages]
    assert seqs == [*range(1, 11), None, *range(11, 41)]
    first_late = json.loads(back[1].payload)
    assert first_late["seq"] == 11
    assert first_late["ts"] == "2026-11-22T10:00:10.000+08:00"  # its original time


def test_gateway_payloads_deterministic(registry: GeneratedRegistry) -> None:
    def run(seed: int) -> list[bytes]:
        plant = build_plants(registry.data, seed=seed)[1]
        bind_scenarios([plant], [parse_scenario("leak@MHS-01@3")], T0)
        gw = GatewaySim(plant, T0, rate=2)
        return [m.payload for k in range(20) for m in gw.tick(k).messages]

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_readings_per_batch(plant: EnterprisePlant) -> None:
    m = len(plant.sensors)
    dense = GatewaySim(plant, T0, rate=1, readings_per_batch=3 * m + 1)
    batch = json.loads(dense.tick(4).messages[0].payload)
    assert len(batch["readings"]) == 3 * m + 1
    stamps = sorted({r.get("ts", round((T0 + 4) * 1000)) for r in batch["readings"]})
    assert stamps[0] > round((T0 + 3) * 1000)  # spread over the batch interval
    sparse = GatewaySim(build_plants_copy(plant), T0, rate=1, readings_per_batch=5)
    seen: set[str] = set()
    for k in range(-(-m // 5)):
        seen |= {r["tag"] for r in json.loads(sparse.tick(k).messages[0].payload)["readings"]}
    assert seen == {s.spec.tag for s in plant.sensors}  # round-robin covers every sensor


def build_plants_copy(plant: EnterprisePlant) -> EnterprisePlant:
    return EnterprisePlant(plant.enterprise, plant.region, plant.name, list(plant.sensors))


def test_parse_scenario_specs(registry: GeneratedRegistry) -> None:
    sc = parse_scenario("skew@MHS-02@30@120@offset_s=-60")
    assert isinstance(sc, ClockSkew)
    assert (sc.hazard_source, sc.start_s, sc.duration_s, sc.p["offset_s"]) == (
        "MHS-02", 30.0, 120.0, -60.0)
    plants = build_plants(registry.data, seed=0)
    third = plants[2].enterprise  # its MHS-01 is a tank farm, as is the first's
    sc2 = parse_scenario(f"stuck@{third}/MHS-01@0@tag=MHS-01.T101.TT01")
    bind_scenarios(plants, [sc2], T0)
    assert sc2.plant is plants[2]
    assert sc2.targets == {"MHS-01.T101.TT01"}
    for bad in ("overfill@MHS-01", "nosuch@MHS-01@0", "overfill@MHS-01@soon",
                "overfill@MHS-01@0@speed=3"):
        with pytest.raises(ScenarioError):
            parse_scenario(bad)
    with pytest.raises(ScenarioError, match="no simulated plant"):
        bind_scenarios(plants, [parse_scenario("overfill@MHS-09@0")], T0)
    with pytest.raises(ScenarioError, match="no suitable sensor"):
        # the warehouse has no level sensor
        bind_scenarios(plants[:1], [parse_scenario("overfill@MHS-03@0")], T0)
