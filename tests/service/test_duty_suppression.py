"""Suppression by design through the real service: MQTT in → rules → alarms, with the run
state set over HTTP. While the source is 停车 its process alarm is born held back (the
overlay names the run state, the plant is not notified) and its data-health alarm is
raised as usual; back to 开车 the held alarm is released. All of it in the audit."""

from __future__ import annotations

from pathlib import Path

import httpx

from hazmon.alerts.audit import entries
from hazmon.testing.influxdb import InfluxDB
from hazmon.testing.mosquitto import Mosquitto
from tests.helpers import BASE_MS, batch, make_settings, publish_all, running, wait_for
from tests.support import ENT

GAS = "MHS-01.GD03"  # chlorine: no on-delay, both GB 50493 levels at 1.5 ppm
PRESSURE = "MHS-01.T101.PT01"


async def test_a_stopped_source_holds_back_process_alarms_but_not_data_health(
        tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, unique: str) -> None:
    settings = make_settings(tmp_path, mosquitto.port, influxdb.url, unique,
                             duties={"check_s": 0.2})
    async with running(settings) as svc:
        token, _ = await svc.tokens.create("enterprise", ENT, "operator", svc.clock())
        auth = {"Authorization": f"Bearer {token}"}
        url = f"/api/v1/enterprises/{ENT}/hazard-sources/MHS-01/run-state"
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{svc.http_port}",
                                     headers=auth) as http:
            r = await http.put(url, json={"state": "stopped", "reason": "全厂停车",
                                          "expected_end": "2099-01-01T00:00:00+08:00"})
            assert r.status_code == 200, r.text
            await publish_all(mosquitto.port, "320921", ENT, [
                batch([{"tag": GAS, "value": 1.5, "ts": BASE_MS},
                       {"tag": PRESSURE, "value": 0.5, "ts": BASE_MS, "quality": "bad"}],
                      seq=1),
            ])
            page = await wait_for(lambda: svc.alarm_store.query(limit=10),
                                  what="high, high_high, bad_quality",
                                  expect=lambda p: len(p.items) >= 3)
            by_rule = {a.rule: a for a in page.items}
            assert {"high", "high_high", "bad_quality"} <= set(by_rule)
            held, health = by_rule["high_high"], by_rule["bad_quality"]
            assert by_rule["high"].suppressed is not None
            assert held.suppressed is not None
            assert held.suppressed.reason == "运行状态:停车(全厂停车)"
            assert held.quiet_reason == "suppressed"
            assert health.suppressed is None
            assert health.quiet_reason is None
            shown = (await http.get(f"/api/v1/alarms/{held.id}")).json()
            assert shown["suppressed"]["by"] == "enterprise:operator"
            r = await http.put(url, json={"state": "startup", "reason": "开车"})
            assert r.json()["process_alarms_suppressed"] is False
            released = (await http.get(f"/api/v1/alarms/{held.id}")).json()
            assert released["suppressed"] is None
            assert released["history"][-1]["event"] == "unsuppressed"
        actions = [e.action for e in await entries(svc.alarm_store.db)]
    assert actions.index("run_state_set") < actions.index("hold_suppressed")
    assert "release_suppressed" in actions
