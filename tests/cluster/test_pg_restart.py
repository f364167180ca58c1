"""A PostgreSQL restart under a steady feed costs no reading and no alarm: ingest goes
on, the alarm signals raised meanwhile wait and are written once the server is back, and
/health says degraded while it is away."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import aiomqtt
import httpx
import pytest

from hazmon.core.clock import wall_ms
from hazmon.ingest.topics import Channel, topic_for
from hazmon.testing.influxdb import InfluxDB
from hazmon.testing.mosquitto import Mosquitto
from hazmon.testing.postgres import PostgresServer
from tests.helpers import batch, count_points, make_settings, running, wait_for
from tests.support import ENT

pytestmark = pytest.mark.integration

TAG = "MHS-01.GD03"  # chlorine: GB 50493 levels at 0.34 and 0.68 ppm, no on-delay


class Feed:
    """A gateway publishing one reading per batch, every `period_s`, until stopped, stamped
    with the wall clock as a live gateway does; the value can be changed while it runs."""

    def __init__(self, port: int, period_s: float = 0.05) -> None:
        self.port = port
        self.period_s = period_s
        self.value = 0.1
        self.sent = 0
        self._stop = asyncio.Event()

    async def run(self) -> None:
        topic = topic_for("320921", ENT, Channel.TELEMETRY)
        async with aiomqtt.Client("127.0.0.1", self.port) as client:
            while not self._stop.is_set():
                self.sent += 1
                await client.publish(topic, batch(
                    [{"tag": TAG, "value": self.value, "ts": wall_ms()}],
                    seq=self.sent), qos=1)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), self.period_s)

    def stop(self) -> None:
        self._stop.set()


async def _health(http: httpx.AsyncClient) -> dict[str, Any]:
    body: dict[str, Any] = (await http.get("/health")).json()
    return body


async def test_postgres_restart_mid_stream_loses_no_reading_and_no_alarm(
    tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, pg: PostgresServer,
    unique: str,
) -> None:
    db_url = pg.create_database()
    settings = make_settings(tmp_path, mosquitto.port, influxdb.url, unique,
                             alarms={"db_url": db_url, "notify_poll_s": 0.2})
    feed = Feed(mosquitto.port)
    async with running(settings) as svc:
        http = httpx.AsyncClient(base_url=f"http://127.0.0.1:{svc.ops_port}")  # /health detail
        task = asyncio.create_task(feed.run())
        await wait_for(lambda: count_points(influxdb.url, unique), expect=lambda n: n >= 20,
                       what="readings before the restart")
        assert (await _health(http))["status"] == "ok"

        await asyncio.to_thread(pg.halt)
        feed.value = 1.5  # over both levels while the database is away
        down = await wait_for(lambda: _health(http), what="health degraded",
                              expect=lambda h: h["alarm_db"]["state"] == "down")
        assert down["status"] == "degraded"
        waiting = await wait_for(lambda: svc.pending.waiting, what="signals waiting")
        assert waiting >= 2  # the raise of each level, held back, not dropped
        at_halt = await count_points(influxdb.url, unique)
        await wait_for(lambda: count_points(influxdb.url, unique),
                       expect=lambda n: n >= at_halt + 20, what="ingest during the outage")

        await asyncio.to_thread(pg.resume)
        healed = await wait_for(lambda: _health(http), timeout=60, what="health ok again",
                                expect=lambda h: h["status"] == "ok")
        assert healed["alarm_db"] == {"state": "up", "dialect": "postgresql",
                                      "down_since_ms": None, "error": None,
                                      "waiting_signals": 0}
        feed.stop()
        await task
        await wait_for(lambda: count_points(influxdb.url, unique),
                       expect=lambda n: n == feed.sent, what="every reading stored")
        page = await svc.alarm_store.query(limit=10)
        histories = {a.id: [h.event for h in await svc.alarm_store.history(a.id)]
                     for a in page.items}
        await http.aclose()
    alarms = sorted((a.rule, a.tag) for a in page.items)
    assert alarms == [("high", TAG), ("high_high", TAG)]  # each raised once, none lost
    for a in page.items:
        assert a.is_active
        assert not a.is_acked
        assert histories[a.id].count("raised") == 1, histories[a.id]
