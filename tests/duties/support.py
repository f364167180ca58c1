"""Shared by the duties tests: the test registry's first enterprise, a config, times."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from hazmon.domain.registry import Enterprise, load_registry
from hazmon.duties.config import DutiesConfig
from tests.support import ENT, REGISTRY_FILE

CONFIG = DutiesConfig()
CST = timezone(timedelta(hours=8))


def enterprise() -> Enterprise:
    return load_registry(REGISTRY_FILE).enterprises[ENT]


def shanghai_ms(y: int, mo: int, d: int, h: int, mi: int = 0, s: int = 0) -> int:
    """Epoch ms of a wall-clock time in Asia/Shanghai: a fixed UTC+8, independent of the
    time-zone database the code under test uses."""
    return int(datetime(y, mo, d, h, mi, s, tzinfo=CST).timestamp() * 1000)


def form(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "day": "2026-11-22",
        "units": {"total": 3, "running": 2, "stopped": 1},
        "special_works": {"hot_work_1": 1, "confined_space": 2},
        "hazard_sources": [{"code": "MHS-01", "run_state": "running", "baobao_in_place": True}],
        "major_hidden_danger": False,
        "risk_grade": "general",
        "committer": "张三",
        "duty_leader": {"name": "李四", "phone": "+8613800000002"},
        "confirmed": True,
    }
    data.update(over)
    return data
