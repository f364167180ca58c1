"""A crash does not make the rules forget their recent past (issue 12.2).

The real service (`hazmon run`) with real Mosquitto and InfluxDB. The rules state is
saved only at startup here (`state_save_s` an hour), so everything the first process
evaluates is missing from the snapshot when it is SIGKILLed. The second process must
rebuild it from the readings InfluxDB holds: the high-high alarm it had raised clears
when the gas clears, a rate window split by the crash still sees the whole ramp, and no
alarm is raised, stored or notified twice — not even one that was raised and cleared
before the crash, which the replay raises and clears again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from hazmon.alerts import AlarmFilter, AlarmStore
from hazmon.core.clock import wall_ms
from hazmon.testing.influxdb import InfluxDB
from hazmon.testing.mosquitto import Mosquitto
from tests.helpers import batch, count_points, publish_all, wait_for
from tests.integration.service_process import AlarmListener, ServiceProcess
from tests.support import ENT, ENT2, REGISTRY_FILE

pytestmark = pytest.mark.integration

GAS, PRESSURE = "MHS-01.GD03", "MHS-01.T101.PT01"
TEMP = "MHS-02.V201.TT01"  # of ENT2: high 45, high-high 50 ℃
S = 1000


def registry_with_rate(tmp: Path) -> Path:
    """The example registry, with a rise-rate alarm on the pressure (0.3 MPa/min over a
    60 s window, which says nothing before 30 s of samples) and 15 s delays on the
    temperature."""
    doc = yaml.safe_load(REGISTRY_FILE.read_text(encoding="utf-8"))
    rules = {
        PRESSURE: {"rate": {"rise_per_min": 0.3, "window_s": 60}, "trend": {"enabled": False}},
        TEMP: {"threshold": {"on_delay_s": 15, "off_delay_s": 15}, "trend": {"enabled": False}},
    }
    for enterprise in doc["enterprises"]:
        for sensor in enterprise["hazard_sources"][0]["sensors"]:
            if sensor["tag"] in rules:
                sensor["rules"] = rules[sensor["tag"]]
    path = tmp / "registry.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def config(tmp: Path, mosquitto: Mosquitto, influxdb: InfluxDB, unique: str,
           **alarms: Any) -> dict[str, Any]:
    return {
        "registry": str(registry_with_rate(tmp)),
        "data_dir": str(tmp / "data"),
        "log_level": "INFO",
        "mqtt": {"port": mosquitto.port, "client_id": f"hazmon-{unique}",
                 "reconnect_min_s": 0.1},
        "influx": {"url": influxdb.url, "database": unique, "flush_interval_s": 0.05},
        "http": {"port": 0},
        # Saved at startup only: the kill comes long before the next save.
        "alarms": {"state_save_s": 3600, **alarms},
    }


def ramp(t0: int, seconds: range) -> list[dict[str, Any]]:
    """The pressure rising 0.6 MPa/min, one reading a second."""
    return [{"tag": PRESSURE, "value": round(0.1 + 0.01 * i, 3), "ts": t0 + i * S}
            for i in seconds]


async def test_a_sigkill_between_saves_is_rebuilt_from_influxdb(
    tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, unique: str
) -> None:
    service = ServiceProcess(tmp_path, config(tmp_path, mosquitto, influxdb, unique))
    t0 = wall_ms() - 120 * S  # data times inside the replay's reach, none in the future
    async with AlarmListener(mosquitto.port).running() as heard:
        try:
            await service.start()
            await service.replay_done()  # the first start: nothing stored yet
            # The gas crosses high and high-high; the pressure ramp's first 21 s (too
            # short a span for a rate yet).
            await publish_all(mosquitto.port, "320921", ENT, [
                batch([{"tag": GAS, "value": 0.1, "ts": t0}], seq=1),
                batch([{"tag": GAS, "value": 1.5, "ts": t0 + S}], seq=2),
                batch(ramp(t0, range(0, 21)), seq=3),
            ])
            # At the other plant a temperature excursion comes and goes (20 s above
            # high-high, then back), all before the crash.
            await publish_all(mosquitto.port, "320902", ENT2, [batch(
                [{"tag": TEMP, "value": 20.0, "ts": t0}]
                + [{"tag": TEMP, "value": 51.0, "ts": t0 + i * S} for i in range(1, 21)]
                + [{"tag": TEMP, "value": 30.0, "ts": t0 + i * S} for i in range(21, 46)],
                seq=1)])
            await wait_for(lambda: len(heard.of("high_high", "raised", GAS)), 20,
                           what="the gas high-high alarm notified")
            await wait_for(lambda: len(heard.of("high_high", "cleared", TEMP)), 20,
                           what="the temperature high-high alarm notified as cleared")
            await wait_for(lambda: service.metric("hazmon_notifications_sent_total"),
                           expect=lambda n: n >= 6, what="the deliveries settled")
            await wait_for(lambda: count_points(influxdb.url, unique),
                           expect=lambda n: n == 69, what="every reading stored")
            assert heard.of("rate_rise", "raised") == []
            service.kill()

            await service.start()
            replay = await service.replay_done()
            # The rest of the ramp and the gas back to normal, live.
            await publish_all(mosquitto.port, "320921", ENT, [
                batch(ramp(t0, range(21, 41)), seq=4),
                batch([{"tag": GAS, "value": 0.1, "ts": t0 + 60 * S}], seq=5),
            ])
            await wait_for(lambda: len(heard.of("high_high", "cleared")), 30,
                           what="the high-high alarm cleared by the restarted process")
            await wait_for(lambda: len(heard.of("rate_rise", "raised")), 30,
                           what="the rate alarm from the window across the crash")
            await wait_for(lambda: service.metric("hazmon_notifications_sent_total"),
                           expect=lambda n: n >= 3, what="the restart's deliveries settled")
            service.terminate()
            store = await AlarmStore.open(f"sqlite:///{tmp_path / 'data' / 'alarms.db'}")
            try:
                # Every notification ever queued, and none left to send: nine, one per
                # raise and per clear (with a replay that re-notified, there would be
                # more, some perhaps still pending).
                queued = await store.db.fetchall(
                    "SELECT status FROM outbox WHERE kind = 'alarm'")
                gas = (await store.query(AlarmFilter(tag=GAS), limit=10)).items
                temp = (await store.query(AlarmFilter(tag=TEMP), limit=10)).items
                rate = (await store.query(AlarmFilter(tag=PRESSURE), limit=10)).items
                histories = [await store.history(a.id) for a in gas + temp]
            finally:
                await store.close()
            assert [r[0] for r in queued] == ["sent"] * 9
            await wait_for(lambda: len(heard.events) >= 9, what="all nine at the listener")
        finally:
            service.ensure_stopped()

    assert replay["state"] == "done", replay
    assert replay["evaluated"] == 69  # every stored reading, none seen by the snapshot
    # Raised before the crash: the gas's high and high-high; raised and cleared: the
    # temperature's two.
    assert replay["already_stored"] == 6
    assert "replaying 69 stored readings" in service.text()
    # One occurrence per alarm, each notified once raised and once cleared ...
    assert sorted(a.rule for a in gas) == ["high", "high_high"]
    assert sorted(a.rule for a in temp) == ["high", "high_high"]
    assert {a.state.value for a in gas + temp} == {"unack_rtn"}
    assert {a.activations for a in gas + temp} == {1}
    assert [a.rule for a in rate] == ["rate_rise"]
    for tag in (GAS, TEMP):
        for rule in ("high", "high_high"):
            assert len(heard.of(rule, "raised", tag)) == 1, heard.events
            assert len(heard.of(rule, "cleared", tag)) == 1, heard.events
    assert len(heard.of("rate_rise", "raised", PRESSURE)) == 1, heard.events
    assert len(heard.events) == 9, heard.events
    # ... and each history is one raise and one clear: the replay added nothing to it.
    assert [[e.event for e in h] for h in histories] == [["raised", "cleared"]] * 4
