"""Alarms per ISA-18.2: lifecycle, store, audit log, outbox and escalation.

    store = await AlarmStore.open("sqlite:///var/hazmon/alarms.db")
    service = AlarmService(store, directory=RegistryDirectory(registry))
    await service.handle_signal(signal)      # from the rules engine
    await service.ack(alarm_id, "user:li", "on it")
    await service.tick(now_ms)               # every few seconds: unshelve, escalate

Notification (outbox → MQTT / webhooks / email) is in `hazmon.alerts.notify`; alarm-system
KPIs in `hazmon.alerts.kpis`; `hazmon audit verify` in `hazmon.alerts.audit_cli`.
"""

from hazmon.alerts.audit import AuditEntry, VerifyResult, verify_audit, verify_chain
from hazmon.alerts.directory import (
    ContactInfo,
    Directory,
    NotifyDirectory,
    RegistryDirectory,
    StaticDirectory,
)
from hazmon.alerts.errors import (
    ActionRefused,
    AlarmNotFound,
    AlertsError,
    StoreError,
    TransitionRefused,
)
from hazmon.alerts.escalation import (
    DEFAULT_STEP_MINUTES,
    LEVELS,
    EscalationPolicy,
    EscalationState,
    EscalationStatus,
)
from hazmon.alerts.event import alarm_event
from hazmon.alerts.holds import Hold, HoldKind
from hazmon.alerts.kpis import KpiFigures, KpiReport, KpiScope, SensorRef, kpi_report
from hazmon.alerts.lifecycle import (
    SHELVE_MAX_MINUTES,
    SHELVE_MIN_MINUTES,
    Alarm,
    AlarmState,
    HistoryEntry,
    Overlay,
)
from hazmon.alerts.outbox import Notification, NotificationKind, Outbox, OutboxStatus
from hazmon.alerts.service import AlarmService, EventStream, Listener, TickResult
from hazmon.alerts.sql import StoreConflict
from hazmon.alerts.store import AlarmEventRow, AlarmFilter, AlarmStore, Page
from hazmon.alerts.ulid import UlidFactory

__all__ = [
    "DEFAULT_STEP_MINUTES",
    "LEVELS",
    "SHELVE_MAX_MINUTES",
    "SHELVE_MIN_MINUTES",
    "ActionRefused",
    "Alarm",
    "AlarmEventRow",
    "AlarmFilter",
    "AlarmNotFound",
    "AlarmService",
    "AlarmState",
    "AlarmStore",
    "AlertsError",
    "AuditEntry",
    "ContactInfo",
    "Directory",
    "EscalationPolicy",
    "EscalationState",
    "EscalationStatus",
    "EventStream",
    "HistoryEntry",
    "Hold",
    "HoldKind",
    "KpiFigures",
    "KpiReport",
    "KpiScope",
    "Listener",
    "Notification",
    "NotificationKind",
    "NotifyDirectory",
    "Outbox",
    "OutboxStatus",
    "Overlay",
    "Page",
    "RegistryDirectory",
    "SensorRef",
    "StaticDirectory",
    "StoreConflict",
    "StoreError",
    "TickResult",
    "TransitionRefused",
    "UlidFactory",
    "VerifyResult",
    "alarm_event",
    "kpi_report",
    "verify_audit",
    "verify_chain",
]
