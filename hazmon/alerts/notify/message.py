"""What a channel is given and answers: a recipient, a message, the channel protocol and
its delivery error."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from hazmon.alerts.errors import AlertsError

RecipientKind = Literal["enterprise", "contact", "centre", "topic"]


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who a message is for. `enterprise`: the plant's duty line (whatever the channel maps
    it to); `contact`: a person in charge (包保责任人) of the hazard source's enterprise;
    `centre`: a county / city / province monitoring centre; `topic`: an MQTT topic."""

    kind: RecipientKind
    enterprise: str | None = None
    role: str | None = None
    name: str | None = None
    phone: str | None = None
    level: str | None = None
    region: str | None = None
    topic: str | None = None
    missing: str | None = None  # e.g. "no technical contact registered": sent to the duty line

    def key(self) -> str:
        match self.kind:
            case "contact":
                return f"contact:{self.enterprise}:{self.role}:{self.phone}"
            case "centre":
                return f"centre:{self.level}:{self.region}"
            case "topic":
                return f"topic:{self.topic}"
            case _:
                return f"enterprise:{self.enterprise}"

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in (
            ("kind", self.kind), ("enterprise", self.enterprise), ("role", self.role),
            ("name", self.name), ("phone", self.phone), ("level", self.level),
            ("region", self.region), ("topic", self.topic), ("missing", self.missing),
        ) if v is not None}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Recipient:
        return cls(kind=d["kind"], enterprise=d.get("enterprise"), role=d.get("role"),
                   name=d.get("name"), phone=d.get("phone"), level=d.get("level"),
                   region=d.get("region"), topic=d.get("topic"), missing=d.get("missing"))


@dataclass(frozen=True, slots=True)
class Message:
    """One thing to deliver on one channel to one recipient: a single alarm event (the
    docs/CONTRACT.md §5.6 dict, `body`) or a digest of several."""

    id: str  # idempotency key for the receiver (at-least-once delivery)
    channel: str
    recipient: Recipient
    kind: Literal["alarm", "escalate", "digest"]
    body: Mapping[str, Any]
    subject: str
    text: str
    simulated: bool = False
    notification_ids: tuple[int, ...] = field(default_factory=tuple)

    def json_bytes(self) -> bytes:
        return json.dumps(self.body, ensure_ascii=False, separators=(",", ":"),
                          default=str).encode("utf-8")


class DeliveryError(AlertsError):
    """A channel could not deliver. `permanent`: retrying will not help (e.g. HTTP 400)."""

    def __init__(self, channel: str, reason: str, *, permanent: bool = False) -> None:
        self.channel = channel
        self.reason = reason
        self.permanent = permanent
        super().__init__(f"{channel}: {reason}")


class Channel(Protocol):
    name: str
    type: str
    test: bool

    async def send(self, message: Message) -> None:
        """Deliver or raise DeliveryError."""
