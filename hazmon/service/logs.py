"""Logging setup for the command line: one line per event, UTC times."""

from __future__ import annotations

import logging
import time


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    fmt = logging.Formatter("%(asctime)s.%(msecs)03dZ %(levelname)-7s %(name)s: %(message)s",
                            "%Y-%m-%dT%H:%M:%S")
    fmt.converter = time.gmtime
    handler.setFormatter(fmt)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # paho logs every packet at DEBUG and aiomqtt repeats connection errors we log ourselves.
    logging.getLogger("mqtt").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
