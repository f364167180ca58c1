"""The province's duties file: deadlines, templates and intervals of issue 15.

Every default here is a default — set by the province: the public sources give the 10:00
commitment deadline (Guangdong; Dalian 09:00–10:00) and the quarterly check of the 技术负责人;
the rest (weekly 操作负责人, 5 min roll-call answer, patrol sample size) are placeholders.
Loaded strictly (unknown keys fail), with each problem's path and line, like the registry.
"""

from __future__ import annotations

from datetime import date, time
from functools import cached_property
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hazmon.domain.configfile import ConfigFileError, parse_config, read_config

DEFAULT_TEMPLATE = (
    "我承诺:今天{enterprise_name}的{sources}处于安全运行状态,安全风险均处于受控状态。"
    "承诺人:{committer},{date}。"
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CommitmentConfig(_Strict):
    deadline: time = time(10, 0)  # default — set by the province
    window_start: time | None = None  # e.g. 09:00 in Dalian; None: any time of the day
    template: str = Field(default=DEFAULT_TEMPLATE, min_length=1)

    @model_validator(mode="after")
    def _window(self) -> CommitmentConfig:
        if self.window_start is not None and not self.window_start < self.deadline:
            raise ValueError("window_start must be before deadline")
        return self

    @field_validator("template")
    @classmethod
    def _placeholders(cls, v: str) -> str:
        try:
            v.format(enterprise_name="", sources="", committer="", date="")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(
                "template may use only {enterprise_name}, {sources}, {committer}, {date}"
            ) from exc
        return v


class ChainDutiesConfig(_Strict):
    """Intervals of the 包保 duties, in days; None: no periodic duty for the role."""

    principal_days: int | None = Field(default=None, ge=1)  # as the province sets
    technical_days: int = Field(default=92, ge=1)  # quarterly (2021 rules)
    operational_days: int = Field(default=7, ge=1)  # weekly (often quoted, unconfirmed)
    # The 技术负责人's check is also due within this many days before each holiday.
    before_holiday_days: int = Field(default=7, ge=1)
    holidays: list[date] = Field(default_factory=list)


class RollCallConfig(_Strict):
    answer_deadline_s: int = Field(default=300, ge=10, le=86_400)
    daily_calls: int = Field(default=2, ge=0, le=48)  # scheduled random calls a day
    sample_size: int = Field(default=5, ge=1)  # enterprises per scheduled regional call
    # scheduled calls fall between these local times
    schedule_start: time = time(0, 0)
    schedule_end: time = time(23, 59)

    @model_validator(mode="after")
    def _span(self) -> RollCallConfig:
        if not self.schedule_start < self.schedule_end:
            raise ValueError("schedule_start must be before schedule_end")
        return self


class PatrolConfig(_Strict):
    sample_size: int = Field(default=3, ge=1)  # enterprises per county and day
    tier_weight: dict[int, float] = Field(
        default_factory=lambda: {1: 4.0, 2: 3.0, 3: 1.5, 4: 1.0}
    )
    untiered_weight: float = Field(default=1.0, gt=0)
    per_recent_warning: float = Field(default=1.0, ge=0)
    recent_warning_days: int = Field(default=7, ge=1)

    @field_validator("tier_weight")
    @classmethod
    def _tiers(cls, v: dict[int, float]) -> dict[int, float]:
        for t, w in v.items():
            if t not in (1, 2, 3, 4):
                raise ValueError(f"tier {t} is not 1..4")
            if not w > 0:
                raise ValueError(f"weight of tier {t} must be > 0")
        return v


class DutiesConfig(_Strict):
    timezone: str = "Asia/Shanghai"
    commitment: CommitmentConfig = CommitmentConfig()
    chain: ChainDutiesConfig = ChainDutiesConfig()
    roll_call: RollCallConfig = RollCallConfig()
    patrol: PatrolConfig = PatrolConfig()

    @field_validator("timezone")
    @classmethod
    def _zone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {v!r}") from exc
        return v

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class DutiesConfigError(ConfigFileError):
    """The duties file cannot be used; `problems` lists each one with its place."""

    what = "duties"


def load_duties_config(path: str | Path) -> DutiesConfig:
    text, source = read_config(path, DutiesConfigError)
    return parse_duties_config(text, source=source)


def parse_duties_config(text: str, source: str = "<duties>") -> DutiesConfig:
    config, _ = parse_config(text, source, DutiesConfig, DutiesConfigError, empty={})
    return config
