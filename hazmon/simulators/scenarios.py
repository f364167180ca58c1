"""Scenarios: what goes wrong in a drill, starting at a chosen time on a chosen hazard source.

A scenario is bound to one enterprise's plant (through the hazard source it names) and
acts in one of two ways:

- on signals: `transform(sensor, t, value)` changes the readings of its `targets` while it
  is active (overfill, runaway, leak, stuck, drift, chatter);
- on the gateway: `offline(t)`, `clock_offset_s(t)` and the malformed-payload hooks change
  what the plant's gateway sends (outage, clock skew, malformed payloads).

Each class states in `expected_alarms` which rules of hazmon.rules it should make fire,
with the rule names of docs/CONTRACT.md §5.5 ("high", "high_high", ... ; for gas detectors high and
high_high are the GB 50493 first and second levels), under the default rules of
hazmon.domain.rulespec on a generated registry (registry_gen): kind defaults for
deadbands and on-delays (ISA-18.2 starting points: level 60 s, pressure 15 s,
temperature 60 s, gas none), trend prediction on level, pressure and temperature, and no
rate-of-change limit or voting group, since those are off until a registry configures
them. With a `rules: {rate: {rise_per_min: ...}}` on the target, the steep scenarios
(overfill, runaway, leak) also raise rate_rise; with a `voting:` group on the
detectors, the leak raises its vote. The defaults here leave a wide margin (every
threshold is crossed by at least 10 % of the distance to it, and held for longer than
its on-delay). tests/integration/test_scenarios.py runs each one through the whole
service and checks these sets, and that nothing else is raised.

A spec on the command line is `NAME@HAZARD_SOURCE@START_S[@DURATION_S][@key=value...]`,
where HAZARD_SOURCE is `MHS-01` (the first simulated enterprise that has it) or
`ENTERPRISE/MHS-01`, e.g. `tank_overfill@MHS-01@120` or `clock_skew@MHS-02@0@offset_s=-900`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Final

from hazmon.simulators.plant import GAS_KINDS, EnterprisePlant, SimSensor

if TYPE_CHECKING:
    from hazmon.simulators.gateway import Defects


class ScenarioError(ValueError):
    """A scenario spec cannot be parsed or does not fit the plant it names."""


# Seconds a gateway clock may run ahead before hazmon rejects its readings (docs/CONTRACT.md §3.1).
FUTURE_TOLERANCE_S: Final = 300.0


class Scenario:
    """Base class: a time window on one hazard source of one enterprise."""

    name: ClassVar[str] = ""
    aliases: ClassVar[tuple[str, ...]] = ()
    default_duration_s: ClassVar[float | None] = None
    params: ClassVar[Mapping[str, float]] = {}  # tunable numbers, overridable by key=value
    expected_alarms: frozenset[str] = frozenset()
    # The warnings (预警) it yields on its hazard source within its first 10 minutes, under
    # the default warning policy (deploy/warning-policy.yaml), by the source's tier:
    # tier → {(level, reason code)} (hazmon.warnings; tests/warnings/test_warning_scenario.py).
    expected_warnings: ClassVar[Mapping[int, frozenset[tuple[str, str]]]] = {}

    def __init__(
        self,
        hazard_source: str,
        start_s: float = 0.0,
        duration_s: float | None = None,
        *,
        enterprise: str | None = None,
        tag: str | None = None,
        **params: float,
    ) -> None:
        unknown = set(params) - set(self.params)
        if unknown:
            raise ScenarioError(
                f"{self.name}: unknown parameter(s) {sorted(unknown)}; known: {sorted(self.params)}"
            )
        self.hazard_source = hazard_source
        self.start_s = float(start_s)
        self.duration_s = duration_s if duration_s is not None else self.default_duration_s
        self.enterprise = enterprise
        self.tag = tag
        self.p: dict[str, float] = {**self.params, **params}
        self.targets: frozenset[str] = frozenset()
        self.start = math.inf
        self.end = math.inf
        self.plant: EnterprisePlant | None = None

    @property
    def label(self) -> str:
        return f"{self.name}@{self.hazard_source}@{self.start_s:g}"

    def bind(self, plant: EnterprisePlant, t0: float) -> None:
        """Attach to `plant`, with the simulation starting at epoch seconds `t0`."""
        if self.hazard_source not in plant.hazard_sources:
            raise ScenarioError(f"{self.label}: {plant.enterprise} has no {self.hazard_source}")
        self.plant = plant
        self.enterprise = plant.enterprise
        self.start = t0 + self.start_s
        self.end = self.start + self.duration_s if self.duration_s is not None else math.inf
        self.targets = frozenset(s.spec.tag for s in self.choose_targets(plant))
        plant.scenarios.append(self)

    def choose_targets(self, plant: EnterprisePlant) -> Sequence[SimSensor]:
        return ()

    def active(self, t: float) -> bool:
        return self.start <= t < self.end

    # --- signal hook ---
    def transform(self, sensor: SimSensor, t: float, value: float) -> float:
        return value

    # --- gateway hooks ---
    def offline(self, t: float) -> bool:
        return False

    def clock_offset_s(self, t: float) -> float:
        return 0.0

    def corrupt(self, t: float, readings: list[dict[str, Any]], defects: Defects) -> None:
        """Change a batch's readings in place and add bad messages to `defects`."""

    # --- helpers ---
    def _sensors(self, plant: EnterprisePlant, kinds: Iterable[str]) -> list[SimSensor]:
        wanted = set(kinds)
        return [s for s in plant.sensors_of(self.hazard_source) if s.spec.kind in wanted]

    def _tagged_or(self, plant: EnterprisePlant, candidates: Sequence[SimSensor]) -> SimSensor:
        if self.tag is not None:
            try:
                sensor = plant.sensor(self.tag)
            except KeyError:
                raise ScenarioError(f"{self.label}: no sensor {self.tag}") from None
            if sensor.spec.hazard_source != self.hazard_source:
                raise ScenarioError(f"{self.label}: {self.tag} is not in {self.hazard_source}")
            return sensor
        if not candidates:
            raise ScenarioError(f"{self.label}: no suitable sensor in {self.hazard_source}")
        return candidates[0]


def _with_limit(sensors: Iterable[SimSensor], name: str) -> list[SimSensor]:
    return [s for s in sensors if s.spec.limit(name) is not None]


class TankOverfill(Scenario):
    """Tank overfill: a wrong line-up keeps filling one tank until it overflows.

    The level leaves its normal value at `start` and climbs linearly to the top of its
    range in `ramp_s` (default 1 h: about 6 m/h on a 12 m tank), then stays there until
    the scenario ends. Crosses high, then high-high at about three quarters of the ramp
    (each after the level's 60 s on-delay); the steady climb trips the trend prediction
    first (and rate-of-rise where a rate limit is configured).
    """

    name = "tank_overfill"
    aliases = ("overfill",)
    default_duration_s = 5400.0
    params: ClassVar[Mapping[str, float]] = {"ramp_s": 3600.0}
    expected_alarms = frozenset({"high", "high_high", "trend_high_high"})

    def choose_targets(self, plant: EnterprisePlant) -> Sequence[SimSensor]:
        return [self._tagged_or(plant, _with_limit(self._sensors(plant, ["level"]), "high_high"))]

    def transform(self, sensor: SimSensor, t: float, value: float) -> float:
        p = min((t - self.start) / self.p["ramp_s"], 1.0)
        return value + p * (sensor.spec.hi - value)


class ExothermicRunaway(Scenario):
    """Exothermic runaway: cooling lost on a reactor, heat release accelerates.

    Temperature departs exponentially (time constant `tau_s`), reaching 30 % beyond its
    high-high limit (measured from the operating point) after `to_high_high_s`, and
    keeps rising to the top of its range; the pressure of the same equipment follows it
    `lag_s` later (vapour pressure and gas evolution), crossing its own high-high in the
    same proportion. Both cross high and high-high; the accelerating rise trips the trend
    prediction (and rate-of-rise where a rate limit is configured).
    """

    name = "exothermic_runaway"
    aliases = ("runaway",)
    default_duration_s = 2400.0
    params: ClassVar[Mapping[str, float]] = {
        "to_high_high_s": 1200.0,
        "tau_s": 300.0,
        "lag_s": 30.0,
    }
    expected_alarms = frozenset({"high", "high_high", "trend_high_high"})

    def choose_targets(self, plant: EnterprisePlant) -> Sequence[SimSensor]:
        temps = _with_limit(self._sensors(plant, ["temperature"]), "high_high")
        temp = self._tagged_or(plant, temps)
        pressures = _with_limit(self._sensors(plant, ["pressure"]), "high_high")
        same = [p for p in pressures if p.spec.equipment == temp.spec.equipment]
        return [temp, *(same or pressures)[:1]]

    def progress(self, t: float) -> float:
        """0 at start, 1 at `to_high_high_s`, growing exponentially."""
        tau, d = self.p["tau_s"], self.p["to_high_high_s"]
        if t <= self.start:
            return 0.0
        return math.expm1((t - self.start) / tau) / math.expm1(d / tau)

    def transform(self, sensor: SimSensor, t: float, value: float) -> float:
        hh = sensor.spec.limit("high_high")
        if hh is None:
            return value
        lag = self.p["lag_s"] if sensor.spec.kind == "pressure" else 0.0
        x = self.progress(t - lag)
        rise = 1.3 * (hh - sensor.model.center)
        return min(value + x * rise, sensor.spec.hi)


class GasLeak(Scenario):
    """A leak at one gas detector spreading to its neighbours.

    The detectors for the same gas in the hazard source, in tag order, stand in a line:
    the one at distance d from the source (the `tag`, else the first) sees the plume
    `delay_s`·d later at `attenuation`^d of the source's concentration, each rising with
    time constant `tau_s` and flickering ±10 % with the wind. Concentrations are measured
    above the detector's clean-air reading: the source's rise peaks at 1.25× the second
    level's distance over `attenuation` (capped at full scale), so (with the default
    attenuation 0.5) it and its nearest neighbour pass the second level by 12 % or more,
    and the next one reaches 0.56-0.69 of the way to it: past the first level (about
    half of the second), clear of the second, even for a chlorine detector whose noise
    is a tenth of its first level. Farther detectors may touch the first level. Raises
    high (first level) and high_high (second level) on several detectors (and, where
    the registry configures them, rate-of-rise and the vote of two or more detectors).

    (It used to peak at 1.35× the second level over an attenuation of 0.6 measured from
    zero: the second detector out then reached 0.81-0.89 of the second level plus its
    clean-air offset and noise, and a chlorine detector there crossed it.)
    """

    name = "gas_leak"
    aliases = ("leak",)
    default_duration_s = 1800.0
    params: ClassVar[Mapping[str, float]] = {
        "tau_s": 90.0,
        "delay_s": 45.0,
        "attenuation": 0.5,
    }
    expected_alarms = frozenset({"high", "high_high"})
    # Two detectors at the second level at once: red on a tier-1/2 source at the next
    # evaluation; on tier 3/4 a second-level process alarm is orange at once. One warning
    # whatever the number of detectors and evaluations (and while it lasts less than the
    # 10 minutes after which its unacknowledged critical alarms would add a reason).
    expected_warnings: ClassVar[Mapping[int, frozenset[tuple[str, str]]]] = {
        1: frozenset({("red", "multi_sensor_second_level")}),
        2: frozenset({("red", "multi_sensor_second_level")}),
        3: frozenset({("orange", "second_level_alarm_low_tier")}),
        4: frozenset({("orange", "second_level_alarm_low_tier")}),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.distance: dict[str, int] = {}

    def choose_targets(self, plant: EnterprisePlant) -> Sequence[SimSensor]:
        detectors = self._sensors(plant, GAS_KINDS)
        source = self._tagged_or(plant, detectors)
        same = [d for d in detectors if d.spec.gas == source.spec.gas]
        i0 = same.index(source) if source in same else 0
        self.distance = {d.spec.tag: abs(i - i0) for i, d in enumerate(same)}
        return same

    def transform(self, sensor: SimSensor, t: float, value: float) -> float:
        d = self.distance.get(sensor.spec.tag, 0)
        dt = t - self.start - d * self.p["delay_s"]
        if dt <= 0:
            return value
        att = self.p["attenuation"]
        _, second = sensor.spec.gas_limits()
        clean = sensor.model.center
        peak = min(sensor.spec.hi - clean, 1.25 * (second - clean) / att)
        flicker = 1.0 + 0.1 * math.sin(2 * math.pi * t / 37.0 + d)
        return value + peak * att**d * -math.expm1(-dt / self.p["tau_s"]) * flicker


class SensorStuck(Scenario):
    """A transmitter freezes: from `start` it repeats its last value exactly.

    The reading stays plausible (inside every limit), so only the frozen-value rule can
    see it.
    """

    name = "sensor_stuck"
    aliases = ("stuck", "frozen")
    default_duration_s = 3600.0
    expected_alarms = frozenset({"frozen"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.frozen: float | None = None

    def choose_targets(self, plant: EnterprisePlant) -> Sequence[SimSensor]:
        sensors = [s for s in plant.sensors_of(self.hazard_source) if s.spec.kind not in GAS_KINDS]
        pressure = [s for s in sensors if s.spec.kind == "pressure"]
        return [self._tagged_or(plant, pressure or sensors)]

    def transform(self, sensor: SimSensor, t: float, value: float) -> float:
        if self.frozen is None:
            self.frozen = sensor.finish(value)
        return self.frozen


class SensorDrift(Scenario):
    """A transmitter drifts upward (a fouled or aging cell) while the process is steady.

    The offset grows linearly, reaching the high-high limit `to_high_high_s` after
    `start` (default 4 h) and going on. Crosses high then high-high; the trend rule
    predicts the high-high crossing first (its default horizon, 30 min, is reached well
    before: a drift is exactly the steady slope it looks for).
    """

    name = "sensor_drift"
    aliases = ("drift",)
    default_duration_s = 6 * 3600.0
    params: ClassVar[Mapping[str, float]] = {"to_high_high_s": 4 * 3600.0}
    expected_alarms = frozenset({"high", "high_high", "trend_high_high"})

    def choose_targets(self, plant: EnterprisePlant) -> Sequence[SimSensor]:
        sensors = _with_limit(
            (s for s in plant.sensors_of(self.hazard_source) if s.spec.kind not in GAS_KINDS),
            "high_high",
        )
        temps = [s for s in sensors if s.spec.kind == "temperature"]
        return [self._tagged_or(plant, temps or sensors)]

    def transform(self, sensor: SimSensor, t: float, value: float) -> float:
        hh = sensor.spec.limit("high_high")
        if hh is None:
            return value
        # 10 % of the span past high-high at `to_high_high_s`, so noise cannot hide it.
        target = hh + 0.1 * sensor.spec.span - sensor.model.center
        return value + target * (t - self.start) / self.p["to_high_high_s"]


class ChatteringSensor(Scenario):
    """A noisy signal sitting on its high limit: it crosses back and forth every few seconds.

    The value oscillates ±`amplitude` (share of span) around the high limit with period
    `period_s`, plus ripple: with no deadband or delay the high alarm would chatter
    (3 or more activations a minute, EEMUA 191). An on-delay longer than the time the
    value stays above the limit (about half a period) never lets it raise at all, and
    the ISA-18.2 defaults do exactly that: the target is a level, pressure or flow
    transmitter, with on-delays of 60 s, 15 s and 15 s against 10 s above the limit at a
    time. So by default it raises nothing, and the check is that the nuisance stays
    quiet. With `on_delay_s: 0` on the target a deadband wider than the amplitude holds
    a single high raised instead; with neither it chatters.
    """

    name = "chattering_sensor"
    aliases = ("chatter", "chattering")
    default_duration_s = 1800.0
    params: ClassVar[Mapping[str, float]] = {"amplitude": 0.02, "period_s": 20.0}
    expected_alarms: frozenset[str] = frozenset()

    def choose_targets(self, plant: EnterprisePlant) -> Sequence[SimSensor]:
        sensors = _with_limit(
            (s for s in plant.sensors_of(self.hazard_source) if s.spec.kind not in GAS_KINDS),
            "high",
        )
        return [self._tagged_or(plant, sensors)]

    def transform(self, sensor: SimSensor, t: float, value: float) -> float:
        high = sensor.spec.limit("high")
        if high is None:
            return value
        a = self.p["amplitude"] * sensor.spec.span
        phase = 2 * math.pi * (t - self.start) / self.p["period_s"]
        ripple = 0.2 * math.sin(7.3 * phase)
        # Keep the transmitter's own noise, centred on the limit instead of its set point.
        return high + a * (math.sin(phase) + ripple) + (value - sensor.model.center) * 0.1


class GatewayOutage(Scenario):
    """The plant's gateway loses its connection (power or link failure) for `duration_s`.

    The connection drops without an MQTT DISCONNECT, so the broker publishes the Last
    Will: status offline (retained). The gateway keeps sampling; on recovery it
    reconnects, publishes status online and then the backlog in order with the original
    timestamps and sequence numbers. Raises gateway_offline (from the Will, at once;
    else from the silence timeout), cleared by the online status. Its sensors are not
    raised stale however long the outage: stale is held while the gateway is offline
    (one gateway alarm, not one per sensor) and while its backlog comes in.
    """

    name = "gateway_outage"
    aliases = ("outage",)
    default_duration_s = 600.0
    expected_alarms = frozenset({"gateway_offline"})

    def offline(self, t: float) -> bool:
        return self.active(t)


class ClockSkew(Scenario):
    """The gateway's clock is `offset_s` off (default 10 minutes ahead) from `start` on.

    Every batch and reading time carries the offset. Ahead by more than 5 minutes, hazmon
    rejects each reading as from the future (docs/CONTRACT.md §3.1): no reading of the plant gets
    through, and after the silence timeout that is one gateway_offline (reason silence),
    which holds the stale alarms of its sensors back (their timeout is no shorter).
    Behind, the readings are accepted (stored, evaluated at their own time) and alarms
    appear with that delay; a lag shorter than the stale timeout raises nothing.
    """

    name = "clock_skew"
    aliases = ("skew",)
    params: ClassVar[Mapping[str, float]] = {"offset_s": 600.0}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        ahead = self.p["offset_s"] > FUTURE_TOLERANCE_S
        self.expected_alarms = frozenset({"gateway_offline"}) if ahead else frozenset()

    def clock_offset_s(self, t: float) -> float:
        return self.p["offset_s"] if self.active(t) else 0.0


class MalformedPayloads(Scenario):
    """The gateway sends bad input alongside its good batches (a firmware bug, a bad config).

    Every batch while active carries two bad readings, cycling through the kinds of
    `gateway.BAD_READING_KINDS` (unknown tag, null, string, bad quality label, far-future
    time, missing tag, ...), and is followed by one bad message cycling through
    `gateway.BAD_BATCH_KINDS` (not JSON, not UTF-8, wrong shape, too large, too many
    readings, bad time, wrong topic, a non-finite value): all are rejected with a
    reason and the good readings of each batch go on. Two sensors of the hazard source
    send well-formed but alarming readings all along: one with quality "bad" and one
    outside its range, so the scenario raises bad_quality and out_of_range.
    """

    name = "malformed_payloads"
    aliases = ("malformed",)
    default_duration_s = 600.0
    expected_alarms = frozenset({"bad_quality", "out_of_range"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batches = 0

    def choose_targets(self, plant: EnterprisePlant) -> Sequence[SimSensor]:
        sensors = plant.sensors_of(self.hazard_source)
        if len(sensors) < 2:
            raise ScenarioError(f"{self.label}: needs two sensors in {self.hazard_source}")
        return sensors[:2]  # [quality bad, out of range]

    @property
    def bad_quality_tag(self) -> str:
        return min(self.targets)

    @property
    def out_of_range_tag(self) -> str:
        return max(self.targets)

    def corrupt(self, t: float, readings: list[dict[str, Any]], defects: Defects) -> None:
        from hazmon.simulators import gateway  # a cycle at import time otherwise

        assert self.plant is not None
        oor = self.plant.sensor(self.out_of_range_tag).spec
        for r in readings:
            if r.get("tag") == self.bad_quality_tag:
                r["quality"] = "bad"
                defects.kinds.append("quality_bad")
            elif r.get("tag") == self.out_of_range_tag:
                r["value"] = round(oor.hi + 0.2 * oor.span, oor.decimals)
                defects.kinds.append("out_of_range")
        n = self.batches
        kinds = gateway.BAD_READING_KINDS
        for k in (kinds[(2 * n) % len(kinds)], kinds[(2 * n + 1) % len(kinds)]):
            readings.append(gateway.bad_reading(k, self.hazard_source, t))
            defects.kinds.append(k)
        defects.extra_kinds.append(gateway.BAD_BATCH_KINDS[n % len(gateway.BAD_BATCH_KINDS)])
        self.batches += 1


SCENARIOS: Final[dict[str, type[Scenario]]] = {
    cls.name: cls
    for cls in (
        TankOverfill,
        ExothermicRunaway,
        GasLeak,
        SensorStuck,
        SensorDrift,
        ChatteringSensor,
        GatewayOutage,
        MalformedPayloads,
        ClockSkew,
    )
}
_BY_ALIAS: Final = {a: c for c in SCENARIOS.values() for a in (c.name, *c.aliases)}


def scenario_class(name: str) -> type[Scenario]:
    try:
        return _BY_ALIAS[name.strip().lower().replace("-", "_")]
    except KeyError:
        raise ScenarioError(
            f"unknown scenario {name!r}; known: {', '.join(sorted(SCENARIOS))}"
        ) from None


def parse_scenario(spec: str) -> Scenario:
    """`NAME@HAZARD_SOURCE@START_S[@DURATION_S][@key=value...]` -> an unbound Scenario."""
    parts = spec.split("@")
    if len(parts) < 3:
        raise ScenarioError(f"scenario {spec!r}: expected NAME@HAZARD_SOURCE@START_S[...]")
    cls = scenario_class(parts[0])
    enterprise, _, hs = parts[1].rpartition("/")
    duration: float | None = None
    tag: str | None = None
    params: dict[str, float] = {}
    try:
        start = float(parts[2])
        for extra in parts[3:]:
            key, eq, val = extra.partition("=")
            if not eq:
                duration = float(extra)
            elif key == "tag":
                tag = val
            elif key in ("duration", "duration_s"):
                duration = float(val)
            else:
                params[key] = float(val)
    except ValueError as exc:
        raise ScenarioError(f"scenario {spec!r}: {exc}") from None
    return cls(hs, start, duration, enterprise=enterprise or None, tag=tag, **params)


def bind_scenarios(
    plants: Sequence[EnterprisePlant], scenarios: Iterable[Scenario], t0: float
) -> None:
    """Attach each scenario to the plant it names (its enterprise, else the first plant
    with its hazard source)."""
    for sc in scenarios:
        plant = next(
            (
                p
                for p in plants
                if (sc.enterprise is None or p.enterprise == sc.enterprise)
                and sc.hazard_source in p.hazard_sources
            ),
            None,
        )
        if plant is None:
            where = f"{sc.enterprise}/" if sc.enterprise else ""
            raise ScenarioError(f"{sc.label}: no simulated plant has {where}{sc.hazard_source}")
        sc.bind(plant, t0)
