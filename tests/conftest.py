"""Shared fixtures: real Mosquitto and InfluxDB servers for the session, on free ports."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from hazmon.domain.registry import Registry, load_registry
from hazmon.testing.influxdb import InfluxDB
from hazmon.testing.mosquitto import Mosquitto
from tests.real_parts import (  # noqa: F401 - hooks: a missing real part is never silent
    pytest_make_collect_report,
    pytest_runtest_makereport,
    pytest_terminal_summary,
)
from tests.support import REGISTRY_FILE

_ids = itertools.count(1)


@pytest.fixture(scope="session")
def registry() -> Registry:
    return load_registry(REGISTRY_FILE)


@pytest.fixture(scope="session")
def mosquitto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    with Mosquitto(tmp_path_factory.mktemp("mosquitto")) as broker:
        yield broker


@pytest.fixture(scope="session")
def influxdb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxDB]:
    with InfluxDB(tmp_path_factory.mktemp("influxdb")) as server:
        yield server


@pytest.fixture
def unique() -> str:
    """A short name unique in this test session: databases, client ids."""
    return f"t{next(_ids)}"
