"""`hazmon token create|list|revoke`: API tokens in the alarm database.

    hazmon token create --role city --scope 3209 --name "盐城市应急管理局值班室"
    hazmon token list
    hazmon token revoke 3f2a9c0d1e4b5a67

The token is printed once, on stdout alone (so `$(hazmon token create ...)` captures
it); only its hash is kept. The database is `--db URL`, else what `default_db(args)`
returns (the composition root passes one that reads the settings).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hazmon.alerts.errors import StoreError
from hazmon.api.scope import Role
from hazmon.api.tokens import TokenError, TokenStore
from hazmon.core.clock import wall_ms

DefaultDb = Callable[[argparse.Namespace], str | None]


def add_token_commands(subparsers: Any, default_db: DefaultDb | None = None) -> None:
    """Add `token` with its sub-commands to an argparse sub-parser collection."""
    token = subparsers.add_parser("token", help="create, list and revoke API tokens")
    sub = token.add_subparsers(dest="token_command", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--db", help="alarm database URL (sqlite:///file or postgresql://...)")
        p.add_argument("--config", type=Path,
                       help="settings YAML for default_db (else HAZMON_CONFIG)")
        p.set_defaults(_default_db=default_db)

    create = sub.add_parser("create", help="issue a token (printed once)")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--scope", required=True,
                        help="province: 2-digit region prefix; city: 4 digits; enterprise: "
                             "its code; simulator: a region prefix")
    create.add_argument("--name", required=True, help="who holds it (shown in alarm history)")
    common(create)
    create.set_defaults(func=_cmd_create)

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
        token, info = await store.create(args.role, args.scope, args.name, wall_ms())
        print(token)
        print(f"token {info.id}: {info.role.value} {info.scope} {info.name!r} "
              "(shown once; store it now)", file=sys.stderr)
        return 0

    return _run(args, action)


def _cmd_list(args: argparse.Namespace) -> int:
    async def action(store: TokenStore) -> int:
        for t in await store.list():
            state = "revoked" if t.revoked_at_ms is not None else "active"
            print(f"{t.id}  {t.role.value:<10} {t.scope:<18} {state:<7} {t.name}")
        return 0

    return _run(args, action)


def _cmd_revoke(args: argparse.Namespace) -> int:
    async def action(store: TokenStore) -> int:
        if await store.revoke(args.id, wall_ms()):
            print(f"token {args.id} revoked", file=sys.stderr)
            return 0
        print(f"no active token {args.id}", file=sys.stderr)
        return 1

    return _run(args, action)
