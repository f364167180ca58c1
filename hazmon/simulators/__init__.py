"""Simulated plants for demos, tests and drills: registries, signal models, scenarios,
an MQTT gateway publisher, and feed recording and replay.

Everything here is marked simulated at its source: generated enterprises come back as a
set of codes (`GeneratedRegistry.simulated`, `SimulationResult.simulated`) for the
service to flag, so a drill never pages real people.
"""

from hazmon.simulators.cli import SimulationResult, add_simulator_commands, run_simulation
from hazmon.simulators.gateway import GatewaySim, Message, Tick
from hazmon.simulators.plant import EnterprisePlant, SensorSpec, SimSensor, build_plants
from hazmon.simulators.publisher import Progress, Publisher, PublisherConfig, SimClock
from hazmon.simulators.recording import Recorded, Recorder, read_recording, replay
from hazmon.simulators.registry_gen import GeneratedRegistry, generate_registry
from hazmon.simulators.scenarios import (
    SCENARIOS,
    Scenario,
    ScenarioError,
    bind_scenarios,
    parse_scenario,
)

__all__ = [
    "SCENARIOS",
    "EnterprisePlant",
    "GatewaySim",
    "GeneratedRegistry",
    "Message",
    "Progress",
    "Publisher",
    "PublisherConfig",
    "Recorded",
    "Recorder",
    "Scenario",
    "ScenarioError",
    "SensorSpec",
    "SimClock",
    "SimSensor",
    "SimulationResult",
    "Tick",
    "add_simulator_commands",
    "bind_scenarios",
    "build_plants",
    "generate_registry",
    "parse_scenario",
    "read_recording",
    "replay",
    "run_simulation",
]
