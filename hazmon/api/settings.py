"""Settings of the HTTP API server: the `http` section of `hazmon.service.settings.Settings`."""

from __future__ import annotations

from hazmon.core.section import Section


class HttpSettings(Section):
    host: str = "127.0.0.1"
    port: int = 8080
