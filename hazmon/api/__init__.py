"""HTTP API and the monitoring-centre web page."""

from hazmon.api.app import create_app

__all__ = ["create_app"]
