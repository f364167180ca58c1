"""Capped, jittered exponential backoff for reconnects and write retries."""

from __future__ import annotations

import random


class Backoff:
    def __init__(self, first: float, cap: float, rng: random.Random | None = None) -> None:
        self.first = first
        self.cap = cap
        self.attempt = 0
        self._rng = rng or random.Random()

    def next(self) -> float:
        """Delay before the next attempt: full range up to the cap, jittered so that many
        clients that failed together do not come back together."""
        base = min(self.cap, self.first * float(2 ** min(self.attempt, 30)))
        self.attempt += 1
        return base * self._rng.uniform(0.5, 1.0)

    def reset(self) -> None:
        self.attempt = 0
