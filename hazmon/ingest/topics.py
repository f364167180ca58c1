"""MQTT topics of docs/CONTRACT.md §2: parsing incoming topics and building subscriptions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from hazmon.domain.ids import is_enterprise, is_region

ROOT = "hazmon/v1"


class Channel(StrEnum):
    TELEMETRY = "telemetry"
    STATUS = "status"
    ALARMS = "alarms"
    ROLLCALL = "rollcall"  # the plant's answer to a roll call (docs/CONTRACT.md §7.5)


@dataclass(frozen=True, slots=True)
class Route:
    region: str
    enterprise: str
    channel: Channel


class TopicError(ValueError):
    """The topic does not follow hazmon/v1/{region}/{enterprise}/{channel}."""


def parse_topic(topic: str) -> Route:
    parts = topic.split("/")
    if len(parts) != 5 or f"{parts[0]}/{parts[1]}" != ROOT:
        raise TopicError(f"topic {topic!r} is not {ROOT}/{{region}}/{{enterprise}}/{{channel}}")
    _, _, region, enterprise, channel = parts
    if not is_region(region):
        raise TopicError(f"topic {topic!r}: region {region!r} is not a 6-digit division code")
    if not is_enterprise(enterprise):
        raise TopicError(
            f"topic {topic!r}: enterprise {enterprise!r} is not an 18-character credit code"
        )
    try:
        ch = Channel(channel)
    except ValueError:
        raise TopicError(f"topic {topic!r}: unknown channel {channel!r}") from None
    return Route(region, enterprise, ch)


def topic_for(region: str, enterprise: str, channel: Channel) -> str:
    return f"{ROOT}/{region}/{enterprise}/{channel.value}"


def owned_regions(prefixes: Iterable[str], registry_regions: Iterable[str]) -> list[str] | None:
    """The registry regions this instance owns, or None when it owns every region."""
    wanted = [p for p in prefixes if p]
    if not wanted:
        return None
    return sorted(r for r in set(registry_regions) if any(r.startswith(p) for p in wanted))


def subscriptions(regions: list[str] | None) -> list[str]:
    """Topic filters for the owned regions.

    `+` at the channel level (not just `telemetry`) so a gateway publishing to a
    misspelled channel is seen and rejected with a reason instead of silently lost.
    """
    if regions is None:
        return [f"{ROOT}/+/+/+"]
    return [f"{ROOT}/{r}/+/+" for r in regions]
