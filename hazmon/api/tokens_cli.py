"""`hazmon token create|rotate|list|revoke`: API tokens in the alarm database.

    hazmon token create --role city --scope 3209 --name "盐城市应急管理局值班室" [--days 90]
    hazmon token rotate 3f2a9c0d1e4b5a67 [--grace-hours 24]
    hazmon token list
    hazmon token revoke 3f2a9c0d1e4b5a67

The token is printed once, on stdout alone (so `$(hazmon token create ...)` captures
it); only its hash is kept. A rotated token keeps its id; its previous secret works for
the grace period, so clients switch over without downtime. The database is `--db URL`,
else what `default_db(args)` returns; lifetime and grace default to `default_policy(args)`
(the composition root passes ones that read the settings).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hazmon.alerts.errors import StoreError
from hazmon.api.scope import Role
from hazmon.api.tokens import TokenError, TokenInfo, TokenPolicy, TokenStore
from hazmon.core.clock import rfc3339, wall_ms

DefaultDb = Callable[[argparse.Namespace], str | None]
DefaultPolicy = Callable[[argparse.Namespace], TokenPolicy]


def add_token_commands(subparsers: Any, default_db: DefaultDb | None = None,
                       default_policy: DefaultPolicy | None = None) -> None:
    """Add `token` with its sub-commands to an argparse sub-parser collection."""
    token = subparsers.add_parser("token", help="create, rotate, list and revoke API tokens")
    sub = token.add_subparsers(dest="token_command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--db", help="alarm database URL (sqlite:///file or postgresql://...)")
        p.add_argument("--config", type=Path,
                       help="settings YAML for the defaults (else HAZMON_CONFIG)")
        p.set_defaults(_default_db=default_db, _default_policy=default_policy)

    create = sub.add_parser("create", help="issue a token (printed once)")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--scope", required=True,
                        help="province: 2-digit region prefix; city: 4 digits; enterprise: "
                             "its code; simulator: a region prefix")
    create.add_argument("--name", required=True, help="who holds it (shown in alarm history)")
    create.add_argument("--days", type=int,
                        help="lifetime in days (default http.token_lifetime_days, 90)")
    common(create)
    create.set_defaults(func=_cmd_create)

    rotate = sub.add_parser("rotate", help="a new secret for a token (printed once); the "
                                           "previous one stays valid for the grace period")
    rotate.add_argument("id")
    rotate.add_argument("--grace-hours", type=float,
                        help="how long the previous secret stays valid "
                             "(default http.token_rotation_grace_s, 24 h; 0: not at all)")
    rotate.add_argument("--days", type=int, help="lifetime from now in days (default as create)")
    common(rotate)
    rotate.set_defaults(func=_cmd_rotate)

    lst = sub.add_parser("list", help="list tokens (never their secrets)")
    common(lst)
    lst.set_defaults(func=_cmd_list)

    revoke = sub.add_parser("revoke", help="revoke a token by its id")
    revoke.add_argument("id")
    common(revoke)
    revoke.set_defaults(func=_cmd_revoke)


def _db_url(args: argparse.Namespace) -> str | None:
    if args.db:
        return str(args.db)
    fn: DefaultDb | None = getattr(args, "_default_db", None)
    return fn(args) if fn is not None else None


def cli_actor() -> str:
    """Who runs the command, as the audit names them: the operating-system user."""
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no user name (a container without a passwd entry)
        return "cli"


def _policy(args: argparse.Namespace) -> TokenPolicy:
    fn: DefaultPolicy | None = getattr(args, "_default_policy", None)
    return fn(args) if fn is not None else TokenPolicy()


def _run(args: argparse.Namespace, action: Callable[[TokenStore], Any]) -> int:
    url = _db_url(args)
    if not url:
        print("no alarm database: give --db URL", file=sys.stderr)
        return 2

    async def main() -> int:
        store = await TokenStore.open_url(url)
        try:
            code: int = await action(store)
            return code
        finally:
            await store.close()

    try:
        return asyncio.run(main())
    except (StoreError, TokenError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _cmd_create(args: argparse.Namespace) -> int:
    async def action(store: TokenStore) -> int:
        days = args.days if args.days is not None else _policy(args).lifetime_days
        token, info = await store.create(args.role, args.scope, args.name, wall_ms(),
                                         lifetime_days=days, actor=cli_actor())
        print(token)
        print(f"token {info.id}: {info.role.value} {info.scope} {info.name!r}, expires "
              f"{rfc3339(info.expires_at_ms)} (shown once; store it now)", file=sys.stderr)
        return 0

    return _run(args, action)


def _cmd_rotate(args: argparse.Namespace) -> int:
    async def action(store: TokenStore) -> int:
        policy = _policy(args)
        grace_s = (policy.rotation_grace_s if args.grace_hours is None
                   else round(args.grace_hours * 3600))
        days = args.days if args.days is not None else policy.lifetime_days
        token, info = await store.rotate(args.id, wall_ms(), grace_s=grace_s,
                                         lifetime_days=days, actor=cli_actor())
        print(token)
        print(f"token {info.id} rotated: the previous secret works until "
              f"{rfc3339(info.previous_until_ms)}; the new one expires "
              f"{rfc3339(info.expires_at_ms)} (shown once; store it now)", file=sys.stderr)
        return 0

    return _run(args, action)


def _when(ms: int | None, none: str) -> str:
    text = rfc3339(ms)
    return none if text is None else text[:16].replace("T", " ")  # to the minute, UTC


def _line(t: TokenInfo, now_ms: int) -> str:
    return (f"{t.id}  {t.role.value:<10} {t.scope:<18} {t.state(now_ms):<7} "
            f"expires {_when(t.expires_at_ms, 'never'):<16}  "
            f"last used {_when(t.last_used_at_ms, 'never'):<16}  {t.name}")


def _cmd_list(args: argparse.Namespace) -> int:
    async def action(store: TokenStore) -> int:
        now = wall_ms()
        for t in await store.list():
            print(_line(t, now))
        return 0

    return _run(args, action)


def _cmd_revoke(args: argparse.Namespace) -> int:
    async def action(store: TokenStore) -> int:
        if await store.revoke(args.id, wall_ms(), actor=cli_actor()):
            print(f"token {args.id} revoked", file=sys.stderr)
            return 0
        print(f"no active token {args.id}", file=sys.stderr)
        return 1

    return _run(args, action)
