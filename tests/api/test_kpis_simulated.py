"""GET /kpis and simulated data: left out by default for a centre with real plants, counted
by default when every enterprise in scope is simulated (a demo), switched either way with
`include_simulated`, and `simulated_data` says what was applied and what was left out.

The period is [T0, T0 + 60 min). Registry: ENT real (3 sensors), ENT2 simulated (2
sensors), or both simulated for the demo. Activations:
  - ENT real: TAG_A high_high, TAG_A2 high (2);
  - ENT drill (`simulated` alarm of a real plant): GD03 gas_first (1);
  - ENT2 simulated: TAG_B high_high, TAG_B high, TAG_B2 gas_first (3).
Sensors that reported in the period: TAG_A of ENT, TAG_B and TAG_B2 of ENT2.
"""

from __future__ import annotations

from typing import Any

import pytest

from hazmon.domain.registry import Registry
from hazmon.domain.signal import AlarmSignal
from tests.api.conftest import Api, ApiFactory
from tests.api.registry_support import flagged, use_registry
from tests.api.support import ENT, ENT2, HS_B, MINUTE, T0, TAG_A, TAG_A2, TAG_B, TAG_B2, signal

HOUR = 60 * MINUTE
PERIOD = {"from": str(T0), "to": str(T0 + HOUR)}
GD03 = "MHS-01.GD03"
LAST_SEEN = {(ENT, TAG_A): T0 + 5 * MINUTE, (ENT2, TAG_B): T0 + 6 * MINUTE,
             (ENT2, TAG_B2): T0 + 7 * MINUTE}


def last_seen(enterprise: str, tag: str) -> int | None:
    return LAST_SEEN.get((enterprise, tag))


def at_ent2(tag: str, rule: str, ts: int) -> AlarmSignal:
    return signal(enterprise=ENT2, hazard_source=HS_B, tag=tag, rule=rule, ts=ts,
                  simulated=True)


async def seeded(make_api: ApiFactory, registry: Registry) -> Api:
    api: Api = await make_api(last_seen=last_seen)
    use_registry(api, registry)
    h = api.alarms.handle_signal
    for sig in (
        signal(tag=TAG_A, ts=T0 + MINUTE),
        signal(tag=TAG_A2, rule="high", ts=T0 + 2 * MINUTE),
        signal(tag=GD03, rule="gas_first", ts=T0 + 3 * MINUTE, simulated=True),
        at_ent2(TAG_B, "high_high", T0 + 4 * MINUTE),
        at_ent2(TAG_B, "high", T0 + 5 * MINUTE),
        at_ent2(TAG_B2, "gas_first", T0 + 6 * MINUTE),
    ):
        assert await h(sig) is not None
    api.clock.now = T0 + 2 * HOUR
    return api


@pytest.fixture
async def mixed(make_api: ApiFactory) -> Api:
    return await seeded(make_api, flagged(ENT2))


@pytest.fixture
async def demo(make_api: ApiFactory) -> Api:
    return await seeded(make_api, flagged(ENT, ENT2))


async def kpis(api: Api, role: str = "province", **params: Any) -> dict[str, Any]:
    r = await api.get(role, "/api/v1/kpis", params={**PERIOD, **params})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def all_counted(requested: bool | None, default: bool, enterprises: int) -> dict[str, Any]:
    """`simulated_data` when nothing was left out, for a scope of ENT and ENT2."""
    return {"requested": requested, "default": default, "enterprises": enterprises,
            "enterprises_in_scope": 2, "excluded_activations": 0, "excluded_sensors": 0}


async def test_mixed_scope_leaves_simulated_data_out_by_default(mixed: Api) -> None:
    k = await kpis(mixed)
    assert k["include_simulated"] is False
    assert k["simulated_data"] == {
        "requested": None, "default": False, "enterprises": 1, "enterprises_in_scope": 2,
        "excluded_activations": 4,  # ENT's drill and ENT2's three
        "excluded_sensors": 2,  # ENT2's
    }
    assert k["activations"] == 2
    assert {b["subject"] for b in k["bad_actors"]} == {TAG_A, TAG_A2}
    assert set(k["by_enterprise"]) == {ENT}
    assert k["data_availability"] == {"sensors": 3, "reporting": 1, "pct": 33.33}
    # asked for explicitly: the same figures, and it says it was asked
    k2 = await kpis(mixed, include_simulated=False)
    assert k2["simulated_data"] == {**k["simulated_data"], "requested": False}
    assert {key: v for key, v in k2.items() if key != "simulated_data"} == \
        {key: v for key, v in k.items() if key != "simulated_data"}


async def test_mixed_scope_includes_simulated_data_when_asked(mixed: Api) -> None:
    k = await kpis(mixed, include_simulated=True)
    assert k["include_simulated"] is True
    assert k["simulated_data"] == all_counted(True, default=False, enterprises=1)
    assert k["activations"] == 6
    assert k["by_enterprise"][ENT]["activations"] == 3
    assert k["by_enterprise"][ENT2]["activations"] == 3
    assert k["data_availability"] == {"sensors": 5, "reporting": 3, "pct": 60.0}
    assert k["priority"]["counts"]["high"] == 6


async def test_a_filter_down_to_simulated_plants_counts_them_by_default(mixed: Api) -> None:
    k = await kpis(mixed, enterprise=ENT2)
    assert k["include_simulated"] is True
    assert k["simulated_data"] == {
        "requested": None, "default": True, "enterprises": 1, "enterprises_in_scope": 1,
        "excluded_activations": 0, "excluded_sensors": 0}
    assert k["activations"] == 3
    assert k["data_availability"] == {"sensors": 2, "reporting": 2, "pct": 100.0}
    # a filter to the real plant: its drill is left out
    k = await kpis(mixed, region="320921")
    assert k["include_simulated"] is False
    assert (k["activations"], k["simulated_data"]["excluded_activations"]) == (2, 1)
    assert k["simulated_data"]["excluded_sensors"] == 0


async def test_all_simulated_scope_counts_simulated_data_by_default(demo: Api) -> None:
    for role in ("province", "city"):
        k = await kpis(demo, role)
        assert k["include_simulated"] is True, role
        assert k["simulated_data"] == all_counted(None, default=True, enterprises=2)
        assert k["activations"] == 6
        assert k["data_availability"] == {"sensors": 5, "reporting": 3, "pct": 60.0}
    # switched off: only ENT's two real alarms, and no simulated plant's sensor
    k = await kpis(demo, include_simulated=False)
    assert k["include_simulated"] is False
    assert k["simulated_data"] == {
        "requested": False, "default": True, "enterprises": 2, "enterprises_in_scope": 2,
        "excluded_activations": 4, "excluded_sensors": 5}
    assert k["activations"] == 2
    assert k["data_availability"] == {"sensors": 0, "reporting": 0, "pct": None}
    assert (await kpis(demo, include_simulated=True))["simulated_data"] == \
        all_counted(True, default=True, enterprises=2)


async def test_a_simulator_counts_only_simulated_data(mixed: Api) -> None:
    k = await kpis(mixed, "simulator")
    assert k["include_simulated"] is True
    assert k["simulated_data"]["default"] is True
    assert k["activations"] == 3  # ENT2's: the drill of the real plant is not its
    assert set(k["by_enterprise"]) == {ENT2}
    # asked to leave simulated data out, it has nothing to count
    k = await kpis(mixed, "simulator", include_simulated=False)
    assert k["include_simulated"] is False
    assert k["activations"] == 0
    assert k["by_enterprise"] == {}
    assert k["data_availability"] == {"sensors": 0, "reporting": 0, "pct": None}
