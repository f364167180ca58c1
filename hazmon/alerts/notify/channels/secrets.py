"""Where a push channel's credential lives, and keeping it out of logs and records.

The SMS, WeCom and DingTalk channels never take a key inline in the YAML (a config file
is copied, diffed and pasted into tickets): the config names an environment variable or
a file, and the value is read once, when the channel is built at start.

    key: {env: HAZMON_SMS_KEY}             # the variable must be set and not empty
    key: {file: /etc/hazmon/sms.key}       # the first line of the file, stripped

A robot webhook carries its credential in the URL's query (`key=`, `access_token=`),
and httpx logs request URLs at INFO: every value read here is registered with a filter
on the httpx loggers that masks it, so a debug log of a delivery shows `***` instead.
Delivery reasons (stored in `notify_deliveries` and the audit) go through `redact` too.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, quote_plus

from pydantic import Field, model_validator

from hazmon.alerts.errors import AlertsError
from hazmon.alerts.notify.strict import Strict

MASK = "***"
_MIN_LEN = 4  # shorter values are not masked: "1" would mask every digit of a log


class ChannelSecretError(AlertsError):
    """A channel's secret cannot be read. Names where it was looked for, never a value."""


class SecretRef(Strict):
    """Exactly one of `env` (an environment variable's name) or `file` (a path)."""

    env: Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")] | None = None
    file: Path | None = None

    @model_validator(mode="before")
    @classmethod
    def _not_inline(cls, value: Any) -> Any:
        if isinstance(value, str):
            raise ValueError("a secret is never written in the config: "
                             "give {env: VARIABLE} or {file: PATH}")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> SecretRef:
        if (self.env is None) == (self.file is None):
            raise ValueError("give exactly one of env and file")
        return self

    def where(self) -> str:
        return f"environment variable {self.env}" if self.env else f"file {self.file}"

    def read(self, channel: str, what: str) -> str:
        """The secret's value (registered for masking); ChannelSecretError if absent."""
        if self.env is not None:
            value = os.environ.get(self.env, "").strip()
        else:
            assert self.file is not None
            try:
                lines = self.file.read_text(encoding="utf-8").splitlines()
            except OSError as exc:
                raise ChannelSecretError(
                    f"channel {channel}: {what} file {self.file}: {exc.strerror}") from None
            value = lines[0].strip() if lines else ""
        if not value:
            raise ChannelSecretError(f"channel {channel}: {what} not set ({self.where()} "
                                     "is missing or empty)")
        register(value)
        return value


_lock = threading.Lock()
_known: set[str] = set()


def _forms(secret: str) -> set[str]:
    # as read, and as it appears once percent-encoded in a URL's query
    return {secret, quote(secret, safe=""), quote_plus(secret)}


def register(secret: str) -> None:
    """Mask this value in httpx's logs from now on (see the module docstring)."""
    if len(secret) < _MIN_LEN:
        return
    with _lock:
        _known.update(_forms(secret))
    _install()


def redact(text: str, *secrets: str) -> str:
    """`text` with every given and every registered secret replaced by `***`."""
    with _lock:
        known = set(_known)
    for s in secrets:
        if len(s) >= _MIN_LEN:
            known |= _forms(s)
    for s in sorted(known, key=len, reverse=True):  # longest first: a form inside another
        text = text.replace(s, MASK)
    return text


class RedactFilter(logging.Filter):
    """Formats the record once and masks the registered secrets in the result."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: logging reports it itself
            return True
        masked = redact(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


_FILTER = RedactFilter()
# httpx logs each request's URL on "httpx"; httpcore's trace loggers are its children.
_LOGGERS = ("httpx", "httpcore", "httpcore.connection", "httpcore.http11", "httpcore.http2")


def _install() -> None:
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
