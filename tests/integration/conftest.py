"""Integration fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hazmon.testing.mosquitto import Mosquitto


@pytest.fixture(scope="module")
def own_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    """A broker for one test module: simulated gateways leave retained status messages
    behind, which other modules' tests would receive from a shared broker."""
    with Mosquitto(tmp_path_factory.mktemp("mosquitto-module")) as broker:
        yield broker
