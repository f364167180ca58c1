"""`hazmon token create|list|revoke` through add_token_commands."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import pytest

from hazmon.api.scope import Principal, Role
from hazmon.api.settings import HttpSettings
from hazmon.api.tokens import DAY_MS, TokenInfo, TokenStore
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


def test_days_rotate_and_last_used_in_the_list(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'alarms.db'}"
    assert run(["token", "create", "--role", "province", "--scope", "32", "--name", "省厅",
                "--days", "7", "--db", url]) == 0
    out, err = capsys.readouterr()
    old = out.strip()
    token_id = old.split("_")[1]
    assert "expires 20" in err
    assert run(["token", "list", "--db", url]) == 0
    line = capsys.readouterr().out
    assert "last used never" in line
    expires = line.split("expires ")[1][:16]
    assert verify(url, old) is not None  # a use, noted in the list
    assert run(["token", "list", "--db", url]) == 0
    line = capsys.readouterr().out
    assert "last used never" not in line
    assert line.split("expires ")[1][:16] == expires

    assert run(["token", "rotate", token_id, "--grace-hours", "1", "--db", url]) == 0
    out, err = capsys.readouterr()
    new = out.strip()
    assert new.startswith(f"hzm_{token_id}_")
    assert new != old
    assert "previous secret works until" in err
    assert verify(url, old) is not None  # in its grace period
    assert verify(url, new) is not None
    assert run(["token", "rotate", token_id, "--grace-hours", "0", "--db", url]) == 0
    newest = capsys.readouterr().out.strip()
    assert verify(url, new) is None
    assert verify(url, newest) is not None
    assert run(["token", "revoke", token_id, "--db", url]) == 0
    assert run(["token", "rotate", token_id, "--db", url]) == 2
    assert "no active token" in capsys.readouterr().err
    assert run(["token", "list", "--db", url]) == 0
    assert " revoked " in capsys.readouterr().out


def test_lifetime_and_grace_default_to_the_settings(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'alarms.db'}"
    policy = HttpSettings.model_validate(
        {"token_lifetime_days": 3, "token_rotation_grace_s": 600}).token_policy()
    parser = argparse.ArgumentParser(prog="hazmon")
    sub = parser.add_subparsers(dest="command", required=True)
    add_token_commands(sub, lambda _a: url, lambda _a: policy)

    def cli(*argv: str) -> str:
        args = parser.parse_args(list(argv))
        assert args.func(args) == 0
        return capsys.readouterr().out.strip()

    token_id = cli("token", "create", "--role", "city", "--scope", "3209",
                   "--name", "x").split("_")[1]
    cli("token", "rotate", token_id)

    async def info() -> TokenInfo | None:
        store = await TokenStore.open_url(url)
        try:
            return await store.get(token_id)
        finally:
            await store.close()

    got = asyncio.run(info())
    assert got is not None
    assert got.rotated_at_ms is not None
    assert got.expires_at_ms is not None
    assert got.expires_at_ms - got.rotated_at_ms == 3 * DAY_MS
    assert got.previous_until_ms == got.rotated_at_ms + 600_000
