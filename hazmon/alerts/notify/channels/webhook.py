"""Signed webhooks, for SMS / messaging gateways and monitoring-centre systems.

Each POST carries the JSON body (the docs/CONTRACT.md §5.6 alarm event plus a `notification` object
saying whom it is for, or a digest) and these headers:

    Content-Type:        application/json; charset=utf-8
    X-Hazmon-Delivery:   <message id>   same on every retry: the receiver drops repeats
    X-Hazmon-Timestamp:  <unix seconds when this attempt was signed>
    X-Hazmon-Signature:  sha256=<hex HMAC-SHA256(secret, "<timestamp>." + raw body)>

The receiver recomputes the HMAC over the timestamp, a dot and the raw body bytes (before
any JSON parsing), compares in constant time, and refuses a timestamp more than 5 minutes
from its clock: a captured request cannot be replayed later, and the timestamp cannot be
changed without breaking the signature. `verify_signature` below does exactly that.

A 2xx answer is a delivery; 408, 425, 429 and 5xx (and network errors) are retried; any
other status is permanent (the gateway refuses this message) and is given up at once.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping
from typing import Annotated, Literal

import httpx
from pydantic import Field, SecretStr

from hazmon.alerts.notify.channels.base import ChannelConfig, ChannelDeps, ChannelType
from hazmon.alerts.notify.message import DeliveryError, Message

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Hazmon-Signature"
TIMESTAMP_HEADER = "X-Hazmon-Timestamp"
DELIVERY_HEADER = "X-Hazmon-Delivery"
REPLAY_TOLERANCE_S = 300
_RETRY_STATUS = frozenset({408, 425, 429})


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(secret: str, headers: Mapping[str, str], body: bytes, now_s: float,
                     tolerance_s: float = REPLAY_TOLERANCE_S) -> bool:
    """For receivers (and tests): the signature matches and the timestamp is fresh.
    `headers` must look names up case-insensitively (as HTTP servers' header maps do)."""
    try:
        ts = int(headers[TIMESTAMP_HEADER])
        given = headers[SIGNATURE_HEADER]
    except (KeyError, ValueError):
        return False
    if abs(now_s - ts) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, ts, body), given)


class WebhookChannelConfig(ChannelConfig):
    """POST of the alarm event JSON, signed (the scheme is in this module's docstring)."""

    type: Literal["webhook"]
    url: Annotated[str, Field(pattern=r"^https?://\S+$")]
    secret: SecretStr = Field(min_length=16)
    timeout_s: float = Field(default=10.0, gt=0)
    headers: dict[str, str] = Field(default_factory=dict)


class WebhookChannel:
    type = "webhook"

    def __init__(self, config: WebhookChannelConfig, deps: ChannelDeps) -> None:
        self.name = config.name
        self.test = config.test
        self.url = config.url
        self._secret = config.secret.get_secret_value()
        self._timeout = config.timeout_s
        self._headers = dict(config.headers)
        self._client = deps.http
        self._wall_s = deps.wall_s  # the signing time is real time: receivers check it

    async def send(self, message: Message) -> None:
        body = message.json_bytes()
        ts = int(self._wall_s())
        headers = {
            **self._headers,
            "Content-Type": "application/json; charset=utf-8",
            DELIVERY_HEADER: message.id,
            TIMESTAMP_HEADER: str(ts),
            SIGNATURE_HEADER: sign(self._secret, ts, body),
        }
        try:
            resp = await self._client.post(self.url, content=body, headers=headers,
                                           timeout=self._timeout)
        except httpx.HTTPError as exc:
            raise DeliveryError(self.name, f"POST failed: {exc!r}") from exc
        if resp.is_success:
            return
        status = resp.status_code
        permanent = not (status >= 500 or status in _RETRY_STATUS)
        raise DeliveryError(self.name, f"HTTP {status}: {resp.text[:200]}", permanent=permanent)


WEBHOOK = ChannelType(WebhookChannelConfig, WebhookChannel)
