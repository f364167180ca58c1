"""Email channel: stdlib smtplib, run in a thread so the event loop never blocks on SMTP."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Literal

from pydantic import Field, SecretStr, model_validator

from hazmon.alerts.notify.channels.base import ChannelConfig, ChannelDeps, ChannelType
from hazmon.alerts.notify.message import DeliveryError, Message
from hazmon.alerts.notify.strict import Strict


class SmtpSettings(Strict):
    host: str = Field(min_length=1)
    port: int = Field(default=25, ge=1, le=65535)
    starttls: bool = False
    ssl: bool = False  # implicit TLS (port 465)
    username: str | None = None
    password: SecretStr | None = None
    sender: str = Field(min_length=3)
    to: list[str] = Field(min_length=1)
    timeout_s: float = Field(default=10.0, gt=0)

    @model_validator(mode="after")
    def _tls_once(self) -> SmtpSettings:
        if self.ssl and self.starttls:
            raise ValueError("choose one of ssl and starttls")
        return self


class EmailChannelConfig(ChannelConfig):
    type: Literal["email"]
    smtp: SmtpSettings


def build_email(smtp: SmtpSettings, message: Message) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = smtp.sender
    mail["To"] = ", ".join(smtp.to)
    prefix = "[演练/SIMULATED] " if message.simulated else ""
    mail["Subject"] = prefix + message.subject
    mail["Message-ID"] = make_msgid(idstring=message.id.replace(":", "."), domain="hazmon")
    mail["X-Hazmon-Delivery"] = message.id
    mail["Date"] = format_datetime(datetime.now(UTC))
    mail.set_content(message.text)
    return mail


class EmailChannel:
    type = "email"

    def __init__(self, config: EmailChannelConfig, deps: ChannelDeps) -> None:
        self.name = config.name
        self.test = config.test
        self.smtp = config.smtp

    async def send(self, message: Message) -> None:
        mail = build_email(self.smtp, message)
        try:
            await asyncio.to_thread(self._send_sync, mail)
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(self.name, f"recipients refused: {exc.recipients}",
                                permanent=True) from exc
        except smtplib.SMTPResponseException as exc:
            # 5xx is a final refusal by the server; 4xx is "try again later"
            raise DeliveryError(self.name, f"SMTP {exc.smtp_code}: {exc.smtp_error!r}",
                                permanent=500 <= exc.smtp_code < 600) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(self.name, f"SMTP failed: {exc!r}") from exc

    def _send_sync(self, mail: EmailMessage) -> None:
        s = self.smtp
        client: smtplib.SMTP
        if s.ssl:
            client = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_s,
                                      context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(s.host, s.port, timeout=s.timeout_s)
        with client:
            if s.starttls:
                client.starttls(context=ssl.create_default_context())
            if s.username:
                password = s.password.get_secret_value() if s.password else ""
                client.login(s.username, password)
            client.send_message(mail, from_addr=s.sender, to_addrs=list(s.to))


EMAIL = ChannelType(EmailChannelConfig, EmailChannel)
