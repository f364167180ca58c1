"""Operations: registry reload without restart, broker restart with reconnect."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from hazmon.testing.influxdb import InfluxDB
from hazmon.testing.mosquitto import Mosquitto
from tests.helpers import (
    BASE_MS,
    batch,
    count_points,
    make_settings,
    publish_all,
    running,
    wait_for,
)
from tests.support import ENT, REGISTRY_FILE

pytestmark = pytest.mark.integration

NEW_SENSOR = """          - {tag: MHS-01.T101.TT09, kind: temperature, unit: °C, range: [-20, 80],
             limits: {high: 40, high_high: 45}}
"""


ANCHOR = "range: [0, 20]}\n"  # the sensor in the example registry after which one is added


def copy_registry(tmp_path: Path) -> tuple[Path, str]:
    reg = tmp_path / "registry.yaml"
    original = REGISTRY_FILE.read_text(encoding="utf-8")
    reg.write_text(original, encoding="utf-8")
    return reg, original


async def test_registry_reload_adds_sensors_and_refuses_a_bad_file(
    tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, unique: str
) -> None:
    reg, original = copy_registry(tmp_path)
    settings = make_settings(tmp_path, mosquitto.port, influxdb.url, unique, registry=reg,
                             registry_poll_s=0.2)
    new_reading = batch([{"tag": "MHS-01.T101.TT09", "value": 21.5, "ts": BASE_MS}])
    async with running(settings) as svc:
        await publish_all(mosquitto.port, "320921", ENT, [new_reading])
        await wait_for(lambda: svc.rejects.readings.get(ENT, "unknown_tag"), what="unknown tag")

        reg.write_text(original.replace(ANCHOR, ANCHOR + NEW_SENSOR, 1), encoding="utf-8")
        await wait_for(lambda: len(svc.registry.sensors) == 6, what="reload picked up")
        await publish_all(mosquitto.port, "320921", ENT, [new_reading])
        await wait_for(lambda: count_points(influxdb.url, unique), expect=lambda n: n == 1,
                       what="new sensor stored")

        reg.write_text(original.replace("kind: level", "kind: levle", 1), encoding="utf-8")
        await wait_for(lambda: svc.health()["registry"]["reload_error"], what="refused reload")
        health = svc.health()
        assert "kind" in health["registry"]["reload_error"]
        assert health["status"] == "degraded"
        assert len(svc.registry.sensors) == 6  # the good registry stays in force


async def test_sighup_reloads_the_registry_while_ingest_goes_on(
    tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, unique: str
) -> None:
    reg, original = copy_registry(tmp_path)
    settings = make_settings(tmp_path, mosquitto.port, influxdb.url, unique, registry=reg,
                             registry_poll_s=0)  # no polling: only the signal reloads
    async with running(settings) as svc:
        reg.write_text(original.replace(ANCHOR, ANCHOR + NEW_SENSOR, 1), encoding="utf-8")
        os.kill(os.getpid(), signal.SIGHUP)
        readings = [batch([{"tag": "MHS-01.T101.LT01", "value": float(i), "ts": BASE_MS + i}])
                    for i in range(5)]
        await publish_all(mosquitto.port, "320921", ENT, readings)
        await wait_for(lambda: len(svc.registry.sensors) == 6, what="SIGHUP reload")
        await wait_for(lambda: svc.sink.stored.total() >= 5, what="readings stored")
        assert svc.health()["registry"]["reload_error"] is None


async def test_broker_restart_reconnects_and_keeps_the_session(
    tmp_path: Path, influxdb: InfluxDB, unique: str
) -> None:
    broker = Mosquitto(tmp_path / "mq").start()
    try:
        settings = make_settings(tmp_path, broker.port, influxdb.url, unique)
        readings = [batch([{"tag": "MHS-01.T101.LT01", "value": float(i), "ts": BASE_MS + i}])
                    for i in range(30)]
        async with running(settings) as svc:
            await publish_all(broker.port, "320921", ENT, readings[:10])
            await wait_for(lambda: svc.sink.stored.total() >= 10, what="first 10 stored")
            broker.stop()
            await wait_for(lambda: not svc.source.connected, what="disconnect seen")
            assert svc.health()["broker"]["state"] == "down"
            broker.start()
            await wait_for(lambda: svc.source.connected, what="reconnected", timeout=30)
            await publish_all(broker.port, "320921", ENT, readings[10:])
            await wait_for(lambda: count_points(influxdb.url, unique), expect=lambda n: n == 30,
                           what="all 30 stored")
            attempts = svc.source.reconnects
            assert attempts.get("failed") >= 1
            assert attempts.get("ok") >= 2
    finally:
        broker.stop()
