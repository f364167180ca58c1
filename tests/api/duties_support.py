"""The API with its duty service, for the duty tests: the API fixture's parts plus a
DutyService on the same database, a county token, and a form builder."""

from __future__ import annotations

from typing import Any

from hazmon.duties.config import DutiesConfig
from hazmon.duties.service import DutyService
from hazmon.duties.store import DutyStore
from tests.api.support import ENT, ENT2, Api, ApiFactory
from tests.duties.support import form, shanghai_ms

__all__ = ["ENT", "ENT2", "form", "shanghai_ms"]

# The test registry: ENT in county 320921, ENT2 in 320902 (flagged simulated).
SEES = {"province": {ENT, ENT2}, "city": {ENT, ENT2}, "other_city": set(),
        "county": {ENT}, "enterprise": {ENT}, "simulator": {ENT2}}


async def duty_api(make_api: ApiFactory, config: DutiesConfig | None = None,
                   seed: int = 11) -> Api:
    api: Api = await make_api()
    api.ctx.duties = DutyService(await DutyStore.open(api.store.db), config or DutiesConfig(),
                                 api.alarms, api.clock, registry=api.ctx.registry, seed=seed)
    api.tokens["county"], _ = await api.ctx.tokens.create("county", "320921", "test-county",
                                                          api.clock())
    return api


def source(code: str = "MHS-01", state: str = "running", **over: Any) -> dict[str, Any]:
    s: dict[str, Any] = {"code": code, "run_state": state, "baobao_in_place": True}
    if state != "running":
        s.update(reason="换热器检修", expected_end="2026-11-25T08:00:00+08:00")
    s.update(over)
    return s


def form_of(ent: str, day: str = "2026-11-22", **over: Any) -> dict[str, Any]:
    code = "MHS-01" if ent == ENT else "MHS-02"
    return form(day=day, **{"hazard_sources": [source(code)], **over})
