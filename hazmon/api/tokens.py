"""API bearer tokens, kept hashed in the alarm database (table `api_tokens`).

A token reads `hzm_<id>_<secret>`: the id finds the row, the secret (32 random bytes) is
checked against its SHA-256 with a constant-time compare. Only the hash is stored, so a
copy of the database does not let anyone in; a plain hash is enough because the secret
is high-entropy (nothing to brute-force as with passwords).

Lifetime: a token expires (`expires_at`, by default 90 days after it is issued; tokens
made before expiry existed have none until rotated). `rotate` gives the same token id a new
secret and keeps the previous one valid for a grace period (default 24 h), so a client can
be switched over without a moment in which neither works. Revocation ends both at once.

Creating, rotating and revoking a token is recorded in the audit chain, in the same
transaction (`token.created`, `token.rotated`, `token.revoked`; never a secret or its hash).

Every request reads its token's row (one primary-key lookup on the shared database): a
revocation or rotation on any instance holds on the next request everywhere, which a
cache could only promise after its lifetime. The last-used time is written at most once
a minute per token (the row's own value is the guard, so several instances do not each
write it either), never on every request.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from enum import StrEnum

from hazmon.alerts import audit
from hazmon.alerts.sql import Database, connect_migrated, migrate_schema
from hazmon.alerts.store import migrate as migrate_alarm_store
from hazmon.api.scope import Principal, Role, ScopeError, check_scope
from hazmon.core.clock import wall_ms

log = logging.getLogger(__name__)

PREFIX = "hzm_"
_TOKEN_RE = re.compile(r"hzm_([0-9a-f]{16})_([A-Za-z0-9_-]{43})")
_ID_RE = re.compile(r"hzm_([0-9a-f]{16})_.*", re.DOTALL)

DAY_MS = 86_400_000
DEFAULT_LIFETIME_DAYS = 90
MAX_LIFETIME_DAYS = 3650
DEFAULT_GRACE_S = 24 * 3600
MAX_GRACE_S = 30 * 86_400
LAST_USED_EVERY_MS = 60_000

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
    2: [  # expiry, rotation with a grace period, last use
        "ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT",
        "ALTER TABLE api_tokens ADD COLUMN rotated_at BIGINT",
        "ALTER TABLE api_tokens ADD COLUMN previous_sha256 TEXT",
        "ALTER TABLE api_tokens ADD COLUMN previous_until BIGINT",
        "ALTER TABLE api_tokens ADD COLUMN last_used_at BIGINT",
    ],
}
SCHEMA_VERSION = max(MIGRATIONS)


@dataclass(frozen=True, slots=True)
class TokenPolicy:
    """A site's defaults for new and rotated tokens (http settings)."""

    lifetime_days: int = DEFAULT_LIFETIME_DAYS
    rotation_grace_s: int = DEFAULT_GRACE_S


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
    expires_at_ms: int | None = None  # None: made before expiry existed, until rotated
    rotated_at_ms: int | None = None
    previous_until_ms: int | None = None  # the previous secret is valid until then
    last_used_at_ms: int | None = None  # to within a minute

    def state(self, now_ms: int) -> str:
        if self.revoked_at_ms is not None:
            return "revoked"
        if self.expires_at_ms is not None and self.expires_at_ms <= now_ms:
            return "expired"
        return "active"


class Refusal(StrEnum):
    """Why a presented token was not accepted (logged; never the secret)."""

    MALFORMED = "malformed"
    UNKNOWN = "unknown id"
    WRONG_SECRET = "wrong secret"
    REVOKED = "revoked"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Refused:
    reason: Refusal
    token_id: str | None  # the id the token named, when it named one


def token_id_of(token: str) -> str | None:
    """The id a presented token names (even a wrong one), for limits and logs."""
    m = _ID_RE.fullmatch(token)
    return m.group(1) if m else None


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


async def migrate(db: Database) -> None:
    await migrate_schema(db, "api_tokens_schema", MIGRATIONS, "api_tokens")


class TokenStore:
    """`await TokenStore.open(db)` on an open Database (e.g. `alarm_store.db`)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    @classmethod
    async def open(cls, db: Database) -> TokenStore:
        await migrate(db)
        store = cls(db)
        await store._warn_unexpiring()
        return store

    async def _warn_unexpiring(self) -> None:
        row = await self.db.fetchone(
            "SELECT COUNT(*) FROM api_tokens WHERE revoked_at IS NULL AND expires_at IS NULL")
        if row and int(row[0]):
            log.warning("%d active API token(s) made before expiry existed never expire: "
                        "rotate them (hazmon token rotate ID) or revoke them", int(row[0]))

    @classmethod
    async def open_url(cls, url: str) -> TokenStore:
        """Open a database of its own (the CLI); close it with `close()`. The alarm
        store's schema comes too: the audit chain lives there."""

        async def both(db: Database) -> None:
            await migrate_alarm_store(db)
            await migrate(db)

        return cls(await connect_migrated(url, both))

    async def close(self) -> None:
        await self.db.close()

    async def create(self, role: Role | str, scope: str, name: str, now_ms: int, *,
                     lifetime_days: int = DEFAULT_LIFETIME_DAYS, actor: str = "system"
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
        expires = now_ms + _lifetime_ms(lifetime_days)
        token_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO api_tokens (id, name, role, scope, secret_sha256, created_at,"
                " expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (token_id, name, role.value, scope, _sha256(secret), now_ms, expires),
            )
            await audit.append(tx, ts_ms=now_ms, actor=actor, action="token.created",
                               alarm_id=None, payload={
                                   "token_id": token_id, "role": role.value, "scope": scope,
                                   "name": name, "expires_at_ms": expires})
        log.info("api token %s created: %s %s %r, expires in %d days", token_id, role.value,
                 scope, name, lifetime_days)
        return f"{PREFIX}{token_id}_{secret}", TokenInfo(token_id, name, role, scope, now_ms,
                                                         None, expires)

    async def rotate(self, token_id: str, now_ms: int, *, grace_s: int = DEFAULT_GRACE_S,
                     lifetime_days: int = DEFAULT_LIFETIME_DAYS, actor: str = "system"
                     ) -> tuple[str, TokenInfo]:
        """A new secret for an active token; the current one stays valid for `grace_s`
        (0: not at all). The expiry starts again from now. TokenError if there is no
        active token `token_id`."""
        if not 0 <= grace_s <= MAX_GRACE_S:
            raise TokenError(f"grace must be 0 to {MAX_GRACE_S} seconds")
        expires = now_ms + _lifetime_ms(lifetime_days)
        secret = secrets.token_urlsafe(32)
        async with self.db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE api_tokens SET previous_sha256 = secret_sha256, previous_until = ?,"
                " secret_sha256 = ?, rotated_at = ?, expires_at = ?"
                " WHERE id = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)",
                (now_ms + grace_s * 1000, _sha256(secret), now_ms, expires, token_id, now_ms),
            )
            if changed == 1:
                await audit.append(tx, ts_ms=now_ms, actor=actor, action="token.rotated",
                                   alarm_id=None, payload={
                                       "token_id": token_id, "grace_s": grace_s,
                                       "expires_at_ms": expires})
        if changed != 1:
            raise TokenError(f"no active token {token_id}")
        info = await self.get(token_id)
        assert info is not None
        log.info("api token %s rotated: the previous secret is valid for %d s more",
                 token_id, grace_s)
        return f"{PREFIX}{token_id}_{secret}", info

    async def revoke(self, token_id: str, now_ms: int, *, actor: str = "system") -> bool:
        async with self.db.transaction() as tx:
            changed = await tx.execute(
                "UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                (now_ms, token_id),
            )
            if changed == 1:
                await audit.append(tx, ts_ms=now_ms, actor=actor, action="token.revoked",
                                   alarm_id=None, payload={"token_id": token_id})
        if changed:
            log.info("api token %s revoked", token_id)
        return changed == 1

    _COLUMNS = ("id, name, role, scope, created_at, revoked_at, expires_at, rotated_at,"
                " previous_until, last_used_at")

    @staticmethod
    def _info(r: tuple[object, ...]) -> TokenInfo:
        def ms(v: object) -> int | None:
            return None if v is None else int(str(v))

        return TokenInfo(str(r[0]), str(r[1]), Role(str(r[2])), str(r[3]), int(str(r[4])),
                         ms(r[5]), ms(r[6]), ms(r[7]), ms(r[8]), ms(r[9]))

    async def list(self) -> list[TokenInfo]:
        rows = await self.db.fetchall(
            f"SELECT {self._COLUMNS} FROM api_tokens ORDER BY created_at, id")
        return [self._info(r) for r in rows]

    async def get(self, token_id: str) -> TokenInfo | None:
        row = await self.db.fetchone(f"SELECT {self._COLUMNS} FROM api_tokens WHERE id = ?",
                                     (token_id,))
        return None if row is None else self._info(row)

    async def check(self, token: str, now_ms: int) -> Principal | Refused:
        """The principal a token stands for, or why not. A success notes the last use
        (at most once a minute per token)."""
        m = _TOKEN_RE.fullmatch(token)
        if m is None:
            return Refused(Refusal.MALFORMED, token_id_of(token))
        token_id, secret = m.groups()
        row = await self.db.fetchone(
            "SELECT name, role, scope, secret_sha256, revoked_at, expires_at,"
            " previous_sha256, previous_until, last_used_at FROM api_tokens WHERE id = ?",
            (token_id,),
        )
        if row is None:
            return Refused(Refusal.UNKNOWN, token_id)
        name, role, scope, digest, revoked, expires, previous, previous_until, used = row
        presented = _sha256(secret)
        current = hmac.compare_digest(presented, str(digest))
        # the previous secret of a rotation, during its grace period only
        earlier = (previous is not None and previous_until is not None
                   and int(previous_until) > now_ms
                   and hmac.compare_digest(presented, str(previous)))
        if not (current or earlier):
            return Refused(Refusal.WRONG_SECRET, token_id)
        if revoked is not None:
            return Refused(Refusal.REVOKED, token_id)
        if expires is not None and int(expires) <= now_ms:
            return Refused(Refusal.EXPIRED, token_id)
        if used is None or int(used) <= now_ms - LAST_USED_EVERY_MS:
            await self._note_use(token_id, now_ms)
        return Principal(token_id, name, Role(role), scope)

    async def _note_use(self, token_id: str, now_ms: int) -> None:
        # the condition repeats the guard: of several instances, one writes per minute
        async with self.db.transaction() as tx:
            await tx.execute(
                "UPDATE api_tokens SET last_used_at = ? WHERE id = ?"
                " AND (last_used_at IS NULL OR last_used_at <= ?)",
                (now_ms, token_id, now_ms - LAST_USED_EVERY_MS),
            )

    async def verify(self, token: str, now_ms: int | None = None) -> Principal | None:
        """The principal a token stands for, or None (unknown, malformed, wrong, revoked
        or expired)."""
        got = await self.check(token, wall_ms() if now_ms is None else now_ms)
        return got if isinstance(got, Principal) else None


def _lifetime_ms(days: int) -> int:
    if not 1 <= days <= MAX_LIFETIME_DAYS:
        raise TokenError(f"a token lives 1 to {MAX_LIFETIME_DAYS} days")
    return days * DAY_MS
