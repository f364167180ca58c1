"""A scenario through the whole real pipeline yields the warnings it documents.

Simulator → Mosquitto → hazmon ingest → InfluxDB + rules → alarm store → the warning
part → warning store: the gas leak of `hazmon.simulators.scenarios.GasLeak` on a tier-1
and on a tier-3 source of the generated (simulated) plant gives exactly the warnings of
its `expected_warnings`, one per source, marked simulated and pushed to nobody. As in
tests/integration/test_scenarios.py, the service is clocked by the simulated time the
gateways have reached, so the policy's minutes run in simulated time.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hazmon.domain.registry import parse_registry
from hazmon.ingest.topics import Channel, topic_for
from hazmon.simulators import Publisher, generate_registry, parse_scenario, run_simulation
from hazmon.testing.influxdb import InfluxDB
from hazmon.testing.mosquitto import Mosquitto
from tests.helpers import make_settings, publish_raw, running, wait_for

SEED = 3


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    """This module's own broker: the simulated gateway leaves retained status behind."""
    with Mosquitto(tmp_path_factory.mktemp("mosquitto-warnings")) as b:
        yield b


class _ProgressClock:
    def __init__(self, t0: float) -> None:
        self.t0 = t0
        self.publisher: Publisher | None = None

    def attach(self, publisher: Publisher) -> None:
        self.publisher = publisher

    def __call__(self) -> int:
        t = self.t0 if self.publisher is None else self.publisher.now_s()
        return int(t * 1000)


@pytest.mark.parametrize("source", ["MHS-01", "MHS-03"])
async def test_a_gas_leak_yields_the_warnings_it_documents(
        tmp_path: Path, broker: Mosquitto, influxdb: InfluxDB, unique: str, source: str
) -> None:
    gen = generate_registry(1, SEED)
    registry_file = tmp_path / "registry.yaml"
    registry_file.write_text(gen.yaml_text, encoding="utf-8")
    ent = gen.data["enterprises"][0]
    tier = parse_registry(gen.yaml_text).hazard_sources[(ent["code"], source)].grading.tier
    assert tier is not None
    duration_s = 400.0
    t0 = float(math.floor(time.time() - duration_s - 60))
    clock = _ProgressClock(t0)
    scenario = parse_scenario(f"gas_leak@{source}@60@tau_s=30@delay_s=15")
    settings = make_settings(tmp_path, broker.port, influxdb.url, unique,
                             registry=registry_file,
                             alarms={"tick_s": 0.05, "publish_to_plants": False},
                             warnings={"interval_s": 0.1})
    await publish_raw(broker.port, topic_for(ent["region"], ent["code"], Channel.STATUS), b"",
                      retain=True)
    async with running(settings, clock=clock) as svc:
        assert svc.warnings is not None
        await run_simulation(
            registry=gen.data, host="127.0.0.1", port=broker.port, rate=0.2,
            duration_s=duration_s, speed=100.0, start=t0, scenarios=[scenario],
            on_publisher=clock.attach, validate=False, seed=SEED)
        await wait_for(lambda: svc.sink.pending == 0, 30, what="the writer")
        # every round after the data is in: one more at the period's end decides
        rounds = svc.warnings.engine.rounds
        await wait_for(lambda: svc.warnings is not None
                       and svc.warnings.engine.rounds >= rounds + 2, 30, what="two rounds")
        warnings = await svc.warnings.store.open_warnings()
        history = {w.id: await svc.warnings.store.history(w.id) for w in warnings}
        pushes = await svc.warnings.store.pushes()

    got = {(w.hazard_source, w.level.value, r.code) for w in warnings for r in w.reasons}
    assert got == {(source, level, code) for level, code in scenario.expected_warnings[tier]}
    (w,) = warnings  # one warning, however many detectors and rounds
    assert w.enterprise == ent["code"]
    assert w.simulated
    assert [e.event for e in history[w.id]] == ["opened"]
    assert history[w.id][0].data["push"]["held_back"] == "simulated"
    assert pushes == []  # a simulated plant is pushed to nobody
    # opened within the scenario, in simulated time
    assert int(scenario.start * 1000) <= w.opened_at_ms <= int((t0 + duration_s) * 1000)
