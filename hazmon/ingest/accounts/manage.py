"""Add, rotate and revoke a gateway's broker account: the password line and the ACL block,
changed together under one lock."""

from __future__ import annotations

import os
import signal
from dataclasses import dataclass
from pathlib import Path

from hazmon.domain.ids import is_enterprise
from hazmon.ingest.accounts import passwd
from hazmon.ingest.accounts.acl import GatewayAcl
from hazmon.ingest.accounts.files import atomic_write, locked, read_text


class AccountError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class BrokerFiles:
    password_file: Path
    acl_file: Path


@dataclass(frozen=True, slots=True)
class Account:
    enterprise: str
    region: str | None  # None: a password without ACL lines (it may publish nothing)
    has_password: bool


def _load(files: BrokerFiles) -> tuple[dict[str, str], GatewayAcl]:
    return (passwd.parse(read_text(files.password_file)),
            GatewayAcl.parse(read_text(files.acl_file)))


def _save(files: BrokerFiles, accounts: dict[str, str], acl: GatewayAcl) -> None:
    atomic_write(files.acl_file, acl.render())
    atomic_write(files.password_file, passwd.render(accounts))


def add(files: BrokerFiles, enterprise: str, region: str, password: str, *,
        iterations: int = passwd.DEFAULT_ITERATIONS) -> None:
    with locked(files.password_file):
        accounts, acl = _load(files)
        if enterprise in accounts:
            raise AccountError(f"gateway {enterprise} already has an account; "
                               "use `hazmon gateway rotate` for a new password")
        accounts[enterprise] = passwd.hash_password(password, iterations=iterations)
        acl.gateways[enterprise] = region
        _save(files, accounts, acl)


def rotate(files: BrokerFiles, enterprise: str, region: str, password: str, *,
           iterations: int = passwd.DEFAULT_ITERATIONS) -> None:
    """A new password (the old one stops working at the broker's reload) and the ACL block
    brought in line with the registry's region."""
    with locked(files.password_file):
        accounts, acl = _load(files)
        if enterprise not in accounts:
            raise AccountError(f"gateway {enterprise} has no account; use `hazmon gateway add`")
        accounts[enterprise] = passwd.hash_password(password, iterations=iterations)
        acl.gateways[enterprise] = region
        _save(files, accounts, acl)


def revoke(files: BrokerFiles, enterprise: str) -> bool:
    """Remove the account and its rights; False when there was neither."""
    with locked(files.password_file):
        accounts, acl = _load(files)
        had = accounts.pop(enterprise, None) is not None
        had = acl.gateways.pop(enterprise, None) is not None or had
        if had:
            _save(files, accounts, acl)
        return had


def list_accounts(files: BrokerFiles) -> list[Account]:
    accounts, acl = _load(files)
    # Other accounts (hazmon's own) are not gateways: their names are no enterprise code.
    names = sorted(set(acl.gateways) | {u for u in accounts if is_enterprise(u)})
    return [Account(n, acl.gateways.get(n), n in accounts) for n in names]




def reload_broker(pid: int) -> None:
    """Mosquitto rereads its password and ACL files on SIGHUP."""
    try:
        os.kill(pid, signal.SIGHUP)
    except ProcessLookupError:
        raise AccountError(f"no process {pid} to reload") from None
    except PermissionError:
        raise AccountError(f"not allowed to signal process {pid} (run as its user or root)"
                           ) from None


def read_pidfile(path: Path) -> int:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError) as exc:
        raise AccountError(f"cannot read a pid from {path}: {exc}") from None
