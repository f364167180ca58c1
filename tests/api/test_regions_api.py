"""GET /regions: each caller gets the names of the units in its view and of those above it,
from the regions file; without one the list is empty (the page then shows codes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hazmon.alerts import AlarmStore
from hazmon.domain.regions import load_regions
from hazmon.domain.registry import Registry
from hazmon.warnings.engine import WarningEngine
from hazmon.warnings.policy import WarningPolicy
from hazmon.warnings.pushes import PushChannels, PushPlanner
from hazmon.warnings.store import WarningStore
from tests.api.support import ROLES, Api, ApiFactory, FakeClock

REGIONS = load_regions(Path(__file__).resolve().parents[2] / "deploy" / "regions.example.yaml")
JIANGSU, YANCHENG, XIANGSHUI, TINGHU = "320000", "320900", "320921", "320902"
PARK, TOWN, STREET = "320921401", "320921100", "320902001"
NANJING, LIUHE, JIANGBEI = "320100", "320116", "320116400"
YANGZHOU, GUANGLING = "321000", "321002"
EVERY = {JIANGSU, YANCHENG, XIANGSHUI, TINGHU, PARK, TOWN, STREET, NANJING, LIUHE, JIANGBEI,
         YANGZHOU, GUANGLING}
SEES = {
    "province": EVERY, "simulator": EVERY,
    "city": {JIANGSU, YANCHENG, XIANGSHUI, TINGHU, PARK, TOWN, STREET},
    "other_city": {JIANGSU, YANGZHOU, GUANGLING},  # 3210: 扬州市
    "county": {JIANGSU, YANCHENG, XIANGSHUI, PARK, TOWN},
    "enterprise": {JIANGSU, YANCHENG, XIANGSHUI, PARK, TOWN},  # its registry region 320921
}


@pytest.fixture
async def api(make_api: ApiFactory, store: AlarmStore, registry: Registry,
              clock: FakeClock) -> Api:
    policy = WarningPolicy()
    engine = WarningEngine(await WarningStore.open(store.db), policy,
                           PushPlanner(policy, lambda: registry, REGIONS, PushChannels()), clock)
    return await make_api(warnings=engine, regions=REGIONS)


@pytest.mark.parametrize("role", list(ROLES))
async def test_each_caller_gets_the_names_in_its_view(api: Api, role: str) -> None:
    r = await api.get(role, "/api/v1/regions")
    assert r.status_code == 200, r.text
    got = {u["code"]: u for u in r.json()}
    assert set(got) == SEES[role]
    assert got[JIANGSU] == {"code": JIANGSU, "prefix": "32", "name": "江苏省",
                            "level": "province"}
    if XIANGSHUI in got:
        assert got[XIANGSHUI]["name"] == "响水县"
        assert got[XIANGSHUI]["prefix"] == XIANGSHUI
        assert got[YANCHENG]["prefix"] == "3209"
        assert got[YANCHENG]["level"] == "city"
        assert got[PARK]["prefix"] == PARK
        assert got[PARK]["level"] == "cell"


async def test_without_a_regions_file_the_list_is_empty(make_api: ApiFactory) -> None:
    api = await make_api()
    r = await api.get("province", "/api/v1/regions")
    assert r.status_code == 200
    assert r.json() == []
    assert (await api.client.get("/api/v1/regions")).status_code == 401
