"""A validated sensor reading: what ingest hands to the sink and the rules."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hazmon.domain.registry import SensorInfo


class Quality(StrEnum):
    GOOD = "good"
    UNCERTAIN = "uncertain"
    BAD = "bad"


@dataclass(frozen=True, slots=True)
class Reading:
    sensor: SensorInfo  # resolved once at decode, so later stages need no lookup
    ts_ms: int  # UTC epoch milliseconds: the reading's own time, never the arrival time
    value: float
    quality: Quality = Quality.GOOD
    simulated: bool = False  # from a simulator or drill: never pages real people

    @property
    def enterprise(self) -> str:
        return self.sensor.enterprise.code

    @property
    def tag(self) -> str:
        return self.sensor.sensor.tag
