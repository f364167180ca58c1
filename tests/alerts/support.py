"""Shared helpers of the alarm tests (imported as tests.alerts.support)."""

from __future__ import annotations

from hazmon.alerts import ContactInfo, StaticDirectory
from hazmon.domain.signal import AlarmSignal, Category, Priority, SignalKind
from tests.clock import MINUTE as MINUTE
from tests.clock import T0 as T0
from tests.clock import FakeClock as FakeClock

ENT = "91320921MA1XXXXX0Q"
HS = "MHS-01"
TAG = "MHS-01.T101.LT01"

DIRECTORY = StaticDirectory(
    regions={ENT: "320921"},
    tiers={(ENT, HS): 1},
    contacts={ENT: [
        ContactInfo("principal", "张三", "+8613800000001"),
        ContactInfo("technical", "李四", "+8613800000002"),
        ContactInfo("operational", "王五", "+8613800000003"),
    ]},
)


def make_signal(kind: str = "raise", *, tag: str | None = TAG, rule: str = "high_high",
                ts: int = T0, value: float | None = 10.61, limit: float | None = 10.5,
                priority: Priority = Priority.HIGH, hazard_source: str = HS,
                enterprise: str = ENT, simulated: bool = False,
                message: str = "罐区一 T101 液位 10.61 m ≥ 高高限 10.5 m") -> AlarmSignal:
    return AlarmSignal(
        kind=SignalKind(kind), enterprise=enterprise, hazard_source=hazard_source, tag=tag,
        rule=rule, category=Category.PROCESS, priority=priority, ts_ms=ts, value=value,
        limit=limit, message=message, simulated=simulated,
    )
