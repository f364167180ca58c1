"""What the duty loop's snapshot reads of the 包保 records, all of them against only those
still in force (`DutyStore.duty_records_in_force`), on SQLite.

    .venv/bin/python -m bench.duty_snapshot [SOURCES]

SOURCES hazard sources (3 per enterprise, default 3,000), each with a year of weekly
操作负责人 records and four quarterly 技术负责人 ones; 5 % of the records with a hidden
danger, 90 % of those fixed. Prints the rows read and the best of five reads.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from hazmon.alerts import AlarmStore
from hazmon.duties.store import DutyStore

DAY_MS = 86_400_000
WEEK_MS = 7 * DAY_MS
NOW_MS = 1_795_000_000_000


async def fill(store: AlarmStore, sources: int) -> int:
    rng = random.Random(1)
    n = 0
    checked = json.dumps(["罐区液位联锁", "可燃气体报警仪"], ensure_ascii=False)
    async with store.db.transaction() as tx:
        for s in range(sources):
            ent, hs = f"E{s // 3:017d}", f"HS-{s % 3}"
            for i in range(52 + 4):
                role, at = (("operational", NOW_MS - (52 - i) * WEEK_MS) if i < 52 else
                            ("technical", NOW_MS - (i - 51) * 13 * WEEK_MS))
                rid = f"R{n:025d}"
                n += 1
                await tx.execute(
                    "INSERT INTO duty_records (id, enterprise, hazard_source, role, person,"
                    " at_ms, checked, filed_by, filed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (rid, ent, hs, role, "王工", at, checked, "bench", at))
                if rng.random() < 0.05:
                    fixed = at + DAY_MS if rng.random() < 0.9 else None
                    await tx.execute(
                        "INSERT INTO duty_hidden_dangers (id, record_id, description, fix_by,"
                        " fixed_at) VALUES (?, ?, ?, ?, ?)",
                        (f"D{n:025d}", rid, "防火堤排水阀未关", "2026-01-01", fixed))
    return n


async def main(sources: int) -> None:
    with tempfile.TemporaryDirectory() as d:
        store = await AlarmStore.open(f"sqlite:///{Path(d) / 'alarms.db'}")
        try:
            ds = await DutyStore.open(store.db)
            n = await fill(store, sources)
            reads: list[tuple[str, Callable[[], Awaitable[list[Any]]]]] = [
                ("every record", ds.duty_records),
                ("in force", lambda: ds.duty_records_in_force(None)),
                ("in force, a 30-day holiday window",
                 lambda: ds.duty_records_in_force(NOW_MS - 30 * DAY_MS)),
            ]
            for name, read in reads:
                best, rows = float("inf"), 0
                for _ in range(5):
                    t = time.perf_counter()
                    rows = len(await read())
                    best = min(best, time.perf_counter() - t)
                print(f"{sources} sources, {n} records, {name}: {rows} rows read, "
                      f"best of 5 {best * 1000:.0f} ms")
        finally:
            await store.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000))
