"""Security events into the audit chain (hazmon.alerts.audit), beside the alarm actions.

    registry.loaded / registry.refused  each load of the registry file (at start and on
                                        every reload), with the SHA-256 of the bytes read
    rights.changed                      the action-rights table in force, when it differs
                                        from the last one recorded (a settings change)
    auth.failed / rights.refused        a minute's failed sign-ins and refused actions,
                                        one summary entry per minute (hazmon.api.tally)

Token changes are recorded by the token store in their own transactions, gateway account
changes by the CLI (hazmon.service.cli). Never a secret: token ids, addresses, reasons.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hazmon.alerts import audit
from hazmon.alerts.errors import StoreError
from hazmon.alerts.sql import Database
from hazmon.api.tally import MinuteTally
from hazmon.core.clock import Clock
from hazmon.domain.registry import Registry, RegistryError, load_registry

log = logging.getLogger(__name__)

ACTOR = "hazmon"  # the service itself
MINUTE_MS = 60_000


def load_registry_hashed(path: Path) -> tuple[str | None, Registry | RegistryError]:
    """The file's SHA-256 (None when unreadable) and the registry loaded from it, or the
    error. Hashed from the bytes read just before parsing: a file changed in between would
    be read again on the next poll (its mtime moved), with a new entry."""
    try:
        digest: str | None = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        digest = None
    try:
        return digest, load_registry(path)
    except RegistryError as exc:
        return digest, exc


class SecurityAudit:
    def __init__(self, db: Database, clock: Clock, tallies: Mapping[str, MinuteTally]) -> None:
        self.db = db
        self.clock = clock
        self.tallies = tallies  # audit action -> its tally
        self._stop = asyncio.Event()

    async def record(self, action: str, payload: Mapping[str, Any], actor: str = ACTOR
                     ) -> None:
        await audit.record(self.db, ts_ms=self.clock(), actor=actor, action=action,
                           payload=payload)

    async def registry(self, path: Path, digest: str | None,
                       got: Registry | RegistryError, when: str) -> None:
        """`when`: "start" or "reload". A failed audit write is logged, not raised: the
        reload itself goes on (the log line carries the same facts)."""
        payload: dict[str, Any] = {"file": str(path), "sha256": digest, "when": when}
        if isinstance(got, RegistryError):
            errors = str(got).splitlines()
            payload.update(errors=errors[:20], error_count=len(errors))
            action = "registry.refused"
        else:
            payload.update(enterprises=len(got.enterprises), sensors=len(got.sensors))
            action = "registry.loaded"
        try:
            await self.record(action, payload)
        except StoreError as exc:
            log.error("security audit: %s of %s (sha256 %s) not recorded: %s", action, path,
                      digest, exc)

    async def config_files(self, files: Mapping[str, Path | None]) -> None:
        """The province's files read at start (warning policy, regions, duties), each with
        its SHA-256; None: the built-in default. They are read only at start, so this
        records every load of them."""
        payload: dict[str, Any] = {}
        for name, path in files.items():
            payload[name] = ({"file": None, "builtin": True} if path is None else
                             {"file": str(path),
                              "sha256": hashlib.sha256(path.read_bytes()).hexdigest()})
        try:
            await self.record("config.loaded", payload)
        except StoreError as exc:
            log.error("security audit: config.loaded %s not recorded: %s", payload, exc)

    async def rights(self, table: Mapping[str, list[str]]) -> bool:
        """Record the rights table when it is not the last one recorded; True if it was."""
        row = await self.db.fetchone(
            "SELECT payload FROM audit_log WHERE action = ? ORDER BY seq DESC LIMIT 1",
            ("rights.changed",))
        if row is not None and json.loads(row[0]).get("table") == dict(table):
            return False
        previous = json.loads(row[0]).get("table") if row is not None else None
        changed = sorted(a for a in set(table) | set(previous or {})
                         if (previous or {}).get(a) != table.get(a))
        await self.record("rights.changed", {"table": dict(table),
                                             "changed": changed if previous else None})
        return True

    async def flush(self, *, everything: bool = False) -> int:
        """The tallies' ended minutes (all of them when `everything`) into the audit;
        how many entries were written."""
        now = self.clock() + (MINUTE_MS if everything else 0)
        written = 0
        for action, tally in self.tallies.items():
            taken = tally.take(now)
            for i, summary in enumerate(taken):
                try:
                    await self.record(action, summary.as_data())
                except BaseException:
                    tally.restore(taken[i:])  # kept for the next flush
                    raise
                written += 1
        return written

    async def run(self, every_s: float = 60.0) -> None:
        """Flush once a minute until `stop()`, then flush the rest."""
        try:
            while not self._stop.is_set():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(every_s):
                        await self._stop.wait()
                try:
                    await self.flush()
                except Exception:  # the audit database hiccuped: the tallies keep them
                    log.exception("security audit: writing the minute's summaries failed; "
                                  "kept for the next minute")
        finally:
            await self.flush(everything=True)

    def stop(self) -> None:
        self._stop.set()
