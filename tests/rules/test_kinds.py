"""Every registered rule kind survives a snapshot round trip, and none is left unsaved.

Generic over `kinds.SENSOR_KINDS` and `kinds.GROUP_KINDS`: a kind registered without a
scenario here fails (its parametrised case has none), a `SensorState` slot that neither
configuration, the codec nor a kind owns fails, and after the round trip the restored
engine's whole state (walked field by field, not through the codec) and its further
behaviour must equal the original's.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping

import numpy as np
import pytest

from hazmon.domain.reading import Quality, Reading
from hazmon.domain.registry import Registry
from hazmon.domain.signal import AlarmSignal
from hazmon.rules import RulesEngine, gateway, health, rate, threshold, trend, voting
from hazmon.rules.kind import GroupKind, Groups, SensorKind
from hazmon.rules.kinds import GROUP_KINDS, SENSOR_KINDS
from hazmon.rules.sensor import SensorState, VoteMember
from hazmon.rules.window import SampleWindow
from tests.rules.support import (
    CL2,
    ENT,
    FLOW,
    GD1,
    GD2,
    GD3,
    LEVEL,
    PRESSURE,
    T0,
    TEMP,
    feed,
    make_registry,
    reading,
    sensor,
)

SILENCE_S = 86_400  # the gateway stays quiet unless a scenario is about it
VOTE = {"name": "gas_second", "level": "second", "k": 2, "tags": [GD1, GD2, GD3]}
Scenario = Callable[[], tuple[RulesEngine, Registry]]


def _engine(reg: Registry) -> RulesEngine:
    return RulesEngine(reg, gateway_silence_s=SILENCE_S)


def _thresholds() -> tuple[RulesEngine, Registry]:
    reg = make_registry()
    engine = _engine(reg)
    feed(engine, reg, LEVEL, [(0, 10.8), (70, 10.8)])  # high, high-high raised (60 s on)
    feed(engine, reg, PRESSURE, [(60, 0.9)])  # its 15 s on-delay running
    feed(engine, reg, TEMP, [(0, 45.0), (70, 45.0), (80, 38.0)])  # raised, off-delay running
    return engine, reg


def _rates() -> tuple[RulesEngine, Registry]:
    reg = make_registry([sensor(LEVEL, rules={"rate": {"rise_per_min": 1.0},
                                              "trend": {"enabled": False}})])
    engine = _engine(reg)
    feed(engine, reg, LEVEL, [(t, 2.0 + 0.05 * t) for t in range(0, 61)])  # 3 m/min
    return engine, reg


def _trends() -> tuple[RulesEngine, Registry]:
    reg = make_registry([sensor(LEVEL)])
    engine = _engine(reg)
    rng = np.random.default_rng(7)
    feed(engine, reg, LEVEL,
         [(t, 5.0 + 0.005 * t + 0.05 * rng.standard_normal()) for t in range(0, 400, 5)])
    return engine, reg


def _health() -> tuple[RulesEngine, Registry]:
    reg = make_registry([
        sensor(PRESSURE, rules={"stale": {"enabled": False}}),  # frozen
        sensor(TEMP), sensor(FLOW), sensor(GD1, rules={"stale": {"after_s": 30}}),
        sensor(LEVEL),  # never heard from: stale counts from the first tick
    ])
    engine = _engine(reg)
    feed(engine, reg, PRESSURE, [(t, 0.5) for t in range(0, 3610, 10)])
    engine.evaluate(reading(reg, TEMP, 3600, 20.0, Quality.BAD))
    feed(engine, reg, FLOW, [(3600, 250.0)])  # beyond the range [0, 100]
    gd1 = reg.sensor(ENT, GD1)
    assert gd1 is not None
    engine.evaluate(Reading(gd1, T0 + 3000 * 1000, 1.0, simulated=True))  # a drill
    engine.tick(T0 + 3610 * 1000)  # GD1 stale, its alarm marked simulated
    return engine, reg


def _window() -> tuple[RulesEngine, Registry]:
    reg = make_registry([sensor(LEVEL)])
    engine = _engine(reg)
    feed(engine, reg, LEVEL, [(t, 5.0 + 0.01 * t) for t in range(0, 300, 10)])
    return engine, reg


def _gateway_offline() -> tuple[RulesEngine, Registry]:
    reg = make_registry()
    engine = _engine(reg)
    feed(engine, reg, LEVEL, [(0, 5.0)])
    engine.gateway_status(ENT, False, T0 + 10_000)  # its Last Will
    return engine, reg


def _gateway_catching_up() -> tuple[RulesEngine, Registry]:
    engine, reg = _gateway_offline()
    engine.gateway_status(ENT, True, T0 + 600_000)  # back; its backlog still to come
    feed(engine, reg, LEVEL, [(20, 10.8), (90, 10.8)])  # a condition to restore
    return engine, reg


def _votes() -> tuple[RulesEngine, Registry]:
    reg = make_registry(voting=[VOTE])
    engine = _engine(reg)
    feed(engine, reg, GD1, [(0, 60.0)])
    feed(engine, reg, GD2, [(0, 60.0)])
    return engine, reg


# One scenario per registered kind, keyed by the kind's snapshot key: each leaves that
# kind's state away from what a fresh engine holds (checked below).
SCENARIOS: Mapping[str, tuple[Scenario, ...]] = {
    "thresholds": (_thresholds,),
    "rates": (_rates,),
    "trends": (_trends,),
    "health": (_health,),
    "window": (_window,),
    "gateways": (_gateway_offline, _gateway_catching_up),
    "votes": (_votes,),
}
KINDS: list[SensorKind | GroupKind] = [*SENSOR_KINDS, *GROUP_KINDS]


def describe(value: object, top: bool = True) -> object:
    """Plain data for any engine state, walking each state class's `FIELDS` (compiled, a
    class has no `__slots__` to walk); another sensor met on the way (a vote member) is
    named by its key, so the walk does not loop."""
    if isinstance(value, SensorState):
        if not top:
            return ("sensor", value.enterprise, value.info.sensor.tag)
        return {name: describe(getattr(value, name), False) for name in SensorState.FIELDS}
    if isinstance(value, SampleWindow):
        return ("window", value.spacing_ms, value.to_lists())
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, float) and math.isnan(value):
        return "nan"  # a state's "no value yet" (a NaN equals nothing, itself included)
    if isinstance(value, Mapping):
        return {k: describe(v, False) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [describe(v, False) for v in value]
    fields: tuple[str, ...] = getattr(type(value), "FIELDS", ())
    if fields:
        return (type(value).__name__, {f: describe(getattr(value, f), False) for f in fields})
    return value  # numbers, strings, None, frozen settings and signals compare by value


def engine_state(engine: RulesEngine) -> dict[str, object]:
    return {
        "sensors": {key: describe(s) for key, s in engine._sensors.items()},
        "gateways": describe(engine._gateways),
        "votes": describe(engine._votes),
        "active": dict(engine._active),
        "pending": sorted((s.enterprise, s.info.sensor.tag) for s in engine._pending),
        "now_ms": engine._now_ms,
    }


def roundtrip(engine: RulesEngine, reg: Registry) -> RulesEngine:
    snap = json.loads(json.dumps(engine.snapshot()))  # through text, as a restart does
    return RulesEngine.restore(reg, snap, gateway_silence_s=SILENCE_S)


def kind_part(kind: SensorKind | GroupKind, engine: RulesEngine) -> object:
    groups = Groups(engine._gateways, engine._votes)
    if isinstance(kind, GroupKind):
        return kind.dump(groups)
    return {key: kind.dump(s) for key, s in engine._sensors.items()}


def carry_on(engine: RulesEngine, reg: Registry) -> list[AlarmSignal]:
    """The same continuation for both engines: clock ticks (delays, stale, silence) and
    ordinary readings of every sensor, then the silence of the gateway."""
    start = T0 + 4000 * 1000
    out = engine.tick(start)
    normal = {LEVEL: 5.0, PRESSURE: 0.3, TEMP: 20.0, FLOW: 50.0, GD1: 0.0, GD2: 0.0,
              GD3: 0.0, CL2: 0.0}
    for i in range(3):
        ts = start + (i + 1) * 20_000
        for (_, tag), info in reg.sensors.items():
            out += engine.evaluate(Reading(info, ts, normal[tag]))
        out += engine.tick(ts)
    out += engine.tick(start + (SILENCE_S + 60) * 1000)
    return out


def test_every_sensor_slot_is_configuration_or_saved() -> None:
    owners = [SensorState.CONFIG_SLOTS, SensorState.READING_SLOTS,
              *(frozenset(k.slots) for k in SENSOR_KINDS)]
    owned = [slot for group in owners for slot in group]
    assert len(owned) == len(set(owned)), "a slot claimed twice"
    assert set(SensorState.FIELDS) == set(owned)


STATE_CLASSES = (SensorState, VoteMember, health.Health, health.Frozen, threshold.Threshold,
                 rate.Rate, trend.Trend, gateway.Gateway, gateway.GatewayWatch, voting.Vote)


@pytest.mark.parametrize("cls", STATE_CLASSES, ids=lambda c: c.__name__)
def test_fields_name_every_attribute(cls: type) -> None:
    # `describe` walks FIELDS: from source they are the class's __slots__; compiled
    # (mypyc keeps no __slots__) they must be the attributes mypyc laid out.
    attrs = getattr(cls, "__mypyc_attrs__", None) or cls.__slots__
    assert set(attrs) == set(cls.FIELDS)  # type: ignore[attr-defined]
    assert len(cls.FIELDS) == len(set(cls.FIELDS))  # type: ignore[attr-defined]


def test_every_registered_kind_has_a_scenario() -> None:
    keys = [k.key for k in KINDS]
    assert len(keys) == len(set(keys))
    assert set(SCENARIOS) == set(keys)


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.key)
def test_kind_state_survives_a_snapshot_round_trip(kind: SensorKind | GroupKind) -> None:
    assert kind.key in SCENARIOS, f"no round-trip scenario for the kind {kind.key!r}"
    for scenario in SCENARIOS[kind.key]:
        engine, reg = scenario()
        fresh = _engine(reg)
        assert kind_part(kind, engine) != kind_part(kind, fresh), "scenario left it at rest"

        restored = roundtrip(engine, reg)
        # By design a restart sets the saved process's reception times aside (silence
        # counts from the restart): the original, so restarted, is what must come back.
        for watch in engine._gateways.values():
            gateway.after_restart(watch)

        assert kind_part(kind, restored) == kind_part(kind, engine)
        assert engine_state(restored) == engine_state(engine)
        assert restored.active() == engine.active()
        assert engine.active(), "the scenario should leave a condition to restore"
        assert carry_on(restored, reg) == carry_on(engine, reg)


def test_the_check_catches_a_kind_left_out_of_the_codec(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Control: with the rate kind unregistered, its raised state is lost in the round
    # trip, and both the state walk and the restored alarms say so.
    from hazmon.rules import kinds, snapshot

    without = tuple(k for k in kinds.SENSOR_KINDS if k.key != "rates")
    monkeypatch.setattr(snapshot, "SENSOR_KINDS", without)
    engine, reg = _rates()
    restored = roundtrip(engine, reg)
    assert engine_state(restored) != engine_state(engine)
    assert {s.rule for s in engine.active()} - {s.rule for s in restored.active()} == {
        "rate_rise"
    }
