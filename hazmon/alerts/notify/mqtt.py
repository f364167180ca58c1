"""MQTT channel: the alarm event to the plant's own HMI on
`hazmon/v1/{region}/{enterprise}/alarms` (CONTRACT §2), QoS 1, not retained."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from hazmon.alerts.notify.config import MqttChannelConfig
from hazmon.alerts.notify.message import DeliveryError, Message

# Service.source.publish has this shape: False when the broker is not connected.
Publish = Callable[..., Awaitable[bool]]

TOPIC_ROOT = "hazmon/v1"


def alarms_topic(region: str, enterprise: str) -> str:
    return f"{TOPIC_ROOT}/{region}/{enterprise}/alarms"


class MqttChannel:
    type = "mqtt"

    def __init__(self, config: MqttChannelConfig, publish: Publish | None) -> None:
        self.name = config.name
        self.test = config.test
        self.qos = config.qos
        self._publish = publish

    async def send(self, message: Message) -> None:
        topic = message.recipient.topic
        if not topic:
            raise DeliveryError(self.name, "no topic (enterprise without a region)",
                                permanent=True)
        if self._publish is None:
            raise DeliveryError(self.name, "no MQTT connection configured", permanent=True)
        try:
            ok = await self._publish(topic, message.json_bytes(), qos=self.qos)
        except Exception as exc:  # the broker client's own errors: retry later
            raise DeliveryError(self.name, f"publish to {topic} failed: {exc!r}") from exc
        if not ok:
            raise DeliveryError(self.name, f"broker not connected ({topic})")
