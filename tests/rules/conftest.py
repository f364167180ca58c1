"""Fixtures of the rules tests: the small registry of tests.rules.support and an engine."""

from __future__ import annotations

import pytest

from hazmon.domain.registry import Registry
from hazmon.rules import RulesEngine
from tests.rules.support import make_registry


@pytest.fixture
def reg() -> Registry:
    return make_registry()


@pytest.fixture
def engine(reg: Registry) -> RulesEngine:
    return RulesEngine(reg)
