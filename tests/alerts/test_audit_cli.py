"""`hazmon audit verify [--db URL]` through argparse, as the CLI wires it, and through
`hazmon` itself, where the database defaults to the one the settings name."""

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


def test_verify_without_a_database_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["audit", "verify"]) == 2
    assert "give --db URL" in capsys.readouterr().err


def test_verify_defaults_to_the_configured_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    make_service: Callable[..., AlarmService],
) -> None:
    import asyncio

    from hazmon.service.cli import main

    data = tmp_path / "data"
    data.mkdir()
    config = tmp_path / "hazmon.yaml"
    config.write_text(f"data_dir: {data}\n", encoding="utf-8")

    async def build() -> None:
        async with await AlarmStore.open(f"sqlite:///{data / 'alarms.db'}") as store:
            await chain(make_service(store))

    asyncio.run(build())
    # load_settings sets HAZMON_CONFIG from --config: monkeypatch restores it afterwards
    monkeypatch.setenv("HAZMON_CONFIG", str(tmp_path / "absent.yaml"))
    assert main(["audit", "verify", "--config", str(config)]) == 0
    assert capsys.readouterr().out.startswith("OK: 3 entries, head seq 3")
    # without --config, HAZMON_CONFIG names the settings, as for `hazmon run`
    monkeypatch.setenv("HAZMON_CONFIG", str(config))
    assert main(["audit", "verify"]) == 0
    assert capsys.readouterr().out.startswith("OK: 3 entries")
    # an empty data directory has no alarm database: an error, and nothing created
    empty = tmp_path / "empty"
    empty.mkdir()
    config.write_text(f"data_dir: {empty}\n", encoding="utf-8")
    assert main(["audit", "verify"]) == 2
    assert not (empty / "alarms.db").exists()


def test_list_filters_by_action_and_alarm(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          make_service: Callable[..., AlarmService]) -> None:
    import asyncio
    import json

    from hazmon.alerts import audit

    url = f"sqlite:///{tmp_path / 'alarms.db'}"

    async def build() -> str:
        async with await AlarmStore.open(url) as store:
            await chain(make_service(store))
            await audit.record(store.db, ts_ms=1_795_312_800_000, actor="cli:ops",
                               action="token.created", payload={"token_id": "0123456789abcdef"})
            row = await store.db.fetchone("SELECT alarm_id FROM audit_log WHERE seq = 1")
            assert row is not None
            return str(row[0])

    alarm_id = asyncio.run(build())
    assert run(["audit", "list", "--db", url, "--action", "token."]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    entry = json.loads(line)
    assert (entry["seq"], entry["action"], entry["actor"]) == (4, "token.created", "cli:ops")
    assert entry["ts"] == "2026-11-22T02:00:00Z"
    assert entry["payload"] == {"token_id": "0123456789abcdef"}
    assert run(["audit", "list", "--db", url, "--alarm", alarm_id]) == 0
    assert [json.loads(x)["seq"] for x in capsys.readouterr().out.splitlines()] == [1, 2, 3]
    assert run(["audit", "list", "--db", url, "--after", "2", "--limit", "1"]) == 0
    assert [json.loads(x)["seq"] for x in capsys.readouterr().out.splitlines()] == [3]
    assert run(["audit", "list", "--db", f"sqlite:///{tmp_path / 'none.db'}"]) == 2
