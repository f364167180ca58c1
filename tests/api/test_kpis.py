"""GET /kpis: the ISA-18.2 / EEMUA 191 figures of hazmon.alerts.kpis for the caller's scope,
checked against values worked out by hand from alarms raised through
AlarmService.handle_signal at known times.

The period is [T0, T0 + 60 min). ENT (region 320921, hazard source MHS-01, tier 3):
  - TAG_A high_high HIGH raised 12 times, every 20 s from T0 (T0 + 0 s .. T0 + 220 s),
    the i-th acknowledged i+1 s after it was raised (1 .. 12 s), cleared after 15 s;
  - TAG_A2 high LOW raised at T0 + 20 min, acknowledged at T0 + 23 min (180 s);
  - MHS-01.GD03 high MEDIUM raised at T0 - 30 h and never cleared: stale (31 h at the end).
ENT2 (320902, MHS-02, tier 4): TAG_B high_high CRITICAL at T0 + 21 min, shelved, not acked.
"""

from __future__ import annotations

from typing import Any

import pytest

from hazmon.domain.signal import Priority
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

HOUR = 60 * MINUTE
PERIOD = {"from": str(T0), "to": str(T0 + HOUR)}
GD03 = "MHS-01.GD03"
TAG_B2 = "MHS-02.GD01"
# newest reading per sensor: TAG_A and TAG_B report in the period; TAG_A2 last reported
# before it; GD03 and TAG_B2 never did
LAST_SEEN = {(ENT, TAG_A): T0 + 59 * MINUTE, (ENT, TAG_A2): T0 - MINUTE,
             (ENT2, TAG_B): T0 + 5 * MINUTE}


def last_seen(enterprise: str, tag: str) -> int | None:
    return LAST_SEEN.get((enterprise, tag))


async def seed(api: Api) -> None:
    h = api.alarms.handle_signal
    stale = await h(signal(tag=GD03, rule="high", ts=T0 - 30 * HOUR, priority=Priority.MEDIUM))
    assert stale is not None
    for i in range(12):
        t = T0 + i * 20_000
        assert await h(signal(ts=t))
        api.clock.now = t + (i + 1) * 1000
        alarm = (await api.store.query()).items[0]
        assert alarm.tag == TAG_A
        await api.alarms.ack(alarm.id, "op", "")
        await h(signal("clear", ts=t + 15_000, value=9.0))
    low = await h(signal(tag=TAG_A2, rule="high", ts=T0 + 20 * MINUTE, priority=Priority.LOW))
    crit = await h(signal(enterprise=ENT2, hazard_source=HS_B, tag=TAG_B, ts=T0 + 21 * MINUTE,
                          priority=Priority.CRITICAL))
    assert low is not None
    assert crit is not None
    api.clock.now = T0 + 23 * MINUTE
    await api.alarms.ack(low.id, "op", "")
    await api.alarms.shelve(crit.id, "op", 30, "检修")
    api.clock.now = T0 + 2 * 24 * HOUR  # asked two days later


@pytest.fixture
async def seeded(make_api: ApiFactory) -> Api:
    api: Api = await make_api(last_seen=last_seen)
    await seed(api)
    return api


async def kpis(api: Api, role: str = "province", **params: Any) -> dict[str, Any]:
    r = await api.get(role, "/api/v1/kpis", params={**PERIOD, **params})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_figures_worked_out_by_hand(seeded: Api) -> None:
    k = await kpis(seeded)
    assert k["caller"] == {"role": "province", "scope": "32"}
    assert k["scope"] == {"region_prefix": "32", "enterprise": None, "tier": None,
                          "simulated_only": False}
    assert (k["since"], k["until"]) == ("2026-11-22T02:00:00Z", "2026-11-22T03:00:00Z")
    assert k["include_simulated"] is False
    assert k["activations"] == 14  # 12 + low + critical; the stale one was raised before
    # 14 in 6 windows of 10 min; the first window holds 12 (> 10: in flood)
    assert k["alarms_per_10min"] == {"average": 2.33, "peak": 12, "windows": 6}
    flood = k["flood"]
    assert (flood["windows"], flood["windows_pct"]) == (1, 16.67)
    # sliding: the 11th activation (T0 + 200 s) starts it; the 8th ageing out
    # (T0 + 140 s + 10 min = T0 + 740 s) leaves 4 < 5 and ends it: 9 min of 60
    assert flood["time_in_flood_pct"] == 15.0
    assert flood["floods"] == [{"start": "2026-11-22T02:03:20Z", "end": "2026-11-22T02:12:20Z",
                                "minutes": 9.0, "peak": 12, "activations": 2,
                                "ongoing": False}]
    top = {"enterprise": ENT, "hazard_source": HS_A, "subject": TAG_A, "rule": "high_high",
           "activations": 12, "share_pct": 85.71, "max_in_60s": 3}  # 0, 20, 40 s
    assert k["chattering"] == [top]
    assert k["bad_actors"][0] == top
    assert [(b["subject"], b["activations"]) for b in k["bad_actors"]] == [
        (TAG_A, 12), (TAG_B, 1), (TAG_A2, 1)]  # ties by enterprise code: ENT2 < ENT
    assert len(k["stale"]) == 1
    stale = k["stale"][0]
    assert (stale["subject"], stale["priority"], stale["hours"]) == (GD03, "medium", 31.0)
    assert stale["active_since"] == "2026-11-20T20:00:00Z"
    assert k["priority"]["counts"] == {"critical": 1, "high": 12, "medium": 0, "low": 1}
    assert k["priority"]["pct"] == {"critical": 7.14, "high": 85.71, "medium": 0.0,
                                    "low": 7.14}
    assert k["priority"]["guideline_pct"] == {"critical": 5.0, "high": 15.0,
                                              "medium+low": 80.0}
    # acknowledged after 1 .. 12 s and 180 s: median the 7th of 13, p90 at rank 10.8
    assert k["time_to_ack"] == {"acknowledged": 13, "unacknowledged": 1,
                                "median_s": 7.0, "p90_s": 11.8}
    # 5 registry sensors; TAG_A and TAG_B reported in the period
    assert k["data_availability"] == {"sensors": 5, "reporting": 2, "pct": 40.0}

    ent, ent2 = k["by_enterprise"][ENT], k["by_enterprise"][ENT2]
    assert set(k["by_enterprise"]) == {ENT, ENT2}
    assert (ent["activations"], ent2["activations"]) == (13, 1)
    assert ent["data_availability"] == {"sensors": 3, "reporting": 1, "pct": 33.33}
    assert ent2["data_availability"] == {"sensors": 2, "reporting": 1, "pct": 50.0}
    assert ent["time_to_ack"]["unacknowledged"] == 0
    assert ent2["time_to_ack"] == {"acknowledged": 0, "unacknowledged": 1,
                                   "median_s": None, "p90_s": None}
    assert [s["subject"] for s in ent["stale"]] == [GD03]
    assert ent2["stale"] == []
    assert set(k["by_region"]) == {"320921", "320902"}
    assert k["by_region"]["320921"]["activations"] == 13
    assert {t: f["activations"] for t, f in k["by_tier"].items()} == {"3": 13, "4": 1}


async def test_scope_and_filters(seeded: Api) -> None:
    k = await kpis(seeded, "enterprise")
    assert k["caller"] == {"role": "enterprise", "scope": ENT}
    assert k["scope"]["enterprise"] == ENT
    assert k["activations"] == 13
    assert set(k["by_enterprise"]) == {ENT}
    assert k["data_availability"] == {"sensors": 3, "reporting": 1, "pct": 33.33}
    assert k["priority"]["counts"] == {"critical": 0, "high": 12, "medium": 0, "low": 1}

    k = await kpis(seeded, "province", enterprise=ENT2)
    assert (k["activations"], set(k["by_enterprise"])) == (1, {ENT2})
    k = await kpis(seeded, "city", region="320921")
    assert k["scope"]["region_prefix"] == "320921"
    assert (k["activations"], set(k["by_enterprise"])) == (13, {ENT})
    k = await kpis(seeded, "province", tier=[4])
    assert k["scope"]["tier"] == [4]
    assert k["activations"] == 1
    assert k["data_availability"] == {"sensors": 2, "reporting": 1, "pct": 50.0}
    assert set(k["by_tier"]) == {"4"}

    # outside the caller's scope: an empty report, never someone else's figures
    for role, params in (("other_city", {}), ("enterprise", {"enterprise": ENT2}),
                         ("enterprise", {"region": "320902"}), ("city", {"region": "3210"}),
                         ("simulator", {})):
        k = await kpis(seeded, role, **params)
        assert k["activations"] == 0, (role, params)
        assert k["stale"] == []
        assert k["bad_actors"] == []
        assert k["time_to_ack"]["acknowledged"] == 0
        if role != "simulator":  # it sees ENT2's sensors, only not their real alarms
            assert k["by_enterprise"] == k["by_region"] == k["by_tier"] == {}
            assert k["data_availability"] == {"sensors": 0, "reporting": 0, "pct": None}


async def test_simulated_alarms(seeded: Api) -> None:
    h = seeded.alarms.handle_signal
    assert await h(signal(enterprise=ENT2, hazard_source=HS_B, tag=TAG_B2, rule="gas_first",
                          ts=T0 + 30 * MINUTE, priority=Priority.MEDIUM, simulated=True))
    assert await h(signal(tag=TAG_A2, rule="low", ts=T0 + 31 * MINUTE, simulated=True))
    # real-data roles leave them out
    k = await kpis(seeded)
    assert k["activations"] == 14
    assert k["include_simulated"] is False
    # the simulator sees only the simulated alarms of the simulated plant (ENT2)
    k = await kpis(seeded, "simulator")
    assert k["caller"] == {"role": "simulator", "scope": "32"}
    assert k["scope"]["simulated_only"] is True
    assert k["include_simulated"] is True
    assert k["activations"] == 1
    assert [(b["enterprise"], b["subject"]) for b in k["bad_actors"]] == [(ENT2, TAG_B2)]
    assert k["priority"]["counts"]["medium"] == 1
    assert set(k["by_enterprise"]) == {ENT2}
    assert k["data_availability"] == {"sensors": 2, "reporting": 1, "pct": 50.0}


async def test_without_last_seen_and_defaults(api: Api) -> None:
    api.clock.now = T0 + HOUR
    assert await api.alarms.handle_signal(signal(ts=T0 - 30 * MINUTE))
    r = await api.get("province", "/api/v1/kpis")  # default: the 24 h up to now
    assert r.status_code == 200, r.text
    k = r.json()
    assert (k["since"], k["until"]) == ("2026-11-21T03:00:00Z", "2026-11-22T03:00:00Z")
    assert k["activations"] == 1
    assert k["alarms_per_10min"]["windows"] == 144
    # no last-seen times known: availability unknown, not 0 %
    assert k["data_availability"] == {"sensors": 5, "reporting": 0, "pct": None}


@pytest.mark.parametrize(("params", "message"), [
    ({"from": str(T0), "to": str(T0)}, "from must be before to"),
    ({"from": str(T0), "to": str(T0 + 367 * 24 * HOUR)}, "the period is limited to 366 days"),
    ({"from": "2026-13-45T00:00:00Z"}, "from: "),
])
async def test_bad_periods(api: Api, params: dict[str, str], message: str) -> None:
    r = await api.get("province", "/api/v1/kpis", params=params)
    assert r.status_code == 400
    assert r.json()["message"].startswith(message)


async def test_bad_parameters(api: Api) -> None:
    for params in ({"from": "yesterday"}, {"tier": "5"}, {"region": "32A"}):
        r = await api.get("province", "/api/v1/kpis", params=params)
        assert r.status_code == 422, params
