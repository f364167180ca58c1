"""Security events in the audit hash chain: token changes, registry loads with the file's
hash (accepted and refused), the rights table when it changes, a minute's failed sign-ins
and refused actions as one entry, gateway account changes. Never a secret; the chain stays
whole. The service ones run the real Service over real Mosquitto and InfluxDB."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from hazmon.alerts import AlarmStore, audit
from hazmon.alerts.audit import AuditEntry, verify_chain
from hazmon.alerts.sql import Database
from hazmon.api.tally import MinuteTally
from hazmon.service.cli import main
from hazmon.service.security import SecurityAudit
from hazmon.testing.influxdb import InfluxDB
from hazmon.testing.mosquitto import Mosquitto
from tests.clock import MINUTE, T0, FakeClock
from tests.helpers import make_settings, running
from tests.support import ENT, REGISTRY_FILE


async def _security(db: Database) -> list[AuditEntry]:
    return [e for e in await audit.entries(db) if e.alarm_id is None]


@pytest.fixture
async def store(tmp_path: Path) -> Any:
    s = await AlarmStore.open(f"sqlite:///{tmp_path / 'alarms.db'}")
    yield s
    await s.close()


async def test_token_changes_are_in_the_chain_without_secrets(store: AlarmStore) -> None:
    from hazmon.api.tokens import TokenStore

    tokens = await TokenStore.open(store.db)
    token, info = await tokens.create("city", "3209", "值班室", T0, actor="cli:ops")
    new, _ = await tokens.rotate(info.id, T0 + MINUTE, grace_s=600, actor="cli:ops")
    assert await tokens.revoke(info.id, T0 + 2 * MINUTE, actor="cli:ops")
    assert not await tokens.revoke(info.id, T0 + 3 * MINUTE)  # nothing changed: no entry
    got = await _security(store.db)
    assert [(e.action, e.actor, e.ts_ms) for e in got] == [
        ("token.created", "cli:ops", T0), ("token.rotated", "cli:ops", T0 + MINUTE),
        ("token.revoked", "cli:ops", T0 + 2 * MINUTE)]
    assert got[0].payload == {"token_id": info.id, "role": "city", "scope": "3209",
                              "name": "值班室", "expires_at_ms": info.expires_at_ms}
    assert got[1].payload["grace_s"] == 600
    text = str([e.payload for e in got])
    row = await store.db.fetchone("SELECT secret_sha256, previous_sha256 FROM api_tokens")
    assert row is not None
    for secret in (token.split("_", 2)[2], new.split("_", 2)[2], *row):
        assert secret not in text
    assert (await verify_chain(store.db)).ok


async def test_a_minute_of_failures_is_one_entry(store: AlarmStore) -> None:
    clock = FakeClock()
    sign_ins, refusals = MinuteTally(), MinuteTally()
    sec = SecurityAudit(store.db, clock, {"auth.failed": sign_ins,
                                          "rights.refused": refusals})
    for i in range(500):
        sign_ins.record(clock(), f"10.0.{i % 3}.1", "0123456789abcdef", "wrong secret",
                        limited=i >= 10)
    refusals.record(clock(), "10.0.0.9", "fedcba9876543210", "alarm.ack")
    assert await sec.flush() == 0  # the minute is still going
    clock.advance(minutes=1)
    sign_ins.record(clock(), "10.0.0.1", None, "malformed")  # the next minute's
    assert await sec.flush() == 2
    got = await _security(store.db)
    assert [e.action for e in got] == ["auth.failed", "rights.refused"]
    assert got[0].payload == {
        "minute_ms": T0, "count": 500, "rate_limited": 490,
        "addresses": {"10.0.0.1": 167, "10.0.1.1": 167, "10.0.2.1": 166},
        "token_ids": {"0123456789abcdef": 500}, "reasons": {"wrong secret": 500}}
    assert got[1].payload["reasons"] == {"alarm.ack": 1}
    assert await sec.flush(everything=True) == 1  # on the way out: the current minute too
    assert (await verify_chain(store.db)).ok


async def test_a_failed_write_keeps_the_minute(store: AlarmStore, tmp_path: Path) -> None:
    clock = FakeClock()
    tally = MinuteTally()
    other = await AlarmStore.open(f"sqlite:///{tmp_path / 'other.db'}")
    sec = SecurityAudit(other.db, clock, {"auth.failed": tally})
    tally.record(clock(), "10.0.0.1", None, "missing")
    await other.close()  # the database goes away
    clock.advance(minutes=1)
    with pytest.raises(ValueError, match="no active connection"):  # aiosqlite, closed
        await sec.flush()
    sec.db = store.db
    assert await sec.flush() == 1
    assert (await _security(store.db))[0].payload["count"] == 1


async def test_the_rights_table_is_recorded_when_it_changes(store: AlarmStore) -> None:
    from hazmon.api.rights import Action, Rights
    from hazmon.api.scope import Role

    sec = SecurityAudit(store.db, FakeClock(), {})
    assert await sec.rights(Rights().table())
    assert not await sec.rights(Rights().table())  # a restart with the same settings
    changed = Rights({Action.ALARM_ACK: frozenset({Role.ENTERPRISE, Role.COUNTY})})
    assert await sec.rights(changed.table())
    first, second = await _security(store.db)
    assert first.payload["changed"] is None  # the first one recorded
    assert first.payload["table"]["alarm.ack"] == ["enterprise", "simulator"]
    assert second.payload["changed"] == ["alarm.ack"]
    assert second.payload["table"]["alarm.ack"] == ["county", "enterprise"]


async def test_the_service_records_registry_loads_and_failed_sign_ins(
        tmp_path: Path, mosquitto: Mosquitto, influxdb: InfluxDB, unique: str) -> None:
    registry = tmp_path / "registry.yaml"
    shutil.copy(REGISTRY_FILE, registry)
    settings = make_settings(tmp_path, mosquitto.port, influxdb.url, unique, registry=registry)
    async with running(settings) as svc:
        good = hashlib.sha256(registry.read_bytes()).hexdigest()
        registry.write_text(registry.read_text(encoding="utf-8") + "\nenterprises: [oops\n",
                            encoding="utf-8")
        bad = hashlib.sha256(registry.read_bytes()).hexdigest()
        assert not await svc.reload_registry()
        shutil.copy(REGISTRY_FILE, registry)
        assert await svc.reload_registry()
        # failed sign-ins over HTTP: summarised when the service stops
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{svc.http_port}") as http:
            for _ in range(3):
                r = await http.get("/api/v1/alarms", headers={
                    "Authorization": "Bearer hzm_0123456789abcdef_" + "x" * 43})
                assert r.status_code == 401
        db_url = settings.alarm_db_url
    async with AlarmStore(await _connect(db_url)) as store:
        got = await _security(store.db)
        assert (await verify_chain(store.db)).ok
    actions = [e.action for e in got]
    assert actions == ["registry.loaded", "rights.changed", "config.loaded",
                       "registry.refused", "registry.loaded", "auth.failed"]
    start, _, config, refused, reloaded, failed = got
    duties_file = settings.duties.config
    assert config.payload["duties"] == {
        "file": str(duties_file), "sha256": hashlib.sha256(duties_file.read_bytes()).hexdigest()}
    assert config.payload["warning_policy"] == {"file": None, "builtin": True}
    assert (start.payload["sha256"], start.payload["when"]) == (good, "start")
    assert start.payload["enterprises"] == 2
    assert (refused.payload["sha256"], refused.payload["when"]) == (bad, "reload")
    assert refused.payload["error_count"] >= 1
    assert reloaded.payload["sha256"] == good
    assert failed.payload["count"] == 3
    assert failed.payload["token_ids"] == {"0123456789abcdef": 3}
    assert failed.payload["reasons"] == {"unknown id": 3}
    assert "x" * 43 not in str(failed.payload)
    assert {e.actor for e in got} == {"hazmon"}


async def _connect(url: str) -> Database:
    from hazmon.alerts.sql import connect

    return await connect(url)


def test_gateway_account_changes_are_recorded(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HAZMON_CONFIG", raising=False)  # load_settings sets it
    config = tmp_path / "hazmon.yaml"
    config.write_text(yaml.safe_dump({"registry": str(REGISTRY_FILE),
                                      "data_dir": str(tmp_path / "data")}))
    files = ["--passwd", str(tmp_path / "passwd"), "--acl", str(tmp_path / "acl"),
             "--config", str(config)]
    assert main(["gateway", "add", ENT, "--iterations", "1000", *files]) == 0
    password = capsys.readouterr().out.strip()
    assert main(["gateway", "rotate", ENT, "--iterations", "1000", *files]) == 0
    assert main(["gateway", "revoke", ENT, *files]) == 0
    # without settings there is no alarm database to record in: said, not failed
    monkeypatch.delenv("HAZMON_CONFIG")
    assert main(["gateway", "add", ENT, "--iterations", "1000", "--registry",
                 str(REGISTRY_FILE), "--passwd", str(tmp_path / "p2"), "--acl",
                 str(tmp_path / "a2")]) == 0
    assert "not recorded in the audit" in capsys.readouterr().err

    import asyncio

    async def read() -> list[AuditEntry]:
        store = await AlarmStore.open(f"sqlite:///{tmp_path / 'data' / 'alarms.db'}")
        try:
            return await _security(store.db)
        finally:
            await store.close()

    got = asyncio.run(read())
    assert [e.action for e in got] == ["gateway.added", "gateway.rotated", "gateway.revoked"]
    assert got[0].payload["enterprise"] == ENT
    assert got[0].payload["region"] == "320921"
    assert all(e.actor.startswith("cli") for e in got)
    assert password not in str([e.payload for e in got])
