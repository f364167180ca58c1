"""`hazmon audit verify --db URL` through argparse, as the CLI wires it."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import pytest

from hazmon.alerts import AlarmService, AlarmStore
from hazmon.alerts.audit_cli import add_audit_commands
from tests.alerts.support import make_signal


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="hazmon")
    add_audit_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


async def chain(service: AlarmService) -> None:
    a = await service.handle_signal(make_signal())
    assert a is not None
    await service.ack(a.id, "user:li", "处理中")
    await service.comment(a.id, "user:li", "已通知现场")


def test_verify_ok_and_broken(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                              make_service: Callable[..., AlarmService]) -> None:
    import asyncio

    url = f"sqlite:///{tmp_path / 'alarms.db'}"

    async def build() -> str:
        async with await AlarmStore.open(url) as store:
            await chain(make_service(store))
            row = await store.db.fetchone("SELECT hash FROM audit_log WHERE seq = 3")
            assert row is not None
            return str(row[0])

    head = asyncio.run(build())
    assert run(["audit", "verify", "--db", url]) == 0
    out = capsys.readouterr().out
    assert out.startswith("OK: 3 entries, head seq 3")
    assert head in out

    async def tamper() -> None:
        async with await AlarmStore.open(url) as store, store.db.transaction() as tx:
            await tx.execute("UPDATE audit_log SET actor = 'user:wang' WHERE seq = 2")

    asyncio.run(tamper())
    assert run(["audit", "verify", "--db", url]) == 1
    out = capsys.readouterr().out
    assert out.startswith("BROKEN at seq 2: hash mismatch")


def test_missing_database_is_an_error(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'nope.db'}"
    assert run(["audit", "verify", "--db", url]) == 2
    assert "no such file" in capsys.readouterr().err
    assert not (tmp_path / "nope.db").exists()


def test_verify_needs_db() -> None:
    with pytest.raises(SystemExit):
        run(["audit", "verify"])


