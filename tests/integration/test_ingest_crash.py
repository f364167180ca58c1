"""The service killed with SIGKILL mid-stream and started again loses nothing.

QoS 1 with a persistent session and acknowledgements sent only after the data is durable:
what was not acknowledged is redelivered. InfluxDB overwrites a point written again, so a
double write is counted where it can be seen: at a proxy in front of InfluxDB.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from hazmon.testing.influxdb import InfluxDB
from hazmon.testing.mosquitto import Mosquitto
from hazmon.testing.process import free_port
from tests.helpers import BASE_MS, SESSION_EXPIRY_S, batch, count_points, publish_all, wait_for
from tests.integration.influx_proxy import CountingInfluxProxy
from tests.support import ENT, REGISTRY_FILE

pytestmark = pytest.mark.integration

TAGS = ["MHS-01.T101.LT01", "MHS-01.T101.PT01", "MHS-01.GD03"]


def start_service(config: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "hazmon.service.cli", "run", "--config", str(config)],
            stdout=out, stderr=out, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )


async def metric(port: int, name: str) -> float:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        text = (await http.get("/metrics")).text
    for line in text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    raise AssertionError(f"metric {name} not found")


def http_port(log: Path, nth: int) -> int:
    ports = re.findall(r"HTTP on port (\d+)", log.read_text())
    return int(ports[nth]) if len(ports) > nth else 0


async def test_sigkill_mid_stream_loses_nothing_and_stores_nothing_twice(
    tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, unique: str
) -> None:
    async with CountingInfluxProxy(influxdb.url) as proxy:
        await _sigkill_mid_stream(tmp_path, mosquitto, influxdb, proxy, unique)


async def _sigkill_mid_stream(tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB,
                              proxy: CountingInfluxProxy, unique: str) -> None:
    config = tmp_path / "hazmon.yaml"
    ops_port = free_port()
    config.write_text(yaml.safe_dump({
        "registry": str(REGISTRY_FILE),
        "data_dir": str(tmp_path / "data"),
        "mqtt": {"port": mosquitto.port, "client_id": f"hazmon-{unique}",
                 "reconnect_min_s": 0.1, "session_expiry_s": SESSION_EXPIRY_S},
        "influx": {"url": proxy.url, "database": unique, "flush_interval_s": 0.1,
                   "batch_size": 500},
        # /metrics without a token on the loopback listener (the API port wants one)
        "http": {"port": 0, "ops_port": ops_port},
    }))
    log = tmp_path / "service.log"
    n_batches, per_batch = 400, 10
    payloads = [
        batch([{"tag": TAGS[i % 3], "value": float(b * per_batch + i),
                "ts": BASE_MS + (b * per_batch + i) * 100} for i in range(per_batch)],
              seq=b + 1)
        for b in range(n_batches)
    ]
    published = {(TAGS[i % 3], BASE_MS + (b * per_batch + i) * 100)
                 for b in range(n_batches) for i in range(per_batch)}

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
        proxy.epoch = 1  # connections from now on are the restarted process's
        assert stored < n_batches * per_batch, "the stream should still be running at the kill"
        await feeder  # the rest is published while the service is dead
        proc = start_service(config, log)
        total = n_batches * per_batch
        await wait_for(lambda: count_points(influxdb.url, unique),
                       expect=lambda n: n == total, timeout=60, what=f"{total} points")
        await wait_for(lambda: http_port(log, 1), what="HTTP port of the restart")
        port = ops_port
        # every reading the new process took is written before its count is final
        await wait_for(lambda: metric(port, "hazmon_ingest_received_readings_total"),
                       expect=lambda n: len(proxy.by_epoch.get(1, [])) >= n,
                       what="writes caught up with receipts")
        received = await metric(port, "hazmon_ingest_received_readings_total")
        first, second = proxy.by_epoch[0], proxy.by_epoch[1]
        evaluated = await metric(port, "hazmon_rules_readings_total")
        assert await count_points(influxdb.url, unique) == total
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
    assert proc.returncode == 0, log.read_text()[-3000:]
    assert set(first) | set(second) == published  # nothing lost
    assert set(first) | set(second) <= published  # nothing invented
    # Nothing written twice by either process ...
    assert proxy.twice(first) == {}
    assert proxy.twice(second) == {}
    # ... and across the kill only what was in flight, written but not acknowledged: the
    # newest of what the killed process wrote (acks follow the writes in order), so every
    # batch written again comes after every batch it wrote and acknowledged.
    def batch_of(point: tuple[str, int]) -> int:
        return (point[1] - BASE_MS) // 100 // per_batch

    again = {batch_of(p) for p in set(first) & set(second)}
    kept = {batch_of(p) for p in first} - again
    assert not again or not kept or max(kept) < min(again), (
        f"batches written again {sorted(again)} are not the newest of {sorted(kept)}")
    # every reading the restarted process took, it stored once and evaluated once
    assert len(second) == received
    assert evaluated == received
