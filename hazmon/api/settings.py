"""Settings of the HTTP API server: the `http` section of `hazmon.service.settings.Settings`."""

from __future__ import annotations

from pydantic import Field

from hazmon.api.rights import Action, RoleSet
from hazmon.core.section import Section


class HttpSettings(Section):
    host: str = "127.0.0.1"
    port: int = 8080
    # Per action, the roles that may do it, replacing the default for that action
    # (hazmon.api.rights.DEFAULT_RIGHTS, docs/SECURITY.md); unknown actions or roles fail.
    rights: dict[Action, RoleSet] = Field(default_factory=dict)
