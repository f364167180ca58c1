"""The simulated plants' duties through the real API with a simulator token: a prompt
plant files at once and answers in time, a late one files after 10:00 and answers after
the deadline, a missing one never; a plan's stopped source is declared 停车."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from hazmon.duties.rollcall import CallStatus, status
from hazmon.simulators.duties import DutyDrill, DutyPlan, DutyProfile, demo_plans
from tests.api.duties_support import duty_api, shanghai_ms
from tests.api.support import Api, ApiFactory
from tests.support import ENT2, REGISTRY_FILE

REGISTRY: dict[str, Any] = yaml.safe_load(REGISTRY_FILE.read_text(encoding="utf-8"))


@pytest.fixture
async def api(make_api: ApiFactory) -> Api:
    a = await duty_api(make_api)
    a.clock.now = shanghai_ms(2026, 11, 22, 9, 30)
    return a


def drill(api: Api, plan: DutyPlan) -> DutyDrill:
    return DutyDrill("http://test", api.tokens["simulator"], REGISTRY, {ENT2: plan},
                     clock=lambda: api.clock.now / 1000)


async def step(api: Api, d: DutyDrill) -> None:
    api.client.headers["Authorization"] = f"Bearer {api.tokens['simulator']}"
    await d.step(api.client)


@pytest.mark.parametrize("profile", list(DutyProfile))
async def test_each_plan_files_and_answers_as_it_says(api: Api, profile: DutyProfile) -> None:
    assert api.ctx.duties is not None
    store = api.ctx.duties.store
    d = drill(api, DutyPlan(profile, profile))
    [call] = await api.ctx.duties.call_roll([ENT2], "county:x")
    await step(api, d)
    day = api.ctx.duties.today()
    filed = await store.commitment(ENT2, day)
    assert (filed is not None) is (profile is DutyProfile.PROMPT)
    api.clock.now = shanghai_ms(2026, 11, 22, 10, 1, 30)  # a minute past 10:00 and the call's 5 min
    await step(api, d)
    filed = await store.commitment(ENT2, day)
    assert (filed is not None) is (profile is not DutyProfile.MISSING)
    if filed is not None:
        assert filed.late is (profile is DutyProfile.LATE)
    got = await store.roll_call(call.id)
    assert got is not None
    assert status(got, api.clock.now) is {
        DutyProfile.PROMPT: CallStatus.ANSWERED, DutyProfile.LATE: CallStatus.ANSWERED_LATE,
        DutyProfile.MISSING: CallStatus.MISSED}[profile]
    await step(api, d)  # nothing twice
    assert d.counts == {"filed": int(profile is not DutyProfile.MISSING),
                        "answered": int(profile is not DutyProfile.MISSING)}


async def test_a_plan_that_stops_a_source_suppresses_it(api: Api) -> None:
    await step(api, drill(api, DutyPlan(stopped=("MHS-02",))))
    assert api.ctx.duties is not None
    rs = await api.ctx.duties.store.run_state(ENT2, "MHS-02")
    assert rs is not None
    assert rs.state.value == "stopped"
    [hold] = await api.alarms.holds(ENT2)
    assert hold.reason.startswith("运行状态:停车")


def test_the_demo_mix_has_a_late_a_missing_and_a_stopping_plant() -> None:
    plans = demo_plans([f"E{i}" for i in range(6)])
    assert [p.commitment for p in plans.values()].count(DutyProfile.PROMPT) == 4
    assert plans["E5"].commitment is DutyProfile.MISSING
    assert plans["E4"].commitment is DutyProfile.LATE
    assert plans["E3"].stopped == ("MHS-01",)
