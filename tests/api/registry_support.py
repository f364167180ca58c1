"""The test registry with some of its enterprises flagged `simulated`, put under an Api:
a centre mixing real and simulated plants, or a demo where every plant is simulated."""

from __future__ import annotations

from hazmon.domain.registry import Registry, parse_registry
from tests.api.conftest import Api
from tests.conftest import REGISTRY_FILE


def flagged(*simulated: str) -> Registry:
    """The test registry with the enterprises `simulated` flagged as simulated."""
    text = REGISTRY_FILE.read_text(encoding="utf-8")
    for code in simulated:
        entry = f"  - code: {code}\n"
        assert entry in text, code
        text = text.replace(entry, f"{entry}    simulated: true\n")
    registry = parse_registry(text, "flagged test registry")
    assert {c for c, e in registry.enterprises.items() if e.simulated} == set(simulated)
    return registry


def use_registry(api: Api, registry: Registry) -> None:
    """Serve `registry`, with the simulated enterprises the service derives from it."""
    sims = frozenset(c for c, e in registry.enterprises.items() if e.simulated)
    api.ctx.registry = lambda: registry
    api.ctx.simulated_enterprises = lambda: sims
