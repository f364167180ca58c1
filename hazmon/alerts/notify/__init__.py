"""Alarm notification: the outbox drained through quiet → route → dedup → group →
deliver (retry) → record, on MQTT (the plant's HMI), signed webhooks and email.

    config = NotifyConfig.model_validate(yaml.safe_load(text))
    async with Notifier(store, config, directory, publish=source.publish) as notifier:
        await notifier.run(poll_s=1.0)
"""

from hazmon.alerts.notify.config import (
    ChannelConfig,
    EmailChannelConfig,
    GroupingConfig,
    MqttChannelConfig,
    NotifyConfig,
    RetryPolicy,
    Route,
    RouteMatch,
    SmtpSettings,
    WebhookChannelConfig,
    plant_only_config,
)
from hazmon.alerts.notify.message import Channel, DeliveryError, Message, Recipient
from hazmon.alerts.notify.mqtt import Publish, alarms_topic
from hazmon.alerts.notify.notifier import Notifier
from hazmon.alerts.notify.record import DeliveryRow, DeliveryStatus
from hazmon.alerts.notify.webhook import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
    verify_signature,
)

__all__ = [
    "DELIVERY_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "Channel",
    "ChannelConfig",
    "DeliveryError",
    "DeliveryRow",
    "DeliveryStatus",
    "EmailChannelConfig",
    "GroupingConfig",
    "Message",
    "MqttChannelConfig",
    "Notifier",
    "NotifyConfig",
    "Publish",
    "Recipient",
    "RetryPolicy",
    "Route",
    "RouteMatch",
    "SmtpSettings",
    "WebhookChannelConfig",
    "alarms_topic",
    "plant_only_config",
    "sign",
    "verify_signature",
]
