"""The example files in deploy/ that the README tells a site to start from are valid."""

from __future__ import annotations

from pathlib import Path

import pytest

from hazmon.domain.registry import load_registry
from hazmon.service.cli import main

DEPLOY = Path(__file__).parents[1] / "deploy"
REGISTRY_EXAMPLE = DEPLOY / "registry.example.yaml"


def test_check_registry_accepts_the_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-registry", str(REGISTRY_EXAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "1 enterprises, 2 hazard sources, 10 sensors" in out
    assert "warning" not in out  # the declared tier agrees with the grading
    assert "MHS-01 罐区一: tier 3" in out
    assert "MHS-02 合成氨装置: tier 2" in out


def test_example_is_a_real_plant_not_a_simulated_one() -> None:
    registry = load_registry(REGISTRY_EXAMPLE)
    assert not any(e.simulated for e in registry.enterprises.values())
    # gas detectors left without limits get the GB/T 50493 defaults at load
    gd = registry.sensor("91320921MA1XXXXX0Q", "MHS-01.GD01")
    assert gd is not None
    assert gd.limits is not None
    assert gd.limits_basis.startswith("GB 50493-2019")


def test_gateway_accounts_script_adds_each_enterprise_once(tmp_path: Path) -> None:
    import shutil
    import subprocess
    import sys

    script = DEPLOY.parent / "scripts" / "gateway-accounts.sh"
    passwd = tmp_path / "hazmon.passwd"
    passwd.write_text("hazmon-ingest:$7$101$kept\n", encoding="utf-8")
    acl = tmp_path / "hazmon.acl"
    shutil.copy(DEPLOY / "hazmon.acl", acl)

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(["bash", str(script), str(REGISTRY_EXAMPLE), str(passwd), str(acl)],
                              capture_output=True, text=True, check=True,
                              env={"PATH": "/usr/bin:/bin", "HAZMON_PYTHON": sys.executable})

    first = run()
    code, password = first.stdout.split()
    assert code == "91320921MA1XXXXX0Q"
    assert len(password) >= 20
    lines = passwd.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "hazmon-ingest:$7$101$kept"  # existing accounts are left alone
    assert lines[1].startswith(f"{code}:$7$")  # stored hashed, never in clear
    assert password not in lines[1]
    # the gateway may write its own topics in its own region, and nothing else
    assert f"user {code}\ntopic write hazmon/v1/320921/{code}/telemetry" in acl.read_text()
    again = run()
    assert again.stdout == ""
    assert "0 new account(s)" in again.stderr
    assert len(passwd.read_text(encoding="utf-8").splitlines()) == 2


def test_notify_example_is_valid_and_every_channel_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio
    from typing import Any

    import httpx
    import yaml

    from hazmon.alerts.notify import ChannelDeps, build_channel
    from hazmon.alerts.settings import AlarmSettings

    doc = yaml.safe_load((DEPLOY / "notify.example.yaml").read_text(encoding="utf-8"))
    # the secrets it names, provided as a site would: variables set, files here
    for channel in doc["alarms"]["notify"]["channels"]:
        for value in channel.values():
            if isinstance(value, dict) and "env" in value:
                monkeypatch.setenv(value["env"], f"example-{value['env']}")
            elif isinstance(value, dict) and "file" in value:
                local = tmp_path / Path(value["file"]).name
                local.write_text("example-file-secret\n", encoding="utf-8")
                value["file"] = str(local)
    notify = AlarmSettings.model_validate(doc["alarms"]).notify
    assert notify is not None
    assert {c.type for c in notify.channels} >= {"sms", "wecom", "dingtalk"}

    async def build() -> list[Any]:
        async with httpx.AsyncClient() as http:
            deps = ChannelDeps(http, lambda: 0.0)
            return [build_channel(c, deps).type for c in notify.channels]

    assert asyncio.run(build()) == [c.type for c in notify.channels]
