"""`hazmon gateway` on the files alone: the password line's format, the ACL section, errors."""

from __future__ import annotations

import io
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from hazmon.ingest.accounts import passwd
from hazmon.ingest.accounts.acl import BEGIN, END, AclError, GatewayAcl
from hazmon.service.cli import main
from tests.support import ENT, ENT2, REGISTRY_FILE

DEPLOY_ACL = Path(__file__).parents[2] / "deploy" / "hazmon.acl"


def gateway(tmp_path: Path, *args: str) -> list[str]:
    return ["gateway", *args, "--passwd", str(tmp_path / "passwd"),
            "--acl", str(tmp_path / "acl")]


def add(tmp_path: Path, ent: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main([*gateway(tmp_path, "add", ent), "--registry", str(REGISTRY_FILE)]) == 0
    return capsys.readouterr().out.strip()


def test_hash_matches_mosquitto_passwd(tmp_path: Path) -> None:
    tool = shutil.which("mosquitto_passwd")
    if tool is None:
        pytest.skip("mosquitto_passwd not installed")
    (tmp_path / "pw").touch()
    subprocess.run([tool, "-b", str(tmp_path / "pw"), "alice", "s3cret-pass"],
                   check=True, capture_output=True, timeout=30, stdin=subprocess.DEVNULL)
    line = (tmp_path / "pw").read_text()
    hashed = passwd.parse(line)["alice"]
    assert passwd.verify_password("s3cret-pass", hashed)
    assert not passwd.verify_password("s3cret-pasS", hashed)
    # and ours has the same shape: $7$, 12-byte salt, 64-byte key
    ours = passwd.hash_password("x", salt=bytes(12), iterations=101).split("$")
    theirs = hashed.split("$")
    assert [len(p) for p in ours[2:]] == [len(p) for p in theirs[2:]]


def test_add_writes_password_and_region_bound_acl(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(DEPLOY_ACL, tmp_path / "acl")
    password = add(tmp_path, ENT, capsys)
    assert len(password) >= 32
    accounts = passwd.parse((tmp_path / "passwd").read_text())
    assert list(accounts) == [ENT]
    assert passwd.verify_password(password, accounts[ENT])
    assert password not in (tmp_path / "passwd").read_text()
    acl = (tmp_path / "acl").read_text()
    assert acl.startswith(DEPLOY_ACL.read_text().split(BEGIN)[0].rstrip())  # site lines kept
    section = acl.split(BEGIN)[1].split(END)[0].split("\n")[1:-1]
    assert section == [f"user {ENT}",
                       f"topic write hazmon/v1/320921/{ENT}/telemetry",
                       f"topic write hazmon/v1/320921/{ENT}/status",
                       f"topic read hazmon/v1/320921/{ENT}/alarms",
                       f"topic write hazmon/v1/320921/{ENT}/rollcall"]
    for f in ("passwd", "acl"):
        assert stat.S_IMODE((tmp_path / f).stat().st_mode) & 0o007 == 0  # not for all
    assert not list(tmp_path.glob(".passwd.*[!k]"))  # no temporary file left


def test_rotate_replaces_the_password_and_revoke_removes_both(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = add(tmp_path, ENT, capsys)
    add(tmp_path, ENT2, capsys)
    assert main([*gateway(tmp_path, "rotate", ENT), "--registry", str(REGISTRY_FILE)]) == 0
    second = capsys.readouterr().out.strip()
    hashed = passwd.parse((tmp_path / "passwd").read_text())[ENT]
    assert passwd.verify_password(second, hashed)
    assert not passwd.verify_password(first, hashed)

    assert main(gateway(tmp_path, "revoke", ENT)) == 0
    assert list(passwd.parse((tmp_path / "passwd").read_text())) == [ENT2]
    assert GatewayAcl.parse((tmp_path / "acl").read_text()).gateways == {ENT2: "320902"}
    assert main(gateway(tmp_path, "revoke", ENT)) == 1  # nothing left to revoke
    assert main(gateway(tmp_path, "list")) == 0
    assert capsys.readouterr().out.split() == [ENT2, "320902"]


def test_refusals(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                  monkeypatch: pytest.MonkeyPatch) -> None:
    reg = ["--registry", str(REGISTRY_FILE)]
    add(tmp_path, ENT, capsys)
    assert main([*gateway(tmp_path, "add", ENT), *reg]) == 2  # already there
    assert "already has an account" in capsys.readouterr().err
    assert main([*gateway(tmp_path, "rotate", ENT2), *reg]) == 2  # none to rotate
    assert main([*gateway(tmp_path, "add", "91320000MA0XXXXX9X"), *reg]) == 2
    assert "not in the registry" in capsys.readouterr().err
    assert main([*gateway(tmp_path, "add", "not-a-code"), *reg]) == 2
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main([*gateway(tmp_path, "add", ENT2), *reg, "--password-stdin"]) == 2
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-enough-password\n"))
    assert main([*gateway(tmp_path, "add", ENT2), *reg, "--password-stdin"]) == 0
    assert capsys.readouterr().out == ""  # a given password is not echoed
    hashed = passwd.parse((tmp_path / "passwd").read_text())[ENT2]
    assert passwd.verify_password("a-long-enough-password", hashed)


def test_acl_section_must_stay_last(tmp_path: Path) -> None:
    text = f"{BEGIN}\n{END}\ntopic read x/#\n"
    with pytest.raises(AclError, match="below the gateways section"):
        GatewayAcl.parse(text)
    acl = GatewayAcl.parse(f"user hazmon-ingest\ntopic read a/#\n{BEGIN}\n{END}\n")
    acl.gateways[ENT] = "320921"
    again = GatewayAcl.parse(acl.render())
    assert again.gateways == {ENT: "320921"}
    assert again.render() == acl.render()
