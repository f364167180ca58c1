"""The API under test: create_app(ApiContext) over a real AlarmStore on a temp SQLite file,
the test registry, and tokens of every role."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hazmon.alerts import AlarmService, AlarmStore, RegistryDirectory, UlidFactory
from hazmon.api import ApiContext, TokenStore, create_app
from hazmon.domain.registry import Registry
from hazmon.ingest.gateways import GatewayTracker
from hazmon.ingest.influx import InfluxClient
from tests.api.support import ROLES, SIMULATED, Api, ApiFactory, FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[AlarmStore]:
    s = await AlarmStore.open(f"sqlite:///{tmp_path / 'alarms.db'}")
    yield s
    await s.close()


@pytest.fixture
async def make_api(store: AlarmStore, registry: Registry, clock: FakeClock
                   ) -> AsyncIterator[ApiFactory]:
    made: list[Api] = []
    influx_clients: list[InfluxClient] = []

    async def make(influx: InfluxClient | None = None, database: str = "hazmon",
                   **ctx_kw: Any) -> Api:
        alarms = AlarmService(store, directory=RegistryDirectory(registry), clock=clock,
                              ids=UlidFactory())
        tokens = await TokenStore.open(store.db)
        if influx is not None:
            influx_clients.append(influx)
        ctx = ApiContext(
            registry=lambda: registry, alarms=alarms, alarm_store=store, tokens=tokens,
            gateways=GatewayTracker(), clock=clock, influx=influx, influx_database=database,
            simulated_enterprises=lambda: SIMULATED,
            **{"sse_heartbeat_s": 0.05, "health": lambda: {"status": "ok"},
               "metrics_text": lambda: "hazmon_up 1\n", **ctx_kw},
        )
        app = create_app(ctx)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                   base_url="http://test")
        issued = {}
        for name, (role, scope) in ROLES.items():
            issued[name], _ = await tokens.create(role, scope, f"test-{name}", clock())
        api = Api(app, ctx, client, issued, clock, alarms, store)
        made.append(api)
        return api

    yield make
    for api in made:
        await api.client.aclose()
    for c in influx_clients:
        await c.aclose()


@pytest.fixture
async def api(make_api: ApiFactory) -> Api:
    a: Api = await make_api()
    return a
