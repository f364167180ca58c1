"""Alarm KPIs on a synthetic history built through the alarm service, checked against
figures computed by hand (see the timeline in `history`)."""

from __future__ import annotations

import pytest

from hazmon.alerts import AlarmService, AlarmStore
from hazmon.alerts.kpis import KpiScope, SensorRef, floods, kpi_report, percentile
from hazmon.domain.signal import Priority
from tests.alerts.notify_support import ENT2, HS2
from tests.alerts.support import ENT, HS, MINUTE, T0, FakeClock, make_signal

HOUR = 60 * MINUTE
SINCE, UNTIL = T0, T0 + 2 * HOUR  # 12 ten-minute windows

SENSORS = [SensorRef(ENT, f"{HS}.A0", "320921", 1), SensorRef(ENT, f"{HS}.A1", "320921", 1),
           SensorRef(ENT, f"{HS}.A2", "320921", 1), SensorRef(ENT2, f"{HS2}.PT01", "320582", 3)]
LAST_SEEN = {(ENT, f"{HS}.A0"): T0 + 5 * MINUTE,  # reported in the period
             (ENT, f"{HS}.A1"): T0 - HOUR,  # silent since before it
             (ENT2, f"{HS2}.PT01"): T0 + HOUR}


async def history(service: AlarmService, clock: FakeClock) -> dict[str, str]:
    """The timeline (minutes from T0):
    -1800 S raised (still active at the end: stale, 32 h)
    10:00-15:30 A0..A11 raised every 30 s (a flood); A0..A9 acknowledged 10..100 s later
    40:00 C raised, 40:10 cleared, 40:20 raised, 40:30 cleared, 40:40 raised (chatters)
    50:00 D raised, 50:30 cleared, 51:30 raised, 52:00 cleared, 53:00 raised (does not)
    60:00 S2 raised (active 1 h at the end: not stale)
    70:00 a simulated alarm; 80:00 an alarm of ENT2 in region 320582 (tier 3)
    Priorities: A0 critical, A1-A2 high, A3-A11 low, C medium, D low, S2 high."""
    ids: dict[str, str] = {}

    async def sig(name: str, kind: str, ts: int, **kw: object) -> None:
        a = await service.handle_signal(make_signal(kind, ts=ts, **kw))
        if a is not None:
            ids.setdefault(name, a.id)

    await sig("S", "raise", T0 - 30 * HOUR, tag=f"{HS}.S", priority=Priority.HIGH)
    for i in range(12):
        prio = Priority.CRITICAL if i == 0 else Priority.HIGH if i < 3 else Priority.LOW
        await sig(f"A{i}", "raise", T0 + 10 * MINUTE + i * 30_000, tag=f"{HS}.A{i}",
                  priority=prio)
    for i in range(10):
        clock.now = T0 + 10 * MINUTE + i * 30_000 + (i + 1) * 10_000
        await service.ack(ids[f"A{i}"], "user:li", "")
    c0 = T0 + 40 * MINUTE
    for k, kind in enumerate(["raise", "clear", "raise", "clear", "raise"]):
        await sig("C", kind, c0 + k * 10_000, tag=f"{HS}.CH", priority=Priority.MEDIUM)
    d0 = T0 + 50 * MINUTE
    for ts, kind in [(0, "raise"), (30, "clear"), (90, "raise"), (120, "clear"),
                     (180, "raise")]:
        await sig("D", kind, d0 + ts * 1000, tag=f"{HS}.DD", priority=Priority.LOW)
    await sig("S2", "raise", T0 + 60 * MINUTE, tag=f"{HS}.S2", priority=Priority.HIGH)
    await sig("SIM", "raise", T0 + 70 * MINUTE, tag=f"{HS}.SIM", simulated=True)
    await sig("E2", "raise", T0 + 80 * MINUTE, enterprise=ENT2, hazard_source=HS2,
              tag=f"{HS2}.PT01")
    return ids


async def test_kpis_by_hand(nservice: AlarmService, store: AlarmStore,
                            clock: FakeClock) -> None:
    ids = await history(nservice, clock)
    rep = await kpi_report(store, KpiScope(region_prefix="3209"), SINCE, UNTIL,
                           sensors=SENSORS, last_seen=LAST_SEEN)
    k = rep.overall
    # 12 A + 3 C + 3 D + 1 S2 (S was raised before the period, SIM and ENT2 are out)
    assert k.activations == 19
    assert k.windows == 12
    assert k.avg_per_10min == pytest.approx(19 / 12)
    assert k.peak_per_10min == 12
    assert k.flood_windows == 1
    assert k.flood_windows_pct == pytest.approx(100 / 12)
    # the 11th activation (15:00) starts it; it ends when A7 (13:30) ages out at 23:30
    (fl,) = k.floods
    assert (fl.start_ms, fl.end_ms) == (T0 + 15 * MINUTE, T0 + 23 * MINUTE + 30_000)
    assert (fl.peak, fl.activations, fl.ongoing) == (12, 2, False)
    assert k.time_in_flood_pct == pytest.approx(8.5 / 120 * 100)
    assert [(c.subject, c.activations, c.max_in_60s) for c in k.chattering] == [
        (f"{HS}.CH", 3, 3)]
    assert [(s.alarm_id, s.hours) for s in k.stale] == [(ids["S"], 32.0)]
    assert [(b.subject, b.activations) for b in k.bad_actors[:2]] == [
        (f"{HS}.CH", 3), (f"{HS}.DD", 3)]
    assert len(k.bad_actors) == 10
    assert k.bad_actors[0].share_pct == pytest.approx(300 / 19)
    assert k.priority_counts == {"critical": 1, "high": 3, "medium": 3, "low": 12}
    assert k.priority_pct["low"] == pytest.approx(1200 / 19)
    # acknowledged 10, 20, ... 100 s after raising; A10, A11, C, D, S2 not acknowledged
    assert (k.acked, k.unacked) == (10, 5)
    assert k.tta_median_s == pytest.approx(55.0)
    assert k.tta_p90_s == pytest.approx(91.0)
    assert (k.sensors_total, k.sensors_reporting) == (3, 1)
    assert k.availability_pct == pytest.approx(100 / 3)
    assert list(rep.by_enterprise) == [ENT]
    assert list(rep.by_tier) == ["1"]

    d = rep.to_dict()
    assert d["flood"]["time_in_flood_pct"] == 7.08
    assert d["time_to_ack"] == {"acknowledged": 10, "unacknowledged": 5, "median_s": 55.0,
                                "p90_s": 91.0}
    assert d["stale"][0]["id"] == ids["S"]
    assert d["since"] == "2026-11-22T02:00:00Z"


async def test_breakdowns_and_simulated(nservice: AlarmService, store: AlarmStore,
                                        clock: FakeClock) -> None:
    await history(nservice, clock)
    rep = await kpi_report(store, KpiScope(), SINCE, UNTIL, sensors=SENSORS,
                           last_seen=LAST_SEEN)
    assert rep.overall.activations == 20
    assert set(rep.by_region) == {"320921", "320582"}
    assert rep.by_region["320582"].activations == 1
    assert rep.by_region["320582"].availability_pct == 100.0
    assert rep.by_tier["3"].activations == 1
    assert rep.by_enterprise[ENT2].priority_counts["high"] == 1
    sim = await kpi_report(store, KpiScope(), SINCE, UNTIL, include_simulated=True)
    assert sim.overall.activations == 21
    assert sim.overall.availability_pct is None  # no sensors given
    only = await kpi_report(store, KpiScope(enterprise=ENT2), SINCE, UNTIL)
    assert only.overall.activations == 1


def test_sliding_flood_rules() -> None:
    assert floods([], 0, 10**7) == []
    # 11 at once: a flood from that instant until they age out 10 minutes later
    (f,) = floods([1000] * 11, 0, 10**7)
    assert (f.start_ms, f.end_ms, f.peak) == (1000, 601_000, 11)
    # 10 in a window is not a flood
    assert floods([i * 1000 for i in range(10)], 0, 10**7) == []
    # still on at the end of the period: ends there, marked ongoing
    (g,) = floods([1000] * 12, 0, 300_000)
    assert (g.end_ms, g.ongoing) == (300_000, True)


def test_percentile_matches_numpy() -> None:
    import numpy as np

    data = [3.0, 1.0, 4.0, 1.5, 9.0, 2.6]
    for q in (50, 90, 10):
        assert percentile(data, q) == pytest.approx(float(np.percentile(data, q)))
    assert percentile([], 50) is None
