"""MQTT channel: the alarm event to the plant's own HMI on
`hazmon/v1/{region}/{enterprise}/alarms` (docs/CONTRACT.md §2), QoS 1, not retained.

Unlike the people-facing channels it is addressed to a topic (not a person), is not
grouped into digests by default, and a simulated plant's own HMI receives its simulated
alarms: a demo plant shows its demo alarms.
"""

from __future__ import annotations

from typing import Literal

from hazmon.alerts.directory import NotifyDirectory
from hazmon.alerts.notify.channels.base import ChannelConfig, ChannelDeps, ChannelType
from hazmon.alerts.notify.message import DeliveryError, Message, Recipient
from hazmon.alerts.outbox import Notification

TOPIC_ROOT = "hazmon/v1"


def alarms_topic(region: str, enterprise: str) -> str:
    return f"{TOPIC_ROOT}/{region}/{enterprise}/alarms"


class MqttChannelConfig(ChannelConfig):
    """The plant's own `hazmon/v1/{region}/{enterprise}/alarms` topic (docs/CONTRACT.md §2)."""

    type: Literal["mqtt"]
    qos: Literal[0, 1, 2] = 1


class MqttChannel:
    type = "mqtt"

    def __init__(self, config: MqttChannelConfig, deps: ChannelDeps) -> None:
        self.name = config.name
        self.test = config.test
        self.qos = config.qos
        self._publish = deps.publish

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


def plant_topic(note: Notification, recipient: Recipient) -> Recipient:
    region, enterprise = note.payload.get("region"), note.payload.get("enterprise")
    return Recipient("topic", str(enterprise),
                     topic=alarms_topic(str(region), str(enterprise))
                     if region and enterprise else None)


def no_topic(recipient: Recipient) -> str | None:
    return "no plant topic: enterprise without a region" if recipient.topic is None else None


def simulated_plant(note: Notification, directory: NotifyDirectory | None) -> bool:
    enterprise = str(note.payload.get("enterprise", ""))
    return directory is not None and directory.is_simulated(enterprise)


MQTT = ChannelType(MqttChannelConfig, MqttChannel, groups_by_default=False,
                   address=plant_topic, unreachable=no_topic, takes_simulated=simulated_plant)
