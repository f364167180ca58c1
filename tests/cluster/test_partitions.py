"""Two service instances in one process on one broker and one PostgreSQL: partitions are
leased apart, each instance evaluates and ticks only its own enterprises, any instance's
API answers for the whole province, and a partition given back is taken over with the
messages queued for it meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiomqtt
import httpx
import pytest
from pydantic import ValidationError

from hazmon.cluster.settings import ClusterSettings
from hazmon.core.clock import wall_ms
from hazmon.ingest.topics import Channel, topic_for
from hazmon.service.app import Service
from hazmon.testing.influxdb import InfluxDB
from hazmon.testing.mosquitto import Mosquitto
from hazmon.testing.postgres import PostgresServer
from tests.helpers import batch, count_points, make_settings, running, wait_for
from tests.support import ENT, ENT2

pytestmark = pytest.mark.integration

PARTITIONS = {"north": ["320921"], "south": ["320902"]}
GAS = {ENT: ("320921", "MHS-01.GD03"), ENT2: ("320902", "MHS-02.GD01")}


def test_partition_prefixes_must_not_overlap() -> None:
    with pytest.raises(ValidationError, match="overlaps"):
        ClusterSettings(partitions={"a": ["3209"], "b": ["320921"]})
    with pytest.raises(ValidationError, match="at most half"):
        ClusterSettings(partitions={"a": ["32"]}, lease_s=4, renew_s=3)
    with pytest.raises(ValidationError, match="not a region prefix"):
        ClusterSettings(partitions={"a": ["32x"]})


async def _publish(port: int, enterprise: str, value: float, seq: int) -> None:
    region, tag = GAS[enterprise]
    async with aiomqtt.Client("127.0.0.1", port) as client:
        await client.publish(topic_for(region, enterprise, Channel.TELEMETRY),
                             batch([{"tag": tag, "value": value, "ts": wall_ms()}], seq=seq),
                             qos=1)


def _settings(tmp: Path, name: str, mosquitto: Mosquitto, influxdb: InfluxDB, db_url: str,
              db: str, lease_s: float = 6) -> Any:
    return make_settings(
        tmp / name, mosquitto.port, influxdb.url, db,
        mqtt={"client_id": "hz"},
        alarms={"db_url": db_url, "tick_s": 0.2, "notify_poll_s": 0.2},
        cluster={"instance": name, "partitions": PARTITIONS, "lease_s": lease_s, "renew_s": 0.5,
                 "save_s": 0.5})


@contextlib.asynccontextmanager
async def _two(tmp: Path, mosquitto: Mosquitto, influxdb: InfluxDB, db_url: str, db: str,
               lease_s: float = 6) -> AsyncIterator[tuple[Service, Service]]:
    async with running(_settings(tmp, "a", mosquitto, influxdb, db_url, db, lease_s)) as a, \
            running(_settings(tmp, "b", mosquitto, influxdb, db_url, db, lease_s)) as b:
        assert a.cluster is not None
        assert b.cluster is not None
        ca, cb = a.cluster, b.cluster
        await wait_for(lambda: (sorted(ca.workers), sorted(cb.workers)), what="balanced",
                       expect=lambda h: len(h[0]) == 1 and len(h[1]) == 1)
        yield a, b


async def _alarms(svc: Service) -> list[tuple[str, str]]:
    page = await svc.alarm_store.query(limit=50)
    return sorted((a.enterprise, a.rule) for a in page.items)


async def test_partitions_split_evaluate_apart_and_are_taken_over(
    tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, pg: PostgresServer,
    unique: str,
) -> None:
    db_url = pg.create_database()
    async with _two(tmp_path, mosquitto, influxdb, db_url, unique) as (a, b):
        assert a.cluster is not None
        assert b.cluster is not None
        # each instance's rules hold only its partition's enterprises
        for svc in (a, b):
            assert svc.cluster is not None
            (w,) = svc.cluster.workers.values()
            assert len(w.codes) == 1
        await _publish(mosquitto.port, ENT, 0.1, 1)
        await _publish(mosquitto.port, ENT2, 1.0, 1)
        await wait_for(lambda: count_points(influxdb.url, unique), expect=lambda n: n == 2,
                       what="both readings stored")
        # any instance's API answers for both: presence is shared through the database
        for svc in (a, b):
            async with httpx.AsyncClient(  # the operations listener: /health in detail
                    base_url=f"http://127.0.0.1:{svc.ops_port}") as http:
                h = (await http.get("/health")).json()
            assert h["cluster"]["instance"] == svc.cluster.instance
            cl = svc.cluster
            assert cl is not None
            await wait_for(lambda cl=cl: {e for e in (ENT, ENT2)
                                          if cl.gateways.gateways.get(e) is not None
                                          and cl.gateways.gateways[e].state == "online"},
                           expect=lambda s: s == {ENT, ENT2}, what="gateways everywhere")
            await wait_for(lambda cl=cl: cl.last_seen(ENT2, "MHS-02.GD01"),
                           what="last reading of the other partition")

    # both stopped cleanly: leases released, state saved. One instance alone takes both
    # partitions and receives what was published while nobody held them.
    await _publish(mosquitto.port, ENT, 1.5, 2)  # over both levels of the chlorine detector
    await _publish(mosquitto.port, ENT2, 2.0, 2)
    async with running(_settings(tmp_path, "a", mosquitto, influxdb, db_url, unique)) as solo:
        assert solo.cluster is not None
        cl = solo.cluster
        await wait_for(lambda: sorted(cl.workers), expect=lambda w: w == ["north", "south"],
                       what="both partitions held alone")
        await wait_for(lambda: count_points(influxdb.url, unique), expect=lambda n: n == 4,
                       what="the backlog received by the taker")
        alarms = await wait_for(lambda: _alarms(solo), what="alarms of the backlog",
                                expect=lambda al: (ENT, "high_high") in al)
    assert alarms.count((ENT, "high_high")) == 1
    assert [r for e, r in alarms if r == "gateway_offline"] == []


def test_a_partition_taken_again_counts_its_batches_afresh() -> None:
    """Batches another instance received while it held the partition are no gap here."""
    from hazmon.ingest.sequence import SequenceTracker

    seq = SequenceTracker()
    for n in (1, 2, 3):
        seq.observe(ENT, n, [], 1000 + n)
    seq.observe(ENT2, 1, [], 1000)
    seq.observe(ENT2, 40, [], 2000)  # numbers 2..39 went elsewhere: a gap, unless...
    assert seq.missing_of(ENT2) == 38
    seq.forget(ENT2)
    seq.forget(ENT)
    seq.observe(ENT, 40, [], 2000)  # ...the partition was held elsewhere meanwhile
    assert seq.missing_of(ENT) == 0
    assert seq.missing_of(ENT2) == 0


async def test_a_fixed_split_evaluates_and_ticks_only_its_regions(
    tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, unique: str,
) -> None:
    """`mqtt.regions` without leases: the rules stage holds only the owned enterprises,
    so it never calls a gateway it does not receive offline."""
    settings = make_settings(tmp_path, mosquitto.port, influxdb.url, unique,
                             mqtt={"regions": ["320921"]})
    async with running(settings) as svc:
        engine = svc.rules.engine
        assert engine.gateway_status(ENT2, False, wall_ms()) == []  # not watched here
        (raised,) = engine.gateway_status(ENT, False, wall_ms())
        assert (raised.enterprise, raised.rule) == (ENT, "gateway_offline")
        assert svc.topic_filters() == ["hazmon/v1/320921/+/+"]


async def test_a_database_restart_shorter_than_the_lease_keeps_the_partitions(
    tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, pg: PostgresServer,
    unique: str,
) -> None:
    """Clustered, PostgreSQL stopped and started again within the lease: each instance
    keeps its partition (epochs unchanged), ingest goes on, the alarm raised meanwhile
    is written once the database is back."""
    db_url = pg.create_database()
    # a lease far longer than the outage and the pool's 5 s wait for a connection
    async with _two(tmp_path, mosquitto, influxdb, db_url, unique, lease_s=30) as (a, b):
        assert a.cluster is not None
        assert b.cluster is not None
        before = {n: w.lease for s in (a, b) for n, w in s.cluster.workers.items()}
        await _publish(mosquitto.port, ENT, 0.1, 1)
        await wait_for(lambda: count_points(influxdb.url, unique), expect=lambda n: n == 1,
                       what="first reading")
        await asyncio.to_thread(pg.halt)
        await _publish(mosquitto.port, ENT, 1.5, 2)  # over both levels, database away
        await _publish(mosquitto.port, ENT2, 1.0, 2)
        await wait_for(lambda: count_points(influxdb.url, unique), expect=lambda n: n == 3,
                       what="ingest while the database is away")
        await asyncio.to_thread(pg.resume)
        alarms = await wait_for(lambda: _alarms(a), timeout=60, what="the alarm written",
                                expect=lambda al: (ENT, "high_high") in al)
        after = {n: w.lease for s in (a, b) for n, w in s.cluster.workers.items()}
    assert after == before  # nobody lost or took a partition
    assert alarms.count((ENT, "high_high")) == 1
