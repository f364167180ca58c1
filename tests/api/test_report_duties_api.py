"""The report (GET /warnings/report) carries the duties done through the API: the roll
calls' answer rate per enterprise, the patrol coverage per county and the commitments,
in its JSON, CSV and page, each caller's only for its scope.

ENT (county 320921) files on time, answers its roll call and is patrolled; ENT2 (county
320902, the simulated plant) files late and misses its roll call, and nobody patrols it.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from hazmon.alerts import AlarmStore
from hazmon.domain.regions import load_regions
from hazmon.domain.registry import Registry
from hazmon.warnings.engine import WarningEngine
from hazmon.warnings.policy import WarningPolicy
from hazmon.warnings.pushes import PushChannels, PushPlanner
from hazmon.warnings.store import WarningStore
from tests.api.duties_support import ENT, ENT2, duty_api, form_of, shanghai_ms
from tests.api.support import Api, ApiFactory, FakeClock

REGIONS = load_regions(Path(__file__).resolve().parents[2] / "deploy" / "regions.example.yaml")
DAY = {"period": "day", "day": "2026-11-22", "include_simulated": True}
CHECKS = {"data_online": True, "commitment_filed": True, "warnings_handled": True,
          "roll_call_answered": True}


@pytest.fixture
async def api(make_api: ApiFactory, store: AlarmStore, registry: Registry,
              clock: FakeClock) -> Api:
    policy = WarningPolicy()
    planner = PushPlanner(policy, lambda: registry, REGIONS, PushChannels())
    engine = WarningEngine(await WarningStore.open(store.db), policy, planner, clock)

    async def make(**kw: Any) -> Api:
        return await make_api(warnings=engine, regions=REGIONS, **kw)

    a = await duty_api(make)
    a.tokens["county_b"], _ = await a.ctx.tokens.create("county", "320902", "test-county-b",
                                                        clock())
    clock.now = shanghai_ms(2026, 11, 22, 9, 30)
    assert (await a.post("enterprise", f"/api/v1/enterprises/{ENT}/commitments",
                         json=form_of(ENT))).status_code == 201
    assert (await a.get("province", "/api/v1/patrols/day")).status_code == 200  # drawn
    called = await a.post("county", "/api/v1/roll-calls", json={"enterprise": ENT})
    call_id = called.json()["calls"][0]["id"]
    clock.now += 60_000
    assert (await a.post("enterprise", f"/api/v1/roll-calls/{call_id}/answer")
            ).status_code == 200
    assert (await a.post("province", "/api/v1/roll-calls", json={"enterprise": ENT2})
            ).status_code == 201
    assert (await a.post("county", "/api/v1/patrols",
                         json={"enterprise": ENT, "findings": CHECKS})).status_code == 201
    clock.now = shanghai_ms(2026, 11, 22, 10, 30)
    late = await a.post("simulator", f"/api/v1/enterprises/{ENT2}/commitments",
                        json=form_of(ENT2))
    assert late.json()["late"] is True
    clock.now = shanghai_ms(2026, 11, 22, 18)
    return a


async def test_the_report_holds_the_day_duties_of_the_province(api: Api) -> None:
    r = await api.get("province", "/api/v1/warnings/report", params=DAY)
    assert r.status_code == 200, r.text
    d = r.json()["duties"]
    rows = {e["enterprise"]: (e["calls"], e["answered"], e["answered_late"], e["missed"],
                              e["answer_rate_pct"]) for e in d["roll_calls"]["enterprises"]}
    assert rows == {ENT: (1, 1, 0, 0, 100.0), ENT2: (1, 0, 0, 1, 0.0)}
    assert d["roll_calls"]["total"]["answer_rate_pct"] == 50.0
    counties = {c["county"]: (c["name"], c["sampled"], c["patrolled"], c["coverage_pct"])
                for c in d["patrols"]["counties"]}
    assert counties == {"320921": ("响水县", 1, 1, 100.0), "320902": ("亭湖区", 1, 0, 0.0)}
    assert [(e["enterprise"], e["on_time"], e["late"], e["missing"])
            for e in d["commitments"]["enterprises"]] == [(ENT2, 0, 1, 0)]
    assert d["commitments"]["total"]["on_time"] == 1
    # without include_simulated the simulated plant's duties are left out, as its warnings
    plain = (await api.get("province", "/api/v1/warnings/report",
                           params={**DAY, "include_simulated": False})).json()["duties"]
    assert [e["enterprise"] for e in plain["roll_calls"]["enterprises"]] == [ENT]


@pytest.mark.parametrize(("role", "ent", "county"), [("county", ENT, "320921"),
                                                     ("county_b", ENT2, "320902"),
                                                     ("enterprise", ENT, "320921")])
async def test_a_county_report_holds_only_its_county(api: Api, role: str, ent: str,
                                                     county: str) -> None:
    d = (await api.get(role, "/api/v1/warnings/report", params=DAY)).json()["duties"]
    assert [e["enterprise"] for e in d["roll_calls"]["enterprises"]] == [ent]
    assert [c["county"] for c in d["patrols"]["counties"]] == [county]
    assert d["roll_calls"]["total"]["calls"] == 1
    assert d["commitments"]["total"]["days"] == 1


async def test_a_region_outside_the_scope_counts_no_duties(api: Api) -> None:
    d = (await api.get("other_city", "/api/v1/warnings/report", params=DAY)).json()["duties"]
    assert d["roll_calls"]["enterprises"] == []
    assert d["patrols"]["counties"] == []
    assert d["commitments"]["total"]["days"] == 0


async def test_the_csv_and_the_page_carry_the_same_duty_figures(api: Api) -> None:
    r = await api.get("county", "/api/v1/warnings/report", params={**DAY, "format": "csv"})
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert ["响水某化工有限公司", ENT, "1", "1", "0", "0", "0", "100"] in rows
    assert ["响水县", "320921", "1", "1", "1", "100", "1"] in rows  # the patrol coverage
    assert ENT2 not in r.text
    page = (await api.get("county", "/api/v1/warnings/report",
                          params={**DAY, "format": "html"})).text
    assert "<h2>值班点名应答率（按企业）</h2>" in page
    assert (f'<td class="name">响水某化工有限公司</td><td>{ENT}</td><td>1</td><td>1</td>'
            "<td>0</td><td>0</td><td>0</td><td>100</td>") in page
    assert "<h2>在线巡查覆盖率（按县区）</h2>" in page
