"""Authentication: bearer tokens, hashed storage, failures limited per client address;
who sees /health and /metrics."""

from __future__ import annotations

import ipaddress
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from hazmon.api import TokenStore
from hazmon.api.health import create_ops_app
from hazmon.api.rights import Action, Rights
from hazmon.api.scope import Role
from hazmon.api.settings import HttpSettings
from hazmon.api.tokens import TokenError
from tests.api.support import Api, ApiFactory
from tests.support import ENT


async def test_health_without_a_token_says_only_up_or_degraded(make_api: ApiFactory) -> None:
    detail = {"status": "degraded",
              "broker": {"state": "up", "subscriptions": ["hazmon/v1/32/+/+"]},
              "influxdb": {"state": "down", "url": "http://influx.internal:8086"}}
    api: Api = await make_api(health=lambda: detail)
    for url in ("/health", "/api/v1/health"):
        r = await api.client.get(url)
        assert r.status_code == 200, url  # degraded still serves: not for the balancer
        assert r.json() == {"status": "degraded"}
        # the detail with the metrics right (province by default), else the minimum again
        assert (await api.get("province", url)).json() == detail
        assert (await api.get("city", url)).json() == {"status": "degraded"}
        r = await api.client.get(url, headers={"Authorization": "Bearer hzm_wrong"})
        assert r.status_code == 401  # a token given is checked


async def test_metrics_need_the_metrics_right(make_api: ApiFactory) -> None:
    rights = Rights({Action.METRICS_READ: frozenset({Role.PROVINCE, Role.CITY})})
    api: Api = await make_api(rights=rights)
    for url in ("/metrics", "/api/v1/metrics"):
        r = await api.client.get(url)
        assert r.status_code == 401, url
        assert "hazmon_up" not in r.text
        r = await api.get("province", url)
        assert r.status_code == 200
        assert "hazmon_up 1" in r.text
        assert (await api.get("city", url)).status_code == 200  # the site's table
        for role in ("county", "enterprise", "simulator"):
            r = await api.get(role, url)
            assert r.status_code == 403, (url, role)
            assert r.json()["action"] == "metrics.read"


async def test_the_operations_app_serves_detail_and_metrics_without_a_token() -> None:
    class Source:
        def health(self) -> dict[str, Any]:
            return {"status": "ok", "broker": {"state": "up"}}

        def metrics_text(self) -> str:
            return 'hazmon_ingest_rejected_readings_total{enterprise="X"} 1\n'

    app = create_ops_app(Source())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://127.0.0.1") as c:
        assert (await c.get("/health")).json()["broker"] == {"state": "up"}
        r = await c.get("/metrics")
        assert r.status_code == 200
        assert 'enterprise="X"' in r.text
        assert (await c.get("/api/v1/alarms")).status_code == 404  # nothing else there
        assert (await c.get("/openapi.json")).status_code == 404


def test_the_operations_listener_is_loopback_only() -> None:
    for host in ("127.0.0.1", "::1", "127.0.0.2", "localhost"):
        assert HttpSettings(ops_port=9100, ops_host=host).ops_host == host
    for host in ("0.0.0.0", "10.1.2.3", "::", "metrics.example"):
        with pytest.raises(ValidationError, match="loopback"):
            HttpSettings(ops_port=9100, ops_host=host)


async def test_missing_and_invalid_tokens_are_401_with_a_json_body(api: Api) -> None:
    r = await api.client.get("/api/v1/alarms")
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert r.json()["error"] == "unauthorized"
    assert "missing bearer token" in r.json()["message"]
    good = api.tokens["province"]
    for bad in ("nonsense", good[:-1] + ("A" if good[-1] != "A" else "B"), good + "x",
                "hzm_0000000000000000_" + good.split("_", 2)[2]):
        r = await api.client.get("/api/v1/alarms", headers={"Authorization": f"Bearer {bad}"})
        assert r.status_code == 401, bad
        assert r.json()["message"] == "invalid, expired or revoked token"
    r = await api.client.get("/api/v1/alarms", headers={"Authorization": f"Basic {good}"})
    assert r.status_code == 401


async def test_tokens_are_stored_hashed_and_can_be_revoked(api: Api) -> None:
    token = api.tokens["city"]
    rows = await api.store.db.fetchall("SELECT id, secret_sha256 FROM api_tokens")
    secret = token.split("_", 2)[2]
    assert all(secret not in str(r) for r in rows)
    assert (await api.get("city", "/api/v1/enterprises")).status_code == 200
    token_id = token.split("_")[1]
    assert await api.ctx.tokens.revoke(token_id, api.clock())
    assert (await api.get("city", "/api/v1/enterprises")).status_code == 401
    assert not await api.ctx.tokens.revoke(token_id, api.clock())


async def test_token_creation_checks_role_and_scope(api: Api) -> None:
    tokens: TokenStore = api.ctx.tokens
    for role, scope in (("province", "320"), ("city", "32"), ("enterprise", "3209"),
                        ("simulator", "3"), ("mayor", "32")):
        try:
            await tokens.create(role, scope, "x", 0)
        except TokenError:
            continue
        raise AssertionError(f"{role} {scope} accepted")
    _, info = await tokens.create(Role.ENTERPRISE, ENT.lower(), "plant", 0)
    assert info.scope == ENT


async def test_failed_authentication_is_rate_limited_per_address(api: Api) -> None:
    bad = {"Authorization": "Bearer hzm_wrong"}
    for _ in range(10):
        assert (await api.client.get("/api/v1/alarms", headers=bad)).status_code == 401
    r = await api.client.get("/api/v1/alarms", headers=bad)
    assert r.status_code == 429
    assert r.json()["error"] == "rate_limited"
    assert 1 <= int(r.headers["retry-after"]) <= 60
    # a right token from the same address is refused too: no oracle for a guesser
    assert (await api.get("province", "/api/v1/alarms")).status_code == 429
    # another address is not affected
    other = httpx.AsyncClient(transport=httpx.ASGITransport(app=api.app,
                                                            client=("10.1.2.3", 5000)),
                              base_url="http://test")
    async with other:
        r = await other.get("/api/v1/alarms", headers=api.auth("province"))
        assert r.status_code == 200
    # the window slides: a minute later the address may try again
    api.clock.advance(minutes=1)
    assert (await api.get("province", "/api/v1/alarms")).status_code == 200


async def test_forwarded_for_counts_only_from_trusted_proxies(make_api: ApiFactory) -> None:
    api: Api = await make_api(trusted_proxies=(ipaddress.ip_network("10.9.0.0/24"),))
    bad = "Bearer hzm_wrong"

    def via(peer: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=api.app, client=(peer, 1)),
                                 base_url="http://test")

    async with via("10.9.0.1") as proxy, via("10.1.1.1") as direct:
        # through the proxy: the client it names, right-most first; what the client wrote
        # further left (9.9.9.9) is not believed
        for i in range(10):
            r = await proxy.get("/api/v1/alarms", headers={
                "Authorization": bad, "X-Forwarded-For": f"9.9.9.{i}, 1.2.3.4, 10.9.0.2"})
            assert r.status_code == 401
        r = await proxy.get("/api/v1/alarms", headers={
            "Authorization": bad, "X-Forwarded-For": "1.2.3.4"})
        assert r.status_code == 429  # 1.2.3.4 reached its limit
        r = await proxy.get("/api/v1/alarms", headers={
            **api.auth("province"), "X-Forwarded-For": "5.6.7.8"})
        assert r.status_code == 200  # another client behind the same proxy is not
        # a peer that is no trusted proxy: its X-Forwarded-For is ignored
        for i in range(10):
            r = await direct.get("/api/v1/alarms", headers={
                "Authorization": bad, "X-Forwarded-For": f"7.7.7.{i}"})
            assert r.status_code == 401
        r = await direct.get("/api/v1/alarms", headers={
            **api.auth("province"), "X-Forwarded-For": "8.8.8.8"})
        assert r.status_code == 429
    api.clock.advance(minutes=1)
    (summary,) = api.ctx.failed_sign_ins.take(api.clock())
    assert set(summary.addresses) == {"1.2.3.4", "10.1.1.1"}
