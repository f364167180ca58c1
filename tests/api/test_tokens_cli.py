"""`hazmon token create|list|revoke` through add_token_commands."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import pytest

from hazmon.api.scope import Principal, Role
from hazmon.api.tokens import TokenStore
from hazmon.api.tokens_cli import add_token_commands


def run(argv: list[str], default_db: str | None = None) -> int:
    parser = argparse.ArgumentParser(prog="hazmon")
    sub = parser.add_subparsers(dest="command", required=True)
    add_token_commands(sub, (lambda _args: default_db) if default_db else None)
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


def verify(url: str, token: str) -> Principal | None:
    async def main() -> Principal | None:
        store = await TokenStore.open_url(url)
        try:
            return await store.verify(token)
        finally:
            await store.close()

    return asyncio.run(main())


def test_create_list_revoke(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'alarms.db'}"
    assert run(["token", "create", "--role", "city", "--scope", "3209",
                "--name", "盐城市应急管理局值班室", "--db", url]) == 0
    out, err = capsys.readouterr()
    token = out.strip()
    assert token.startswith("hzm_")
    assert "\n" not in token
    assert "shown once" in err
    p = verify(url, token)
    assert p is not None
    assert p.role is Role.CITY
    assert p.scope == "3209"
    assert p.actor == "city:盐城市应急管理局值班室"

    assert run(["token", "list"], default_db=url) == 0
    out, _ = capsys.readouterr()
    token_id = token.split("_")[1]
    assert token_id in out
    assert "active" in out
    assert token.split("_", 2)[2] not in out

    assert run(["token", "revoke", token_id, "--db", url]) == 0
    assert verify(url, token) is None
    assert run(["token", "revoke", token_id, "--db", url]) == 1


def test_bad_input_and_missing_db(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'alarms.db'}"
    assert run(["token", "create", "--role", "city", "--scope", "32", "--name", "x",
                "--db", url]) == 2
    assert "4-digit" in capsys.readouterr().err
    assert run(["token", "list"]) == 2
    assert "--db" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run(["token", "create", "--role", "mayor", "--scope", "32", "--name", "x"])
