"""Authentication: bearer tokens, hashed storage, failures limited per client address."""

from __future__ import annotations

import httpx

from hazmon.api import TokenStore
from hazmon.api.scope import Role
from hazmon.api.tokens import TokenError
from tests.api.support import Api
from tests.support import ENT


async def test_health_needs_no_token_and_metrics_at_the_root_is_public(api: Api) -> None:
    for url in ("/health", "/api/v1/health"):
        r = await api.client.get(url)
        assert r.status_code == 200, url
        assert r.json() == {"status": "ok"}
    r = await api.client.get("/metrics")
    assert r.status_code == 200
    assert "hazmon_up 1" in r.text


async def test_api_metrics_needs_a_province_token(api: Api) -> None:
    assert (await api.client.get("/api/v1/metrics")).status_code == 401
    assert (await api.get("province", "/api/v1/metrics")).status_code == 200
    for role in ("city", "enterprise", "simulator"):
        assert (await api.get(role, "/api/v1/metrics")).status_code == 404, role


async def test_root_metrics_can_be_closed(make_api: object) -> None:
    api: Api = await make_api(public_metrics=False)  # type: ignore[operator]
    assert (await api.client.get("/metrics")).status_code == 404


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
