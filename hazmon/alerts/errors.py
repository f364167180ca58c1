"""The alerts package's exceptions: one tree, database errors translated at the boundary."""

from __future__ import annotations


class AlertsError(Exception):
    """Base of every error raised by hazmon.alerts."""


class ActionRefused(AlertsError):  # noqa: N818 - a refusal is an answer, not a fault
    """A request cannot be carried out as asked; `reason` says why, for the person."""

    def __init__(self, reason: str, message: str | None = None) -> None:
        self.reason = reason
        super().__init__(message or reason)


class TransitionRefused(ActionRefused):
    """An event is not allowed in the alarm's current state."""

    def __init__(self, alarm_id: str, event: str, state: str, reason: str) -> None:
        self.alarm_id = alarm_id
        self.event = event
        self.state = state
        super().__init__(reason, f"alarm {alarm_id}: {event} refused in state {state}: {reason}")


class AlarmNotFound(AlertsError):  # noqa: N818 - reads as what the API answers (404)
    def __init__(self, alarm_id: str) -> None:
        self.alarm_id = alarm_id
        super().__init__(f"no alarm {alarm_id}")


class StoreError(AlertsError):
    """The alarm database failed or cannot be used (bad URL, driver error, old schema)."""
