"""Email through stdlib smtplib (in a thread) to a tiny SMTP sink on a loopback port."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy

import pytest

from hazmon.alerts import AlarmService, AlarmStore
from hazmon.alerts.notify import Notifier
from tests.alerts.notify_support import NDIR, config
from tests.alerts.support import T0, FakeClock, make_signal


@dataclass
class SmtpSink:
    """Just enough SMTP (RFC 5321) for smtplib: EHLO, MAIL, RCPT, DATA, QUIT."""

    mails: list[tuple[str, list[str], bytes]] = field(default_factory=list)
    port: int = 0
    refuse_with: str | None = None  # e.g. "451 try later" for the next DATA

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def say(line: str) -> None:
            writer.write(line.encode() + b"\r\n")
            await writer.drain()

        await say("220 sink ESMTP")
        sender, rcpts = "", list[str]()
        while line := await reader.readline():
            cmd = line.decode().strip()
            verb = cmd.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                await say("250 sink")
            elif verb == "MAIL":
                sender, rcpts = cmd[10:].strip("<>"), []
                await say("250 ok")
            elif verb == "RCPT":
                rcpts.append(cmd[8:].strip("<>"))
                await say("250 ok")
            elif verb == "DATA":
                await say("354 go on")
                data = b""
                while (chunk := await reader.readline()) != b".\r\n":
                    data += chunk
                if self.refuse_with:
                    await say(self.refuse_with)
                    self.refuse_with = None
                else:
                    self.mails.append((sender, rcpts, data))
                    await say("250 queued")
            elif verb == "QUIT":
                await say("221 bye")
                break
            else:
                await say("250 ok")  # RSET, NOOP
        writer.close()


@pytest.fixture
async def smtp_sink() -> AsyncIterator[SmtpSink]:
    sink = SmtpSink()
    server = await asyncio.start_server(sink.handle, "127.0.0.1", 0)
    sink.port = server.sockets[0].getsockname()[1]
    async with server:
        yield sink


async def test_email_is_sent_and_retried(
    nservice: AlarmService, store: AlarmStore, clock: FakeClock, smtp_sink: SmtpSink
) -> None:
    cfg = config([{"name": "mail", "type": "email",
                   "smtp": {"host": "127.0.0.1", "port": smtp_sink.port,
                            "sender": "hazmon@example.cn", "to": ["duty@example.cn"]}}],
                 [{"to": ["mail"]}])
    smtp_sink.refuse_with = "451 try again later"
    alarm = await nservice.handle_signal(make_signal())
    assert alarm is not None
    async with Notifier(store, cfg, NDIR, None, clock, rng=random.Random(2)) as n:
        assert (await n.run_once(T0))["failed"] == 1
        assert (await n.run_once(T0 + 60_000))["sent"] == 1
    ((sender, rcpts, data),) = smtp_sink.mails
    assert (sender, rcpts) == ("hazmon@example.cn", ["duty@example.cn"])
    mail = message_from_bytes(data, policy=policy.default)
    assert "[high]" in str(mail["Subject"])
    body = mail.get_body()
    assert body is not None
    assert "高高限" in body.get_content()
    assert mail["X-Hazmon-Delivery"].startswith("n")
