"""Data availability of each hazard source over a window, for the low-availability rule.

At each evaluation the share of a source's sensors whose newest reading (the rules
engine's last-seen time) is at most `fresh_ms` old is sampled; the availability is that
share weighted by the time it held, over the window. Only changes are kept (the share
holds until the next one), so a steady province costs one entry per source.

A source is judged only once its samples cover the whole window: after a start the
figure is None (unknown) for one window, rather than a guess from a few minutes. The
default freshness is the gateway-silence default (300 s) — to be set by the province.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from hazmon.domain.registry import Registry

DEFAULT_FRESH_MS = 300_000

LastSeen = Callable[[str, str], int | None]  # (enterprise, tag) → newest reading, ms


class AvailabilityWindow:
    def __init__(self, window_ms: int, fresh_ms: int = DEFAULT_FRESH_MS) -> None:
        self.window_ms = window_ms
        self.fresh_ms = fresh_ms
        # (enterprise, source) → (since, share) changes, oldest first
        self._changes: dict[tuple[str, str], deque[tuple[int, float]]] = {}

    def sample(self, registry: Registry, last_seen: LastSeen, now_ms: int) -> None:
        current: set[tuple[str, str]] = set()
        for code, ent in registry.enterprises.items():
            for hs in ent.hazard_sources:
                if not hs.sensors:
                    continue
                key = (code, hs.code)
                current.add(key)
                fresh = 0
                for s in hs.sensors:
                    seen = last_seen(code, s.tag)
                    if seen is not None and now_ms - seen <= self.fresh_ms:
                        fresh += 1
                share = fresh / len(hs.sensors)
                changes = self._changes.setdefault(key, deque())
                if not changes or changes[-1][1] != share:
                    changes.append((now_ms, share))
                # drop what lies wholly before the window, keeping the change in force
                while len(changes) > 1 and changes[1][0] <= now_ms - self.window_ms:
                    changes.popleft()
        for gone in set(self._changes) - current:  # removed from the registry
            del self._changes[gone]

    def availability(self, enterprise: str, hazard_source: str, now_ms: int) -> float | None:
        changes = self._changes.get((enterprise, hazard_source))
        start = now_ms - self.window_ms
        if not changes or changes[0][0] > start:
            return None  # not observed over the whole window yet
        total = 0.0
        for i, (since, share) in enumerate(changes):
            until = changes[i + 1][0] if i + 1 < len(changes) else now_ms
            total += share * max(0, until - max(since, start))
        return total / self.window_ms
