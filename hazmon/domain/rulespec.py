"""Rule configuration: what the rules engine should watch for on each sensor.

Strict pydantic models (``extra="forbid"``, frozen) so that a misspelled key in the
registry (``sensors[].rules``) or in a rules file fails at start with its path.

Every section of `SensorRules` is optional. An absent section takes the default for the
sensor's kind (`KIND_DEFAULTS`); a present section overrides only the fields it sets, so
``threshold: {on_delay_s: 30}`` keeps the kind's deadband. ``enabled: false`` turns a
rule off. Precedence, lowest first: kind default, registry ``rules:``, rules file.

Defaults per kind (ISA-18.2 starting points as in docs/STANDARDS.md §5.2 — deadband in % of the
instrument span, the same time for on- and off-delay): flow 5 % / 15 s, level 5 % / 60 s,
pressure 2 % / 15 s, temperature 1 % / 60 s. Gas detectors and oxygen alarm at once (a
GB 50493 alarm is not held back; nuisance from spikes is handled by the latch in the
alarm lifecycle) with a 1 % deadband, small enough not to swallow a low toxic setpoint.
Trend prediction is on for the slow process variables where it means something (level,
pressure, temperature); rate of change is off until someone gives a limit; a frozen value
is only suspicious where analogue noise is expected (a clean-air gas detector or a
stopped flow legitimately reads a constant).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Annotated, Final, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from hazmon.domain.ids import ENTERPRISE_PATTERN, TAG_PATTERN

TagCode = Annotated[str, Field(pattern=f"^{TAG_PATTERN}$")]
EnterpriseCode = Annotated[str, Field(pattern=f"^{ENTERPRISE_PATTERN}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ThresholdRule(_Strict):
    """High / high-high / low / low-low alarms on the sensor's limits."""

    enabled: bool = True
    deadband_pct: float = Field(default=2.0, ge=0, le=50)  # of the instrument span
    deadband: float | None = Field(default=None, ge=0)  # engineering units; wins over pct
    on_delay_s: float = Field(default=15.0, ge=0, le=3600)
    off_delay_s: float = Field(default=15.0, ge=0, le=3600)


class RateRule(_Strict):
    """Rate of change, units per minute, from a least-squares slope over `window_s`."""

    enabled: bool = True
    rise_per_min: float | None = Field(default=None, gt=0)
    fall_per_min: float | None = Field(default=None, gt=0)
    window_s: float = Field(default=60.0, ge=5, le=3600)


class TrendRule(_Strict):
    """Predict the crossing of high-high (low-low) from a linear fit over `window_s`."""

    enabled: bool = True
    window_s: float = Field(default=600.0, ge=30, le=86_400)
    horizon_s: float = Field(default=1800.0, gt=0, le=7 * 86_400)
    # Fewer points give a t-statistic with heavy tails (few degrees of freedom).
    min_points: int = Field(default=20, ge=5, le=64)
    # |slope / standard error| needed before a slope counts. White noise exceeds 6 in
    # about one fit in 10⁵ (20 points) to 10⁷ (60 points); the window is refitted every
    # window/60, so a lower bar would fire on noise every few days per sensor.
    t_min: float = Field(default=6.0, ge=2, le=100)
    confirm: int = Field(default=3, ge=1, le=20)  # consecutive fits that must agree


class StaleRule(_Strict):
    enabled: bool = True
    after_s: float = Field(default=300.0, ge=1, le=7 * 86_400)


class FrozenRule(_Strict):
    enabled: bool = True
    after_s: float = Field(default=3600.0, ge=60, le=30 * 86_400)
    tolerance: float = Field(default=0.0, ge=0)  # engineering units; 0 = bit-identical


class SensorRules(_Strict):
    """Per-sensor rule overrides (``sensors[].rules`` in the registry, or a rules file)."""

    threshold: ThresholdRule | None = None
    rate: RateRule | None = None
    trend: TrendRule | None = None
    stale: StaleRule | None = None
    frozen: FrozenRule | None = None


class VotingRule(_Strict):
    """k-out-of-n gas detectors of one hazard source at a GB 50493 level (e.g. 2oo3)."""

    name: str = Field(pattern=r"^[a-z0-9_]{1,32}$")
    level: Literal["first", "second"]  # 一级报警 (high) / 二级报警 (high_high)
    k: int = Field(ge=1)
    tags: list[TagCode] = Field(min_length=2)

    @model_validator(mode="after")
    def _k_of_n(self) -> VotingRule:
        if len(set(self.tags)) != len(self.tags):
            raise ValueError("tags must not repeat")
        if self.k > len(self.tags):
            raise ValueError(f"k = {self.k} exceeds the {len(self.tags)} tags")
        return self

    @property
    def rule(self) -> str:
        """The rule name its signals carry, e.g. ``vote_gas_second``."""
        return f"vote_{self.name}"


class GatewayRule(_Strict):
    silence_s: float = Field(default=300.0, ge=10, le=7 * 86_400)


class EnterpriseRules(_Strict):
    gateway: GatewayRule | None = None
    sensors: dict[TagCode, SensorRules] = Field(default_factory=dict)


class RulesFile(_Strict):
    """A rules file: per enterprise, tag → SensorRules overrides and gateway settings."""

    enterprises: dict[EnterpriseCode, EnterpriseRules] = Field(default_factory=dict)


# --- resolving the effective rules of a sensor -------------------------------------------


@dataclass(frozen=True, slots=True)
class EffectiveRules:
    """Every section filled in: what the engine runs for one sensor."""

    threshold: ThresholdRule
    rate: RateRule
    trend: TrendRule
    stale: StaleRule
    frozen: FrozenRule


def _defaults(
    deadband_pct: float,
    delay_s: float,
    trend: bool,
    frozen: bool,
) -> EffectiveRules:
    return EffectiveRules(
        threshold=ThresholdRule(
            deadband_pct=deadband_pct, on_delay_s=delay_s, off_delay_s=delay_s
        ),
        rate=RateRule(),
        trend=TrendRule(enabled=trend),
        stale=StaleRule(),
        frozen=FrozenRule(enabled=frozen),
    )


# Keyed by SensorKind's value (a StrEnum, so the enum itself looks up too); registry.py
# imports this module, so importing SensorKind here would be circular.
KIND_DEFAULTS: Final[Mapping[str, EffectiveRules]] = MappingProxyType(
    {
        "flow": _defaults(5.0, 15.0, trend=False, frozen=False),
        "level": _defaults(5.0, 60.0, trend=True, frozen=True),
        "pressure": _defaults(2.0, 15.0, trend=True, frozen=True),
        "temperature": _defaults(1.0, 60.0, trend=True, frozen=True),
        "gas_combustible": _defaults(1.0, 0.0, trend=False, frozen=False),
        "gas_toxic": _defaults(1.0, 0.0, trend=False, frozen=False),
        "oxygen": _defaults(1.0, 0.0, trend=False, frozen=False),
        "humidity": _defaults(5.0, 60.0, trend=False, frozen=False),
    }
)
_FALLBACK: Final = _defaults(2.0, 15.0, trend=False, frozen=False)

_M = TypeVar("_M", bound=_Strict)


def _overlay(base: _M, override: _M | None) -> _M:
    if override is None or not override.model_fields_set:
        return base
    merged = base.model_dump()
    merged.update(override.model_dump(include=override.model_fields_set))
    # Validate the merged section so a cross-field rule still holds after the overlay.
    return type(base).model_validate(merged)


def resolve(kind: str, *overrides: SensorRules | None) -> EffectiveRules:
    """The effective rules of a sensor: kind defaults, then each override in turn."""
    eff = KIND_DEFAULTS.get(kind, _FALLBACK)
    for o in overrides:
        if o is None:
            continue
        eff = EffectiveRules(
            threshold=_overlay(eff.threshold, o.threshold),
            rate=_overlay(eff.rate, o.rate),
            trend=_overlay(eff.trend, o.trend),
            stale=_overlay(eff.stale, o.stale),
            frozen=_overlay(eff.frozen, o.frozen),
        )
    return eff


def level_limit_name(level: Literal["first", "second"]) -> str:
    """The Limits field a GB 50493 level maps to (registry: high = 一级, high_high = 二级)."""
    return "high" if level == "first" else "high_high"
