"""The API against its own OpenAPI description (schemathesis): no 5xx and answers that
match the documented schemas, on generated input, with a real token of each role (so the
403s of the rights table and the 404s of scope are exercised too) and a real store.

Everything async runs in one anyio portal (one event loop) for the whole module, so the
SQLite connection and the InfluxDB client stay on the loop that made them; hypothesis
drives the sync test function. The SSE stream is left out: it never ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal

from hazmon.alerts import AlarmService, AlarmStore, RegistryDirectory, UlidFactory
from hazmon.api import ApiContext, TokenStore, create_app
from hazmon.domain.registry import Registry
from hazmon.domain.signal import Priority
from hazmon.duties.config import DutiesConfig
from hazmon.duties.service import DutyService
from hazmon.duties.store import DutyStore
from hazmon.ingest.gateways import GatewayTracker
from hazmon.testing.influxdb import InfluxDB
from hazmon.warnings.engine import WarningEngine
from hazmon.warnings.policy import WarningPolicy
from hazmon.warnings.pushes import PushChannels, PushPlanner
from hazmon.warnings.store import WarningStore
from tests.api import influx_support
from tests.api.support import (
    ENT,
    ENT2,
    HS_B,
    MINUTE,
    ROLES,
    SIMULATED,
    T0,
    TAG_A,
    TAG_B,
    FakeClock,
    signal,
)
from tests.real_parts import missing

schemathesis = pytest.importorskip(
    "schemathesis", reason=missing("schemathesis", "pip install -e '.[dev]'"))
from hypothesis import HealthCheck, settings  # noqa: E402 - after the skip check


class Harness:
    def __init__(self, portal: BlockingPortal, client: httpx.AsyncClient,
                 tokens: dict[str, str], store: AlarmStore, influx: Any) -> None:
        self.portal = portal
        self.client = client
        self.tokens = tokens
        self.store = store
        self.influx = influx

    def send(self, kwargs: dict[str, Any]) -> httpx.Response:
        async def go() -> httpx.Response:
            body = kwargs.get("json")
            data = kwargs.get("data")
            return await self.client.request(
                kwargs["method"], kwargs["url"], params=kwargs.get("params"),
                headers=kwargs.get("headers"), json=body,
                content=data if isinstance(data, bytes | str) else None,
            )

        return self.portal.call(go)


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory, registry: Registry,
            influxdb: InfluxDB) -> Iterator[Harness]:
    db_file: Path = tmp_path_factory.mktemp("openapi") / "alarms.db"
    with start_blocking_portal() as portal:
        async def setup() -> Harness:
            clock = FakeClock()
            store = await AlarmStore.open(f"sqlite:///{db_file}")
            alarms = AlarmService(store, directory=RegistryDirectory(registry), clock=clock,
                                  ids=UlidFactory())
            tokens = await TokenStore.open(store.db)
            issued = {name: (await tokens.create(role, scope, f"schemathesis-{name}",
                                                 clock()))[0]
                      for name, (role, scope) in ROLES.items()}
            await influx_support.create_db(influxdb.url, "openapi")
            await influx_support.write(influxdb.url, "openapi", registry, ENT,
                                       [(TAG_A, T0 - i * MINUTE, 5.0 + i) for i in range(30)])
            for sig in (signal(), signal(enterprise=ENT2, hazard_source=HS_B, tag=TAG_B,
                                         priority=Priority.CRITICAL)):
                await alarms.handle_signal(sig)
            influx = influx_support.client(influxdb.url, "openapi")
            policy = WarningPolicy()
            warnings = WarningEngine(await WarningStore.open(store.db), policy, PushPlanner(
                policy, lambda: registry, None, PushChannels()), clock)
            ctx = ApiContext(
                registry=lambda: registry, alarms=alarms, alarm_store=store, tokens=tokens,
                gateways=GatewayTracker(), health=lambda: {"status": "ok"}, clock=clock,
                influx=influx, influx_database="openapi",
                simulated_enterprises=lambda: SIMULATED,
                # generated input must never lock the test client out
                auth_failures_per_minute=1_000_000, token_failures_per_minute=1_000_000,
                warnings=warnings,
            )
            ctx.duties = DutyService(await DutyStore.open(store.db), DutiesConfig(), alarms,
                                     clock, registry=ctx.registry)
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(ctx)),
                                       base_url="http://test")
            return Harness(portal, client, issued, store, influx)

        h = portal.call(setup)
        try:
            yield h
        finally:
            async def teardown() -> None:
                await h.client.aclose()
                await h.influx.aclose()
                await h.store.close()

            portal.call(teardown)


def _spec() -> dict[str, Any]:
    # The description does not depend on the context's contents: build it from an app
    # over placeholders, at import time, as schemathesis' eager loader wants.
    placeholder: Any = None
    ctx = ApiContext(registry=placeholder, alarms=placeholder, alarm_store=placeholder,
                     tokens=placeholder, gateways=placeholder, health=placeholder,
                     clock=placeholder)
    spec: dict[str, Any] = create_app(ctx).openapi()
    return spec


schema = schemathesis.openapi.from_dict(_spec()).exclude(path_regex=r"/stream$")


@pytest.mark.parametrize("role", list(ROLES))
@schema.parametrize()  # type: ignore[untyped-decorator]
@settings(max_examples=6, deadline=None,
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_openapi(case: Any, harness: Harness, role: str) -> None:
    headers = {"Authorization": f"Bearer {harness.tokens[role]}"}
    kwargs = case.as_transport_kwargs(base_url="http://test")
    kwargs["headers"] = {**(kwargs.get("headers") or {}), **headers}
    response = harness.send(kwargs)
    assert response.status_code < 500, (case.as_curl_command(), response.text)
    # only checks of the response itself: the others send requests of their own, over
    # the network, to a host that exists only inside the ASGI transport
    c = schemathesis.checks
    case.validate_response(response, headers=headers, checks=[
        c.not_a_server_error, c.status_code_conformance, c.content_type_conformance,
        c.response_schema_conformance, c.response_headers_conformance,
    ])  # not positive_data_acceptance: "2026-13-45T00:00:00Z" fits the schema's pattern,
    # and answering it 400 with the reason is right
