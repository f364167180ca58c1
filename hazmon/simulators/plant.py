"""Signal models of simulated plants: what each sensor reads in normal operation.

Every sensor gets an operating point inside its limits, a daily cycle (ambient
temperature peaking mid-afternoon, tank levels following the day's transfers, humidity
in anti-phase to temperature) and correlated noise (an Ornstein-Uhlenbeck process, so a
reading is close to the previous one as in a real transmitter). Amplitude and noise are
sized from the sensor's band so normal operation never touches a limit: every alarm in a
drill comes from a scenario (hazmon.simulators.scenarios).

The models work from registry *data* (the YAML document as Python objects) rather than
hazmon.domain.registry's models, so a plant can be simulated from any registry file,
including ones the service would reject (that is what drills of bad configuration need).

Determinism: each sensor's noise has its own random stream seeded from (seed,
enterprise, tag), so the same seed and the same sample times give the same values,
whatever the order in which sensors are sampled.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from hazmon.simulators.scenarios import Scenario

DAY_S: Final = 86_400.0
CHINA_TZ: Final = timezone(timedelta(hours=8), "CST")
LIMIT_NAMES: Final = ("low_low", "low", "high", "high_high")
GAS_KINDS: Final = frozenset({"gas_combustible", "gas_toxic"})


def local_hour(t: float) -> float:
    """Hour of day in China Standard Time for epoch seconds `t` (plants run on CST)."""
    return ((t + 8 * 3600) % DAY_S) / 3600.0


def daily(t: float, peak_hour: float) -> float:
    """A unit daily cycle, +1 at `peak_hour` (CST) and -1 twelve hours later."""
    return math.cos(2 * math.pi * (local_hour(t) - peak_hour) / 24.0)


def ambient_c(t: float) -> float:
    """Outdoor air temperature: 16 °C mean, ±6 °C, warmest at 14:00 (a Jiangsu spring day)."""
    return 16.0 + 6.0 * daily(t, 14.0)


@dataclass(frozen=True, slots=True)
class SensorSpec:
    """The registry facts about one sensor that a simulation needs."""

    enterprise: str
    region: str
    hazard_source: str
    hazard_source_kind: str
    tag: str
    kind: str
    unit: str
    lo: float
    hi: float
    limits: Mapping[str, float] = field(default_factory=dict)
    gas: str | None = None

    @property
    def span(self) -> float:
        return self.hi - self.lo

    @property
    def equipment(self) -> str:
        """The equipment part of a tag ("T101" in "MHS-01.T101.LT01"), or ""."""
        parts = self.tag.split(".")
        return parts[1] if len(parts) >= 3 else ""

    def limit(self, name: str) -> float | None:
        return self.limits.get(name)

    @property
    def decimals(self) -> int:
        """Resolution of the transmitter: about four significant digits of its span."""
        return max(0, min(4, 3 - math.floor(math.log10(self.span))))

    @property
    def band(self) -> tuple[float, float]:
        """The normal operating band: inside low and high where set, else the range."""
        lo = self.limits.get("low", self.limits.get("low_low", self.lo))
        hi = self.limits.get("high", self.limits.get("high_high", self.hi))
        return lo, hi

    def gas_limits(self) -> tuple[float, float]:
        """First- and second-level setpoints of a gas detector.

        A detector registered without limits takes the GB 50493 defaults at load; the
        simulator does not know them, so it assumes the conservative upper bounds as a
        share of a typical range (25 % and 50 % of span).
        """
        first = self.limits.get("high", self.lo + 0.25 * self.span)
        second = self.limits.get("high_high", self.lo + 0.5 * self.span)
        return first, second


class SignalModel:
    """Normal operation of one sensor: operating point + daily cycle + OU noise."""

    def __init__(self, spec: SensorSpec, seed: int) -> None:
        self.spec = spec
        self._rng = random.Random(f"{seed}:{spec.enterprise}:{spec.tag}")
        self._noise = 0.0
        self._last_t: float | None = None
        self.center, self.amplitude, self.peak_hour, self.sigma, self.tau = self._shape()

    def _shape(self) -> tuple[float, float, float, float, float]:
        """(centre, daily amplitude, peak hour CST, noise σ, noise correlation time s)."""
        s = self.spec
        lo, hi = s.band
        half = (hi - lo) / 2
        mid = lo + half
        # Keep amplitude + 4σ within half the distance to the nearest limit.
        jitter = self._rng.uniform(-0.1, 0.1) * half
        if s.kind in GAS_KINDS:
            # Clean air: a small positive offset so values vary (a detector stuck at an
            # exact 0 would look frozen), no daily cycle.
            base = s.lo + 0.01 * s.span
            return base, 0.0, 0.0, 0.003 * s.span, 30.0
        if s.kind == "oxygen":
            return 20.9, 0.0, 0.0, 0.04, 60.0
        if s.kind == "temperature":
            if s.hazard_source_kind != "production_unit" and lo <= 0 and hi >= 28:
                # Tanks and warehouses follow the weather with a lag of about two hours.
                return 16.0 + self._rng.uniform(-1, 1), 4.5, 16.0, 0.15, 300.0
            # Process temperature: held by a controller, near the upper part of its band.
            return lo + 1.5 * half + jitter * 0.2, 0.05 * half, 15.0, 0.02 * half, 60.0
        if s.kind == "humidity":
            center = min(mid, lo + 0.75 * (hi - lo))
            return center, min(10.0, 0.3 * half), 4.0, 0.02 * half, 600.0
        if s.kind == "level":
            if s.hazard_source_kind == "tank_farm":
                # Storage: received at night, sent out by day.
                return mid + jitter, 0.3 * half, 6.0, 0.01 * half, 120.0
            return mid + jitter, 0.05 * half, 10.0, 0.03 * half, 30.0
        if s.kind == "pressure":
            # Vapour pressure follows the tank temperature, so the daily peak is late
            # afternoon; process pressure is controlled and barely cycles.
            amp = 0.15 * half if s.hazard_source_kind == "tank_farm" else 0.03 * half
            return mid + jitter, amp, 16.0, 0.02 * half, 60.0
        if s.kind == "flow":
            return mid + jitter, 0.2 * half, 11.0, 0.04 * half, 20.0
        return mid, 0.1 * half, 12.0, 0.02 * half, 60.0

    def normal(self, t: float) -> float:
        """The value at epoch seconds `t` in normal operation (advances the noise)."""
        dt = 0.0 if self._last_t is None else max(t - self._last_t, 0.0)
        if self._last_t is None:
            self._noise = self._rng.gauss(0.0, self.sigma)
        else:
            decay = math.exp(-dt / self.tau)
            self._noise = self._noise * decay + self._rng.gauss(0.0, self.sigma) * math.sqrt(
                1 - decay * decay
            )
        self._last_t = t
        return self.center + self.amplitude * daily(t, self.peak_hour) + self._noise


@dataclass(slots=True)
class SimSensor:
    spec: SensorSpec
    model: SignalModel

    def finish(self, value: float) -> float:
        """What the transmitter sends: clamped to its range, at its resolution."""
        s = self.spec
        return round(min(max(value, s.lo), s.hi), s.decimals)


@dataclass(slots=True)
class EnterprisePlant:
    """The sensors of one enterprise and the scenarios acting on them."""

    enterprise: str
    region: str
    name: str
    sensors: list[SimSensor]
    scenarios: list[Scenario] = field(default_factory=list)
    _by_tag: dict[str, SimSensor] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_tag = {s.spec.tag: s for s in self.sensors}

    def sensor(self, tag: str) -> SimSensor:
        return self._by_tag[tag]

    def sensors_of(self, hazard_source: str) -> list[SimSensor]:
        return [s for s in self.sensors if s.spec.hazard_source == hazard_source]

    @property
    def hazard_sources(self) -> list[str]:
        return list(dict.fromkeys(s.spec.hazard_source for s in self.sensors))

    def value(self, sensor: SimSensor, t: float) -> float:
        """The reading of `sensor` at `t`: normal operation, then each active scenario."""
        v = sensor.model.normal(t)
        for sc in self.scenarios:
            if sc.active(t) and sensor.spec.tag in sc.targets:
                v = sc.transform(sensor, t, v)
        return sensor.finish(v)

    def sample(self, tag: str, times: Iterable[float]) -> list[float]:
        """Readings of one sensor at the given times (a test and plotting helper)."""
        s = self.sensor(tag)
        return [self.value(s, t) for t in times]


def sensor_specs(data: Mapping[str, Any]) -> Iterator[SensorSpec]:
    """Every sensor of a registry document (docs/CONTRACT.md §4 as Python data)."""
    for ent in data.get("enterprises") or []:
        for hs in ent.get("hazard_sources") or []:
            for s in hs.get("sensors") or []:
                lo, hi = (float(x) for x in s["range"])
                limits = {k: float(v) for k, v in (s.get("limits") or {}).items() if v is not None}
                yield SensorSpec(
                    enterprise=str(ent["code"]),
                    region=str(ent["region"]),
                    hazard_source=str(hs["code"]),
                    hazard_source_kind=str(hs.get("kind", "")),
                    tag=str(s["tag"]),
                    kind=str(s["kind"]),
                    unit=str(s.get("unit", "")),
                    lo=lo,
                    hi=hi,
                    limits=limits,
                    gas=s.get("gas"),
                )


def build_plants(
    data: Mapping[str, Any],
    seed: int = 0,
    enterprises: Sequence[str] | None = None,
) -> list[EnterprisePlant]:
    """One EnterprisePlant per enterprise of the registry (or of `enterprises`), in file order."""
    wanted = None if enterprises is None else set(enterprises)
    names = {str(e["code"]): str(e.get("name", "")) for e in data.get("enterprises") or []}
    by_ent: dict[str, list[SimSensor]] = {code: [] for code in names}
    regions: dict[str, str] = {str(e["code"]): str(e["region"]) for e in data["enterprises"]}
    for spec in sensor_specs(data):
        by_ent[spec.enterprise].append(SimSensor(spec, SignalModel(spec, seed)))
    return [
        EnterprisePlant(code, regions[code], names[code], sensors)
        for code, sensors in by_ent.items()
        if wanted is None or code in wanted
    ]


def utc_datetime(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)
