"""Ctrl-C (SIGINT) on the running service mid-stream: a clean exit that loses nothing.

The real command line against real Mosquitto and InfluxDB. A gateway publishes readings
with QoS 1 on one connection and keeps what the broker acknowledged; the service is
interrupted while readings wait in its writer, then started again to drain its
persistent session. Every acknowledged reading must be in InfluxDB, exactly once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiomqtt
import pytest
import yaml

from hazmon.ingest.topics import Channel, topic_for
from hazmon.testing.influxdb import InfluxDB
from hazmon.testing.mosquitto import Mosquitto
from tests.helpers import BASE_MS, SESSION_EXPIRY_S, batch, count_points, influx_query, wait_for
from tests.support import ENT, REGISTRY_FILE

pytestmark = pytest.mark.integration

TAGS = ["MHS-01.T101.LT01", "MHS-01.T101.PT01", "MHS-01.GD03"]
BATCHES, PER_BATCH = 600, 5


def payload(b: int) -> bytes:
    """Batch `b`: readings numbered b * PER_BATCH …, the number as the value."""
    return batch([{"tag": TAGS[i % 3], "value": float(b * PER_BATCH + i),
                   "ts": BASE_MS + (b * PER_BATCH + i) * 100} for i in range(PER_BATCH)],
                 seq=b + 1)


def start_service(config: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "hazmon.service.cli", "run", "--config", str(config)],
            stdout=out, stderr=out, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )


def interrupt(proc: subprocess.Popen[bytes], log: Path) -> str:
    """SIGINT, as Ctrl-C sends it; the service must exit 0 with a clean log."""
    proc.send_signal(signal.SIGINT)
    try:
        code = proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise
    text = log.read_text(errors="replace")
    assert code == 0, text[-3000:]
    assert "never retrieved" not in text
    assert "Traceback" not in text
    assert text.rstrip().endswith("hazmon.service.app: stopped"), text[-3000:]
    return text


async def stored_values(url: str, db: str) -> list[float]:
    rows = await influx_query(url, db, 'SELECT "value" FROM "telemetry"')
    return sorted(float(r[1]) for r in rows)


async def test_sigint_mid_stream_exits_cleanly_and_stores_every_acknowledged_reading(
    tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, unique: str
) -> None:
    config = tmp_path / "hazmon.yaml"
    config.write_text(yaml.safe_dump({
        "registry": str(REGISTRY_FILE),
        "data_dir": str(tmp_path / "data"),
        "log_level": "INFO",
        "mqtt": {"port": mosquitto.port, "client_id": f"hazmon-{unique}",
                 "reconnect_min_s": 0.1, "session_expiry_s": SESSION_EXPIRY_S},
        # A long flush interval: at the interrupt, readings wait in the writer's queue
        # and only the shutdown's last flush stores them.
        "influx": {"url": influxdb.url, "database": unique, "flush_interval_s": 1.0,
                   "batch_size": 100_000},
        "http": {"port": 0},
    }))
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    acked: list[int] = []  # batches the broker acknowledged (PUBACK)

    async def gateway() -> None:
        topic = topic_for("320921", ENT, Channel.TELEMETRY)
        async with aiomqtt.Client("127.0.0.1", mosquitto.port,
                                  identifier=f"gw-{unique}") as client:
            for b in range(BATCHES):
                await client.publish(topic, payload(b), qos=1)  # returns on PUBACK
                acked.append(b)
                await asyncio.sleep(0.01)

    proc = start_service(config, first_log)
    try:
        # The session must exist before publishing, or the broker keeps nothing for us.
        await wait_for(lambda: "ready: subscribed" in first_log.read_text(), 30,
                       what="service ready")
        feeder = asyncio.create_task(gateway())
        await wait_for(lambda: count_points(influxdb.url, unique), 30,
                       expect=lambda n: n >= 200, what="a first flush stored")
        sent_at_interrupt = len(acked)
        stored_before = await count_points(influxdb.url, unique)
        first = interrupt(proc, first_log)
        assert sent_at_interrupt < BATCHES, "the stream should still run at the interrupt"
        assert "influx-writer did not finish" not in first  # flushed, not cut off
        stored_at_exit = await count_points(influxdb.url, unique)
        await feeder  # the rest goes to the broker's session while the service is down
        assert acked == list(range(BATCHES))

        proc = start_service(config, second_log)
        expected = [float(n) for n in range(BATCHES * PER_BATCH)]
        await wait_for(lambda: count_points(influxdb.url, unique), 60,
                       expect=lambda n: n == len(expected), what="every reading stored")
        await asyncio.sleep(0.5)  # late duplicates or strays, if any, would show up now
        assert await stored_values(influxdb.url, unique) == expected
        interrupt(proc, second_log)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    # The interrupted run stored more than it had before the signal: its shutdown wrote
    # out what its writer held rather than leaving it all to the redelivery.
    assert stored_at_exit > stored_before
