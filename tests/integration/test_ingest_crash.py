"""The service killed with SIGKILL mid-stream and started again loses nothing.

QoS 1 with a persistent session and acknowledgements sent only after the data is durable:
what was not acknowledged is redelivered, and redelivered points overwrite themselves.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from hazmon.testing.influxdb import InfluxDB
from hazmon.testing.mosquitto import Mosquitto
from tests.helpers import BASE_MS, batch, count_points, publish_all, wait_for
from tests.support import ENT, REGISTRY_FILE

pytestmark = pytest.mark.integration

TAGS = ["MHS-01.T101.LT01", "MHS-01.T101.PT01", "MHS-01.GD03"]


def start_service(config: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "hazmon.service.cli", "run", "--config", str(config)],
            stdout=out, stderr=out, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )


async def test_sigkill_mid_stream_loses_nothing_and_stores_nothing_twice(
    tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, unique: str
) -> None:
    config = tmp_path / "hazmon.yaml"
    config.write_text(yaml.safe_dump({
        "registry": str(REGISTRY_FILE),
        "data_dir": str(tmp_path / "data"),
        "mqtt": {"port": mosquitto.port, "client_id": f"hazmon-{unique}",
                 "reconnect_min_s": 0.1},
        "influx": {"url": influxdb.url, "database": unique, "flush_interval_s": 0.1,
                   "batch_size": 500},
        "http": {"port": 0},
    }))
    log = tmp_path / "service.log"
    n_batches, per_batch = 400, 10
    payloads = [
        batch([{"tag": TAGS[i % 3], "value": float(b * per_batch + i),
                "ts": BASE_MS + (b * per_batch + i) * 100} for i in range(per_batch)],
              seq=b + 1)
        for b in range(n_batches)
    ]

    proc = start_service(config, log)
    try:
        # The session must exist before publishing, or the broker keeps nothing for us.
        await wait_for(lambda: "ready: subscribed" in log.read_text(), what="service ready")

        async def feed() -> None:
            for i in range(0, n_batches, 10):
                await publish_all(mosquitto.port, "320921", ENT, payloads[i:i + 10])
                await asyncio.sleep(0.02)

        feeder = asyncio.create_task(feed())
        stored = await wait_for(lambda: count_points(influxdb.url, unique),
                                expect=lambda n: n >= 500, what="some points stored")
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        assert stored < n_batches * per_batch, "the stream should still be running at the kill"
        await feeder  # the rest is published while the service is dead
        proc = start_service(config, log)
        total = n_batches * per_batch
        await wait_for(lambda: count_points(influxdb.url, unique),
                       expect=lambda n: n == total, timeout=60, what=f"{total} points")
        await asyncio.sleep(0.5)  # late duplicates, if any, would show up now
        assert await count_points(influxdb.url, unique) == total
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
    assert proc.returncode == 0, log.read_text()[-3000:]
