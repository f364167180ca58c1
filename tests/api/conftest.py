"""The API under test: create_app(ApiContext) over a real AlarmStore on a temp SQLite file,
the test registry, and tokens of every role."""

from __future__ import annotations

from collections.abc import AsyncIterator
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
from tests.api.support import ROLES, SIMULATED, Api, ApiFactory, FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[AlarmStore]:
    s = await AlarmStore.open(f"sqlite:///{tmp_path / 'alarms.db'}")
    yield s
    await s.close()


@pytest.fixture(scope="session")
def app_pool() -> list[FastAPI]:
    """Apps made by create_app, free for the next test: building the routes costs a third
    of a second, and an app's one tie to its context is `app.state.api`."""
    return []


def _app_for(ctx: ApiContext, pool: list[FastAPI]) -> FastAPI:
    if not pool:
        return create_app(ctx)
    app = pool.pop()
    # create_app keeps nothing else of the context; were it to, this reuse would be wrong
    assert set(app.state._state) == {"api"}, app.state._state
    app.state.api = ctx
    return app


@pytest.fixture
async def make_api(store: AlarmStore, registry: Registry, clock: FakeClock,
                   app_pool: list[FastAPI]) -> AsyncIterator[ApiFactory]:
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
        app = _app_for(ctx, app_pool)
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
    app_pool.extend(api.app for api in made)
    for c in influx_clients:
        await c.aclose()


@pytest.fixture
async def api(make_api: ApiFactory) -> Api:
    a: Api = await make_api()
    return a
