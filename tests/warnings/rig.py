"""The warning part on real parts: an alarm store and a warning store on an SQLite file,
the alarm service raising alarms from signals, a gateway tracker, last-seen times, a
list of duty facts, the example regions file, and webhook channels posting to a local
receiver (the third-party endpoint). The clock is a fake one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hazmon.alerts import AlarmService, AlarmStore, RegistryDirectory, UlidFactory
from hazmon.alerts.notify import NotifyConfig
from hazmon.domain.registry import Registry, parse_registry
from hazmon.domain.signal import AlarmSignal, Category, Priority, SignalKind
from hazmon.duties.facts import DutyFact
from hazmon.ingest.gateways import GatewayTracker
from hazmon.service.warning_part import WarningPart
from hazmon.warnings.settings import WarningSettings
from hazmon.warnings.store import WarningStore
from tests.alerts.notify_support import SECRET, Receiver
from tests.clock import T0, FakeClock
from tests.support import ENT

REGIONS_FILE = Path(__file__).resolve().parents[2] / "deploy" / "regions.example.yaml"

# ENT in the chemical park 320921401 with a tier-1 source (chlorine, 200 people around);
# ENT2 simulated, in 320902 (no cell). The source names its own 技术负责人.
REGISTRY = parse_registry("""\
enterprises:
  - code: 91320921MA1XXXXX0Q
    name: 响水某化工有限公司
    region: "320921"
    contacts:
      - {role: principal, name: 张三, phone: "13800000101"}
      - {role: technical, name: 李四, phone: "13800000102"}
      - {role: operational, name: 王五, phone: "13800000103"}
    hazard_sources:
      - code: MHS-01
        name: 液氯罐区
        kind: tank_farm
        population_exposed: 200
        inventory: [{chemical: chlorine, tonnes: 500}]
        contacts:
          - {role: technical, name: 钱七, phone: "13800000107"}
        sensors:
          - {tag: MHS-01.T101.LT01, kind: level, unit: m, range: [0, 12],
             limits: {high: 9.5, high_high: 10.5}}
          - {tag: MHS-01.T101.PT01, kind: pressure, unit: MPa, range: [0, 1.6],
             limits: {high: 0.8, high_high: 1.0}}
          - {tag: MHS-01.GD01, kind: gas_toxic, gas: chlorine, unit: ppm, range: [0, 20]}
  - code: 91320902MA2YYYYY1R
    name: 盐城某演练化工
    region: "320902"
    simulated: true
    contacts:
      - {role: principal, name: 赵六, phone: "13800000104"}
      - {role: technical, name: 孙八, phone: "13800000105"}
      - {role: operational, name: 周九, phone: "13800000106"}
    hazard_sources:
      - code: MHS-02
        name: 液氯库
        kind: warehouse
        population_exposed: 200
        inventory: [{chemical: chlorine, tonnes: 500}]
        sensors:
          - {tag: MHS-02.GD01, kind: gas_toxic, gas: chlorine, unit: ppm, range: [0, 20]}
""", source="warnings-test-registry")
LT = "MHS-01.T101.LT01"
PT = "MHS-01.T101.PT01"
GD = "MHS-01.GD01"
SIM_GD = "MHS-02.GD01"


def sig(kind: str = "raise", *, enterprise: str = ENT, hazard_source: str = "MHS-01",
        tag: str | None = LT, rule: str = "high_high", ts: int = T0,
        priority: Priority = Priority.CRITICAL, category: Category = Category.PROCESS,
        simulated: bool = False, message: str = "液氯罐区 T101 液位 10.61 m ≥ 高高限 10.5 m",
        details: dict[str, Any] | None = None) -> AlarmSignal:
    return AlarmSignal(
        kind=SignalKind(kind), enterprise=enterprise, hazard_source=hazard_source, tag=tag,
        rule=rule, category=category, priority=priority, ts_ms=ts, value=10.61, limit=10.5,
        message=message, simulated=simulated, details=details or {},
    )


@dataclass
class Duties:
    """A DutyFactsSource handing out what the test put in."""

    found: list[DutyFact] = field(default_factory=list)

    def facts(self, now_ms: int) -> Sequence[DutyFact]:
        return list(self.found)


def notify(receiver: Receiver) -> NotifyConfig:
    def hook(name: str, path: str, **extra: Any) -> dict[str, Any]:
        return {"name": name, "type": "webhook", "url": receiver.url(path), "secret": SECRET,
                **extra}
    return NotifyConfig.model_validate({"channels": [
        hook("sms-gw", "/people"), hook("county-robot", "/group"),
        hook("drill", "/drill", test=True),
    ]})


@dataclass
class Rig:
    clock: FakeClock
    alarm_store: AlarmStore
    alarms: AlarmService
    store: WarningStore
    part: WarningPart
    gateways: GatewayTracker
    duties: Duties
    seen: dict[tuple[str, str], int]

    async def close(self) -> None:
        await self.part.aclose()
        await self.alarm_store.close()


async def make_rig(db_url: str, receiver: Receiver, *, registry: Registry = REGISTRY,
                   clock: FakeClock | None = None, **settings: Any) -> Rig:
    clock = clock or FakeClock()
    alarm_store = await AlarmStore.open(db_url)
    alarms = AlarmService(alarm_store, directory=RegistryDirectory(registry), clock=clock,
                          ids=UlidFactory())
    store = await WarningStore.open(alarm_store.db)
    gateways = GatewayTracker()
    duties = Duties()
    seen: dict[tuple[str, str], int] = {}
    ws = WarningSettings.model_validate({
        "regions_file": str(REGIONS_FILE),
        "push": {"people": ["sms-gw"], "groups": ["county-robot", "drill"]}, **settings})
    part = WarningPart(ws, notify=notify(receiver), registry=lambda: registry,
                       alarm_store=alarm_store, store=store, gateways=gateways,
                       last_seen=lambda e, t: seen.get((e, t)), clock=clock, duty_facts=duties)
    return Rig(clock, alarm_store, alarms, store, part, gateways, duties, seen)
