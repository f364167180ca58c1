"""Strict notification config: a wrong key or a dangling channel name fails at start."""

from __future__ import annotations

import random

import pytest
from pydantic import ValidationError

from hazmon.alerts.notify import NotifyConfig, RetryPolicy
from hazmon.alerts.notify.retry import backoff_ms

GOOD = {
    "channels": [
        {"name": "plant", "type": "mqtt"},
        {"name": "sms", "type": "webhook", "url": "https://gw.example/hook",
         "secret": "0123456789abcdef"},
    ],
    "routes": [{"match": {"min_priority": "high", "tier": [1, 2]}, "to": ["sms", "plant"]}],
}


def test_good_config_loads() -> None:
    cfg = NotifyConfig.model_validate(GOOD)
    assert cfg.channel("sms").type == "webhook"
    assert cfg.grouping.threshold == 5
    assert cfg.grouping.wait_ms == 60_000


@pytest.mark.parametrize(("change", "needle"), [
    ({"routes": [{"to": ["nope"]}]}, "unknown channel"),
    ({"channels": [{"name": "a", "type": "mqtt"}, {"name": "a", "type": "mqtt"}]},
     "duplicate channel"),
    ({"channels": [{"name": "x", "type": "webhook", "url": "https://x", "secret": "short"}]},
     "secret"),
    ({"channels": [{"name": "x", "type": "mqtt", "url": "https://x"}]}, "url"),
    ({"routes": [{"match": {"priority": ["urgent"]}, "to": ["plant"]}]}, "priority"),
    ({"routes": [{"match": {"region_prefix": "32x"}, "to": ["plant"]}]}, "region_prefix"),
    ({"grouping": {"treshold": 3}}, "treshold"),
    ({"channels": [{"name": "m", "type": "email", "smtp": {
        "host": "h", "sender": "a@b", "to": ["c@d"], "ssl": True, "starttls": True}}]},
     "ssl"),
])
def test_bad_config_fails_with_its_path(change: dict[str, object], needle: str) -> None:
    with pytest.raises(ValidationError) as err:
        NotifyConfig.model_validate({**GOOD, **change})
    assert needle in str(err.value)


def test_backoff_is_capped_and_jittered() -> None:
    policy = RetryPolicy(initial_s=5, max_s=60, multiplier=2, jitter=0.2)
    rng = random.Random(0)
    waits = [backoff_ms(policy, n, rng) for n in range(1, 9)]
    assert 4000 <= waits[0] <= 5000
    assert 8000 <= waits[1] <= 10000
    assert all(48_000 <= w <= 60_000 for w in waits[4:])  # capped at 60 s
