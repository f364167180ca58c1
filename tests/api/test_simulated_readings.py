"""Which measurement the API reads follows each enterprise's own `simulated` flag, not the
caller's token: a province over a registry mixing a real plant (ENT) and a simulated one
(ENT2), against a real InfluxDB.

Each measurement holds a decoy: ENT has a newer drill reading in `telemetry_sim` (a
`simulated: true` payload of a real plant), ENT2 a newer stray reading in `telemetry`. A
reader that picks the measurement by token shows a decoy, or nothing, for one of them.
"""

from __future__ import annotations

from typing import Any

import pytest

from hazmon.testing.influxdb import InfluxDB
from tests.api import influx_support
from tests.api.conftest import Api, ApiFactory
from tests.api.registry_support import flagged, use_registry
from tests.api.support import ENT, ENT2, MINUTE, T0, TAG_A, TAG_A2, TAG_B, TAG_B2

REAL_A, DRILL_A = 5.0, 7.7  # ENT: real in telemetry, drill in telemetry_sim
SIM_B, STRAY_B = 21.5, -99.0  # ENT2: simulated in telemetry_sim, stray in telemetry


@pytest.fixture
async def mixed(make_api: ApiFactory, influxdb: InfluxDB, unique: str) -> Api:
    await influx_support.create_db(influxdb.url, unique)
    api: Api = await make_api(influx_support.client(influxdb.url, unique), unique)
    registry = flagged(ENT2)
    use_registry(api, registry)
    url = influxdb.url
    await influx_support.write(url, unique, registry, ENT, [(TAG_A, T0 - 2 * MINUTE, REAL_A)])
    await influx_support.write(url, unique, registry, ENT, [(TAG_A, T0 - MINUTE, DRILL_A)],
                               simulated=True)
    await influx_support.write(url, unique, registry, ENT2, [(TAG_B, T0 - 2 * MINUTE, SIM_B)],
                               simulated=True)
    await influx_support.write(url, unique, registry, ENT2, [(TAG_B, T0 - MINUTE, STRAY_B)])
    return api


async def last_values(api: Api, role: str, **params: Any) -> dict[tuple[str, str], Any]:
    r = await api.get(role, "/api/v1/sensors", params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["last_available"] is True
    return {(s["enterprise"], s["tag"]): s["last"] and s["last"]["value"]
            for s in body["items"]}


async def test_sensor_list_reads_each_plant_from_its_own_measurement(mixed: Api) -> None:
    assert await last_values(mixed, "province") == {
        (ENT, TAG_A): REAL_A, (ENT, TAG_A2): None, (ENT, "MHS-01.GD03"): None,
        (ENT2, TAG_B): SIM_B, (ENT2, TAG_B2): None,
    }
    # a page holding only the simulated plant, and one holding only the real one
    assert await last_values(mixed, "province", enterprise=ENT2) == {
        (ENT2, TAG_B): SIM_B, (ENT2, TAG_B2): None}
    assert (await last_values(mixed, "city", limit=1))[(ENT2, TAG_B)] == SIM_B
    assert await last_values(mixed, "enterprise", tag=TAG_A) == {(ENT, TAG_A): REAL_A}
    # a simulator sees the simulated plant only, from the simulated measurement
    assert await last_values(mixed, "simulator") == {(ENT2, TAG_B): SIM_B, (ENT2, TAG_B2): None}


async def telemetry(api: Api, enterprise: str, tag: str, **params: Any) -> tuple[bool, list[Any]]:
    r = await api.get("province", "/api/v1/telemetry",
                      params={"enterprise": enterprise, "tag": tag, **params})
    assert r.status_code == 200, r.text
    body = r.json()
    return body["simulated"], [p["value"] for p in body["series"][0]["points"]]


async def test_telemetry_defaults_to_the_plants_own_measurement(mixed: Api) -> None:
    assert await telemetry(mixed, ENT2, TAG_B) == (True, [SIM_B])
    assert await telemetry(mixed, ENT, TAG_A) == (False, [REAL_A])
    # asked explicitly, either measurement can still be read (a real plant's drill data)
    assert await telemetry(mixed, ENT, TAG_A, simulated=True) == (True, [DRILL_A])
    assert await telemetry(mixed, ENT2, TAG_B, simulated=False) == (False, [STRAY_B])
    # downsampled the same way
    r = await mixed.get("province", "/api/v1/telemetry",
                        params={"enterprise": ENT2, "tag": TAG_B, "every": "5m"})
    assert r.json()["simulated"] is True
    assert [b["mean"] for b in r.json()["series"][0]["buckets"]] == [SIM_B]
