"""`hazmon gateway add|rotate|revoke|list`: plant gateways' accounts at the broker.

    hazmon gateway add 91320921MA1XXXXX0Q --registry registry.yaml
    hazmon gateway rotate 91320921MA1XXXXX0Q --pidfile /run/mosquitto/mosquitto.pid
    hazmon gateway revoke 91320921MA1XXXXX0Q --reload-pid 1234

The user name is the enterprise code; the password is generated and printed once on
stdout alone (or read from stdin with `--password-stdin`); only its hash is kept. The
region of the ACL lines comes from the registry (`--registry`, else the settings').
Mosquitto applies the change when it rereads its files on SIGHUP: with `--reload-pid` or
`--pidfile` this command sends it, else it says how. Mosquitto drops a SIGHUP that comes
while it is reloading: when changing several gateways, signal once, with the last one.
Each change is handed to `on_change` (the composition root records it in the audit).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hazmon.domain.ids import is_enterprise
from hazmon.domain.registry import RegistryError, load_registry
from hazmon.ingest.accounts import manage, passwd
from hazmon.ingest.accounts.acl import AclError
from hazmon.ingest.accounts.manage import AccountError, BrokerFiles

DefaultRegistry = Callable[[argparse.Namespace], Path | None]
# (args, "gateway.added" | "gateway.rotated" | "gateway.revoked", what changed); raises on
# failure (the files are changed already: the command then says so and exits 1)
OnChange = Callable[[argparse.Namespace, str, dict[str, Any]], None]

# As in deploy/mosquitto.conf.
PASSWORD_FILE = Path("/etc/mosquitto/hazmon.passwd")
ACL_FILE = Path("/etc/mosquitto/hazmon.acl")
RELOAD_HINT = ("Mosquitto applies this when it rereads its files: `systemctl reload mosquitto` "
               "or `kill -HUP <broker pid>` (or pass --reload-pid / --pidfile)")


def add_gateway_commands(subparsers: Any, default_registry: DefaultRegistry | None = None,
                         on_change: OnChange | None = None) -> None:
    """Add `gateway` with its sub-commands to an argparse sub-parser collection."""
    gateway = subparsers.add_parser("gateway", help="plant gateways' broker accounts and ACL")
    sub = gateway.add_subparsers(dest="gateway_command", required=True)

    def files(p: argparse.ArgumentParser) -> None:
        p.add_argument("--passwd", type=Path, default=PASSWORD_FILE,
                       help=f"Mosquitto password file (default {PASSWORD_FILE})")
        p.add_argument("--acl", type=Path, default=ACL_FILE,
                       help=f"Mosquitto ACL file (default {ACL_FILE})")

    def change(p: argparse.ArgumentParser, *, new_password: bool) -> None:
        p.add_argument("enterprise", help="the enterprise's 18-character credit code")
        files(p)
        p.add_argument("--config", type=Path, help="settings YAML (else HAZMON_CONFIG)")
        if new_password:
            p.add_argument("--registry", type=Path,
                           help="registry file for the region (else the settings' registry)")
            p.add_argument("--password-stdin", action="store_true",
                           help="read the password from stdin instead of generating one")
            p.add_argument("--iterations", type=int, default=passwd.DEFAULT_ITERATIONS,
                           help="PBKDF2 iterations of the $7$ hash")
        reload = p.add_mutually_exclusive_group()
        reload.add_argument("--reload-pid", type=int, help="send SIGHUP to this Mosquitto")
        reload.add_argument("--pidfile", type=Path, help="send SIGHUP to the pid in this file")
        p.set_defaults(_default_registry=default_registry, _on_change=on_change)

    add = sub.add_parser("add", help="create a gateway's account (password printed once)")
    change(add, new_password=True)
    add.set_defaults(func=_cmd_add)
    rotate = sub.add_parser("rotate", help="give a gateway a new password")
    change(rotate, new_password=True)
    rotate.set_defaults(func=_cmd_rotate)
    revoke = sub.add_parser("revoke", help="remove a gateway's account and rights")
    change(revoke, new_password=False)
    revoke.set_defaults(func=_cmd_revoke)
    lst = sub.add_parser("list", help="list gateway accounts and their regions")
    files(lst)
    lst.set_defaults(func=_cmd_list)


class _Exit(Exception):  # noqa: N818 - carries an exit code, not a fault
    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def _files(args: argparse.Namespace) -> BrokerFiles:
    return BrokerFiles(args.passwd, args.acl)


def _enterprise(args: argparse.Namespace) -> str:
    ent: str = args.enterprise
    if not is_enterprise(ent):
        raise _Exit(f"{ent!r} is not an 18-character credit code")
    return ent


def _region(args: argparse.Namespace, enterprise: str) -> str:
    path: Path | None = args.registry
    if path is None:
        fn: DefaultRegistry | None = args._default_registry
        path = fn(args) if fn is not None else None
    if path is None:
        raise _Exit("no registry: give --registry FILE")
    try:
        registry = load_registry(path)
    except RegistryError as exc:
        raise _Exit(str(exc)) from None
    ent = registry.enterprises.get(enterprise)
    if ent is None:
        raise _Exit(f"enterprise {enterprise} is not in the registry {path}")
    return ent.region


def _password(args: argparse.Namespace) -> tuple[str, bool]:
    """The password and whether it was generated (and so must be shown)."""
    if not args.password_stdin:
        return passwd.new_password(), True
    password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < 12:
        raise _Exit("a gateway password needs at least 12 characters")
    if ":" in password:
        raise _Exit("a password must not contain ':'")  # the file's separator
    return password, False


def _reload(args: argparse.Namespace) -> int:
    pid: int | None = args.reload_pid
    if pid is None and args.pidfile is not None:
        pid = manage.read_pidfile(args.pidfile)
    if pid is None:
        print(RELOAD_HINT, file=sys.stderr)
        return 0
    try:
        manage.reload_broker(pid)
    except AccountError as exc:
        print(f"the files are written, but the reload failed: {exc}; {RELOAD_HINT}",
              file=sys.stderr)
        return 1
    print(f"sent SIGHUP to Mosquitto (pid {pid}): the change is in force", file=sys.stderr)
    return 0


def _changed(args: argparse.Namespace, action: str, payload: dict[str, Any]) -> int:
    fn: OnChange | None = args._on_change
    if fn is None:
        return 0
    try:
        fn(args, action, payload)
    except Exception as exc:  # the change stands; what failed is recording it
        print(f"the change is made, but it could not be recorded in the audit: {exc}",
              file=sys.stderr)
        return 1
    return 0


def _run(action: Callable[[], int]) -> int:
    try:
        return action()
    except _Exit as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.code
    except (AccountError, AclError, passwd.PasswordFileError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _set_password(args: argparse.Namespace, op: Callable[..., None], verb: str) -> int:
    # never the password: the audit says whose and where
    def action() -> int:
        ent = _enterprise(args)
        region = _region(args, ent)
        password, generated = _password(args)
        op(_files(args), ent, region, password, iterations=args.iterations)
        if generated:
            print(password)
            print(f"gateway {ent} {verb}: user {ent}, region {region}; the password above is "
                  "shown once, put it into the gateway now", file=sys.stderr)
        else:
            print(f"gateway {ent} {verb}: user {ent}, region {region}", file=sys.stderr)
        recorded = _changed(args, f"gateway.{verb}", {"enterprise": ent, "region": region,
                                                      "password_file": str(args.passwd),
                                                      "acl_file": str(args.acl)})
        return _reload(args) or recorded

    return _run(action)


def _cmd_add(args: argparse.Namespace) -> int:
    return _set_password(args, manage.add, "added")


def _cmd_rotate(args: argparse.Namespace) -> int:
    return _set_password(args, manage.rotate, "rotated")


def _cmd_revoke(args: argparse.Namespace) -> int:
    def action() -> int:
        ent = _enterprise(args)
        if not manage.revoke(_files(args), ent):
            print(f"gateway {ent} has no account", file=sys.stderr)
            return 1
        print(f"gateway {ent} revoked", file=sys.stderr)
        recorded = _changed(args, "gateway.revoked", {"enterprise": ent,
                                                      "password_file": str(args.passwd),
                                                      "acl_file": str(args.acl)})
        return _reload(args) or recorded

    return _run(action)


def _cmd_list(args: argparse.Namespace) -> int:
    def action() -> int:
        for a in manage.list_accounts(_files(args)):
            state = "" if a.has_password else "  (no password: cannot connect)"
            region = a.region or "-"
            rights = "" if a.region else "  (no ACL lines: may publish nothing)"
            print(f"{a.enterprise}  {region}{state}{rights}")
        return 0

    return _run(action)
