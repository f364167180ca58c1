"""Token lifetime: expiry, rotation with a grace period, last use written once a minute,
revocation seen at once by another instance, the migration from the first schema, and
failed sign-ins limited per token id and logged without the secret. On SQLite and on a real
PostgreSQL server."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator

import httpx
import pytest

from hazmon.alerts.sql import connect
from hazmon.api.scope import Principal, Role
from hazmon.api.tokens import (
    DAY_MS,
    MIGRATIONS,
    Refusal,
    Refused,
    TokenError,
    TokenStore,
    token_id_of,
)
from tests.api.support import MINUTE, T0, Api

HOUR_MS = 3_600_000




@pytest.fixture
async def stores(db_url: str) -> AsyncIterator[tuple[TokenStore, TokenStore]]:
    """Two stores on one database, each with its own connection: two instances."""
    a = await TokenStore.open_url(db_url)
    b = await TokenStore.open_url(db_url)
    yield a, b
    await a.close()
    await b.close()


def _secret(token: str) -> str:
    return token.split("_", 2)[2]


async def test_expiry_default_and_per_token(stores: tuple[TokenStore, TokenStore]) -> None:
    s, _ = stores
    token, info = await s.create("city", "3209", "值班室", T0)
    assert info.expires_at_ms == T0 + 90 * DAY_MS
    short, short_info = await s.create("city", "3209", "临时", T0, lifetime_days=1)
    assert isinstance(await s.check(short, T0 + DAY_MS - 1), Principal)
    assert await s.check(short, T0 + DAY_MS) == Refused(Refusal.EXPIRED, short_info.id)
    assert isinstance(await s.check(token, T0 + DAY_MS), Principal)
    assert (await s.get(short_info.id)).state(T0 + DAY_MS) == "expired"  # type: ignore[union-attr]
    for days in (0, 3651):
        with pytest.raises(TokenError, match="1 to 3650 days"):
            await s.create("city", "3209", "x", T0, lifetime_days=days)


async def test_rotation_keeps_two_secrets_valid_for_the_grace_period(
        stores: tuple[TokenStore, TokenStore]) -> None:
    s, other = stores
    old, info = await s.create("province", "32", "省厅", T0)
    new, rotated = await s.rotate(info.id, T0 + HOUR_MS, grace_s=24 * 3600)
    assert new != old
    assert token_id_of(new) == info.id  # same id: same name in history and audit
    assert rotated.rotated_at_ms == T0 + HOUR_MS
    assert rotated.previous_until_ms == T0 + 25 * HOUR_MS
    assert rotated.expires_at_ms == T0 + HOUR_MS + 90 * DAY_MS  # the lifetime starts again
    for store in (s, other):  # and on the other instance at once
        assert isinstance(await store.check(old, T0 + 25 * HOUR_MS - 1), Principal)
        assert isinstance(await store.check(new, T0 + 25 * HOUR_MS - 1), Principal)
        assert await store.check(old, T0 + 25 * HOUR_MS) == Refused(Refusal.WRONG_SECRET,
                                                                    info.id)
        assert isinstance(await store.check(new, T0 + 25 * HOUR_MS), Principal)
    # a second rotation: never more than two valid, the first secret is gone
    newer, _ = await s.rotate(info.id, T0 + 2 * HOUR_MS)
    assert isinstance(await s.check(old, T0 + 2 * HOUR_MS), Refused)
    assert isinstance(await s.check(new, T0 + 2 * HOUR_MS), Principal)
    assert isinstance(await s.check(newer, T0 + 2 * HOUR_MS), Principal)
    # no grace: the previous secret ends with the rotation
    newest, _ = await s.rotate(info.id, T0 + 3 * HOUR_MS, grace_s=0)
    assert isinstance(await s.check(newer, T0 + 3 * HOUR_MS), Refused)
    # revocation ends every secret of the token, on every instance, at once
    latest, _ = await s.rotate(info.id, T0 + 3 * HOUR_MS)
    assert await other.revoke(info.id, T0 + 3 * HOUR_MS)
    for t in (newest, latest):  # the one in its grace period too
        assert await s.check(t, T0 + 3 * HOUR_MS) == Refused(Refusal.REVOKED, info.id)
    with pytest.raises(TokenError, match="no active token"):
        await s.rotate(info.id, T0 + 4 * HOUR_MS)
    with pytest.raises(TokenError, match="grace"):
        await s.rotate(info.id, T0, grace_s=-1)


async def test_an_expired_token_cannot_be_rotated(stores: tuple[TokenStore, TokenStore]) -> None:
    s, _ = stores
    _, info = await s.create("city", "3209", "x", T0, lifetime_days=1)
    with pytest.raises(TokenError, match="no active token"):
        await s.rotate(info.id, T0 + DAY_MS)


async def test_last_use_is_written_at_most_once_a_minute(
        stores: tuple[TokenStore, TokenStore]) -> None:
    s, other = stores
    token, info = await s.create("city", "3209", "x", T0)
    assert (await s.get(info.id)).last_used_at_ms is None  # type: ignore[union-attr]

    async def last_used() -> int | None:
        got = await other.get(info.id)
        assert got is not None
        return got.last_used_at_ms

    await s.check(token, T0 + 1000)
    assert await last_used() == T0 + 1000
    await s.check(token, T0 + 30_000)
    await other.check(token, T0 + 60_999)  # another instance within the minute: no write
    assert await last_used() == T0 + 1000
    await other.check(token, T0 + 61_000)
    assert await last_used() == T0 + 61_000
    await s.check(_wrong(token), T0 + 10 * MINUTE)  # a failure is no use
    assert await last_used() == T0 + 61_000


def _wrong(token: str) -> str:
    return token[:-1] + ("A" if token[-1] != "A" else "B")


async def test_migration_from_the_first_schema_keeps_tokens(db_url: str) -> None:
    token_id, secret = "0123456789abcdef", "s" * 43
    token = f"hzm_{token_id}_{secret}"
    db = await connect(db_url)
    try:  # the database as version 1 left it, with one of its tokens
        async with db.transaction() as tx:
            await tx.execute("CREATE TABLE api_tokens_schema (version INTEGER NOT NULL)")
            for stmt in MIGRATIONS[1]:
                await tx.execute(stmt)
            await tx.execute("INSERT INTO api_tokens_schema (version) VALUES (1)")
            await tx.execute(
                "INSERT INTO api_tokens (id, name, role, scope, secret_sha256, created_at)"
                " VALUES (?, 'legacy', 'city', '3209', ?, ?)",
                (token_id, hashlib.sha256(secret.encode()).hexdigest(), T0))
    finally:
        await db.close()
    store = await TokenStore.open_url(db_url)
    try:
        got = await store.get(token_id)
        assert got is not None
        assert (got.expires_at_ms, got.last_used_at_ms) == (None, None)
        assert got.state(T0 + 1000 * DAY_MS) == "active"  # no expiry until rotated
        assert isinstance(await store.check(token, T0 + 1000 * DAY_MS), Principal)
        _, rotated = await store.rotate(token_id, T0 + DAY_MS)
        assert rotated.expires_at_ms == T0 + 91 * DAY_MS
        row = await store.db.fetchone("SELECT MAX(version) FROM api_tokens_schema")
        assert row is not None
        assert int(row[0]) == max(MIGRATIONS)
    finally:
        await store.close()


# --- through the API -----------------------------------------------------------------------


def _client(api: Api, address: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=api.app, client=(address, 5000)),
                             base_url="http://test")


async def test_expired_and_rotated_tokens_through_the_api(api: Api) -> None:
    token = api.tokens["city"]
    token_id = token_id_of(token)
    assert token_id is not None
    new, _ = await api.ctx.tokens.rotate(token_id, api.clock(), grace_s=3600)
    bearer = {"Authorization": f"Bearer {new}"}
    assert (await api.get("city", "/api/v1/me")).status_code == 200  # the old one, in grace
    assert (await api.client.get("/api/v1/me", headers=bearer)).status_code == 200
    api.clock.advance(minutes=60)
    r = await api.get("city", "/api/v1/me")
    assert r.status_code == 401
    assert r.json()["message"] == "invalid, expired or revoked token"
    assert (await api.client.get("/api/v1/me", headers=bearer)).status_code == 200
    api.clock.advance(minutes=90 * 24 * 60)
    assert (await api.client.get("/api/v1/me", headers=bearer)).status_code == 401


async def test_failures_are_limited_per_token_id_and_logged_without_the_secret(
        api: Api, caplog: pytest.LogCaptureFixture) -> None:
    good = api.tokens["province"]
    token_id = token_id_of(good)
    wrong = {"Authorization": f"Bearer {_wrong(good)}"}
    caplog.set_level(logging.WARNING, logger="hazmon.api.deps")
    # ten addresses, one wrong guess each: no address reaches its own limit
    for i in range(10):
        async with _client(api, f"10.0.0.{i}") as c:
            assert (await c.get("/api/v1/alarms", headers=wrong)).status_code == 401
    async with _client(api, "10.0.1.1") as c:
        r = await c.get("/api/v1/alarms", headers=wrong)
        assert r.status_code == 429
        assert "for this token" in r.json()["message"]
        assert 1 <= int(r.headers["retry-after"]) <= 60
        # the right secret still gets in: an id alone cannot lock its holder out
        assert (await c.get("/api/v1/alarms", headers=api.auth("province"))).status_code == 200
        # another token's id is not affected
        other = api.tokens["city"]
        r = await c.get("/api/v1/alarms", headers={"Authorization": f"Bearer {_wrong(other)}"})
        assert r.status_code == 401
    lines = [rec.getMessage() for rec in caplog.records]
    assert sum(f"rejected API token {token_id} from 10.0.0." in ln for ln in lines) == 10
    assert any("wrong secret" in ln for ln in lines)
    text = "\n".join(lines)
    assert _secret(good) not in text
    assert _secret(_wrong(good)) not in text
    # the minute's summary for the audit: counts, ids and addresses, never a secret
    api.clock.advance(minutes=1)
    (summary,) = api.ctx.failed_sign_ins.take(api.clock())
    assert summary.count == 12
    assert summary.rate_limited == 1
    assert summary.token_ids[str(token_id)] == 11
    assert summary.reasons["wrong secret"] == 12
    assert len(summary.addresses) == 11
    assert _secret(good) not in str(summary.as_data())


async def test_role_of_a_rotated_token_is_unchanged(api: Api) -> None:
    token_id = token_id_of(api.tokens["enterprise"])
    assert token_id is not None
    new, info = await api.ctx.tokens.rotate(token_id, api.clock())
    assert info.role is Role.ENTERPRISE
    r = await api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {new}"})
    assert r.json()["name"] == "test-enterprise"
    assert "alarm.ack" in r.json()["actions"]
