"""Settings of the HTTP API server: the `http` section of `hazmon.service.settings.Settings`."""

from __future__ import annotations

import ipaddress
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Self

from pydantic import Field, field_validator, model_validator

from hazmon.api.rights import Action, RoleSet
from hazmon.api.tokens import (
    DEFAULT_GRACE_S,
    DEFAULT_LIFETIME_DAYS,
    MAX_GRACE_S,
    MAX_LIFETIME_DAYS,
    TokenPolicy,
)
from hazmon.core.section import Section


class HttpSettings(Section):
    host: str = "127.0.0.1"
    port: int = 8080
    # HTTPS on the API port: a PEM certificate (chain) and its key; both or neither. Or
    # keep plain HTTP on loopback behind a reverse proxy (docs/SECURITY.md, "HTTPS").
    certificate_file: Path | None = None
    key_file: Path | None = None
    # A second listener for /health (detail) and /metrics without a token, for a Prometheus
    # on the same host: loopback addresses only. None: no such listener.
    ops_port: int | None = Field(None, ge=0, le=65535)
    ops_host: str = "127.0.0.1"
    # Reverse proxies in front of the API (addresses or networks): from these peers only,
    # X-Forwarded-For names the client for the sign-in limits and logs. Empty: never read.
    trusted_proxies: list[IPv4Network | IPv6Network] = Field(default_factory=list)
    # API tokens: lifetime of a new or rotated token, and how long the previous secret of a
    # rotated one stays valid (`hazmon token create --days`, `rotate --grace-hours` override)
    token_lifetime_days: int = Field(DEFAULT_LIFETIME_DAYS, ge=1, le=MAX_LIFETIME_DAYS)
    token_rotation_grace_s: int = Field(DEFAULT_GRACE_S, ge=0, le=MAX_GRACE_S)
    # failed sign-ins a minute before 429: per client address (then even a right token is
    # refused from there) and per token id (then only its right secret still passes)
    auth_failures_per_minute: int = Field(10, ge=1, le=10_000)
    token_failures_per_minute: int = Field(10, ge=1, le=10_000)
    # Per action, the roles that may do it, replacing the default for that action
    # (hazmon.api.rights.DEFAULT_RIGHTS, docs/SECURITY.md); unknown actions or roles fail.
    rights: dict[Action, RoleSet] = Field(default_factory=dict)

    def token_policy(self) -> TokenPolicy:
        return TokenPolicy(self.token_lifetime_days, self.token_rotation_grace_s)

    @field_validator("ops_host")
    @classmethod
    def _loopback(cls, value: str) -> str:
        try:
            loopback = ipaddress.ip_address(value).is_loopback
        except ValueError:
            loopback = value == "localhost"
        if not loopback:
            raise ValueError("the operations listener serves metrics without a token: "
                             "it may listen on a loopback address only (127.0.0.1, ::1)")
        return value

    @model_validator(mode="after")
    def _tls_pair(self) -> Self:
        if (self.certificate_file is None) != (self.key_file is None):
            raise ValueError("HTTPS needs both certificate_file and key_file")
        return self
