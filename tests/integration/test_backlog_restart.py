"""Catching up is not "stale", also across a restart (issue 12.7).

The real service with real Mosquitto and InfluxDB. One plant's gateway is minutes behind
(its data time lags the wall clock, as a gateway draining its own backlog after an
outage); hazmon is stopped for longer than the gateway silence limit while the broker
keeps minutes of that plant's readings in hazmon's persistent session, then started
again and drains them at full speed. Reception times saved before the stop must not be
taken for the gateway's silence: no gateway_offline and no stale for what is only
queued. A sensor that really stopped while its gateway went on is still stale, and the
other plant's gateway, which really stopped, is still offline.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiomqtt
import pytest
import yaml

from hazmon.core.clock import wall_ms
from hazmon.ingest.decode import parse_time
from hazmon.ingest.topics import Channel, topic_for
from hazmon.testing.influxdb import InfluxDB
from hazmon.testing.mosquitto import Mosquitto
from tests.helpers import batch, publish_all, wait_for
from tests.integration.service_process import AlarmListener, ServiceProcess
from tests.support import ENT, ENT2, REGISTRY_FILE

pytestmark = pytest.mark.integration

S = 1000
# gateway silence and sensor stale limits of both plants: the shortest silence the rules
# accept, so that the waits on real time stay short
SILENCE_S = STALE_S = 10
OUTAGE_S = 15  # hazmon down: longer than either limit
LEVEL, PRESSURE, GAS = "MHS-01.T101.LT01", "MHS-01.T101.PT01", "MHS-01.GD03"
ENT2_TAGS = ["MHS-02.V201.TT01", "MHS-02.GD01"]
NORMAL = {LEVEL: 5.0, PRESSURE: 0.3, GAS: 0.1, ENT2_TAGS[0]: 20.0, ENT2_TAGS[1]: 0.0}


def rules_file(tmp: Path) -> Path:
    stale = {"stale": {"after_s": STALE_S}}
    doc = {"enterprises": {
        ENT: {"gateway": {"silence_s": SILENCE_S},
              "sensors": {tag: stale for tag in (LEVEL, PRESSURE, GAS)}},
        ENT2: {"gateway": {"silence_s": SILENCE_S},
               "sensors": {tag: stale for tag in ENT2_TAGS}},
    }}
    path = tmp / "rules.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def reading(tag: str, ts: int, i: int) -> dict[str, Any]:
    return {"tag": tag, "value": NORMAL[tag] + 0.001 * (i % 7), "ts": ts}


class Gateway:
    """ENT's gateway: one batch a second on its own connection, its data time `lag_ms`
    behind the wall clock; a backlog is sent by moving the lag down in bigger steps."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.seq = 0
        self.data_ms = 0
        self.tags = [LEVEL, PRESSURE, GAS]
        self.sent = 0

    async def run(self, client: aiomqtt.Client, start_lag_ms: int, until_lag_ms: int,
                  step_ms: int, seconds: float) -> None:
        """Publish for `seconds` of wall time: each second, data from where it is up to
        `now − lag`, the lag going from start to until (one reading per sensor every
        `step_ms` of data time)."""
        topic = topic_for("320921", ENT, Channel.TELEMETRY)
        begin = wall_ms()
        if self.data_ms == 0:
            self.data_ms = begin - start_lag_ms
        while (now := wall_ms()) - begin < seconds * S:
            frac = min(1.0, (now - begin) / (seconds * S))
            target = now - round(start_lag_ms + (until_lag_ms - start_lag_ms) * frac)
            rows = []
            while self.data_ms + step_ms <= target:
                self.data_ms += step_ms
                rows += [reading(tag, self.data_ms, self.sent) for tag in self.tags]
                self.sent += 1
            for i in range(0, len(rows), 300):  # at most 300 readings a batch
                self.seq += 1
                await client.publish(topic, batch(rows[i:i + 300], seq=self.seq), qos=1)
            await asyncio.sleep(1.0)


@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
async def test_a_backlog_drained_after_a_restart_raises_no_false_data_health_alarm(
    tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, unique: str, how: str
) -> None:
    service = ServiceProcess(tmp_path, {
        "registry": str(REGISTRY_FILE),
        "data_dir": str(tmp_path / "data"),
        "mqtt": {"port": mosquitto.port, "client_id": f"hazmon-{unique}",
                 "reconnect_min_s": 0.1},
        "influx": {"url": influxdb.url, "database": unique, "flush_interval_s": 0.05},
        "http": {"port": 0},
        "alarms": {"rules_file": str(rules_file(tmp_path)), "state_save_s": 1},
    })
    gateway = Gateway(mosquitto.port)
    async with (AlarmListener(mosquitto.port).running() as heard,
                aiomqtt.Client("127.0.0.1", mosquitto.port,
                               identifier=f"gw-{unique}") as client):
        try:
            await service.start()
            await service.replay_done()
            # Live: ENT's gateway four minutes behind and catching up slowly; then ENT2's
            # gateway sends a few seconds' data and nothing more.
            await gateway.run(client, 240 * S, 230 * S, 1000, 5)
            t = wall_ms()
            await publish_all(mosquitto.port, "320902", ENT2, [
                batch([reading(tag, t - (2 - i) * S, i) for tag in ENT2_TAGS], seq=i + 1)
                for i in range(3)])
            await wait_for(lambda: service.metric("hazmon_rules_readings_total"),
                           expect=lambda n: n >= gateway.sent * 3 + 6,
                           what="the live data evaluated")
            await asyncio.sleep(1.5)  # a periodic save with its tick times
            service.stop(how)
            # hazmon is down; the broker keeps what ENT's gateway sends: its backlog,
            # from four minutes behind to one, and GD03 falls silent with the first of it.
            gateway.tags = [LEVEL, PRESSURE]
            queued_from = gateway.sent
            await gateway.run(client, 230 * S, 60 * S, 1000, OUTAGE_S)
            backlog = gateway.sent - queued_from
            assert backlog > 150, "the broker should hold minutes of data time"

            restart_ms = wall_ms()
            await service.start()
            # It drains the backlog at full speed and goes on live (a minute behind),
            # until ENT2's silence counted from the restart has run out.
            live = asyncio.create_task(
                gateway.run(client, 60 * S, 60 * S, 1000, SILENCE_S + 10))
            await wait_for(lambda: len(heard.of("gateway_offline", "raised")), 40,
                           what="ENT2's gateway flagged offline")
            await live
            service.terminate()
        finally:
            service.ensure_stopped()

    raised = sorted((e["enterprise"], e["tag"] or "@", e["rule"]) for e in heard.events
                    if e["event"] == "raised")
    # ENT2 offline (its sensors held behind its one alarm), ENT's silent detector stale,
    # and nothing for ENT's gateway or its two reporting sensors.
    assert raised == sorted([(ENT, GAS, "stale"), (ENT2, "@", "gateway_offline")]), raised
    # ENT2's silence counted from the restart, not from before the outage.
    (offline,) = heard.of("gateway_offline", "raised")
    assert parse_time(offline["ts"]) >= restart_ms + SILENCE_S * S
