"""Time as hazmon counts it: UTC epoch milliseconds from an injectable clock.

Every part takes a `Clock` so tests can drive time; `wall_ms` is the real one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo

Clock = Callable[[], int]  # UTC epoch milliseconds


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


def rfc3339(ts_ms: int | None) -> str | None:
    """UTC, 'Z'; milliseconds only when there are any (as in the contract's example)."""
    if ts_ms is None:
        return None
    dt = datetime.fromtimestamp(ts_ms / 1000, tz=UTC)
    if ts_ms % 1000:
        return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts_ms % 1000:03d}Z"
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc3339_local(ts_ms: int, tz: tzinfo) -> str:
    """In a local zone with its offset and always milliseconds (`…T10:00:00.000+08:00`),
    as a plant gateway writes its timestamps."""
    return datetime.fromtimestamp(ts_ms / 1000, tz).isoformat(timespec="milliseconds")
