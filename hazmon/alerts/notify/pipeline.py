"""The notification pipeline, declared once (docs/DESIGN.md habit 9, like alertmanager's
notify.go): each stage takes the round's context and what the stage before passed on.

    load      what was planned before (a retry, a held digest item, a restart)
    quiet     shelved / suppressed / out of service → skipped
    route     channels and recipients (simulated only to test channels)
    dedup     the same alarm and news already going to that recipient → skipped
    record    the plan becomes delivery rows (and audit entries for the skipped ones)
    group     a flood per recipient → one digest; which messages go now
    deliver   send each message, record its outcome (refused for good → dead)
    settle    the outbox: done, retry with capped, jittered backoff, or wait for a digest

A new stage is a `Stage` subclass in its own module and one place in this chain.
"""

from __future__ import annotations

from hazmon.alerts.notify.dedup import Dedup
from hazmon.alerts.notify.deliver import Deliver
from hazmon.alerts.notify.grouping import Group
from hazmon.alerts.notify.quiet import Quiet
from hazmon.alerts.notify.record import Load, RecordPlan
from hazmon.alerts.notify.routing import Route
from hazmon.alerts.notify.settle import Settle
from hazmon.alerts.notify.stage import Stage
from hazmon.alerts.outbox import Notification

PIPELINE: Stage[Notification, Notification] = (
    Load() >> Quiet() >> Route() >> Dedup() >> RecordPlan() >> Group() >> Deliver() >> Settle()
)
