"""GET /kpis: figures computed from the alarm store for the caller's scope."""

from __future__ import annotations

from hazmon.domain.signal import Priority
from tests.api.conftest import Api
from tests.api.support import ENT2, HS_B, MINUTE, T0, TAG_A, TAG_A2, TAG_B, signal


async def test_counts_rates_ack_times_and_bad_actors(api: Api) -> None:
    # 12 occurrences of one chattering alarm within 10 minutes: a flood interval
    for i in range(12):
        t = T0 + i * 40_000
        await api.alarms.handle_signal(signal(ts=t))
        await api.alarms.handle_signal(signal("clear", ts=t + 10_000, value=9.0))
        api.clock.now = t + 20_000
        alarm = (await api.store.query())
        await api.alarms.ack(alarm.items[0].id, "op", "")
    low = await api.alarms.handle_signal(signal(tag=TAG_A2, rule="high", ts=T0 + 20 * MINUTE,
                                                priority=Priority.LOW))
    crit = await api.alarms.handle_signal(signal(enterprise=ENT2, hazard_source=HS_B,
                                                 tag=TAG_B, ts=T0 + 21 * MINUTE,
                                                 priority=Priority.CRITICAL))
    assert low
    assert crit
    api.clock.now = T0 + 23 * MINUTE
    await api.alarms.ack(low.id, "op", "")  # 3 minutes after it was raised
    await api.alarms.shelve(crit.id, "op", 30, "检修")
    api.clock.now = T0 + 2 * 24 * 60 * MINUTE  # two days later: standing alarms
    r = await api.get("province", "/api/v1/kpis",
                      params={"from": str(T0), "to": str(T0 + 60 * MINUTE)})
    assert r.status_code == 200, r.text
    k = r.json()
    assert k["raised"] == 14
    assert k["by_priority"] == {"critical": 1, "high": 12, "medium": 0, "low": 1}
    assert k["priority_pct"]["high"] == round(100 * 12 / 14, 1)
    assert k["rate"]["per_hour"] == 14.0
    assert k["rate"]["per_10_min_peak"] == 12
    assert k["rate"]["flood_intervals_pct"] == round(100 / 6, 2)
    ack = k["acknowledgement"]
    assert ack["acknowledged"] == 13
    assert ack["unacknowledged"] == 1
    assert ack["median_s"] == 20.0
    assert ack["max_s"] == 180.0
    assert k["open"]["total"] == 2
    assert k["open"]["shelved"] == 1
    assert k["open"]["standing"] == 2
    assert k["open"]["by_priority"] == {"low": 1, "critical": 1}
    assert k["bad_actors"][0] == {"enterprise": "91320921MA1XXXXX0Q", "subject": TAG_A,
                                  "rule": "high_high", "occurrences": 12, "activations": 12}
    # the enterprise sees its own figures only
    k = (await api.get("enterprise", "/api/v1/kpis",
                       params={"from": str(T0), "to": str(T0 + 60 * MINUTE)})).json()
    assert k["raised"] == 13
    assert k["scope"] == "enterprise:91320921MA1XXXXX0Q"
    r = await api.get("province", "/api/v1/kpis", params={"from": str(T0), "to": str(T0)})
    assert r.status_code == 400
