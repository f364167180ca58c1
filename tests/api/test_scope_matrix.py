"""Every role × every endpoint: a caller sees and changes only its scope; anything else
answers 404 (never 403), lists hold only in-scope items, the stream only in-scope events.

Registry: A = 91320921MA1XXXXX0Q (region 320921), B = 91320902MA2YYYYY1R (320902, flagged
simulated). Alarms: real on A and B, simulated on A and B.

    role          enterprises   alarms
    province 32   A, B          all four
    city 3209     A, B          all four
    city 3210     -             -
    county 320921 A             A real, A simulated
    enterprise A  A             A real, A simulated
    simulator 32  B             B simulated (a simulated enterprise's simulated alarm only)
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from hazmon.alerts.lifecycle import Alarm
from hazmon.domain.signal import Priority
from hazmon.testing.influxdb import InfluxDB
from tests.api import influx_support
from tests.api.support import (
    ENT,
    ENT2,
    HS_B,
    MINUTE,
    ROLES,
    T0,
    TAG_A,
    TAG_A2,
    TAG_B,
    TAG_B2,
    Api,
    ApiFactory,
    SseReader,
    signal,
)


@dataclass
class World:
    api: Api
    alarms: dict[str, Alarm]  # a_real, a_sim, b_real, b_sim


SEES_ENTERPRISES = {
    "province": {ENT, ENT2}, "city": {ENT, ENT2}, "other_city": set(),
    "county": {ENT}, "enterprise": {ENT}, "simulator": {ENT2},
}
SEES_ALARMS = {
    "province": {"a_real", "a_sim", "b_real", "b_sim"},
    "city": {"a_real", "a_sim", "b_real", "b_sim"},
    "other_city": set(), "county": {"a_real", "a_sim"}, "enterprise": {"a_real", "a_sim"},
    "simulator": {"b_sim"},
}


@pytest.fixture
async def world(make_api: ApiFactory, influxdb: InfluxDB, unique: str) -> World:
    await influx_support.create_db(influxdb.url, unique)
    api: Api = await make_api(influx_support.client(influxdb.url, unique), unique)
    reg = api.ctx.registry()
    await influx_support.write(influxdb.url, unique, reg, ENT, [(TAG_A, T0 - MINUTE, 7.0)])
    await influx_support.write(influxdb.url, unique, reg, ENT2, [(TAG_B, T0 - MINUTE, 20.0)])
    await influx_support.write(influxdb.url, unique, reg, ENT2, [(TAG_B, T0 - MINUTE, 66.0)],
                               simulated=True)
    s = api.alarms.handle_signal
    made = {
        "a_real": await s(signal()),
        "a_sim": await s(signal(tag=TAG_A2, rule="high", simulated=True,
                                priority=Priority.LOW)),
        "b_real": await s(signal(enterprise=ENT2, hazard_source=HS_B, tag=TAG_B,
                                 priority=Priority.CRITICAL)),
        "b_sim": await s(signal(enterprise=ENT2, hazard_source=HS_B, tag=TAG_B2,
                                rule="gas_first", simulated=True, priority=Priority.MEDIUM)),
    }
    alarms = {k: v for k, v in made.items() if v is not None}
    assert len(alarms) == 4
    return World(api, alarms)


ROLE_NAMES = list(ROLES)


@pytest.mark.parametrize("role", ROLE_NAMES)
async def test_registry_endpoints(world: World, role: str) -> None:
    api, sees = world.api, SEES_ENTERPRISES[role]
    visible_alarms = {world.alarms[k].id for k in SEES_ALARMS[role]}
    r = await api.get(role, "/api/v1/enterprises")
    assert r.status_code == 200
    assert {e["code"] for e in r.json()["items"]} == sees
    assert r.json()["total"] == len(sees)
    for e in r.json()["items"]:
        assert e["worst_alarm"] is None or e["worst_alarm"]["id"] in visible_alarms
    for code in (ENT, ENT2):
        r = await api.get(role, f"/api/v1/enterprises/{code}")
        assert r.status_code == (200 if code in sees else 404), code
        # an out-of-scope filter gives an empty list, not someone else's data
        for path in ("enterprises", "hazard-sources", "sensors"):
            r = await api.get(role, f"/api/v1/{path}", params={"enterprise": code})
            got = {x.get("enterprise", x.get("code")) for x in r.json()["items"]}
            assert got == ({code} if code in sees else set()), (path, code)
    for path in ("hazard-sources", "sensors"):
        r = await api.get(role, f"/api/v1/{path}")
        assert r.status_code == 200
        assert {x["enterprise"] for x in r.json()["items"]} == sees, path
        for x in r.json()["items"]:
            assert x["worst_alarm"] is None or x["worst_alarm"]["id"] in visible_alarms
    r = await api.get(role, "/api/v1/sensors")
    lasts = {x["tag"]: x["last"] for x in r.json()["items"]}
    if role == "simulator":
        assert lasts[TAG_B]["value"] == 66.0  # its own measurement, never the real 20.0
    elif ENT2 in sees:
        assert lasts[TAG_B]["value"] == 20.0


@pytest.mark.parametrize("role", ROLE_NAMES)
async def test_telemetry(world: World, role: str) -> None:
    api, sees = world.api, SEES_ENTERPRISES[role]
    for code, tag in ((ENT, TAG_A), (ENT2, TAG_B)):
        r = await api.get(role, "/api/v1/telemetry", params={"enterprise": code, "tag": tag})
        assert r.status_code == (200 if code in sees else 404), (code, r.text)
        if r.status_code == 404:
            assert r.json()["message"] == f"no enterprise {code}"  # same as a missing one
    r = await api.get(role, "/api/v1/telemetry",
                      params={"enterprise": "91320000MA0000000X", "tag": TAG_A})
    assert r.status_code == 404


@pytest.mark.parametrize("role", ROLE_NAMES)
async def test_alarm_reads(world: World, role: str) -> None:
    api = world.api
    visible = {world.alarms[k].id for k in SEES_ALARMS[role]}
    r = await api.get(role, "/api/v1/alarms")
    assert r.status_code == 200
    assert {a["id"] for a in r.json()["items"]} == visible
    for params in ({"enterprise": ENT}, {"enterprise": ENT2}, {"region": "32"},
                   {"region": "320902"}, {"simulated": False}, {"simulated": True},
                   {"open": True}, {"region": "3210"}):
        r = await api.get(role, "/api/v1/alarms", params=params)
        assert r.status_code == 200
        assert {a["id"] for a in r.json()["items"]} <= visible, params
    for name, alarm in world.alarms.items():
        r = await api.get(role, f"/api/v1/alarms/{alarm.id}")
        assert r.status_code == (200 if alarm.id in visible else 404), name
        if r.status_code == 404:
            assert r.json() == {"error": "not_found", "message": f"no alarm {alarm.id}"}
    # KPIs count real alarms only, except for the simulator, which counts only simulated ones
    counted = {n for n in SEES_ALARMS[role] if n.endswith("_sim") == (role == "simulator")}
    period = {"from": str(T0 - MINUTE), "to": str(T0 + MINUTE)}
    r = await api.get(role, "/api/v1/kpis", params=period)
    assert r.status_code == 200
    k = r.json()
    assert k["activations"] == len(counted)
    assert sum(k["priority"]["counts"].values()) == len(counted)
    counted_keys = {(world.alarms[n].enterprise, world.alarms[n].subject, world.alarms[n].rule)
                    for n in counted}
    assert {(b["enterprise"], b["subject"], b["rule"]) for b in k["bad_actors"]} == counted_keys
    assert set(k["by_enterprise"]) == SEES_ENTERPRISES[role]
    for code in (ENT, ENT2):  # an out-of-scope filter gives an empty report
        r = await api.get(role, "/api/v1/kpis", params={**period, "enterprise": code})
        assert r.status_code == 200
        k = r.json()
        assert set(k["by_enterprise"]) == ({code} if code in SEES_ENTERPRISES[role] else set())
        assert {b["enterprise"] for b in k["bad_actors"]} <= {code} & SEES_ENTERPRISES[role]


@pytest.mark.parametrize("role", ROLE_NAMES)
async def test_alarm_actions(world: World, role: str) -> None:
    api = world.api
    visible = {world.alarms[k].id for k in SEES_ALARMS[role]}
    actions = [("comments", {"text": "已电话核实"}), ("ack", {"note": "收到"}),
               ("shelve", {"minutes": 10, "reason": "检修"}), ("unshelve", {})]
    for name, alarm in world.alarms.items():
        before = await api.store.history(alarm.id)
        for action, body in actions:
            r = await api.post(role, f"/api/v1/alarms/{alarm.id}/{action}", json=body)
            if alarm.id in visible:
                assert r.status_code in (200, 201), (name, action, r.text)
            else:
                assert r.status_code == 404, (name, action)
                assert r.json() == {"error": "not_found", "message": f"no alarm {alarm.id}"}
        after = await api.store.history(alarm.id)
        if alarm.id in visible:
            assert [h.event for h in after[len(before):]] == [
                "commented", "acknowledged", "shelved", "unshelved"]
            assert {h.actor for h in after[len(before):]} == {f"{ROLES[role][0]}:test-{role}"}
        else:
            assert after == before  # untouched


@pytest.mark.parametrize("role", ROLE_NAMES)
async def test_stream_delivers_only_in_scope_events(world: World, role: str) -> None:
    api = world.api
    visible = {world.alarms[k].id for k in SEES_ALARMS[role]}
    async with SseReader(api.app, "/api/v1/alarms/stream", api.tokens[role]) as r:
        assert r.status == 200
        for alarm in world.alarms.values():
            await api.alarms.comment(alarm.id, "test:harness", "ping")
        # and one brand-new alarm of each enterprise, raised and cleared
        new_a = await api.alarms.handle_signal(signal(tag=TAG_A, rule="high", ts=T0 + MINUTE))
        assert new_a
        await r.settle()
        events = r.events()
    assert {e["id"] for e in events if e["event"] == "commented"} == visible
    assert all(e["detail"] == {"text": "ping"} for e in events if e["event"] == "commented")
    raised = {e["id"] for e in events if e["event"] == "raised"}
    assert raised == ({new_a.id} if ENT in SEES_ENTERPRISES[role] else set())
    for e in events:  # the contract's fields are there
        assert {"id", "event", "state", "priority", "enterprise", "hazard_source", "tag",
                "rule", "value", "limit", "ts", "message"} <= e.keys()


async def test_stream_filters_and_errors(world: World) -> None:
    api = world.api
    url = f"/api/v1/alarms/stream?enterprise={ENT2}&priority=critical"
    async with SseReader(api.app, url, api.tokens["province"]) as r:
        for alarm in world.alarms.values():
            await api.alarms.comment(alarm.id, "test:harness", "ping")
        await r.settle()
        assert {e["id"] for e in r.events()} == {world.alarms["b_real"].id}
    async with SseReader(api.app, "/api/v1/alarms/stream") as r:
        assert r.status == 401
        assert (await r.body())["error"] == "unauthorized"
    async with SseReader(api.app, "/api/v1/alarms/stream?priority=loud",
                         api.tokens["city"]) as r:
        assert r.status == 422
    assert not api.alarms._streams  # every stream let go of its queue


@pytest.mark.parametrize("role", ROLE_NAMES)
async def test_metrics(world: World, role: str) -> None:
    r = await world.api.get(role, "/api/v1/metrics")
    assert r.status_code == (200 if role == "province" else 404)
