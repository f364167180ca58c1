"""The API under test: create_app(ApiContext) over a real AlarmStore on a temp SQLite file,
the test registry, and tokens of every role."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from hazmon.alerts import AlarmService, AlarmStore, RegistryDirectory, UlidFactory
from hazmon.api import ApiContext, TokenStore, create_app
from hazmon.domain.registry import Registry
from hazmon.ingest.gateways import GatewayTracker
from hazmon.ingest.influx import InfluxClient
from tests.api.support import FakeClock
from tests.conftest import ENT, ENT2

# role name used in tests -> (role, scope)
ROLES: dict[str, tuple[str, str]] = {
    "province": ("province", "32"),
    "city": ("city", "3209"),
    "other_city": ("city", "3210"),
    "enterprise": ("enterprise", ENT),
    "simulator": ("simulator", "32"),
}
SIMULATED = frozenset({ENT2})  # the test registry's second enterprise plays the simulated one


@dataclass
class Api:
    app: FastAPI
    ctx: ApiContext
    client: httpx.AsyncClient
    tokens: dict[str, str]
    clock: FakeClock
    alarms: AlarmService
    store: AlarmStore

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    async def get(self, role: str, url: str, **kw: Any) -> httpx.Response:
        headers = {**self.auth(role), **kw.pop("headers", {})}
        return await self.client.get(url, headers=headers, **kw)

    async def post(self, role: str, url: str, **kw: Any) -> httpx.Response:
        headers = {**self.auth(role), **kw.pop("headers", {})}
        return await self.client.post(url, headers=headers, **kw)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[AlarmStore]:
    s = await AlarmStore.open(f"sqlite:///{tmp_path / 'alarms.db'}")
    yield s
    await s.close()


ApiFactory = Callable[..., Any]


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
            gateways=GatewayTracker(), health=lambda: {"status": "ok"}, clock=clock,
            influx=influx, influx_database=database,
            metrics_text=lambda: "hazmon_up 1\n", simulated_enterprises=lambda: SIMULATED,
            **{"sse_heartbeat_s": 0.05, **ctx_kw},
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
