"""Record and replay: a recorded feed replayed into a fresh service gives the same alarms.

The first run is a scenario mix through the whole pipeline (see test_scenarios), with the
recorder on. The recording is then replayed into a second service with its own database,
data directory, alarm store and MQTT client id. Alarm times come from the readings'
own timestamps (and the status messages' times), not from when they arrived, so both
runs must raise the same alarms on the same keys at the same milliseconds, with the
same values.

The replaying service is clocked by the replay: its "now" is the newest batch time
published so far, as the first run's was the simulation's progress; so neither sees
readings "from the future" nor finds the plant stale because a speed-up outran it.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from hazmon.alerts.lifecycle import Alarm
from hazmon.ingest.decode import parse_time
from hazmon.simulators import Recorded, read_recording, replay
from hazmon.testing.influxdb import InfluxDB
from hazmon.testing.mosquitto import Mosquitto
from tests.helpers import count_points, make_settings, running, wait_for
from tests.integration import test_scenarios as harness

pytestmark = pytest.mark.integration


@pytest.fixture
def mosquitto(own_broker: Mosquitto) -> Mosquitto:
    """This module's own broker (see tests/integration/conftest.py)."""
    return own_broker

# Process alarms on three hazard sources at once, plus data-health ones: the on-delays of
# a level (60 s) and a pressure (15 s), gas alarms without delay, the trend prediction,
# bad quality and out of range, and the shutdown's offline status.
MIX = [
    "tank_overfill@MHS-04@30@ramp_s=300",
    "gas_leak@MHS-01@60@tau_s=30@delay_s=15",
    "exothermic_runaway@MHS-02@20@to_high_high_s=240@tau_s=80",
    "malformed_payloads@MHS-03@40@200",
]
DURATION_S = 480.0

Key = tuple[str, str, str | None, str, int | None, float | None]


class _ReplayClock:
    """The newest batch time replayed so far, epoch ms (the recording's first, before)."""

    def __init__(self, start_ms: int) -> None:
        self.now_ms = start_ms

    def observe(self, rec: Recorded) -> None:
        if not rec.topic.endswith("/telemetry"):
            return
        try:
            ts = parse_time(orjson.loads(rec.payload)["ts"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return  # a malformed drill message
        self.now_ms = max(self.now_ms, ts)

    def __call__(self) -> int:
        return self.now_ms


def keys(alarms: list[Alarm]) -> list[Key]:
    return sorted(
        ((a.enterprise, a.hazard_source, a.tag, a.rule, a.raised_at_ms, a.value)
         for a in alarms),
        key=repr,
    )


async def test_replay_gives_the_same_alarms(
    tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, unique: str
) -> None:
    recording = tmp_path / "feed.jsonl.gz"
    first = await harness.simulate(tmp_path / "live", mosquitto, influxdb, unique, MIX,
                                   DURATION_S, record=recording)
    original = first.alarms + first.after
    rules = {a.rule for a in original}
    # The mix did what it is for: alarms of every kind it was built to raise.
    assert {"high", "high_high", "trend_high_high", "bad_quality", "out_of_range",
            "gateway_offline"} <= rules
    assert len({a.hazard_source for a in original}) >= 4  # three sources and the gateway

    messages = list(read_recording(recording))
    assert any(m.topic.endswith("/status") for m in messages)
    stored = await count_points(influxdb.url, unique)

    # A fresh service: its own database, client id, data directory and alarm store.
    name = f"{unique}replay"
    settings = make_settings(tmp_path / "replay", mosquitto.port, influxdb.url, name,
                             registry=tmp_path / "live" / "registry.yaml",
                             alarms={"tick_s": harness.TICK_S, "publish_to_plants": False})
    clock = _ReplayClock(int(first.t0 * 1000))
    async with running(settings, clock=clock) as svc:
        summary = await replay(recording, "127.0.0.1", mosquitto.port, speed=2.0,
                               client_id=f"hazmon-replay-{unique}", on_message=clock.observe)
        assert summary.messages == len(messages)
        last_ms = int(first.end * 1000)
        await wait_for(lambda: harness._settled(svc, first.enterprise, last_ms), 30,
                       what="the replayed offline status")
        await wait_for(lambda: count_points(influxdb.url, name), 30,
                       expect=lambda n: n == stored, what="every reading stored again")
        replayed = await harness.all_alarms(svc)

    assert keys(replayed) == keys(original)
