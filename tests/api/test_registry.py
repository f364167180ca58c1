"""GET /enterprises, /hazard-sources, /sensors: the registry with tier and live state."""

from __future__ import annotations

from hazmon.domain.signal import Priority
from hazmon.testing.influxdb import InfluxDB
from tests.api import influx_support
from tests.api.support import (
    ENT,
    ENT2,
    HS_A,
    HS_B,
    MINUTE,
    T0,
    TAG_A,
    TAG_A2,
    TAG_B,
    Api,
    ApiFactory,
    signal,
)


async def test_enterprises_with_tier_gateway_and_worst_alarm(api: Api) -> None:
    api.ctx.gateways.status(ENT, "online", T0 - MINUTE)
    api.ctx.gateways.status(ENT2, "offline", T0 - 2 * MINUTE)
    low = await api.alarms.handle_signal(signal(tag=TAG_A2, rule="high", priority=Priority.LOW))
    high = await api.alarms.handle_signal(signal(ts=T0 + MINUTE))
    assert low
    assert high
    r = await api.get("province", "/api/v1/enterprises")
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 2
    assert body["next_offset"] is None
    by_code = {e["code"]: e for e in body["items"]}
    a, b = by_code[ENT], by_code[ENT2]
    assert a["region"] == "320921"
    assert a["name"] == "响水某化工有限公司"
    assert a["tier"] == 3
    assert a["hazard_sources"] == [HS_A]
    assert a["sensor_count"] == 3
    assert a["gateway"]["state"] == "online"
    assert a["worst_alarm"]["id"] == high.id
    assert a["worst_alarm"]["priority"] == "high"
    assert a["open_alarms"] == 2
    assert a["contacts"][0] == {"role": "principal", "name": "张三", "phone": "+8613800000001",
                                "email": None}
    assert b["gateway"]["state"] == "offline"
    assert b["worst_alarm"] is None
    # filters and paging
    async def codes(**params: object) -> list[str]:
        r = await api.get("province", "/api/v1/enterprises", params=params)
        assert r.status_code == 200, r.text
        return [e["code"] for e in r.json()["items"]]

    assert await codes(state="offline") == [ENT2]
    assert await codes(priority="high") == [ENT]
    assert await codes(priority="critical") == []
    assert await codes(region="320921") == [ENT]
    assert await codes(tier=3) == [ENT]
    first = (await api.get("province", "/api/v1/enterprises", params={"limit": 1})).json()
    assert first["next_offset"] == 1
    assert len(first["items"]) == 1
    second = (await api.get("province", "/api/v1/enterprises",
                            params={"limit": 1, "offset": 1})).json()
    assert second["next_offset"] is None
    assert {first["items"][0]["code"], second["items"][0]["code"]} == {ENT, ENT2}
    r = await api.get("province", f"/api/v1/enterprises/{ENT}")
    assert r.status_code == 200
    assert r.json()["worst_alarm"]["id"] == high.id
    r = await api.get("province", "/api/v1/enterprises/91320000MA0000000X")
    assert r.status_code == 404
    assert r.json()["error"] == "not_found"


async def test_hazard_sources_with_grading(api: Api) -> None:
    r = await api.get("city", "/api/v1/hazard-sources")
    assert r.status_code == 200
    items = {(h["enterprise"], h["code"]): h for h in r.json()["items"]}
    a = items[(ENT, HS_A)]
    assert a["tier"] == 3
    assert a["is_major"]
    assert a["kind"] == "tank_farm"
    assert a["r"] > 0
    assert a["ratio_sum"] >= 1
    assert a["population_exposed"] == 120
    assert {i["chemical"] for i in a["inventory"]} == {"chlorine", "methanol"}
    assert TAG_A in a["sensors"]
    r = await api.get("city", "/api/v1/hazard-sources", params={"code": HS_B})
    assert [h["code"] for h in r.json()["items"]] == [HS_B]
    r = await api.get("city", "/api/v1/hazard-sources", params={"kind": "warehouse"})
    assert r.json()["items"] == []


async def test_sensors_with_limits_alarm_and_last_reading(
        make_api: ApiFactory, influxdb: InfluxDB, unique: str) -> None:
    await influx_support.create_db(influxdb.url, unique)
    api: Api = await make_api(influx_support.client(influxdb.url, unique), unique)
    await influx_support.write(influxdb.url, unique, api.ctx.registry(), ENT, [
        (TAG_A, T0 - 2 * MINUTE, 7.1), (TAG_A, T0 - MINUTE, 7.3), (TAG_A2, T0 - MINUTE, 0.5),
    ])
    # older than the window: not shown as "last"
    await influx_support.write(influxdb.url, unique, api.ctx.registry(), ENT2,
                               [(TAG_B, T0 - 2 * 24 * 60 * MINUTE, 20.0)])
    alarm = await api.alarms.handle_signal(signal())
    assert alarm
    r = await api.get("province", "/api/v1/sensors")
    assert r.status_code == 200
    body = r.json()
    assert body["last_available"] is True
    assert body["total"] == 5
    s = {x["tag"]: x for x in body["items"]}
    assert s[TAG_A]["last"] == {"ts": "2026-11-22T01:59:00Z", "value": 7.3, "quality": "good"}
    assert s[TAG_A]["limits"] == {"low_low": None, "low": None, "high": 9.5, "high_high": 10.5}
    assert s[TAG_A]["worst_alarm"]["id"] == alarm.id
    assert s[TAG_A]["open_alarms"] == 1
    assert s[TAG_A2]["last"]["value"] == 0.5
    assert s[TAG_A2]["worst_alarm"] is None
    assert s[TAG_B]["last"] is None
    gas = s["MHS-01.GD03"]
    assert gas["limits_basis"].startswith("GB 50493")
    assert gas["gas"] == "chlorine"
    r = await api.get("province", "/api/v1/sensors",
                      params={"enterprise": ENT2, "kind": "temperature", "last": False})
    assert [x["tag"] for x in r.json()["items"]] == [TAG_B]
    r = await api.get("province", "/api/v1/sensors", params={"priority": "high"})
    assert [x["tag"] for x in r.json()["items"]] == [TAG_A]
    r = await api.get("province", "/api/v1/sensors", params={"hazard_source": HS_B})
    assert {x["hazard_source"] for x in r.json()["items"]} == {HS_B}


async def test_sensors_without_influx_still_list(api: Api) -> None:
    r = await api.get("province", "/api/v1/sensors")
    assert r.status_code == 200
    assert r.json()["last_available"] is False
    assert all(x["last"] is None for x in r.json()["items"])
