"""Every role × every endpoint: a caller sees and changes only its scope; anything else
answers 404, lists hold only in-scope items, the stream only in-scope events. Acting also
needs the role's right (hazmon.api.rights): without it every alarm, in scope or not,
answers 403 and nothing changes; with it, out of scope is still 404.

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
from hazmon.api.rights import Action, Rights
from hazmon.api.scope import Role
from hazmon.api.settings import HttpSettings
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
    "province": {ENT, ENT2}, "city": {ENT, ENT2}, "other_city": set(), "county": {ENT},
    "enterprise": {ENT}, "simulator": {ENT2},
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


# endpoint -> (action it needs, body, history event); in the order they run on one alarm
ACTIONS: list[tuple[str, Action, dict[str, object], str]] = [
    ("comments", Action.ALARM_COMMENT, {"text": "已电话核实"}, "commented"),
    ("ack", Action.ALARM_ACK, {"note": "收到"}, "acknowledged"),
    ("shelve", Action.ALARM_SHELVE, {"minutes": 10, "reason": "检修"}, "shelved"),
    ("unshelve", Action.ALARM_SHELVE, {}, "unshelved"),
]
# what the defaults give: the plant acts, every regulator only comments
MAY = {
    "province": {"comments"}, "city": {"comments"}, "other_city": {"comments"},
    "county": {"comments"}, "enterprise": {"comments", "ack", "shelve", "unshelve"},
    "simulator": {"comments", "ack", "shelve", "unshelve"},
}


async def _act_on_every_alarm(world: World, role: str, may: set[str]) -> None:
    """Each endpoint on each alarm: allowed in scope (2xx, in the history under the
    caller's name), 404 out of scope, 403 without the right; else the history is unchanged."""
    api = world.api
    visible = {world.alarms[k].id for k in SEES_ALARMS[role]}
    for name, alarm in world.alarms.items():
        before = await api.store.history(alarm.id)
        done = []
        for endpoint, action, body, event in ACTIONS:
            r = await api.post(role, f"/api/v1/alarms/{alarm.id}/{endpoint}", json=body)
            if endpoint not in may:
                assert r.status_code == 403, (name, endpoint, r.text)
                assert r.json()["error"] == "forbidden"
                assert r.json()["action"] == action.value
            elif alarm.id not in visible:
                assert r.status_code == 404, (name, endpoint)
                assert r.json() == {"error": "not_found", "message": f"no alarm {alarm.id}"}
            else:
                assert r.status_code in (200, 201), (name, endpoint, r.text)
                done.append(event)
        after = await api.store.history(alarm.id)
        assert [h.event for h in after[len(before):]] == done, name
        assert {h.actor for h in after[len(before):]} <= {f"{ROLES[role][0]}:test-{role}"}
        assert bool(done) == (alarm.id in visible), name


@pytest.mark.parametrize("role", ROLE_NAMES)
async def test_alarm_actions_with_the_default_rights(world: World, role: str) -> None:
    assert set(MAY) == set(ROLES)
    for endpoint, action, _, _ in ACTIONS:  # MAY is what the table says
        assert (endpoint in MAY[role]) == Rights().may(Role(ROLES[role][0]), action)
    await _act_on_every_alarm(world, role, MAY[role])


@pytest.mark.parametrize("role", ["county", "city", "enterprise"])
async def test_a_site_override_moves_the_right(make_api: ApiFactory, role: str) -> None:
    # this site lets county and city duty officers acknowledge, and takes it from the plant
    rights = Rights(HttpSettings.model_validate(
        {"rights": {"alarm.ack": ["county", "city"]}}).rights)
    api: Api = await make_api(rights=rights)
    a = await api.alarms.handle_signal(signal())
    assert a is not None
    r = await api.post(role, f"/api/v1/alarms/{a.id}/ack", json={"note": "收到"})
    if role == "enterprise":
        assert r.status_code == 403
        assert "allowed: city, county" in r.json()["message"]
    else:
        assert r.status_code == 200, r.text
        assert r.json()["acked_by"] == f"{role}:test-{role}"
    r = await api.post(role, f"/api/v1/alarms/{a.id}/shelve",
                       json={"minutes": 10, "reason": "检修"})
    assert r.status_code == (200 if role == "enterprise" else 403)  # shelve kept its default


async def test_forbidden_comes_before_the_lookup(world: World) -> None:
    # a role without the right learns nothing about which alarms exist
    missing = "01J0000000000000000000000X"
    for alarm_id in (missing, world.alarms["b_real"].id):
        r = await world.api.post("county", f"/api/v1/alarms/{alarm_id}/ack")
        assert r.status_code == 403
    r = await world.api.post("enterprise", f"/api/v1/alarms/{missing}/ack")
    assert r.status_code == 404


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
    for url in ("/metrics", "/api/v1/metrics"):
        r = await world.api.get(role, url)
        assert r.status_code == (200 if role == "province" else 403), url


@pytest.mark.parametrize("role", ROLE_NAMES)
async def test_me_names_the_caller_and_its_rights(world: World, role: str) -> None:
    r = await world.api.get(role, "/api/v1/me")
    assert r.status_code == 200
    me = r.json()
    assert (me["role"], me["scope"], me["name"]) == (*ROLES[role], f"test-{role}")
    assert set(me["actions"]) == {a.value for a in Action
                                  if Rights().may(Role(ROLES[role][0]), a)}
    assert ("alarm.ack" in me["actions"]) == ("ack" in MAY[role])
