"""Notification config: strict models (a misspelled key fails at start, with its path).

    channels:
      - {name: plant-hmi, type: mqtt}
      - {name: sms, type: webhook, url: "https://sms-gw.example/hook", secret: "..."}
      - {name: city-3209, type: webhook, url: "https://...", secret: "...", group_by: channel}
      - {name: drill, type: webhook, url: "http://127.0.0.1:9000/", secret: "x", test: true}
      - name: duty-mail
        type: email
        smtp: {host: smtp.example, port: 587, starttls: true, sender: hazmon@example,
               to: [duty@example]}
    routes:                       # every matching route adds its channels (a union)
      - {match: {kind: [alarm]}, to: [plant-hmi]}
      - {match: {kind: [alarm], min_priority: high}, to: [sms]}
      - {match: {kind: [escalate], level: [operational, technical, principal]}, to: [sms]}
      - {match: {kind: [escalate], level: [city], region_prefix: "3209"}, to: [city-3209]}
      - {match: {simulated: true}, to: [drill]}
    grouping: {threshold: 5, window_s: 60}
    retry: {max_attempts: 8, initial_s: 5, max_s: 600}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal, Union

from pydantic import Field, model_validator

from hazmon.alerts.notify.channels import CHANNEL_TYPES, ChannelConfig
from hazmon.alerts.notify.strict import ChannelName, Strict
from hazmon.domain.signal import Priority

if TYPE_CHECKING:
    AnyChannelConfig = ChannelConfig
else:
    # One entry per registered channel type, told apart by `type`: a channel's own keys
    # are checked by its own model, and an unknown type names the known ones.
    AnyChannelConfig = Annotated[
        Union[tuple(t.config for t in CHANNEL_TYPES.values())],  # noqa: UP007
        Field(discriminator="type"),
    ]

# escalation.CONTACT_LEVELS | CENTRE_LEVELS
Level = Literal["operational", "technical", "principal", "county", "city", "province"]


class RouteMatch(Strict):
    """Every field left out matches everything; a list matches any of its values."""

    kind: list[Literal["alarm", "escalate"]] | None = None
    event: list[str] | None = None  # raised, cleared, unshelved, escalated, ...
    enterprise: list[str] | None = None
    region_prefix: Annotated[str, Field(pattern=r"^[0-9]{1,6}$")] | None = None
    hazard_source: list[str] | None = None
    tier: list[Annotated[int, Field(ge=1, le=4)]] | None = None
    priority: list[Priority] | None = None
    min_priority: Priority | None = None  # this priority or a more urgent one
    level: list[Level] | None = None  # escalation level (escalate notifications only)
    simulated: bool | None = None


class Route(Strict):
    name: str | None = None
    match: RouteMatch = Field(default_factory=RouteMatch)
    to: list[ChannelName] = Field(min_length=1)


class GroupingConfig(Strict):
    """At most `threshold` single messages per recipient in any `window_s`; beyond that
    the rest wait (at most `digest_wait_s`, default the window) and go as one digest.
    While a recipient has had a digest within the window, new ones join the next digest,
    so a sustained flood makes one message per window, not one per alarm."""

    enabled: bool = True
    threshold: int = Field(default=5, ge=1)
    window_s: float = Field(default=60.0, gt=0)
    digest_wait_s: float | None = Field(default=None, gt=0)
    top: int = Field(default=10, ge=1)  # items listed in full in a digest

    @property
    def window_ms(self) -> int:
        return int(self.window_s * 1000)

    @property
    def wait_ms(self) -> int:
        return int((self.digest_wait_s if self.digest_wait_s is not None else self.window_s)
                   * 1000)


class RetryPolicy(Strict):
    """Capped, jittered exponential backoff: attempt n waits
    min(max_s, initial_s * multiplier**(n-1)) * (1 - jitter * U[0, 1))."""

    max_attempts: int = Field(default=8, ge=1)
    initial_s: float = Field(default=5.0, gt=0)
    max_s: float = Field(default=600.0, gt=0)
    multiplier: float = Field(default=2.0, ge=1)
    jitter: float = Field(default=0.2, ge=0, lt=1)


class NotifyConfig(Strict):
    channels: list[AnyChannelConfig] = Field(default_factory=list)
    routes: list[Route] = Field(default_factory=list)
    grouping: GroupingConfig = Field(default_factory=GroupingConfig)
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    batch: int = Field(default=200, ge=1)  # outbox rows looked at per run

    @model_validator(mode="after")
    def _names(self) -> NotifyConfig:
        names = [c.name for c in self.channels]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"duplicate channel names: {', '.join(dup)}")
        known = set(names)
        for i, route in enumerate(self.routes):
            unknown = [n for n in route.to if n not in known]
            if unknown:
                raise ValueError(f"routes[{i}].to: unknown channel(s) {', '.join(unknown)}")
        return self

    def channel(self, name: str) -> ChannelConfig:
        return next(c for c in self.channels if c.name == name)


def plant_only_config(publish_to_plants: bool = True) -> NotifyConfig:
    """What hazmon did before routes were configured: every announced alarm event to the
    plant's own `alarms` topic (nothing at all when `publish_to_plants` is off)."""
    if not publish_to_plants:
        return NotifyConfig()
    return NotifyConfig.model_validate({
        "channels": [{"name": "plant", "type": "mqtt"}],
        "routes": [{"match": {"kind": ["alarm"]}, "to": ["plant"]}],
    })
