"""Scenario checks: each simulator scenario through the whole real pipeline.

Simulator → Mosquitto → hazmon ingest → InfluxDB + rules → alarm store, with the alarms
each scenario documents in `expected_alarms` on the sensors it targets, and no others:
normal plant noise must stay quiet.

Time. The simulated period lies in the past (it ends about now), so nothing is stored
"from the future", and the service is clocked by the simulation itself: its clock is
`Publisher.now_s()`, the newest simulated time the gateways have reached. So ingest's
future-time check, the stale and gateway-silence timeouts and the on/off delays run out
in simulated time, as they would against a real plant in real time, only faster. A wall
clock would be unfaithful at a speed-up: every sensor would look minutes stale at once.
Following the gateways' progress (rather than a free-running simulated clock) means a
publisher or broker that falls behind for a moment cannot make fresh data look stale;
and during a gateway outage the gateway still ticks (it buffers), so the clock keeps
running as the centre's would.

Each run ends with the simulator's clean shutdown, whose gateway publishes `offline`
(docs/CONTRACT.md §2.2) at the end of the period: that one gateway_offline is expected after the
period and checked apart.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from hazmon.alerts.lifecycle import Alarm
from hazmon.ingest.topics import Channel, topic_for
from hazmon.service.app import Service
from hazmon.simulators import (
    Publisher,
    Scenario,
    generate_registry,
    parse_scenario,
    run_simulation,
)
from hazmon.simulators.scenarios import GasLeak, MalformedPayloads
from hazmon.testing.influxdb import InfluxDB
from hazmon.testing.mosquitto import Mosquitto
from tests.helpers import make_settings, publish_raw, running, wait_for


@pytest.fixture
def mosquitto(own_broker: Mosquitto) -> Mosquitto:
    """This module's own broker (see tests/integration/conftest.py)."""
    return own_broker

pytestmark = pytest.mark.integration

SEED = 3
TICK_S = 0.05  # the service's rules tick, wall seconds


@dataclass(slots=True)
class Run:
    t0: float  # simulated start, epoch seconds
    end: float  # simulated end
    enterprise: str
    scenarios: list[Scenario]
    alarms: list[Alarm]  # raised within the period
    after: list[Alarm]  # raised at its end or later (the shutdown's offline)
    service: Service

    @property
    def targets(self) -> frozenset[str]:
        return frozenset(t for sc in self.scenarios for t in sc.targets)

    def raised(self) -> set[tuple[str | None, str]]:
        return {(a.tag, a.rule) for a in self.alarms}


class _ProgressClock:
    """The service's clock: the simulated time the gateways have reached, epoch ms."""

    def __init__(self, t0: float) -> None:
        self.t0 = t0
        self.publisher: Publisher | None = None

    def attach(self, publisher: Publisher) -> None:
        self.publisher = publisher

    def __call__(self) -> int:
        t = self.t0 if self.publisher is None else self.publisher.now_s()
        return int(t * 1000)


async def all_alarms(service: Service) -> list[Alarm]:
    assert service.alarm_store is not None
    out: list[Alarm] = []
    cursor: str | None = None
    while True:
        page = await service.alarm_store.query(limit=500, cursor=cursor)
        out.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return out


async def simulate(
    tmp_path: Path,
    mosquitto: Mosquitto,
    influxdb: InfluxDB,
    name: str,
    specs: Sequence[str],
    duration_s: float,
    *,
    speed: float = 100.0,
    rate: float = 0.2,
    record: Path | None = None,
) -> Run:
    gen = generate_registry(1, SEED)
    registry = _write_registry(tmp_path, gen.yaml_text)
    enterprise = gen.data["enterprises"][0]["code"]
    # The period ends about now (whole seconds, like a gateway's clock).
    t0 = float(math.floor(time.time() - duration_s - 60))
    end = t0 + duration_s
    clock = _ProgressClock(t0)
    scenarios = [parse_scenario(s) for s in specs]
    settings = make_settings(tmp_path, mosquitto.port, influxdb.url, name, registry=registry,
                             alarms={"tick_s": TICK_S, "publish_to_plants": False})
    # Each run simulates the same generated enterprise: clear the retained status (the
    # `offline` of the last run's shutdown), which would otherwise greet this service.
    ent = gen.data["enterprises"][0]
    await publish_raw(mosquitto.port, topic_for(ent["region"], enterprise, Channel.STATUS), b"",
                      retain=True)
    async with running(settings, clock=clock) as svc:
        result = await run_simulation(
            registry=gen.data, host="127.0.0.1", port=mosquitto.port, rate=rate,
            duration_s=duration_s, speed=speed, start=t0, scenarios=scenarios,
            record=record, on_publisher=clock.attach, validate=False, seed=SEED,
        )
        sent = result.summary.readings
        # Everything sent has been taken in (or rejected) and the shutdown's offline seen.
        # The shutdown's offline, dated by the gateway's clock (a skewed one too).
        last_ms = int((end + sum(sc.clock_offset_s(end) for sc in scenarios)) * 1000)
        await wait_for(lambda: _settled(svc, enterprise, last_ms), 30,
                       what="the offline status")
        await wait_for(lambda: svc.sink.pending == 0 and svc.rules is not None
                       and svc.rules.evaluated.total() > 0, 30, what="the writer")
        alarms = await all_alarms(svc)
    assert sent > 0
    within = [a for a in alarms if a.raised_at_ms is not None and a.raised_at_ms < last_ms]
    after = [a for a in alarms if a not in within]
    return Run(t0, end, enterprise, scenarios, within, after, svc)


def _write_registry(directory: Path, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "registry.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _settled(svc: Service, enterprise: str, last_ms: int) -> bool:
    """The shutdown's offline (sent at the period's end, after everything else) is in."""
    gw = svc.ingest.gateways.gateways.get(enterprise)
    return gw is not None and gw.state == "offline" and gw.since_ms == last_ms



def by_tag(run: Run) -> dict[str | None, set[str]]:
    out: dict[str | None, set[str]] = {}
    for a in run.alarms:
        out.setdefault(a.tag, set()).add(a.rule)
    return out


def check_documented(run: Run) -> None:
    """The documented rules, on the scenario's own sensors, and nothing else at all."""
    (sc,) = run.scenarios
    rules = {a.rule for a in run.alarms}
    assert rules == set(sc.expected_alarms), sorted(
        (str(a.tag), a.rule, a.raised_at_ms, dict(a.details)) for a in run.alarms)
    stray = [(a.tag, a.rule) for a in run.alarms
             if a.tag is not None and a.tag not in run.targets]
    assert stray == [], f"alarms on sensors {sc.name} does not touch"
    for a in run.alarms:
        assert a.enterprise == run.enterprise
        assert a.simulated
    # After the period: only the simulator's clean shutdown saying offline.
    assert [(a.tag, a.rule) for a in run.after] in ([], [(None, "gateway_offline")])


@dataclass(frozen=True, slots=True)
class Case:
    spec: str
    duration_s: float
    speed: float = 100.0
    rate: float = 0.2


CASES = {
    "tank_overfill": Case("tank_overfill@MHS-01@60@ramp_s=600", 900),
    "exothermic_runaway": Case(
        "exothermic_runaway@MHS-02@60@to_high_high_s=300@tau_s=100", 600),
    "gas_leak": Case("gas_leak@MHS-01@60@tau_s=30@delay_s=15", 400),
    # Frozen needs an hour of the same value (FrozenRule.after_s): a faster run.
    "sensor_stuck": Case("sensor_stuck@MHS-01@60@3900", 3960, speed=300, rate=0.1),
    "sensor_drift": Case("sensor_drift@MHS-01@60@to_high_high_s=600", 900),
    "chattering_sensor": Case("chattering_sensor@MHS-01@60@400", 460),
    # The demo's outage: shorter than the silence timeout, so only the Will can say it.
    "gateway_outage": Case("gateway_outage@MHS-01@60@120", 300),
    "malformed_payloads": Case("malformed_payloads@MHS-01@60@300", 400),
    "clock_skew_ahead": Case("clock_skew@MHS-01@60@offset_s=600", 500),
    "clock_skew_behind": Case("clock_skew@MHS-01@60@offset_s=-120", 500),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
async def test_scenario_raises_what_it_documents(
    tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, unique: str, case: Case
) -> None:
    run = await simulate(tmp_path, mosquitto, influxdb, unique, [case.spec], case.duration_s,
                         speed=case.speed, rate=case.rate)
    check_documented(run)
    (sc,) = run.scenarios
    tags = by_tag(run)
    start_ms = int(sc.start * 1000)
    # Nothing before the scenario begins: the plant was quiet. (A Will is dated on arrival
    # by the service's clock, which is then still at the tick before the drop.)
    interval_ms = round(1000 / case.rate)
    for a in run.alarms:
        assert a.raised_at_ms is not None
        assert a.raised_at_ms >= start_ms - interval_ms, (a.tag, a.rule)

    if sc.name in ("tank_overfill", "sensor_drift"):
        (tag,) = sc.targets
        assert tags[tag] == {"high", "high_high", "trend_high_high"}
    elif sc.name == "exothermic_runaway":
        assert len(sc.targets) == 2  # the reactor's temperature and its pressure
        for tag in sc.targets:
            assert {"high", "high_high"} <= tags[tag]
    elif sc.name == "gas_leak":
        assert isinstance(sc, GasLeak)
        near = {t for t, d in sc.distance.items() if d <= 1}
        second_out = {t for t, d in sc.distance.items() if d == 2}
        for tag in near:
            assert tags[tag] == {"high", "high_high"}
        for tag in second_out:
            assert tags[tag] == {"high"}
    elif sc.name == "sensor_stuck":
        (tag,) = sc.targets
        assert tags[tag] == {"frozen"}
    elif sc.name == "malformed_payloads":
        assert isinstance(sc, MalformedPayloads)
        assert tags == {sc.bad_quality_tag: {"bad_quality"},
                        sc.out_of_range_tag: {"out_of_range"}}
        assert run.service.rejects.batches.total() > 0
        assert run.service.rejects.readings.total() > 0
    elif sc.name == "gateway_outage":
        (alarm,) = run.alarms
        # The Last Will says it at once (not the silence timeout, longer than the
        # outage), and the online status clears it when the gateway is back.
        assert alarm.details.get("reason") == "status"
        assert start_ms - 10_000 <= (alarm.raised_at_ms or 0) <= start_ms + 10_000
        # Cleared by the online status: the shutdown's offline is a second activation of
        # the same (unacknowledged, so still open) occurrence, not a continuation.
        assert alarm.activations == 2
        assert alarm.active_at_ms == int(run.end * 1000)
    elif sc.name == "clock_skew" and sc.expected_alarms:
        (alarm,) = run.alarms
        assert alarm.details.get("reason") == "silence"
        # The first reading from the future is not taken; silence counts from the last
        # one that was, one interval before the skew starts.
        assert alarm.raised_at_ms is not None
        assert 300_000 <= alarm.raised_at_ms - (start_ms - interval_ms) <= 300_000 + 10_000
        assert run.service.rejects.readings.total() > 0  # rejected as from the future
