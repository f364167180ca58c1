"""Capped, jittered exponential backoff (docs/DESIGN.md habit 7)."""

from __future__ import annotations

import random

from hazmon.alerts.notify.config import RetryPolicy


def backoff_ms(policy: RetryPolicy, attempt: int, rng: random.Random) -> int:
    """Wait after failed attempt number `attempt` (1 = the first). The jitter only
    shortens the wait, so the cap holds; it spreads retries of a flood apart."""
    base = min(policy.max_s, policy.initial_s * policy.multiplier ** max(0, attempt - 1))
    return max(1, int(base * (1.0 - policy.jitter * rng.random()) * 1000))
