"""HTTP API and the monitoring-centre web page."""

from hazmon.api.app import create_app
from hazmon.api.context import ApiContext
from hazmon.api.scope import Principal, Role
from hazmon.api.tokens import TokenStore

__all__ = ["ApiContext", "Principal", "Role", "TokenStore", "create_app"]
