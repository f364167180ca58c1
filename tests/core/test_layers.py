"""Layers point one way: importing a package loads only the packages below it.

Each package's modules are imported in a fresh interpreter, so what another test already
imported cannot hide an upward import.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import hazmon

ROOT = Path(hazmon.__file__).parent

# What each package may load, itself included; `service` (the composition root) may load all.
ALLOWED: dict[str, set[str]] = {
    "core": {"core"},
    "domain": {"core", "domain"},
    "ingest": {"core", "domain", "ingest"},
    "rules": {"core", "domain", "rules"},
    "alerts": {"core", "domain", "alerts"},
    "simulators": {"core", "domain", "simulators"},
    "testing": {"testing"},
    "api": {"core", "domain", "ingest", "alerts", "duties", "warnings", "api"},
    "warnings": {"core", "domain", "alerts", "duties", "warnings"},
    "duties": {"core", "domain", "alerts", "duties"},
    "cluster": {"core", "domain", "alerts", "cluster"},
}

_PROBE = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
print(json.dumps(sorted(m for m in sys.modules if m.startswith("hazmon."))))
"""


def modules_of(package: str) -> list[str]:
    base = ROOT / package
    return sorted(
        "hazmon." + ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for p in base.rglob("*.py")
        if p.name != "__main__.py"  # runs a command line when imported
    )


def loaded_by(modules: list[str]) -> list[str]:
    out = subprocess.run([sys.executable, "-c", _PROBE, *modules], check=True,
                         capture_output=True, text=True, cwd=ROOT.parent)
    loaded: list[str] = json.loads(out.stdout.strip().splitlines()[-1])
    return loaded


def test_importing_the_ingest_sink_loads_no_alarm_api_or_service_module() -> None:
    modules = modules_of("ingest")
    assert {"hazmon.ingest.sink", "hazmon.ingest.mqtt_source",
            "hazmon.ingest.pipeline"} <= set(modules)
    loaded = loaded_by(modules)
    assert "hazmon.ingest.sink" in loaded  # the probe did import them
    upward = [m for m in loaded
              if m.split(".")[1] in {"alerts", "api", "service", "rules", "simulators"}]
    assert upward == []


def test_every_package_has_its_layer() -> None:
    packages = {p.name for p in ROOT.iterdir() if p.is_dir() and any(p.glob("*.py"))}
    assert packages - {"service"} == set(ALLOWED), "add the new package to ALLOWED"


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_a_package_loads_only_the_packages_below_it(package: str) -> None:
    modules = modules_of(package)
    assert modules, f"no modules found in hazmon/{package}"
    loaded = {m.split(".")[1] for m in loaded_by(modules)}
    assert package in loaded
    assert loaded - ALLOWED[package] == set()
