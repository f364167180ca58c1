"""`hazmon audit verify [--db URL]`: walk the audit hash chain of an alarm database.

The database is `--db URL`, else what `default_db(args)` returns (the composition root
passes one that reads the settings, `--config` or HAZMON_CONFIG, as `hazmon run` does).

Exit status: 0 the chain is whole (prints the head hash: keep it elsewhere, e.g. in the
daily report, so a later truncation can be seen); 1 an entry is broken (prints its seq
and what is wrong); 2 the database cannot be read.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hazmon.alerts.audit import verify_audit
from hazmon.alerts.errors import StoreError

DefaultDb = Callable[[argparse.Namespace], str | None]


def add_audit_commands(subparsers: Any, default_db: DefaultDb | None = None
                       ) -> argparse.ArgumentParser:
    """Register `audit verify` on the CLI's subparsers (argparse's _SubParsersAction)."""
    audit = subparsers.add_parser("audit", help="the tamper-evident alarm audit log")
    sub = audit.add_subparsers(dest="audit_command", required=True)
    verify = sub.add_parser("verify", help="check the hash chain; exit 1 at the first "
                                           "broken entry")
    verify.add_argument("--db", metavar="URL",
                        help="alarm database: sqlite:///path/alarms.db or postgresql://... "
                             "(default: the one the settings name)")
    verify.add_argument("--config", type=Path,
                        help="settings YAML for the default database (else HAZMON_CONFIG)")
    verify.set_defaults(func=cmd_verify, _default_db=default_db)
    parser: argparse.ArgumentParser = audit
    return parser


def _db_url(args: argparse.Namespace) -> str | None:
    if args.db:
        return str(args.db)
    fn: DefaultDb | None = getattr(args, "_default_db", None)
    return fn(args) if fn is not None else None


def cmd_verify(args: argparse.Namespace) -> int:
    url = _db_url(args)
    if not url:
        print("no alarm database: give --db URL", file=sys.stderr)
        return 2
    try:
        result = asyncio.run(verify_audit(url))
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if result.ok:
        print(f"OK: {result.checked} entries, head seq {result.head_seq} "
              f"hash {result.head_hash}")
        return 0
    print(f"BROKEN at seq {result.broken_seq}: {result.problem} "
          f"(last good: seq {result.head_seq} hash {result.head_hash})")
    return 1
