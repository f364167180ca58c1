"""`hazmon audit verify [--db URL]`: walk the audit hash chain of an alarm database.
`hazmon audit list [--action PREFIX] [--after SEQ] [--limit N]`: read its entries (the
security events, `--action token.`, or one alarm's, `--alarm ID`), one JSON object a line.

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

from hazmon.alerts.audit import AuditEntry, entries, verify_audit
from hazmon.alerts.audit import canonical_json as _json
from hazmon.alerts.errors import StoreError
from hazmon.alerts.sql import connect
from hazmon.core.clock import rfc3339

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
    lst = sub.add_parser("list", help="print entries, oldest first, one JSON object a line")
    lst.add_argument("--db", metavar="URL", help="alarm database (default: the settings')")
    lst.add_argument("--config", type=Path,
                     help="settings YAML for the default database (else HAZMON_CONFIG)")
    lst.add_argument("--action", metavar="PREFIX",
                     help="only actions starting so: token., registry., auth.failed, ...")
    lst.add_argument("--alarm", metavar="ID", help="only this alarm's entries")
    lst.add_argument("--after", type=int, default=0, metavar="SEQ",
                     help="entries after this sequence number")
    lst.add_argument("--limit", type=int, default=1000, help="at most this many (1000)")
    lst.set_defaults(func=cmd_list, _default_db=default_db)
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


def _line(e: AuditEntry) -> str:
    return _json({"seq": e.seq, "ts": rfc3339(e.ts_ms), "actor": e.actor, "action": e.action,
                  "alarm_id": e.alarm_id, "payload": dict(e.payload), "hash": e.hash})


def cmd_list(args: argparse.Namespace) -> int:
    url = _db_url(args)
    if not url:
        print("no alarm database: give --db URL", file=sys.stderr)
        return 2

    async def main() -> list[AuditEntry]:
        db = await connect(url, create=False)
        try:
            found: list[AuditEntry] = []
            after = args.after
            # filtered here, paged by sequence: the chain is read in order either way
            while len(found) < args.limit:
                page = await entries(db, alarm_id=args.alarm, after_seq=after, limit=1000)
                if not page:
                    break
                found += [e for e in page
                          if args.action is None or e.action.startswith(args.action)]
                after = page[-1].seq
            return found[:args.limit]
        finally:
            await db.close()

    try:
        for e in asyncio.run(main()):
            print(_line(e))
    except StoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
