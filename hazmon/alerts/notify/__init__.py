"""Alarm notification: the outbox drained through one declared pipeline of stages
(pipeline.py: quiet → route → dedup → record → group → deliver → settle) onto the
channels of the registry (channels/: MQTT to the plant's HMI, signed webhooks, email).

    config = NotifyConfig.model_validate(yaml.safe_load(text))
    async with Notifier(store, config, directory, publish=source.publish) as notifier:
        await notifier.run(poll_s=1.0)
"""

from hazmon.alerts.notify.channels import (
    CHANNEL_TYPES,
    ChannelConfig,
    ChannelDeps,
    ChannelType,
    Publish,
    UnknownChannelTypeError,
    build_channel,
)
from hazmon.alerts.notify.channels.email import EmailChannelConfig, SmtpSettings
from hazmon.alerts.notify.channels.mqtt import MqttChannelConfig, alarms_topic
from hazmon.alerts.notify.channels.webhook import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookChannelConfig,
    sign,
    verify_signature,
)
from hazmon.alerts.notify.config import (
    GroupingConfig,
    NotifyConfig,
    RetryPolicy,
    Route,
    RouteMatch,
    plant_only_config,
)
from hazmon.alerts.notify.delivery import DeliveryRow, DeliveryStatus
from hazmon.alerts.notify.message import Channel, DeliveryError, Message, Recipient
from hazmon.alerts.notify.notifier import Notifier
from hazmon.alerts.notify.pipeline import PIPELINE
from hazmon.alerts.notify.stage import Context, Dispatch, Stage, Work

__all__ = [
    "CHANNEL_TYPES",
    "DELIVERY_HEADER",
    "PIPELINE",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "Channel",
    "ChannelConfig",
    "ChannelDeps",
    "ChannelType",
    "Context",
    "DeliveryError",
    "DeliveryRow",
    "DeliveryStatus",
    "Dispatch",
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
    "Stage",
    "UnknownChannelTypeError",
    "WebhookChannelConfig",
    "Work",
    "alarms_topic",
    "build_channel",
    "plant_only_config",
    "sign",
    "verify_signature",
]
