"""Security events counted per minute, for the audit (docs/SECURITY.md, "Audit"): failed
sign-ins, and actions refused for want of the right.

Each event is one `record`; `take(now)` hands over the minutes that have ended, each as
one summary (how many, from which addresses, naming which token ids, for which reasons or
actions): a flood of guesses becomes one audit entry a minute, not one per request. Never a
secret: only the id a token names. Bounded: past `MAX_KEYS` distinct addresses or ids in a
minute the rest are counted under "other".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

MINUTE_MS = 60_000
MAX_KEYS = 100
OTHER = "other"


@dataclass
class MinuteSummary:
    minute_ms: int  # start of the minute (UTC epoch ms)
    count: int = 0
    addresses: Counter[str] = field(default_factory=Counter)
    token_ids: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    rate_limited: int = 0  # of `count`, answered 429

    def add(self, address: str, token_id: str | None, reason: str, limited: bool) -> None:
        self.count += 1
        self.rate_limited += limited
        _bump(self.addresses, address)
        if token_id is not None:
            _bump(self.token_ids, token_id)
        self.reasons[reason] += 1

    def as_data(self) -> dict[str, Any]:
        return {"minute_ms": self.minute_ms, "count": self.count,
                "rate_limited": self.rate_limited, "addresses": dict(self.addresses),
                "token_ids": dict(self.token_ids), "reasons": dict(self.reasons)}


def _bump(counter: Counter[str], key: str) -> None:
    counter[key if key in counter or len(counter) < MAX_KEYS else OTHER] += 1


class MinuteTally:
    def __init__(self) -> None:
        self._minutes: dict[int, MinuteSummary] = {}

    def record(self, now_ms: int, address: str, token_id: str | None, reason: str,
               limited: bool = False) -> None:
        minute = now_ms - now_ms % MINUTE_MS
        summary = self._minutes.get(minute)
        if summary is None:
            summary = self._minutes[minute] = MinuteSummary(minute)
        summary.add(address, token_id, reason, limited)

    def take(self, now_ms: int) -> list[MinuteSummary]:
        """The summaries of the minutes that ended before `now_ms`, oldest first."""
        current = now_ms - now_ms % MINUTE_MS
        done = sorted(m for m in self._minutes if m < current)
        return [self._minutes.pop(m) for m in done]

    def restore(self, summaries: list[MinuteSummary]) -> None:
        """Give back summaries taken but not recorded (the audit write failed)."""
        for summary in summaries:
            kept = self._minutes.setdefault(summary.minute_ms, MinuteSummary(summary.minute_ms))
            kept.count += summary.count
            kept.rate_limited += summary.rate_limited
            kept.addresses.update(summary.addresses)
            kept.token_ids.update(summary.token_ids)
            kept.reasons.update(summary.reasons)
