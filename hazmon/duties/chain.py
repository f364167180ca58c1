"""包保 duties: the periodic checks of each role of a hazard source's responsibility chain.

A role's duty is overdue when its last record is older than its interval (the config's
days); the 技术负责人 also owes a targeted check in the days before each holiday. Hidden
dangers found in a check have a fix-by date; unfixed after that day they are overdue.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from enum import StrEnum
from typing import Final

from hazmon.duties.config import DutiesConfig
from hazmon.duties.deadline import local_ms
from hazmon.duties.facts import DutyFact, FactKind

DAY_MS: Final = 86_400_000


class ChainRole(StrEnum):  # the registry's Contact.role values
    PRINCIPAL = "principal"  # 主要负责人
    TECHNICAL = "technical"  # 技术负责人
    OPERATIONAL = "operational"  # 操作负责人


ROLE_LABEL: Final = {ChainRole.PRINCIPAL: "主要负责人", ChainRole.TECHNICAL: "技术负责人",
                     ChainRole.OPERATIONAL: "操作负责人"}


@dataclass(frozen=True, slots=True)
class HiddenDanger:
    id: str
    description: str
    fix_by: date
    fixed_at_ms: int | None = None


@dataclass(frozen=True, slots=True)
class DutyRecord:
    enterprise: str
    hazard_source: str
    role: ChainRole
    person: str
    at_ms: int
    checked: tuple[str, ...]  # what was checked
    hidden_dangers: tuple[HiddenDanger, ...] = field(default=())


def interval_days(role: ChainRole, config: DutiesConfig) -> int | None:
    c = config.chain
    return {ChainRole.PRINCIPAL: c.principal_days, ChainRole.TECHNICAL: c.technical_days,
            ChainRole.OPERATIONAL: c.operational_days}[role]


def overdue_duties(
    enterprise: str, hazard_source: str, records: Iterable[DutyRecord], *, since_ms: int,
    now_ms: int, config: DutiesConfig,
) -> list[DutyFact]:
    """The duties of one source overdue at `now_ms`. `since_ms` is when the duties began
    (the source entered the registry or the rules took effect): a role with no record is
    due one interval after it."""
    own = [r for r in records if (r.enterprise, r.hazard_source) == (enterprise, hazard_source)]
    out: list[DutyFact] = []
    for role in ChainRole:
        days = interval_days(role, config)
        if days is None:
            continue
        last = max((r.at_ms for r in own if r.role is role), default=since_ms)
        due = last + days * DAY_MS
        if now_ms > due:
            out.append(DutyFact(
                FactKind.DUTY_OVERDUE, enterprise, hazard_source, due,
                f"duty:{hazard_source}:{role}:{last}",
                f"{hazard_source}{ROLE_LABEL[role]}包保履职已逾期(周期{days}天)",
            ))
    holiday = _last_holiday_started(now_ms, since_ms, config)
    if holiday is not None:
        start = local_ms(holiday, time(0), config)
        window = local_ms(holiday - timedelta(days=config.chain.before_holiday_days), time(0),
                          config)
        if not any(r.role is ChainRole.TECHNICAL and window <= r.at_ms < start for r in own):
            out.append(DutyFact(
                FactKind.DUTY_OVERDUE, enterprise, hazard_source, start,
                f"duty:{hazard_source}:technical:holiday:{holiday.isoformat()}",
                f"{hazard_source}技术负责人节前({holiday.isoformat()})专项检查未开展",
            ))
    return out


def holiday_window_start(now_ms: int, config: DutiesConfig) -> int | None:
    """Where the window of the last holiday begun by `now_ms` starts (the 技术负责人's check
    is owed in it), None before any: no older record can change `overdue_duties` but
    each role's latest one."""
    started = _last_holiday_started(now_ms, -1, config)
    if started is None:
        return None
    return local_ms(started - timedelta(days=config.chain.before_holiday_days), time(0), config)


def _last_holiday_started(now_ms: int, since_ms: int, config: DutiesConfig) -> date | None:
    started = [h for h in config.chain.holidays
               if since_ms < local_ms(h, time(0), config) <= now_ms]
    return max(started, default=None)


def overdue_hidden_dangers(
    records: Iterable[DutyRecord], now_ms: int, config: DutiesConfig
) -> list[DutyFact]:
    """Hidden dangers not fixed by the end of their fix-by day (province time)."""
    out: list[DutyFact] = []
    for r in records:
        for d in r.hidden_dangers:
            end = local_ms(d.fix_by + timedelta(days=1), time(0), config)
            if d.fixed_at_ms is None and now_ms >= end:
                out.append(DutyFact(
                    FactKind.HIDDEN_DANGER_OVERDUE, r.enterprise, r.hazard_source, end,
                    f"danger:{d.id}", f"隐患“{d.description}”超过整改期限({d.fix_by.isoformat()})",
                ))
    return out
