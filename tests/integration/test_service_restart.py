"""Alarms survive a whole-service restart (issue 12.5).

The real service (`hazmon run`) with real Mosquitto and InfluxDB raises an alarm of every
category — process thresholds, a rate of change, a 2-out-of-3 vote, data health (stale,
bad quality, a data gap) and a gateway offline — some are acknowledged and some shelved
through the API, and the process is stopped (SIGTERM) or killed (SIGKILL, with the rules
state last saved before any of it). The next process must hold the same alarms in the
same states, have notified each raise exactly once, and go on raising new ones.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from hazmon.alerts import AlarmStore
from hazmon.core.clock import wall_ms
from hazmon.ingest.topics import Channel, topic_for
from hazmon.testing.influxdb import InfluxDB
from hazmon.testing.mosquitto import Mosquitto
from tests.helpers import batch, count_points, publish_all, publish_raw, wait_for
from tests.integration.service_process import AlarmListener, ServiceProcess
from tests.support import ENT, ENT2, REGISTRY_FILE

pytestmark = pytest.mark.integration

S = 1000
LEVEL, PRESSURE = "MHS-01.T101.LT01", "MHS-01.T101.PT01"
GAS = ["MHS-01.GD03", "MHS-01.GD04", "MHS-01.GD05"]
TEMP = "MHS-02.V201.TT01"  # of ENT2
GAS_SENSOR = {"kind": "gas_toxic", "gas": "chlorine", "unit": "ppm", "range": [0, 20]}


def registry(tmp: Path) -> Path:
    """The example registry with what the categories need: a rise-rate limit on the
    pressure, a 5 s stale limit on the level, three chlorine detectors voting 2 of 3."""
    doc = yaml.safe_load(REGISTRY_FILE.read_text(encoding="utf-8"))
    hs = doc["enterprises"][0]["hazard_sources"][0]
    for sensor in hs["sensors"]:
        if sensor["tag"] == PRESSURE:
            sensor["rules"] = {"rate": {"rise_per_min": 0.3, "window_s": 60},
                               "trend": {"enabled": False}}
        if sensor["tag"] == LEVEL:
            sensor["rules"] = {"stale": {"after_s": 5}}
    hs["sensors"] += [{"tag": tag, **GAS_SENSOR} for tag in GAS[1:]]
    hs["voting"] = [{"name": "cl2_second", "level": "second", "k": 2, "tags": GAS}]
    path = tmp / "registry.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def readings(tag: str, t0: int, values: list[tuple[int, float]]) -> list[dict[str, Any]]:
    return [{"tag": tag, "value": v, "ts": t0 + s * S} for s, v in values]


def state_of(alarm: dict[str, Any]) -> tuple[Any, ...]:
    """What must survive: the occurrence, its state, who acknowledged, the shelve."""
    shelved = alarm["shelved"]
    return (alarm["enterprise"], alarm["hazard_source"], alarm["tag"], alarm["rule"],
            alarm["state"], alarm["acked_by"], alarm["activations"], alarm["closed_at"],
            shelved and (shelved["by"], shelved["until"]))


@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
async def test_alarms_survive_a_restart_in_the_same_states_notified_once(
    tmp_path: Path, own_broker: Mosquitto, influxdb: InfluxDB, unique: str, how: str
) -> None:
    mosquitto = own_broker
    service = ServiceProcess(tmp_path, {
        "registry": str(registry(tmp_path)),
        "data_dir": str(tmp_path / "data"),
        "mqtt": {"port": mosquitto.port, "client_id": f"hazmon-{unique}",
                 "reconnect_min_s": 0.1},
        "influx": {"url": influxdb.url, "database": unique, "flush_interval_s": 0.05},
        "http": {"port": 0},
        "ingest": {"gap_grace_s": 1},
        # Saved at startup only: a SIGKILL leaves a state from before every alarm.
        "alarms": {"state_save_s": 3600},
    })
    await service.create_token()
    status_topic = topic_for("320902", ENT2, Channel.STATUS)
    t0 = wall_ms() - 120 * S
    async with AlarmListener(mosquitto.port).running() as heard:
        try:
            await service.start()
            await service.replay_done()
            ramp = [(i, round(0.1 + 0.01 * i, 3)) for i in range(41)]  # 0.6 MPa/min
            await publish_all(mosquitto.port, "320921", ENT, [
                batch(readings(LEVEL, t0, [(0, 5.0)])
                      + [r for tag in GAS for r in readings(tag, t0, [(0, 0.1)])]
                      + readings(PRESSURE, t0, ramp), seq=1),
                # Two detectors past the second level: each's own alarms and the vote.
                batch(readings(GAS[0], t0, [(41, 1.5)]) + readings(GAS[1], t0, [(41, 1.5)]),
                      seq=2),
                # Batches 3 and 4 never come; the plant's data goes on without the level.
                batch(readings(GAS[2], t0, [(60, 0.1)]), seq=5),
            ])
            await publish_all(mosquitto.port, "320902", ENT2, [
                batch([{"tag": TEMP, "value": 20.0, "ts": t0, "quality": "bad"}], seq=1)])
            await publish_raw(mosquitto.port, status_topic,
                              b'{"state": "offline", "ts": %d}' % (t0 + 10 * S), retain=True)

            expected = {
                (GAS[0], "high"), (GAS[0], "high_high"), (GAS[1], "high"),
                (GAS[1], "high_high"), ("@MHS-01", "vote_cl2_second"), (PRESSURE, "rate_rise"),
                (LEVEL, "stale"), ("@", "data_gap"), (TEMP, "bad_quality"),
                ("@", "gateway_offline"),
            }

            def subjects() -> set[tuple[str, str]]:
                return {(e["tag"] or f"@{e['hazard_source']}", e["rule"])
                        for e in heard.events if e["event"] == "raised"}

            await wait_for(subjects, 30, expect=lambda got: got == expected,
                           what="every category raised and notified")
            alarms = {(a["tag"] or f"@{a['hazard_source']}", a["rule"]): a
                      for a in (await service.api("GET", "/alarms?limit=100"))["items"]}
            assert set(alarms) == expected
            # each plant's operator acts on its alarms (the default rights)
            operators = {e: await service.create_token("enterprise", e)
                         for e in {a["enterprise"] for a in alarms.values()}}
            for key in [(GAS[0], "high_high"), (LEVEL, "stale")]:
                await service.api("POST", f"/alarms/{alarms[key]['id']}/ack",
                                  {"note": "已现场确认"},
                                  token=operators[alarms[key]["enterprise"]])
            for key in [(PRESSURE, "rate_rise"), (TEMP, "bad_quality")]:
                await service.api("POST", f"/alarms/{alarms[key]['id']}/shelve",
                                  {"minutes": 60, "reason": "仪表检修"},
                                  token=operators[alarms[key]["enterprise"]])
            before = {a["id"]: state_of(a)
                      for a in (await service.api("GET", "/alarms?limit=100"))["items"]}
            assert Counter(s[4] for s in before.values()) == {"unack_active": 8,
                                                              "ack_active": 2}
            await wait_for(lambda: count_points(influxdb.url, unique),
                           expect=lambda n: n == 49, what="every reading stored")
            service.stop(how)

            await service.start()
            replay = await service.replay_done()
            # New data after the restart: the third detector joins the vote, and its own
            # alarms are the only new ones.
            await publish_all(mosquitto.port, "320921", ENT, [
                batch(readings(GAS[2], t0, [(70, 1.5)]), seq=6)])
            await wait_for(lambda: len(heard.of("high_high", "raised", GAS[2])), 30,
                           what="a new alarm raised by the restarted process")
            after_items = (await service.api("GET", "/alarms?limit=100"))["items"]
            service.terminate()
        finally:
            await publish_raw(mosquitto.port, status_topic, b"", retain=True)
            service.ensure_stopped()

        after = {a["id"]: state_of(a) for a in after_items}
        new = {a["id"]: a for a in after_items if a["id"] not in before}
        assert {k: v for k, v in after.items() if k in before} == before
        assert sorted((a["tag"], a["rule"]) for a in new.values()) == [
            (GAS[2], "high"), (GAS[2], "high_high")]

        store = await AlarmStore.open(f"sqlite:///{tmp_path / 'data' / 'alarms.db'}")
        try:
            queued = await store.db.fetchall(
                "SELECT alarm_id, payload, status FROM outbox WHERE kind = 'alarm'")
        finally:
            await store.close()
        # Every notification was sent (none pending, none given up on), one per raise:
        # twelve alarms, twelve raised events, no alarm announced twice.
        assert Counter(r[2] for r in queued) == {"sent": 12}
        await wait_for(lambda: len(heard.events) >= 12, what="all twelve at the listener")
        assert len(heard.events) == 12, heard.events
        assert Counter((e["id"], e["event"]) for e in heard.events) == {
            (i, "raised"): 1 for i in after}
    if how == "SIGKILL":
        # The killed process's state was from before every reading: the replay put them
        # all back, and knew the alarms they raise from the store.
        assert (replay["evaluated"], replay["signals"], replay["already_stored"]) == (
            49, 0, 7), replay
    else:
        # A clean stop saved the state on its way out: nothing to replay.
        assert (replay["state"], replay["evaluated"]) == ("done", 0), replay
