"""Simulators against a broker configured as a site's (deploy/mosquitto.conf): no anonymous
access, a password file made by mosquitto_passwd, the site ACL of deploy/hazmon.acl and each
gateway's own ACL lines."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from hazmon.ingest.accounts.acl import gateway_lines
from hazmon.simulators.cli import (
    SimulatorError,
    add_simulator_commands,
    main,
    read_password_file,
)
from hazmon.simulators.recording import read_recording
from hazmon.simulators.registry_gen import GeneratedRegistry, generate_registry
from hazmon.testing.mosquitto import Mosquitto
from hazmon.testing.process import ServerStartError

ACL = Path(__file__).parents[2] / "deploy" / "hazmon.acl"
INGEST_PASSWORD = "ingest-Secret-2"


def gateway_password(code: str) -> str:
    return f"gw:{code[-4:]} secret"  # one per gateway, with a colon and a space in it


@pytest.fixture(scope="module")
def plants() -> GeneratedRegistry:
    return generate_registry(2, seed=11)


@pytest.fixture(scope="module")
def site_broker(tmp_path_factory: pytest.TempPathFactory, plants: GeneratedRegistry
                ) -> Iterator[Mosquitto]:
    users = {code: gateway_password(code) for code in plants.simulated}
    users["hazmon-ingest"] = INGEST_PASSWORD
    # the site ACL with each gateway's own lines, as `hazmon gateway add` writes them
    acl = ACL.read_text(encoding="utf-8") + "".join(
        "\n".join(gateway_lines(e["code"], e["region"])) + "\n"
        for e in plants.data["enterprises"])
    try:
        with Mosquitto(tmp_path_factory.mktemp("site-mq"), users=users, acl=acl) as mq:
            yield mq
    except ServerStartError as exc:
        pytest.skip(f"no mosquitto: {exc}")


def test_credentials_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import argparse

    monkeypatch.setenv("HAZMON_SIM_USERNAME", "{enterprise}")
    monkeypatch.setenv("HAZMON_SIM_PASSWORD", "from-env")
    p = argparse.ArgumentParser(prog="hazmon")
    add_simulator_commands(p.add_subparsers(dest="command", required=True))
    for argv in (["simulate"], ["record", "f.gz"], ["replay", "f.gz"]):
        args = p.parse_args(argv)
        assert (args.username, args.password) == ("{enterprise}", "from-env")
    args = p.parse_args(["replay", "f.gz", "--username", "drill", "--password", "x"])
    assert (args.username, args.password) == ("drill", "x")


def test_password_file(tmp_path: Path) -> None:
    f = tmp_path / "gateways.txt"
    f.write_text("# handed over 2026-12-01\n91320921MA1XXXXX0Q  a:b c\n\n"
                 "91320902MA2YYYYY1R:x y\n", encoding="utf-8")
    assert read_password_file(f) == {"91320921MA1XXXXX0Q": "a:b c",
                                     "91320902MA2YYYYY1R": "x y"}
    f.write_text("91320921MA1XXXXX0Q\n", encoding="utf-8")
    with pytest.raises(SimulatorError, match=r"gateways\.txt:1"):
        read_password_file(f)


def test_one_account_per_gateway_cannot_record(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["simulate", "--username", "{enterprise}", "--record", "x.jsonl.gz",
                 "--broker", "127.0.0.1:1"])
    assert code == 2
    assert "hazmon record" in capsys.readouterr().err
    assert main(["replay", "x.jsonl.gz", "--username", "{enterprise}"]) == 2


@pytest.mark.integration
def test_each_gateway_logs_in_as_its_enterprise(
    site_broker: Mosquitto, plants: GeneratedRegistry, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    broker = f"{site_broker.host}:{site_broker.port}"
    registry = tmp_path / "registry.yaml"
    registry.write_text(plants.yaml_text, encoding="utf-8")
    first, second = sorted(plants.simulated)
    # the first gateway's password from a file, the second's from the environment
    passwords = tmp_path / "gateways.txt"
    passwords.write_text(f"{first} {gateway_password(first)}\n", encoding="utf-8")
    monkeypatch.setenv("HAZMON_SIM_PASSWORD", gateway_password(second))
    assert main(["simulate", "--registry", str(registry), "--duration", "5", "--speed",
                 "max", "--broker", broker, "--username", "{enterprise}", "--password-file",
                 str(passwords), "--quiet"]) == 0
    # The broker keeps a retained status only when the ACL let that gateway write it: the
    # ingest account reads back each gateway's own offline status.
    out = tmp_path / "status.jsonl.gz"
    monkeypatch.setenv("HAZMON_SIM_PASSWORD", INGEST_PASSWORD)
    assert main(["record", str(out), "--broker", broker, "--username", "hazmon-ingest",
                 "--topic", "hazmon/v1/+/+/status", "--max-messages", "2",
                 "--duration", "30"]) == 0
    statuses = {r.topic.split("/")[3]: json.loads(r.payload) for r in read_recording(out)}
    assert set(statuses) == set(plants.simulated)
    assert all(s["state"] == "offline" for s in statuses.values())
    capsys.readouterr()


@pytest.mark.integration
def test_a_refused_login_ends_the_command(
    site_broker: Mosquitto, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    broker = f"{site_broker.host}:{site_broker.port}"
    assert main(["simulate", "--generate", "1", "--seed", "11", "--duration", "5",
                 "--broker", broker, "--username", "{enterprise}", "--password", "wrong",
                 "--quiet"]) == 2
    assert "refused user" in capsys.readouterr().err
    assert main(["record", str(tmp_path / "r.jsonl.gz"), "--broker", broker,
                 "--username", "hazmon-ingest", "--password", "wrong", "--duration", "5"]) == 2
    assert "record:" in capsys.readouterr().err
    # without credentials (anonymous is off) the refusal is the same
    assert main(["replay", str(tmp_path / "r.jsonl.gz"), "--broker", broker]) == 2
