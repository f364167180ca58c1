"""MQTT in → rules → alarm out, through real Mosquitto and InfluxDB."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiomqtt
import httpx
import orjson
import pytest

from hazmon.testing.influxdb import InfluxDB
from hazmon.testing.mosquitto import Mosquitto
from tests.helpers import BASE_MS, batch, make_settings, publish_all, running, wait_for
from tests.support import ENT

pytestmark = pytest.mark.integration


async def _alarm_events(port: int, topic: str, n: int, ready: asyncio.Event) -> list[Any]:
    got: list[Any] = []
    async with aiomqtt.Client("127.0.0.1", port) as client:
        await client.subscribe(topic, qos=1)
        ready.set()
        async for msg in client.messages:
            assert isinstance(msg.payload, bytes)
            got.append(orjson.loads(msg.payload))
            if len(got) >= n:
                return got
    return got


async def test_gas_reading_over_second_level_raises_alarm_to_plant_and_store(
    tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, unique: str
) -> None:
    settings = make_settings(tmp_path, mosquitto.port, influxdb.url, unique)
    ready = asyncio.Event()
    async with running(settings) as svc:
        listener = asyncio.create_task(
            _alarm_events(mosquitto.port, f"hazmon/v1/320921/{ENT}/alarms", 2, ready))
        await ready.wait()
        # Chlorine detector: GB 50493 second level = 200 % of MAC 1 mg/m³ ≈ 0.68 ppm.
        await publish_all(mosquitto.port, "320921", ENT, [
            batch([{"tag": "MHS-01.GD03", "value": 0.1, "ts": BASE_MS}], seq=1),
            batch([{"tag": "MHS-01.GD03", "value": 1.5, "ts": BASE_MS + 1000}], seq=2),
        ])
        events = await asyncio.wait_for(listener, 20)
        assert svc.alarm_store is not None
        page = await svc.alarm_store.query(limit=10)
        assert svc.notifier is not None
        notifier = svc.notifier
        await wait_for(lambda: notifier.totals["sent"] >= 2, what="deliveries recorded")
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{svc.http_port}") as http:
            assert (await http.get("/health")).status_code == 200
        # /metrics needs a token on the API port; the loopback listener serves it without
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{svc.ops_port}") as http:
            metrics = (await http.get("/metrics")).text
    # Both levels hold at 1.5 ppm: first level (high) and second level (high_high), each
    # its own alarm, as GB 50493 detectors latch each level.
    assert sorted(e["rule"] for e in events) == ["high", "high_high"]
    ev = next(e for e in events if e["rule"] == "high_high")
    assert ev["event"] == "raised"
    assert ev["state"] == "unack_active"
    assert (ev["enterprise"], ev["hazard_source"], ev["tag"]) == (ENT, "MHS-01", "MHS-01.GD03")
    assert ev["rule"] == "high_high"
    assert ev["value"] == 1.5
    assert ev["limit"] == pytest.approx(0.678, abs=0.001)
    assert ev["ts"] == "2026-11-22T02:00:01Z"
    assert "二级" in ev["message"]
    assert sorted(a.id for a in page.items) == sorted(e["id"] for e in events)
    # /metrics covers ingest, rules, alarms, notifications and the API itself.
    for line in ("hazmon_ingest_received_readings_total 2",
                 "hazmon_rules_readings_total 2",
                 "hazmon_alarms_raised_total 2",
                 "hazmon_notifications_sent_total 2",
                 'hazmon_api_requests_total{method="GET",route="/health",status="200"} 1',
                 "# TYPE hazmon_alarms_raised_total counter"):
        assert line in metrics, line
