"""API bearer tokens, kept hashed in the alarm database (table `api_tokens`).

A token reads `hzm_<id>_<secret>`: the id finds the row, the secret (32 random bytes) is
checked against its SHA-256 with a constant-time compare. Only the hash is stored, so a
copy of the database does not let anyone in; a plain hash is enough because the secret
is high-entropy (nothing to brute-force as with passwords).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass

from hazmon.alerts.errors import StoreError
from hazmon.alerts.sql import Database, connect_migrated
from hazmon.api.scope import Principal, Role, ScopeError, check_scope

log = logging.getLogger(__name__)

PREFIX = "hzm_"
_TOKEN_RE = re.compile(r"hzm_([0-9a-f]{16})_([A-Za-z0-9_-]{43})")

# version -> statements; its own version table, so the alarm store's migrations and
# these never step on each other. Append new versions, never edit a released one.
MIGRATIONS: dict[int, list[str]] = {
    1: [
        """CREATE TABLE api_tokens (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            role TEXT NOT NULL,
            scope TEXT NOT NULL,
            secret_sha256 TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            revoked_at BIGINT
        )""",
    ],
}
SCHEMA_VERSION = max(MIGRATIONS)


class TokenError(ValueError):
    """A token cannot be created as asked (bad role, scope or name)."""


@dataclass(frozen=True, slots=True)
class TokenInfo:
    id: str
    name: str
    role: Role
    scope: str
    created_at_ms: int
    revoked_at_ms: int | None


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


async def migrate(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "CREATE TABLE IF NOT EXISTS api_tokens_schema (version INTEGER NOT NULL)"
        )
        row = await tx.fetchone("SELECT MAX(version) FROM api_tokens_schema")
        found = int(row[0]) if row and row[0] is not None else 0
        if found > SCHEMA_VERSION:
            raise StoreError(f"api_tokens schema {found} is newer than this hazmon")
        for version in range(found + 1, SCHEMA_VERSION + 1):
            for stmt in MIGRATIONS[version]:
                await tx.execute(db.dialect.ddl(stmt))
            await tx.execute("INSERT INTO api_tokens_schema (version) VALUES (?)", (version,))
            log.info("api tokens: schema migrated to version %d", version)


class TokenStore:
    """`await TokenStore.open(db)` on an open Database (e.g. `alarm_store.db`)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @classmethod
    async def open(cls, db: Database) -> TokenStore:
        await migrate(db)
        return cls(db)

    @classmethod
    async def open_url(cls, url: str) -> TokenStore:
        """Open a database of its own (the CLI); close it with `close()`."""
        return cls(await connect_migrated(url, migrate))

    async def close(self) -> None:
        await self.db.close()

    async def create(self, role: Role | str, scope: str, name: str, now_ms: int
                     ) -> tuple[str, TokenInfo]:
        """A new token: returns the token text (shown once, never stored) and its record."""
        try:
            role = Role(role)
            scope = check_scope(role, scope)
        except (ValueError, ScopeError) as exc:
            raise TokenError(str(exc)) from exc
        name = name.strip()
        if not name or len(name) > 100 or any(ord(c) < 32 for c in name):
            raise TokenError("name must be 1-100 printable characters")
        token_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO api_tokens (id, name, role, scope, secret_sha256, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (token_id, name, role.value, scope, _sha256(secret), now_ms),
            )
        log.info("api token %s created: %s %s %r", token_id, role.value, scope, name)
        return f"{PREFIX}{token_id}_{secret}", TokenInfo(token_id, name, role, scope, now_ms,
                                                         None)

    async def revoke(self, token_id: str, now_ms: int) -> bool:
        async with self.db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                (now_ms, token_id),
            )
        if changed:
            log.info("api token %s revoked", token_id)
        return changed == 1

    async def list(self) -> list[TokenInfo]:
        rows = await self.db.fetchall(
            "SELECT id, name, role, scope, created_at, revoked_at FROM api_tokens"
            " ORDER BY created_at, id"
        )
        return [TokenInfo(r[0], r[1], Role(r[2]), r[3], int(r[4]),
                          None if r[5] is None else int(r[5])) for r in rows]

    async def verify(self, token: str) -> Principal | None:
        """The principal a token stands for, or None (unknown, malformed or revoked)."""
        m = _TOKEN_RE.fullmatch(token)
        if m is None:
            return None
        token_id, secret = m.groups()
        row = await self.db.fetchone(
            "SELECT name, role, scope, secret_sha256, revoked_at FROM api_tokens WHERE id = ?",
            (token_id,),
        )
        if row is None:
            return None
        name, role, scope, digest, revoked = row
        if not hmac.compare_digest(_sha256(secret), str(digest)) or revoked is not None:
            return None
        return Principal(token_id, name, Role(role), scope)
