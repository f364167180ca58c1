"""Telemetry through the real pipeline: Mosquitto → hazmon → InfluxDB."""

from __future__ import annotations

from pathlib import Path

import aiomqtt
import httpx
import orjson
import pytest

from hazmon.testing.influxdb import InfluxDB
from hazmon.testing.mosquitto import Mosquitto
from tests.helpers import (
    BASE_MS,
    batch,
    count_points,
    influx_query,
    make_settings,
    publish_all,
    publish_raw,
    running,
    wait_for,
)
from tests.support import ENT, ENT2

pytestmark = pytest.mark.integration

TAGS = ["MHS-01.T101.LT01", "MHS-01.T101.PT01", "MHS-01.GD03"]


def series(n_batches: int, per_batch: int, start_seq: int = 1) -> list[bytes]:
    """n_batches × per_batch distinct readings, 1 s apart per tag."""
    out = []
    for b in range(n_batches):
        readings = []
        for i in range(per_batch):
            k = b * per_batch + i
            readings.append({"tag": TAGS[k % 3], "value": round(1.0 + k * 0.001, 3),
                             "ts": BASE_MS + (k // 3) * 1000})
        out.append(batch(readings, seq=start_seq + b))
    return out


async def test_n_readings_arrive_as_n_points(
    tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, unique: str
) -> None:
    settings = make_settings(tmp_path, mosquitto.port, influxdb.url, unique)
    async with running(settings) as svc:
        await publish_all(mosquitto.port, "320921", ENT, series(50, 20))
        await wait_for(lambda: svc.sink.stored.total() >= 1000, what="1000 stored")
        assert await count_points(influxdb.url, unique) == 1000
        rows = await influx_query(
            influxdb.url, unique,
            "SELECT value, quality, enterprise, hazard_source, kind, region FROM telemetry "
            "WHERE \"tag\" = 'MHS-01.T101.PT01' ORDER BY time LIMIT 2")
        # reading k=1 is the first PT01: ts BASE + 0, value 1.001; k=4: BASE + 1000, 1.004
        assert rows[0] == [BASE_MS, 1.001, "good", ENT, "MHS-01", "pressure", "320921"]
        assert rows[1][:2] == [BASE_MS + 1000, 1.004]
        health = svc.health()
        assert health["counters"]["received"] == 1000
        assert health["counters"]["stored"] == 1000
        assert health["broker"]["state"] == "up"


async def test_rfc3339_batch_time_and_reading_time(
    tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, unique: str
) -> None:
    settings = make_settings(tmp_path, mosquitto.port, influxdb.url, unique)
    payload = batch([
        {"tag": "MHS-01.T101.LT01", "value": 7.42},
        {"tag": "MHS-01.T101.PT01", "value": 0.62, "ts": BASE_MS + 250, "quality": "good"},
        {"tag": "MHS-01.GD03", "value": 12.5, "quality": "uncertain"},
    ], seq=1842, ts="2026-11-22T10:00:00.000+08:00")
    async with running(settings):
        await publish_all(mosquitto.port, "320921", ENT, [payload])
        await wait_for(lambda: count_points(influxdb.url, unique), what="points")
        rows = await influx_query(influxdb.url, unique,
                                  "SELECT value, quality, \"tag\" FROM telemetry ORDER BY time")
    assert sorted(map(tuple, rows)) == sorted([
        (BASE_MS, 7.42, "good", "MHS-01.T101.LT01"),
        (BASE_MS, 12.5, "uncertain", "MHS-01.GD03"),
        (BASE_MS + 250, 0.62, "good", "MHS-01.T101.PT01"),
    ])


async def test_influxdb_outage_mid_stream_loses_nothing(
    tmp_path: Path, mosquitto: Mosquitto, unique: str
) -> None:
    influx = InfluxDB(tmp_path / "influx").start()
    try:
        settings = make_settings(tmp_path, mosquitto.port, influx.url, unique)
        payloads = series(60, 10)
        async with running(settings) as svc:
            await publish_all(mosquitto.port, "320921", ENT, payloads[:20])
            await wait_for(lambda: svc.sink.stored.total() >= 200, what="first 200 stored")
            influx.stop()
            await publish_all(mosquitto.port, "320921", ENT, payloads[20:40])
            await wait_for(lambda: svc.sink.spooled.total() >= 200, what="spooled")
            assert svc.health()["influxdb"]["state"] == "down"
            assert svc.health()["spool"]["readings"] >= 200
            influx.start()
            await publish_all(mosquitto.port, "320921", ENT, payloads[40:])
            await wait_for(lambda: svc.spool.empty and svc.sink.stored.total() >= 600,
                           what="spool drained", timeout=30)
            assert svc.health()["spool"]["state"] == "empty"
            assert svc.health()["influxdb"]["state"] == "up"
        assert await count_points(influx.url, unique) == 600
    finally:
        influx.stop()


async def test_malformed_inputs_keep_the_good_readings(
    tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, unique: str
) -> None:
    settings = make_settings(tmp_path, mosquitto.port, influxdb.url, unique)
    good = {"tag": "MHS-01.T101.LT01", "value": 5.0, "ts": BASE_MS}
    bad_batch_payloads = {
        "not_json": b"{not json",
        "too_large": orjson.dumps({"readings": [good], "pad": "x" * 300_000}),
        "wrong_shape": b'{"readings": {"tag": "x"}}',
        "too_many_readings": batch([{**good, "ts": BASE_MS + i} for i in range(1001)]),
    }
    mixed = (
        b'{"ts": ' + str(BASE_MS).encode() + b', "readings": ['
        b'{"tag": "MHS-01.T101.LT01", "value": 5.5, "ts": ' + str(BASE_MS + 1).encode() + b'},'
        b'{"tag": "MHS-01.T101.LT01", "value": NaN},'
        b'{"tag": "MHS-01.T101.LT01", "value": "7"},'
        b'{"tag": "NO.SUCH.TAG", "value": 1},'
        b'{"tag": "MHS-01.T101.PT01", "value": 0.5, "ts": 4102444800000},'
        b'{"tag": "MHS-01.T101.PT01", "value": 0.5, "quality": "excellent"},'
        b'{"tag": "MHS-01.GD03", "value": 1.5}]}'
    )
    async with running(settings) as svc:
        for payload in bad_batch_payloads.values():
            await publish_all(mosquitto.port, "320921", ENT, [payload])
        await publish_raw(mosquitto.port, f"hazmon/v1/320921/{ENT}/telemtry", batch([good]))
        await publish_raw(mosquitto.port, f"hazmon/v1/320902/{ENT}/telemetry", batch([good]))
        await publish_all(mosquitto.port, "320921", ENT, [mixed])
        await wait_for(lambda: count_points(influxdb.url, unique), expect=lambda n: n == 2,
                       what="2 good points")
        await wait_for(lambda: svc.rejects.readings.total() >= 5, what="reading rejects")
        await wait_for(lambda: svc.rejects.batches.total() >= 6, what="payload rejects")
        payload_reasons = {r.reason for r in svc.rejects.recent if r.index is None}
        reading_reasons = {r.reason for r in svc.rejects.recent if r.index is not None}
        # the loopback listener: /metrics without a token
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{svc.ops_port}") as http:
            metrics = (await http.get("/metrics")).text
    assert payload_reasons == {"not_json", "too_large", "wrong_shape", "too_many_readings",
                               "wrong_topic", "region_mismatch"}
    assert reading_reasons == {"non_finite", "wrong_type", "unknown_tag", "future_time",
                               "bad_quality"}
    rows = await influx_query(influxdb.url, unique, "SELECT value, \"tag\" FROM telemetry")
    assert sorted((r[2], r[1]) for r in rows) == [("MHS-01.GD03", 1.5),
                                                  ("MHS-01.T101.LT01", 5.5)]
    assert ('hazmon_ingest_rejected_readings_total{enterprise="' + ENT
            + '",reason="non_finite"} 1') in metrics
    kept = (tmp_path / "data" / "rejects.jsonl").read_text().splitlines()
    assert len(kept) == 11
    assert any('"reason":"not_json"' in line and "{not json" in line for line in kept)


async def test_no_reading_is_lost_to_its_sequence_number(
    tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, unique: str
) -> None:
    """Duplicates are judged by content, not by `seq` (issue 12): the same batch twice is
    stored and evaluated once; a reused number with new readings, and an early reboot
    (counter back at 1), are stored whole."""
    settings = make_settings(tmp_path, mosquitto.port, influxdb.url, unique)
    p = series(5, 3)
    reused = batch([{"tag": TAGS[0], "value": 99.0, "ts": BASE_MS + 500}], seq=2)
    rebooted = [batch([{"tag": TAGS[k % 3], "value": 50.0 + k, "ts": BASE_MS + 60_000 + k}
                       for k in range(b * 3, b * 3 + 3)], seq=b + 1) for b in range(3)]
    async with running(settings) as svc:
        # 1, 2, 2 redelivered, 2 reused with a new reading, 5 (3 and 4 missing)
        await publish_all(mosquitto.port, "320921", ENT, [p[0], p[1], p[1], reused, p[4]])
        await publish_all(mosquitto.port, "320921", ENT, rebooted)
        expected = 3 + 3 + 1 + 3 + 9
        await wait_for(lambda: count_points(influxdb.url, unique), expect=lambda n: n == expected,
                       what=f"{expected} points")
        await wait_for(lambda: svc.sink.stored.total() == expected, what="all stored")
        health = svc.health()
        # the loopback listener: /metrics without a token
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{svc.ops_port}") as http:
            metrics = (await http.get("/metrics")).text
    assert health["counters"]["duplicate_batches"] == 1
    assert health["counters"]["received"] == expected
    assert health["counters"]["missing_batches"] == 2
    assert f"hazmon_rules_readings_total {expected}" in metrics.splitlines()
    for status in ("reset", "resent", "gap", "duplicate"):
        assert f'hazmon_ingest_seq_total{{status="{status}"}} 1' in metrics.splitlines()
    rows = await influx_query(influxdb.url, unique, "SELECT value FROM telemetry WHERE value = 99")
    assert len(rows) == 1


async def test_a_gap_left_open_is_a_data_alarm_until_the_batches_come(
    tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, unique: str
) -> None:
    settings = make_settings(tmp_path, mosquitto.port, influxdb.url, unique,
                             ingest={"gap_grace_s": 0.3}, alarms={"tick_s": 0.1})
    p = series(4, 3)
    key = (ENT, "@", "data_gap")

    async with running(settings) as svc:
        store = svc.alarm_store
        assert store is not None
        await publish_all(mosquitto.port, "320921", ENT, [p[0], p[3]])
        alarm = await wait_for(lambda: store.open_by_key(key), what="data_gap alarm")
        assert alarm.is_active
        assert alarm.details == {"missing": 2, "ranges": [[2, 3]]}
        assert "数据缺失" in alarm.message
        assert "批次序号 2–3" in alarm.message
        await publish_all(mosquitto.port, "320921", ENT, [p[2], p[1]])  # late, reordered

        async def cleared() -> bool:
            a = await store.get(alarm.id)
            return a is not None and not a.is_active

        await wait_for(cleared, what="data_gap cleared")
        assert await count_points(influxdb.url, unique) == 12
        await publish_all(mosquitto.port, "320921", ENT, [series(6, 3)[5]])  # 6: 5 missing
        await wait_for(lambda: svc.ingest.sequences.missing == 1, what="a new gap")

    # the count and the open gap outlive the process
    async with running(settings) as svc:
        assert svc.ingest.sequences.counts(ENT) == {"opened": 3, "filled": 2, "missing": 1}
        assert [g.label() for g in svc.ingest.sequences.open_gaps(ENT)] == ["5"]
        store = svc.alarm_store
        assert store is not None

        async def raised_again() -> bool:
            a = await store.open_by_key(key)
            return a is not None and a.is_active

        # not yet acknowledged, the cleared occurrence comes back (ISA-18.2), naming 5
        await wait_for(raised_again, what="data_gap raised again")
        again = await store.open_by_key(key)
        assert again is not None
        assert again.id == alarm.id
        assert again.message.endswith("（批次序号 5）")


async def test_gateway_status_tracked(
    tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, unique: str
) -> None:
    settings = make_settings(tmp_path, mosquitto.port, influxdb.url, unique)
    async with running(settings) as svc:
        await publish_raw(mosquitto.port, f"hazmon/v1/320902/{ENT2}/status",
                          b'{"state":"offline","ts":"2026-11-22T02:00:00Z"}')
        await wait_for(lambda: svc.ingest.gateways.gateways.get(ENT2), what="status")
        gw = svc.ingest.gateways.gateways[ENT2]
        assert (gw.state, gw.since_ms) == ("offline", 1795312800000)
        await publish_raw(mosquitto.port, f"hazmon/v1/320902/{ENT2}/status", b'{"state":"up"}')
        await wait_for(lambda: svc.rejects.batches.get(ENT2, "wrong_shape"), what="bad status")
        assert svc.health()["gateways"]["offline"] == 1


async def test_owned_regions_limit_subscriptions(
    tmp_path: Path, own_broker: Mosquitto, influxdb: InfluxDB, unique: str
) -> None:
    """Two instances owning different regions, on one broker: each takes its own region's
    messages and none of the other's.

    The broker delivers one publisher's messages to a subscriber in order, so once an
    instance has stored its region's last batch, it has seen every message published
    before it: a foreign one among them would be counted and stored by now."""
    port = own_broker.port
    a = make_settings(tmp_path / "a", port, influxdb.url, f"{unique}a",
                      mqtt={"regions": ["320921"]})
    b = make_settings(tmp_path / "b", port, influxdb.url, f"{unique}b",
                      mqtt={"regions": ["320902"]})

    def own(region: str, ent: str, tag: str, k: int) -> tuple[str, str, bytes]:
        return region, ent, batch([{"tag": tag, "value": float(k), "ts": BASE_MS + k * 1000}],
                                  seq=k)

    def a_(k: int) -> tuple[str, str, bytes]:
        return own("320921", ENT, TAGS[0], k)

    def b_(k: int) -> tuple[str, str, bytes]:
        return own("320902", ENT2, "MHS-02.V201.TT01", k)

    async def publish(items: list[tuple[str, str, bytes]]) -> None:
        async with aiomqtt.Client("127.0.0.1", port, identifier=f"pub-{unique}") as client:
            for region, ent, payload in items:
                await client.publish(f"hazmon/v1/{region}/{ent}/telemetry", payload, qos=1)

    async def tags_in(db: str) -> set[str]:
        return {r[2] for r in await influx_query(influxdb.url, db,
                                                 'SELECT value, "tag" FROM telemetry')}

    async with running(a) as sa, running(b) as sb:
        assert sa.health()["broker"]["subscriptions"] == ["hazmon/v1/320921/+/+"]
        assert sb.health()["broker"]["subscriptions"] == ["hazmon/v1/320902/+/+"]
        # A's last batch comes after every B batch but the last; B's last after all of A's
        await publish([b_(1), a_(1), b_(2), a_(2), b_(3), a_(3), b_(4)])
        await wait_for(lambda: count_points(influxdb.url, f"{unique}a"),
                       expect=lambda n: n >= 3, what="A's region stored")
        assert sa.health()["counters"]["mqtt_messages"] == 3
        await wait_for(lambda: count_points(influxdb.url, f"{unique}b"),
                       expect=lambda n: n >= 4, what="B's region stored")
        assert sb.health()["counters"]["mqtt_messages"] == 4
    assert await count_points(influxdb.url, f"{unique}a") == 3
    assert await count_points(influxdb.url, f"{unique}b") == 4
    assert await tags_in(f"{unique}a") == {TAGS[0]}
    assert await tags_in(f"{unique}b") == {"MHS-02.V201.TT01"}
