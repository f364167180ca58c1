from __future__ import annotations

from collections.abc import Iterator

import pytest

from hazmon.simulators.plant import EnterprisePlant, build_plants
from hazmon.simulators.registry_gen import GeneratedRegistry, generate_registry
from hazmon.testing.mosquitto import Mosquitto
from hazmon.testing.process import ServerStartError
from tests.real_parts import missing


@pytest.fixture(scope="session")
def registry() -> GeneratedRegistry:
    return generate_registry(3, seed=7)


@pytest.fixture
def plant(registry: GeneratedRegistry) -> EnterprisePlant:
    """The first enterprise: MHS-01 tank farm, MHS-02 production unit, MHS-03 warehouse,
    MHS-04 tank farm (tiers 1-4)."""
    return build_plants(registry.data, seed=7)[0]


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    try:
        with Mosquitto(tmp_path_factory.mktemp("mq")) as mq:
            yield mq
    except ServerStartError as exc:
        pytest.skip(missing(f"Mosquitto ({exc})", "apt-get install mosquitto"))
