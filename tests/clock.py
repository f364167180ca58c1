"""A fake clock for the tests of timed behaviour (escalation, shelving, KPIs, the API)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

T0 = int(datetime(2026, 11, 22, 2, 0, 0, tzinfo=UTC).timestamp() * 1000)
MINUTE = 60_000


@dataclass
class FakeClock:
    now: int = T0

    def __call__(self) -> int:
        return self.now

    def advance(self, minutes: float = 0, ms: int = 0) -> int:
        self.now += int(minutes * MINUTE) + ms
        return self.now
