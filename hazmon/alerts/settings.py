"""Settings of the alarm part: the alarm store, the rules stage's tick, notification.

The `alarms` section of `hazmon.service.settings.Settings`.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from hazmon.alerts.notify import NotifyConfig
from hazmon.core.section import Section


class AlarmSettings(Section):
    # "sqlite:///path/alarms.db" (default: <data_dir>/alarms.db) or "postgresql://..."
    # when several instances share the alarm state.
    db_url: str | None = None
    rules_file: Path | None = None  # per-sensor rule overrides (hazmon.rules.file)
    tick_s: float = Field(default=1.0, gt=0)
    # The rules state (<data_dir>/rules-state.json) is saved this often; what a crash
    # between two saves forgets, the startup replay rebuilds from InfluxDB.
    state_save_s: float = Field(default=30.0, gt=0)
    # How far back (s) the startup replay reads stored readings at most; 0 turns it off.
    replay_max_s: float = Field(default=600.0, ge=0, le=86_400)
    publish_to_plants: bool = True  # alarm events on hazmon/v1/{region}/{enterprise}/alarms
    # Channels (MQTT, signed webhooks, email) and routes; None: the plants' topics only.
    notify: NotifyConfig | None = None
    notify_poll_s: float = Field(default=1.0, gt=0)
    # Several instances on PostgreSQL (alerts/claims.py): how long a notification or an
    # escalation step stays claimed by the instance that took it; far longer than a
    # channel's timeout, short enough that a crashed instance's work is soon taken over.
    claim_s: float = Field(default=60.0, ge=5)
