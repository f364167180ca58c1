"""A validated sensor reading: what ingest hands to the sink and the rules."""

from __future__ import annotations

from enum import StrEnum

import msgspec

from hazmon.domain.registry import SensorInfo


class Quality(StrEnum):
    GOOD = "good"
    UNCERTAIN = "uncertain"
    BAD = "bad"


# A C-level struct, not a frozen dataclass: one is made per reading, and a frozen
# dataclass's __init__ (an object.__setattr__ per field) cost ~6x as much (bench.hotpath).
# gc=False: a reading refers only to the registry and scalars, never back to itself, so
# it cannot be part of a cycle, and untracked objects do not drive the collector.
class Reading(msgspec.Struct, frozen=True, gc=False):
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
