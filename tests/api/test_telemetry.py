"""GET /telemetry against a real InfluxDB: raw, downsampled, bounded, validated."""

from __future__ import annotations

import pytest

from hazmon.core.clock import rfc3339
from hazmon.testing.influxdb import InfluxDB
from tests.api import influx_support
from tests.api.support import ENT, ENT2, MINUTE, T0, TAG_A, TAG_A2, TAG_B, Api, ApiFactory

SECOND = 1000


@pytest.fixture
async def tapi(make_api: ApiFactory, influxdb: InfluxDB, unique: str) -> Api:
    await influx_support.create_db(influxdb.url, unique)
    api: Api = await make_api(influx_support.client(influxdb.url, unique), unique)
    reg = api.ctx.registry()
    # one reading every 10 s for 10 minutes before T0: values 0, 1, 2, ...
    await influx_support.write(influxdb.url, unique, reg, ENT,
                               [(TAG_A, T0 - 10 * MINUTE + i * 10 * SECOND, float(i))
                                for i in range(60)])
    await influx_support.write(influxdb.url, unique, reg, ENT, [(TAG_A2, T0 - MINUTE, 0.7)],
                               quality="uncertain")
    await influx_support.write(influxdb.url, unique, reg, ENT2, [(TAG_B, T0 - MINUTE, 21.5)])
    await influx_support.write(influxdb.url, unique, reg, ENT2, [(TAG_B, T0 - MINUTE, -99.0)],
                               simulated=True)
    return api


async def test_raw_readings_of_the_last_hour_by_default(tapi: Api) -> None:
    r = await tapi.get("enterprise", "/api/v1/telemetry", params={"tag": [TAG_A, TAG_A2]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["enterprise"] == ENT
    assert body["every"] is None
    assert body["simulated"] is False
    assert body["from"] == rfc3339(T0 - 60 * MINUTE)
    assert body["to"] == rfc3339(T0)
    a, a2 = body["series"]
    assert a["tag"] == TAG_A
    assert a["unit"] == "m"
    assert a["kind"] == "level"
    assert len(a["points"]) == 60
    assert a["truncated"] is False
    assert a["buckets"] is None
    assert a["points"][0] == {"ts": rfc3339(T0 - 10 * MINUTE), "value": 0.0, "quality": "good"}
    assert a2["points"] == [{"ts": rfc3339(T0 - MINUTE), "value": 0.7,
                             "quality": "uncertain"}]


async def test_raw_is_bounded_and_says_truncated(tapi: Api) -> None:
    r = await tapi.get("province", "/api/v1/telemetry",
                       params={"tag": TAG_A, "enterprise": ENT, "limit": 5})
    s = r.json()["series"][0]
    assert len(s["points"]) == 5
    assert s["truncated"] is True
    assert [p["value"] for p in s["points"]] == [0.0, 1.0, 2.0, 3.0, 4.0]


async def test_downsampled_mean_min_max(tapi: Api) -> None:
    r = await tapi.get("province", "/api/v1/telemetry", params={
        "tag": TAG_A, "enterprise": ENT, "every": "5m",
        "from": rfc3339(T0 - 10 * MINUTE), "to": str(T0),
    })
    assert r.status_code == 200, r.text
    buckets = r.json()["series"][0]["buckets"]
    assert buckets == [
        {"ts": rfc3339(T0 - 10 * MINUTE), "mean": 14.5, "min": 0.0, "max": 29.0, "count": 30},
        {"ts": rfc3339(T0 - 5 * MINUTE), "mean": 44.5, "min": 30.0, "max": 59.0, "count": 30},
    ]


async def test_simulated_measurement(tapi: Api) -> None:
    params = {"tag": TAG_B, "enterprise": ENT2}
    real = (await tapi.get("province", "/api/v1/telemetry", params=params)).json()
    assert [p["value"] for p in real["series"][0]["points"]] == [21.5]
    sim = (await tapi.get("province", "/api/v1/telemetry",
                          params={**params, "simulated": True})).json()
    assert [p["value"] for p in sim["series"][0]["points"]] == [-99.0]
    # a simulator never reads the real measurement, whatever it asks
    r = await tapi.get("simulator", "/api/v1/telemetry", params={**params, "simulated": False})
    assert r.json()["simulated"] is True
    assert [p["value"] for p in r.json()["series"][0]["points"]] == [-99.0]


async def test_validation(tapi: Api) -> None:
    async def status(role: str = "province", **params: object) -> tuple[int, str]:
        r = await tapi.get(role, "/api/v1/telemetry", params=params)
        return r.status_code, r.json().get("message", "")

    assert (await status(tag=TAG_A))[0] == 400  # enterprise needed above an enterprise
    assert (await status(enterprise=ENT))[0] == 422  # no tag
    code, msg = await status(tag="MHS-99.X", enterprise=ENT)
    assert code == 404
    assert "no sensor MHS-99.X" in msg
    assert (await status(tag=TAG_B, enterprise=ENT))[0] == 404  # B's tag, not A's
    code, msg = await status(tag=TAG_A, enterprise=ENT, every="5 minutes")
    assert code == 400
    assert "every" in msg
    code, msg = await status(tag=TAG_A, enterprise=ENT, every="1s", **{"from": "0"})
    assert code == 400
    assert "buckets" in msg
    code, msg = await status(tag=TAG_A, enterprise=ENT, **{"from": str(T0), "to": str(T0)})
    assert code == 400
    assert "before" in msg
    code, msg = await status(tag=TAG_A, enterprise=ENT, to="2026-11-22T10:00:00")
    assert code == 422  # no offset: the documented pattern refuses it
    code, msg = await status(tag=TAG_A, enterprise=ENT, to="2026-02-30T10:00:00+08:00")
    assert code == 400
    assert msg.startswith("to: ")
    assert (await status(tag=[TAG_A] * 21, enterprise=ENT))[0] == 422
    assert (await status(tag="a'b", enterprise=ENT))[0] == 422


async def test_unavailable_influx_is_503(make_api: ApiFactory, unique: str) -> None:
    api: Api = await make_api(influx_support.client("http://127.0.0.1:9", unique), unique)
    r = await api.get("province", "/api/v1/telemetry", params={"tag": TAG_A, "enterprise": ENT})
    assert r.status_code == 503
    assert r.json() == {"error": "unavailable",
                        "message": "InfluxDB is not available, try again"}
    r = await api.get("province", "/api/v1/sensors")
    assert r.status_code == 200
    assert r.json()["last_available"] is False
