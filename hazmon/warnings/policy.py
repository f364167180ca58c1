"""The warning policy file: which facts make a 红/橙/黄/蓝 warning, the feedback deadline
of each level and whom each level is pushed to.

No public source says how a province derives warning levels from alarms, nor its
deadlines (see docs/REGULATORY.md): every default here is a starting point **to be set by
the province**, written out in ``deploy/warning-policy.yaml``; the model's defaults and
that file are the same (a test holds them together).

A rule is one condition with its level::

    - code: critical_unacked        # machine code, unique; names the reason
      level: red
      kind: alarm_unacked           # one of RULE_KINDS below
      tiers: [1, 2]                 # hazard-source tiers it applies to (none counts as 4)
      select: {priorities: [critical], categories: [process]}
      minutes: 10

Kinds and their parameters:

- ``alarm_unacked``: an open alarm matching ``select``, unacknowledged ``minutes`` after
  it was raised;
- ``alarm_active``: an active alarm matching ``select``, active for ``minutes`` (0: at once);
- ``second_level_sensors``: ``min_sensors`` sensors or more of one source at once with an
  active second-level alarm (HH/LL, gas 二级报警);
- ``trend_forecast``: an active trend alarm towards a second level on a sensor of
  ``sensor_kinds``, the crossing predicted within ``within_minutes``;
- ``gateway_offline``: the enterprise's gateway offline for ``minutes`` (the enterprise's
  tier is its gravest hazard source's);
- ``repeated_alarms``: one sensor raising ``count`` alarms or more within ``window_hours``;
- ``low_availability``: a source's data availability below ``below`` over ``window_hours``;
- ``commitment_missing``: the enterprise's daily safety commitment missing or late.

A subject (a hazard source, or the enterprise for enterprise-wide causes) gets the level
of the gravest rule that holds, with every rule that holds as a reason.

The facts of the enterprise's duties (`hazmon.duties.facts.DutyFact`: a missing
commitment, an overdue 包保 duty, a missed roll call, ...) are graded by ``duty_levels``,
kind → level (``null``: not a warning); the defaults are the duties'
`DEFAULT_LEVEL`. Each fact is its own reason, coded ``duty_<kind>:<key>``, so a new
finding (the next day's missing commitment) is a new reason, and the same finding is
never raised twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

# Shared with the registry loader so every file reports its places the same way.
from hazmon.domain.configfile import ConfigFileError, parse_config, read_config
from hazmon.domain.regions import Level
from hazmon.domain.registry import SensorKind
from hazmon.domain.registry import _pydantic_loc as pydantic_loc
from hazmon.domain.signal import Category, Priority
from hazmon.duties.facts import DEFAULT_LEVEL, FactKind
from hazmon.warnings.chain import ChainRole
from hazmon.warnings.levels import WarningLevel

Tier = Annotated[int, Field(ge=1, le=4)]
RuleCode = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
ALL_TIERS: tuple[int, ...] = (1, 2, 3, 4)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AlarmSelector(_Strict):
    """Which alarms a rule looks at; every field given must match (an empty list: any)."""

    priorities: tuple[Priority, ...] = ()
    categories: tuple[Category, ...] = ()
    # Rule names as the alarms carry them ("high_high", "stale", ...); a name ending in
    # "*" is a prefix ("vote_*", "trend_*").
    rules: tuple[str, ...] = ()
    second_level: bool | None = None  # True: only second-level alarms (HH/LL, 二级报警)
    exclude_rules: tuple[str, ...] = ()

    def matches(
        self, rule: str, category: Category, priority: Priority, second_level: bool
    ) -> bool:
        if self.priorities and priority not in self.priorities:
            return False
        if self.categories and category not in self.categories:
            return False
        if self.rules and not _any_name(self.rules, rule):
            return False
        if self.exclude_rules and _any_name(self.exclude_rules, rule):
            return False
        return self.second_level is None or self.second_level == second_level


def _any_name(patterns: tuple[str, ...], rule: str) -> bool:
    return any(
        rule.startswith(p[:-1]) if p.endswith("*") else rule == p for p in patterns
    )


class _Rule(_Strict):
    code: RuleCode
    level: WarningLevel
    tiers: tuple[Tier, ...] = ALL_TIERS

    def applies_to(self, tier: int | None) -> bool:
        return (tier if tier in ALL_TIERS else 4) in self.tiers


class AlarmUnacked(_Rule):
    kind: Literal["alarm_unacked"]
    select: AlarmSelector = AlarmSelector()
    minutes: int = Field(ge=0)


class AlarmActive(_Rule):
    kind: Literal["alarm_active"]
    select: AlarmSelector = AlarmSelector()
    minutes: int = Field(ge=0)


class SecondLevelSensors(_Rule):
    kind: Literal["second_level_sensors"]
    min_sensors: int = Field(ge=2)


class TrendForecast(_Rule):
    kind: Literal["trend_forecast"]
    sensor_kinds: tuple[SensorKind, ...] = (SensorKind.GAS_TOXIC,)
    within_minutes: int = Field(ge=1)


class GatewayOffline(_Rule):
    kind: Literal["gateway_offline"]
    minutes: int = Field(ge=0)


class RepeatedAlarms(_Rule):
    kind: Literal["repeated_alarms"]
    count: int = Field(ge=2)
    window_hours: int = Field(ge=1, le=24 * 7)


class LowAvailability(_Rule):
    kind: Literal["low_availability"]
    below: float = Field(gt=0, le=1)
    # The window the availability figure is computed over (by whoever builds the facts).
    window_hours: int = Field(ge=1, le=24 * 7)


class CommitmentMissing(_Rule):
    kind: Literal["commitment_missing"]


Rule = Annotated[
    AlarmUnacked | AlarmActive | SecondLevelSensors | TrendForecast | GatewayOffline
    | RepeatedAlarms | LowAvailability | CommitmentMissing,
    Field(discriminator="kind"),
]
RULE_KINDS: tuple[str, ...] = (
    "alarm_unacked", "alarm_active", "second_level_sensors", "trend_forecast",
    "gateway_offline", "repeated_alarms", "low_availability", "commitment_missing",
)


class PushTargets(_Strict):
    """Whom a warning of one level is pushed to: roles of the 包保 chain of the hazard
    source (or of the enterprise), and the regulator levels by the source's tier."""

    enterprise: tuple[ChainRole, ...]
    regulators: Mapping[Tier, tuple[Level, ...]]

    @model_validator(mode="after")
    def _every_tier(self) -> PushTargets:
        missing = [t for t in ALL_TIERS if t not in self.regulators]
        if missing:
            raise ValueError(f"regulators must be given for every tier 1-4; missing {missing}")
        return self

    def regulators_for(self, tier: int | None) -> tuple[Level, ...]:
        return self.regulators[tier if tier in ALL_TIERS else 4]


def _default_rules() -> tuple[Rule, ...]:
    severe_process = AlarmSelector(priorities=(Priority.CRITICAL,), categories=(Category.PROCESS,))
    return (
        # 红
        AlarmUnacked(code="critical_unacked", level=WarningLevel.RED, kind="alarm_unacked",
                     tiers=(1, 2), select=severe_process, minutes=10),
        SecondLevelSensors(code="multi_sensor_second_level", level=WarningLevel.RED,
                           kind="second_level_sensors", tiers=(1, 2), min_sensors=2),
        TrendForecast(code="toxic_trend_second_level", level=WarningLevel.RED,
                      kind="trend_forecast", tiers=(1, 2),
                      sensor_kinds=(SensorKind.GAS_TOXIC,), within_minutes=10),
        # 橙
        AlarmActive(code="second_level_alarm_low_tier", level=WarningLevel.ORANGE,
                    kind="alarm_active", tiers=(3, 4),
                    select=AlarmSelector(categories=(Category.PROCESS,), second_level=True),
                    minutes=0),
        AlarmActive(code="high_alarm_active", level=WarningLevel.ORANGE, kind="alarm_active",
                    tiers=(1, 2), select=AlarmSelector(priorities=(Priority.HIGH,)),
                    minutes=30),
        GatewayOffline(code="gateway_offline", level=WarningLevel.ORANGE,
                       kind="gateway_offline", tiers=(1, 2), minutes=30),
        # 黄
        RepeatedAlarms(code="repeated_alarms", level=WarningLevel.YELLOW,
                       kind="repeated_alarms", count=3, window_hours=24),
        LowAvailability(code="low_availability", level=WarningLevel.YELLOW,
                        kind="low_availability", below=0.9, window_hours=24),
        CommitmentMissing(code="commitment_missing", level=WarningLevel.YELLOW,
                          kind="commitment_missing"),
        # 蓝
        AlarmActive(code="data_health_fault", level=WarningLevel.BLUE, kind="alarm_active",
                    select=AlarmSelector(categories=(Category.DATA_HEALTH,)), minutes=60),
    )


_R, _O, _Y, _B = WarningLevel.RED, WarningLevel.ORANGE, WarningLevel.YELLOW, WarningLevel.BLUE
_CELL, _COUNTY, _CITY, _PROV = Level.CELL, Level.COUNTY, Level.CITY, Level.PROVINCE
_CHAIN_ALL = (ChainRole.PRINCIPAL, ChainRole.TECHNICAL, ChainRole.OPERATIONAL)


def _default_push() -> dict[WarningLevel, PushTargets]:
    every = _CELL, _COUNTY, _CITY, _PROV
    return {
        _R: PushTargets(enterprise=_CHAIN_ALL, regulators={t: every for t in ALL_TIERS}),
        _O: PushTargets(enterprise=_CHAIN_ALL, regulators={
            1: (_CELL, _COUNTY, _CITY), 2: (_CELL, _COUNTY, _CITY),
            3: (_CELL, _COUNTY), 4: (_CELL, _COUNTY)}),
        _Y: PushTargets(enterprise=(ChainRole.TECHNICAL, ChainRole.OPERATIONAL),
                        regulators={t: (_CELL, _COUNTY) for t in ALL_TIERS}),
        _B: PushTargets(enterprise=(ChainRole.OPERATIONAL,),
                        regulators={t: (_COUNTY,) for t in ALL_TIERS}),
    }


class WarningPolicy(_Strict):
    """The whole policy; `WarningPolicy()` is the documented default."""

    rules: tuple[Rule, ...] = Field(default_factory=_default_rules)
    # Minutes the enterprise has to file its disposal feedback, from the warning's opening
    # (or its return, or its raise to a graver level).
    feedback_minutes: Mapping[WarningLevel, int] = Field(
        default_factory=lambda: {_R: 30, _O: 60, _Y: 240, _B: 24 * 60}
    )
    push: Mapping[WarningLevel, PushTargets] = Field(default_factory=_default_push)
    # The regulator level that reviews a new warning; each missed deadline hands it to
    # the level above (county → city → province), which is told and reviews from then on.
    reviewer: Level = Level.COUNTY
    onsite_check_before_close: tuple[WarningLevel, ...] = (WarningLevel.RED,)
    # Simulated enterprises get warnings, marked simulated; they are pushed to nobody
    # unless this is set (a drill with the duty officers' consent), and then only on
    # test channels.
    push_simulated: bool = False
    # The level of each kind of duty fact (hazmon.duties.facts); None: not a warning.
    duty_levels: Mapping[FactKind, WarningLevel | None] = Field(
        default_factory=lambda: {k: WarningLevel(v) for k, v in DEFAULT_LEVEL.items()}
    )

    @field_validator("rules")
    @classmethod
    def _rules(cls, rules: tuple[Rule, ...]) -> tuple[Rule, ...]:
        if not rules:
            raise ValueError("name at least one rule")
        codes = [r.code for r in rules]
        dups = sorted({c for c in codes if codes.count(c) > 1})
        if dups:
            raise ValueError(f"duplicate rule code(s) {', '.join(dups)}")
        return rules

    @field_validator("feedback_minutes")
    @classmethod
    def _deadlines(cls, table: Mapping[WarningLevel, int]) -> Mapping[WarningLevel, int]:
        _every_level(table)
        bad = [f"{lv.value}: {m}" for lv, m in table.items() if m < 1]
        if bad:
            raise ValueError(f"deadlines must be at least 1 minute; got {', '.join(bad)}")
        return table

    @field_validator("push")
    @classmethod
    def _push(cls, table: Mapping[WarningLevel, PushTargets]) -> Mapping[WarningLevel, PushTargets]:
        _every_level(table)
        return table

    @field_validator("reviewer")
    @classmethod
    def _reviewer(cls, level: Level) -> Level:
        if level is Level.CELL:
            raise ValueError("the reviewer must be county, city or province")
        return level

    @field_validator("duty_levels")
    @classmethod
    def _duty_levels(cls, table: Mapping[FactKind, WarningLevel | None]
                     ) -> Mapping[FactKind, WarningLevel | None]:
        missing = [k.value for k in FactKind if k not in table]
        if missing:
            raise ValueError(f"give every duty fact kind (null: not a warning); missing "
                             f"{', '.join(missing)}")
        return table

    def deadline_ms(self, level: WarningLevel) -> int:
        return self.feedback_minutes[level] * 60_000

    def needs_onsite_check(self, level: WarningLevel) -> bool:
        return level in self.onsite_check_before_close


def _every_level(table: Mapping[WarningLevel, object]) -> None:
    missing = [lv.value for lv in WarningLevel if lv not in table]
    if missing:
        raise ValueError(f"give every level; missing {', '.join(missing)}")


class PolicyError(ConfigFileError):
    """The policy file cannot be used; `problems` lists each one with its place."""

    what = "warning policy"


def load_policy(path: str | Path) -> WarningPolicy:
    text, source = read_config(path, PolicyError)
    return parse_policy(text, source=source)


def parse_policy(text: str, source: str = "<warning policy>") -> WarningPolicy:
    """A policy from YAML. Keys left out keep their defaults; an empty file is the default."""
    policy, _ = parse_config(text, source, WarningPolicy, PolicyError, empty={},
                             file_loc=_file_loc)
    return policy


def _file_loc(raw: tuple[int | str, ...]) -> tuple[str | int, ...]:
    """The place in the file: without pydantic's segments, nor the rule kind it inserts
    after a rule's index (the discriminator is a value in the file, not a key)."""
    loc = pydantic_loc(raw)
    if len(loc) >= 3 and loc[0] == "rules" and loc[2] in RULE_KINDS:
        loc = (*loc[:2], *loc[3:])
    return loc
